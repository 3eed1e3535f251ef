/*
 * The attention entry points that native/sf_attn.c calls on its "AVX-512" path
 * (sf_attn_dot64/dot16/dot64x4/dot16x4/exp16/swiglu16_avx512, see native/sf_attn_avx512.c), in
 * WASM SIMD128. They compute exactly what sf_attn.c's scalar lane emulation computes (16-lane FMA
 * accumulators, the _mm512_reduce_add_ps order, ggml_v_expf), four lanes at a time:
 *
 * - A fused multiply-add is not in SIMD128 (relaxed SIMD's is not guaranteed fused), so fma4()
 *   evaluates a*b + c in f64x2 (the product of two floats is exact in double) and rounds to float
 *   once -- musl's fmaf, which wasm/libm.c's scalar fmaf also is. The one case where that double
 *   rounding could differ from a single rounding (low 29 bits of the double sum exactly at the
 *   float midpoint) sends the four lanes to the scalar fmaf.
 * - 2^n scaling (_mm512_scalef_ps, ldexpf in the scalar code) multiplies by a power of two built
 *   from bits when every lane's n is in the normal range, else goes lane by lane through ldexpf.
 *
 * glue.c reports the AVX-512 path (sf_get_path, sf_attn_avx512_compiled) so sf_attn.c calls these.
 */
#include <math.h>
#include <wasm_simd128.h>
#include "sf_common.h"
#include "sf_attn.h"

static inline v128_t fma4(v128_t a, v128_t b, v128_t c) {
  const v128_t lo = wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(a), wasm_f64x2_promote_low_f32x4(b)), wasm_f64x2_promote_low_f32x4(c));
  const v128_t a2 = wasm_i32x4_shuffle(a, a, 2, 3, 2, 3), b2 = wasm_i32x4_shuffle(b, b, 2, 3, 2, 3), c2 = wasm_i32x4_shuffle(c, c, 2, 3, 2, 3);
  const v128_t hi = wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(a2), wasm_f64x2_promote_low_f32x4(b2)), wasm_f64x2_promote_low_f32x4(c2));
  const v128_t mask = wasm_i64x2_splat(0x1fffffff), mid = wasm_i64x2_splat(0x10000000);
  if (wasm_v128_any_true(wasm_v128_or(wasm_i64x2_eq(wasm_v128_and(lo, mask), mid), wasm_i64x2_eq(wasm_v128_and(hi, mask), mid)))) {
    float x[4], y[4], z[4];
    wasm_v128_store(x, a);
    wasm_v128_store(y, b);
    wasm_v128_store(z, c);
    return wasm_f32x4_make(fmaf(x[0], y[0], z[0]), fmaf(x[1], y[1], z[1]), fmaf(x[2], y[2], z[2]), fmaf(x[3], y[3], z[3]));
  }
  return wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(lo), wasm_f32x4_demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/* sf_attn.c reduce16 / _mm512_reduce_add_ps of lanes v0 (0..3), v1 (4..7), v2 (8..11), v3 (12..15). */
static inline float reduce16(v128_t v0, v128_t v1, v128_t v2, v128_t v3) {
  const v128_t hl = wasm_f32x4_add(v2, v0), hh = wasm_f32x4_add(v3, v1); /* h[i] = a[i+8] + a[i] */
  const v128_t q = wasm_f32x4_add(hh, hl);                                  /* q[i] = h[i+4] + h[i] */
  return (wasm_f32x4_extract_lane(q, 0) + wasm_f32x4_extract_lane(q, 2)) + (wasm_f32x4_extract_lane(q, 1) + wasm_f32x4_extract_lane(q, 3));
}

int sf_attn_avx512_compiled(void) { return 1; }

/* The first step of an accumulator that starts at +0: fmaf(a, b, +0) is the product rounded once,
 * which a float multiply gives, and + 0 turns an exact zero product's -0 into fmaf's +0. The one
 * difference left: a nonzero product that rounds to zero keeps its sign in fmaf; lanes where a
 * and b are nonzero but the product is zero are flagged in *uf, and the caller redoes the block
 * with fma4. (Most accumulators see one step only: a 64-wide head is one block.) */
static inline v128_t mul0(v128_t a, v128_t b, v128_t *uf) {
  const v128_t z = wasm_f32x4_splat(0.0f), p = wasm_f32x4_mul(a, b);
  *uf = wasm_v128_or(*uf, wasm_v128_andnot(wasm_v128_andnot(wasm_f32x4_eq(p, z), wasm_f32x4_eq(a, z)), wasm_f32x4_eq(b, z)));
  return wasm_f32x4_add(p, z);
}

float sf_attn_dot64_avx512(const float *x, const float *y, int64_t nb) {
  v128_t a[16];
  int64_t b = 0;
  if (nb > 0) {
    v128_t uf = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < 16; i++) a[i] = mul0(wasm_v128_load(x + 4 * i), wasm_v128_load(y + 4 * i), &uf);
    if (wasm_v128_any_true(uf))
      for (int i = 0; i < 16; i++) a[i] = fma4(wasm_v128_load(x + 4 * i), wasm_v128_load(y + 4 * i), wasm_f32x4_splat(0.0f));
    b = 1;
    x += 64;
    y += 64;
  } else {
    for (int i = 0; i < 16; i++) a[i] = wasm_f32x4_splat(0.0f);
  }
  for (; b < nb; b++, x += 64, y += 64)
    for (int i = 0; i < 16; i++) a[i] = fma4(wasm_v128_load(x + 4 * i), wasm_v128_load(y + 4 * i), a[i]);
  /* acc[j] (lanes 16j..16j+15 = a[4j..4j+3]): acc0 += acc2, acc1 += acc3, acc0 += acc1 */
  v128_t s[4];
  for (int i = 0; i < 4; i++) s[i] = wasm_f32x4_add(wasm_f32x4_add(a[i], a[8 + i]), wasm_f32x4_add(a[4 + i], a[12 + i]));
  return reduce16(s[0], s[1], s[2], s[3]);
}

void sf_attn_dot64x4_avx512(const float *x0, int64_t stride, const float *y, int64_t nb, float *out) {
  for (int k = 0; k < 4; k++) out[k] = sf_attn_dot64_avx512(x0 + k * stride, y, nb);
}

float sf_attn_dot16_avx512(const float *x, const float *y, int64_t nb) {
  v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
  int64_t b = 0;
  if (nb > 0) { /* first block: as in sf_attn_dot64_avx512 */
    v128_t uf = a0;
    const v128_t p0 = mul0(wasm_v128_load(x), wasm_v128_load(y), &uf), p1 = mul0(wasm_v128_load(x + 4), wasm_v128_load(y + 4), &uf);
    const v128_t p2 = mul0(wasm_v128_load(x + 8), wasm_v128_load(y + 8), &uf), p3 = mul0(wasm_v128_load(x + 12), wasm_v128_load(y + 12), &uf);
    if (!wasm_v128_any_true(uf)) {
      a0 = p0;
      a1 = p1;
      a2 = p2;
      a3 = p3;
      b = 1;
      x += 16;
      y += 16;
    }
  }
  for (; b < nb; b++, x += 16, y += 16) {
    a0 = fma4(wasm_v128_load(x), wasm_v128_load(y), a0);
    a1 = fma4(wasm_v128_load(x + 4), wasm_v128_load(y + 4), a1);
    a2 = fma4(wasm_v128_load(x + 8), wasm_v128_load(y + 8), a2);
    a3 = fma4(wasm_v128_load(x + 12), wasm_v128_load(y + 12), a3);
  }
  return reduce16(a0, a1, a2, a3);
}

void sf_attn_dot16x4_avx512(const float *x0, int64_t stride, const float *y, int64_t nb, float *out) {
  for (int k = 0; k < 4; k++) out[k] = sf_attn_dot16_avx512(x0 + k * stride, y, nb);
}

/* ggml_v_expf of four lanes, as sf_attn.c v_expf_lane. */
static inline v128_t exp4(v128_t x) {
  const v128_t shifter = wasm_f32x4_splat(0x1.8p23f);
  const v128_t n = wasm_f32x4_sub(fma4(x, wasm_f32x4_splat(0x1.715476p+0f), shifter), shifter);
  const v128_t nn = wasm_f32x4_neg(n);
  const v128_t b = fma4(nn, wasm_f32x4_splat(0x1.7f7d1cp-20f), fma4(nn, wasm_f32x4_splat(0x1.62e4p-1f), x));
  const v128_t u = wasm_f32x4_mul(b, b);
  const v128_t p54 = fma4(wasm_f32x4_splat(0x1.0e4020p-7f), b, wasm_f32x4_splat(0x1.573e2ep-5f));
  const v128_t p32 = fma4(wasm_f32x4_splat(0x1.555e66p-3f), b, wasm_f32x4_splat(0x1.fffdb6p-2f));
  const v128_t p10 = fma4(wasm_f32x4_splat(0x1.ffffecp-1f), b, wasm_f32x4_splat(1.0f));
  const v128_t j = fma4(fma4(p54, u, p32), u, p10);
  const v128_t big = wasm_f32x4_gt(wasm_f32x4_abs(n), wasm_f32x4_splat(192.0f));
  const v128_t nan = wasm_f32x4_ne(n, n);
  const v128_t odd = wasm_v128_andnot(wasm_v128_or(wasm_f32x4_lt(n, wasm_f32x4_splat(-126.0f)), wasm_f32x4_gt(n, wasm_f32x4_splat(127.0f))), big);
  v128_t r;
  if (wasm_v128_any_true(odd)) {
    float jn[4], nv[4];
    wasm_v128_store(jn, j);
    wasm_v128_store(nv, n);
    for (int l = 0; l < 4; l++) jn[l] = fabsf(nv[l]) > 192 || isnan(nv[l]) ? 0.0f : ldexpf(jn[l], (int)nv[l]);
    r = wasm_v128_load(jn);
  } else {
    /* 2^n for n in [-126, 127] (NaN and |n| > 192 lanes are replaced below) */
    const v128_t ni = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_pmax(wasm_f32x4_pmin(n, wasm_f32x4_splat(127.0f)), wasm_f32x4_splat(-126.0f)));
    r = wasm_f32x4_mul(j, wasm_i32x4_shl(wasm_i32x4_add(ni, wasm_i32x4_splat(127)), 23));
  }
  const v128_t sat = wasm_v128_bitselect(wasm_f32x4_splat(0.0f), wasm_f32x4_splat(INFINITY), wasm_f32x4_le(n, wasm_f32x4_splat(0.0f)));
  r = wasm_v128_bitselect(sat, r, big);
  return wasm_v128_bitselect(n, r, nan);
}

double sf_attn_exp16_avx512(float *y, const float *x, float max, int64_t nb, double sum) {
  const v128_t m = wasm_f32x4_splat(max);
  for (int64_t b = 0; b < nb; b++, x += 16, y += 16) {
    v128_t v[4];
    for (int i = 0; i < 4; i++) {
      v[i] = exp4(wasm_f32x4_sub(wasm_v128_load(x + 4 * i), m));
      wasm_v128_store(y + 4 * i, v[i]);
    }
    sum += (double)reduce16(v[0], v[1], v[2], v[3]);
  }
  return sum;
}

void sf_attn_swiglu16_avx512(float *y, const float *x, const float *g, int64_t nb) {
  const v128_t one = wasm_f32x4_splat(1.0f), zero = wasm_f32x4_splat(0.0f);
  for (int64_t b = 0; b < nb * 4; b++, x += 4, g += 4, y += 4) {
    const v128_t v = wasm_v128_load(x);
    const v128_t s = wasm_f32x4_div(v, wasm_f32x4_add(one, exp4(wasm_f32x4_sub(zero, v))));
    wasm_v128_store(y, wasm_f32x4_mul(s, wasm_v128_load(g)));
  }
}
