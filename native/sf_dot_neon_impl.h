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
 * Each block's integer sum is exact; the float update uses the scalar kernel's expression. */

/* Q4_0 · Q8_0: sumf += sumi * d_w * d_a. */
static float dot_q4_0(int n, const void *vw, const void *va) {
  const sf_block_q4_0 *x = vw;
  const sf_block_q8_0 *y = va;
  const int8x16_t eight = vdupq_n_s8(8);
  float sumf = 0;
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const uint8x16_t q = vld1q_u8(x[ib].qs);
    const int sumi = block_sum(vsubq_s8(nib_lo(q), eight), vsubq_s8(nib_hi(q), eight), y[ib].qs);
    sumf += (float)sumi * h2f(x[ib].d) * h2f(y[ib].d);
  }
  return sumf;
}

/* Q4_1 · Q8_1: sumf += (d_w*d_a)*sumi + m_w*s_a. */
static float dot_q4_1(int n, const void *vw, const void *va) {
  const sf_block_q4_1 *x = vw;
  const sf_block_q8_1 *y = va;
  float sumf = 0;
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const uint8x16_t q = vld1q_u8(x[ib].qs);
    const int sumi = block_sum(nib_lo(q), nib_hi(q), y[ib].qs);
    sumf += (h2f(x[ib].d) * h2f(y[ib].d)) * (float)sumi + h2f(x[ib].m) * h2f(y[ib].s);
  }
  return sumf;
}

/* Q5_0 · Q8_0: sumf += (d_w*d_a)*sumi, q = (nibble | bit << 4) - 16. */
static float dot_q5_0(int n, const void *vw, const void *va) {
  const sf_block_q5_0 *x = vw;
  const sf_block_q8_0 *y = va;
  const int8x16_t sixteen = vdupq_n_s8(16);
  float sumf = 0;
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const uint32_t qh = sf_load_qh(x[ib].qh);
    const uint8x16_t q = vld1q_u8(x[ib].qs);
    const int8x16_t lo = vsubq_s8(vorrq_s8(nib_lo(q), vreinterpretq_s8_u8(q5_hbits(qh, 0))), sixteen);
    const int8x16_t hi = vsubq_s8(vorrq_s8(nib_hi(q), vreinterpretq_s8_u8(q5_hbits(qh, 16))), sixteen);
    const int sumi = block_sum(lo, hi, y[ib].qs);
    sumf += (h2f(x[ib].d) * h2f(y[ib].d)) * (float)sumi;
  }
  return sumf;
}

/* Q5_1 · Q8_1: sumf += (d_w*d_a)*sumi + m_w*s_a, q = nibble | bit << 4. */
static float dot_q5_1(int n, const void *vw, const void *va) {
  const sf_block_q5_1 *x = vw;
  const sf_block_q8_1 *y = va;
  float sumf = 0;
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const uint32_t qh = sf_load_qh(x[ib].qh);
    const uint8x16_t q = vld1q_u8(x[ib].qs);
    const int8x16_t lo = vorrq_s8(nib_lo(q), vreinterpretq_s8_u8(q5_hbits(qh, 0)));
    const int8x16_t hi = vorrq_s8(nib_hi(q), vreinterpretq_s8_u8(q5_hbits(qh, 16)));
    const int sumi = block_sum(lo, hi, y[ib].qs);
    sumf += (h2f(x[ib].d) * h2f(y[ib].d)) * (float)sumi + h2f(x[ib].m) * h2f(y[ib].s);
  }
  return sumf;
}

/* Q8_0 · Q8_0: sumf += sumi * (d_w*d_a). */
static float dot_q8_0(int n, const void *vw, const void *va) {
  const sf_block_q8_0 *x = vw, *y = va;
  float sumf = 0;
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const int sumi = block_sum(vld1q_s8(x[ib].qs), vld1q_s8(x[ib].qs + 16), y[ib].qs);
    sumf += (float)sumi * (h2f(x[ib].d) * h2f(y[ib].d));
  }
  return sumf;
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

/* Q4_K · Q8_K (dot_q4_K): sub-block 2j = low nibbles of qs[32j..32j+31], 2j+1 = their high nibbles. */
static float dot_q4_K(int n, const void *vw, const void *va) {
  const sf_block_q4_K *x = vw;
  const sf_block_q8_K *y = va;
  float32x4_t s0 = vdupq_n_f32(0), s1 = s0;
  float sumf = 0;
  uint8_t scales[8], mins[8];
  for (int i = 0; i < n / SF_QK_K; i++) {
    for (int j = 0; j < 8; j++) sf_get_scale_min_k4(j, x[i].scales, &scales[j], &mins[j]);
    const int32_t sumi = k_min_sum(y[i].bsums, mins);
    int32x4_t lo = vdupq_n_s32(0), hi = lo;
    const uint8_t *q4 = x[i].qs;
    const int8_t *q8 = y[i].qs;
    for (int j = 0; j < 4; j++, q4 += 32, q8 += 64) {
      const uint8x16_t qa = vld1q_u8(q4), qb = vld1q_u8(q4 + 16);
      const int16x8_t sl = vaddq_s16(lane_prod16(nib_lo(qa), vld1q_s8(q8)), lane_prod16(nib_lo(qb), vld1q_s8(q8 + 16)));
      const int16x8_t sh = vaddq_s16(lane_prod16(nib_hi(qa), vld1q_s8(q8 + 32)), lane_prod16(nib_hi(qb), vld1q_s8(q8 + 48)));
      aux_add(&lo, &hi, sl, scales[2 * j]);
      aux_add(&lo, &hi, sh, scales[2 * j + 1]);
    }
    const float d = h2f(x[i].d) * y[i].d;
    sums_add(&s0, &s1, lo, hi, d);
    const float dmin = h2f(x[i].dmin) * y[i].d;
    sumf -= dmin * (float)sumi;
  }
  return sums_reduce(sumf, s0, s1);
}

/* Q5_K · Q8_K (dot_q5_K): as Q4_K plus 16 where bit (sub-block index) of qh[l] is set. */
static float dot_q5_K(int n, const void *vw, const void *va) {
  const sf_block_q5_K *x = vw;
  const sf_block_q8_K *y = va;
  float32x4_t s0 = vdupq_n_f32(0), s1 = s0;
  float sumf = 0;
  uint8_t scales[8], mins[8];
  const uint8x16_t sixteen = vdupq_n_u8(16);
  for (int i = 0; i < n / SF_QK_K; i++) {
    for (int j = 0; j < 8; j++) sf_get_scale_min_k4(j, x[i].scales, &scales[j], &mins[j]);
    const int32_t sumi = k_min_sum(y[i].bsums, mins);
    int32x4_t lo = vdupq_n_s32(0), hi = lo;
    const uint8_t *q4 = x[i].qs;
    const int8_t *q8 = y[i].qs;
    const uint8x16_t h0 = vld1q_u8(x[i].qh), h1 = vld1q_u8(x[i].qh + 16);
    for (int j = 0; j < 4; j++, q4 += 32, q8 += 64) {
      const uint8x16_t ml = vdupq_n_u8((uint8_t)(1u << (2 * j))), mh = vdupq_n_u8((uint8_t)(2u << (2 * j)));
      const uint8x16_t qa = vld1q_u8(q4), qb = vld1q_u8(q4 + 16);
      const int8x16_t la = vorrq_s8(nib_lo(qa), vreinterpretq_s8_u8(vandq_u8(vtstq_u8(h0, ml), sixteen)));
      const int8x16_t lb = vorrq_s8(nib_lo(qb), vreinterpretq_s8_u8(vandq_u8(vtstq_u8(h1, ml), sixteen)));
      const int8x16_t ha = vorrq_s8(nib_hi(qa), vreinterpretq_s8_u8(vandq_u8(vtstq_u8(h0, mh), sixteen)));
      const int8x16_t hb = vorrq_s8(nib_hi(qb), vreinterpretq_s8_u8(vandq_u8(vtstq_u8(h1, mh), sixteen)));
      const int16x8_t sl = vaddq_s16(lane_prod16(la, vld1q_s8(q8)), lane_prod16(lb, vld1q_s8(q8 + 16)));
      const int16x8_t sh = vaddq_s16(lane_prod16(ha, vld1q_s8(q8 + 32)), lane_prod16(hb, vld1q_s8(q8 + 48)));
      aux_add(&lo, &hi, sl, scales[2 * j]);
      aux_add(&lo, &hi, sh, scales[2 * j + 1]);
    }
    const float d = h2f(x[i].d) * y[i].d;
    sums_add(&s0, &s1, lo, hi, d);
    const float dmin = h2f(x[i].dmin) * y[i].d;
    sumf -= dmin * (float)sumi;
  }
  return sums_reduce(sumf, s0, s1);
}

/* Q6_K · Q8_K (dot_q6_K): per half of 128, four 32-element quarters
 * q = (ql nibble | 2 bits of qh << 4) - 32, then 8 sub-blocks of 16 with int8 scales. */
static float dot_q6_K(int n, const void *vw, const void *va) {
  const sf_block_q6_K *x = vw;
  const sf_block_q8_K *y = va;
  float32x4_t s0 = vdupq_n_f32(0), s1 = s0;
  const uint8x16_t m4 = vdupq_n_u8(0x0F), m3 = vdupq_n_u8(3);
  const int8x16_t off = vdupq_n_s8(32);
  for (int i = 0; i < n / SF_QK_K; i++) {
    int32x4_t lo = vdupq_n_s32(0), hi = lo;
    for (int half = 0; half < 2; half++) {
      const uint8_t *ql = x[i].ql + 64 * half, *qh = x[i].qh + 32 * half;
      const int8_t *q8 = y[i].qs + 128 * half, *sc = x[i].scales + 8 * half;
      for (int k = 0; k < 2; k++) { /* elements 16k..16k+15 of each quarter */
        const uint8x16_t h = vld1q_u8(qh + 16 * k), l0 = vld1q_u8(ql + 16 * k), l1 = vld1q_u8(ql + 32 + 16 * k);
        int8x16_t a[4];
        a[0] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(l0, m4), vshlq_n_u8(vandq_u8(h, m3), 4)));
        a[1] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(l1, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h, 2), m3), 4)));
        a[2] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h, 4), m3), 4)));
        a[3] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vshrq_n_u8(h, 6), 4)));
        for (int qtr = 0; qtr < 4; qtr++) { /* sub-block 2*qtr + k of this half */
          const int s = 2 * qtr + k;
          aux_add(&lo, &hi, lane_prod16(vsubq_s8(a[qtr], off), vld1q_s8(q8 + 16 * s)), sc[s]);
        }
      }
    }
    const float d = h2f(x[i].d) * y[i].d;
    sums_add(&s0, &s1, lo, hi, d);
  }
  return sums_reduce(0.0f, s0, s1);
}

/* Overrides every vec_dot entry of the scalar table with the kernels of this file (vec_dot_n and
 * the Q4_K x8 entries are cleared: matmul then loops vec_dot, which equals the scalar order). */
void SF_NEON_FILL(sf_kernel_table *k) {
  static const struct { int t; sf_vec_dot_fn f; } list[] = {
    {SF_F32, dot_f32}, {SF_F16, dot_f16}, {SF_BF16, dot_bf16}, {SF_Q4_0, dot_q4_0}, {SF_Q4_1, dot_q4_1},
    {SF_Q5_0, dot_q5_0}, {SF_Q5_1, dot_q5_1}, {SF_Q8_0, dot_q8_0}, {SF_Q4_K, dot_q4_K}, {SF_Q5_K, dot_q5_K}, {SF_Q6_K, dot_q6_K},
  };
  for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
    k->vec_dot[list[i].t] = list[i].f;
    k->vec_dot_n[list[i].t] = NULL;
    k->impl[list[i].t] = "neon";
  }
  k->q4_K_x8 = NULL;
  k->q4_K_x8_n = NULL;
  k->q4_K_x8_gemm = NULL;
  k->q4_K_x8_gemm_n = NULL;
}
