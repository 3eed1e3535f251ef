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
#include <pthread.h>

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

/* ------------------------------------------------------------------ Q4_K (repacked order)
 *
 * Float order of ggml-cpu's ggml_gemm_q4_K_8x8_q8_K (arch/x86/repack.cpp; what llama.cpp runs for
 * the first n_tok - n_tok % 4 tokens of a batch when the Q4_K matrix has a multiple of 8 rows; the
 * one-row emulation is q4_K_rows_impl(repacked = 2) in sf_dot_avx2.c): per super-block and per
 * pair j of 32-element sub-blocks, isum_j = sc[2j]·Σ q·y + sc[2j+1]·Σ q·y (exact int32),
 * acc = fma((float)isum_j, dx·dy, acc), and with the mins, accm = fma((float)msum_j, dmin·dy, accm),
 * j = 0..3 in order; result acc − accm. Here each lane of a 128-bit vector is one token, so the
 * four tokens' chains run side by side with exactly those scalar operations.
 *
 * Packed activations per 4-token group and super-block (SF_GEMM_Q8K_BLOCK bytes): for j = 0..3,
 * half h = 0 (elements 64j..64j+31) / 1 (64j+32..64j+63), token pair p = 0 (t0,t1) / 1 (t2,t3):
 * 64 bytes = both tokens' 32 quants; then be[16], bo[16] int32 (lane 4j+t: the token's bsums
 * pair sum of sub-block 2j resp. 2j+1); then per token pair p the raw bsums of both tokens
 * (2 × 16 int16 = 64 bytes); scales d[4] go to the float array. */

void sf_gemm_pack_q8_K(const uint8_t *act, size_t a_row, int64_t nb, int8_t *qs, float *d) {
  for (int64_t ib = 0; ib < nb; ib++) {
    int8_t *o = qs + ib * SF_GEMM_Q8K_BLOCK;
    int32_t *be = (int32_t *)(o + 1024), *bo = be + 16;
    for (int t = 0; t < 4; t++) {
      const sf_block_q8_K *y = (const sf_block_q8_K *)(act + (size_t)t * a_row) + ib;
      d[ib * 4 + t] = y->d;
      for (int j = 0; j < 4; j++) {
        for (int h = 0; h < 2; h++) memcpy(o + ((j * 2 + h) * 2 + t / 2) * 64 + (t % 2) * 32, y->qs + 64 * j + 32 * h, 32);
        be[4 * j + t] = (int32_t)y->bsums[4 * j] + y->bsums[4 * j + 1];
        bo[4 * j + t] = (int32_t)y->bsums[4 * j + 2] + y->bsums[4 * j + 3];
      }
      memcpy(o + 1152 + (t / 2) * 64 + (t % 2) * 32, y->bsums, 32);
    }
  }
}

TILE_INLINE void q4_K_tile(const int R, int64_t nb, const uint8_t *w, size_t w_row, const int8_t *yq, const float *yd,
                           float *out) {
  __m128 acc[4], accm[4];
  for (int r = 0; r < R; r++) acc[r] = accm[r] = _mm_setzero_ps();
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  /* lane 4j+t <- mins 2j resp. 2j+1 */
  const __m512i ie = _mm512_set_epi32(6, 6, 6, 6, 4, 4, 4, 4, 2, 2, 2, 2, 0, 0, 0, 0);
  const __m512i io = _mm512_set_epi32(7, 7, 7, 7, 5, 5, 5, 5, 3, 3, 3, 3, 1, 1, 1, 1);
  /* lane 4t+j -> lane 4j+t */
  const __m512i tr = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
  for (int64_t ib = 0; ib < nb; ib++) {
    const int8_t *Y = yq + ib * SF_GEMM_Q8K_BLOCK;
    const __m512i be = _mm512_loadu_si512(Y + 1024), bo = _mm512_loadu_si512(Y + 1088);
    const __m128 dy = _mm_loadu_ps(yd + ib * 4);
    for (int r = 0; r < R; r++) {
      const sf_block_q4_K *x = (const sf_block_q4_K *)(w + (size_t)r * w_row) + ib;
      /* the 8 six-bit scales and mins (= sf_get_scale_min_k4 for j = 0..7, as ggml's utmp unpacking) */
      uint32_t u[4];
      memcpy(u, x->scales, 12);
      u[3] = ((u[2] >> 4) & 0x0f0f0f0fu) | (((u[1] >> 6) & 0x03030303u) << 4);
      const uint32_t ua = u[1] & 0x3f3f3f3fu;
      u[1] = (u[2] & 0x0f0f0f0fu) | (((u[0] >> 6) & 0x03030303u) << 4);
      u[2] = ua;
      u[0] &= 0x3f3f3f3fu;
      const uint8_t *sc = (const uint8_t *)u;
      __m512i v[4][2];
      for (int j = 0; j < 4; j++) {
        const __m512i q = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(x->qs + 32 * j)));
        const __m512i lo = _mm512_and_si512(q, m4), hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
        const __m512i s0 = _mm512_set1_epi16(sc[2 * j]), s1 = _mm512_set1_epi16(sc[2 * j + 1]);
        for (int p = 0; p < 2; p++) {
          const __m512i ylo = _mm512_loadu_si512(Y + ((j * 2 + 0) * 2 + p) * 64);
          const __m512i yhi = _mm512_loadu_si512(Y + ((j * 2 + 1) * 2 + p) * 64);
          v[j][p] = _mm512_add_epi32(_mm512_madd_epi16(_mm512_maddubs_epi16(lo, ylo), s0),
                                     _mm512_madd_epi16(_mm512_maddubs_epi16(hi, yhi), s1));
        }
      }
      /* exact integer transpose-reduce: S lane 4t+j = Σ of token t's 8 lanes of v[j] */
      __m512i c[2];
      for (int p = 0; p < 2; p++) {
        const __m512i a = _mm512_add_epi32(_mm512_unpacklo_epi32(v[0][p], v[1][p]), _mm512_unpackhi_epi32(v[0][p], v[1][p]));
        const __m512i b = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2][p], v[3][p]), _mm512_unpackhi_epi32(v[2][p], v[3][p]));
        c[p] = _mm512_add_epi32(_mm512_unpacklo_epi64(a, b), _mm512_unpackhi_epi64(a, b));
      }
      /* c[p] 128-bit lanes: (t=2p: half 0, half 1), (t=2p+1: half 0, half 1), each [j0 j1 j2 j3] */
      const __m512i S = _mm512_add_epi32(_mm512_shuffle_i32x4(c[0], c[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                         _mm512_shuffle_i32x4(c[0], c[1], _MM_SHUFFLE(3, 1, 3, 1)));
      const __m512 isf = _mm512_cvtepi32_ps(_mm512_permutexvar_epi32(tr, S)); /* lane 4j+t */
      /* mins: msum_j(t) = mn[2j]·be + mn[2j+1]·bo (exact) */
      const __m512i mn32 = _mm512_cvtepu8_epi32(_mm_cvtsi64_si128(((int64_t)u[3] << 32) | u[2])); /* lanes 0..7: mn[0..7] */
      const __m512i mne = _mm512_permutexvar_epi32(ie, mn32), mno = _mm512_permutexvar_epi32(io, mn32);
      const __m512 msf = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_mullo_epi32(mne, be), _mm512_mullo_epi32(mno, bo)));
      const __m128 dd = _mm_mul_ps(_mm_set1_ps(_cvtsh_ss(x->d)), dy);
      const __m128 dm = _mm_mul_ps(_mm_set1_ps(_cvtsh_ss(x->dmin)), dy);
      acc[r] = _mm_fmadd_ps(_mm512_castps512_ps128(isf), dd, acc[r]);
      accm[r] = _mm_fmadd_ps(_mm512_castps512_ps128(msf), dm, accm[r]);
      acc[r] = _mm_fmadd_ps(_mm512_extractf32x4_ps(isf, 1), dd, acc[r]);
      accm[r] = _mm_fmadd_ps(_mm512_extractf32x4_ps(msf, 1), dm, accm[r]);
      acc[r] = _mm_fmadd_ps(_mm512_extractf32x4_ps(isf, 2), dd, acc[r]);
      accm[r] = _mm_fmadd_ps(_mm512_extractf32x4_ps(msf, 2), dm, accm[r]);
      acc[r] = _mm_fmadd_ps(_mm512_extractf32x4_ps(isf, 3), dd, acc[r]);
      accm[r] = _mm_fmadd_ps(_mm512_extractf32x4_ps(msf, 3), dm, accm[r]);
    }
  }
  for (int r = 0; r < R; r++) _mm_storeu_ps(out + r * 4, _mm_sub_ps(acc[r], accm[r]));
}
DEF_ENTRY(q4_K)

/* ------------------------------------------------------------------ Q6_K
 *
 * Float order of ggml_vec_dot_q6_K_q8_K on x86 (the one-row kernel is q6_K_rows in
 * sf_dot_avx2.c): per super-block, 8 int32 lanes (lane k: the 4-byte groups at offset 4k of each
 * 32-element slice, times their 16-element scales, minus 32·(bsums[2k]·sc[2k] + bsums[2k+1]·sc[2k+1])),
 * converted and fused-added with dx·dy into 8 float lanes; hsum256 at the end. Same lanes here,
 * two tokens per 512-bit register. Uses the Q8_K packing of sf_gemm_pack_q8_K (raw bsums at 1152). */
/* vpermw indices: for (half, g), 16-bit lanes 0-7 and 16-23 take scale 8·half + 2g, the others 8·half + 2g + 1 */
static _Alignas(64) int16_t g_q6_sidx[8][32];
static void q6_sidx_init(void) {
  for (int hg = 0; hg < 8; hg++)
    for (int l = 0; l < 32; l++) g_q6_sidx[hg][l] = (int16_t)(8 * (hg / 4) + 2 * (hg % 4) + ((l / 8) % 2));
}
static pthread_once_t g_q6_once = PTHREAD_ONCE_INIT;

TILE_INLINE void q6_K_tile(const int R, int64_t nb, const uint8_t *w, size_t w_row, const int8_t *yq, const float *yd,
                           float *out) {
  __m512 acc[4][2];
  for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i h03 = _mm256_set1_epi8(0x03), h0c = _mm256_set1_epi8(0x0C), h30 = _mm256_set1_epi8(0x30);
  const __m256i hc0 = _mm256_set1_epi8((char)0xC0);
  const __m512i i01 = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m512i i23 = _mm512_set_epi32(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2);
  for (int64_t ib = 0; ib < nb; ib++) {
    const int8_t *Y = yq + ib * SF_GEMM_Q8K_BLOCK;
    const __m512 d4 = _mm512_castps128_ps512(_mm_loadu_ps(yd + ib * 4));
    const __m512 dy[2] = {_mm512_permutexvar_ps(i01, d4), _mm512_permutexvar_ps(i23, d4)};
    const __m512i bs[2] = {_mm512_loadu_si512(Y + 1152), _mm512_loadu_si512(Y + 1216)};
    for (int r = 0; r < R; r++) {
      const sf_block_q6_K *x = (const sf_block_q6_K *)(w + (size_t)r * w_row) + ib;
      __m512i sumi[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
      /* int16 scales, lanes 0..15 (and 16..31): the per-g vectors are picked from it by vpermw */
      const __m512i sc16 = _mm512_broadcast_i64x4(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x->scales)));
      for (int half = 0; half < 2; half++) {
        const uint8_t *ql = x->ql + 64 * half, *qh = x->qh + 32 * half;
        const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql), l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
        const __m256i h = _mm256_loadu_si256((const __m256i *)qh);
        __m256i q[4];
        q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(h, h03), 4));
        q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(h, h0c), 2));
        q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, h30));
        q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_srli_epi16(_mm256_and_si256(h, hc0), 2));
        for (int g = 0; g < 4; g++) {
          const __m512i qz = _mm512_broadcast_i64x4(q[g]);
          const __m512i s = _mm512_permutexvar_epi16(_mm512_loadu_si512(g_q6_sidx[half * 4 + g]), sc16);
          const int slot = ((2 * half + g / 2) * 2 + g % 2) * 2;
          for (int p = 0; p < 2; p++)
            sumi[p] = _mm512_add_epi32(sumi[p], _mm512_madd_epi16(_mm512_maddubs_epi16(qz, _mm512_loadu_si512(Y + (slot + p) * 64)), s));
        }
      }
      const __m512 dxv = _mm512_set1_ps(_cvtsh_ss(x->d));
      for (int p = 0; p < 2; p++) {
        const __m512i sub = _mm512_slli_epi32(_mm512_madd_epi16(bs[p], sc16), 5);
        acc[r][p] = _mm512_fmadd_ps(_mm512_mul_ps(dy[p], dxv), _mm512_cvtepi32_ps(_mm512_sub_epi32(sumi[p], sub)), acc[r][p]);
      }
    }
  }
  for (int r = 0; r < R; r++) {
    out[r * 4 + 0] = hsum256(_mm512_castps512_ps256(acc[r][0]));
    out[r * 4 + 1] = hsum256(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[r][0]), 1)));
    out[r * 4 + 2] = hsum256(_mm512_castps512_ps256(acc[r][1]));
    out[r * 4 + 3] = hsum256(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[r][1]), 1)));
  }
}
DEF_ENTRY(q6_K)

/* ------------------------------------------------------------------ Q4_1 / Q5_1 (Q8_1 activations)
 *
 * As q4_1_rows / q5_1_rows in sf_dot_avx512.c (ggml_vec_dot_q4_1_q8_1 / q5_1 on x86): per block
 * the exact int32 lanes Σ q·y times dx·dy into 8 float lanes, and summs += m·s (a separate fp32
 * multiply and add per block, in block order); result hsum256(acc) + summs. The four tokens'
 * summs run as the lanes of one 128-bit vector. Packing: sf_gemm_pack_q8_1 (quants as Q8_0's; the
 * float array holds per block d[4] then s[4]). */
void sf_gemm_pack_q8_1(const uint8_t *act, size_t a_row, int64_t nb, int8_t *qs, float *d) {
  for (int64_t ib = 0; ib < nb; ib++) {
    for (int t = 0; t < 4; t++) {
      const sf_block_q8_1 *y = (const sf_block_q8_1 *)(act + (size_t)t * a_row) + ib;
      memcpy(qs + ib * 128 + t * 32, y->qs, 32);
      d[ib * 8 + t] = _cvtsh_ss(y->d);
      d[ib * 8 + 4 + t] = _cvtsh_ss(y->s);
    }
  }
}

TILE_INLINE __m512i unpack_q4_1(const uint8_t *blk, float *dx, float *mx) {
  const sf_block_q4_1 *b = (const sf_block_q4_1 *)blk;
  *dx = _cvtsh_ss(b->d);
  *mx = _cvtsh_ss(b->m);
  const __m512i t = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)b->qs));
  return _mm512_and_si512(_mm512_srlv_epi64(t, _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0)), _mm512_set1_epi8(0x0F));
}
TILE_INLINE __m512i unpack_q5_1(const uint8_t *blk, float *dx, float *mx) {
  const sf_block_q5_1 *b = (const sf_block_q5_1 *)blk;
  *dx = _cvtsh_ss(b->d);
  *mx = _cvtsh_ss(b->m);
  const __m512i t = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)b->qs));
  const __m512i nib = _mm512_and_si512(_mm512_srlv_epi64(t, _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0)), _mm512_set1_epi8(0x0F));
  uint32_t h;
  memcpy(&h, b->qh, 4);
  const __mmask64 k = (__mmask64)h | ((__mmask64)h << 32);
  return _mm512_mask_add_epi8(nib, k, nib, _mm512_set1_epi8(0x10));
}

#define DEF_TILE1(NAME, UNPACK, BS)                                                                        \
  TILE_INLINE void NAME##_tile(const int R, int64_t nb, const uint8_t *w, size_t w_row, const int8_t *yq,   \
                               const float *yd, float *out) {                                           \
    __m512 acc[4][2];                                                                                   \
    __m128 summs[4];                                                                                    \
    for (int r = 0; r < R; r++) { acc[r][0] = acc[r][1] = _mm512_setzero_ps(); summs[r] = _mm_setzero_ps(); } \
    const __m512i zero = _mm512_setzero_si512();                                                        \
    const __m512i i01 = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);               \
    const __m512i i23 = _mm512_set_epi32(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2);               \
    for (int64_t ib = 0; ib < nb; ib++) {                                                               \
      const __m512i y01 = _mm512_loadu_si512(yq + ib * 128);                                            \
      const __m512i y23 = _mm512_loadu_si512(yq + ib * 128 + 64);                                       \
      const __m512 d4 = _mm512_castps128_ps512(_mm_loadu_ps(yd + ib * 8));                              \
      const __m128 s4 = _mm_loadu_ps(yd + ib * 8 + 4);                                                  \
      const __m512 dy01 = _mm512_permutexvar_ps(i01, d4), dy23 = _mm512_permutexvar_ps(i23, d4);        \
      for (int r = 0; r < R; r++) {                                                                     \
        float dx, mx;                                                                                   \
        const __m512i q = UNPACK(w + (size_t)r * w_row + (size_t)ib * (BS), &dx, &mx);                   \
        const __m512 dxv = _mm512_set1_ps(dx);                                                          \
        summs[r] = _mm_add_ps(summs[r], _mm_mul_ps(_mm_set1_ps(mx), s4));                               \
        const __m512i p01 = _mm512_dpbusd_epi32(zero, q, y01);                                          \
        const __m512i p23 = _mm512_dpbusd_epi32(zero, q, y23);                                          \
        acc[r][0] = _mm512_fmadd_ps(_mm512_mul_ps(dxv, dy01), _mm512_cvtepi32_ps(p01), acc[r][0]);      \
        acc[r][1] = _mm512_fmadd_ps(_mm512_mul_ps(dxv, dy23), _mm512_cvtepi32_ps(p23), acc[r][1]);      \
      }                                                                                                 \
    }                                                                                                   \
    for (int r = 0; r < R; r++) {                                                                       \
      float sm[4];                                                                                      \
      _mm_storeu_ps(sm, summs[r]);                                                                      \
      out[r * 4 + 0] = hsum256(_mm512_castps512_ps256(acc[r][0])) + sm[0];                              \
      out[r * 4 + 1] = hsum256(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[r][0]), 1))) + sm[1]; \
      out[r * 4 + 2] = hsum256(_mm512_castps512_ps256(acc[r][1])) + sm[2];                              \
      out[r * 4 + 3] = hsum256(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[r][1]), 1))) + sm[3]; \
    }                                                                                                   \
  }
DEF_TILE1(q4_1, unpack_q4_1, 20)
DEF_TILE1(q5_1, unpack_q5_1, 24)
DEF_ENTRY(q4_1)
DEF_ENTRY(q5_1)

/* Two adjacent 4-token groups (8 tokens) per pass, sharing each weight block's unpack; otherwise
 * exactly the 4-token tile's operations (same lanes, same order). */
#define DEF_TILE8(NAME, UNPACK, BS, OFF)                                                                  \
  TILE_INLINE void NAME##_tile8(const int R, int64_t nb, const uint8_t *w, size_t w_row, const int8_t *yqa,  \
                                const float *yda, const int8_t *yqb, const float *ydb, float *outa, float *outb) { \
    __m512 acc[4][4];                                                                                   \
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = acc[r][2] = acc[r][3] = _mm512_setzero_ps();   \
    const __m512i off = _mm512_set1_epi8((char)(OFF));                                                  \
    const __m512i zero = _mm512_setzero_si512();                                                        \
    const __m512i i01 = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);               \
    const __m512i i23 = _mm512_set_epi32(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2);               \
    for (int64_t ib = 0; ib < nb; ib++) {                                                               \
      __m512i y[4], c[4];                                                                               \
      __m512 dy[4];                                                                                     \
      for (int h = 0; h < 2; h++) {                                                                     \
        const int8_t *yq = h ? yqb : yqa;                                                               \
        const float *yd = h ? ydb : yda;                                                                \
        y[2 * h] = _mm512_loadu_si512(yq + ib * 128);                                                   \
        y[2 * h + 1] = _mm512_loadu_si512(yq + ib * 128 + 64);                                          \
        c[2 * h] = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, off, y[2 * h]));                    \
        c[2 * h + 1] = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, off, y[2 * h + 1]));            \
        const __m512 d4 = _mm512_castps128_ps512(_mm_loadu_ps(yd + ib * 4));                            \
        dy[2 * h] = _mm512_permutexvar_ps(i01, d4);                                                     \
        dy[2 * h + 1] = _mm512_permutexvar_ps(i23, d4);                                                 \
      }                                                                                                 \
      for (int r = 0; r < R; r++) {                                                                     \
        float dx;                                                                                       \
        const __m512i q = UNPACK(w + (size_t)r * w_row + (size_t)ib * (BS), &dx);                        \
        const __m512 dxv = _mm512_set1_ps(dx);                                                          \
        for (int p = 0; p < 4; p++)                                                                     \
          acc[r][p] = _mm512_fmadd_ps(_mm512_mul_ps(dxv, dy[p]), _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(c[p], q, y[p])), acc[r][p]); \
      }                                                                                                 \
    }                                                                                                   \
    for (int r = 0; r < R; r++)                                                                         \
      for (int h = 0; h < 2; h++) {                                                                     \
        float *out = h ? outb : outa;                                                                   \
        out[r * 4 + 0] = hsum256(_mm512_castps512_ps256(acc[r][2 * h]));                                \
        out[r * 4 + 1] = hsum256(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[r][2 * h]), 1))); \
        out[r * 4 + 2] = hsum256(_mm512_castps512_ps256(acc[r][2 * h + 1]));                            \
        out[r * 4 + 3] = hsum256(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[r][2 * h + 1]), 1))); \
      }                                                                                                 \
  }                                                                                                     \
  static void NAME##_gemm8(int R, int64_t nb, const uint8_t *w, size_t w_row, const int8_t *yqa, const float *yda, \
                           const int8_t *yqb, const float *ydb, float *outa, float *outb) {              \
    switch (R) {                                                                                        \
      case 4: NAME##_tile8(4, nb, w, w_row, yqa, yda, yqb, ydb, outa, outb); break;                      \
      case 3: NAME##_tile8(3, nb, w, w_row, yqa, yda, yqb, ydb, outa, outb); break;                      \
      case 2: NAME##_tile8(2, nb, w, w_row, yqa, yda, yqb, ydb, outa, outb); break;                      \
      default: NAME##_tile8(1, nb, w, w_row, yqa, yda, yqb, ydb, outa, outb); break;                     \
    }                                                                                                   \
  }
DEF_TILE8(q4_0, unpack_q4_0, 18, 8)
DEF_TILE8(q5_0, unpack_q5_0, 22, 16)
DEF_TILE8(q8_0, unpack_q8_0, 34, 128)

sf_gemm8_fn sf_gemm8_kernel(int type) {
  switch (type) {
    case SF_Q4_0: return q4_0_gemm8;
    case SF_Q5_0: return q5_0_gemm8;
    case SF_Q8_0: return q8_0_gemm8;
    default: return NULL;
  }
}

sf_gemm_q8_0_fn sf_gemm_q8_0_kernel(int type) {
  switch (type) {
    case SF_Q4_0: return q4_0_gemm;
    case SF_Q5_0: return q5_0_gemm;
    case SF_Q8_0: return q8_0_gemm;
    case SF_Q4_K: return q4_K_gemm;
    case SF_Q4_1: return q4_1_gemm;
    case SF_Q5_1: return q5_1_gemm;
    case SF_Q6_K: pthread_once(&g_q6_once, q6_sidx_init); return q6_K_gemm;
    default: return NULL;
  }
}

#else
int sf_gemm_q8_0_supported(void) { return 0; }
void sf_gemm_pack_q8_0(const uint8_t *act, size_t a_row, int64_t nb, int8_t *qs, float *d) {
  (void)act; (void)a_row; (void)nb; (void)qs; (void)d;
}
sf_gemm_q8_0_fn sf_gemm_q8_0_kernel(int type) { (void)type; return NULL; }
sf_gemm8_fn sf_gemm8_kernel(int type) { (void)type; return NULL; }
void sf_gemm_pack_q8_K(const uint8_t *act, size_t a_row, int64_t nb, int8_t *qs, float *d) {
  (void)act; (void)a_row; (void)nb; (void)qs; (void)d;
}
void sf_gemm_pack_q8_1(const uint8_t *act, size_t a_row, int64_t nb, int8_t *qs, float *d) {
  (void)act; (void)a_row; (void)nb; (void)qs; (void)d;
}
#endif
