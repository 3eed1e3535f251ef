/*
 * SynFlux WASM kernels: exports over linear memory for src/backends/wasm/index.ts, a small
 * allocator, and a single-threaded matmul driver. The kernels themselves are native/sf_quant.c,
 * native/sf_dot_scalar.c and native/sf_attn.c compiled unchanged, with SIMD128 dot products from
 * wasm/sf_dot_simd128.c (same integer sums, same float order: identical bits to the scalar path).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sf_common.h"
#include "sf_attn.h"

#define EXPORT(name) __attribute__((export_name(#name))) 

/* ------------------------------------------------------------------ allocator
 * Blocks come from the end of the heap (memory.grow as needed), 64-byte aligned, with their
 * capacity in the 4 bytes before them. Small blocks (≤ 1 MiB) are power-of-two classes with a free
 * list each; large ones (weights, scratch) are rounded to 64 KiB and reused first-fit from one free
 * list when they are at most twice the request. */
extern unsigned char __heap_base;
static uintptr_t g_brk;
static void *g_free[21];
static void *g_free_big;
#define SMALL_MAX ((size_t)1 << 20)

static void *heap_take(size_t cap) {
  if (!g_brk) g_brk = ((uintptr_t)&__heap_base + 63) & ~(uintptr_t)63;
  const uint64_t start = (uint64_t)g_brk + 64;
  const uint64_t end = start + cap;
  if (end > ((uint64_t)1 << 32)) return NULL;
  const uint64_t have = (uint64_t)__builtin_wasm_memory_size(0) * 65536;
  if (end > have) {
    const uint64_t pages = (end - have + 65535) / 65536;
    if (__builtin_wasm_memory_grow(0, (size_t)pages) == (size_t)-1) return NULL;
  }
  g_brk = (uintptr_t)((end + 63) & ~(uint64_t)63);
  ((uint32_t *)(uintptr_t)start)[-1] = (uint32_t)cap;
  return (void *)(uintptr_t)start;
}

static inline uint32_t block_cap(void *p) { return ((uint32_t *)p)[-1]; }

void *malloc(size_t n) {
  if (n == 0) n = 1;
  if (n <= SMALL_MAX) {
    int c = 4;
    while (((size_t)1 << c) < n) c++;
    if (g_free[c]) {
      void **p = g_free[c];
      g_free[c] = *p;
      return p;
    }
    return heap_take((size_t)1 << c);
  }
  if (n > (size_t)0xffff0000u) return NULL;
  void **prev = &g_free_big;
  for (void *p = g_free_big; p; prev = (void **)p, p = *(void **)p)
    if (block_cap(p) >= n && block_cap(p) / 2 <= n) {
      *prev = *(void **)p;
      return p;
    }
  return heap_take((n + 65535) & ~(size_t)65535);
}

void free(void *p) {
  if (!p) return;
  const uint32_t cap = block_cap(p);
  if (cap <= SMALL_MAX) {
    const int c = __builtin_ctz(cap);
    *(void **)p = g_free[c];
    g_free[c] = p;
  } else {
    *(void **)p = g_free_big;
    g_free_big = p;
  }
}

void *calloc(size_t n, size_t m) {
  void *p = malloc(n * m);
  if (p) memset(p, 0, n * m);
  return p;
}

int posix_memalign(void **p, size_t align, size_t n) {
  (void)align; /* every block is 64-aligned */
  *p = malloc(n);
  return *p ? 0 : 12;
}

EXPORT(sf_alloc) void *sf_alloc(uint32_t n) { return malloc(n); }
EXPORT(sf_free) void sf_free(void *p) { free(p); }

/* ------------------------------------------------------------------ paths / pool stand-ins */

void sf_fill_simd128(sf_kernel_table *k);
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
int sf_get_path(void) { return SF_PATH_SCALAR; }
int sf_attn_avx512_compiled(void) { return 0; }
float sf_attn_dot64_avx512(const float *x, const float *y, int64_t nb) { (void)x; (void)y; (void)nb; return 0; }
float sf_attn_dot16_avx512(const float *x, const float *y, int64_t nb) { (void)x; (void)y; (void)nb; return 0; }
double sf_attn_exp16_avx512(float *y, const float *x, float max, int64_t nb, double sum) { (void)y; (void)x; (void)max; (void)nb; return sum; }
/* Never called: sf_attn_avx512_compiled() is 0 in the WASM build, so sf_attn.c takes its portable paths. */
void sf_attn_dot64x4_avx512(const float *x0, int64_t stride, const float *y, int64_t nb, float *out) { (void)x0; (void)stride; (void)y; (void)nb; (void)out; __builtin_trap(); }
void sf_attn_dot16x4_avx512(const float *x0, int64_t stride, const float *y, int64_t nb, float *out) { (void)x0; (void)stride; (void)y; (void)nb; (void)out; __builtin_trap(); }
void sf_attn_swiglu16_avx512(float *y, const float *x, const float *g, int64_t nb) { (void)y; (void)x; (void)g; (void)nb; __builtin_trap(); }
void sf_pool_run(sf_task_fn fn, void *ctx) { fn(ctx, 0, 1); }

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

/* ------------------------------------------------------------------ matmul */

static uint8_t *g_act;
static size_t g_act_size;

/* Y[n_tok, n_out] = X[n_tok, n_in] . W[n_out, n_in]^T. Returns 0, -1 (bad type/size), -2 (out of memory). */
EXPORT(sf_wasm_matmul) int32_t sf_wasm_matmul(int type, const uint8_t *w, int32_t n_out, int32_t n_in, const float *x, int32_t n_tok, float *y) {
  const sf_type_traits *tw = sf_traits(type);
  if (!tw || tw->act_type < 0 || n_in % tw->blck) return -1;
  const sf_type_traits *ta = sf_traits(tw->act_type);
  const sf_kernel_table *k = table();
  const sf_vec_dot_fn dot = k->vec_dot[type];
  if (!dot) return -1;
  const size_t w_row = sf_row_size(tw, n_in), a_row = sf_row_size(ta, n_in);
  const uint8_t *act;
  if (tw->act_type == SF_F32) {
    act = (const uint8_t *)x;
  } else {
    const size_t need = a_row * (size_t)n_tok + 64;
    if (need > g_act_size) {
      free(g_act);
      g_act = malloc(need);
      g_act_size = g_act ? need : 0;
      if (!g_act) return -2;
    }
    for (int32_t t = 0; t < n_tok; t++) ta->quantize_act(x + (size_t)t * n_in, g_act + (size_t)t * a_row, n_in);
    act = g_act;
  }
  /* blocks of 16 weight rows × 32 tokens: a weight row stays in cache across the tokens */
  for (int32_t t0 = 0; t0 < n_tok; t0 += 32) {
    const int32_t t1 = t0 + 32 < n_tok ? t0 + 32 : n_tok;
    for (int32_t r = 0; r < n_out; r++) {
      const uint8_t *wr = w + (size_t)r * w_row;
      for (int32_t t = t0; t < t1; t++) y[(size_t)t * n_out + r] = dot(n_in, wr, act + (size_t)t * a_row);
    }
  }
  return 0;
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
EXPORT(sf_wasm_swiglu) void sf_wasm_swiglu(int32_t n, float *y, const float *x, const float *g) { sf_swiglu_f32(n, y, x, g); }
EXPORT(sf_wasm_geglu) void sf_wasm_geglu(int32_t n, float *y, const float *x, const float *g) { sf_geglu_f32(n, y, x, g); }
