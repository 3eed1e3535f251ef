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

/* Q4_0 · Q8_0: Σ (q-8)·y = Σ q·y − 8·Σ y, both by vpdpbusd. */
static float dot_q4_0(int n, const void *vw, const void *va) {
  const sf_block_q4_0 *x = vw;
  const sf_block_q8_0 *y = va;
  const __m256i eight = _mm256_set1_epi8(8), z = _mm256_setzero_si256();
  __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
  const int nb = n / SF_QK;
  int ib = 0;
  for (; ib + 1 < nb; ib += 2) {
    const __m256i y0 = _mm256_loadu_si256((const __m256i *)y[ib].qs), y1 = _mm256_loadu_si256((const __m256i *)y[ib + 1].qs);
    const __m256i p0 = _mm256_sub_epi32(_mm256_dpbusd_epi32(z, nibbles32(x[ib].qs), y0), _mm256_dpbusd_epi32(z, eight, y0));
    const __m256i p1 = _mm256_sub_epi32(_mm256_dpbusd_epi32(z, nibbles32(x[ib + 1].qs), y1), _mm256_dpbusd_epi32(z, eight, y1));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[ib].d) * h2f(y[ib].d)), _mm256_cvtepi32_ps(p0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[ib + 1].d) * h2f(y[ib + 1].d)), _mm256_cvtepi32_ps(p1), acc1);
  }
  for (; ib < nb; ib++) {
    const __m256i y0 = _mm256_loadu_si256((const __m256i *)y[ib].qs);
    const __m256i p0 = _mm256_sub_epi32(_mm256_dpbusd_epi32(z, nibbles32(x[ib].qs), y0), _mm256_dpbusd_epi32(z, eight, y0));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[ib].d) * h2f(y[ib].d)), _mm256_cvtepi32_ps(p0), acc0);
  }
  return hsum256(_mm256_add_ps(acc0, acc1));
}

/* Q4_1 · Q8_1: Σ q·y by vpdpbusd, plus m·s per block. */
static float dot_q4_1(int n, const void *vw, const void *va) {
  const sf_block_q4_1 *x = vw;
  const sf_block_q8_1 *y = va;
  const __m256i z = _mm256_setzero_si256();
  __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
  float summs = 0;
  const int nb = n / SF_QK;
  int ib = 0;
  for (; ib + 1 < nb; ib += 2) {
    const __m256i p0 = _mm256_dpbusd_epi32(z, nibbles32(x[ib].qs), _mm256_loadu_si256((const __m256i *)y[ib].qs));
    const __m256i p1 = _mm256_dpbusd_epi32(z, nibbles32(x[ib + 1].qs), _mm256_loadu_si256((const __m256i *)y[ib + 1].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[ib].d) * h2f(y[ib].d)), _mm256_cvtepi32_ps(p0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[ib + 1].d) * h2f(y[ib + 1].d)), _mm256_cvtepi32_ps(p1), acc1);
    summs += h2f(x[ib].m) * h2f(y[ib].s) + h2f(x[ib + 1].m) * h2f(y[ib + 1].s);
  }
  for (; ib < nb; ib++) {
    const __m256i p0 = _mm256_dpbusd_epi32(z, nibbles32(x[ib].qs), _mm256_loadu_si256((const __m256i *)y[ib].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[ib].d) * h2f(y[ib].d)), _mm256_cvtepi32_ps(p0), acc0);
    summs += h2f(x[ib].m) * h2f(y[ib].s);
  }
  return hsum256(_mm256_add_ps(acc0, acc1)) + summs;
}

/* Q8_0 · Q8_0: |x| (as u8, ≤ 128) · sign(y, x) by vpdpbusd. */
static float dot_q8_0(int n, const void *vw, const void *va) {
  const sf_block_q8_0 *x = vw, *y = va;
  const __m256i z = _mm256_setzero_si256();
  __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0;
  const int nb = n / SF_QK;
  int ib = 0;
#define Q8DOT(b) \
  _mm256_dpbusd_epi32(z, _mm256_abs_epi8(_mm256_loadu_si256((const __m256i *)x[b].qs)), \
                      _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)y[b].qs), _mm256_loadu_si256((const __m256i *)x[b].qs)))
  for (; ib + 1 < nb; ib += 2) {
    const __m256i p0 = Q8DOT(ib), p1 = Q8DOT(ib + 1);
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[ib].d) * h2f(y[ib].d)), _mm256_cvtepi32_ps(p0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[ib + 1].d) * h2f(y[ib + 1].d)), _mm256_cvtepi32_ps(p1), acc1);
  }
  for (; ib < nb; ib++) {
    const __m256i p0 = Q8DOT(ib);
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[ib].d) * h2f(y[ib].d)), _mm256_cvtepi32_ps(p0), acc0);
  }
#undef Q8DOT
  return hsum256(_mm256_add_ps(acc0, acc1));
}

int sf_fill_avx512(sf_kernel_table *k) {
  static const struct { int t; sf_vec_dot_fn f; } list[] = {
    {SF_F32, dot_f32}, {SF_F16, dot_f16}, {SF_BF16, dot_bf16}, {SF_Q4_0, dot_q4_0}, {SF_Q4_1, dot_q4_1}, {SF_Q8_0, dot_q8_0},
  };
  for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
    k->vec_dot[list[i].t] = list[i].f;
    k->impl[list[i].t] = "avx512";
  }
  return 1;
}

#else
int sf_fill_avx512(sf_kernel_table *k) {
  (void)k;
  return 0;
}
#endif
