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

/* ------------------------------------------------------------------ four rows at once
 * Matmul rows in groups of four against one activation row that was "prepared" once per matmul:
 * its q8 values widened to int16 and its fp16 scales converted to float (both exact), so the
 * per-row work is loads, nibble unpacking and i32x4.dot_i16x8. The four integer block sums are
 * reduced together (one transpose-add) and the float part runs with the four rows in the lanes of
 * f32x4 (lane r is row r's scalar float chain, same operations in the same order), so out[r] is
 * bit-identical to the one-row kernel (and to the scalar path). */

/* Prepared q8_0 / q8_1 activation of n values: int16 q[n], float d[n/32], float s[n/32]. */
static size_t prep_size_q8(int n) { return (size_t)n * 2 + (size_t)(n / SF_QK) * 8; }

static void prep_q8_0(int n, const void *va, void *vp) {
  const sf_block_q8_0 *y = va;
  int16_t *q = vp;
  float *d = (float *)(q + n);
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const v128_t a = wasm_v128_load(y[ib].qs), b = wasm_v128_load(y[ib].qs + 16);
    wasm_v128_store(q + 32 * ib, wasm_i16x8_extend_low_i8x16(a));
    wasm_v128_store(q + 32 * ib + 8, wasm_i16x8_extend_high_i8x16(a));
    wasm_v128_store(q + 32 * ib + 16, wasm_i16x8_extend_low_i8x16(b));
    wasm_v128_store(q + 32 * ib + 24, wasm_i16x8_extend_high_i8x16(b));
    d[ib] = sf_fp16_to_fp32(y[ib].d);
  }
}

/* The same, for the 4-bit weight types: q holds each block's 32 values reordered as
 * y[0,2,..,14], y[1,3,..,15], y[16,18,..,30], y[17,19,..,31], the order in which nib_dot() gets
 * the nibbles out of 16-bit lanes (even byte low nibble, odd byte low nibble, even high, odd high). */
static inline void store_nib_order(int16_t *q, v128_t a, v128_t b) {
  const v128_t a0 = wasm_i16x8_extend_low_i8x16(a), a1 = wasm_i16x8_extend_high_i8x16(a);
  const v128_t b0 = wasm_i16x8_extend_low_i8x16(b), b1 = wasm_i16x8_extend_high_i8x16(b);
  wasm_v128_store(q, wasm_i16x8_shuffle(a0, a1, 0, 2, 4, 6, 8, 10, 12, 14));
  wasm_v128_store(q + 8, wasm_i16x8_shuffle(a0, a1, 1, 3, 5, 7, 9, 11, 13, 15));
  wasm_v128_store(q + 16, wasm_i16x8_shuffle(b0, b1, 0, 2, 4, 6, 8, 10, 12, 14));
  wasm_v128_store(q + 24, wasm_i16x8_shuffle(b0, b1, 1, 3, 5, 7, 9, 11, 13, 15));
}

static void prep_q8_0_nib(int n, const void *va, void *vp) {
  const sf_block_q8_0 *y = va;
  int16_t *q = vp;
  float *d = (float *)(q + n);
  for (int ib = 0; ib < n / SF_QK; ib++) {
    store_nib_order(q + 32 * ib, wasm_v128_load(y[ib].qs), wasm_v128_load(y[ib].qs + 16));
    d[ib] = sf_fp16_to_fp32(y[ib].d);
  }
}

static void prep_q8_1_nib(int n, const void *va, void *vp) {
  const sf_block_q8_1 *y = va;
  int16_t *q = vp;
  float *d = (float *)(q + n), *s = d + n / SF_QK;
  for (int ib = 0; ib < n / SF_QK; ib++) {
    store_nib_order(q + 32 * ib, wasm_v128_load(y[ib].qs), wasm_v128_load(y[ib].qs + 16));
    d[ib] = sf_fp16_to_fp32(y[ib].d);
    s[ib] = sf_fp16_to_fp32(y[ib].s);
  }
}

/* [Σa, Σb, Σc, Σd] of four i32x4. */
static inline v128_t hsum4_i32x4(v128_t a, v128_t b, v128_t c, v128_t d) {
  const v128_t ab = wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
  const v128_t cd = wasm_i32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
  return wasm_i32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

/* The vector constants of the four-row kernels, read from memory once per call (kc_load). Written
 * as literals, LLVM rematerializes each v128.const inside the loops and V8 builds every one with
 * several instructions per use; a writable, externally visible table cannot be folded back into
 * literals, so the loaded values stay in registers (or one stack slot) across the loop. */
typedef struct { v128_t m4, e8, h7fff, h7c00, inf, scale, h8000, ffff, b0f; } kc_t;
int32_t sf_simd128_consts[9][4] __attribute__((aligned(16))) = {
  {0x000f000f, 0x000f000f, 0x000f000f, 0x000f000f}, /* m4: i16 0x000f */
  {0x00080008, 0x00080008, 0x00080008, 0x00080008}, /* e8: i16 8 */
  {0x7fff, 0x7fff, 0x7fff, 0x7fff},
  {0x7c00, 0x7c00, 0x7c00, 0x7c00},
  {0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000},
  {0x77800000, 0x77800000, 0x77800000, 0x77800000}, /* 0x1p112f */
  {0x8000, 0x8000, 0x8000, 0x8000},
  {0xffff, 0xffff, 0xffff, 0xffff},
  {0x0f0f0f0f, 0x0f0f0f0f, 0x0f0f0f0f, 0x0f0f0f0f}, /* b0f: i8 0x0f */
};

static inline kc_t kc_load(void) {
  const v128_t *t = (const v128_t *)sf_simd128_consts;
  return (kc_t){t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8]};
}

/* binary16 → binary32 of the low 16 bits of each i32 lane, exactly as sf_fp16_to_fp32: the
 * exponent/mantissa bits moved into place and scaled by 2^112 (exact for normal and subnormal
 * halves), Inf/NaN given exponent 255, then the sign. */
static inline v128_t fp16x4_to_f32(v128_t h, const kc_t *K) {
  const v128_t o = wasm_i32x4_shl(wasm_v128_and(h, K->h7fff), 13);
  const v128_t f = wasm_f32x4_mul(o, K->scale);
  const v128_t special = wasm_i32x4_eq(wasm_v128_and(h, K->h7c00), K->h7c00);
  const v128_t v = wasm_v128_bitselect(wasm_v128_or(o, K->inf), f, special);
  return wasm_v128_or(v, wasm_i32x4_shl(wasm_v128_and(h, K->h8000), 16));
}

/* The 32-bit words at byte offset `off` of the same block in four rows. */
static inline v128_t gather4_u32(const uint8_t *w, size_t w_row, size_t off) {
  uint32_t a, b, c, d;
  __builtin_memcpy(&a, w + off, 4);
  __builtin_memcpy(&b, w + w_row + off, 4);
  __builtin_memcpy(&c, w + 2 * w_row + off, 4);
  __builtin_memcpy(&d, w + 3 * w_row + off, 4);
  return wasm_i32x4_make((int32_t)a, (int32_t)b, (int32_t)c, (int32_t)d);
}

static inline v128_t gather4_u16(const uint8_t *w, size_t w_row, size_t off) {
  uint16_t a, b, c, d;
  __builtin_memcpy(&a, w + off, 2);
  __builtin_memcpy(&b, w + w_row + off, 2);
  __builtin_memcpy(&c, w + 2 * w_row + off, 2);
  __builtin_memcpy(&d, w + 3 * w_row + off, 2);
  return wasm_i32x4_make(a, b, c, d);
}

/* Σ over the 32 values of a 4-bit block (16 bytes q, value j = low nibble of byte j for j < 16,
 * high nibble of byte j - 16 otherwise) minus `off`, times the nibble-ordered activations y0..y3
 * (prep_*_nib). The nibbles are taken from 16-bit lanes (native 16-bit shifts, no byte widening). */
static inline v128_t nib_dot(v128_t q, v128_t off, v128_t m, v128_t y0, v128_t y1, v128_t y2, v128_t y3) {
  const v128_t w0 = wasm_i16x8_sub(wasm_v128_and(q, m), off);                       /* even bytes, low nibble */
  const v128_t w1 = wasm_i16x8_sub(wasm_v128_and(wasm_u16x8_shr(q, 8), m), off);    /* odd bytes, low nibble */
  const v128_t w2 = wasm_i16x8_sub(wasm_v128_and(wasm_u16x8_shr(q, 4), m), off);    /* even bytes, high nibble */
  const v128_t w3 = wasm_i16x8_sub(wasm_u16x8_shr(q, 12), off);                     /* odd bytes, high nibble */
  return wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_dot_i16x8(w0, y0), wasm_i32x4_dot_i16x8(w1, y1)),
                        wasm_i32x4_add(wasm_i32x4_dot_i16x8(w2, y2), wasm_i32x4_dot_i16x8(w3, y3)));
}

static void dot4_q4_0(int n, const void *vw, size_t w_row, const void *vp, float *out) {
  const uint8_t *w = vw;
  const int16_t *q = vp;
  const float *ad = (const float *)(q + n);
  const kc_t K = kc_load();
  const v128_t e8 = K.e8;
  v128_t sum = wasm_f32x4_splat(0.0f);
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const v128_t y0 = wasm_v128_load(q + 32 * ib), y1 = wasm_v128_load(q + 32 * ib + 8);
    const v128_t y2 = wasm_v128_load(q + 32 * ib + 16), y3 = wasm_v128_load(q + 32 * ib + 24);
    const size_t o = (size_t)ib * sizeof(sf_block_q4_0);
    const v128_t a0 = nib_dot(wasm_v128_load(w + o + 2), e8, K.m4, y0, y1, y2, y3);
    const v128_t a1 = nib_dot(wasm_v128_load(w + w_row + o + 2), e8, K.m4, y0, y1, y2, y3);
    const v128_t a2 = nib_dot(wasm_v128_load(w + 2 * w_row + o + 2), e8, K.m4, y0, y1, y2, y3);
    const v128_t a3 = nib_dot(wasm_v128_load(w + 3 * w_row + o + 2), e8, K.m4, y0, y1, y2, y3);
    const v128_t isum = wasm_f32x4_convert_i32x4(hsum4_i32x4(a0, a1, a2, a3));
    const v128_t d = fp16x4_to_f32(gather4_u16(w, w_row, o), &K);
    /* scalar: sumf += (float)isum * d_w * d_a */
    sum = wasm_f32x4_add(sum, wasm_f32x4_mul(wasm_f32x4_mul(isum, d), wasm_f32x4_splat(ad[ib])));
  }
  wasm_v128_store(out, sum);
}

static void dot4_q4_1(int n, const void *vw, size_t w_row, const void *vp, float *out) {
  const uint8_t *w = vw;
  const int16_t *q = vp;
  const float *ad = (const float *)(q + n), *as = ad + n / SF_QK;
  const kc_t K = kc_load();
  const v128_t z = wasm_i16x8_splat(0);
  v128_t sum = wasm_f32x4_splat(0.0f);
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const v128_t y0 = wasm_v128_load(q + 32 * ib), y1 = wasm_v128_load(q + 32 * ib + 8);
    const v128_t y2 = wasm_v128_load(q + 32 * ib + 16), y3 = wasm_v128_load(q + 32 * ib + 24);
    const size_t o = (size_t)ib * sizeof(sf_block_q4_1);
    const v128_t a0 = nib_dot(wasm_v128_load(w + o + 4), z, K.m4, y0, y1, y2, y3);
    const v128_t a1 = nib_dot(wasm_v128_load(w + w_row + o + 4), z, K.m4, y0, y1, y2, y3);
    const v128_t a2 = nib_dot(wasm_v128_load(w + 2 * w_row + o + 4), z, K.m4, y0, y1, y2, y3);
    const v128_t a3 = nib_dot(wasm_v128_load(w + 3 * w_row + o + 4), z, K.m4, y0, y1, y2, y3);
    const v128_t isum = wasm_f32x4_convert_i32x4(hsum4_i32x4(a0, a1, a2, a3));
    const v128_t dm = gather4_u32(w, w_row, o);
    const v128_t d = fp16x4_to_f32(wasm_v128_and(dm, K.ffff), &K), m = fp16x4_to_f32(wasm_u32x4_shr(dm, 16), &K);
    /* scalar: sumf += (d_w * d_a) * (float)isum + m_w * s_a */
    const v128_t t = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(d, wasm_f32x4_splat(ad[ib])), isum), wasm_f32x4_mul(m, wasm_f32x4_splat(as[ib])));
    sum = wasm_f32x4_add(sum, t);
  }
  wasm_v128_store(out, sum);
}

/* dot4_q4_1 for two activation rows at once (prefill): the weight nibbles and scales are unpacked
 * once for both; each token's lanes run exactly dot4_q4_1's operations. */
static void dot4x2_q4_1(int n, const void *vw, size_t w_row, const void *vp0, const void *vp1, float *out0, float *out1) {
  const uint8_t *w = vw;
  const int16_t *qa = vp0, *qb = vp1;
  const float *ada = (const float *)(qa + n), *asa = ada + n / SF_QK;
  const float *adb = (const float *)(qb + n), *asb = adb + n / SF_QK;
  const kc_t K = kc_load();
  const v128_t m = K.m4;
  v128_t suma = wasm_f32x4_splat(0.0f), sumb = suma;
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const size_t o = (size_t)ib * sizeof(sf_block_q4_1);
    v128_t aa[4], ab[4];
    for (int r = 0; r < 4; r++) {
      const v128_t q = wasm_v128_load(w + r * w_row + o + 4);
      const v128_t w0 = wasm_v128_and(q, m), w1 = wasm_v128_and(wasm_u16x8_shr(q, 8), m);
      const v128_t w2 = wasm_v128_and(wasm_u16x8_shr(q, 4), m), w3 = wasm_u16x8_shr(q, 12);
      const int16_t *ya = qa + 32 * ib, *yb = qb + 32 * ib;
      aa[r] = wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_dot_i16x8(w0, wasm_v128_load(ya)), wasm_i32x4_dot_i16x8(w1, wasm_v128_load(ya + 8))),
                             wasm_i32x4_add(wasm_i32x4_dot_i16x8(w2, wasm_v128_load(ya + 16)), wasm_i32x4_dot_i16x8(w3, wasm_v128_load(ya + 24))));
      ab[r] = wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_dot_i16x8(w0, wasm_v128_load(yb)), wasm_i32x4_dot_i16x8(w1, wasm_v128_load(yb + 8))),
                             wasm_i32x4_add(wasm_i32x4_dot_i16x8(w2, wasm_v128_load(yb + 16)), wasm_i32x4_dot_i16x8(w3, wasm_v128_load(yb + 24))));
    }
    const v128_t isa = wasm_f32x4_convert_i32x4(hsum4_i32x4(aa[0], aa[1], aa[2], aa[3]));
    const v128_t isb = wasm_f32x4_convert_i32x4(hsum4_i32x4(ab[0], ab[1], ab[2], ab[3]));
    const v128_t dm = gather4_u32(w, w_row, o);
    const v128_t d = fp16x4_to_f32(wasm_v128_and(dm, K.ffff), &K), mm = fp16x4_to_f32(wasm_u32x4_shr(dm, 16), &K);
    suma = wasm_f32x4_add(suma, wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(d, wasm_f32x4_splat(ada[ib])), isa), wasm_f32x4_mul(mm, wasm_f32x4_splat(asa[ib]))));
    sumb = wasm_f32x4_add(sumb, wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(d, wasm_f32x4_splat(adb[ib])), isb), wasm_f32x4_mul(mm, wasm_f32x4_splat(asb[ib]))));
  }
  wasm_v128_store(out0, suma);
  wasm_v128_store(out1, sumb);
}

/* q5_sub[i] (i16 lanes l = 0..7): 0 where bit l of i is set, else 16 -- what a Q5_0 value
 * (nibble | fifth bit << 4) - 16 subtracts from its nibble, for eight elements whose fifth bits
 * form the byte i. */
#define Q5S(i, b) (((i) >> (b)) & 1 ? 0 : 16)
#define Q5E(i) {Q5S(i, 0), Q5S(i, 1), Q5S(i, 2), Q5S(i, 3), Q5S(i, 4), Q5S(i, 5), Q5S(i, 6), Q5S(i, 7)}
#define Q5E4(i) Q5E(i), Q5E((i) + 1), Q5E((i) + 2), Q5E((i) + 3)
#define Q5E16(i) Q5E4(i), Q5E4((i) + 4), Q5E4((i) + 8), Q5E4((i) + 12)
#define Q5E64(i) Q5E16(i), Q5E16((i) + 16), Q5E16((i) + 32), Q5E16((i) + 48)
static const int16_t q5_sub[256][8] __attribute__((aligned(16))) = {Q5E64(0), Q5E64(64), Q5E64(128), Q5E64(192)};

/* Σ of one Q5_0 block's values times the activations y0..y3 (prep_q8_0: elements 0-7, 8-15,
 * 16-23, 24-31 as i16): the nibbles (low: elements 0..15, high: 16..31) widened to i16, minus
 * q5_sub[byte k of qh] for elements 8k..8k+7 (bit e of qh is element e's fifth bit). */
static inline v128_t q5_dot(v128_t q, uint32_t qh, v128_t m4, v128_t y0, v128_t y1, v128_t y2, v128_t y3) {
  const v128_t lo = wasm_v128_and(q, m4), hi = wasm_u8x16_shr(q, 4);
  const v128_t w0 = wasm_i16x8_sub(wasm_u16x8_extend_low_u8x16(lo), wasm_v128_load(q5_sub[qh & 0xff]));
  const v128_t w1 = wasm_i16x8_sub(wasm_u16x8_extend_high_u8x16(lo), wasm_v128_load(q5_sub[(qh >> 8) & 0xff]));
  const v128_t w2 = wasm_i16x8_sub(wasm_u16x8_extend_low_u8x16(hi), wasm_v128_load(q5_sub[(qh >> 16) & 0xff]));
  const v128_t w3 = wasm_i16x8_sub(wasm_u16x8_extend_high_u8x16(hi), wasm_v128_load(q5_sub[qh >> 24]));
  return wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_dot_i16x8(w0, y0), wasm_i32x4_dot_i16x8(w1, y1)),
                        wasm_i32x4_add(wasm_i32x4_dot_i16x8(w2, y2), wasm_i32x4_dot_i16x8(w3, y3)));
}

static void dot4_q5_0(int n, const void *vw, size_t w_row, const void *vp, float *out) {
  const uint8_t *w = vw;
  const int16_t *q = vp;
  const float *ad = (const float *)(q + n);
  const kc_t K = kc_load();
  v128_t sum = wasm_f32x4_splat(0.0f);
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const v128_t y0 = wasm_v128_load(q + 32 * ib), y1 = wasm_v128_load(q + 32 * ib + 8);
    const v128_t y2 = wasm_v128_load(q + 32 * ib + 16), y3 = wasm_v128_load(q + 32 * ib + 24);
    const size_t o = (size_t)ib * sizeof(sf_block_q5_0);
    v128_t a[4];
    for (int r = 0; r < 4; r++) {
      const uint8_t *b = w + r * w_row + o;
      a[r] = q5_dot(wasm_v128_load(b + 6), sf_load_qh(b + 2), K.b0f, y0, y1, y2, y3);
    }
    const v128_t isum = wasm_f32x4_convert_i32x4(hsum4_i32x4(a[0], a[1], a[2], a[3]));
    const v128_t d = fp16x4_to_f32(gather4_u16(w, w_row, o), &K);
    /* scalar: sumf += (d_w * d_a) * (float)isum */
    sum = wasm_f32x4_add(sum, wasm_f32x4_mul(wasm_f32x4_mul(d, wasm_f32x4_splat(ad[ib])), isum));
  }
  wasm_v128_store(out, sum);
}

static inline v128_t q8_dot(const uint8_t *p, v128_t y0, v128_t y1, v128_t y2, v128_t y3) {
  const v128_t a = wasm_v128_load(p), b = wasm_v128_load(p + 16);
  return wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(a), y0), wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(a), y1)),
                        wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(b), y2), wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(b), y3)));
}

static void dot4_q8_0(int n, const void *vw, size_t w_row, const void *vp, float *out) {
  const uint8_t *w = vw;
  const int16_t *q = vp;
  const float *ad = (const float *)(q + n);
  const kc_t K = kc_load();
  v128_t sum = wasm_f32x4_splat(0.0f);
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const v128_t y0 = wasm_v128_load(q + 32 * ib), y1 = wasm_v128_load(q + 32 * ib + 8);
    const v128_t y2 = wasm_v128_load(q + 32 * ib + 16), y3 = wasm_v128_load(q + 32 * ib + 24);
    const size_t o = (size_t)ib * sizeof(sf_block_q8_0);
    const v128_t a0 = q8_dot(w + o + 2, y0, y1, y2, y3);
    const v128_t a1 = q8_dot(w + w_row + o + 2, y0, y1, y2, y3);
    const v128_t a2 = q8_dot(w + 2 * w_row + o + 2, y0, y1, y2, y3);
    const v128_t a3 = q8_dot(w + 3 * w_row + o + 2, y0, y1, y2, y3);
    const v128_t isum = wasm_f32x4_convert_i32x4(hsum4_i32x4(a0, a1, a2, a3));
    const v128_t d = fp16x4_to_f32(gather4_u16(w, w_row, o), &K);
    /* scalar: sumf += (float)isum * (d_w * d_a) */
    sum = wasm_f32x4_add(sum, wasm_f32x4_mul(isum, wasm_f32x4_mul(d, wasm_f32x4_splat(ad[ib]))));
  }
  wasm_v128_store(out, sum);
}

/* ------------------------------------------------------------------ one row, four blocks at once
 * The same prepared activations, one weight row read front to back (a single sequential stream,
 * which the hardware prefetcher follows better than four interleaved rows on large matrices):
 * four consecutive blocks' integer sums are reduced together and their float terms computed in
 * f32x4 lanes, then added to the row's sum one lane at a time, in block order. */

static inline float add4_in_order(float sumf, v128_t t) {
  sumf += wasm_f32x4_extract_lane(t, 0);
  sumf += wasm_f32x4_extract_lane(t, 1);
  sumf += wasm_f32x4_extract_lane(t, 2);
  sumf += wasm_f32x4_extract_lane(t, 3);
  return sumf;
}

static inline float dot1_q8_0_rows(int n, const uint8_t *w, const int16_t *q) {
  const float *ad = (const float *)(q + n);
  const int nb = n / SF_QK;
  const size_t B = sizeof(sf_block_q8_0);
  const kc_t K = kc_load();
  float sumf = 0;
  int ib = 0;
  for (; ib + 4 <= nb; ib += 4) {
    v128_t a[4];
    for (int k = 0; k < 4; k++) {
      const int16_t *y = q + 32 * (ib + k);
      a[k] = q8_dot(w + (ib + k) * B + 2, wasm_v128_load(y), wasm_v128_load(y + 8), wasm_v128_load(y + 16), wasm_v128_load(y + 24));
    }
    const v128_t isum = wasm_f32x4_convert_i32x4(hsum4_i32x4(a[0], a[1], a[2], a[3]));
    const v128_t d = fp16x4_to_f32(gather4_u16(w + ib * B, B, 0), &K);
    sumf = add4_in_order(sumf, wasm_f32x4_mul(isum, wasm_f32x4_mul(d, wasm_v128_load(ad + ib))));
  }
  for (; ib < nb; ib++) {
    const int16_t *y = q + 32 * ib;
    const int32_t isum = hsum_i32x4(q8_dot(w + ib * B + 2, wasm_v128_load(y), wasm_v128_load(y + 8), wasm_v128_load(y + 16), wasm_v128_load(y + 24)));
    uint16_t h;
    __builtin_memcpy(&h, w + ib * B, 2);
    sumf += (float)isum * (sf_fp16_to_fp32(h) * ad[ib]);
  }
  return sumf;
}

static inline float dot1_q4_1_rows(int n, const uint8_t *w, const int16_t *q) {
  const float *ad = (const float *)(q + n), *as = ad + n / SF_QK;
  const int nb = n / SF_QK;
  const size_t B = sizeof(sf_block_q4_1);
  const kc_t K = kc_load();
  const v128_t z = wasm_i16x8_splat(0);
  float sumf = 0;
  int ib = 0;
  for (; ib + 4 <= nb; ib += 4) {
    v128_t a[4];
    for (int k = 0; k < 4; k++) {
      const int16_t *y = q + 32 * (ib + k);
      a[k] = nib_dot(wasm_v128_load(w + (ib + k) * B + 4), z, K.m4, wasm_v128_load(y), wasm_v128_load(y + 8), wasm_v128_load(y + 16), wasm_v128_load(y + 24));
    }
    const v128_t isum = wasm_f32x4_convert_i32x4(hsum4_i32x4(a[0], a[1], a[2], a[3]));
    const v128_t dm = gather4_u32(w + ib * B, B, 0);
    const v128_t d = fp16x4_to_f32(wasm_v128_and(dm, K.ffff), &K), m = fp16x4_to_f32(wasm_u32x4_shr(dm, 16), &K);
    const v128_t t = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(d, wasm_v128_load(ad + ib)), isum), wasm_f32x4_mul(m, wasm_v128_load(as + ib)));
    sumf = add4_in_order(sumf, t);
  }
  for (; ib < nb; ib++) {
    const int16_t *y = q + 32 * ib;
    const int32_t isum = hsum_i32x4(nib_dot(wasm_v128_load(w + ib * B + 4), z, K.m4, wasm_v128_load(y), wasm_v128_load(y + 8), wasm_v128_load(y + 16), wasm_v128_load(y + 24)));
    uint16_t h[2];
    __builtin_memcpy(h, w + ib * B, 4);
    sumf += (sf_fp16_to_fp32(h[0]) * ad[ib]) * (float)isum + sf_fp16_to_fp32(h[1]) * as[ib];
  }
  return sumf;
}

static inline float dot1_q4_0_rows(int n, const uint8_t *w, const int16_t *q) {
  const float *ad = (const float *)(q + n);
  const int nb = n / SF_QK;
  const size_t B = sizeof(sf_block_q4_0);
  const kc_t K = kc_load();
  const v128_t e8 = K.e8;
  float sumf = 0;
  int ib = 0;
  for (; ib + 4 <= nb; ib += 4) {
    v128_t a[4];
    for (int k = 0; k < 4; k++) {
      const int16_t *y = q + 32 * (ib + k);
      a[k] = nib_dot(wasm_v128_load(w + (ib + k) * B + 2), e8, K.m4, wasm_v128_load(y), wasm_v128_load(y + 8), wasm_v128_load(y + 16), wasm_v128_load(y + 24));
    }
    const v128_t isum = wasm_f32x4_convert_i32x4(hsum4_i32x4(a[0], a[1], a[2], a[3]));
    const v128_t d = fp16x4_to_f32(gather4_u16(w + ib * B, B, 0), &K);
    sumf = add4_in_order(sumf, wasm_f32x4_mul(wasm_f32x4_mul(isum, d), wasm_v128_load(ad + ib)));
  }
  for (; ib < nb; ib++) {
    const int16_t *y = q + 32 * ib;
    const int32_t isum = hsum_i32x4(nib_dot(wasm_v128_load(w + ib * B + 2), e8, K.m4, wasm_v128_load(y), wasm_v128_load(y + 8), wasm_v128_load(y + 16), wasm_v128_load(y + 24)));
    uint16_t h;
    __builtin_memcpy(&h, w + ib * B, 2);
    sumf += (float)isum * sf_fp16_to_fp32(h) * ad[ib];
  }
  return sumf;
}

static inline float dot1_q5_0_rows(int n, const uint8_t *w, const int16_t *q) {
  const float *ad = (const float *)(q + n);
  const int nb = n / SF_QK;
  const size_t B = sizeof(sf_block_q5_0);
  const kc_t K = kc_load();
  float sumf = 0;
  int ib = 0;
  for (; ib + 4 <= nb; ib += 4) {
    v128_t a[4];
    for (int k = 0; k < 4; k++) {
      const int16_t *y = q + 32 * (ib + k);
      const uint8_t *b = w + (ib + k) * B;
      a[k] = q5_dot(wasm_v128_load(b + 6), sf_load_qh(b + 2), K.b0f, wasm_v128_load(y), wasm_v128_load(y + 8), wasm_v128_load(y + 16), wasm_v128_load(y + 24));
    }
    const v128_t isum = wasm_f32x4_convert_i32x4(hsum4_i32x4(a[0], a[1], a[2], a[3]));
    const v128_t d = fp16x4_to_f32(gather4_u16(w + ib * B, B, 0), &K);
    /* scalar: sumf += (d_w * d_a) * (float)isum, block by block */
    sumf = add4_in_order(sumf, wasm_f32x4_mul(wasm_f32x4_mul(d, wasm_v128_load(ad + ib)), isum));
  }
  for (; ib < nb; ib++) {
    const int16_t *y = q + 32 * ib;
    const uint8_t *b = w + ib * B;
    const int32_t isum = hsum_i32x4(q5_dot(wasm_v128_load(b + 6), sf_load_qh(b + 2), K.b0f, wasm_v128_load(y), wasm_v128_load(y + 8), wasm_v128_load(y + 16), wasm_v128_load(y + 24)));
    uint16_t h;
    __builtin_memcpy(&h, b, 2);
    sumf += (sf_fp16_to_fp32(h) * ad[ib]) * (float)isum;
  }
  return sumf;
}

#define ROWS_SEQ(name, one)                                                               \
  static void name(int n, const void *vw, size_t w_row, const void *vp, float *out) {    \
    const uint8_t *w = vw;                                                                \
    for (int r = 0; r < 4; r++) out[r] = one(n, w + r * w_row, vp);                        \
  }
ROWS_SEQ(seq4_q4_0, dot1_q4_0_rows)
ROWS_SEQ(seq4_q4_1, dot1_q4_1_rows)
ROWS_SEQ(seq4_q8_0, dot1_q8_0_rows)
ROWS_SEQ(seq4_q5_0, dot1_q5_0_rows)

const sf_simd128_rows *sf_simd128_rows_for(int type) {
  static const sf_simd128_rows q4_0 = {dot4_q4_0, seq4_q4_0, NULL, prep_size_q8, prep_q8_0_nib}, q4_1 = {dot4_q4_1, seq4_q4_1, dot4x2_q4_1, prep_size_q8, prep_q8_1_nib},
                               q8_0 = {dot4_q8_0, seq4_q8_0, NULL, prep_size_q8, prep_q8_0},
                               q5_0 = {dot4_q5_0, seq4_q5_0, NULL, prep_size_q8, prep_q8_0};
  switch (type) {
    case SF_Q4_0: return &q4_0;
    case SF_Q4_1: return &q4_1;
    case SF_Q8_0: return &q8_0;
    case SF_Q5_0: return &q5_0;
    default: return NULL;
  }
}
