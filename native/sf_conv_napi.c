/*
 * Node-API bindings of the HWC convolutions (sf_conv.h), registered by addon.c's init:
 *   conv2d(x, w, bias | null, y: Float32Array, shape)     y = conv(x), w in TF HWIO [kh, kw, cin, cout]
 *   dwconv2d(x, w, bias | null, y: Float32Array, shape)   y = depthwise conv(x), w [kh, kw, c]
 *     shape: { h, w, cin, cout, kh, kw, strideH, strideW, padTop, padLeft, padBottom, padRight, actMax }
 *     (depthwise: cout must equal cin; actMax < 0 = no activation). The output size follows from
 *     the shape; every buffer length is checked against it.
 * Bad arguments throw TypeError/RangeError with code ERR_SYNFLUX_ARG; out of memory throws Error.
 */
#include <math.h>
#include <node_api.h>
#include <stdio.h>
#include "sf_conv.h"

#define FAIL(kind, ...)                                    \
  do {                                                     \
    char msg_[300];                                        \
    snprintf(msg_, sizeof msg_, __VA_ARGS__);              \
    napi_throw_##kind(env, "ERR_SYNFLUX_ARG", msg_);       \
    return 0;                                              \
  } while (0)

static int f32_or_null(napi_env env, napi_value v, const char *fn, const char *name, int nullable, float **data, size_t *len) {
  napi_valuetype vt;
  napi_typeof(env, v, &vt);
  if (nullable && (vt == napi_null || vt == napi_undefined)) {
    *data = NULL;
    *len = 0;
    return 1;
  }
  bool is = false;
  napi_is_typedarray(env, v, &is);
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  void *d = NULL;
  if (!is || napi_get_typedarray_info(env, v, &t, len, &d, &ab, &off) != napi_ok || t != napi_float32_array)
    FAIL(type_error, "%s: %s must be a Float32Array%s", fn, name, nullable ? " or null" : "");
  if (*len > 0 && !d) FAIL(type_error, "%s: %s is detached", fn, name);
  *data = d;
  return 1;
}

static int prop_num(napi_env env, napi_value obj, const char *fn, const char *name, double *out) {
  bool has = false;
  napi_value v;
  napi_valuetype t;
  napi_has_named_property(env, obj, name, &has);
  if (!has) FAIL(type_error, "%s: shape.%s is missing", fn, name);
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return 0;
  napi_typeof(env, v, &t);
  if (t != napi_number) FAIL(type_error, "%s: shape.%s must be a number", fn, name);
  napi_get_value_double(env, v, out);
  if (!isfinite(*out)) FAIL(range_error, "%s: shape.%s must be finite", fn, name);
  return 1;
}

static int prop_int(napi_env env, napi_value obj, const char *fn, const char *name, int64_t min, int64_t max, int64_t *out) {
  double d;
  if (!prop_num(env, obj, fn, name, &d)) return 0;
  if (d < (double)min || d > (double)max || d != floor(d))
    FAIL(range_error, "%s: shape.%s must be an integer in [%lld, %lld], got %g", fn, name, (long long)min, (long long)max, d);
  *out = (int64_t)d;
  return 1;
}

static napi_value conv_common(napi_env env, napi_callback_info info, int depthwise) {
  const char *fn = depthwise ? "dwconv2d" : "conv2d";
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 5) FAIL(type_error, "%s: expected 5 arguments, got %zu", fn, argc);
  float *x, *w, *b, *y;
  size_t nx, nw, nb, ny;
  if (!f32_or_null(env, argv[0], fn, "x", 0, &x, &nx) || !f32_or_null(env, argv[1], fn, "w", 0, &w, &nw) ||
      !f32_or_null(env, argv[2], fn, "bias", 1, &b, &nb) || !f32_or_null(env, argv[3], fn, "y", 0, &y, &ny))
    return NULL;
  napi_valuetype t;
  napi_typeof(env, argv[4], &t);
  if (t != napi_object) FAIL(type_error, "%s: shape must be an object", fn);
  const int64_t BIG = (int64_t)1 << 20;
  sf_conv_shape s;
  double act;
  if (!prop_int(env, argv[4], fn, "h", 1, BIG, &s.h) || !prop_int(env, argv[4], fn, "w", 1, BIG, &s.w) ||
      !prop_int(env, argv[4], fn, "cin", 1, BIG, &s.cin) || !prop_int(env, argv[4], fn, "cout", 1, BIG, &s.cout) ||
      !prop_int(env, argv[4], fn, "kh", 1, 64, &s.kh) || !prop_int(env, argv[4], fn, "kw", 1, 64, &s.kw) ||
      !prop_int(env, argv[4], fn, "strideH", 1, 64, &s.stride_h) || !prop_int(env, argv[4], fn, "strideW", 1, 64, &s.stride_w) ||
      !prop_int(env, argv[4], fn, "padTop", 0, 64, &s.pad_top) || !prop_int(env, argv[4], fn, "padLeft", 0, 64, &s.pad_left) ||
      !prop_int(env, argv[4], fn, "padBottom", 0, 64, &s.pad_bottom) || !prop_int(env, argv[4], fn, "padRight", 0, 64, &s.pad_right) ||
      !prop_num(env, argv[4], fn, "actMax", &act))
    return NULL;
  s.act_max = act < 0 ? -1.0f : (float)act;
  if (depthwise && s.cout != s.cin) FAIL(range_error, "%s: cout (%lld) must equal cin (%lld)", fn, (long long)s.cout, (long long)s.cin);
  if (s.h + s.pad_top + s.pad_bottom < s.kh || s.w + s.pad_left + s.pad_right < s.kw)
    FAIL(range_error, "%s: kernel %lldx%lld larger than the padded input", fn, (long long)s.kh, (long long)s.kw);
  s.oh = (s.h + s.pad_top + s.pad_bottom - s.kh) / s.stride_h + 1;
  s.ow = (s.w + s.pad_left + s.pad_right - s.kw) / s.stride_w + 1;
  const double want_x = (double)s.h * s.w * s.cin, want_y = (double)s.oh * s.ow * s.cout;
  const double want_w = depthwise ? (double)s.kh * s.kw * s.cin : (double)s.kh * s.kw * s.cin * s.cout;
  if (want_x > 4e9 || want_y > 4e9 || want_w > 4e9) FAIL(range_error, "%s: tensors too large", fn);
  if ((double)nx != want_x) FAIL(range_error, "%s: x has %zu floats, shape needs %.0f", fn, nx, want_x);
  if ((double)nw != want_w) FAIL(range_error, "%s: w has %zu floats, shape needs %.0f", fn, nw, want_w);
  if (b && (int64_t)nb != s.cout) FAIL(range_error, "%s: bias has %zu floats, shape needs %lld", fn, nb, (long long)s.cout);
  if ((double)ny != want_y) FAIL(range_error, "%s: y has %zu floats, shape needs %.0f", fn, ny, want_y);
  const int rc = depthwise ? sf_dwconv2d_hwc_f32(x, w, b, y, &s) : sf_conv2d_hwc_f32(x, w, b, y, &s);
  if (rc != 0) {
    napi_throw_error(env, "ERR_SYNFLUX_OOM", "conv2d: out of memory");
    return NULL;
  }
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

napi_value sf_js_conv2d(napi_env env, napi_callback_info info) { return conv_common(env, info, 0); }
napi_value sf_js_dwconv2d(napi_env env, napi_callback_info info) { return conv_common(env, info, 1); }
