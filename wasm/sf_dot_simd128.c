/*
 * WASM SIMD128 dot products (wasm/ only). Each computes the integer part of the matching
 * native/sf_dot_scalar.c kernel with i16x8/i32x4 lanes -- integer sums are exact in any order --
 * and then performs the float operations of the scalar kernel in the same order, so the results
 * are bit-identical to the scalar path (and to ggml's *_generic kernels).
 */
#include <wasm_simd128.h>
#include "sf_common.h"
#include "wasm_kernels.h"

static inline int32_t hsum_i32x4(v128_t v) {
  return wasm_i32x4_extract_lane(v, 0) + wasm_i32x4_extract_lane(v, 1) + wasm_i32x4_extract_lane(v, 2) + wasm_i32x4_extract_lane(v, 3);
}

/* Σ a[i]*b[i] over 16 signed bytes each, as i32x4 partials. */
static inline v128_t dot16_i8(v128_t a, v128_t b) {
  return wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(a), wasm_i16x8_extend_low_i8x16(b)),
                        wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(a), wasm_i16x8_extend_high_i8x16(b)));
}

static float dot_q4_0(int n, const void *vw, const void *va) {
  const sf_block_q4_0 *x = vw;
  const sf_block_q8_0 *y = va;
  const v128_t m4 = wasm_i8x16_splat(0x0f), e8 = wasm_i8x16_splat(8);
  float sumf = 0;
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const v128_t q = wasm_v128_load(x[ib].qs);
    const v128_t lo = wasm_i8x16_sub(wasm_v128_and(q, m4), e8), hi = wasm_i8x16_sub(wasm_u8x16_shr(q, 4), e8);
    const v128_t acc = wasm_i32x4_add(dot16_i8(lo, wasm_v128_load(y[ib].qs)), dot16_i8(hi, wasm_v128_load(y[ib].qs + 16)));
    sumf += (float)hsum_i32x4(acc) * sf_fp16_to_fp32(x[ib].d) * sf_fp16_to_fp32(y[ib].d);
  }
  return sumf;
}

static float dot_q4_1(int n, const void *vw, const void *va) {
  const sf_block_q4_1 *x = vw;
  const sf_block_q8_1 *y = va;
  const v128_t m4 = wasm_i8x16_splat(0x0f);
  float sumf = 0;
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const v128_t q = wasm_v128_load(x[ib].qs);
    const v128_t lo = wasm_v128_and(q, m4), hi = wasm_u8x16_shr(q, 4); /* 0..15: signed bytes too */
    const v128_t acc = wasm_i32x4_add(dot16_i8(lo, wasm_v128_load(y[ib].qs)), dot16_i8(hi, wasm_v128_load(y[ib].qs + 16)));
    sumf += (sf_fp16_to_fp32(x[ib].d) * sf_fp16_to_fp32(y[ib].d)) * (float)hsum_i32x4(acc) +
            sf_fp16_to_fp32(x[ib].m) * sf_fp16_to_fp32(y[ib].s);
  }
  return sumf;
}

/* 0x10 in byte j of the result iff bit j of the 16-bit value h is set. */
static inline v128_t bits_to_16(uint32_t h) {
  const v128_t v = wasm_i8x16_shuffle(wasm_i32x4_splat((int32_t)h), wasm_i32x4_splat(0), 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const v128_t bit = wasm_i8x16_const(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
  return wasm_v128_and(wasm_i8x16_ne(wasm_v128_and(v, bit), wasm_i8x16_splat(0)), wasm_i8x16_splat(0x10));
}

static float dot_q5_0(int n, const void *vw, const void *va) {
  const sf_block_q5_0 *x = vw;
  const sf_block_q8_0 *y = va;
  const v128_t m4 = wasm_i8x16_splat(0x0f), e16 = wasm_i8x16_splat(16);
  float sumf = 0;
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const uint32_t qh = sf_load_qh(x[ib].qh);
    const v128_t q = wasm_v128_load(x[ib].qs);
    const v128_t lo = wasm_i8x16_sub(wasm_v128_or(wasm_v128_and(q, m4), bits_to_16(qh & 0xffff)), e16);
    const v128_t hi = wasm_i8x16_sub(wasm_v128_or(wasm_u8x16_shr(q, 4), bits_to_16(qh >> 16)), e16);
    const v128_t acc = wasm_i32x4_add(dot16_i8(lo, wasm_v128_load(y[ib].qs)), dot16_i8(hi, wasm_v128_load(y[ib].qs + 16)));
    sumf += (sf_fp16_to_fp32(x[ib].d) * sf_fp16_to_fp32(y[ib].d)) * (float)hsum_i32x4(acc);
  }
  return sumf;
}

static float dot_q8_0(int n, const void *vw, const void *va) {
  const sf_block_q8_0 *x = vw, *y = va;
  float sumf = 0;
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const v128_t acc = wasm_i32x4_add(dot16_i8(wasm_v128_load(x[ib].qs), wasm_v128_load(y[ib].qs)),
                                      dot16_i8(wasm_v128_load(x[ib].qs + 16), wasm_v128_load(y[ib].qs + 16)));
    sumf += (float)hsum_i32x4(acc) * (sf_fp16_to_fp32(x[ib].d) * sf_fp16_to_fp32(y[ib].d));
  }
  return sumf;
}

/* Per-lane (element index mod 8) products of 16 bytes of a and q8, summed into i16x8 (|.| ≤ 2·4096). */
static inline v128_t mul16_lanes(const int8_t *a, const int8_t *q8) {
  const v128_t va = wasm_v128_load(a), vq = wasm_v128_load(q8);
  return wasm_i16x8_add(wasm_i16x8_mul(wasm_i16x8_extend_low_i8x16(va), wasm_i16x8_extend_low_i8x16(vq)),
                        wasm_i16x8_mul(wasm_i16x8_extend_high_i8x16(va), wasm_i16x8_extend_high_i8x16(vq)));
}

/* The K-quant tail shared with the scalar kernels: aux32[l] (lanes lo = 0..3, hi = 4..7) →
 * sums[l] += d * (float)aux32[l], lane by lane (f32x4 lanes are the same IEEE operations). */
static inline void add_sums(v128_t *s_lo, v128_t *s_hi, float d, v128_t a_lo, v128_t a_hi) {
  const v128_t vd = wasm_f32x4_splat(d);
  *s_lo = wasm_f32x4_add(*s_lo, wasm_f32x4_mul(vd, wasm_f32x4_convert_i32x4(a_lo)));
  *s_hi = wasm_f32x4_add(*s_hi, wasm_f32x4_mul(vd, wasm_f32x4_convert_i32x4(a_hi)));
}

static inline float finish_sums(float sumf, v128_t s_lo, v128_t s_hi) {
  sumf += wasm_f32x4_extract_lane(s_lo, 0);
  sumf += wasm_f32x4_extract_lane(s_lo, 1);
  sumf += wasm_f32x4_extract_lane(s_lo, 2);
  sumf += wasm_f32x4_extract_lane(s_lo, 3);
  sumf += wasm_f32x4_extract_lane(s_hi, 0);
  sumf += wasm_f32x4_extract_lane(s_hi, 1);
  sumf += wasm_f32x4_extract_lane(s_hi, 2);
  sumf += wasm_f32x4_extract_lane(s_hi, 3);
  return sumf;
}

/* aux32 of a Q4_K/Q5_K block: 8 sub-blocks of 32 with scales[j]. */
static inline void kquant32(const int8_t *aux8, const int8_t *q8, const uint8_t *scales, v128_t *lo, v128_t *hi) {
  v128_t a_lo = wasm_i32x4_splat(0), a_hi = a_lo;
  for (int j = 0; j < 8; j++) {
    const v128_t s16 = wasm_i16x8_add(mul16_lanes(aux8 + 32 * j, q8 + 32 * j), mul16_lanes(aux8 + 32 * j + 16, q8 + 32 * j + 16));
    const v128_t sc = wasm_i32x4_splat(scales[j]);
    a_lo = wasm_i32x4_add(a_lo, wasm_i32x4_mul(sc, wasm_i32x4_extend_low_i16x8(s16)));
    a_hi = wasm_i32x4_add(a_hi, wasm_i32x4_mul(sc, wasm_i32x4_extend_high_i16x8(s16)));
  }
  *lo = a_lo;
  *hi = a_hi;
}

static float dot_q4_K(int n, const void *vw, const void *va) {
  const sf_block_q4_K *x = vw;
  const sf_block_q8_K *y = va;
  const v128_t m4 = wasm_i8x16_splat(0x0f);
  v128_t s_lo = wasm_f32x4_splat(0), s_hi = s_lo;
  float sumf = 0;
  int8_t aux8[SF_QK_K] __attribute__((aligned(16)));
  uint8_t scales[8], mins[8];
  for (int i = 0; i < n / SF_QK_K; i++) {
    for (int j = 0; j < 4; j++)
      for (int h = 0; h < 2; h++) {
        const v128_t q = wasm_v128_load(x[i].qs + 32 * j + 16 * h);
        wasm_v128_store(aux8 + 64 * j + 16 * h, wasm_v128_and(q, m4));
        wasm_v128_store(aux8 + 64 * j + 32 + 16 * h, wasm_u8x16_shr(q, 4));
      }
    for (int j = 0; j < 8; j++) sf_get_scale_min_k4(j, x[i].scales, &scales[j], &mins[j]);
    int sumi = 0;
    for (int j = 0; j < SF_QK_K / 16; j++) sumi += y[i].bsums[j] * mins[j / 2];
    v128_t a_lo, a_hi;
    kquant32(aux8, y[i].qs, scales, &a_lo, &a_hi);
    add_sums(&s_lo, &s_hi, sf_fp16_to_fp32(x[i].d) * y[i].d, a_lo, a_hi);
    const float dmin = sf_fp16_to_fp32(x[i].dmin) * y[i].d;
    sumf -= dmin * (float)sumi;
  }
  return finish_sums(sumf, s_lo, s_hi);
}

static float dot_q5_K(int n, const void *vw, const void *va) {
  const sf_block_q5_K *x = vw;
  const sf_block_q8_K *y = va;
  const v128_t m4 = wasm_i8x16_splat(0x0f), b16 = wasm_i8x16_splat(16), zero = wasm_i8x16_splat(0);
  v128_t s_lo = wasm_f32x4_splat(0), s_hi = s_lo;
  float sumf = 0;
  int8_t aux8[SF_QK_K] __attribute__((aligned(16)));
  uint8_t scales[8], mins[8];
  for (int i = 0; i < n / SF_QK_K; i++) {
    for (int j = 0; j < 4; j++)
      for (int h = 0; h < 2; h++) {
        const v128_t q = wasm_v128_load(x[i].qs + 32 * j + 16 * h), hm = wasm_v128_load(x[i].qh + 16 * h);
        const v128_t m0 = wasm_i8x16_splat((int8_t)(1u << (2 * j))), m1 = wasm_i8x16_splat((int8_t)(1u << (2 * j + 1)));
        const v128_t h0 = wasm_v128_and(wasm_i8x16_ne(wasm_v128_and(hm, m0), zero), b16);
        const v128_t h1 = wasm_v128_and(wasm_i8x16_ne(wasm_v128_and(hm, m1), zero), b16);
        wasm_v128_store(aux8 + 64 * j + 16 * h, wasm_v128_or(wasm_v128_and(q, m4), h0));
        wasm_v128_store(aux8 + 64 * j + 32 + 16 * h, wasm_v128_or(wasm_u8x16_shr(q, 4), h1));
      }
    for (int j = 0; j < 8; j++) sf_get_scale_min_k4(j, x[i].scales, &scales[j], &mins[j]);
    int sumi = 0;
    for (int j = 0; j < SF_QK_K / 16; j++) sumi += y[i].bsums[j] * mins[j / 2];
    v128_t a_lo, a_hi;
    kquant32(aux8, y[i].qs, scales, &a_lo, &a_hi);
    add_sums(&s_lo, &s_hi, sf_fp16_to_fp32(x[i].d) * y[i].d, a_lo, a_hi);
    const float dmin = sf_fp16_to_fp32(x[i].dmin) * y[i].d;
    sumf -= dmin * (float)sumi;
  }
  return finish_sums(sumf, s_lo, s_hi);
}

static float dot_q6_K(int n, const void *vw, const void *va) {
  const sf_block_q6_K *x = vw;
  const sf_block_q8_K *y = va;
  const v128_t m4 = wasm_i8x16_splat(0x0f), m3 = wasm_i8x16_splat(3), e32 = wasm_i8x16_splat(32);
  v128_t s_lo = wasm_f32x4_splat(0), s_hi = s_lo;
  float sumf = 0;
  int8_t aux8[SF_QK_K] __attribute__((aligned(16)));
  for (int i = 0; i < n / SF_QK_K; i++) {
    const uint8_t *q4 = x[i].ql, *qh = x[i].qh;
    int8_t *a = aux8;
    for (int j = 0; j < SF_QK_K; j += 128, a += 128, q4 += 64, qh += 32)
      for (int l = 0; l < 32; l += 16) {
        const v128_t ql0 = wasm_v128_load(q4 + l), ql1 = wasm_v128_load(q4 + l + 32), h = wasm_v128_load(qh + l);
        wasm_v128_store(a + l, wasm_i8x16_sub(wasm_v128_or(wasm_v128_and(ql0, m4), wasm_i8x16_shl(wasm_v128_and(h, m3), 4)), e32));
        wasm_v128_store(a + l + 32, wasm_i8x16_sub(wasm_v128_or(wasm_v128_and(ql1, m4), wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(h, 2), m3), 4)), e32));
        wasm_v128_store(a + l + 64, wasm_i8x16_sub(wasm_v128_or(wasm_u8x16_shr(ql0, 4), wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(h, 4), m3), 4)), e32));
        wasm_v128_store(a + l + 96, wasm_i8x16_sub(wasm_v128_or(wasm_u8x16_shr(ql1, 4), wasm_i8x16_shl(wasm_u8x16_shr(h, 6), 4)), e32));
      }
    v128_t a_lo = wasm_i32x4_splat(0), a_hi = a_lo;
    for (int j = 0; j < SF_QK_K / 16; j++) {
      const v128_t s16 = mul16_lanes(aux8 + 16 * j, y[i].qs + 16 * j);
      const v128_t sc = wasm_i32x4_splat(x[i].scales[j]);
      a_lo = wasm_i32x4_add(a_lo, wasm_i32x4_mul(sc, wasm_i32x4_extend_low_i16x8(s16)));
      a_hi = wasm_i32x4_add(a_hi, wasm_i32x4_mul(sc, wasm_i32x4_extend_high_i16x8(s16)));
    }
    add_sums(&s_lo, &s_hi, sf_fp16_to_fp32(x[i].d) * y[i].d, a_lo, a_hi);
  }
  return finish_sums(sumf, s_lo, s_hi);
}

void sf_fill_simd128(sf_kernel_table *k) {
  static const struct { int t; sf_vec_dot_fn f; } list[] = {
    {SF_Q4_0, dot_q4_0}, {SF_Q4_1, dot_q4_1}, {SF_Q5_0, dot_q5_0}, {SF_Q8_0, dot_q8_0},
    {SF_Q4_K, dot_q4_K}, {SF_Q5_K, dot_q5_K}, {SF_Q6_K, dot_q6_K},
  };
  for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
    k->vec_dot[list[i].t] = list[i].f;
    k->impl[list[i].t] = "simd128";
  }
}

sf_dot4_fn sf_simd128_dot4(int type) {
  (void)type;
  return NULL;
}
