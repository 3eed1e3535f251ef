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

#define FAIL(kind, ...)                              \
  do {                                               \
    char msg_[200];                                  \
    snprintf(msg_, sizeof msg_, __VA_ARGS__);        \
    napi_throw_##kind(env, "ERR_SYNFLUX_ARG", msg_); \
    return NULL;                                     \
  } while (0)

napi_value sf_js_softmax_rows(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok) return NULL;
  if (argc < 4) FAIL(type_error, "softmaxRows: expected (s, rows, n, scale)");
  bool is = false;
  napi_is_typedarray(env, a[0], &is);
  napi_typedarray_type t;
  size_t len = 0, off;
  void *d = NULL;
  napi_value ab;
  if (!is || napi_get_typedarray_info(env, a[0], &t, &len, &d, &ab, &off) != napi_ok || t != napi_float32_array)
    FAIL(type_error, "softmaxRows: s must be a Float32Array");
  double v[3];
  for (int i = 0; i < 3; i++) {
    napi_valuetype vt;
    napi_typeof(env, a[i + 1], &vt);
    if (vt != napi_number) FAIL(type_error, "softmaxRows: rows, n and scale must be numbers");
    napi_get_value_double(env, a[i + 1], &v[i]);
    if (!isfinite(v[i])) FAIL(range_error, "softmaxRows: arguments must be finite");
  }
  const double rows = v[0], n = v[1];
  if (rows < 0 || n < 1 || rows != floor(rows) || n != floor(n) || rows > 1e12 || n > 1e12) FAIL(range_error, "softmaxRows: rows must be an integer >= 0 and n >= 1");
  if ((double)len < rows * n) FAIL(range_error, "softmaxRows: s has %zu floats, need rows*n = %.0f", len, rows * n);
  sf_softmax_rows_f32((float *)d, (int64_t)rows, (int64_t)n, (float)v[2]);
  return NULL;
}

/* Blocked GEMM of sf_vit_gemm_avx512.c (AVX-512 path only; otherwise sf_matmul). */
int sf_vit_gemm_avx512(int wtype, const void *w, int64_t n_out, int64_t n_in, const float *x, int64_t n_tok, float *y);

static int f32_arg(napi_env env, napi_value v, float **d, size_t *len) {
  bool is = false;
  napi_typedarray_type t;
  size_t off;
  napi_value ab;
  napi_is_typedarray(env, v, &is);
  if (!is || napi_get_typedarray_info(env, v, &t, len, (void **)d, &ab, &off) != napi_ok || t != napi_float32_array) return 0;
  return 1;
}

/*
 * gemm(type, w: Uint8Array, nOut, nIn, x: Float32Array, nTok, y: Float32Array): the result of
 * matmul() for compute-bound batches. F32/F16 weights on the AVX-512 path use the blocked kernel
 * (same products, different summation order); other types or paths run sf_matmul.
 */
napi_value sf_js_vit_gemm(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value a[7];
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok) return NULL;
  if (argc < 7) FAIL(type_error, "gemm: expected (type, w, nOut, nIn, x, nTok, y)");
  double num[4];
  const int idx[4] = {0, 2, 3, 5};
  for (int i = 0; i < 4; i++) {
    napi_valuetype vt;
    napi_typeof(env, a[idx[i]], &vt);
    if (vt != napi_number) FAIL(type_error, "gemm: type, nOut, nIn and nTok must be numbers");
    napi_get_value_double(env, a[idx[i]], &num[i]);
    if (!(num[i] >= 0 && num[i] <= 1e9 && num[i] == floor(num[i]))) FAIL(range_error, "gemm: type, nOut, nIn and nTok must be integers in 0..1e9");
  }
  const int type = (int)num[0];
  const int64_t n_out = (int64_t)num[1], n_in = (int64_t)num[2], n_tok = (int64_t)num[3];
  if (type != SF_F32 && type != SF_F16) FAIL(range_error, "gemm: weight type %d is not F32 (0) or F16 (1)", type);
  if (n_out < 1 || n_in < 1) FAIL(range_error, "gemm: nOut and nIn must be >= 1");
  bool is = false;
  napi_typedarray_type t;
  size_t wlen = 0, off;
  void *w = NULL;
  napi_value ab;
  napi_is_typedarray(env, a[1], &is);
  if (!is || napi_get_typedarray_info(env, a[1], &t, &wlen, &w, &ab, &off) != napi_ok || t != napi_uint8_array) FAIL(type_error, "gemm: w must be a Uint8Array");
  float *x = NULL, *y = NULL;
  size_t xl = 0, yl = 0;
  if (!f32_arg(env, a[4], &x, &xl) || !f32_arg(env, a[6], &y, &yl)) FAIL(type_error, "gemm: x and y must be Float32Arrays");
  const double esz = type == SF_F32 ? 4 : 2;
  if ((double)wlen < (double)n_out * n_in * esz) FAIL(range_error, "gemm: w has %zu bytes, need %.0f", wlen, (double)n_out * n_in * esz);
  if ((double)xl < (double)n_tok * n_in) FAIL(range_error, "gemm: x has %zu floats, need nTok*nIn = %.0f", xl, (double)n_tok * n_in);
  if ((double)yl < (double)n_tok * n_out) FAIL(range_error, "gemm: y has %zu floats, need nTok*nOut = %.0f", yl, (double)n_tok * n_out);
  if (n_tok == 0) return NULL;
  int rc;
  if (sf_get_path() == SF_PATH_AVX512) rc = sf_vit_gemm_avx512(type, w, n_out, n_in, x, n_tok, y);
  else rc = sf_matmul(type, w, n_out, n_in, x, n_tok, y);
  if (rc != 0) {
    napi_throw_error(env, "ERR_SYNFLUX_NOMEM", "gemm: out of memory");
    return NULL;
  }
  return NULL;
}
