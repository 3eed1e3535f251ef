/*
 * AVX-512 (F, BW, VL, VNNI, BF16) dot products, compiled with -mavx512f -mavx512bw -mavx512vl
 * -mavx512vnni -mavx512bf16 and selected at run time. Types without a kernel here keep the AVX2 one.
 *
 * Integer parts use vpdpbusd (u8 × s8, four products summed into int32: exact, no saturation),
 * so they equal the scalar/ggml generic integer sums. BF16 uses vdpbf16ps as ggml's
 * ggml_vec_dot_bf16 does on AVX512BF16 (vec.cpp); that instruction flushes denormals.
 */
#include "sf_common.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VNNI__) && \
    defined(__AVX512BF16__) && defined(__F16C__)
#include <immintrin.h>

static inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

static inline float hsum256(__m256 v) {
  __m128 r = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

/* 16 bytes of nibbles -> 32 bytes: low nibbles in bytes 0..15, high in 16..31 (ggml order). */
static inline __m256i nibbles32(const uint8_t *q) {
  const __m128i t = _mm_loadu_si128((const __m128i *)q);
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(0x0F));
}

/* F32 · F32 with 512-bit FMA. */
static float dot_f32(int n, const void *vw, const void *va) {
  const float *w = vw, *a = va;
  __m512 s0 = _mm512_setzero_ps(), s1 = s0;
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), _mm512_loadu_ps(a + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i + 16), _mm512_loadu_ps(a + i + 16), s1);
  }
  if (i < n) { /* masked tail */
    for (; i < n; i += 16) {
      const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
      s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w + i), _mm512_maskz_loadu_ps(m, a + i), s0);
    }
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

/* F16 · F16: widen 16 halves at a time (vcvtph2ps) and FMA. */
static float dot_f16(int n, const void *vw, const void *va) {
  const uint16_t *w = vw, *a = va;
  __m512 s0 = _mm512_setzero_ps(), s1 = s0;
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w + i))),
                         _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(a + i))), s0);
    s1 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w + i + 16))),
                         _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(a + i + 16))), s1);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
    s0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, w + i)), _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, a + i)), s0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

/* BF16 · BF16 with vdpbf16ps (32 pairs per instruction). */
static float dot_bf16(int n, const void *vw, const void *va) {
  const uint16_t *w = vw, *a = va;
  __m512 s0 = _mm512_setzero_ps(), s1 = s0;
  int i = 0;
  for (; i + 64 <= n; i += 64) {
    s0 = _mm512_dpbf16_ps(s0, (__m512bh)_mm512_loadu_si512(w + i), (__m512bh)_mm512_loadu_si512(a + i));
    s1 = _mm512_dpbf16_ps(s1, (__m512bh)_mm512_loadu_si512(w + i + 32), (__m512bh)_mm512_loadu_si512(a + i + 32));
  }
  for (; i < n; i += 32) {
    const __mmask32 m = n - i >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << (n - i)) - 1);
    s0 = _mm512_dpbf16_ps(s0, (__m512bh)_mm512_maskz_loadu_epi16(m, w + i), (__m512bh)_mm512_maskz_loadu_epi16(m, a + i));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

/* The quantized kernels come as `*_rows(..., nr, ...)`: one weight row against nr ≤ 4 activation
 * rows, unpacking each weight block once; the 1-row dot is the same code with nr = 1, so results
 * do not depend on the batch (see sf_vec_dot_n_fn). */
#define NR_MAX 4
#define ROWS_INLINE static inline __attribute__((always_inline))
#define ACT(T, r, ib) ((const T *)(a + (size_t)(r) * as) + (ib))

/* Q4_0 · Q8_0: Σ (q-8)·y = Σ q·y − 8·Σ y, both by vpdpbusd. */
ROWS_INLINE void q4_0_rows(int n, const sf_block_q4_0 *x, const uint8_t *a, size_t as, const int nr, float *out) {
  const __m256i eight = _mm256_set1_epi8(8), z = _mm256_setzero_si256();
  __m256 acc[NR_MAX];
  for (int r = 0; r < nr; r++) acc[r] = _mm256_setzero_ps();
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const __m256i qx = nibbles32(x[ib].qs);
    const float dx = h2f(x[ib].d);
    for (int r = 0; r < nr; r++) {
      const sf_block_q8_0 *y = ACT(sf_block_q8_0, r, ib);
      const __m256i yv = _mm256_loadu_si256((const __m256i *)y->qs);
      const __m256i p = _mm256_sub_epi32(_mm256_dpbusd_epi32(z, qx, yv), _mm256_dpbusd_epi32(z, eight, yv));
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dx * h2f(y->d)), _mm256_cvtepi32_ps(p), acc[r]);
    }
  }
  for (int r = 0; r < nr; r++) out[r] = hsum256(acc[r]);
}

/* Q4_1 · Q8_1: Σ q·y by vpdpbusd, plus m·s per block. */
ROWS_INLINE void q4_1_rows(int n, const sf_block_q4_1 *x, const uint8_t *a, size_t as, const int nr, float *out) {
  const __m256i z = _mm256_setzero_si256();
  __m256 acc[NR_MAX];
  float summs[NR_MAX];
  for (int r = 0; r < nr; r++) { acc[r] = _mm256_setzero_ps(); summs[r] = 0; }
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const __m256i qx = nibbles32(x[ib].qs);
    const float dx = h2f(x[ib].d), mx = h2f(x[ib].m);
    for (int r = 0; r < nr; r++) {
      const sf_block_q8_1 *y = ACT(sf_block_q8_1, r, ib);
      const __m256i p = _mm256_dpbusd_epi32(z, qx, _mm256_loadu_si256((const __m256i *)y->qs));
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dx * h2f(y->d)), _mm256_cvtepi32_ps(p), acc[r]);
      summs[r] += mx * h2f(y->s);
    }
  }
  for (int r = 0; r < nr; r++) out[r] = hsum256(acc[r]) + summs[r];
}

/* High-bit bytes of a Q5 block: 0x10 in byte j where bit j of qh is set (mask move). */
static inline __m256i hibits16(const uint8_t *qh) {
  return _mm256_maskz_mov_epi8((__mmask32)sf_load_qh(qh), _mm256_set1_epi8(0x10));
}

/* Q5_0 · Q8_0: Σ (q-16)·y = Σ q·y − 16·Σ y (q in [0,31]), both by vpdpbusd; float order as AVX2. */
ROWS_INLINE void q5_0_rows(int n, const sf_block_q5_0 *x, const uint8_t *a, size_t as, const int nr, float *out) {
  const __m256i sixteen = _mm256_set1_epi8(16), z = _mm256_setzero_si256();
  __m256 acc[NR_MAX];
  for (int r = 0; r < nr; r++) acc[r] = _mm256_setzero_ps();
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const __m256i qx = _mm256_or_si256(nibbles32(x[ib].qs), hibits16(x[ib].qh));
    const float dx = h2f(x[ib].d);
    for (int r = 0; r < nr; r++) {
      const sf_block_q8_0 *y = ACT(sf_block_q8_0, r, ib);
      const __m256i yv = _mm256_loadu_si256((const __m256i *)y->qs);
      const __m256i p = _mm256_sub_epi32(_mm256_dpbusd_epi32(z, qx, yv), _mm256_dpbusd_epi32(z, sixteen, yv));
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dx * h2f(y->d)), _mm256_cvtepi32_ps(p), acc[r]);
    }
  }
  for (int r = 0; r < nr; r++) out[r] = hsum256(acc[r]);
}

/* Q5_1 · Q8_1: Σ q·y by vpdpbusd, plus m·s per block; float order as AVX2. */
ROWS_INLINE void q5_1_rows(int n, const sf_block_q5_1 *x, const uint8_t *a, size_t as, const int nr, float *out) {
  const __m256i z = _mm256_setzero_si256();
  __m256 acc[NR_MAX];
  float summs[NR_MAX];
  for (int r = 0; r < nr; r++) { acc[r] = _mm256_setzero_ps(); summs[r] = 0; }
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const __m256i qx = _mm256_or_si256(nibbles32(x[ib].qs), hibits16(x[ib].qh));
    const float dx = h2f(x[ib].d), mx = h2f(x[ib].m);
    for (int r = 0; r < nr; r++) {
      const sf_block_q8_1 *y = ACT(sf_block_q8_1, r, ib);
      summs[r] += mx * h2f(y->s);
      const __m256i p = _mm256_dpbusd_epi32(z, qx, _mm256_loadu_si256((const __m256i *)y->qs));
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dx * h2f(y->d)), acc[r]);
    }
  }
  for (int r = 0; r < nr; r++) out[r] = hsum256(acc[r]) + summs[r];
}

/* Q8_0 · Q8_0: |x| (as u8, ≤ 128) · sign(y, x) by vpdpbusd. */
ROWS_INLINE void q8_0_rows(int n, const sf_block_q8_0 *x, const uint8_t *a, size_t as, const int nr, float *out) {
  const __m256i z = _mm256_setzero_si256();
  __m256 acc[NR_MAX];
  for (int r = 0; r < nr; r++) acc[r] = _mm256_setzero_ps();
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const __m256i qx = _mm256_loadu_si256((const __m256i *)x[ib].qs), ax = _mm256_abs_epi8(qx);
    const float dx = h2f(x[ib].d);
    for (int r = 0; r < nr; r++) {
      const sf_block_q8_0 *y = ACT(sf_block_q8_0, r, ib);
      const __m256i p = _mm256_dpbusd_epi32(z, ax, _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)y->qs), qx));
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dx * h2f(y->d)), _mm256_cvtepi32_ps(p), acc[r]);
    }
  }
  for (int r = 0; r < nr; r++) out[r] = hsum256(acc[r]);
}

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

int sf_fill_avx512(sf_kernel_table *k) {
  static const struct { int t; sf_vec_dot_fn f; } list[] = {
    {SF_F32, dot_f32}, {SF_F16, dot_f16}, {SF_BF16, dot_bf16}, {SF_Q4_0, dot_q4_0}, {SF_Q4_1, dot_q4_1},
    {SF_Q5_0, dot_q5_0}, {SF_Q5_1, dot_q5_1}, {SF_Q8_0, dot_q8_0},
  };
  for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
    k->vec_dot[list[i].t] = list[i].f;
    k->vec_dot_n[list[i].t] = NULL;
    k->impl[list[i].t] = "avx512";
  }
  k->vec_dot_n[SF_Q4_0] = dotn_q4_0;
  k->vec_dot_n[SF_Q4_1] = dotn_q4_1;
  k->vec_dot_n[SF_Q5_0] = dotn_q5_0;
  k->vec_dot_n[SF_Q5_1] = dotn_q5_1;
  k->vec_dot_n[SF_Q8_0] = dotn_q8_0;
  return 1;
}

#else
int sf_fill_avx512(sf_kernel_table *k) {
  (void)k;
  return 0;
}
#endif
