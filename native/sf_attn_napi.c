/*
 * Node-API bindings of RoPE and attention (registered by addon.c's init):
 *   rope(x: Float32Array, nTok, nHeads, headDim, pos0, params)      in place, see sf_rope_f32
 *     params: { mode: 0 (norm) | 2 (neox), nDims, freqBase, freqScale, extFactor, attnFactor,
 *               betaFast, betaSlow, nCtxOrig, freqFactors: Float32Array | null }
 *   attention(q, k, vT, out: Float32Array, shape)                     see sf_attention_f32
 *     shape: { nTok, pos0, nHead, nHeadKv, headDimK, headDimV, nCtx, scale, window }
 *   attnNKv(nCtx, used) -> llama.cpp's padded n_kv
 *   swiglu(g, u, out: Float32Array, n)                               out = silu(g) * u, see sf_swiglu_f32
 *   geglu(g, u, out: Float32Array, n)                                out = gelu(g) * u, see sf_geglu_f32
 * Arguments are validated; bad ones throw TypeError/RangeError with code ERR_SYNFLUX_ARG.
 */
#include <math.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include "sf_common.h"
#include "sf_attn.h"
#include "sf_napi_args.h"

#define BIG ((int64_t)1 << 40)

napi_value sf_js_rope(napi_env env, napi_callback_info info) {
  napi_value a[8];
  const char *fn = "rope";
  float *x;
  size_t xlen;
  int64_t n_tok, n_heads, head_dim, pos0, mode, n_dims, n_ctx_orig;
  double fb, fs, ef, af, bf, bs;
  if (!args(env, info, 6, a, fn) || !f32(env, a[0], fn, "x", &x, &xlen) ||
      !integer(env, a[1], fn, "nTok", 0, BIG, &n_tok) || !integer(env, a[2], fn, "nHeads", 0, BIG, &n_heads) ||
      !integer(env, a[3], fn, "headDim", 1, 1 << 20, &head_dim) || !integer(env, a[4], fn, "pos0", 0, 1 << 30, &pos0) ||
      !object(env, a[5], fn, "params") || !prop_int(env, a[5], fn, "mode", 0, 2, &mode) ||
      !prop_int(env, a[5], fn, "nDims", 2, head_dim, &n_dims) || !prop_num(env, a[5], fn, "freqBase", &fb) ||
      !prop_num(env, a[5], fn, "freqScale", &fs) || !prop_num(env, a[5], fn, "extFactor", &ef) ||
      !prop_num(env, a[5], fn, "attnFactor", &af) || !prop_num(env, a[5], fn, "betaFast", &bf) ||
      !prop_num(env, a[5], fn, "betaSlow", &bs) || !prop_int(env, a[5], fn, "nCtxOrig", 0, 1 << 30, &n_ctx_orig))
    return NULL;
  if (mode != SF_ROPE_NORM && mode != SF_ROPE_NEOX) FAIL(range_error, "%s: mode must be 0 (norm) or 2 (neox)", fn);
  if (n_dims % 2) FAIL(range_error, "%s: nDims must be even", fn);
  if (n_tok + pos0 > (1 << 30)) FAIL(range_error, "%s: positions too large", fn);
  if ((uint64_t)xlen < (uint64_t)n_tok * (uint64_t)n_heads * (uint64_t)head_dim)
    FAIL(range_error, "%s: x has %zu floats, need nTok*nHeads*headDim = %lld", fn, xlen, (long long)(n_tok * n_heads * head_dim));
  sf_rope_params p = {.mode = (int)mode, .n_dims = (int)n_dims, .n_ctx_orig = (int)n_ctx_orig, .freq_base = (float)fb,
                      .freq_scale = (float)fs, .ext_factor = (float)ef, .attn_factor = (float)af,
                      .beta_fast = (float)bf, .beta_slow = (float)bs, .freq_factors = NULL};
  napi_value ffv;
  bool has = false;
  napi_has_named_property(env, a[5], "freqFactors", &has);
  if (has) {
    napi_get_named_property(env, a[5], "freqFactors", &ffv);
    napi_valuetype t;
    napi_typeof(env, ffv, &t);
    if (t != napi_null && t != napi_undefined) {
      float *ff;
      size_t fl;
      if (!f32(env, ffv, fn, "freqFactors", &ff, &fl)) return NULL;
      if (fl < (size_t)(n_dims / 2)) FAIL(range_error, "%s: freqFactors has %zu floats, need nDims/2 = %lld", fn, fl, (long long)(n_dims / 2));
      p.freq_factors = ff;
    }
  }
  sf_rope_f32(x, n_tok, n_heads, head_dim, pos0, &p);
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

napi_value sf_js_attention(napi_env env, napi_callback_info info) {
  napi_value a[8];
  const char *fn = "attention";
  float *q, *k, *vt, *out;
  size_t ql, kl, vl, ol;
  int64_t n_tok, pos0, n_head, n_head_kv, dk, dv, n_ctx, window;
  double scale;
  if (!args(env, info, 5, a, fn) || !f32(env, a[0], fn, "q", &q, &ql) || !f32(env, a[1], fn, "k", &k, &kl) ||
      !f32(env, a[2], fn, "vT", &vt, &vl) || !f32(env, a[3], fn, "out", &out, &ol) || !object(env, a[4], fn, "shape") ||
      !prop_int(env, a[4], fn, "nTok", 0, BIG, &n_tok) || !prop_int(env, a[4], fn, "pos0", 0, BIG, &pos0) ||
      !prop_int(env, a[4], fn, "nHead", 1, 1 << 16, &n_head) || !prop_int(env, a[4], fn, "nHeadKv", 1, 1 << 16, &n_head_kv) ||
      !prop_int(env, a[4], fn, "headDimK", 1, 1 << 16, &dk) || !prop_int(env, a[4], fn, "headDimV", 1, 1 << 16, &dv) ||
      !prop_int(env, a[4], fn, "nCtx", 1, 1 << 30, &n_ctx) || !prop_num(env, a[4], fn, "scale", &scale) ||
      !prop_int(env, a[4], fn, "window", 0, BIG, &window))
    return NULL;
  if (n_head % n_head_kv) FAIL(range_error, "%s: nHead (%lld) must be a multiple of nHeadKv (%lld)", fn, (long long)n_head, (long long)n_head_kv);
  if (pos0 + n_tok > n_ctx) FAIL(range_error, "%s: pos0 + nTok = %lld exceeds nCtx = %lld", fn, (long long)(pos0 + n_tok), (long long)n_ctx);
  const uint64_t qneed = (uint64_t)n_tok * n_head * dk, oneed = (uint64_t)n_tok * n_head * dv;
  const uint64_t kneed = (uint64_t)n_ctx * n_head_kv * dk, vneed = (uint64_t)n_ctx * n_head_kv * dv;
  if (ql < qneed) FAIL(range_error, "%s: q has %zu floats, need nTok*nHead*headDimK = %llu", fn, ql, (unsigned long long)qneed);
  if (kl < kneed) FAIL(range_error, "%s: k has %zu floats, need nCtx*nHeadKv*headDimK = %llu", fn, kl, (unsigned long long)kneed);
  if (vl < vneed) FAIL(range_error, "%s: vT has %zu floats, need nHeadKv*headDimV*nCtx = %llu", fn, vl, (unsigned long long)vneed);
  if (ol < oneed) FAIL(range_error, "%s: out has %zu floats, need nTok*nHead*headDimV = %llu", fn, ol, (unsigned long long)oneed);
  if (n_tok == 0) {
    napi_value u;
    napi_get_undefined(env, &u);
    return u;
  }
  sf_attn_shape s = {.n_tok = n_tok, .pos0 = pos0, .n_head = n_head, .n_head_kv = n_head_kv, .dk = dk, .dv = dv,
                     .n_ctx = n_ctx, .window = window, .scale = (float)scale};
  if (sf_attention_f32(q, k, vt, out, &s) != 0) {
    napi_throw_error(env, "ERR_SYNFLUX_NOMEM", "attention: out of memory for the score buffers");
    return NULL;
  }
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

napi_value sf_js_attn_n_kv(napi_env env, napi_callback_info info) {
  napi_value a[8], r;
  int64_t n_ctx, used;
  if (!args(env, info, 2, a, "attnNKv") || !integer(env, a[0], "attnNKv", "nCtx", 1, BIG, &n_ctx) ||
      !integer(env, a[1], "attnNKv", "used", 0, BIG, &used))
    return NULL;
  napi_create_double(env, (double)sf_attn_n_kv(n_ctx, used), &r);
  return r;
}

/* swiglu(g, u, out, n): out[i] = silu(g[i]) * u[i] (ggml_vec_swiglu_f32). */
napi_value sf_js_swiglu(napi_env env, napi_callback_info info) {
  napi_value a[8], r;
  float *g, *u, *o;
  size_t gl, ul, ol;
  int64_t n;
  const char *fn = "swiglu";
  if (!args(env, info, 4, a, fn) || !f32(env, a[0], fn, "g", &g, &gl) || !f32(env, a[1], fn, "u", &u, &ul) ||
      !f32(env, a[2], fn, "out", &o, &ol) || !integer(env, a[3], fn, "n", 0, BIG, &n))
    return NULL;
  if (gl < (size_t)n || ul < (size_t)n || ol < (size_t)n) FAIL(range_error, "%s: g, u and out need n = %lld floats", fn, (long long)n);
  sf_swiglu_f32(n, o, g, u);
  napi_get_undefined(env, &r);
  return r;
}

/* geglu(g, u, out, n): out[i] = gelu(g[i]) * u[i] (ggml_vec_geglu_f32). */
napi_value sf_js_geglu(napi_env env, napi_callback_info info) {
  napi_value a[8], r;
  float *g, *u, *o;
  size_t gl, ul, ol;
  int64_t n;
  const char *fn = "geglu";
  if (!args(env, info, 4, a, fn) || !f32(env, a[0], fn, "g", &g, &gl) || !f32(env, a[1], fn, "u", &u, &ul) ||
      !f32(env, a[2], fn, "out", &o, &ol) || !integer(env, a[3], fn, "n", 0, BIG, &n))
    return NULL;
  if (gl < (size_t)n || ul < (size_t)n || ol < (size_t)n) FAIL(range_error, "%s: g, u and out need n = %lld floats", fn, (long long)n);
  sf_geglu_f32(n, o, g, u);
  napi_get_undefined(env, &r);
  return r;
}
