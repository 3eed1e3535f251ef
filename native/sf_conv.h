/*
 * 2-D convolutions over channels-last (HWC) float32 feature maps, for conv vision encoders
 * (MobileNetV2: regular, pointwise and depthwise convolutions with folded batch norm and ReLU6).
 *
 * Every output element is computed as: acc = bias[c] (or 0); then for ky = 0..kh-1, kx = 0..kw-1
 * (taps outside the padded input skipped), ci = 0..cin-1 in that order: acc = acc + x * w, each
 * product and sum rounded to float (no FMA: the build uses -ffp-contract=off); then, when
 * act_max >= 0, y = min(max(acc, 0), act_max) (ReLU6 for act_max = 6, as tf.relu6). The SIMD
 * paths vectorize across output channels only, so every path gives the same bits as the scalar
 * one and as src/nn/conv.ts (the TypeScript reference the tests compare against).
 *
 * Geometry (TF/Keras conventions): output size oh = (h + pad_top + pad_bottom - kh) / stride_h + 1
 * (floor), likewise ow; input pixel (oy * stride_h + ky - pad_top, ox * stride_w + kx - pad_left).
 * TF's 'same' padding is expressed by the caller as explicit pads (extra pixel bottom/right).
 */
#ifndef SF_CONV_H
#define SF_CONV_H
#include <stdint.h>

typedef struct {
  int64_t h, w, cin, cout; /* input height, width, channels; output channels (= cin for depthwise) */
  int64_t kh, kw, stride_h, stride_w;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
  int64_t oh, ow; /* output height and width (must equal the formula above) */
  float act_max;  /* < 0: no activation; else clamp to [0, act_max] */
} sf_conv_shape;

/* y[oh, ow, cout] = conv(x[h, w, cin], w[kh, kw, cin, cout] (TF HWIO), bias[cout] or NULL).
 * Returns 0, or -1 when out of memory (scratch of 4 * cout floats per thread). */
int sf_conv2d_hwc_f32(const float *x, const float *w, const float *bias, float *y, const sf_conv_shape *s);
/* y[oh, ow, c] = depthwise conv(x[h, w, c], w[kh, kw, c] (TF [kh, kw, c, 1]), bias[c] or NULL). */
int sf_dwconv2d_hwc_f32(const float *x, const float *w, const float *bias, float *y, const sf_conv_shape *s);

/* Row kernels of one instruction-set path (sf_conv_impl.h compiled by sf_conv.c and sf_conv_avx2.c). */
typedef struct {
  void (*conv_rows)(const float *x, const float *w, const float *bias, float *y, const sf_conv_shape *s, int64_t oy0,
                    int64_t oy1, float *scratch);
  void (*dw_rows)(const float *x, const float *w, const float *bias, float *y, const sf_conv_shape *s, int64_t oy0,
                  int64_t oy1);
} sf_conv_kernels;
extern const sf_conv_kernels sf_conv_portable;
extern const sf_conv_kernels sf_conv_avx2;
extern const sf_conv_kernels sf_conv_avx512;
/* 1 when sf_conv_avx2 / sf_conv_avx512 were compiled with AVX2 / AVX-512 (x86-64), else 0. */
extern const int sf_conv_avx2_compiled;
extern const int sf_conv_avx512_compiled;

#endif
