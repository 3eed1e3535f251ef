/*
 * Node-API bindings of the SynFlux native CPU kernels (build/Release/synflux_native.node).
 *
 * Every buffer argument is a TypedArray used in place (zero-copy). Every argument is validated
 * (type id, integer ranges, buffer lengths against the element counts) and a bad one throws a JS
 * TypeError/RangeError/Error whose `code` starts with ERR_SYNFLUX_ instead of crashing.
 *
 * Exports (see src/backends/cpu/native.ts for the typed view):
 *   matmul(type, w, nOut, nIn, x, nTok, y)   Y[nTok,nOut] = X[nTok,nIn] · W[nOut,nIn]^T
 *   getRows(type, w, nIn, ids, out)           out[i,:] = dequantize(W[ids[i],:])
 *   dequantize(type, src, n, out)             n elements of src (blocks) -> float32
 *   quantize(type, src, n, out) -> bytes      ggml *_ref quantizer (model files)
 *   quantizeActivation(weightType, src, n, out) -> activation type id (what matmul dots with)
 *   activationType(weightType) -> type id
 *   rowSize(type, n) -> bytes
 *   setThreads(n) -> n, getThreads(), cpuFeatures(), setPath(name), getPath(), kernelInfo()
 *   mmap(path) -> ArrayBuffer                  private file mapping, unmapped by the GC
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sf_common.h"
#include "sf_dot_neon.h"

#define MAX_ARGS 16
static const char *PATH_NAMES[SF_PATH_COUNT] = {"scalar", "avx2", "avx512", "neon"};

/* Throw and return NULL from the calling binding. */
#define THROW(kind, ...)                                   \
  do {                                                     \
    char msg_[512];                                        \
    snprintf(msg_, sizeof msg_, __VA_ARGS__);              \
    napi_throw_##kind(env, "ERR_SYNFLUX_ARG", msg_);       \
    return NULL;                                           \
  } while (0)
#define CHECK(call)                                        \
  do {                                                     \
    if ((call) != napi_ok) return NULL;                    \
  } while (0)

typedef struct {
  void *data;
  size_t bytes;
  size_t length; /* elements */
  napi_typedarray_type type;
} typed_t;

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

/* Reads up to MAX_ARGS arguments into argv; *got (when not NULL) receives the count given. */
static int get_args_n(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *fn, size_t *got) {
  size_t argc = MAX_ARGS;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (got) *got = argc;
  if (argc < want) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s: expected %zu arguments, got %zu", fn, want, argc);
    napi_throw_type_error(env, "ERR_SYNFLUX_ARG", msg);
    return 0;
  }
  return 1;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *fn) {
  return get_args_n(env, info, want, argv, fn, NULL);
}

/* A non-negative integer <= 2^53 (a JS number). */
static int get_count(napi_env env, napi_value v, const char *fn, const char *name, int64_t max, int64_t *out) {
  napi_valuetype t;
  char msg[200];
  napi_typeof(env, v, &t);
  if (t != napi_number) {
    snprintf(msg, sizeof msg, "%s: %s must be a number", fn, name);
    napi_throw_type_error(env, "ERR_SYNFLUX_ARG", msg);
    return 0;
  }
  double d;
  napi_get_value_double(env, v, &d);
  if (!(d >= 0) || d > (double)max || d != (double)(int64_t)d) {
    snprintf(msg, sizeof msg, "%s: %s must be an integer in [0, %lld], got %g", fn, name, (long long)max, d);
    napi_throw_range_error(env, "ERR_SYNFLUX_ARG", msg);
    return 0;
  }
  *out = (int64_t)d;
  return 1;
}

/* A TypedArray; when `want` >= 0 it must be of that element type. */
static int get_typed(napi_env env, napi_value v, const char *fn, const char *name, int want, typed_t *out) {
  bool is;
  char msg[200];
  napi_is_typedarray(env, v, &is);
  if (!is) {
    snprintf(msg, sizeof msg, "%s: %s must be a TypedArray", fn, name);
    napi_throw_type_error(env, "ERR_SYNFLUX_ARG", msg);
    return 0;
  }
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &out->type, &out->length, &out->data, &ab, &off) != napi_ok) return 0;
  if (want >= 0 && (int)out->type != want) {
    static const char *names[] = {"Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
                                  "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array",
                                  "BigUint64Array"};
    snprintf(msg, sizeof msg, "%s: %s must be a %s", fn, name, want <= 10 ? names[want] : "TypedArray");
    napi_throw_type_error(env, "ERR_SYNFLUX_ARG", msg);
    return 0;
  }
  static const size_t esize[] = {1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8};
  out->bytes = out->length * ((int)out->type <= 10 ? esize[out->type] : 1);
  if (out->length > 0 && out->data == NULL) {
    snprintf(msg, sizeof msg, "%s: %s is detached", fn, name);
    napi_throw_type_error(env, "ERR_SYNFLUX_ARG", msg);
    return 0;
  }
  return 1;
}

/* A ggml type id with kernels; `weight` additionally requires it to be a matmul weight type. */
static const sf_type_traits *get_type_id(napi_env env, napi_value v, const char *fn, int weight, int *id) {
  int64_t t;
  char msg[256];
  if (!get_count(env, v, fn, "type", 1000, &t)) return NULL;
  const sf_type_traits *tr = sf_traits((int)t);
  if (!tr || (weight && tr->act_type < 0)) {
    snprintf(msg, sizeof msg, "%s: ggml type %lld is not supported%s (supported: F32=0 F16=1 BF16=30 Q4_0=2 Q4_1=3 "
             "Q5_0=6 Q5_1=7 Q8_0=8 Q4_K=12 Q5_K=13 Q6_K=14)", fn, (long long)t, weight ? " as a weight type" : "");
    napi_throw_error(env, "ERR_SYNFLUX_TYPE", msg);
    return NULL;
  }
  if (id) *id = (int)t;
  return tr;
}

static const sf_type_traits *get_type(napi_env env, napi_value v, const char *fn, int weight) {
  return get_type_id(env, v, fn, weight, NULL);
}

/* n must be a multiple of the block size. */
static int check_blocks(napi_env env, const sf_type_traits *t, int64_t n, const char *fn, const char *name) {
  if (n % t->blck != 0) {
    char msg[200];
    snprintf(msg, sizeof msg, "%s: %s = %lld is not a multiple of %s's block size %d", fn, name, (long long)n, t->name, t->blck);
    napi_throw_range_error(env, "ERR_SYNFLUX_ARG", msg);
    return 0;
  }
  return 1;
}

static int mul_ok(size_t a, size_t b, size_t *out) { return !__builtin_mul_overflow(a, b, out); }

#define MAXN ((int64_t)1 << 40)

/* matmul(type, w: Uint8Array, nOut, nIn, x: Float32Array, nTok, y: Float32Array): void */
static napi_value js_matmul(napi_env env, napi_callback_info info) {
  napi_value a[MAX_ARGS];
  const char *fn = "matmul";
  if (!get_args(env, info, 7, a, fn)) return NULL;
  int type_id = 0;
  const sf_type_traits *t = get_type_id(env, a[0], fn, 1, &type_id);
  typed_t w, x, y;
  int64_t n_out, n_in, n_tok;
  if (!t || !get_typed(env, a[1], fn, "w", -1, &w) || !get_count(env, a[2], fn, "nOut", MAXN, &n_out) ||
      !get_count(env, a[3], fn, "nIn", MAXN, &n_in) || !get_typed(env, a[4], fn, "x", napi_float32_array, &x) ||
      !get_count(env, a[5], fn, "nTok", MAXN, &n_tok) || !get_typed(env, a[6], fn, "y", napi_float32_array, &y))
    return NULL;
  if (n_in == 0) THROW(range_error, "%s: nIn must be > 0", fn);
  if (n_in > 0x7fffffff) THROW(range_error, "%s: nIn = %lld is too large", fn, (long long)n_in);
  if (!check_blocks(env, t, n_in, fn, "nIn")) return NULL;
  size_t wneed, xneed, yneed;
  if (!mul_ok((size_t)n_out, sf_row_size(t, n_in), &wneed) || !mul_ok((size_t)n_tok, (size_t)n_in, &xneed) ||
      !mul_ok((size_t)n_tok, (size_t)n_out, &yneed))
    THROW(range_error, "%s: sizes overflow", fn);
  if (w.bytes < wneed)
    THROW(range_error, "%s: w has %zu bytes, need nOut*rowSize(%s, %lld) = %zu", fn, w.bytes, t->name, (long long)n_in, wneed);
  if (x.length < xneed) THROW(range_error, "%s: x has %zu floats, need nTok*nIn = %zu", fn, x.length, xneed);
  if (y.length < yneed) THROW(range_error, "%s: y has %zu floats, need nTok*nOut = %zu", fn, y.length, yneed);
  if (sf_matmul(type_id, w.data, n_out, n_in, x.data, n_tok, y.data) != 0) {
    napi_throw_error(env, "ERR_SYNFLUX_NOMEM", "matmul: out of memory for the activation buffer");
    return NULL;
  }
  return undefined(env);
}

/* matmulMulti(type, nIn, x: Float32Array, nTok, w0, nOut0, y0, w1, nOut1, y1[, w2, nOut2, y2]): void —
 * 2 or 3 matmuls of one weight type sharing X, in one pool job (sf_matmul_multi). */
static napi_value js_matmul_multi(napi_env env, napi_callback_info info) {
  napi_value a[MAX_ARGS];
  const char *fn = "matmulMulti";
  size_t argc = 0;
  if (!get_args_n(env, info, 10, a, fn, &argc)) return NULL;
  int n_parts = 2;
  if (argc > 10) {
    napi_valuetype vt;
    if (napi_typeof(env, a[10], &vt) != napi_ok) return NULL;
    if (vt != napi_undefined && vt != napi_null) {
      if (argc < 13) THROW(type_error, "%s: a third weight w2 needs nOut2 and y2 (13 arguments), got %zu", fn, argc);
      n_parts = 3;
    }
  }
  int type_id = 0;
  const sf_type_traits *t = get_type_id(env, a[0], fn, 1, &type_id);
  typed_t x;
  int64_t n_in, n_tok;
  if (!t || !get_count(env, a[1], fn, "nIn", MAXN, &n_in) || !get_typed(env, a[2], fn, "x", napi_float32_array, &x) ||
      !get_count(env, a[3], fn, "nTok", MAXN, &n_tok))
    return NULL;
  if (n_in == 0) THROW(range_error, "%s: nIn must be > 0", fn);
  if (n_in > 0x7fffffff) THROW(range_error, "%s: nIn = %lld is too large", fn, (long long)n_in);
  if (!check_blocks(env, t, n_in, fn, "nIn")) return NULL;
  size_t xneed;
  if (!mul_ok((size_t)n_tok, (size_t)n_in, &xneed)) THROW(range_error, "%s: sizes overflow", fn);
  if (x.length < xneed) THROW(range_error, "%s: x has %zu floats, need nTok*nIn = %zu", fn, x.length, xneed);
  const void *wp[3];
  float *yp[3];
  int64_t no[3];
  for (int p = 0; p < n_parts; p++) {
    typed_t w, y;
    if (!get_typed(env, a[4 + 3 * p], fn, "w", -1, &w) || !get_count(env, a[5 + 3 * p], fn, "nOut", MAXN, &no[p]) ||
        !get_typed(env, a[6 + 3 * p], fn, "y", napi_float32_array, &y))
      return NULL;
    size_t wneed, yneed;
    if (!mul_ok((size_t)no[p], sf_row_size(t, n_in), &wneed) || !mul_ok((size_t)n_tok, (size_t)no[p], &yneed))
      THROW(range_error, "%s: sizes overflow", fn);
    if (w.bytes < wneed) THROW(range_error, "%s: w%d has %zu bytes, need %zu", fn, p, w.bytes, wneed);
    if (y.length < yneed) THROW(range_error, "%s: y%d has %zu floats, need nTok*nOut = %zu", fn, p, y.length, yneed);
    wp[p] = w.data;
    yp[p] = y.data;
  }
  if (sf_matmul_multi(type_id, n_parts, wp, no, n_in, x.data, n_tok, yp) != 0) {
    napi_throw_error(env, "ERR_SYNFLUX_NOMEM", "matmulMulti: out of memory for the activation buffer");
    return NULL;
  }
  return undefined(env);
}

/* rmsNorm(x: Float32Array, w: Float32Array | null, y: Float32Array, rows, n, eps, xOff, yOff): void */
static napi_value js_rms_norm(napi_env env, napi_callback_info info) {
  napi_value a[MAX_ARGS];
  const char *fn = "rmsNorm";
  if (!get_args(env, info, 8, a, fn)) return NULL;
  typed_t x, w, y;
  int64_t rows, n, xoff, yoff;
  double eps;
  napi_valuetype wt;
  if (napi_typeof(env, a[1], &wt) != napi_ok) return NULL;
  const int has_w = wt != napi_null && wt != napi_undefined;
  if (!get_typed(env, a[0], fn, "x", napi_float32_array, &x) || (has_w && !get_typed(env, a[1], fn, "w", napi_float32_array, &w)) ||
      !get_typed(env, a[2], fn, "y", napi_float32_array, &y) || !get_count(env, a[3], fn, "rows", MAXN, &rows) ||
      !get_count(env, a[4], fn, "n", MAXN, &n) || !get_count(env, a[6], fn, "xOff", MAXN, &xoff) ||
      !get_count(env, a[7], fn, "yOff", MAXN, &yoff))
    return NULL;
  if (napi_get_value_double(env, a[5], &eps) != napi_ok) THROW(type_error, "%s: eps must be a number", fn);
  if (!isfinite(eps) || eps < 0) THROW(range_error, "%s: eps must be a finite number >= 0, got %g", fn, eps);
  if (n == 0) THROW(range_error, "%s: n must be > 0", fn);
  size_t need;
  if (!mul_ok((size_t)rows, (size_t)n, &need)) THROW(range_error, "%s: sizes overflow", fn);
  if (x.length < (size_t)xoff + need) THROW(range_error, "%s: x has %zu floats, need xOff + rows*n", fn, x.length);
  if (y.length < (size_t)yoff + need) THROW(range_error, "%s: y has %zu floats, need yOff + rows*n", fn, y.length);
  if (has_w && w.length < (size_t)n) THROW(range_error, "%s: w has %zu floats, need n", fn, w.length);
  sf_rms_norm_f32((const float *)x.data + xoff, has_w ? (const float *)w.data : NULL, (float *)y.data + yoff, rows, n, eps);
  return undefined(env);
}

/* getRows(type, w: Uint8Array, nIn, ids: Int32Array, out: Float32Array): void */
static napi_value js_get_rows(napi_env env, napi_callback_info info) {
  napi_value a[MAX_ARGS];
  const char *fn = "getRows";
  if (!get_args(env, info, 5, a, fn)) return NULL;
  const sf_type_traits *t = get_type(env, a[0], fn, 0);
  typed_t w, ids, out;
  int64_t n_in;
  if (!t || !get_typed(env, a[1], fn, "w", -1, &w) || !get_count(env, a[2], fn, "nIn", MAXN, &n_in) ||
      !get_typed(env, a[3], fn, "ids", napi_int32_array, &ids) || !get_typed(env, a[4], fn, "out", napi_float32_array, &out))
    return NULL;
  if (n_in == 0) THROW(range_error, "%s: nIn must be > 0", fn);
  if (!check_blocks(env, t, n_in, fn, "nIn")) return NULL;
  const size_t row = sf_row_size(t, n_in), n_rows = w.bytes / row;
  size_t need;
  if (!mul_ok(ids.length, (size_t)n_in, &need)) THROW(range_error, "%s: sizes overflow", fn);
  if (out.length < need) THROW(range_error, "%s: out has %zu floats, need ids.length*nIn = %zu", fn, out.length, need);
  const int32_t *id = ids.data;
  for (size_t i = 0; i < ids.length; i++)
    if (id[i] < 0 || (size_t)id[i] >= n_rows)
      THROW(range_error, "%s: ids[%zu] = %d is out of range [0, %zu)", fn, i, id[i], n_rows);
  for (size_t i = 0; i < ids.length; i++)
    t->to_float((const uint8_t *)w.data + (size_t)id[i] * row, (float *)out.data + i * (size_t)n_in, n_in);
  return undefined(env);
}

/* dequantize(type, src: TypedArray, n, out: Float32Array): void */
static napi_value js_dequantize(napi_env env, napi_callback_info info) {
  napi_value a[MAX_ARGS];
  const char *fn = "dequantize";
  if (!get_args(env, info, 4, a, fn)) return NULL;
  const sf_type_traits *t = get_type(env, a[0], fn, 0);
  typed_t src, out;
  int64_t n;
  if (!t || !get_typed(env, a[1], fn, "src", -1, &src) || !get_count(env, a[2], fn, "n", MAXN, &n) ||
      !get_typed(env, a[3], fn, "out", napi_float32_array, &out))
    return NULL;
  if (!check_blocks(env, t, n, fn, "n")) return NULL;
  if (src.bytes < sf_row_size(t, n)) THROW(range_error, "%s: src has %zu bytes, need %zu for %lld %s elements", fn, src.bytes, sf_row_size(t, n), (long long)n, t->name);
  if (out.length < (size_t)n) THROW(range_error, "%s: out has %zu floats, need %lld", fn, out.length, (long long)n);
  t->to_float(src.data, out.data, n);
  return undefined(env);
}

static napi_value num(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

/* Shared by quantize / quantizeActivation: (type, src: Float32Array, n, out: TypedArray). */
static napi_value quantize_common(napi_env env, napi_callback_info info, int activation) {
  napi_value a[MAX_ARGS];
  const char *fn = activation ? "quantizeActivation" : "quantize";
  if (!get_args(env, info, 4, a, fn)) return NULL;
  const sf_type_traits *t = get_type(env, a[0], fn, activation);
  typed_t src, out;
  int64_t n;
  if (!t || !get_typed(env, a[1], fn, "src", napi_float32_array, &src) || !get_count(env, a[2], fn, "n", MAXN, &n) ||
      !get_typed(env, a[3], fn, "out", -1, &out))
    return NULL;
  const sf_type_traits *q = activation ? sf_traits(t->act_type) : t;
  sf_from_float_fn f = activation ? q->quantize_act : q->quantize_ref;
  if (!f) THROW(error, "%s: no quantizer for %s", fn, q->name);
  if (!check_blocks(env, q, n, fn, "n")) return NULL;
  if (src.length < (size_t)n) THROW(range_error, "%s: src has %zu floats, need %lld", fn, src.length, (long long)n);
  const size_t need = sf_row_size(q, n);
  if (out.bytes < need) THROW(range_error, "%s: out has %zu bytes, need %zu for %lld %s elements", fn, out.bytes, need, (long long)n, q->name);
  f(src.data, out.data, n);
  return num(env, activation ? (double)t->act_type : (double)need);
}

static napi_value js_quantize(napi_env env, napi_callback_info info) { return quantize_common(env, info, 0); }
static napi_value js_quantize_act(napi_env env, napi_callback_info info) { return quantize_common(env, info, 1); }

static napi_value js_activation_type(napi_env env, napi_callback_info info) {
  napi_value a[MAX_ARGS];
  if (!get_args(env, info, 1, a, "activationType")) return NULL;
  const sf_type_traits *t = get_type(env, a[0], "activationType", 1);
  return t ? num(env, t->act_type) : NULL;
}

static napi_value js_row_size(napi_env env, napi_callback_info info) {
  napi_value a[MAX_ARGS];
  int64_t n;
  if (!get_args(env, info, 2, a, "rowSize")) return NULL;
  const sf_type_traits *t = get_type(env, a[0], "rowSize", 0);
  if (!t || !get_count(env, a[1], "rowSize", "n", MAXN, &n) || !check_blocks(env, t, n, "rowSize", "n")) return NULL;
  return num(env, (double)sf_row_size(t, n));
}

static napi_value js_set_threads(napi_env env, napi_callback_info info) {
  napi_value a[MAX_ARGS];
  int64_t n;
  if (!get_args(env, info, 1, a, "setThreads") || !get_count(env, a[0], "setThreads", "n", 256, &n)) return NULL;
  if (n < 1) THROW(range_error, "setThreads: n must be in [1, 256]");
  return num(env, sf_pool_set_threads((int)n));
}

static napi_value js_get_threads(napi_env env, napi_callback_info info) { return num(env, sf_pool_get_threads()); }

static napi_value js_cpu_features(napi_env env, napi_callback_info info) {
  napi_value arr, s;
  CHECK(napi_create_array(env, &arr));
  uint32_t i = 0;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
#define FEAT(name)                                                   \
  if (__builtin_cpu_supports(name)) {                                \
    napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &s);        \
    napi_set_element(env, arr, i++, s);                              \
  }
  FEAT("sse4.2") FEAT("avx") FEAT("avx2") FEAT("fma") FEAT("f16c") FEAT("avx512f") FEAT("avx512bw")
  FEAT("avx512vl") FEAT("avx512vnni") FEAT("avx512bf16")
#undef FEAT
#elif defined(__aarch64__)
  napi_create_string_utf8(env, "neon", NAPI_AUTO_LENGTH, &s); /* AdvSIMD: mandatory on AArch64 */
  napi_set_element(env, arr, i++, s);
  if (sf_neon_cpu_dotprod()) {
    napi_create_string_utf8(env, "dotprod", NAPI_AUTO_LENGTH, &s);
    napi_set_element(env, arr, i++, s);
  }
#endif
  (void)s; (void)i;
  return arr;
}

static napi_value js_set_path(napi_env env, napi_callback_info info) {
  napi_value a[MAX_ARGS];
  char name[16] = {0};
  size_t len;
  if (!get_args(env, info, 1, a, "setPath")) return NULL;
  if (napi_get_value_string_utf8(env, a[0], name, sizeof name, &len) != napi_ok)
    THROW(type_error, "setPath: path must be a string ('scalar' | 'avx2' | 'avx512' | 'neon' | 'auto')");
  int p = -2;
  if (strcmp(name, "auto") == 0) p = -1;
  for (int i = 0; i < SF_PATH_COUNT; i++)
    if (strcmp(name, PATH_NAMES[i]) == 0) p = i;
  if (p == -2) THROW(range_error, "setPath: unknown path '%s' (expected 'scalar' | 'avx2' | 'avx512' | 'neon' | 'auto')", name);
  if (sf_set_path(p) != 0) {
    char msg[200];
    snprintf(msg, sizeof msg, "setPath: path '%s' is not supported on this CPU or build", name);
    napi_throw_error(env, "ERR_SYNFLUX_PATH", msg);
    return NULL;
  }
  napi_value r;
  napi_create_string_utf8(env, PATH_NAMES[sf_get_path()], NAPI_AUTO_LENGTH, &r);
  return r;
}

static napi_value js_get_path(napi_env env, napi_callback_info info) {
  napi_value r;
  napi_create_string_utf8(env, PATH_NAMES[sf_get_path()], NAPI_AUTO_LENGTH, &r);
  return r;
}

/* kernelInfo(): { path, paths: string[] (supported), dot: { TYPE: implementing path } } */
static napi_value js_kernel_info(napi_env env, napi_callback_info info) {
  napi_value obj, dot, paths, s;
  CHECK(napi_create_object(env, &obj));
  napi_create_object(env, &dot);
  napi_create_array(env, &paths);
  const sf_kernel_table *k = sf_kernels();
  for (int t = 0; t < SF_TYPE_COUNT; t++) {
    if (!k->vec_dot[t]) continue;
    napi_create_string_utf8(env, k->impl[t], NAPI_AUTO_LENGTH, &s);
    napi_set_named_property(env, dot, sf_traits(t)->name, s);
  }
  uint32_t n = 0;
  for (int p = 0; p < SF_PATH_COUNT; p++)
    if (sf_path_supported(p)) {
      napi_create_string_utf8(env, PATH_NAMES[p], NAPI_AUTO_LENGTH, &s);
      napi_set_element(env, paths, n++, s);
    }
  napi_create_string_utf8(env, PATH_NAMES[sf_get_path()], NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, obj, "path", s);
  napi_set_named_property(env, obj, "paths", paths);
  napi_set_named_property(env, obj, "dot", dot);
  return obj;
}

static void unmap_finalize(napi_env env, void *data, void *hint) { munmap(data, (size_t)(uintptr_t)hint); }

/* mmap(path): ArrayBuffer over a private (copy-on-write) mapping of the whole file. The file is
 * opened read-only and never modified; the mapping is released when the ArrayBuffer is collected. */
static napi_value js_mmap(napi_env env, napi_callback_info info) {
  napi_value a[MAX_ARGS];
  if (!get_args(env, info, 1, a, "mmap")) return NULL;
  size_t len;
  if (napi_get_value_string_utf8(env, a[0], NULL, 0, &len) != napi_ok) THROW(type_error, "mmap: path must be a string");
  char *path = malloc(len + 1);
  if (!path) THROW(error, "mmap: out of memory");
  napi_get_value_string_utf8(env, a[0], path, len + 1, &len);
  if (strlen(path) != len) {
    free(path);
    THROW(type_error, "mmap: path contains a NUL character");
  }
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    char msg[600];
    snprintf(msg, sizeof msg, "mmap: cannot open '%.400s': %s", path, strerror(e));
    free(path);
    napi_throw_error(env, e == ENOENT ? "ENOENT" : "ERR_SYNFLUX_IO", msg);
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    char msg[600];
    snprintf(msg, sizeof msg, "mmap: '%.400s' is not a regular file", path);
    free(path);
    napi_throw_error(env, "ERR_SYNFLUX_IO", msg);
    return NULL;
  }
  free(path);
  napi_value ab;
  if (st.st_size == 0) {
    close(fd);
    void *p;
    CHECK(napi_create_arraybuffer(env, 0, &p, &ab));
    return ab;
  }
  const size_t size = (size_t)st.st_size;
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  const int e = errno;
  close(fd);
  if (p == MAP_FAILED) THROW(error, "mmap: mapping %zu bytes failed: %s", size, strerror(e));
  if (napi_create_external_arraybuffer(env, p, size, unmap_finalize, (void *)(uintptr_t)size, &ab) != napi_ok) {
    munmap(p, size);
    return NULL;
  }
  return ab;
}

/* RoPE and attention bindings (sf_attn_napi.c). */
napi_value sf_js_rope(napi_env env, napi_callback_info info);
napi_value sf_js_attention(napi_env env, napi_callback_info info);
napi_value sf_js_attn_n_kv(napi_env env, napi_callback_info info);
napi_value sf_js_swiglu(napi_env env, napi_callback_info info);
napi_value sf_js_geglu(napi_env env, napi_callback_info info);
/* HWC convolution bindings (sf_conv_napi.c). */
napi_value sf_js_conv2d(napi_env env, napi_callback_info info);
napi_value sf_js_dwconv2d(napi_env env, napi_callback_info info);
/* Vision-transformer row softmax (sf_vit.c). */
napi_value sf_js_softmax_rows(napi_env env, napi_callback_info info);
napi_value sf_js_vit_gemm(napi_env env, napi_callback_info info);

static napi_value init(napi_env env, napi_value exports) {
  static const struct { const char *name; napi_callback cb; } fns[] = {
    {"conv2d", sf_js_conv2d}, {"dwconv2d", sf_js_dwconv2d}, {"softmaxRows", sf_js_softmax_rows}, {"gemm", sf_js_vit_gemm},
    {"rope", sf_js_rope}, {"attention", sf_js_attention}, {"attnNKv", sf_js_attn_n_kv}, {"swiglu", sf_js_swiglu}, {"geglu", sf_js_geglu},
    {"matmulMulti", js_matmul_multi}, {"rmsNorm", js_rms_norm}, {"matmul", js_matmul}, {"getRows", js_get_rows}, {"dequantize", js_dequantize}, {"quantize", js_quantize},
    {"quantizeActivation", js_quantize_act}, {"activationType", js_activation_type}, {"rowSize", js_row_size},
    {"setThreads", js_set_threads}, {"getThreads", js_get_threads}, {"cpuFeatures", js_cpu_features},
    {"setPath", js_set_path}, {"getPath", js_get_path}, {"kernelInfo", js_kernel_info}, {"mmap", js_mmap},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    CHECK(napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &f));
    CHECK(napi_set_named_property(env, exports, fns[i].name, f));
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
