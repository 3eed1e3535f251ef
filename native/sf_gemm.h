/*
 * Tile kernels for multi-token matmuls (prefill): several weight rows × 4 tokens per pass, with the
 * activations repacked per group of 4 tokens. Bit-identical to the one-row kernels they replace
 * (see sf_gemm_avx512.c). Used by sf_matmul.c on the AVX-512 path only.
 */
#ifndef SF_GEMM_H
#define SF_GEMM_H

#include "sf_common.h"

/* out[r*4 + t] = (row r of W, rows w_row bytes apart) · (token t of the packed group), r < R ≤ 4.
 * nb = blocks per row; yq = the group's packed quants (nb × 128 bytes), yd = its scales (nb × 4). */
typedef void (*sf_gemm_q8_0_fn)(int R, int64_t nb, const uint8_t *w, size_t w_row, const int8_t *yq, const float *yd,
                                float *out);

/* As sf_gemm_q8_0_fn for two 4-token groups at once (a and b), sharing each weight block's unpack. */
typedef void (*sf_gemm8_fn)(int R, int64_t nb, const uint8_t *w, size_t w_row, const int8_t *yqa, const float *yda,
                            const int8_t *yqb, const float *ydb, float *outa, float *outb);
/* 8-token variant for Q4_0, Q5_0, Q8_0 weights, or NULL. */
sf_gemm8_fn sf_gemm8_kernel(int type);

/* 1 when compiled with AVX-512 VNNI (the CPU check is the caller's: the AVX-512 path is selected). */
int sf_gemm_q8_0_supported(void);
/* Tile kernel for weights of `type`, or NULL: Q4_0, Q5_0, Q8_0 (Q8_0 activations packed by
 * sf_gemm_pack_q8_0), Q4_K in ggml's repacked-gemm float order (only for matrices with a
 * multiple of 8 rows) and Q6_K (both with Q8_K activations packed by sf_gemm_pack_q8_K), Q4_1 and
 * Q5_1 (Q8_1 activations packed by sf_gemm_pack_q8_1; yd then holds 8 floats per block). */
sf_gemm_q8_0_fn sf_gemm_q8_0_kernel(int type);
/* Packs 4 consecutive Q8_0 activation rows (a_row bytes apart, nb blocks each) into qs (nb × 128
 * bytes: per block the 4 tokens' quants) and d (nb × 4 floats: their scales, fp16 → fp32). */
void sf_gemm_pack_q8_0(const uint8_t *act, size_t a_row, int64_t nb, int8_t *qs, float *d);

/* Bytes of one packed super-block of 4 Q8_K activation rows (quants, bsums pair sums, raw bsums). */
#define SF_GEMM_Q8K_BLOCK 1280
/* Packs 4 consecutive Q8_K activation rows into qs (nb × SF_GEMM_Q8K_BLOCK bytes) and d (nb × 4). */
void sf_gemm_pack_q8_K(const uint8_t *act, size_t a_row, int64_t nb, int8_t *qs, float *d);

/* Packs 4 Q8_1 activation rows: quants as sf_gemm_pack_q8_0, d = per block the 4 scales then the 4 s. */
void sf_gemm_pack_q8_1(const uint8_t *act, size_t a_row, int64_t nb, int8_t *qs, float *d);

#endif
