/*
 * Scalar reference dot products: one weight row · one activation row (already converted to the
 * weight type's activation type). Each follows the ggml generic kernel named beside it
 * (ggml/src/ggml-cpu/quants.c *_generic, ggml/src/ggml-cpu/vec.cpp), with the same integer
 * arithmetic and the same float accumulation order.
 */
#include "sf_common.h"

/* vec.cpp ggml_vec_dot_f32 (scalar branch): products in float, sum in double. */
static float dot_f32(int n, const void *vw, const void *va) {
  const float *w = vw, *a = va;
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)(w[i] * a[i]);
  return (float)s;
}

/* vec.cpp ggml_vec_dot_f16 (scalar branch): fp16 -> fp32, products in float, sum in double. */
static float dot_f16(int n, const void *vw, const void *va) {
  const uint16_t *w = vw, *a = va;
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)(sf_fp16_to_fp32(w[i]) * sf_fp16_to_fp32(a[i]));
  return (float)s;
}

/* vec.cpp ggml_vec_dot_bf16 (scalar branch). */
static float dot_bf16(int n, const void *vw, const void *va) {
  const uint16_t *w = vw, *a = va;
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)(sf_bf16_to_fp32(w[i]) * sf_bf16_to_fp32(a[i]));
  return (float)s;
}

/* quants.c ggml_vec_dot_q4_0_q8_0_generic: sum_b d_w*d_a * sum_j (q_j - 8) * a_j. */
static float dot_q4_0(int n, const void *vw, const void *va) {
  const sf_block_q4_0 *x = vw;
  const sf_block_q8_0 *y = va;
  float sumf = 0;
  for (int ib = 0; ib < n / SF_QK; ib++) {
    int sumi0 = 0, sumi1 = 0;
    for (int j = 0; j < SF_QK / 2; j++) {
      sumi0 += ((x[ib].qs[j] & 0x0F) - 8) * y[ib].qs[j];
      sumi1 += ((x[ib].qs[j] >> 4) - 8) * y[ib].qs[j + SF_QK / 2];
    }
    sumf += (float)(sumi0 + sumi1) * sf_fp16_to_fp32(x[ib].d) * sf_fp16_to_fp32(y[ib].d);
  }
  return sumf;
}

/* quants.c ggml_vec_dot_q4_1_q8_1_generic: d_w*d_a*sum q_j a_j + m_w * s_a. */
static float dot_q4_1(int n, const void *vw, const void *va) {
  const sf_block_q4_1 *x = vw;
  const sf_block_q8_1 *y = va;
  float sumf = 0;
  for (int ib = 0; ib < n / SF_QK; ib++) {
    int sumi0 = 0, sumi1 = 0;
    for (int j = 0; j < SF_QK / 2; j++) {
      sumi0 += (x[ib].qs[j] & 0x0F) * y[ib].qs[j];
      sumi1 += (x[ib].qs[j] >> 4) * y[ib].qs[j + SF_QK / 2];
    }
    sumf += (sf_fp16_to_fp32(x[ib].d) * sf_fp16_to_fp32(y[ib].d)) * (float)(sumi0 + sumi1) +
            sf_fp16_to_fp32(x[ib].m) * sf_fp16_to_fp32(y[ib].s);
  }
  return sumf;
}

/* quants.c ggml_vec_dot_q5_0_q8_0_generic: sum_b (d_w*d_a) * sum_j (q_j - 16) * a_j. */
static float dot_q5_0(int n, const void *vw, const void *va) {
  const sf_block_q5_0 *x = vw;
  const sf_block_q8_0 *y = va;
  float sumf = 0;
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const uint32_t qh = sf_load_qh(x[ib].qh);
    int sumi0 = 0, sumi1 = 0;
    for (int j = 0; j < SF_QK / 2; j++) {
      const int q0 = (int)((x[ib].qs[j] & 0x0F) | (((qh >> j) & 1u) << 4)) - 16;
      const int q1 = (int)((x[ib].qs[j] >> 4) | (((qh >> (j + SF_QK / 2)) & 1u) << 4)) - 16;
      sumi0 += q0 * y[ib].qs[j];
      sumi1 += q1 * y[ib].qs[j + SF_QK / 2];
    }
    sumf += (sf_fp16_to_fp32(x[ib].d) * sf_fp16_to_fp32(y[ib].d)) * (float)(sumi0 + sumi1);
  }
  return sumf;
}

/* quants.c ggml_vec_dot_q5_1_q8_1_generic: (d_w*d_a)*sum q_j a_j + m_w * s_a. */
static float dot_q5_1(int n, const void *vw, const void *va) {
  const sf_block_q5_1 *x = vw;
  const sf_block_q8_1 *y = va;
  float sumf = 0;
  for (int ib = 0; ib < n / SF_QK; ib++) {
    const uint32_t qh = sf_load_qh(x[ib].qh);
    int sumi0 = 0, sumi1 = 0;
    for (int j = 0; j < SF_QK / 2; j++) {
      const int q0 = (int)((x[ib].qs[j] & 0x0F) | (((qh >> j) & 1u) << 4));
      const int q1 = (int)((x[ib].qs[j] >> 4) | (((qh >> (j + SF_QK / 2)) & 1u) << 4));
      sumi0 += q0 * y[ib].qs[j];
      sumi1 += q1 * y[ib].qs[j + SF_QK / 2];
    }
    sumf += (sf_fp16_to_fp32(x[ib].d) * sf_fp16_to_fp32(y[ib].d)) * (float)(sumi0 + sumi1) +
            sf_fp16_to_fp32(x[ib].m) * sf_fp16_to_fp32(y[ib].s);
  }
  return sumf;
}

/* quants.c ggml_vec_dot_q8_0_q8_0_generic. */
static float dot_q8_0(int n, const void *vw, const void *va) {
  const sf_block_q8_0 *x = vw, *y = va;
  float sumf = 0;
  for (int ib = 0; ib < n / SF_QK; ib++) {
    int sumi = 0;
    for (int j = 0; j < SF_QK; j++) sumi += x[ib].qs[j] * y[ib].qs[j];
    sumf += (float)sumi * (sf_fp16_to_fp32(x[ib].d) * sf_fp16_to_fp32(y[ib].d));
  }
  return sumf;
}

/* Unpack the 8 six-bit scales and mins of a Q4_K/Q5_K block (the utmp/kmask dance of quants.c). */
static inline void unpack_scales_mins(const uint8_t *s12, uint8_t *scales, uint8_t *mins) {
  for (int j = 0; j < 8; j++) sf_get_scale_min_k4(j, s12, &scales[j], &mins[j]);
}

/* quants.c ggml_vec_dot_q4_K_q8_K_generic. */
static float dot_q4_K(int n, const void *vw, const void *va) {
  const sf_block_q4_K *x = vw;
  const sf_block_q8_K *y = va;
  float sums[8] = {0}, sumf = 0;
  int8_t aux8[SF_QK_K];
  uint8_t scales[8], mins[8];
  for (int i = 0; i < n / SF_QK_K; i++) {
    const uint8_t *q4 = x[i].qs;
    int8_t *a = aux8;
    for (int j = 0; j < SF_QK_K / 64; j++, q4 += 32) {
      for (int l = 0; l < 32; l++) a[l] = (int8_t)(q4[l] & 0xF);
      a += 32;
      for (int l = 0; l < 32; l++) a[l] = (int8_t)(q4[l] >> 4);
      a += 32;
    }
    unpack_scales_mins(x[i].scales, scales, mins);
    int sumi = 0;
    for (int j = 0; j < SF_QK_K / 16; j++) sumi += y[i].bsums[j] * mins[j / 2];
    int32_t aux32[8] = {0};
    const int8_t *q8 = y[i].qs;
    a = aux8;
    for (int j = 0; j < SF_QK_K / 32; j++) {
      const int32_t scale = scales[j];
      for (int k = 0; k < 4; k++, q8 += 8, a += 8)
        for (int l = 0; l < 8; l++) aux32[l] += scale * (int16_t)(q8[l] * a[l]);
    }
    const float d = sf_fp16_to_fp32(x[i].d) * y[i].d;
    for (int l = 0; l < 8; l++) sums[l] += d * (float)aux32[l];
    const float dmin = sf_fp16_to_fp32(x[i].dmin) * y[i].d;
    sumf -= dmin * (float)sumi;
  }
  for (int l = 0; l < 8; l++) sumf += sums[l];
  return sumf;
}

/* quants.c ggml_vec_dot_q5_K_q8_K_generic. */
static float dot_q5_K(int n, const void *vw, const void *va) {
  const sf_block_q5_K *x = vw;
  const sf_block_q8_K *y = va;
  float sums[8] = {0}, sumf = 0;
  int8_t aux8[SF_QK_K];
  uint8_t scales[8], mins[8];
  for (int i = 0; i < n / SF_QK_K; i++) {
    const uint8_t *q4 = x[i].qs, *hm = x[i].qh;
    int8_t *a = aux8;
    uint8_t m = 1;
    for (int j = 0; j < SF_QK_K / 64; j++, q4 += 32) {
      for (int l = 0; l < 32; l++) a[l] = (int8_t)((q4[l] & 0xF) + (hm[l] & m ? 16 : 0));
      a += 32;
      m <<= 1;
      for (int l = 0; l < 32; l++) a[l] = (int8_t)((q4[l] >> 4) + (hm[l] & m ? 16 : 0));
      a += 32;
      m <<= 1;
    }
    unpack_scales_mins(x[i].scales, scales, mins);
    int sumi = 0;
    for (int j = 0; j < SF_QK_K / 16; j++) sumi += y[i].bsums[j] * mins[j / 2];
    int32_t aux32[8] = {0};
    const int8_t *q8 = y[i].qs;
    a = aux8;
    for (int j = 0; j < SF_QK_K / 32; j++) {
      const int32_t scale = scales[j];
      for (int k = 0; k < 4; k++, q8 += 8, a += 8)
        for (int l = 0; l < 8; l++) aux32[l] += scale * (int16_t)(q8[l] * a[l]);
    }
    const float d = sf_fp16_to_fp32(x[i].d) * y[i].d;
    for (int l = 0; l < 8; l++) sums[l] += d * (float)aux32[l];
    const float dmin = sf_fp16_to_fp32(x[i].dmin) * y[i].d;
    sumf -= dmin * (float)sumi;
  }
  for (int l = 0; l < 8; l++) sumf += sums[l];
  return sumf;
}

/* quants.c ggml_vec_dot_q6_K_q8_K_generic. */
static float dot_q6_K(int n, const void *vw, const void *va) {
  const sf_block_q6_K *x = vw;
  const sf_block_q8_K *y = va;
  float sums[8] = {0}, sumf = 0;
  int8_t aux8[SF_QK_K];
  for (int i = 0; i < n / SF_QK_K; i++) {
    const uint8_t *q4 = x[i].ql, *qh = x[i].qh;
    int8_t *a = aux8;
    for (int j = 0; j < SF_QK_K; j += 128, a += 128, q4 += 64, qh += 32) {
      for (int l = 0; l < 32; l++) {
        a[l + 0] = (int8_t)(((q4[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
        a[l + 32] = (int8_t)(((q4[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        a[l + 64] = (int8_t)(((q4[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        a[l + 96] = (int8_t)(((q4[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
    int32_t aux32[8] = {0};
    const int8_t *q8 = y[i].qs;
    a = aux8;
    for (int j = 0; j < SF_QK_K / 16; j++) {
      const int scale = x[i].scales[j];
      for (int k = 0; k < 2; k++, q8 += 8, a += 8)
        for (int l = 0; l < 8; l++) aux32[l] += scale * (int16_t)(q8[l] * a[l]);
    }
    const float d = sf_fp16_to_fp32(x[i].d) * y[i].d;
    for (int l = 0; l < 8; l++) sums[l] += d * (float)aux32[l];
  }
  for (int l = 0; l < 8; l++) sumf += sums[l];
  return sumf;
}

void sf_fill_scalar(sf_kernel_table *k) {
  memset(k, 0, sizeof *k);
  static const struct { int t; sf_vec_dot_fn f; } list[] = {
    {SF_F32, dot_f32}, {SF_F16, dot_f16}, {SF_BF16, dot_bf16}, {SF_Q4_0, dot_q4_0}, {SF_Q4_1, dot_q4_1},
    {SF_Q5_0, dot_q5_0}, {SF_Q5_1, dot_q5_1}, {SF_Q8_0, dot_q8_0}, {SF_Q4_K, dot_q4_K}, {SF_Q5_K, dot_q5_K}, {SF_Q6_K, dot_q6_K},
  };
  for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
    k->vec_dot[list[i].t] = list[i].f;
    k->impl[list[i].t] = "scalar";
  }
}
