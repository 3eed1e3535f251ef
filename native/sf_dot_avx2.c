/*
 * AVX2 + FMA + F16C dot products (compiled with -mavx2 -mfma -mf16c; selected at run time).
 *
 * Integer parts are exact and equal to the scalar/ggml generic kernels: 8-bit products go through
 * vpmaddubsw (unsigned × signed byte pairs, no saturation for the value ranges involved, noted
 * per kernel) and vpmaddwd into int32. Only the float accumulation order differs from scalar.
 * Technique after ggml-cpu/arch/x86/quants.c (mul_sum_i8_pairs, bytes_from_nibbles_32) and
 * vec.cpp (F16/F32 FMA loops); written independently.
 */
#include "sf_common.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#include <math.h>

static inline float hsum_ps(__m256 v) {
  __m128 r = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

static inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

/* 16 bytes of nibbles -> 32 bytes: low nibbles in bytes 0..15, high nibbles in 16..31 (ggml order). */
static inline __m256i nibbles32(const uint8_t *q) {
  const __m128i t = _mm_loadu_si128((const __m128i *)q);
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(0x0F));
}

/* 32 bits (little-endian uint32 at p) -> 32 bytes, byte j = 0xFF if bit j is set, else 0. */
static inline __m256i bits32(const uint8_t *p) {
  const __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)sf_load_qh(p)),
                                        _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                                         2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
  return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}

/* Σ over groups of 4 of u8 × s8 -> 8 int32. Exact while each byte pair sum fits int16. */
static inline __m256i dot_u8s8(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/* Σ over groups of 4 of s8 × s8 -> 8 int32, via |x| · sign(y, x). y must not be -128 where x < 0
 * (activations are quantized to [-127, 127]); x may be -128 (|x| = 128 as unsigned). */
static inline __m256i dot_s8s8(__m256i x, __m256i y) {
  return dot_u8s8(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

/* F32 · F32 (vec.cpp ggml_vec_dot_f32, FMA branch). */
static float dot_f32(int n, const void *vw, const void *va) {
  const float *w = vw, *a = va;
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(a + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(a + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 16), _mm256_loadu_ps(a + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 24), _mm256_loadu_ps(a + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(a + i), s0);
  float s = hsum_ps(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  for (; i < n; i++) s += w[i] * a[i];
  return s;
}

#define LOADH(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
/* F16 · F16 (vec.cpp ggml_vec_dot_f16, F16C + FMA branch). */
static float dot_f16(int n, const void *vw, const void *va) {
  const uint16_t *w = vw, *a = va;
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(LOADH(w + i), LOADH(a + i), s0);
    s1 = _mm256_fmadd_ps(LOADH(w + i + 8), LOADH(a + i + 8), s1);
    s2 = _mm256_fmadd_ps(LOADH(w + i + 16), LOADH(a + i + 16), s2);
    s3 = _mm256_fmadd_ps(LOADH(w + i + 24), LOADH(a + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(LOADH(w + i), LOADH(a + i), s0);
  float s = hsum_ps(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  for (; i < n; i++) s += h2f(w[i]) * h2f(a[i]);
  return s;
}

#define LOADB(p) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p))), 16))
/* BF16 · BF16: widen to f32 (exact) and FMA. */
static float dot_bf16(int n, const void *vw, const void *va) {
  const uint16_t *w = vw, *a = va;
  __m256 s0 = _mm256_setzero_ps(), s1 = s0;
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(LOADB(w + i), LOADB(a + i), s0);
    s1 = _mm256_fmadd_ps(LOADB(w + i + 8), LOADB(a + i + 8), s1);
  }
  float s = hsum_ps(_mm256_add_ps(s0, s1));
  for (; i < n; i++) s += sf_bf16_to_fp32(w[i]) * sf_bf16_to_fp32(a[i]);
  return s;
}

/* The quantized kernels below come as `*_rows(..., nr, ...)`: one weight row against nr ≤ 4
 * activation rows (a_stride bytes apart), unpacking each weight block once. The 1-row dot is the
 * same function with nr = 1, so a token's result does not depend on how many tokens are batched. */
#define NR_MAX 4
#define ROWS_INLINE static inline __attribute__((always_inline))
#define ACT(T, r, ib) ((const T *)(a + (size_t)(r) * as) + (ib))

/* Q4_0 · Q8_0: (q-8) in [-8,7]; |q-8|·|y| pair sums ≤ 2·8·127, no saturation. */
ROWS_INLINE void q4_0_rows(int n, const sf_block_q4_0 *x, const uint8_t *a, size_t as, const int nr, float *out) {
  __m256 acc[NR_MAX];
  for (int r = 0; r < nr; r++) acc[r] = _mm256_setzero_ps();
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const __m256i qx = _mm256_sub_epi8(nibbles32(x[ib].qs), _mm256_set1_epi8(8));
    const float dx = h2f(x[ib].d);
    for (int r = 0; r < nr; r++) {
      const sf_block_q8_0 *y = ACT(sf_block_q8_0, r, ib);
      const __m256i p = dot_s8s8(qx, _mm256_loadu_si256((const __m256i *)y->qs));
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dx * h2f(y->d)), _mm256_cvtepi32_ps(p), acc[r]);
    }
  }
  for (int r = 0; r < nr; r++) out[r] = hsum_ps(acc[r]);
}

/* Q4_1 · Q8_1: d_w·d_a·Σ q·y + m_w·s_a; q in [0,15], pair sums ≤ 2·15·128. */
ROWS_INLINE void q4_1_rows(int n, const sf_block_q4_1 *x, const uint8_t *a, size_t as, const int nr, float *out) {
  __m256 acc[NR_MAX];
  float summs[NR_MAX];
  for (int r = 0; r < nr; r++) { acc[r] = _mm256_setzero_ps(); summs[r] = 0; }
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const __m256i qx = nibbles32(x[ib].qs);
    const float dx = h2f(x[ib].d), mx = h2f(x[ib].m);
    for (int r = 0; r < nr; r++) {
      const sf_block_q8_1 *y = ACT(sf_block_q8_1, r, ib);
      const __m256i p = dot_u8s8(qx, _mm256_loadu_si256((const __m256i *)y->qs));
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dx * h2f(y->d)), _mm256_cvtepi32_ps(p), acc[r]);
      summs[r] += mx * h2f(y->s);
    }
  }
  for (int r = 0; r < nr; r++) out[r] = hsum_ps(acc[r]) + summs[r];
}

/* Q5_0 · Q8_0 (x86 ggml_vec_dot_q5_0_q8_0 order: acc = fma(d_w·d_a, Σ, acc), hsum at the end):
 * q-16 = nibble | (0xF0 where the high bit is clear) as int8, in [-16,15]; pair sums ≤ 2·16·127. */
ROWS_INLINE void q5_0_rows(int n, const sf_block_q5_0 *x, const uint8_t *a, size_t as, const int nr, float *out) {
  __m256 acc[NR_MAX];
  for (int r = 0; r < nr; r++) acc[r] = _mm256_setzero_ps();
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const __m256i qx = _mm256_or_si256(nibbles32(x[ib].qs), _mm256_andnot_si256(bits32(x[ib].qh), _mm256_set1_epi8((char)0xF0)));
    const float dx = h2f(x[ib].d);
    for (int r = 0; r < nr; r++) {
      const sf_block_q8_0 *y = ACT(sf_block_q8_0, r, ib);
      const __m256i p = dot_s8s8(qx, _mm256_loadu_si256((const __m256i *)y->qs));
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dx * h2f(y->d)), _mm256_cvtepi32_ps(p), acc[r]);
    }
  }
  for (int r = 0; r < nr; r++) out[r] = hsum_ps(acc[r]);
}

/* Q5_1 · Q8_1 (x86 ggml_vec_dot_q5_1_q8_1 order): d_w·d_a·Σ q·y + m_w·s_a; q = nibble | 16·bit in
 * [0,31], pair sums ≤ 2·31·128. */
ROWS_INLINE void q5_1_rows(int n, const sf_block_q5_1 *x, const uint8_t *a, size_t as, const int nr, float *out) {
  __m256 acc[NR_MAX];
  float summs[NR_MAX];
  for (int r = 0; r < nr; r++) { acc[r] = _mm256_setzero_ps(); summs[r] = 0; }
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const __m256i qx = _mm256_or_si256(nibbles32(x[ib].qs), _mm256_and_si256(bits32(x[ib].qh), _mm256_set1_epi8(0x10)));
    const float dx = h2f(x[ib].d), mx = h2f(x[ib].m);
    for (int r = 0; r < nr; r++) {
      const sf_block_q8_1 *y = ACT(sf_block_q8_1, r, ib);
      summs[r] += mx * h2f(y->s);
      const __m256i p = dot_u8s8(qx, _mm256_loadu_si256((const __m256i *)y->qs));
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dx * h2f(y->d)), acc[r]);
    }
  }
  for (int r = 0; r < nr; r++) out[r] = hsum_ps(acc[r]) + summs[r];
}

/* Q8_0 · Q8_0: |x| ≤ 128, |y| ≤ 127 -> pair sums ≤ 32512, no saturation. */
ROWS_INLINE void q8_0_rows(int n, const sf_block_q8_0 *x, const uint8_t *a, size_t as, const int nr, float *out) {
  __m256 acc[NR_MAX];
  for (int r = 0; r < nr; r++) acc[r] = _mm256_setzero_ps();
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const __m256i qx = _mm256_loadu_si256((const __m256i *)x[ib].qs);
    const __m256i ax = _mm256_sign_epi8(qx, qx);
    const float dx = h2f(x[ib].d);
    for (int r = 0; r < nr; r++) {
      const sf_block_q8_0 *y = ACT(sf_block_q8_0, r, ib);
      const __m256i p = dot_u8s8(ax, _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)y->qs), qx));
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dx * h2f(y->d)), _mm256_cvtepi32_ps(p), acc[r]);
    }
  }
  for (int r = 0; r < nr; r++) out[r] = hsum_ps(acc[r]);
}

/* Σ_j bsums[j] · mins[j/2] of a Q8_K block (integer, exact). */
static inline int k_min_sum(const int16_t *bsums, const uint8_t *mins) {
  int s = 0;
  for (int j = 0; j < 16; j++) s += bsums[j] * mins[j / 2];
  return s;
}

/* Σ of the 8 int32 lanes (exact). */
static inline int32_t hsum_epi32(__m256i v) {
  __m128i r = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  r = _mm_add_epi32(r, _mm_shuffle_epi32(r, 0x4E));
  r = _mm_add_epi32(r, _mm_shuffle_epi32(r, 0xB1));
  return _mm_cvtsi128_si32(r);
}

/* Q4_K · Q8_K: per 32-element sub-block Σ q·y (q ≤ 15: pair sums ≤ 3840) times its 6-bit scale
 * via vpmaddwd (≤ 2·3840·63 per lane). Two float orders, both from ggml-cpu on x86:
 *  - repacked = 0 (arch/x86/quants.c ggml_vec_dot_q4_K_q8_K): the 8 int32 lanes are accumulated
 *    as floats (fma with d·y.d per block), the mins part in 4 lanes (lane k: sub-blocks 2k, 2k+1)
 *    with fma by -y.d·dmin; result hsum8(acc) + ((m0 + m2) + (m1 + m3)).
 *  - repacked = 1 (arch/x86/repack.cpp ggml_gemv/gemm_q4_K_8x8_q8_K, used for Q4_K weights whose
 *    row count is a multiple of 8): per block the whole scaled integer sum and the whole mins sum,
 *    acc = fma((float)isum, d·y.d, acc), accm = fma((float)imin, dmin·y.d, accm); result acc - accm.
 *  - repacked = 2 (ggml_gemm_q4_K_8x8_q8_K, the first n_tok - n_tok % 4 activation rows of a batch):
 *    the same, but the fmas run per 64 elements (sub-block pairs 2j, 2j+1) instead of per block. */
ROWS_INLINE void q4_K_rows_impl(int n, const sf_block_q4_K *x, const uint8_t *a, size_t as, const int nr, float *out, const int repacked) {
  __m256 acc[NR_MAX];
  __m128 accm4[NR_MAX];
  float accs[NR_MAX], accms[NR_MAX];
  for (int r = 0; r < nr; r++) { acc[r] = _mm256_setzero_ps(); accm4[r] = _mm_setzero_ps(); accs[r] = 0; accms[r] = 0; }
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  for (int i = 0; i < n / SF_QK_K; i++) {
    uint8_t sc[8], mn[8];
    for (int j = 0; j < 8; j++) sf_get_scale_min_k4(j, x[i].scales, &sc[j], &mn[j]);
    const float dx = h2f(x[i].d), mx = h2f(x[i].dmin);
    __m256i sumi[NR_MAX];
    int32_t isb[NR_MAX][4];
    for (int r = 0; r < nr; r++) sumi[r] = _mm256_setzero_si256();
    for (int j = 0; j < 4; j++) {
      const __m256i q4 = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * j));
      const __m256i lo = _mm256_and_si256(q4, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q4, 4), m4);
      const __m256i s0 = _mm256_set1_epi16(sc[2 * j]), s1 = _mm256_set1_epi16(sc[2 * j + 1]);
      for (int r = 0; r < nr; r++) {
        const int8_t *q8 = ACT(sf_block_q8_K, r, i)->qs + 64 * j;
        const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)q8)), s0);
        const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 32))), s1);
        sumi[r] = _mm256_add_epi32(sumi[r], _mm256_add_epi32(p0, p1));
        if (repacked == 2) isb[r][j] = hsum_epi32(_mm256_add_epi32(p0, p1));
      }
    }
    for (int r = 0; r < nr; r++) {
      const sf_block_q8_K *y = ACT(sf_block_q8_K, r, i);
      int32_t ms[8]; /* mins lanes: sub-block sums of the activations times the mins */
      for (int j = 0; j < 8; j++) ms[j] = (int32_t)mn[j] * (int32_t)(y->bsums[2 * j] + y->bsums[2 * j + 1]);
      if (repacked == 2) {
        for (int j = 0; j < 4; j++) {
          accs[r] = fmaf((float)isb[r][j], dx * y->d, accs[r]);
          accms[r] = fmaf((float)(ms[2 * j] + ms[2 * j + 1]), mx * y->d, accms[r]);
        }
      } else if (repacked) {
        int32_t imin = 0;
        for (int j = 0; j < 8; j++) imin += ms[j];
        accs[r] = fmaf((float)hsum_epi32(sumi[r]), dx * y->d, accs[r]);
        accms[r] = fmaf((float)imin, mx * y->d, accms[r]);
      } else {
        const __m128i prod = _mm_setr_epi32(ms[0] + ms[1], ms[2] + ms[3], ms[4] + ms[5], ms[6] + ms[7]);
        accm4[r] = _mm_fmadd_ps(_mm_set1_ps(-y->d * mx), _mm_cvtepi32_ps(prod), accm4[r]);
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(y->d * dx), _mm256_cvtepi32_ps(sumi[r]), acc[r]);
      }
    }
  }
  for (int r = 0; r < nr; r++) {
    if (repacked) { out[r] = accs[r] - accms[r]; continue; }
    __m128 m = _mm_add_ps(accm4[r], _mm_movehl_ps(accm4[r], accm4[r]));
    m = _mm_add_ss(m, _mm_movehdup_ps(m));
    out[r] = hsum_ps(acc[r]) + _mm_cvtss_f32(m);
  }
}
ROWS_INLINE void q4_K_rows(int n, const sf_block_q4_K *x, const uint8_t *a, size_t as, const int nr, float *out) {
  q4_K_rows_impl(n, x, a, as, nr, out, 0);
}
ROWS_INLINE void q4_Kx8_rows(int n, const sf_block_q4_K *x, const uint8_t *a, size_t as, const int nr, float *out) {
  q4_K_rows_impl(n, x, a, as, nr, out, 1);
}
ROWS_INLINE void q4_Kx8g_rows(int n, const sf_block_q4_K *x, const uint8_t *a, size_t as, const int nr, float *out) {
  q4_K_rows_impl(n, x, a, as, nr, out, 2);
}

/* Q5_K · Q8_K: as Q4_K with the fifth bit from qh (q ≤ 31: pair sums ≤ 7936). */
static float dot_q5_K(int n, const void *vw, const void *va) {
  const sf_block_q5_K *x = vw;
  const sf_block_q8_K *y = va;
  __m256 acc = _mm256_setzero_ps();
  float accm = 0;
  const __m256i m4 = _mm256_set1_epi8(0x0F), b16 = _mm256_set1_epi8(16);
  for (int i = 0; i < n / SF_QK_K; i++) {
    uint8_t sc[8], mn[8];
    for (int j = 0; j < 8; j++) sf_get_scale_min_k4(j, x[i].scales, &sc[j], &mn[j]);
    accm += h2f(x[i].dmin) * y[i].d * (float)k_min_sum(y[i].bsums, mn);
    const __m256i hb = _mm256_loadu_si256((const __m256i *)x[i].qh);
    __m256i sumi = _mm256_setzero_si256();
    for (int j = 0; j < 4; j++) {
      const __m256i q4 = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * j));
      const __m256i mlo = _mm256_set1_epi8((char)(1 << (2 * j))), mhi = _mm256_set1_epi8((char)(1 << (2 * j + 1)));
      const __m256i hlo = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hb, mlo), mlo), b16);
      const __m256i hhi = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hb, mhi), mhi), b16);
      const __m256i lo = _mm256_or_si256(_mm256_and_si256(q4, m4), hlo);
      const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4, 4), m4), hhi);
      const __m256i y0 = _mm256_loadu_si256((const __m256i *)(y[i].qs + 64 * j));
      const __m256i y1 = _mm256_loadu_si256((const __m256i *)(y[i].qs + 64 * j + 32));
      const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, y0), _mm256_set1_epi16(sc[2 * j]));
      const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, y1), _mm256_set1_epi16(sc[2 * j + 1]));
      sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * y[i].d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum_ps(acc) - accm;
}

/* Q6_K · Q8_K: Σ (q-32)·y computed as maddubs(q, y) − maddubs(32, y) (q ≤ 63: ≤ 16002 and
 * ≤ 8128, difference ≤ 8128 in int16), times the int8 scale of each 16 elements via vpmaddwd. */
ROWS_INLINE void q6_K_rows(int n, const sf_block_q6_K *x, const uint8_t *a, size_t as, const int nr, float *out) {
  __m256 acc[NR_MAX];
  for (int r = 0; r < nr; r++) acc[r] = _mm256_setzero_ps();
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i h03 = _mm256_set1_epi8(0x03), h0c = _mm256_set1_epi8(0x0C), h30 = _mm256_set1_epi8(0x30);
  const __m256i hc0 = _mm256_set1_epi8((char)0xC0);
  for (int i = 0; i < n / SF_QK_K; i++) {
    __m256i sumi[NR_MAX];
    for (int r = 0; r < nr; r++) sumi[r] = _mm256_setzero_si256();
    for (int half = 0; half < 2; half++) {
      const uint8_t *ql = x[i].ql + 64 * half, *qh = x[i].qh + 32 * half;
      const int8_t *sc = x[i].scales + 8 * half;
      const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql), l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
      const __m256i h = _mm256_loadu_si256((const __m256i *)qh);
      __m256i q[4];
      q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(h, h03), 4));
      q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(h, h0c), 2));
      q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, h30));
      q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_srli_epi16(_mm256_and_si256(h, hc0), 2));
      for (int g = 0; g < 4; g++) {
        const __m256i s = _mm256_set_m128i(_mm_set1_epi16(sc[2 * g + 1]), _mm_set1_epi16(sc[2 * g]));
        for (int r = 0; r < nr; r++) {
          const __m256i yv = _mm256_loadu_si256((const __m256i *)(ACT(sf_block_q8_K, r, i)->qs + 128 * half + 32 * g));
          sumi[r] = _mm256_add_epi32(sumi[r], _mm256_madd_epi16(_mm256_maddubs_epi16(q[g], yv), s));
        }
      }
    }
    const float dx = h2f(x[i].d);
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[i].scales));
    for (int r = 0; r < nr; r++) {
      const sf_block_q8_K *y = ACT(sf_block_q8_K, r, i);
      /* the -32 offset per lane k: 32 · (bsums[2k]·sc[2k] + bsums[2k+1]·sc[2k+1]) */
      const __m256i sub = _mm256_slli_epi32(_mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)y->bsums), sc16), 5);
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(y->d * dx), _mm256_cvtepi32_ps(_mm256_sub_epi32(sumi[r], sub)), acc[r]);
    }
  }
  for (int r = 0; r < nr; r++) out[r] = hsum_ps(acc[r]);
}

/* 1-row and n-row entry points of each *_rows kernel. */
#define ROWS_ENTRIES(name, T)                                                                       \
  static float dot_##name(int n, const void *w, const void *a) {                                    \
    float o;                                                                                        \
    name##_rows(n, (const T *)w, (const uint8_t *)a, 0, 1, &o);                                     \
    return o;                                                                                       \
  }                                                                                                 \
  static void dotn_##name(int n, const void *w, const void *a, size_t as, int nr, float *out) {     \
    if (nr == 4) name##_rows(n, (const T *)w, (const uint8_t *)a, as, 4, out);                      \
    else for (int r = 0; r < nr; r++) name##_rows(n, (const T *)w, (const uint8_t *)a + r * as, 0, 1, out + r); \
  }
ROWS_ENTRIES(q4_0, sf_block_q4_0)
ROWS_ENTRIES(q4_1, sf_block_q4_1)
ROWS_ENTRIES(q5_0, sf_block_q5_0)
ROWS_ENTRIES(q5_1, sf_block_q5_1)
ROWS_ENTRIES(q8_0, sf_block_q8_0)
ROWS_ENTRIES(q4_K, sf_block_q4_K)
ROWS_ENTRIES(q4_Kx8, sf_block_q4_K)
ROWS_ENTRIES(q4_Kx8g, sf_block_q4_K)
ROWS_ENTRIES(q6_K, sf_block_q6_K)

int sf_fill_avx2(sf_kernel_table *k) {
  static const struct { int t; sf_vec_dot_fn f; } list[] = {
    {SF_F32, dot_f32}, {SF_F16, dot_f16}, {SF_BF16, dot_bf16}, {SF_Q4_0, dot_q4_0}, {SF_Q4_1, dot_q4_1},
    {SF_Q5_0, dot_q5_0}, {SF_Q5_1, dot_q5_1}, {SF_Q8_0, dot_q8_0}, {SF_Q4_K, dot_q4_K}, {SF_Q5_K, dot_q5_K}, {SF_Q6_K, dot_q6_K},
  };
  for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
    k->vec_dot[list[i].t] = list[i].f;
    k->vec_dot_n[list[i].t] = NULL;
    k->impl[list[i].t] = "avx2";
  }
  k->vec_dot_n[SF_Q4_0] = dotn_q4_0;
  k->vec_dot_n[SF_Q4_1] = dotn_q4_1;
  k->vec_dot_n[SF_Q5_0] = dotn_q5_0;
  k->vec_dot_n[SF_Q5_1] = dotn_q5_1;
  k->vec_dot_n[SF_Q8_0] = dotn_q8_0;
  k->vec_dot_n[SF_Q4_K] = dotn_q4_K;
  k->q4_K_x8 = dot_q4_Kx8;
  k->q4_K_x8_n = dotn_q4_Kx8;
  k->q4_K_x8_gemm = dot_q4_Kx8g;
  k->q4_K_x8_gemm_n = dotn_q4_Kx8g;
  k->vec_dot_n[SF_Q6_K] = dotn_q6_K;
  return 1;
}

#else
int sf_fill_avx2(sf_kernel_table *k) {
  (void)k;
  return 0;
}
#endif
