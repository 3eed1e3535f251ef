/*
 * RoPE and causal attention over the float32 KV cache, bit-identical to llama.cpp's CPU backend
 * (see sf_attn.h for the ggml functions followed). This file is portable C compiled without ISA
 * flags and with -ffp-contract=off: every fused multiply-add ggml's binary performs is written as
 * an explicit fmaf(), and the 16-lane SIMD accumulations are emulated lane by lane, so the scalar
 * path computes the same bits as the AVX-512 one (sf_attn_avx512.c), only slower.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "sf_common.h"
#include <pthread.h>
#include "sf_attn.h"

/* ------------------------------------------------------------------ RoPE */

/* ggml.c ggml_rope_yarn_corr_dim. */
static float corr_dim(int n_dims, int n_ctx_orig, float n_rot, float base) {
  return n_dims * logf(n_ctx_orig / (n_rot * 2 * (float)M_PI)) / (2 * logf(base));
}

/*
 * ggml-cpu/ops.cpp ggml_rope_cache_init + rope_yarn for one position: cache[2i] = cos, cache[2i+1] = sin.
 * theta advances by `theta *= theta_scale` in float; cos/sin by glibc sincosf (what GCC turns the
 * cosf/sinf pair into); the YaRN mix and magnitude terms are the FMAs GCC emits for them.
 */
static void rope_cache(const sf_rope_params *p, float theta_scale, const float corr[2], int64_t pos, float *cache) {
  float theta = (float)pos;
  for (int i0 = 0; i0 < p->n_dims; i0 += 2) {
    const float ff = p->freq_factors ? p->freq_factors[i0 / 2] : 1.0f;
    const float theta_extrap = theta / ff;
    const float theta_interp = p->freq_scale * theta_extrap;
    float th = theta_interp, mscale = p->attn_factor;
    if (p->ext_factor != 0.0f) {
      const float y = (float)(i0 / 2 - corr[0]) / fmaxf(0.001f, corr[1] - corr[0]);
      const float ramp = 1 - fminf(1, fmaxf(0, y));
      const float mix = ramp * p->ext_factor;
      th = fmaf(theta_interp, 1 - mix, theta_extrap * mix);
      mscale = mscale * fmaf(logf(1.0f / p->freq_scale), 0.1f, 1.0f);
    }
    float s, c;
    sincosf(th, &s, &c);
    cache[i0] = c * mscale;
    cache[i0 + 1] = s * mscale;
    theta *= theta_scale;
  }
}

/*
 * ggml_compute_forward_rope_flt<float> (ops.cpp; rotate_pairs) as GCC contracts
 * `x0*cos - x1*sin` and `x0*sin + x1*cos` in llama.cpp's binary (checked against it op by op,
 * both the vectorized NORM loop and the scalar NEOX loop):
 *   y0 = fma(x0, cos, -(x1*sin)),  y1 = fma(x0, sin, x1*cos)
 * Dims past n_dims are left unchanged.
 */
void sf_rope_f32(float *x, int64_t n_tok, int64_t n_heads, int64_t head_dim, int64_t pos0, const sf_rope_params *p) {
  const float theta_scale = powf(p->freq_base, -2.0f / p->n_dims);
  float corr[2];
  {
    const float start = floorf(corr_dim(p->n_dims, p->n_ctx_orig, p->beta_fast, p->freq_base));
    const float end = ceilf(corr_dim(p->n_dims, p->n_ctx_orig, p->beta_slow, p->freq_base));
    corr[0] = start > 0 ? start : 0;
    corr[1] = end < p->n_dims - 1 ? end : (float)(p->n_dims - 1);
  }
  float cache_small[512];
  float *cache = p->n_dims <= 512 ? cache_small : malloc(sizeof(float) * (size_t)p->n_dims);
  if (!cache) return;
  const int half = p->n_dims / 2;
  for (int64_t t = 0; t < n_tok; t++) {
    rope_cache(p, theta_scale, corr, pos0 + t, cache);
    for (int64_t h = 0; h < n_heads; h++) {
      float *v = x + (t * n_heads + h) * head_dim;
      if (p->mode == SF_ROPE_NEOX) {
        for (int i = 0; i < half; i++) {
          const float c = cache[2 * i], s = cache[2 * i + 1];
          const float x0 = v[i], x1 = v[i + half];
          v[i] = fmaf(x0, c, -(x1 * s));
          v[i + half] = fmaf(x0, s, x1 * c);
        }
      } else {
        for (int i0 = 0; i0 < p->n_dims; i0 += 2) {
          const float c = cache[i0], s = cache[i0 + 1];
          const float x0 = v[i0], x1 = v[i0 + 1];
          v[i0] = fmaf(x0, c, -(x1 * s));
          v[i0 + 1] = fmaf(x0, s, x1 * c);
        }
      }
    }
  }
  if (cache != cache_small) free(cache);
}

/* ------------------------------------------------------------------ scalar lane emulation */

/* _mm512_reduce_add_ps as GCC expands it: halves 8+8, 4+4, then (0+2)+(1+3). */
static float reduce16(const float a[16]) {
  float h[8], q[4];
  for (int i = 0; i < 8; i++) h[i] = a[i + 8] + a[i];
  for (int i = 0; i < 4; i++) q[i] = h[i + 4] + h[i];
  return (q[0] + q[2]) + (q[1] + q[3]);
}

/* ggml_vec_dot_f32's SIMD part (AVX-512: GGML_F32_STEP 64, 4 accumulators), nb blocks of 64. */
static float dot64_scalar(const float *x, const float *y, int64_t nb) {
  float acc[4][16] = {{0}};
  for (int64_t b = 0; b < nb; b++)
    for (int j = 0; j < 4; j++)
      for (int l = 0; l < 16; l++) acc[j][l] = fmaf(x[b * 64 + j * 16 + l], y[b * 64 + j * 16 + l], acc[j][l]);
  /* GGML_F32x16_REDUCE: sum[0] += sum[2], sum[1] += sum[3]; sum[0] += sum[1]. */
  for (int l = 0; l < 16; l++) {
    acc[0][l] = acc[0][l] + acc[2][l];
    acc[1][l] = acc[1][l] + acc[3][l];
  }
  for (int l = 0; l < 16; l++) acc[0][l] = acc[0][l] + acc[1][l];
  return reduce16(acc[0]);
}

/* tinyBLAS<16, __m512> gemm_bloc for one output: one 16-lane FMA accumulator, nb blocks of 16. */
static float dot16_scalar(const float *x, const float *y, int64_t nb) {
  float acc[16] = {0};
  for (int64_t b = 0; b < nb; b++)
    for (int l = 0; l < 16; l++) acc[l] = fmaf(x[b * 16 + l], y[b * 16 + l], acc[l]);
  return reduce16(acc);
}

/* vec.h ggml_v_expf (AVX-512 version), one lane. */
static float v_expf_lane(float x) {
  const float z = fmaf(x, 0x1.715476p+0f, 0x1.8p23f);
  const float n = z - 0x1.8p23f;
  const float b = fmaf(-n, 0x1.7f7d1cp-20f, fmaf(-n, 0x1.62e4p-1f, x));
  const float u = b * b;
  const float j = fmaf(fmaf(fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u,
                       fmaf(0x1.ffffecp-1f, b, 1.0f));
  if (fabsf(n) > 192) return n <= 0 ? 0.0f : INFINITY;
  if (isnan(n)) return n;
  return ldexpf(j, (int)n); /* _mm512_scalef_ps(j, n), n integral */
}

static double exp16_scalar(float *y, const float *x, float max, int64_t nb, double sum) {
  for (int64_t b = 0; b < nb; b++) {
    for (int l = 0; l < 16; l++) y[b * 16 + l] = v_expf_lane(x[b * 16 + l] - max);
    sum += (double)reduce16(y + b * 16);
  }
  return sum;
}

/* ------------------------------------------------------------------ attention */

int64_t sf_attn_n_kv(int64_t n_ctx, int64_t used) {
  const int64_t pad = 256; /* max(n_pad = 1, 256) */
  int64_t n = (used + pad - 1) / pad * pad;
  if (n < pad) n = pad;
  return n < n_ctx ? n : n_ctx;
}

typedef struct {
  const float *q, *k, *vt;
  float *out;
  sf_attn_shape s;
  int64_t n_kv;
  int tiny; /* kqv by tinyBLAS (1) or ggml_vec_dot_f32 (0) */
  int simd;
  _Atomic int64_t next;
  _Atomic int failed;
} attn_ctx;

static float dot64(int simd, const float *x, const float *y, int64_t nb) {
  return simd ? sf_attn_dot64_avx512(x, y, nb) : dot64_scalar(x, y, nb);
}

/* ggml_vec_dot_f32 over n elements: SIMD blocks of 64, then scalar leftovers (contracted to FMA). */
static float vec_dot_f32(int simd, int64_t n, const float *x, const float *y) {
  const int64_t np = n & ~(int64_t)63;
  float s = dot64(simd, x, y, np / 64);
  for (int64_t i = np; i < n; i++) s = fmaf(x[i], y[i], s);
  return s;
}

/* One (token, head): scratch wp/dp hold n_kv + 64 floats. */
static void attn_one(const attn_ctx *c, int64_t t, int64_t h, float *wp, float *dp) {
  const sf_attn_shape *s = &c->s;
  const int64_t n_kv = c->n_kv, dk = s->dk, dv = s->dv;
  const int64_t g = h / (s->n_head / s->n_head_kv);
  const int64_t p1 = s->pos0 + t;
  const int64_t lo = s->window > 0 && p1 - s->window + 1 > 0 ? p1 - s->window + 1 : 0, hi = p1 + 1;
  /* Work on [a0, e): 64-aligned around the visible keys [lo, hi). Cells outside it are masked
   * (-INF) in llama.cpp too; they only add exact zeros to every sum below, so they are skipped. */
  const int64_t a0 = lo & ~(int64_t)63;
  int64_t e = (hi + 63) & ~(int64_t)63;
  if (e > n_kv) e = n_kv;
  const int64_t n16 = n_kv & ~(int64_t)15;
  int64_t s_end = (hi + 15) & ~(int64_t)15;
  if (s_end > n16) s_end = n16;

  /* kq = K·q (ggml_vec_dot_f32 over dk), wp = kq*scale + mask (soft_max_f32). */
  const float *qr = c->q + (t * s->n_head + h) * dk;
  const int64_t kstride = s->n_head_kv * dk;
  float max = -INFINITY;
  int64_t j4 = a0; /* keys j4 <= j < j4e: dots four at a time (dk a multiple of 64) */
  int64_t j4e = j4;
  if (c->simd && dk % 64 == 0) {
    const int64_t from = lo > a0 ? lo : a0;
    j4 = j4e = from;
    for (; j4e + 4 <= hi && j4e + 4 <= e; j4e += 4) sf_attn_dot64x4_avx512(c->k + j4e * kstride + g * dk, kstride, qr, dk / 64, wp + j4e);
  }
  for (int64_t j = a0; j < e; j++) {
    if (j < lo || j >= hi) {
      wp[j] = -INFINITY;
      continue;
    }
    float w = j >= j4 && j < j4e ? wp[j] : vec_dot_f32(c->simd, dk, c->k + j * kstride + g * dk, qr);
    w = w * s->scale;
    w = w + 0.0f; /* += slope * mask, slope 1, mask 0 */
    wp[j] = w;
    max = max > w ? max : w; /* ggml_vec_max_f32: MAX(max, x) */
  }

  /* ggml_vec_soft_max_f32: chunks of 16 by ggml_v_expf with a double sum of the chunk sums, tail
   * by expf; then ggml_vec_scale_f32 by (float)(1.0/sum). */
  double sum = 0.0;
  if (s_end > a0) {
    const int64_t nb = (s_end - a0) / 16;
    sum = c->simd ? sf_attn_exp16_avx512(dp + a0, wp + a0, max, nb, sum) : exp16_scalar(dp + a0, wp + a0, max, nb, sum);
  }
  for (int64_t j = s_end > a0 ? s_end : a0; j < e; j++) {
    if (j >= n16 && j >= lo && j < hi) {
      const float val = expf(wp[j] - max);
      sum += (double)val;
      dp[j] = val;
    } else {
      dp[j] = 0.0f;
    }
  }
  const float inv = (float)(1.0 / sum);
  for (int64_t j = a0; j < e; j++) dp[j] = dp[j] * inv;

  /* kqv[i] = V^T[i] · p over n_kv: tinyBLAS (one 16-lane accumulator) or ggml_vec_dot_f32. */
  float *o = c->out + (t * s->n_head + h) * dv;
  const float *vt = c->vt + g * dv * s->n_ctx;
  const int64_t np = n_kv & ~(int64_t)63;
  int64_t i0 = 0;
  if (c->tiny && c->simd) /* four V rows at a time, each its own accumulator: same sums */
    for (; i0 + 4 <= dv; i0 += 4) sf_attn_dot16x4_avx512(vt + i0 * s->n_ctx + a0, s->n_ctx, dp + a0, (e - a0) / 16, o + i0);
  for (int64_t i = i0; i < dv; i++) {
    const float *vr = vt + i * s->n_ctx;
    float r;
    if (c->tiny) {
      const int64_t nb = (e - a0) / 16;
      r = c->simd ? sf_attn_dot16_avx512(vr + a0, dp + a0, nb) : dot16_scalar(vr + a0, dp + a0, nb);
    } else {
      const int64_t be = e < np ? e : np;
      r = be > a0 ? dot64(c->simd, vr + a0, dp + a0, (be - a0) / 64) : 0.0f;
      for (int64_t j = np > a0 ? np : a0; j < e; j++) r = fmaf(vr[j], dp[j], r);
    }
    o[i] = r;
  }
}

static void attn_task(void *vctx, int ith, int nth) {
  attn_ctx *c = vctx;
  (void)ith; (void)nth;
  float *buf = NULL;
  const int64_t total = c->s.n_tok * c->s.n_head;
  for (;;) {
    const int64_t w = atomic_fetch_add_explicit(&c->next, 1, memory_order_relaxed);
    if (w >= total) break;
    if (!buf) {
      buf = malloc(sizeof(float) * 2 * (size_t)(c->n_kv + 64));
      if (!buf) {
        atomic_store(&c->failed, 1);
        break;
      }
    }
    /* token-major order of work items: each item is independent, so any schedule gives the same bits */
    attn_one(c, w / c->s.n_head, w % c->s.n_head, buf, buf + c->n_kv + 64);
  }
  free(buf);
}

int sf_attention_f32(const float *q, const float *k, const float *vt, float *out, const sf_attn_shape *s) {
  attn_ctx c = {.q = q, .k = k, .vt = vt, .out = out, .s = *s};
  c.n_kv = sf_attn_n_kv(s->n_ctx, s->pos0 + s->n_tok);
  /* ggml_compute_forward_mul_mat: llamafile_sgemm needs n = n_tok >= 2, k = n_kv % 16 == 0 and
   * m = dv % 4 == 0 (tinyBLAS::matmul); otherwise ggml_vec_dot_f32 per output. */
  c.tiny = s->n_tok >= 2 && c.n_kv % 16 == 0 && s->dv % 4 == 0;
  c.simd = sf_get_path() == SF_PATH_AVX512 && sf_attn_avx512_compiled();
  atomic_init(&c.next, 0);
  atomic_init(&c.failed, 0);
  if (s->n_tok * s->n_head <= 1) attn_task(&c, 0, 1);
  else sf_pool_run(attn_task, &c);
  return atomic_load(&c.failed) ? -1 : 0;
}

/* ------------------------------------------------------------------ SwiGLU */

/*
 * y[i] = silu(x[i]) * g[i], as ggml-cpu vec.cpp ggml_vec_swiglu_f32 on AVX-512: chunks of 16 by
 * ggml_v_silu (x / (1 + ggml_v_expf(0 - x))), the tail by ggml_silu_f32 (x / (1 + expf(-x))).
 * x, g, y float32 [n]; y may alias x or g.
 */
static void swiglu_range(int simd, int64_t i0, int64_t i1, int64_t n16, float *y, const float *x, const float *g) {
  const int64_t e16 = i1 < n16 ? i1 : n16;
  if (simd && e16 > i0) sf_attn_swiglu16_avx512(y + i0, x + i0, g + i0, (e16 - i0) / 16);
  else for (int64_t i = i0; i < e16; i++) y[i] = (x[i] / (1.0f + v_expf_lane(0.0f - x[i]))) * g[i];
  for (int64_t i = e16 > i0 ? e16 : i0; i < i1; i++) y[i] = (x[i] / (1.0f + expf(-x[i]))) * g[i];
}

/* Element-wise jobs split over the pool in chunks (multiples of 16, so the 16-lane/tail boundary
 * is the same as in one pass: any schedule gives the same bits). Jobs of up to two chunks run on
 * the caller. The wasm build (scripts/build-wasm.sh) sets a smaller chunk so that one decoded
 * token's GLU (n = n_ff) is shared too: there a pool hand-off is cheap next to the GLU itself. */
#ifndef SF_EW_CHUNK
#define SF_EW_CHUNK 4096
#endif
#define EW_CHUNK SF_EW_CHUNK
_Static_assert(EW_CHUNK > 0 && EW_CHUNK % 16 == 0, "SF_EW_CHUNK must be a positive multiple of 16");
typedef struct {
  int kind; /* 0 swiglu, 1 geglu */
  int simd;
  int64_t n;
  float *y;
  const float *x, *g;
  _Alignas(64) _Atomic int64_t next;
  char pad_[56];
} ew_ctx;

static void geglu_range(int64_t i0, int64_t i1, float *y, const float *x, const float *g);

static void ew_task(void *vctx, int ith, int nth) {
  ew_ctx *c = vctx;
  (void)ith; (void)nth;
  const int64_t n16 = c->n & ~(int64_t)15;
  for (;;) {
    const int64_t i0 = atomic_fetch_add_explicit(&c->next, EW_CHUNK, memory_order_relaxed);
    if (i0 >= c->n) break;
    const int64_t i1 = i0 + EW_CHUNK < c->n ? i0 + EW_CHUNK : c->n;
    if (c->kind == 0) swiglu_range(c->simd, i0, i1, n16, c->y, c->x, c->g);
    else geglu_range(i0, i1, c->y, c->x, c->g);
  }
}

static void ew_run(int kind, int64_t n, float *y, const float *x, const float *g) {
  ew_ctx c = {.kind = kind, .simd = sf_get_path() == SF_PATH_AVX512 && sf_attn_avx512_compiled(), .n = n, .y = y, .x = x, .g = g};
  atomic_init(&c.next, 0);
  if (n <= 2 * EW_CHUNK) ew_task(&c, 0, 1);
  else sf_pool_run(ew_task, &c);
}

void sf_swiglu_f32(int64_t n, float *y, const float *x, const float *g) { ew_run(0, n, y, x, g); }

/* ------------------------------------------------------------------ GeGLU */

/*
 * y[i] = gelu(x[i]) * g[i], as ggml-cpu vec.h ggml_vec_geglu_f32 with GGML_GELU_FP16: 0 for
 * x <= -10, x * g for x >= 10, else the F16 table ggml_table_gelu_f16[fp16(x)] (as float) * g.
 * The table holds fp16(ggml_gelu_f32(v)) for every F16 v, ggml_gelu_f32 being
 * 0.5x(1 + tanhf(sqrt(2/pi)·x·(1 + 0.044715·x·x))) as GCC contracts it on x86 (one FMA, for
 * 1 + (0.044715x)·x); checked entry by entry against the prebuilt zen4 ggml-cpu.
 */
static uint16_t g_gelu_table[65536];
static pthread_once_t g_gelu_once = PTHREAD_ONCE_INIT;

static void gelu_table_init(void) {
  const float A = 0.044715f, S = 0.79788456080286535587989211986876f;
  for (int h = 0; h < 65536; h++) {
    const float x = sf_fp16_to_fp32((uint16_t)h);
    const float v = 0.5f * x * (1.0f + tanhf(S * x * fmaf(A * x, x, 1.0f)));
    g_gelu_table[h] = sf_fp32_to_fp16(v);
  }
}

static void geglu_range(int64_t i0, int64_t i1, float *y, const float *x, const float *g) {
  for (int64_t i = i0; i < i1; i++) {
    const float xi = x[i];
    if (xi <= -10.0f) y[i] = 0.0f;
    else if (xi >= 10.0f) y[i] = xi * g[i];
    else y[i] = sf_fp16_to_fp32(g_gelu_table[sf_fp32_to_fp16(xi)]) * g[i];
  }
}

void sf_geglu_f32(int64_t n, float *y, const float *x, const float *g) {
  pthread_once(&g_gelu_once, gelu_table_init);
  ew_run(1, n, y, x, g);
}
