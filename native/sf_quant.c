/*
 * Scalar (reference) conversions between float32 and ggml block formats:
 *   - dequantize rows of F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q4_K, Q5_K, Q6_K, Q8_K;
 *   - reference quantizers used to make model files, following ggml/src/ggml-quants.c
 *     quantize_row_*_ref (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q4_K, Q5_K, Q6_K, Q8_K; F16/BF16 rounding);
 *   - activation quantizers exactly as ggml-cpu runs them on x86 (ggml-cpu/arch/x86/quants.c
 *     quantize_row_q8_0 / q8_1: id = 127/amax, round half to even; q8_K = the ref version).
 * Compiled without ISA flags and with -ffp-contract=off so results are bit-identical to ggml's C.
 */
#include <float.h>
#include <math.h>
#include "sf_common.h"

#define SF_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SF_MAX(a, b) ((a) > (b) ? (a) : (b))
#define GROUP_MAX_EPS 1e-15f

/* ------------------------------------------------------------------ dequantize */

static void deq_f32(const void *src, float *dst, int64_t n) { memcpy(dst, src, (size_t)n * 4); }

static void deq_f16(const void *src, float *dst, int64_t n) {
  const uint16_t *s = src;
  for (int64_t i = 0; i < n; i++) dst[i] = sf_fp16_to_fp32(s[i]);
}

static void deq_bf16(const void *src, float *dst, int64_t n) {
  const uint16_t *s = src;
  for (int64_t i = 0; i < n; i++) dst[i] = sf_bf16_to_fp32(s[i]);
}

/* ggml-quants.c dequantize_row_q4_0: y = (q - 8) * d */
static void deq_q4_0(const void *src, float *y, int64_t n) {
  const sf_block_q4_0 *x = src;
  for (int64_t i = 0; i < n / SF_QK; i++) {
    const float d = sf_fp16_to_fp32(x[i].d);
    for (int j = 0; j < SF_QK / 2; j++) {
      y[i * SF_QK + j] = (float)((x[i].qs[j] & 0x0F) - 8) * d;
      y[i * SF_QK + j + SF_QK / 2] = (float)((x[i].qs[j] >> 4) - 8) * d;
    }
  }
}

/* ggml-quants.c dequantize_row_q4_1: y = q * d + m */
static void deq_q4_1(const void *src, float *y, int64_t n) {
  const sf_block_q4_1 *x = src;
  for (int64_t i = 0; i < n / SF_QK; i++) {
    const float d = sf_fp16_to_fp32(x[i].d), m = sf_fp16_to_fp32(x[i].m);
    for (int j = 0; j < SF_QK / 2; j++) {
      y[i * SF_QK + j] = (float)(x[i].qs[j] & 0x0F) * d + m;
      y[i * SF_QK + j + SF_QK / 2] = (float)(x[i].qs[j] >> 4) * d + m;
    }
  }
}

/* ggml-quants.c dequantize_row_q5_0: y = (q - 16) * d, q = nibble | (bit j of qh) << 4 */
static void deq_q5_0(const void *src, float *y, int64_t n) {
  const sf_block_q5_0 *x = src;
  for (int64_t i = 0; i < n / SF_QK; i++) {
    const float d = sf_fp16_to_fp32(x[i].d);
    const uint32_t qh = sf_load_qh(x[i].qh);
    for (int j = 0; j < SF_QK / 2; j++) {
      const int q0 = (int)((x[i].qs[j] & 0x0F) | (((qh >> j) & 1u) << 4)) - 16;
      const int q1 = (int)((x[i].qs[j] >> 4) | (((qh >> (j + SF_QK / 2)) & 1u) << 4)) - 16;
      y[i * SF_QK + j] = (float)q0 * d;
      y[i * SF_QK + j + SF_QK / 2] = (float)q1 * d;
    }
  }
}

/* ggml-quants.c dequantize_row_q5_1: y = q * d + m */
static void deq_q5_1(const void *src, float *y, int64_t n) {
  const sf_block_q5_1 *x = src;
  for (int64_t i = 0; i < n / SF_QK; i++) {
    const float d = sf_fp16_to_fp32(x[i].d), m = sf_fp16_to_fp32(x[i].m);
    const uint32_t qh = sf_load_qh(x[i].qh);
    for (int j = 0; j < SF_QK / 2; j++) {
      const int q0 = (int)((x[i].qs[j] & 0x0F) | (((qh >> j) & 1u) << 4));
      const int q1 = (int)((x[i].qs[j] >> 4) | (((qh >> (j + SF_QK / 2)) & 1u) << 4));
      y[i * SF_QK + j] = (float)q0 * d + m;
      y[i * SF_QK + j + SF_QK / 2] = (float)q1 * d + m;
    }
  }
}

/* ggml-quants.c dequantize_row_q8_0: y = q * d */
static void deq_q8_0(const void *src, float *y, int64_t n) {
  const sf_block_q8_0 *x = src;
  for (int64_t i = 0; i < n / SF_QK; i++) {
    const float d = sf_fp16_to_fp32(x[i].d);
    for (int j = 0; j < SF_QK; j++) y[i * SF_QK + j] = (float)x[i].qs[j] * d;
  }
}

/* Q8_1 values: y = q * d (the s field is derived data). */
static void deq_q8_1(const void *src, float *y, int64_t n) {
  const sf_block_q8_1 *x = src;
  for (int64_t i = 0; i < n / SF_QK; i++) {
    const float d = sf_fp16_to_fp32(x[i].d);
    for (int j = 0; j < SF_QK; j++) y[i * SF_QK + j] = (float)x[i].qs[j] * d;
  }
}

/* ggml-quants.c dequantize_row_q4_K: per 64 elements, two sub-blocks share 32 bytes of nibbles. */
static void deq_q4_K(const void *src, float *y, int64_t n) {
  const sf_block_q4_K *x = src;
  for (int64_t i = 0; i < n / SF_QK_K; i++) {
    const uint8_t *q = x[i].qs;
    const float d = sf_fp16_to_fp32(x[i].d), min = sf_fp16_to_fp32(x[i].dmin);
    uint8_t sc, m;
    for (int j = 0, is = 0; j < SF_QK_K; j += 64, is += 2, q += 32) {
      sf_get_scale_min_k4(is, x[i].scales, &sc, &m);
      const float d1 = d * sc, m1 = min * m;
      sf_get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
      const float d2 = d * sc, m2 = min * m;
      for (int l = 0; l < 32; l++) *y++ = d1 * (float)(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; l++) *y++ = d2 * (float)(q[l] >> 4) - m2;
    }
  }
}

/* ggml-quants.c dequantize_row_q5_K: as Q4_K with the 5th bit from qh (bit 2j / 2j+1). */
static void deq_q5_K(const void *src, float *y, int64_t n) {
  const sf_block_q5_K *x = src;
  for (int64_t i = 0; i < n / SF_QK_K; i++) {
    const uint8_t *ql = x[i].qs, *qh = x[i].qh;
    const float d = sf_fp16_to_fp32(x[i].d), min = sf_fp16_to_fp32(x[i].dmin);
    uint8_t sc, m, u1 = 1, u2 = 2;
    for (int j = 0, is = 0; j < SF_QK_K; j += 64, is += 2, ql += 32) {
      sf_get_scale_min_k4(is, x[i].scales, &sc, &m);
      const float d1 = d * sc, m1 = min * m;
      sf_get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
      const float d2 = d * sc, m2 = min * m;
      for (int l = 0; l < 32; l++) *y++ = d1 * (float)((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
      for (int l = 0; l < 32; l++) *y++ = d2 * (float)((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
      u1 <<= 2;
      u2 <<= 2;
    }
  }
}

/* ggml-quants.c dequantize_row_q6_K: y = d * scale * (q - 32). */
static void deq_q6_K(const void *src, float *y, int64_t n) {
  const sf_block_q6_K *x = src;
  for (int64_t i = 0; i < n / SF_QK_K; i++) {
    const float d = sf_fp16_to_fp32(x[i].d);
    const uint8_t *ql = x[i].ql, *qh = x[i].qh;
    const int8_t *sc = x[i].scales;
    for (int k = 0; k < SF_QK_K; k += 128, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; l++) {
        const int is = l / 16;
        const int q1 = (int)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = (int)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l + 0] = d * (float)sc[is + 0] * (float)q1;
        y[l + 32] = d * (float)sc[is + 2] * (float)q2;
        y[l + 64] = d * (float)sc[is + 4] * (float)q3;
        y[l + 96] = d * (float)sc[is + 6] * (float)q4;
      }
    }
  }
}

static void deq_q8_K(const void *src, float *y, int64_t n) {
  const sf_block_q8_K *x = src;
  for (int64_t i = 0; i < n / SF_QK_K; i++)
    for (int j = 0; j < SF_QK_K; j++) *y++ = x[i].d * (float)x[i].qs[j];
}

/* ------------------------------------------------------------------ plain-type quantizers */

static void q_f32(const float *x, void *y, int64_t n) { memcpy(y, x, (size_t)n * 4); }
static void q_f16(const float *x, void *y, int64_t n) {
  uint16_t *o = y;
  for (int64_t i = 0; i < n; i++) o[i] = sf_fp32_to_fp16(x[i]);
}
static void q_bf16(const float *x, void *y, int64_t n) {
  uint16_t *o = y;
  for (int64_t i = 0; i < n; i++) o[i] = sf_fp32_to_bf16(x[i]);
}

/* ------------------------------------------------------------------ 32-element quantizers */

/* ggml-quants.c quantize_row_q4_0_ref: d = max/-8 (max = signed value of largest magnitude). */
static void q_q4_0_ref(const float *x, void *vy, int64_t n) {
  sf_block_q4_0 *y = vy;
  for (int64_t i = 0; i < n / SF_QK; i++, x += SF_QK) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < SF_QK; j++)
      if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
    const float d = max / -8, id = d ? 1.0f / d : 0.0f;
    y[i].d = sf_fp32_to_fp16(d);
    for (int j = 0; j < SF_QK / 2; j++) {
      const uint8_t q0 = (uint8_t)SF_MIN(15, (int8_t)(x[j] * id + 8.5f));
      const uint8_t q1 = (uint8_t)SF_MIN(15, (int8_t)(x[j + SF_QK / 2] * id + 8.5f));
      y[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
    }
  }
}

/* ggml-quants.c quantize_row_q4_1_ref: d = (max - min)/15, m = min. */
static void q_q4_1_ref(const float *x, void *vy, int64_t n) {
  sf_block_q4_1 *y = vy;
  for (int64_t i = 0; i < n / SF_QK; i++, x += SF_QK) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < SF_QK; j++) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / 15, id = d ? 1.0f / d : 0.0f;
    y[i].d = sf_fp32_to_fp16(d);
    y[i].m = sf_fp32_to_fp16(min);
    for (int j = 0; j < SF_QK / 2; j++) {
      const uint8_t q0 = (uint8_t)SF_MIN(15, (int8_t)((x[j] - min) * id + 0.5f));
      const uint8_t q1 = (uint8_t)SF_MIN(15, (int8_t)((x[j + SF_QK / 2] - min) * id + 0.5f));
      y[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
    }
  }
}

/* Pack 32 five-bit levels (element order) into nibbles qs[16] and high bits qh (Q5_0/Q5_1 layout). */
static void pack_q5(const uint8_t *L, uint8_t *qs, uint8_t *qh) {
  uint32_t h = 0;
  for (int j = 0; j < SF_QK / 2; j++) {
    qs[j] = (uint8_t)((L[j] & 0x0F) | ((L[j + SF_QK / 2] & 0x0F) << 4));
    h |= (uint32_t)((L[j] >> 4) & 1u) << j;
    h |= (uint32_t)((L[j + SF_QK / 2] >> 4) & 1u) << (j + SF_QK / 2);
  }
  memcpy(qh, &h, 4);
}

/* ggml-quants.c quantize_row_q5_0_ref: d = max/-16 (max = signed value of largest magnitude). */
static void q_q5_0_ref(const float *x, void *vy, int64_t n) {
  sf_block_q5_0 *y = vy;
  uint8_t L[SF_QK];
  for (int64_t i = 0; i < n / SF_QK; i++, x += SF_QK) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < SF_QK; j++)
      if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
    const float d = max / -16, id = d ? 1.0f / d : 0.0f;
    y[i].d = sf_fp32_to_fp16(d);
    for (int j = 0; j < SF_QK; j++) L[j] = (uint8_t)SF_MIN(31, (int8_t)(x[j] * id + 16.5f));
    pack_q5(L, y[i].qs, y[i].qh);
  }
}

/* ggml-quants.c quantize_row_q5_1_ref: d = (max - min)/31, m = min. */
static void q_q5_1_ref(const float *x, void *vy, int64_t n) {
  sf_block_q5_1 *y = vy;
  uint8_t L[SF_QK];
  for (int64_t i = 0; i < n / SF_QK; i++, x += SF_QK) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < SF_QK; j++) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / 31, id = d ? 1.0f / d : 0.0f;
    y[i].d = sf_fp32_to_fp16(d);
    y[i].m = sf_fp32_to_fp16(min);
    for (int j = 0; j < SF_QK; j++) L[j] = (uint8_t)((x[j] - min) * id + 0.5f);
    pack_q5(L, y[i].qs, y[i].qh);
  }
}

/* ggml-quants.c quantize_row_q8_0_ref: d = amax/127, q = roundf(x/d) (ties away from zero). */
static void q_q8_0_ref(const float *x, void *vy, int64_t n) {
  sf_block_q8_0 *y = vy;
  for (int64_t i = 0; i < n / SF_QK; i++, x += SF_QK) {
    float amax = 0.0f;
    for (int j = 0; j < SF_QK; j++) amax = SF_MAX(amax, fabsf(x[j]));
    const float d = amax / 127, id = d ? 1.0f / d : 0.0f;
    y[i].d = sf_fp32_to_fp16(d);
    for (int j = 0; j < SF_QK; j++) y[i].qs[j] = (int8_t)roundf(x[j] * id);
  }
}

/* ggml-quants.c quantize_row_q8_1_ref: as Q8_0 plus s = fp16(d * sum q). */
static void q_q8_1_ref(const float *x, void *vy, int64_t n) {
  sf_block_q8_1 *y = vy;
  for (int64_t i = 0; i < n / SF_QK; i++, x += SF_QK) {
    float amax = 0.0f;
    for (int j = 0; j < SF_QK; j++) amax = SF_MAX(amax, fabsf(x[j]));
    const float d = amax / 127, id = d ? 1.0f / d : 0.0f;
    int sum = 0;
    for (int j = 0; j < SF_QK; j++) {
      y[i].qs[j] = (int8_t)roundf(x[j] * id);
      sum += y[i].qs[j];
    }
    y[i].d = sf_fp32_to_fp16(d);
    y[i].s = sf_fp32_to_fp16((float)sum * d);
  }
}

/* Activation Q8_0 as ggml-cpu x86 quantize_row_q8_0: d = amax/127, id = 127/amax, q = round-half-even. */
void sf_quantize_act_q8_0(const float *x, void *vy, int64_t n) {
  sf_block_q8_0 *y = vy;
  for (int64_t i = 0; i < n / SF_QK; i++, x += SF_QK) {
    float amax = 0.0f;
    for (int j = 0; j < SF_QK; j++) amax = SF_MAX(amax, fabsf(x[j]));
    const float d = amax / 127.f, id = amax != 0.0f ? 127.f / amax : 0.0f;
    y[i].d = sf_fp32_to_fp16(d);
    for (int j = 0; j < SF_QK; j++) y[i].qs[j] = (int8_t)rintf(x[j] * id);
  }
}

/* Activation Q8_1 as ggml-cpu x86 quantize_row_q8_1: Q8_0 rounding plus s = fp16(d * sum q). */
void sf_quantize_act_q8_1(const float *x, void *vy, int64_t n) {
  sf_block_q8_1 *y = vy;
  for (int64_t i = 0; i < n / SF_QK; i++, x += SF_QK) {
    float amax = 0.0f;
    for (int j = 0; j < SF_QK; j++) amax = SF_MAX(amax, fabsf(x[j]));
    const float d = amax / 127.f, id = amax != 0.0f ? 127.f / amax : 0.0f;
    int sum = 0;
    for (int j = 0; j < SF_QK; j++) {
      y[i].qs[j] = (int8_t)rintf(x[j] * id);
      sum += y[i].qs[j];
    }
    y[i].d = sf_fp32_to_fp16(d);
    y[i].s = sf_fp32_to_fp16(d * (float)sum);
  }
}

/* ggml-quants.c quantize_row_q8_K_ref (also the activation quantizer): iscale = -127/max. */
void sf_quantize_q8_K(const float *x, void *vy, int64_t n) {
  sf_block_q8_K *y = vy;
  for (int64_t i = 0; i < n / SF_QK_K; i++, x += SF_QK_K) {
    float max = 0, amax = 0;
    for (int j = 0; j < SF_QK_K; j++)
      if (fabsf(x[j]) > amax) { amax = fabsf(x[j]); max = x[j]; }
    if (!amax) {
      memset(&y[i], 0, sizeof y[i]);
      continue;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < SF_QK_K; j++) y[i].qs[j] = (int8_t)SF_MIN(127, sf_nearest_int(iscale * x[j]));
    for (int j = 0; j < SF_QK_K / 16; j++) {
      int sum = 0;
      for (int k = 0; k < 16; k++) sum += y[i].qs[j * 16 + k];
      y[i].bsums[j] = (int16_t)sum;
    }
    y[i].d = 1 / iscale;
  }
}

/* ------------------------------------------------------------------ K-quant reference quantizers */

/* ggml-quants.c make_qkx2_quants: weighted asymmetric fit of n values to [0, nmax]. */
static float make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L, float *the_min,
                              uint8_t *Laux, float rmin, float rdelta, int nstep) {
  float min = x[0], max = x[0], sum_w = weights[0], sum_x = sum_w * x[0];
  for (int i = 1; i < n; i++) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sum_w += weights[i];
    sum_x += weights[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; i++) L[i] = 0;
    *the_min = -min;
    return 0.f;
  }
  float iscale = nmax / (max - min), scale = 1 / iscale, best_error = 0;
  for (int i = 0; i < n; i++) {
    const int l = sf_nearest_int(iscale * (x[i] - min));
    L[i] = (uint8_t)SF_MAX(0, SF_MIN(nmax, l));
    float diff = scale * L[i] + min - x[i];
    best_error += weights[i] * (diff * diff);
  }
  for (int is = 0; is <= nstep; is++) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; i++) {
      int l = sf_nearest_int(iscale * (x[i] - min));
      l = SF_MAX(0, SF_MIN(nmax, l));
      Laux[i] = (uint8_t)l;
      const float w = weights[i];
      sum_l += w * l;
      sum_l2 += w * l * l;
      sum_xl += w * l * x[i];
    }
    const float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0;
      for (int i = 0; i < n; i++) {
        const float diff = this_scale * Laux[i] + this_min - x[i];
        cur_error += weights[i] * (diff * diff);
      }
      if (cur_error < best_error) {
        for (int i = 0; i < n; i++) L[i] = Laux[i];
        best_error = cur_error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *the_min = -min;
  return scale;
}

/* Shared body of quantize_row_q4_K_ref / q5_K_ref (ggml-quants.c): 8 sub-blocks of 32 with
 * 6-bit scales/mins; nmax = 15 (Q4_K) or 31 (Q5_K). Writes d, dmin, scales and levels L. */
static void qk_scales_mins(const float *x, int nmax, float rmin, int nstep, uint16_t *pd, uint16_t *pdmin,
                           uint8_t *sc12, uint8_t *L) {
  float mins[8], scales[8], weights[32];
  uint8_t Laux[32];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; j++) {
    float sum_x2 = 0;
    for (int l = 0; l < 32; l++) sum_x2 += x[32 * j + l] * x[32 * j + l];
    const float av_x = sqrtf(sum_x2 / 32);
    for (int l = 0; l < 32; l++) weights[l] = av_x + fabsf(x[32 * j + l]);
    scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin, 0.1f, nstep);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  memset(sc12, 0, SF_K_SCALE_SIZE);
  for (int j = 0; j < 8; j++) {
    uint8_t ls = (uint8_t)sf_nearest_int(inv_scale * scales[j]);
    uint8_t lm = (uint8_t)sf_nearest_int(inv_min * mins[j]);
    ls = SF_MIN(63, ls);
    lm = SF_MIN(63, lm);
    if (j < 4) {
      sc12[j] = ls;
      sc12[j + 4] = lm;
    } else {
      sc12[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
      sc12[j - 4] |= (uint8_t)((ls >> 4) << 6);
      sc12[j] |= (uint8_t)((lm >> 4) << 6);
    }
  }
  *pd = sf_fp32_to_fp16(max_scale / 63.f);
  *pdmin = sf_fp32_to_fp16(max_min / 63.f);
  for (int j = 0; j < 8; j++) {
    uint8_t sc, m;
    sf_get_scale_min_k4(j, sc12, &sc, &m);
    const float d = sf_fp16_to_fp32(*pd) * sc;
    if (!d) continue;
    const float dm = sf_fp16_to_fp32(*pdmin) * m;
    for (int ii = 0; ii < 32; ii++) {
      const int l = sf_nearest_int((x[32 * j + ii] + dm) / d);
      L[32 * j + ii] = (uint8_t)SF_MAX(0, SF_MIN(nmax, l));
    }
  }
}

/* ggml-quants.c quantize_row_q4_K_ref. */
static void q_q4_K_ref(const float *x, void *vy, int64_t n) {
  sf_block_q4_K *y = vy;
  uint8_t L[SF_QK_K];
  for (int64_t i = 0; i < n / SF_QK_K; i++, x += SF_QK_K) {
    qk_scales_mins(x, 15, -1.f, 20, &y[i].d, &y[i].dmin, y[i].scales, L);
    uint8_t *q = y[i].qs;
    for (int j = 0; j < SF_QK_K; j += 64, q += 32)
      for (int l = 0; l < 32; l++) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
  }
}

/* ggml-quants.c quantize_row_q5_K_ref. */
static void q_q5_K_ref(const float *x, void *vy, int64_t n) {
  sf_block_q5_K *y = vy;
  uint8_t L[SF_QK_K];
  for (int64_t i = 0; i < n / SF_QK_K; i++, x += SF_QK_K) {
    qk_scales_mins(x, 31, -0.5f, 15, &y[i].d, &y[i].dmin, y[i].scales, L);
    uint8_t *qh = y[i].qh, *ql = y[i].qs;
    memset(qh, 0, SF_QK_K / 8);
    uint8_t m1 = 1, m2 = 2;
    for (int k = 0; k < SF_QK_K; k += 64, ql += 32, m1 <<= 2, m2 <<= 2) {
      for (int j = 0; j < 32; j++) {
        int l1 = L[k + j], l2 = L[k + j + 32];
        if (l1 > 15) { l1 -= 16; qh[j] |= m1; }
        if (l2 > 15) { l2 -= 16; qh[j] |= m2; }
        ql[j] = (uint8_t)(l1 | (l2 << 4));
      }
    }
  }
}

/* ggml-quants.c make_qx_quants for rmse_type = 1 and no importance weights (as Q6_K_ref calls it). */
static float make_qx_quants_rmse1(int n, int nmax, const float *x, int8_t *L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; i++)
    if (fabsf(x[i]) > amax) { amax = fabsf(x[i]); max = x[i]; }
  if (amax < GROUP_MAX_EPS) {
    for (int i = 0; i < n; i++) L[i] = 0;
    return 0.f;
  }
  float iscale = -nmax / max, sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; i++) {
    int l = sf_nearest_int(iscale * x[i]);
    l = SF_MAX(-nmax, SF_MIN(nmax - 1, l));
    L[i] = (int8_t)(l + nmax);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  float scale = suml2 ? sumlx / suml2 : 0.0f, best = scale * sumlx;
  for (int is = -9; is <= 9; is++) {
    if (is == 0) continue;
    iscale = -(nmax + 0.1f * is) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; i++) {
      int l = sf_nearest_int(iscale * x[i]);
      l = SF_MAX(-nmax, SF_MIN(nmax - 1, l));
      const float w = x[i] * x[i];
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; i++) {
        const int l = sf_nearest_int(iscale * x[i]);
        L[i] = (int8_t)(nmax + SF_MAX(-nmax, SF_MIN(nmax - 1, l)));
      }
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

/* ggml-quants.c quantize_row_q6_K_ref. */
static void q_q6_K_ref(const float *x, void *vy, int64_t n) {
  sf_block_q6_K *y = vy;
  int8_t L[SF_QK_K];
  float scales[SF_QK_K / 16];
  for (int64_t i = 0; i < n / SF_QK_K; i++, x += SF_QK_K) {
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < SF_QK_K / 16; ib++) {
      const float scale = make_qx_quants_rmse1(16, 32, x + 16 * ib, L + 16 * ib);
      scales[ib] = scale;
      if (fabsf(scale) > max_abs_scale) { max_abs_scale = fabsf(scale); max_scale = scale; }
    }
    if (max_abs_scale < GROUP_MAX_EPS) {
      memset(&y[i], 0, sizeof y[i]);
      continue;
    }
    const float iscale = -128.f / max_scale;
    y[i].d = sf_fp32_to_fp16(1 / iscale);
    for (int ib = 0; ib < SF_QK_K / 16; ib++) y[i].scales[ib] = (int8_t)SF_MIN(127, sf_nearest_int(iscale * scales[ib]));
    for (int j = 0; j < SF_QK_K / 16; j++) {
      const float d = sf_fp16_to_fp32(y[i].d) * y[i].scales[j];
      if (!d) continue;
      for (int ii = 0; ii < 16; ii++) {
        int l = sf_nearest_int(x[16 * j + ii] / d);
        l = SF_MAX(-32, SF_MIN(31, l));
        L[16 * j + ii] = (int8_t)(l + 32);
      }
    }
    uint8_t *ql = y[i].ql, *qh = y[i].qh;
    for (int j = 0; j < SF_QK_K; j += 128, ql += 64, qh += 32) {
      for (int l = 0; l < 32; l++) {
        const uint8_t q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF, q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
        ql[l] = (uint8_t)(q1 | (q3 << 4));
        ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
        qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                          ((L[j + l + 96] >> 4) << 6));
      }
    }
  }
}

/* ------------------------------------------------------------------ traits */

static const sf_type_traits TRAITS[SF_TYPE_COUNT] = {
  [SF_F32] = {"F32", 1, 4, SF_F32, deq_f32, q_f32, q_f32},
  [SF_F16] = {"F16", 1, 2, SF_F16, deq_f16, q_f16, q_f16},
  [SF_BF16] = {"BF16", 1, 2, SF_BF16, deq_bf16, q_bf16, q_bf16},
  [SF_Q4_0] = {"Q4_0", SF_QK, 18, SF_Q8_0, deq_q4_0, q_q4_0_ref, NULL},
  [SF_Q4_1] = {"Q4_1", SF_QK, 20, SF_Q8_1, deq_q4_1, q_q4_1_ref, NULL},
  [SF_Q5_0] = {"Q5_0", SF_QK, 22, SF_Q8_0, deq_q5_0, q_q5_0_ref, NULL},
  [SF_Q5_1] = {"Q5_1", SF_QK, 24, SF_Q8_1, deq_q5_1, q_q5_1_ref, NULL},
  [SF_Q8_0] = {"Q8_0", SF_QK, 34, SF_Q8_0, deq_q8_0, q_q8_0_ref, sf_quantize_act_q8_0},
  [SF_Q8_1] = {"Q8_1", SF_QK, 36, -1, deq_q8_1, q_q8_1_ref, sf_quantize_act_q8_1},
  [SF_Q4_K] = {"Q4_K", SF_QK_K, 144, SF_Q8_K, deq_q4_K, q_q4_K_ref, NULL},
  [SF_Q5_K] = {"Q5_K", SF_QK_K, 176, SF_Q8_K, deq_q5_K, q_q5_K_ref, NULL},
  [SF_Q6_K] = {"Q6_K", SF_QK_K, 210, SF_Q8_K, deq_q6_K, q_q6_K_ref, NULL},
  [SF_Q8_K] = {"Q8_K", SF_QK_K, 292, -1, deq_q8_K, sf_quantize_q8_K, sf_quantize_q8_K},
};

const sf_type_traits *sf_traits(int type) {
  if (type < 0 || type >= SF_TYPE_COUNT || TRAITS[type].name == NULL) return NULL;
  return &TRAITS[type];
}
