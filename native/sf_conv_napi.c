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
#include "sf_napi_args.h"

static napi_value conv_common(napi_env env, napi_callback_info info, int depthwise) {
  const char *fn = depthwise ? "dwconv2d" : "conv2d";
  napi_value argv[8];
  float *x, *w, *b, *y;
  size_t nx, nw, nb, ny;
  if (!args(env, info, 5, argv, fn) || !f32(env, argv[0], fn, "x", &x, &nx) || !f32(env, argv[1], fn, "w", &w, &nw) ||
      !f32_or_null(env, argv[2], fn, "bias", &b, &nb) || !f32(env, argv[3], fn, "y", &y, &ny) ||
      !object(env, argv[4], fn, "shape"))
    return NULL;
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
