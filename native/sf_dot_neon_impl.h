/*
 * NEON (AArch64 AdvSIMD) dot products, included by sf_dot_neon.c (ARMv8.0, plain NEON) and
 * sf_dot_neon_dotprod.c (compiled with +dotprod, where __ARM_FEATURE_DOTPROD selects SDOT for the
 * 32-element block sums). The includer defines SF_NEON_FILL, the name of the fill function.
 *
 * Every kernel returns the same bits as its scalar reference in sf_dot_scalar.c (which follows
 * ggml-cpu/quants.c *_generic and vec.cpp): integer partial sums are exact, so they are formed in
 * any order; every float operation (block scale products, per-lane K-quant accumulators, the F32/
 * F16/BF16 double sums) happens in the scalar kernel's order, with no fused multiply-add (the
 * build passes -ffp-contract=off and the code uses separate vmulq/vaddq). tests/native/neon-harness.c
 * checks this bit for bit under qemu-aarch64 (scripts/test-neon.sh).
 *
 * Integer techniques: nibble unpack by AND/shift, Q5 high bits by VTST against a bit mask,
 * 8-bit products by SMULL (int16, exact for any bytes) then SADALP into int32, or SDOT.
 */
#include <arm_neon.h>
#include "sf_common.h"

#ifndef SF_NEON_FILL
#error "define SF_NEON_FILL before including sf_dot_neon_impl.h"
#endif

/* binary16 bits -> float via FCVT: equal to sf_fp16_to_fp32 for every non-NaN input. */
static inline float h2f(uint16_t h) {
  __fp16 f;
  memcpy(&f, &h, sizeof f);
  return (float)f;
}

/* Σ over 16 byte pairs of s8 × s8 added into the int32 lanes of acc; exact for any bytes
 * (|product| ≤ 2^14 fits int16, pairs summed into int32). Lane split differs between the two
 * variants; callers only use the total. */
static inline int32x4_t dot16_s8(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)
  return vdotq_s32(acc, a, b);
#else
  acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
  return vpadalq_s16(acc, vmull_high_s8(a, b));
#endif
}

/* Σ_{j<32} a_j · b_j for a block split in two halves of 16 (exact int32). */
static inline int32_t block_sum(int8x16_t a0, int8x16_t a1, const int8_t *b) {
  return vaddvq_s32(dot16_s8(dot16_s8(vdupq_n_s32(0), a0, vld1q_s8(b)), a1, vld1q_s8(b + 16)));
}

/* Low / high nibbles of 16 bytes as int8 in [0, 15]. */
static inline int8x16_t nib_lo(uint8x16_t q) { return vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0F))); }
static inline int8x16_t nib_hi(uint8x16_t q) { return vreinterpretq_s8_u8(vshrq_n_u8(q, 4)); }

/* Bits shift..shift+15 of qh (Q5_0/Q5_1 fifth bits) -> 16 bytes, byte j = 0x10 if bit shift+j is set. */
static inline uint8x16_t q5_hbits(uint32_t qh, int shift) {
  static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint32_t b = qh >> shift;
  const uint8x16_t v = vcombine_u8(vdup_n_u8((uint8_t)(b & 0xFF)), vdup_n_u8((uint8_t)((b >> 8) & 0xFF)));
  return vandq_u8(vtstq_u8(v, vld1q_u8(bit)), vdupq_n_u8(0x10));
}

/* ------------------------------------------------------------------ F32 / F16 / BF16
 * Scalar order: products in float, then s += (double)product one element at a time. The
 * products are formed four at a time; the double sum stays sequential (it is not associative). */

static inline double add4_f64(double s, float32x4_t p) {
  const float64x2_t p01 = vcvt_f64_f32(vget_low_f32(p)), p23 = vcvt_high_f64_f32(p);
  s += vgetq_lane_f64(p01, 0);
  s += vgetq_lane_f64(p01, 1);
  s += vgetq_lane_f64(p23, 0);
  s += vgetq_lane_f64(p23, 1);
  return s;
}

/* F32 · F32 (sf_dot_scalar.c dot_f32). */
static float dot_f32(int n, const void *vw, const void *va) {
  const float *w = vw, *a = va;
  double s = 0;
  int i = 0;
  for (; i + 4 <= n; i += 4) s = add4_f64(s, vmulq_f32(vld1q_f32(w + i), vld1q_f32(a + i)));
  for (; i < n; i++) s += (double)(w[i] * a[i]);
  return (float)s;
}

/* F16 · F16 (dot_f16): FCVTL widening is exact, so the products equal the scalar ones. */
static float dot_f16(int n, const void *vw, const void *va) {
  const uint16_t *w = vw, *a = va;
  double s = 0;
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t x = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(w + i)));
    const float32x4_t y = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(a + i)));
    s = add4_f64(s, vmulq_f32(x, y));
  }
  for (; i < n; i++) s += (double)(h2f(w[i]) * h2f(a[i]));
  return (float)s;
}

/* BF16 · BF16 (dot_bf16): bf16 -> f32 is a 16-bit left shift. */
static float dot_bf16(int n, const void *vw, const void *va) {
  const uint16_t *w = vw, *a = va;
  double s = 0;
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t x = vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(w + i), 16));
    const float32x4_t y = vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(a + i), 16));
    s = add4_f64(s, vmulq_f32(x, y));
  }
  for (; i < n; i++) s += (double)(sf_bf16_to_fp32(w[i]) * sf_bf16_to_fp32(a[i]));
  return (float)s;
}

/* ------------------------------------------------------------------ 32-element blocks
 * One weight row against nr (1..4) activation rows a_stride bytes apart (the vec_dot_n contract:
 * out[r] equals the one-row result bit for bit). Each block's weights are unpacked once; each row
 * keeps its own accumulator and gets the scalar kernel's float expression, so a row's result does
 * not depend on nr. The one-row vec_dot is the nr = 1 case. */

/* Activation block ib of row r. */
#define ACT_BLOCK(T, va, stride, r, ib) ((const T *)((const uint8_t *)(va) + (size_t)(r) * (stride)) + (ib))

/* Q4_0 · Q8_0: sumf += sumi * d_w * d_a. */
static void dotn_q4_0(int n, const void *vw, const void *va, size_t as, int nr, float *out) {
  const sf_block_q4_0 *x = vw;
  const int8x16_t eight = vdupq_n_s8(8);
  float sumf[4] = {0, 0, 0, 0};
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const uint8x16_t q = vld1q_u8(x[ib].qs);
    const int8x16_t lo = vsubq_s8(nib_lo(q), eight), hi = vsubq_s8(nib_hi(q), eight);
    const float dw = h2f(x[ib].d);
    for (int r = 0; r < nr; r++) {
      const sf_block_q8_0 *y = ACT_BLOCK(sf_block_q8_0, va, as, r, ib);
      const int sumi = block_sum(lo, hi, y->qs);
      sumf[r] += (float)sumi * dw * h2f(y->d);
    }
  }
  for (int r = 0; r < nr; r++) out[r] = sumf[r];
}

/* Q4_1 · Q8_1: sumf += (d_w*d_a)*sumi + m_w*s_a. */
static void dotn_q4_1(int n, const void *vw, const void *va, size_t as, int nr, float *out) {
  const sf_block_q4_1 *x = vw;
  float sumf[4] = {0, 0, 0, 0};
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const uint8x16_t q = vld1q_u8(x[ib].qs);
    const int8x16_t lo = nib_lo(q), hi = nib_hi(q);
    const float dw = h2f(x[ib].d), mw = h2f(x[ib].m);
    for (int r = 0; r < nr; r++) {
      const sf_block_q8_1 *y = ACT_BLOCK(sf_block_q8_1, va, as, r, ib);
      const int sumi = block_sum(lo, hi, y->qs);
      sumf[r] += (dw * h2f(y->d)) * (float)sumi + mw * h2f(y->s);
    }
  }
  for (int r = 0; r < nr; r++) out[r] = sumf[r];
}

/* Q5_0 · Q8_0: sumf += (d_w*d_a)*sumi, q = (nibble | bit << 4) - 16. */
static void dotn_q5_0(int n, const void *vw, const void *va, size_t as, int nr, float *out) {
  const sf_block_q5_0 *x = vw;
  const int8x16_t sixteen = vdupq_n_s8(16);
  float sumf[4] = {0, 0, 0, 0};
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const uint32_t qh = sf_load_qh(x[ib].qh);
    const uint8x16_t q = vld1q_u8(x[ib].qs);
    const int8x16_t lo = vsubq_s8(vorrq_s8(nib_lo(q), vreinterpretq_s8_u8(q5_hbits(qh, 0))), sixteen);
    const int8x16_t hi = vsubq_s8(vorrq_s8(nib_hi(q), vreinterpretq_s8_u8(q5_hbits(qh, 16))), sixteen);
    const float dw = h2f(x[ib].d);
    for (int r = 0; r < nr; r++) {
      const sf_block_q8_0 *y = ACT_BLOCK(sf_block_q8_0, va, as, r, ib);
      const int sumi = block_sum(lo, hi, y->qs);
      sumf[r] += (dw * h2f(y->d)) * (float)sumi;
    }
  }
  for (int r = 0; r < nr; r++) out[r] = sumf[r];
}

/* Q5_1 · Q8_1: sumf += (d_w*d_a)*sumi + m_w*s_a, q = nibble | bit << 4. */
static void dotn_q5_1(int n, const void *vw, const void *va, size_t as, int nr, float *out) {
  const sf_block_q5_1 *x = vw;
  float sumf[4] = {0, 0, 0, 0};
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const uint32_t qh = sf_load_qh(x[ib].qh);
    const uint8x16_t q = vld1q_u8(x[ib].qs);
    const int8x16_t lo = vorrq_s8(nib_lo(q), vreinterpretq_s8_u8(q5_hbits(qh, 0)));
    const int8x16_t hi = vorrq_s8(nib_hi(q), vreinterpretq_s8_u8(q5_hbits(qh, 16)));
    const float dw = h2f(x[ib].d), mw = h2f(x[ib].m);
    for (int r = 0; r < nr; r++) {
      const sf_block_q8_1 *y = ACT_BLOCK(sf_block_q8_1, va, as, r, ib);
      const int sumi = block_sum(lo, hi, y->qs);
      sumf[r] += (dw * h2f(y->d)) * (float)sumi + mw * h2f(y->s);
    }
  }
  for (int r = 0; r < nr; r++) out[r] = sumf[r];
}

/* Q8_0 · Q8_0: sumf += sumi * (d_w*d_a). */
static void dotn_q8_0(int n, const void *vw, const void *va, size_t as, int nr, float *out) {
  const sf_block_q8_0 *x = vw;
  float sumf[4] = {0, 0, 0, 0};
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const int8x16_t w0 = vld1q_s8(x[ib].qs), w1 = vld1q_s8(x[ib].qs + 16);
    const float dw = h2f(x[ib].d);
    for (int r = 0; r < nr; r++) {
      const sf_block_q8_0 *y = ACT_BLOCK(sf_block_q8_0, va, as, r, ib);
      const int sumi = block_sum(w0, w1, y->qs);
      sumf[r] += (float)sumi * (dw * h2f(y->d));
    }
  }
  for (int r = 0; r < nr; r++) out[r] = sumf[r];
}

/* ------------------------------------------------------------------ K-quants
 * The scalar kernels keep 8 int32 accumulators aux32[l], l = element index mod 8, each summing
 * scale_j · q8 · q over its lane; per super-block sums[l] += d * (float)aux32[l]. Here aux32 is two
 * int32x4 (lanes 0..3, 4..7): SMULL of 8 bytes gives exactly lanes l = 0..7, the products of one
 * sub-block are added in int16 (|Σ| ≤ 4 · 128 · 31 < 2^15 for any bytes), then SMLAL by the scale. */

/* Σ_{j<16} bsums[j] * mins[j/2] (exact; the K-quant min correction). */
static inline int32_t k_min_sum(const int16_t *bsums, const uint8_t *mins) {
  const int32x4_t b0 = vpaddlq_s16(vld1q_s16(bsums)), b1 = vpaddlq_s16(vld1q_s16(bsums + 8));
  const uint16x8_t m = vmovl_u8(vld1_u8(mins));
  const int32x4_t m0 = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(m)));
  const int32x4_t m1 = vreinterpretq_s32_u32(vmovl_high_u16(m));
  return vaddvq_s32(vaddq_s32(vmulq_s32(b0, m0), vmulq_s32(b1, m1)));
}

/* Per-lane (mod 8) products of 16 weights a with 16 activations b, as int16x8: lane l holds
 * a[l]*b[l] + a[l+8]*b[l+8]. */
static inline int16x8_t lane_prod16(int8x16_t a, int8x16_t b) {
  return vaddq_s16(vmull_s8(vget_low_s8(a), vget_low_s8(b)), vmull_high_s8(a, b));
}

/* aux (lanes 0..3, 4..7) += scale * s. */
static inline void aux_add(int32x4_t *lo, int32x4_t *hi, int16x8_t s, int16_t scale) {
  *lo = vmlal_n_s16(*lo, vget_low_s16(s), scale);
  *hi = vmlal_high_n_s16(*hi, s, scale);
}

/* sums (lanes 0..3, 4..7) += d * (float)aux: the scalar `sums[l] += d * (float)aux32[l]`. */
static inline void sums_add(float32x4_t *s0, float32x4_t *s1, int32x4_t lo, int32x4_t hi, float d) {
  *s0 = vaddq_f32(*s0, vmulq_n_f32(vcvtq_f32_s32(lo), d));
  *s1 = vaddq_f32(*s1, vmulq_n_f32(vcvtq_f32_s32(hi), d));
}

/* sumf += sums[0] + ... + sums[7], one at a time in lane order (the scalar epilogue). */
static inline float sums_reduce(float sumf, float32x4_t s0, float32x4_t s1) {
  float sums[8];
  vst1q_f32(sums, s0);
  vst1q_f32(sums + 4, s1);
  for (int l = 0; l < 8; l++) sumf += sums[l];
  return sumf;
}

/* The K-quant dot of one super-block whose 256 weights are unpacked to int8 in w[16] (element e
 * in w[e / 16], lane e % 16) against one Q8_K row: aux (lanes l = e mod 8) += scale_s · Σ q8·q
 * over each sub-block s of `sub` elements (32: Q4_K/Q5_K, 16: Q6_K). */
static inline void k_aux(const int8x16_t *w, const int8_t *q8, const int16_t *scales, int sub, int32x4_t *lo, int32x4_t *hi) {
  *lo = vdupq_n_s32(0);
  *hi = vdupq_n_s32(0);
  if (sub == 32)
    for (int s = 0; s < 8; s++) {
      const int16x8_t p = vaddq_s16(lane_prod16(w[2 * s], vld1q_s8(q8 + 32 * s)), lane_prod16(w[2 * s + 1], vld1q_s8(q8 + 32 * s + 16)));
      aux_add(lo, hi, p, scales[s]);
    }
  else
    for (int s = 0; s < 16; s++) aux_add(lo, hi, lane_prod16(w[s], vld1q_s8(q8 + 16 * s)), scales[s]);
}

/* Q4_K / Q5_K weights of super-block x (qh = NULL for Q4_K): element 64j + l = low nibble of
 * qs[32j + l] (+16 if bit 2j of qh[l]), element 64j + 32 + l = its high nibble (+16 if bit 2j+1). */
static inline void k45_unpack(const uint8_t *qs, const uint8_t *qh, int8x16_t *w) {
  const uint8x16_t sixteen = vdupq_n_u8(16);
  const uint8x16_t h0 = qh ? vld1q_u8(qh) : vdupq_n_u8(0), h1 = qh ? vld1q_u8(qh + 16) : vdupq_n_u8(0);
  for (int j = 0; j < 4; j++) {
    const uint8x16_t qa = vld1q_u8(qs + 32 * j), qb = vld1q_u8(qs + 32 * j + 16);
    const uint8x16_t ml = vdupq_n_u8((uint8_t)(1u << (2 * j))), mh = vdupq_n_u8((uint8_t)(2u << (2 * j)));
    w[4 * j + 0] = vorrq_s8(nib_lo(qa), vreinterpretq_s8_u8(vandq_u8(vtstq_u8(h0, ml), sixteen)));
    w[4 * j + 1] = vorrq_s8(nib_lo(qb), vreinterpretq_s8_u8(vandq_u8(vtstq_u8(h1, ml), sixteen)));
    w[4 * j + 2] = vorrq_s8(nib_hi(qa), vreinterpretq_s8_u8(vandq_u8(vtstq_u8(h0, mh), sixteen)));
    w[4 * j + 3] = vorrq_s8(nib_hi(qb), vreinterpretq_s8_u8(vandq_u8(vtstq_u8(h1, mh), sixteen)));
  }
}

/* Q4_K / Q5_K · Q8_K (dot_q4_K, dot_q5_K): per super-block sums[l] += d·aux[l] and
 * sumf -= dmin·Σ bsums·mins; at the end sumf += sums[0..7] in order. */
static inline void dotn_q45_K(int n, const void *vw, size_t w_size, int has_qh, const void *va, size_t as, int nr, float *out) {
  float32x4_t s0[4], s1[4];
  float sumf[4] = {0, 0, 0, 0};
  for (int r = 0; r < 4; r++) s0[r] = s1[r] = vdupq_n_f32(0);
  int8x16_t w[16];
  uint8_t sc8[8], mins[8];
  int16_t scales[8];
  for (int i = 0; i < n / SF_QK_K; i++) {
    /* Q4_K and Q5_K share the head: d, dmin, scales[12]; Q5_K then has qh[32] before qs */
    const sf_block_q4_K *x = (const sf_block_q4_K *)((const uint8_t *)vw + (size_t)i * w_size);
    const uint8_t *qh = has_qh ? ((const sf_block_q5_K *)x)->qh : NULL;
    const uint8_t *qs = has_qh ? ((const sf_block_q5_K *)x)->qs : x->qs;
    for (int j = 0; j < 8; j++) {
      sf_get_scale_min_k4(j, x->scales, &sc8[j], &mins[j]);
      scales[j] = sc8[j];
    }
    k45_unpack(qs, qh, w);
    const float xd = h2f(x->d), xdmin = h2f(x->dmin);
    for (int r = 0; r < nr; r++) {
      const sf_block_q8_K *y = ACT_BLOCK(sf_block_q8_K, va, as, r, i);
      const int32_t sumi = k_min_sum(y->bsums, mins);
      int32x4_t lo, hi;
      k_aux(w, y->qs, scales, 32, &lo, &hi);
      const float d = xd * y->d;
      sums_add(&s0[r], &s1[r], lo, hi, d);
      const float dmin = xdmin * y->d;
      sumf[r] -= dmin * (float)sumi;
    }
  }
  for (int r = 0; r < nr; r++) out[r] = sums_reduce(sumf[r], s0[r], s1[r]);
}

static void dotn_q4_K(int n, const void *vw, const void *va, size_t as, int nr, float *out) {
  dotn_q45_K(n, vw, sizeof(sf_block_q4_K), 0, va, as, nr, out);
}

static void dotn_q5_K(int n, const void *vw, const void *va, size_t as, int nr, float *out) {
  dotn_q45_K(n, vw, sizeof(sf_block_q5_K), 1, va, as, nr, out);
}

/* Q6_K · Q8_K (dot_q6_K): per half of 128, four 32-element quarters
 * q = (ql nibble | 2 bits of qh << 4) - 32, element 128h + 32·quarter + l; 16 sub-blocks of 16
 * with int8 scales; sums[l] += d·aux[l], then 0 + sums[0..7] in order. */
static void dotn_q6_K(int n, const void *vw, const void *va, size_t as, int nr, float *out) {
  const sf_block_q6_K *x = vw;
  float32x4_t s0[4], s1[4];
  for (int r = 0; r < 4; r++) s0[r] = s1[r] = vdupq_n_f32(0);
  const uint8x16_t m4 = vdupq_n_u8(0x0F), m3 = vdupq_n_u8(3);
  const int8x16_t off = vdupq_n_s8(32);
  int8x16_t w[16];
  int16_t scales[16];
  for (int i = 0; i < n / SF_QK_K; i++) {
    for (int half = 0; half < 2; half++) {
      const uint8_t *ql = x[i].ql + 64 * half, *qh = x[i].qh + 32 * half;
      for (int k = 0; k < 2; k++) { /* elements 16k..16k+15 of each quarter */
        const uint8x16_t h = vld1q_u8(qh + 16 * k), l0 = vld1q_u8(ql + 16 * k), l1 = vld1q_u8(ql + 32 + 16 * k);
        int8x16_t *o = w + 8 * half + k; /* quarter qtr -> w[8·half + 2·qtr + k] */
        o[0] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vandq_u8(l0, m4), vshlq_n_u8(vandq_u8(h, m3), 4))), off);
        o[2] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vandq_u8(l1, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h, 2), m3), 4))), off);
        o[4] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h, 4), m3), 4))), off);
        o[6] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vshrq_n_u8(h, 6), 4))), off);
      }
    }
    for (int s = 0; s < 16; s++) scales[s] = x[i].scales[s];
    const float xd = h2f(x[i].d);
    for (int r = 0; r < nr; r++) {
      const sf_block_q8_K *y = ACT_BLOCK(sf_block_q8_K, va, as, r, i);
      int32x4_t lo, hi;
      k_aux(w, y->qs, scales, 16, &lo, &hi);
      sums_add(&s0[r], &s1[r], lo, hi, xd * y->d);
    }
  }
  for (int r = 0; r < nr; r++) out[r] = sums_reduce(0.0f, s0[r], s1[r]);
}

/* One-row kernels: the nr = 1 case of the above. */
#define ONE_ROW(T)                                                  \
  static float dot_##T(int n, const void *w, const void *a) {       \
    float o;                                                        \
    dotn_##T(n, w, a, 0, 1, &o);                                    \
    return o;                                                       \
  }
ONE_ROW(q4_0)
ONE_ROW(q4_1)
ONE_ROW(q5_0)
ONE_ROW(q5_1)
ONE_ROW(q8_0)
ONE_ROW(q4_K)
ONE_ROW(q5_K)
ONE_ROW(q6_K)
#undef ONE_ROW

/* Overrides every vec_dot entry of the scalar table with the kernels of this file, and vec_dot_n
 * for the block types with their multi-row versions (the Q4_K x8 entries, which follow ggml's
 * repacked AVX2 order, are cleared: Q4_K then takes vec_dot/vec_dot_n, the scalar order). */
void SF_NEON_FILL(sf_kernel_table *k) {
  static const struct { int t; sf_vec_dot_fn f; sf_vec_dot_n_fn fn; } list[] = {
    {SF_F32, dot_f32, NULL}, {SF_F16, dot_f16, NULL}, {SF_BF16, dot_bf16, NULL},
    {SF_Q4_0, dot_q4_0, dotn_q4_0}, {SF_Q4_1, dot_q4_1, dotn_q4_1}, {SF_Q5_0, dot_q5_0, dotn_q5_0},
    {SF_Q5_1, dot_q5_1, dotn_q5_1}, {SF_Q8_0, dot_q8_0, dotn_q8_0}, {SF_Q4_K, dot_q4_K, dotn_q4_K},
    {SF_Q5_K, dot_q5_K, dotn_q5_K}, {SF_Q6_K, dot_q6_K, dotn_q6_K},
  };
  for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
    k->vec_dot[list[i].t] = list[i].f;
    k->vec_dot_n[list[i].t] = list[i].fn;
    k->impl[list[i].t] = "neon";
  }
  k->q4_K_x8 = NULL;
  k->q4_K_x8_n = NULL;
  k->q4_K_x8_gemm = NULL;
  k->q4_K_x8_gemm_n = NULL;
}
