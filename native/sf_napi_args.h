/*
 * Node-API argument checks shared by the addon's binding files (sf_attn_napi.c, sf_conv_napi.c, sf_vit.c).
 * Each helper returns 1 on success; on bad input it throws a TypeError/RangeError with code
 * ERR_SYNFLUX_ARG (message prefixed by the JS function name `fn`) and returns 0.
 * FAIL(kind, fmt, ...) throws napi_throw_<kind> and returns 0 from the calling function, so it
 * needs `env` in scope.
 */
#ifndef SF_NAPI_ARGS_H
#define SF_NAPI_ARGS_H
#include <math.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>

#define FAIL(kind, ...)                                    \
  do {                                                     \
    char msg_[300];                                        \
    snprintf(msg_, sizeof msg_, __VA_ARGS__);              \
    napi_throw_##kind(env, "ERR_SYNFLUX_ARG", msg_);       \
    return 0;                                              \
  } while (0)

static inline int args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *fn) {
  size_t argc = 8;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc < want) FAIL(type_error, "%s: expected %zu arguments, got %zu", fn, want, argc);
  return 1;
}

/* A typed array of element type `want` (named `tname` in the error), not detached. */
static inline int typed_of(napi_env env, napi_value v, const char *fn, const char *name, napi_typedarray_type want, const char *tname, void **data, size_t *len) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  void *d = NULL;
  if (!is || napi_get_typedarray_info(env, v, &t, len, &d, &ab, &off) != napi_ok || t != want)
    FAIL(type_error, "%s: %s must be a %s", fn, name, tname);
  if (*len > 0 && !d) FAIL(type_error, "%s: %s is detached", fn, name);
  *data = d;
  return 1;
}

static inline int f32(napi_env env, napi_value v, const char *fn, const char *name, float **data, size_t *len) {
  return typed_of(env, v, fn, name, napi_float32_array, "Float32Array", (void **)data, len);
}

static inline int number(napi_env env, napi_value v, const char *fn, const char *name, double *out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_number) FAIL(type_error, "%s: %s must be a number", fn, name);
  napi_get_value_double(env, v, out);
  if (!isfinite(*out)) FAIL(range_error, "%s: %s must be finite", fn, name);
  return 1;
}

static inline int integer(napi_env env, napi_value v, const char *fn, const char *name, int64_t min, int64_t max, int64_t *out) {
  double d;
  if (!number(env, v, fn, name, &d)) return 0;
  if (d < (double)min || d > (double)max || d != floor(d))
    FAIL(range_error, "%s: %s must be an integer in [%lld, %lld], got %g", fn, name, (long long)min, (long long)max, d);
  *out = (int64_t)d;
  return 1;
}

static inline int prop(napi_env env, napi_value obj, const char *fn, const char *name, napi_value *out) {
  bool has = false;
  napi_has_named_property(env, obj, name, &has);
  if (!has) FAIL(type_error, "%s: missing property %s", fn, name);
  return napi_get_named_property(env, obj, name, out) == napi_ok;
}

static inline int prop_num(napi_env env, napi_value obj, const char *fn, const char *name, double *out) {
  napi_value v;
  return prop(env, obj, fn, name, &v) && number(env, v, fn, name, out);
}

static inline int prop_int(napi_env env, napi_value obj, const char *fn, const char *name, int64_t min, int64_t max, int64_t *out) {
  napi_value v;
  return prop(env, obj, fn, name, &v) && integer(env, v, fn, name, min, max, out);
}

static inline int object(napi_env env, napi_value v, const char *fn, const char *name) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_object) FAIL(type_error, "%s: %s must be an object", fn, name);
  return 1;
}

static inline int u8(napi_env env, napi_value v, const char *fn, const char *name, uint8_t **data, size_t *len) {
  return typed_of(env, v, fn, name, napi_uint8_array, "Uint8Array", (void **)data, len);
}

/* f32 that also accepts null/undefined (then *data = NULL, *len = 0). */
static inline int f32_or_null(napi_env env, napi_value v, const char *fn, const char *name, float **data, size_t *len) {
  napi_valuetype vt;
  napi_typeof(env, v, &vt);
  if (vt == napi_null || vt == napi_undefined) {
    *data = NULL;
    *len = 0;
    return 1;
  }
  return f32(env, v, fn, name, data, len);
}

#endif
