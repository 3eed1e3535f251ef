/*
 * Row softmax for non-causal (vision transformer) attention, split over the thread pool:
 *   s[r, j] = exp(scale * s[r, j] - max_r) / sum_r        for r < rows, j < n
 * with the float operations of ggml-cpu's soft_max_f32 (ops.cpp: x * scale, max, expf(x - max)
 * summed in double, then a multiply by (float)(1.0 / sum)), as src/models/vision/ops.ts does in
 * TypeScript. Node-API binding, registered by addon.c's init:
 *   softmaxRows(s: Float32Array, rows, n, scale)   in place; throws ERR_SYNFLUX_ARG on bad arguments.
 *   gemm(type, w, nOut, nIn, x, nTok, y)             compute-bound matmul (see below).
 */
#include <math.h>
#include <node_api.h>
#include <stdatomic.h>
#include <stdio.h>
#include "sf_common.h"
#include "sf_napi_args.h"

typedef struct {
  float *s;
  int64_t rows, n;
  float scale;
  _Alignas(64) _Atomic int64_t next;
} sm_ctx;

static void softmax_row(float *x, int64_t n, float scale) {
  float max = -INFINITY;
  for (int64_t j = 0; j < n; j++) {
    const float v = x[j] * scale;
    x[j] = v;
    max = max > v ? max : v;
  }
  double sum = 0.0;
  for (int64_t j = 0; j < n; j++) {
    const float e = expf(x[j] - max);
    x[j] = e;
    sum += (double)e;
  }
  const float inv = (float)(1.0 / sum);
  for (int64_t j = 0; j < n; j++) x[j] *= inv;
}

static void sm_task(void *vctx, int ith, int nth) {
  (void)ith;
  (void)nth;
  sm_ctx *c = vctx;
  const int64_t step = 8;
  for (;;) {
    const int64_t r0 = atomic_fetch_add_explicit(&c->next, step, memory_order_relaxed);
    if (r0 >= c->rows) break;
    const int64_t r1 = r0 + step < c->rows ? r0 + step : c->rows;
    for (int64_t r = r0; r < r1; r++) softmax_row(c->s + r * c->n, c->n, c->scale);
  }
}

/* In-place row softmax of s[rows, n] after scaling by `scale`, rows split over the pool. */
void sf_softmax_rows_f32(float *s, int64_t rows, int64_t n, float scale) {
  sm_ctx c = {.s = s, .rows = rows, .n = n, .scale = scale};
  atomic_init(&c.next, 0);
  if (rows * n < 4096) {
    sm_task(&c, 0, 1);
    return;
  }
  sf_pool_run(sm_task, &c);
}

napi_value sf_js_softmax_rows(napi_env env, napi_callback_info info) {
  napi_value a[8];
  float *s = NULL;
  size_t len = 0;
  int64_t rows, n;
  double scale;
  if (!args(env, info, 4, a, "softmaxRows") || !f32(env, a[0], "softmaxRows", "s", &s, &len) ||
      !integer(env, a[1], "softmaxRows", "rows", 0, (int64_t)1e12, &rows) || !integer(env, a[2], "softmaxRows", "n", 1, (int64_t)1e12, &n) ||
      !number(env, a[3], "softmaxRows", "scale", &scale))
    return NULL;
  if ((double)len < (double)rows * (double)n) FAIL(range_error, "softmaxRows: s has %zu floats, need rows*n = %.0f", len, (double)rows * (double)n);
  sf_softmax_rows_f32(s, rows, n, (float)scale);
  return NULL;
}

/* Blocked GEMM of sf_vit_gemm_avx512.c (AVX-512 path only; otherwise sf_matmul). */
int sf_vit_gemm_avx512(int wtype, const void *w, int64_t n_out, int64_t n_in, const float *x, int64_t n_tok, float *y);

/*
 * gemm(type, w: Uint8Array, nOut, nIn, x: Float32Array, nTok, y: Float32Array): the result of
 * matmul() for compute-bound batches. F32/F16 weights on the AVX-512 path use the blocked kernel
 * (same products, different summation order); other types or paths run sf_matmul.
 */
napi_value sf_js_vit_gemm(napi_env env, napi_callback_info info) {
  napi_value a[8];
  int64_t type, n_out, n_in, n_tok;
  uint8_t *w = NULL;
  float *x = NULL, *y = NULL;
  size_t wlen = 0, xl = 0, yl = 0;
  if (!args(env, info, 7, a, "gemm") || !integer(env, a[0], "gemm", "type", 0, 1000, &type) || !u8(env, a[1], "gemm", "w", &w, &wlen) ||
      !integer(env, a[2], "gemm", "nOut", 1, (int64_t)1e9, &n_out) || !integer(env, a[3], "gemm", "nIn", 1, (int64_t)1e9, &n_in) ||
      !f32(env, a[4], "gemm", "x", &x, &xl) || !integer(env, a[5], "gemm", "nTok", 0, (int64_t)1e9, &n_tok) || !f32(env, a[6], "gemm", "y", &y, &yl))
    return NULL;
  if (type != SF_F32 && type != SF_F16) FAIL(range_error, "gemm: weight type %lld is not F32 (0) or F16 (1)", (long long)type);
  const double esz = type == SF_F32 ? 4 : 2;
  if ((double)wlen < (double)n_out * n_in * esz) FAIL(range_error, "gemm: w has %zu bytes, need %.0f", wlen, (double)n_out * n_in * esz);
  if ((double)xl < (double)n_tok * n_in) FAIL(range_error, "gemm: x has %zu floats, need nTok*nIn = %.0f", xl, (double)n_tok * n_in);
  if ((double)yl < (double)n_tok * n_out) FAIL(range_error, "gemm: y has %zu floats, need nTok*nOut = %.0f", yl, (double)n_tok * n_out);
  if (n_tok == 0) return NULL;
  int rc;
  if (sf_get_path() == SF_PATH_AVX512) rc = sf_vit_gemm_avx512((int)type, w, n_out, n_in, x, n_tok, y);
  else rc = sf_matmul((int)type, w, n_out, n_in, x, n_tok, y);
  if (rc != 0) {
    napi_throw_error(env, "ERR_SYNFLUX_NOMEM", "gemm: out of memory");
    return NULL;
  }
  return NULL;
}
