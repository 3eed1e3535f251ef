/*
 * SynFlux native RoPE and attention (sf_attn.c, sf_attn_avx512.c, bindings in sf_attn_napi.c).
 *
 * Both reproduce llama.cpp's CPU backend (ggml-cpu, llama.cpp v0.5.0 as shipped in node-llama-cpp
 * 3.22.1, zen4 variant) float operation for float operation, so results are bit-identical to it
 * with flash attention off and an F32 K/V cache:
 *   RoPE:      ggml-cpu/ops.cpp ggml_compute_forward_rope_flt (ggml_rope_cache_init, rope_yarn,
 *              rotate_pairs) as GCC contracts it into FMAs.
 *   Attention: llama-graph.cpp build_attn_mha (non-flash): kq = ggml_mul_mat(K, q) by
 *              ggml_vec_dot_f32; ggml_soft_max_ext (ops.cpp ggml_compute_forward_soft_max_f32,
 *              vec.cpp ggml_vec_soft_max_f32 with vec.h ggml_v_expf); kqv = ggml_mul_mat(V^T, kq)
 *              by llamafile_sgemm's tinyBLAS (≥ 2 tokens) or ggml_vec_dot_f32 (1 token), over
 *              n_kv padded as llama-kv-cache.cpp get_n_kv does.
 */
#ifndef SF_ATTN_H
#define SF_ATTN_H

#include <stdint.h>

/* ggml rope modes (ggml.h GGML_ROPE_TYPE_NORMAL / GGML_ROPE_TYPE_NEOX). */
enum { SF_ROPE_NORM = 0, SF_ROPE_NEOX = 2 };

/* Parameters of ggml_rope_ext (same names and meaning). */
typedef struct {
  int mode;                  /* SF_ROPE_NORM: pairs (2i, 2i+1); SF_ROPE_NEOX: pairs (i, i + n_dims/2) */
  int n_dims;                /* rotated dims per head (even, <= head_dim) */
  int n_ctx_orig;            /* YaRN original context */
  float freq_base, freq_scale, ext_factor, attn_factor, beta_fast, beta_slow;
  const float *freq_factors; /* [n_dims/2] divisors of theta, or NULL */
} sf_rope_params;

/* Rotates x float32 [n_tok, n_heads, head_dim] in place; token t is at position pos0 + t. */
void sf_rope_f32(float *x, int64_t n_tok, int64_t n_heads, int64_t head_dim, int64_t pos0, const sf_rope_params *p);

/* Shape of one attention call (see sf_attention_f32). */
typedef struct {
  int64_t n_tok;     /* query tokens (the ubatch size llama.cpp would see) */
  int64_t pos0;      /* position of the first query token; cache rows [0, pos0+n_tok) are filled */
  int64_t n_head, n_head_kv, dk, dv;
  int64_t n_ctx;     /* cache capacity in positions (llama.cpp kv_size) */
  int64_t window;    /* sliding window (0 = full causal): key p0 visible from p1 iff p1 - p0 < window */
  float scale;       /* kq_scale of ggml_soft_max_ext */
} sf_attn_shape;

/* llama.cpp's n_kv for a cache of n_ctx cells whose first `used` cells are filled (get_n_kv). */
int64_t sf_attn_n_kv(int64_t n_ctx, int64_t used);

/*
 * out float32 [n_tok, n_head*dv] = causal softmax(scale * q·K^T) · V for each head, with
 * q float32 [n_tok, n_head*dk], K cache float32 [n_ctx, n_head_kv*dk] and V cache stored
 * transposed float32 [n_head_kv*dv, n_ctx] (llama.cpp v_trans). Head h reads kv head
 * h / (n_head/n_head_kv). Multithreaded over (token, head); the result does not depend on the
 * thread count. Returns 0, or -1 when out of memory.
 */
int sf_attention_f32(const float *q, const float *k, const float *vt, float *out, const sf_attn_shape *s);

/* y = silu(x) * g over n floats, as ggml_vec_swiglu_f32 (AVX-512 build); y may alias x or g. */
void sf_swiglu_f32(int64_t n, float *y, const float *x, const float *g);
/* y = gelu(x) * g over n floats, as ggml_vec_geglu_f32 (F16 GELU table); y may alias x or g. */
void sf_geglu_f32(int64_t n, float *y, const float *x, const float *g);

/* AVX-512 kernels (sf_attn_avx512.c); sf_attn_avx512_compiled() is 0 when built without AVX-512. */
int sf_attn_avx512_compiled(void);
/* ggml_vec_dot_f32 SIMD part over nb blocks of 64: 4 accumulators of 16 lanes, then the reduction. */
float sf_attn_dot64_avx512(const float *x, const float *y, int64_t nb);
/* tinyBLAS F32 dot over nb blocks of 16: one 16-lane accumulator, then _mm512_reduce_add_ps. */
float sf_attn_dot16_avx512(const float *x, const float *y, int64_t nb);
/* out[k] = sf_attn_dot64_avx512(x0 + k * stride, y, nb) for k < 4 (bit-identical, interleaved). */
void sf_attn_dot64x4_avx512(const float *x0, int64_t stride, const float *y, int64_t nb, float *out);
/* out[k] = sf_attn_dot16_avx512(x0 + k * stride, y, nb) for k < 4 (bit-identical, interleaved). */
void sf_attn_dot16x4_avx512(const float *x0, int64_t stride, const float *y, int64_t nb, float *out);
/* y = ggml_v_expf(x - max) over nb chunks of 16; returns sum + Σ (double)reduce_add(chunk). */
double sf_attn_exp16_avx512(float *y, const float *x, float max, int64_t nb, double sum);
/* nb blocks of 16: y = silu(x) * g with the exp above (ggml_vec_swiglu_f32's AVX-512 loop). */
void sf_attn_swiglu16_avx512(float *y, const float *x, const float *g, int64_t nb);

#endif
