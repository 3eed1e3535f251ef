/*
 * AVX-512 kernels of the attention (sf_attn.c): the same float operations, in the same order,
 * as the scalar lane emulation there and as ggml-cpu's AVX-512 code (vec.cpp ggml_vec_dot_f32 /
 * ggml_vec_soft_max_f32, vec.h ggml_v_expf, llamafile/sgemm.cpp tinyBLAS<16, __m512>).
 * Compiled with the AVX-512 flags (scripts/build-native.mjs, *_avx512.c); empty otherwise.
 */
#include "sf_common.h"
#include "sf_attn.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#include <math.h>

int sf_attn_avx512_compiled(void) { return 1; }

/* _mm512_reduce_add_ps as GCC expands it (halves 8+8, 4+4, then (0+2)+(1+3)), spelled out so the
 * order does not depend on the header version. */
static inline float hsum16(__m512 v) {
  const __m256 lo = _mm512_castps512_ps256(v);
  const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
  const __m256 h = _mm256_add_ps(hi, lo);
  const __m128 q = _mm_add_ps(_mm256_extractf128_ps(h, 1), _mm256_castps256_ps128(h));
  const __m128 r = _mm_add_ps(q, _mm_shuffle_ps(q, q, _MM_SHUFFLE(1, 0, 3, 2)));
  return _mm_cvtss_f32(r) + _mm_cvtss_f32(_mm_shuffle_ps(r, r, _MM_SHUFFLE(1, 1, 1, 1)));
}

float sf_attn_dot64_avx512(const float *x, const float *y, int64_t nb) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; b++, x += 64, y += 64) {
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x), _mm512_loadu_ps(y), a0);
    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 16), _mm512_loadu_ps(y + 16), a1);
    a2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 32), _mm512_loadu_ps(y + 32), a2);
    a3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 48), _mm512_loadu_ps(y + 48), a3);
  }
  a0 = _mm512_add_ps(a0, a2);
  a1 = _mm512_add_ps(a1, a3);
  return hsum16(_mm512_add_ps(a0, a1));
}

/* Four sf_attn_dot64_avx512 (rows x0 + k*stride, k < 4, against the same y) interleaved, each
 * with the same accumulators and reduction order: the same four results. */
void sf_attn_dot64x4_avx512(const float *x0, int64_t stride, const float *y, int64_t nb, float *out) {
  __m512 a[4][4];
  for (int k = 0; k < 4; k++) for (int l = 0; l < 4; l++) a[k][l] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; b++) {
    for (int l = 0; l < 4; l++) {
      const __m512 yv = _mm512_loadu_ps(y + b * 64 + l * 16);
      for (int k = 0; k < 4; k++) a[k][l] = _mm512_fmadd_ps(_mm512_loadu_ps(x0 + k * stride + b * 64 + l * 16), yv, a[k][l]);
    }
  }
  for (int k = 0; k < 4; k++) {
    const __m512 s0 = _mm512_add_ps(a[k][0], a[k][2]);
    const __m512 s1 = _mm512_add_ps(a[k][1], a[k][3]);
    out[k] = hsum16(_mm512_add_ps(s0, s1));
  }
}

float sf_attn_dot16_avx512(const float *x, const float *y, int64_t nb) {
  __m512 a = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; b++, x += 16, y += 16) a = _mm512_fmadd_ps(_mm512_loadu_ps(x), _mm512_loadu_ps(y), a);
  return hsum16(a);
}

/* Four independent sf_attn_dot16_avx512 (rows x0 + k*stride, k < 4, against the same y), each
 * with its own accumulator in the same order: the same four results, without waiting on one
 * FMA chain. */
void sf_attn_dot16x4_avx512(const float *x0, int64_t stride, const float *y, int64_t nb, float *out) {
  const float *x1 = x0 + stride, *x2 = x1 + stride, *x3 = x2 + stride;
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; b++) {
    const __m512 yv = _mm512_loadu_ps(y + b * 16);
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x0 + b * 16), yv, a0);
    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x1 + b * 16), yv, a1);
    a2 = _mm512_fmadd_ps(_mm512_loadu_ps(x2 + b * 16), yv, a2);
    a3 = _mm512_fmadd_ps(_mm512_loadu_ps(x3 + b * 16), yv, a3);
  }
  out[0] = hsum16(a0);
  out[1] = hsum16(a1);
  out[2] = hsum16(a2);
  out[3] = hsum16(a3);
}

/* e^x: round x·log2(e) to n (add/subtract 1.5·2^23), reduce b = x - n·ln2 in two FMA steps,
 * degree-5 polynomial in b evaluated as (c5 b + c4) u + (c3 b + c2)) u + (c1 b + 1) with u = b²,
 * scale by 2^n; |n| > 192 saturates to 0 or +inf. */
static inline __m512 exp16(__m512 x) {
  const __m512 shifter = _mm512_set1_ps(0x1.8p23f);
  const __m512 n = _mm512_sub_ps(_mm512_fmadd_ps(x, _mm512_set1_ps(0x1.715476p+0f), shifter), shifter);
  const __m512 b = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.7f7d1cp-20f), _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e4p-1f), x));
  const __m512 u = _mm512_mul_ps(b, b);
  const __m512 p54 = _mm512_fmadd_ps(_mm512_set1_ps(0x1.0e4020p-7f), b, _mm512_set1_ps(0x1.573e2ep-5f));
  const __m512 p32 = _mm512_fmadd_ps(_mm512_set1_ps(0x1.555e66p-3f), b, _mm512_set1_ps(0x1.fffdb6p-2f));
  const __m512 p10 = _mm512_fmadd_ps(_mm512_set1_ps(0x1.ffffecp-1f), b, _mm512_set1_ps(1.0f));
  const __m512 poly = _mm512_fmadd_ps(_mm512_fmadd_ps(p54, u, p32), u, p10);
  const __m512 res = _mm512_scalef_ps(poly, n);
  const __mmask16 big = _mm512_cmp_ps_mask(_mm512_abs_ps(n), _mm512_set1_ps(192), _CMP_GT_OQ);
  if (!big) return res;
  const __mmask16 neg = _mm512_cmp_ps_mask(n, _mm512_setzero_ps(), _CMP_LE_OQ);
  const __m512 sat = _mm512_mask_blend_ps(neg, _mm512_set1_ps(INFINITY), _mm512_setzero_ps());
  return _mm512_mask_blend_ps(big, res, sat);
}

double sf_attn_exp16_avx512(float *y, const float *x, float max, int64_t nb, double sum) {
  const __m512 m = _mm512_set1_ps(max);
  for (int64_t b = 0; b < nb; b++, x += 16, y += 16) {
    const __m512 v = exp16(_mm512_sub_ps(_mm512_loadu_ps(x), m));
    _mm512_storeu_ps(y, v);
    sum += (double)hsum16(v);
  }
  return sum;
}

/* ggml_vec_swiglu_f32's AVX-512 loop: y = ggml_v_silu(x) * g, ggml_v_silu(x) = x / (1 + ggml_v_expf(0 - x)). */
void sf_attn_swiglu16_avx512(float *y, const float *x, const float *g, int64_t nb) {
  const __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; b++, x += 16, g += 16, y += 16) {
    const __m512 v = _mm512_loadu_ps(x);
    const __m512 s = _mm512_div_ps(v, _mm512_add_ps(one, exp16(_mm512_sub_ps(zero, v))));
    _mm512_storeu_ps(y, _mm512_mul_ps(s, _mm512_loadu_ps(g)));
  }
}

#else

int sf_attn_avx512_compiled(void) { return 0; }
void sf_attn_swiglu16_avx512(float *y, const float *x, const float *g, int64_t nb) { (void)y; (void)x; (void)g; (void)nb; }
float sf_attn_dot64_avx512(const float *x, const float *y, int64_t nb) { (void)x; (void)y; (void)nb; return 0; }
float sf_attn_dot16_avx512(const float *x, const float *y, int64_t nb) { (void)x; (void)y; (void)nb; return 0; }
void sf_attn_dot64x4_avx512(const float *x0, int64_t stride, const float *y, int64_t nb, float *out) { (void)x0; (void)stride; (void)y; (void)nb; (void)out; }
void sf_attn_dot16x4_avx512(const float *x0, int64_t stride, const float *y, int64_t nb, float *out) { (void)x0; (void)stride; (void)y; (void)nb; (void)out; }
double sf_attn_exp16_avx512(float *y, const float *x, float max, int64_t nb, double sum) {
  (void)y; (void)x; (void)max; (void)nb;
  return sum;
}

#endif
