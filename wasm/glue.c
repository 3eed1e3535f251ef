/*
 * SynFlux WASM kernels: exports over linear memory for src/backends/wasm/index.ts and the matmul
 * driver (split over the worker pool of wasm/pool.c; allocator in wasm/alloc.c). The kernels themselves are native/sf_quant.c,
 * native/sf_dot_scalar.c and native/sf_attn.c compiled unchanged, with SIMD128 dot products from
 * wasm/sf_dot_simd128.c (same integer sums, same float order: identical bits to the scalar path).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sf_common.h"
#include "sf_attn.h"
#include "wasm_kernels.h"

#define EXPORT(name) __attribute__((export_name(#name))) 

/* ------------------------------------------------------------------ paths / stand-ins */

static sf_kernel_table g_table;
static int g_table_ready;

static const sf_kernel_table *table(void) {
  if (!g_table_ready) {
    sf_fill_scalar(&g_table);
    sf_fill_simd128(&g_table);
    g_table_ready = 1;
  }
  return &g_table;
}
const sf_kernel_table *sf_kernels(void) { return table(); }
/* "AVX-512" selects sf_attn.c's SIMD entry points, which wasm/sf_attn_simd128.c implements with the
 * scalar lane emulation's exact results; nothing else in this build reads the path. */
int sf_get_path(void) { return SF_PATH_AVX512; }

/* ------------------------------------------------------------------ type info */

EXPORT(sf_row_bytes) int32_t sf_row_bytes(int type, int32_t n) {
  const sf_type_traits *t = sf_traits(type);
  if (!t || n % t->blck) return -1;
  return (int32_t)sf_row_size(t, n);
}
EXPORT(sf_block_elems) int32_t sf_block_elems(int type) { const sf_type_traits *t = sf_traits(type); return t ? t->blck : -1; }
EXPORT(sf_act_type) int32_t sf_act_type(int type) { const sf_type_traits *t = sf_traits(type); return t ? t->act_type : -1; }
/* 1 when `type` is a weight type matmul supports. */
EXPORT(sf_has_dot) int32_t sf_has_dot(int type) {
  const sf_type_traits *t = sf_traits(type);
  return t && t->act_type >= 0 && table()->vec_dot[type] != NULL;
}
/* 1 when vec_dot[type] is the SIMD128 kernel. */
EXPORT(sf_dot_is_simd) int32_t sf_dot_is_simd(int type) {
  const char *s = table()->impl[type];
  return s && s[0] == 's' && s[1] == 'i';
}

/* ------------------------------------------------------------------ matmul
 * Y[n_tok, n_out] = X[n_tok, n_in] . W[n_out, n_in]^T, split over the pool (wasm/pool.c) in chunks
 * of whole weight rows taken from an atomic range (the caller from the front, workers from the
 * back: each thread streams one run of memory, which decode, memory-bound, needs). Every output element is one vec_dot call on
 * the same bytes whatever the schedule, so results do not depend on the thread count. The rows of
 * up to three weights sharing X (q/k/v, gate/up) form one job (matmul_multi). */


typedef struct {
  sf_vec_dot_fn dot;
  const sf_simd128_rows *rows; /* four-row kernel on prepared activations, or NULL */
  const uint8_t *prep;          /* n_tok prepared rows of p_row bytes */
  size_t p_row;
  int seq;                      /* use rows->seq4 (weights larger than g_seq_bytes) */
  const uint8_t *w[3];
  float *y[3];
  int32_t start[4]; /* part p holds rows [start[p], start[p+1]) of the concatenation */
  int32_t n_in, n_tok, chunk, nth;
  size_t w_row, a_row;
  const uint8_t *act;
  /* rows not yet taken: [lo, hi) = [range & 0xffffffff, range >> 32) */
  _Alignas(64) _Atomic uint64_t range;
  char pad_[56];
} mm_ctx;

/* Rows [r0, r1) of part p (local row numbers), all tokens, in blocks of 32 tokens. */
static void mm_part(const mm_ctx *c, int p, int32_t r0, int32_t r1) {
  const int32_t n_out = c->start[p + 1] - c->start[p];
  const uint8_t *w = c->w[p];
  float *y = c->y[p];
  for (int32_t t0 = 0; t0 < c->n_tok; t0 += 32) {
    const int32_t t1 = t0 + 32 < c->n_tok ? t0 + 32 : c->n_tok;
    int32_t r = r0;
    if (c->rows) {
      float o[4] __attribute__((aligned(16)));
      float o2[4] __attribute__((aligned(16)));
      for (; r + 4 <= r1; r += 4) {
        const uint8_t *wr = w + (size_t)r * c->w_row;
        int32_t t = t0;
        if (c->rows->dot4x2 && !c->seq)
          for (; t + 2 <= t1; t += 2) {
            c->rows->dot4x2(c->n_in, wr, c->w_row, c->prep + (size_t)t * c->p_row, c->prep + (size_t)(t + 1) * c->p_row, o, o2);
            __builtin_memcpy(y + (size_t)t * n_out + r, o, sizeof o);
            __builtin_memcpy(y + (size_t)(t + 1) * n_out + r, o2, sizeof o2);
          }
        for (; t < t1; t++) {
          (c->seq ? c->rows->seq4 : c->rows->dot4)(c->n_in, wr, c->w_row, c->prep + (size_t)t * c->p_row, o);
          __builtin_memcpy(y + (size_t)t * n_out + r, o, sizeof o);
        }
      }
    }
    for (; r < r1; r++) {
      const uint8_t *wr = w + (size_t)r * c->w_row;
      for (int32_t t = t0; t < t1; t++) y[(size_t)t * n_out + r] = c->dot(c->n_in, wr, c->act + (size_t)t * c->a_row);
    }
  }
}

/* Takes the next chunk of rows into [*r0, *r1): the caller (ith 0) from the front, the workers
 * from the back, so each thread reads one ascending or descending run of memory (the hardware
 * prefetchers follow it) and they meet wherever the speeds put them. 0 when none is left. */
static int mm_take(mm_ctx *c, int ith, int32_t *r0, int32_t *r1) {
  uint64_t v = atomic_load_explicit(&c->range, memory_order_relaxed);
  for (;;) {
    const uint32_t lo = (uint32_t)v, hi = (uint32_t)(v >> 32);
    if (lo >= hi) return 0;
    /* guided: a share of what is left (multiple of 4 rows, 4..chunk), so the threads finish together */
    uint32_t k = (hi - lo) / (2u * (uint32_t)c->nth) & ~3u;
    k = k < 4 ? 4 : k > (uint32_t)c->chunk ? (uint32_t)c->chunk : k;
    uint32_t a, b;
    if (ith == 0) {
      a = lo;
      b = hi - lo > k ? lo + k : hi;
    } else {
      b = hi;
      a = hi - lo > k ? hi - k : lo;
    }
    const uint64_t nv = ith == 0 ? ((uint64_t)hi << 32 | b) : ((uint64_t)a << 32 | lo);
    if (atomic_compare_exchange_weak_explicit(&c->range, &v, nv, memory_order_relaxed, memory_order_relaxed)) {
      *r0 = (int32_t)a;
      *r1 = (int32_t)b;
      return 1;
    }
  }
}

static void mm_task(void *vctx, int ith, int nth) {
  mm_ctx *c = vctx;
  (void)nth;
  for (;;) {
    int32_t r0, r1;
    if (!mm_take(c, ith, &r0, &r1)) break;
    for (int p = 0; p < 3 && r0 < r1; p++) {
      if (r0 >= c->start[p + 1]) continue;
      const int32_t e = r1 < c->start[p + 1] ? r1 : c->start[p + 1];
      mm_part(c, p, r0 - c->start[p], e - c->start[p]);
      r0 = e;
    }
  }
}

typedef struct {
  const sf_type_traits *ta;
  const sf_simd128_rows *rows;
  const float *x;
  uint8_t *act, *prep;
  int32_t n_in, n_tok;
  size_t a_row, p_row;
  _Alignas(64) _Atomic int32_t next;
  char pad_[60];
} quant_ctx;

static void quant_task(void *vctx, int ith, int nth) {
  quant_ctx *c = vctx;
  (void)ith; (void)nth;
  for (;;) {
    const int32_t t0 = atomic_fetch_add_explicit(&c->next, 4, memory_order_relaxed);
    if (t0 >= c->n_tok) break;
    const int32_t t1 = t0 + 4 < c->n_tok ? t0 + 4 : c->n_tok;
    for (int32_t t = t0; t < t1; t++) {
      c->ta->quantize_act(c->x + (size_t)t * c->n_in, c->act + (size_t)t * c->a_row, c->n_in);
      if (c->rows) c->rows->prep(c->n_in, c->act + (size_t)t * c->a_row, c->prep + (size_t)t * c->p_row);
    }
  }
}

static uint8_t *g_act;
static size_t g_act_size;

/* Scratch `*buf` of at least `need` bytes (kept between calls); NULL when out of memory. */
static uint8_t *scratch(uint8_t **buf, size_t *size, size_t need) {
  if (need > *size) {
    free(*buf);
    *buf = malloc(need);
    *size = *buf ? need : 0;
  }
  return *buf;
}
static uint32_t g_seq_bytes = 4u << 20;
EXPORT(sf_wasm_set_seq_bytes) void sf_wasm_set_seq_bytes(uint32_t b) { g_seq_bytes = b; }
static uint8_t *g_prep;
static size_t g_prep_size;

/* The parts' products; n_out[p] = 0 ends the list. Returns 0, -1 (bad type/size), -2 (out of memory). */
static int32_t matmul_parts(int type, int32_t n_in, const float *x, int32_t n_tok, const uint8_t *const *w, const int32_t *n_out, float *const *y) {
  const sf_type_traits *tw = sf_traits(type);
  if (!tw || tw->act_type < 0 || n_in % tw->blck) return -1;
  const sf_type_traits *ta = sf_traits(tw->act_type);
  const sf_kernel_table *k = table();
  mm_ctx c = {.dot = k->vec_dot[type], .rows = k->vec_dot[type] && k->impl[type][0] == 's' && k->impl[type][1] == 'i' ? sf_simd128_rows_for(type) : NULL,
              .n_in = n_in, .n_tok = n_tok};
  if (!c.dot) return -1;
  c.w_row = sf_row_size(tw, n_in);
  c.a_row = sf_row_size(ta, n_in);
  c.start[0] = 0;
  for (int p = 0; p < 3; p++) {
    const int32_t n = n_out[p] > 0 ? n_out[p] : 0;
    c.w[p] = w[p];
    c.y[p] = y[p];
    c.start[p + 1] = c.start[p] + n;
  }
  if (tw->act_type == SF_F32) {
    c.act = (const uint8_t *)x;
  } else {
    if (!scratch(&g_act, &g_act_size, c.a_row * (size_t)n_tok + 64)) return -2;
    if (c.rows) {
      c.p_row = (c.rows->prep_size(n_in) + 15) & ~(size_t)15;
      if (!scratch(&g_prep, &g_prep_size, c.p_row * (size_t)n_tok + 64)) return -2;
      c.prep = g_prep;
    }
    quant_ctx q = {.ta = ta, .rows = c.rows, .x = x, .act = g_act, .prep = g_prep, .n_in = n_in, .n_tok = n_tok, .a_row = c.a_row, .p_row = c.p_row};
    atomic_init(&q.next, 0);
    if (n_tok < 8) quant_task(&q, 0, 1);
    else sf_pool_run(quant_task, &q);
    c.act = g_act;
  }
  const int32_t total = c.start[3];
  /* one token (decode): the weights stream from memory once, and reading the rows one after the
   * other (seq4) keeps one sequential stream per thread, which memory serves ~2-3x faster than
   * four interleaved rows (measured: Q8_0 from DRAM 4.4 -> 14.9 GB/s on one thread) */
  c.seq = n_tok == 1 || (uint64_t)total * c.w_row > g_seq_bytes;
  const int32_t nth = sf_wasm_pool_threads();
  /* ~8 chunks per thread, multiples of 4 rows, 4..64 rows (prefill: 4..16, each row is n_tok dots) */
  int32_t chunk = total / (nth * 8);
  const int32_t cmax = n_tok > 4 ? 16 : 64;
  chunk = chunk < 4 ? 4 : chunk > cmax ? cmax : chunk & ~3;
  c.chunk = chunk;
  c.nth = nth;
  atomic_init(&c.range, (uint64_t)(uint32_t)total << 32);
  if (nth <= 1 || (int64_t)total * n_tok < 64) mm_task(&c, 0, 1);
  else sf_pool_run(mm_task, &c);
  return 0;
}

/* Y[n_tok, n_out] = X[n_tok, n_in] . W[n_out, n_in]^T. Returns 0, -1 (bad type/size), -2 (out of memory). */
EXPORT(sf_wasm_matmul) int32_t sf_wasm_matmul(int type, const uint8_t *w, int32_t n_out, int32_t n_in, const float *x, int32_t n_tok, float *y) {
  const uint8_t *ws[3] = {w, NULL, NULL};
  const int32_t ns[3] = {n_out, 0, 0};
  float *ys[3] = {y, NULL, NULL};
  return matmul_parts(type, n_in, x, n_tok, ws, ns, ys);
}

/* Up to three matmuls of one weight type on the same X in one job (n2 = 0: two). Each Y_p is
 * exactly what sf_wasm_matmul would give. Returns as sf_wasm_matmul. */
EXPORT(sf_wasm_matmul_multi) int32_t sf_wasm_matmul_multi(int type, int32_t n_in, const float *x, int32_t n_tok, const uint8_t *w0, int32_t n0,
                                                          float *y0, const uint8_t *w1, int32_t n1, float *y1, const uint8_t *w2, int32_t n2,
                                                          float *y2) {
  const uint8_t *ws[3] = {w0, w1, w2};
  const int32_t ns[3] = {n0, n1, n2};
  float *ys[3] = {y0, y1, y2};
  return matmul_parts(type, n_in, x, n_tok, ws, ns, ys);
}

/* out[i, :] = dequantize(W[ids[i], :]); ids already range-checked by the caller. */
EXPORT(sf_wasm_get_rows) int32_t sf_wasm_get_rows(int type, const uint8_t *w, int32_t n_in, const int32_t *ids, int32_t n_ids, float *out) {
  const sf_type_traits *t = sf_traits(type);
  if (!t || n_in % t->blck) return -1;
  const size_t row = sf_row_size(t, n_in);
  for (int32_t i = 0; i < n_ids; i++) t->to_float(w + (size_t)ids[i] * row, out + (size_t)i * n_in, n_in);
  return 0;
}

EXPORT(sf_wasm_rope) void sf_wasm_rope(float *x, int32_t n_tok, int32_t n_heads, int32_t head_dim, int32_t pos0, int32_t mode, int32_t n_dims,
                                      int32_t n_ctx_orig, float freq_base, float freq_scale, float ext_factor, float attn_factor,
                                      float beta_fast, float beta_slow, const float *freq_factors) {
  const sf_rope_params p = {.mode = mode, .n_dims = n_dims, .n_ctx_orig = n_ctx_orig, .freq_base = freq_base, .freq_scale = freq_scale,
                            .ext_factor = ext_factor, .attn_factor = attn_factor, .beta_fast = beta_fast, .beta_slow = beta_slow,
                            .freq_factors = freq_factors};
  sf_rope_f32(x, n_tok, n_heads, head_dim, pos0, &p);
}

EXPORT(sf_wasm_attention) int32_t sf_wasm_attention(const float *q, const float *k, const float *vt, float *out, int32_t n_tok, int32_t pos0,
                                                    int32_t n_head, int32_t n_head_kv, int32_t dk, int32_t dv, int32_t n_ctx, int32_t window,
                                                    float scale) {
  const sf_attn_shape s = {.n_tok = n_tok, .pos0 = pos0, .n_head = n_head, .n_head_kv = n_head_kv, .dk = dk, .dv = dv,
                           .n_ctx = n_ctx, .window = window, .scale = scale};
  return sf_attention_f32(q, k, vt, out, &s);
}

EXPORT(sf_wasm_n_kv) int32_t sf_wasm_n_kv(int32_t n_ctx, int32_t used) { return (int32_t)sf_attn_n_kv(n_ctx, used); }
/* SwiGLU / GeGLU of n values, split over the pool by sf_attn.c (chunks of SF_EW_CHUNK = 256 in this build). */
EXPORT(sf_wasm_swiglu) void sf_wasm_swiglu(int32_t n, float *y, const float *x, const float *g) { sf_swiglu_f32(n, y, x, g); }
EXPORT(sf_wasm_geglu) void sf_wasm_geglu(int32_t n, float *y, const float *x, const float *g) { sf_geglu_f32(n, y, x, g); }
