/*
 * AVX-512 VNNI tile kernels for multi-token matmuls of weights whose activations are Q8_0
 * (Q4_0, Q5_0, Q8_0): R ≤ 4 weight rows × 4 tokens per pass, two tokens per 512-bit register.
 *
 * Same float operations, in the same order, as the one-row kernels of sf_dot_avx512.c (which equal
 * ggml-cpu's ggml_vec_dot_q{4,5,8}_0_q8_0 on x86 and llamafile's tinyBLAS_Q0_AVX, see
 * docs/fidelity.md): per weight block, an exact int32 dot for each of 8 lanes of 4 bytes,
 * converted to float, times the fp32 product dx·dy, fused-added into that lane's accumulator;
 * the 8 lanes are summed at the end as hsum256 does. Only the integer part is computed
 * differently (and exactly): lane = Σ (x+off)·y − off·Σ y with off = 8 (Q4_0), 16 (Q5_0) or 128
 * (Q8_0, x+128 as u8), where off·Σ y is computed once per activation block and shared by the R
 * weight rows. Weight blocks are unpacked once per 4 tokens, activation blocks loaded once per
 * R rows.
 *
 * Activations come packed by sf_gemm_pack_q8_0 (4 tokens per group): per block, the 4 tokens'
 * 32 quants contiguously (128 bytes), and separately their 4 scales as float32 (exact fp16 → fp32).
 */
#include "sf_gemm.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VNNI__) && defined(__F16C__)
#include <immintrin.h>

int sf_gemm_q8_0_supported(void) { return 1; }

void sf_gemm_pack_q8_0(const uint8_t *act, size_t a_row, int64_t nb, int8_t *qs, float *d) {
  for (int64_t ib = 0; ib < nb; ib++) {
    for (int t = 0; t < 4; t++) {
      const sf_block_q8_0 *y = (const sf_block_q8_0 *)(act + (size_t)t * a_row) + ib;
      memcpy(qs + ib * 128 + t * 32, y->qs, 32);
      d[ib * 4 + t] = _cvtsh_ss(y->d);
    }
  }
}

static inline float hsum256(__m256 v) {
  __m128 r = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

#define TILE_INLINE static inline __attribute__((always_inline))

/* 32 weights of one block as unsigned bytes x+off, repeated in both 256-bit halves; *dx its scale. */
TILE_INLINE __m512i unpack_q4_0(const uint8_t *blk, float *dx) {
  const sf_block_q4_0 *b = (const sf_block_q4_0 *)blk;
  *dx = _cvtsh_ss(b->d);
  const __m512i t = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)b->qs));
  return _mm512_and_si512(_mm512_srlv_epi64(t, _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0)), _mm512_set1_epi8(0x0F));
}
TILE_INLINE __m512i unpack_q5_0(const uint8_t *blk, float *dx) {
  const sf_block_q5_0 *b = (const sf_block_q5_0 *)blk;
  *dx = _cvtsh_ss(b->d);
  const __m512i t = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)b->qs));
  const __m512i nib = _mm512_and_si512(_mm512_srlv_epi64(t, _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0)), _mm512_set1_epi8(0x0F));
  uint32_t h;
  memcpy(&h, b->qh, 4);
  const __mmask64 k = (__mmask64)h | ((__mmask64)h << 32);
  return _mm512_mask_add_epi8(nib, k, nib, _mm512_set1_epi8(0x10));
}
TILE_INLINE __m512i unpack_q8_0(const uint8_t *blk, float *dx) {
  const sf_block_q8_0 *b = (const sf_block_q8_0 *)blk;
  *dx = _cvtsh_ss(b->d);
  const __m512i t = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)b->qs));
  return _mm512_xor_si512(t, _mm512_set1_epi8((char)0x80));
}

/* R rows × 4 tokens. w: first row's blocks, rows w_row bytes apart, `bs` bytes per block.
 * out[r*4 + t] = row r · token t. */
#define DEF_TILE(NAME, UNPACK, BS, OFF)                                                                   \
  TILE_INLINE void NAME##_tile(const int R, int64_t nb, const uint8_t *w, size_t w_row, const int8_t *yq,   \
                               const float *yd, float *out) {                                           \
    __m512 acc[4][2];                                                                                   \
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();                            \
    const __m512i off = _mm512_set1_epi8((char)(OFF));                                                  \
    const __m512i zero = _mm512_setzero_si512();                                                        \
    const __m512i i01 = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);               \
    const __m512i i23 = _mm512_set_epi32(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2);               \
    for (int64_t ib = 0; ib < nb; ib++) {                                                               \
      const __m512i y01 = _mm512_loadu_si512(yq + ib * 128);                                            \
      const __m512i y23 = _mm512_loadu_si512(yq + ib * 128 + 64);                                       \
      const __m512i c01 = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, off, y01));                 \
      const __m512i c23 = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, off, y23));                  \
      const __m512 d4 = _mm512_castps128_ps512(_mm_loadu_ps(yd + ib * 4));                              \
      const __m512 dy01 = _mm512_permutexvar_ps(i01, d4), dy23 = _mm512_permutexvar_ps(i23, d4);        \
      for (int r = 0; r < R; r++) {                                                                     \
        float dx;                                                                                       \
        const __m512i q = UNPACK(w + (size_t)r * w_row + (size_t)ib * (BS), &dx);                        \
        const __m512 dxv = _mm512_set1_ps(dx);                                                          \
        const __m512i p01 = _mm512_dpbusd_epi32(c01, q, y01);                                           \
        const __m512i p23 = _mm512_dpbusd_epi32(c23, q, y23);                                           \
        acc[r][0] = _mm512_fmadd_ps(_mm512_mul_ps(dxv, dy01), _mm512_cvtepi32_ps(p01), acc[r][0]);      \
        acc[r][1] = _mm512_fmadd_ps(_mm512_mul_ps(dxv, dy23), _mm512_cvtepi32_ps(p23), acc[r][1]);      \
      }                                                                                                 \
    }                                                                                                   \
    for (int r = 0; r < R; r++) {                                                                       \
      out[r * 4 + 0] = hsum256(_mm512_castps512_ps256(acc[r][0]));                                      \
      out[r * 4 + 1] = hsum256(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[r][0]), 1)));                                   \
      out[r * 4 + 2] = hsum256(_mm512_castps512_ps256(acc[r][1]));                                      \
      out[r * 4 + 3] = hsum256(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[r][1]), 1)));                                   \
    }                                                                                                   \
  }

DEF_TILE(q4_0, unpack_q4_0, 18, 8)
DEF_TILE(q5_0, unpack_q5_0, 22, 16)
DEF_TILE(q8_0, unpack_q8_0, 34, 128)

#define DEF_ENTRY(NAME)                                                                                 \
  static void NAME##_gemm(int R, int64_t nb, const uint8_t *w, size_t w_row, const int8_t *yq, const float *yd, \
                          float *out) {                                                                 \
    switch (R) {                                                                                        \
      case 4: NAME##_tile(4, nb, w, w_row, yq, yd, out); break;                                         \
      case 3: NAME##_tile(3, nb, w, w_row, yq, yd, out); break;                                         \
      case 2: NAME##_tile(2, nb, w, w_row, yq, yd, out); break;                                         \
      default: NAME##_tile(1, nb, w, w_row, yq, yd, out); break;                                        \
    }                                                                                                   \
  }
DEF_ENTRY(q4_0)
DEF_ENTRY(q5_0)
DEF_ENTRY(q8_0)

sf_gemm_q8_0_fn sf_gemm_q8_0_kernel(int type) {
  switch (type) {
    case SF_Q4_0: return q4_0_gemm;
    case SF_Q5_0: return q5_0_gemm;
    case SF_Q8_0: return q8_0_gemm;
    default: return NULL;
  }
}

#else
int sf_gemm_q8_0_supported(void) { return 0; }
void sf_gemm_pack_q8_0(const uint8_t *act, size_t a_row, int64_t nb, int8_t *qs, float *d) {
  (void)act; (void)a_row; (void)nb; (void)qs; (void)d;
}
sf_gemm_q8_0_fn sf_gemm_q8_0_kernel(int type) { (void)type; return NULL; }
#endif
