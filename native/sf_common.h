/*
 * SynFlux native CPU kernels: shared definitions.
 *
 * Block layouts are bit-compatible with ggml (llama.cpp ggml/src/ggml-common.h): every struct
 * below has exactly the size ggml's static_asserts demand, little-endian, no padding.
 * Half-precision scales are stored as raw IEEE binary16 bits (uint16_t).
 *
 * Kernel naming: sf_<what>_<type>[_<path>], path = scalar | avx2 | avx512 | neon.
 */
#ifndef SF_COMMON_H
#define SF_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SF_QK 32   /* elements per block of Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1 (ggml QK4_0 etc.) */
#define SF_QK_K 256 /* elements per super-block of the K-quants (ggml QK_K) */
#define SF_K_SCALE_SIZE 12

/* ggml type ids (ggml/include/ggml.h `enum ggml_type`); only the ones SynFlux computes with. */
enum {
  SF_F32 = 0,
  SF_F16 = 1,
  SF_Q4_0 = 2,
  SF_Q4_1 = 3,
  SF_Q5_0 = 6,
  SF_Q5_1 = 7,
  SF_Q8_0 = 8,
  SF_Q8_1 = 9,
  SF_Q4_K = 12,
  SF_Q5_K = 13,
  SF_Q6_K = 14,
  SF_Q8_K = 15,
  SF_BF16 = 30,
  SF_TYPE_COUNT = 31
};

/* 32 weights: w = d * (q - 8), q in [0,15]; low nibbles hold elements 0..15, high 16..31. 18 bytes. */
typedef struct { uint16_t d; uint8_t qs[SF_QK / 2]; } sf_block_q4_0;
/* 32 weights: w = d * q + m, q in [0,15]; nibble order as Q4_0. 20 bytes. */
typedef struct { uint16_t d; uint16_t m; uint8_t qs[SF_QK / 2]; } sf_block_q4_1;
/* 32 weights: w = d * (q - 16), q in [0,31]: low 4 bits as Q4_0's nibbles, bit 4 of element j is
 * bit j of the little-endian uint32 qh. 22 bytes. */
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[SF_QK / 2]; } sf_block_q5_0;
/* 32 weights: w = d * q + m, q in [0,31]; bit layout as Q5_0. 24 bytes. */
typedef struct { uint16_t d; uint16_t m; uint8_t qh[4]; uint8_t qs[SF_QK / 2]; } sf_block_q5_1;
/* 32 values: v = d * q, q int8. 34 bytes. */
typedef struct { uint16_t d; int8_t qs[SF_QK]; } sf_block_q8_0;
/* 32 activations: v = d * q; s = d * sum(q) (fp16). 36 bytes. */
typedef struct { uint16_t d; uint16_t s; int8_t qs[SF_QK]; } sf_block_q8_1;
/* 256 weights in 8 sub-blocks of 32: w = d*sc_j*q - dmin*m_j, 6-bit sc/m packed in scales[12]. 144 bytes. */
typedef struct { uint16_t d; uint16_t dmin; uint8_t scales[SF_K_SCALE_SIZE]; uint8_t qs[SF_QK_K / 2]; } sf_block_q4_K;
/* As Q4_K plus a fifth bit per weight in qh. 176 bytes. */
typedef struct {
  uint16_t d; uint16_t dmin; uint8_t scales[SF_K_SCALE_SIZE]; uint8_t qh[SF_QK_K / 8]; uint8_t qs[SF_QK_K / 2];
} sf_block_q5_K;
/* 256 weights in 16 sub-blocks of 16: w = d * scales_j * (q - 32), q 6-bit split in ql (4) + qh (2). 210 bytes. */
typedef struct { uint8_t ql[SF_QK_K / 2]; uint8_t qh[SF_QK_K / 4]; int8_t scales[SF_QK_K / 16]; uint16_t d; } sf_block_q6_K;
/* 256 activations: v = d * q (float d); bsums[j] = sum of qs[16j..16j+15]. 292 bytes. */
typedef struct { float d; int8_t qs[SF_QK_K]; int16_t bsums[SF_QK_K / 16]; } sf_block_q8_K;

_Static_assert(sizeof(sf_block_q4_0) == 18, "q4_0 size");
_Static_assert(sizeof(sf_block_q4_1) == 20, "q4_1 size");
_Static_assert(sizeof(sf_block_q5_0) == 22, "q5_0 size");
_Static_assert(sizeof(sf_block_q5_1) == 24, "q5_1 size");
_Static_assert(sizeof(sf_block_q8_0) == 34, "q8_0 size");
_Static_assert(sizeof(sf_block_q8_1) == 36, "q8_1 size");
_Static_assert(sizeof(sf_block_q4_K) == 144, "q4_K size");
_Static_assert(sizeof(sf_block_q5_K) == 176, "q5_K size");
_Static_assert(sizeof(sf_block_q6_K) == 210, "q6_K size");
_Static_assert(sizeof(sf_block_q8_K) == 292, "q8_K size");

/* ---------------------------------------------------------------- scalar conversions */

static inline uint32_t sf_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float sf_bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* binary16 bits -> float, exact for every input (NaN payloads kept). */
static inline float sf_fp16_to_fp32(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  if (exp == 0x1f) return sf_bits_f32(sign | 0x7f800000u | (man << 13));
  if (exp != 0) return sf_bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
  if (man == 0) return sf_bits_f32(sign);
  /* subnormal half: man * 2^-24, exact in float */
  float v = (float)man * (1.0f / 16777216.0f);
  return sign ? -v : v;
}

/* float -> binary16 bits with round-to-nearest-even, overflow to inf, NaN -> quiet NaN: the same
 * results as F16C `vcvtps2ph imm=0` and ggml's GGML_FP32_TO_FP16 (ggml-impl.h). */
static inline uint16_t sf_fp32_to_fp16(float f) {
  const uint32_t x = sf_f32_bits(f);
  const uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return sign | 0x7e00u;       /* NaN */
  if (ax >= 0x477ff000u) return sign | 0x7c00u;      /* >= 65520 rounds to inf */
  if (ax >= 0x38800000u) {                           /* normal half (>= 2^-14) */
    uint32_t r = ax - 0x38000000u;                   /* rebias exponent 127 -> 15 */
    r = (r + 0x0fffu + ((r >> 13) & 1u)) >> 13;
    return sign | (uint16_t)r;
  }
  if (ax <= 0x33000000u) return sign;                /* <= 2^-25 rounds to zero (tie to even) */
  const uint32_t e = ax >> 23;                       /* 102..112 */
  const uint32_t m = (ax & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126u - e;                   /* 14..24 */
  uint32_t r = m >> shift;
  const uint32_t rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
  if (rem > half || (rem == half && (r & 1u))) r++;
  return sign | (uint16_t)r;
}

static inline float sf_bf16_to_fp32(uint16_t h) { return sf_bits_f32((uint32_t)h << 16); }

/* float -> bfloat16 bits, round-to-nearest-even, NaN forced quiet (ggml_compute_fp32_to_bf16). */
static inline uint16_t sf_fp32_to_bf16(float f) {
  const uint32_t u = sf_f32_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 64u);
  return (uint16_t)((u + (0x7fffu + ((u >> 16) & 1u))) >> 16);
}

/* Round to nearest, ties to even, for |v| < 2^22 (ggml-quants.c nearest_int). */
static inline int sf_nearest_int(float v) {
  float t = v + 12582912.f;
  uint32_t i = sf_f32_bits(t);
  return (int)(i & 0x007fffffu) - 0x00400000;
}

/* The high bits of a Q5_0/Q5_1 block (bit j = 5th bit of element j). */
static inline uint32_t sf_load_qh(const uint8_t *qh) { uint32_t u; memcpy(&u, qh, 4); return u; }

/* 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block (ggml-quants.c get_scale_min_k4). */
static inline void sf_get_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

/* ---------------------------------------------------------------- kernel tables */

/* Dequantize n elements (a multiple of the block size) of src into dst (float32). */
typedef void (*sf_to_float_fn)(const void *src, float *dst, int64_t n);
/* Quantize n floats into blocks at dst. */
typedef void (*sf_from_float_fn)(const float *src, void *dst, int64_t n);
/* Dot product of one weight row (n elements, weight type) with one activation row already in the
 * weight type's activation type (see sf_type_traits.act_type). */
typedef float (*sf_vec_dot_fn)(int n, const void *w, const void *a);
/* One weight row against nr (1..4) activation rows `a_stride` bytes apart; out[r] must equal
 * vec_dot(n, w, a + r*a_stride) bit for bit (results never depend on the batch). */
typedef void (*sf_vec_dot_n_fn)(int n, const void *w, const void *a, size_t a_stride, int nr, float *out);

typedef struct {
  const char *name;
  int blck;               /* elements per block */
  int type_size;          /* bytes per block */
  int act_type;           /* activation (vec_dot) type for weights of this type; -1 if not a weight type */
  sf_to_float_fn to_float;
  sf_from_float_fn quantize_ref; /* reference quantizer for making model files (ggml *_ref), or NULL */
  sf_from_float_fn quantize_act; /* activation quantizer as ggml-cpu does it on x86, or NULL */
} sf_type_traits;

/* Traits of a type id, or NULL when SynFlux has no kernels for it. */
const sf_type_traits *sf_traits(int type);
/* Bytes of a row of n elements of `type` (n must be a multiple of the block size). */
static inline size_t sf_row_size(const sf_type_traits *t, int64_t n) {
  return (size_t)(n / t->blck) * (size_t)t->type_size;
}

/* NEON (AArch64) sits after AVX-512 so 'auto' (highest supported index) picks it on arm64; no CPU
 * supports both NEON and the x86 paths. */
enum { SF_PATH_SCALAR = 0, SF_PATH_AVX2 = 1, SF_PATH_AVX512 = 2, SF_PATH_NEON = 3, SF_PATH_COUNT = 4 };

typedef struct {
  sf_vec_dot_fn vec_dot[SF_TYPE_COUNT];   /* by weight type */
  sf_vec_dot_n_fn vec_dot_n[SF_TYPE_COUNT]; /* optional multi-row variant (NULL: loop vec_dot) */
  const char *impl[SF_TYPE_COUNT];        /* which path implements vec_dot[type] */
  /* Q4_K weights with a row count that is a multiple of 8, which ggml-cpu on AVX2 repacks to
   * q4_K_8x8 and multiplies with ggml_gemv/gemm_q4_K_8x8_q8_K (another float order); NULL: none. */
  sf_vec_dot_fn q4_K_x8;
  sf_vec_dot_n_fn q4_K_x8_n;
  /* ... and for the first n_tok - n_tok % 4 activation rows (ggml_gemm_q4_K_8x8_q8_K). */
  sf_vec_dot_fn q4_K_x8_gemm;
  sf_vec_dot_n_fn q4_K_x8_gemm_n;
} sf_kernel_table;

/* Fill `k` with the kernels of one path; each only overrides the entries it implements, so
 * filling scalar, then avx2, then avx512 yields the best kernel per type. */
void sf_fill_scalar(sf_kernel_table *k);
int sf_fill_avx2(sf_kernel_table *k);   /* returns 0 (and fills nothing) when compiled without AVX2 */
int sf_fill_avx512(sf_kernel_table *k); /* returns 0 (and fills nothing) when compiled without AVX-512 */
/* NEON kernels on AArch64 (sf_dot_neon.c; the +dotprod build where the CPU has it), bit-identical to
 * scalar; fills over a scalar table. Returns 0 (and fills nothing) on other architectures. */
int sf_fill_neon(sf_kernel_table *k);

/* Kernels of the current path (sf_matmul.c). */
const sf_kernel_table *sf_kernels(void);
int sf_path_supported(int path);
int sf_set_path(int path); /* -1 = auto; returns 0 or -1 when unsupported */
int sf_get_path(void);

/* Persistent work-sharing thread pool (sf_matmul.c). fn runs on the caller (ith = 0) and on the
 * workers that wake in time (any subset of 1..nth threads): it must share work through atomics. */
typedef void (*sf_task_fn)(void *ctx, int ith, int nth);
void sf_pool_run(sf_task_fn fn, void *ctx);
int sf_pool_set_threads(int n);
int sf_pool_get_threads(void);

/* Y[nTok, nOut] = X[nTok, nIn] . W[nOut, nIn]^T with W in `type` blocks (sf_matmul.c).
 * Returns 0, or -1 when out of memory. Arguments must already be validated. */
int sf_matmul(int type, const void *w, int64_t n_out, int64_t n_in, const float *x, int64_t n_tok, float *y);
/* RMSNorm of `rows` rows of n floats (src/nn/norm.ts's float operations); w may be NULL; y may
 * alias x (sf_norm.c). */
void sf_rms_norm_f32(const float *x, const float *w, float *y, int64_t rows, int64_t n, double eps);
/* n_parts (1..3) matmuls of the same weight type on the same X in one pool job: X is converted
 * once; Y_p[nTok, nOut_p] = X . W_p^T, each exactly as sf_matmul would compute it. */
int sf_matmul_multi(int type, int n_parts, const void *const *w, const int64_t *n_out, int64_t n_in, const float *x,
                    int64_t n_tok, float *const *y);

/* Scalar activation quantizers (sf_quant.c), used by every path so all paths see identical bytes. */
void sf_quantize_act_q8_0(const float *x, void *y, int64_t n);
void sf_quantize_act_q8_1(const float *x, void *y, int64_t n);
void sf_quantize_q8_K(const float *x, void *y, int64_t n);

#endif
