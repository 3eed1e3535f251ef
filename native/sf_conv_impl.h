/*
 * Body of the HWC convolution row kernels (see sf_conv.h for the exact float operations),
 * included once per instruction-set path by sf_conv.c (portable, SSE2 on x86-64) and
 * sf_conv_avx2.c / sf_conv_avx512.c (compiled with -mavx2 / -mavx512f). The innermost loops run over output channels with
 * independent accumulators, which the compiler vectorizes without reassociating any sum.
 */
#include <string.h>
#include "sf_conv.h"

#define SF_CONV_PX 4 /* output pixels per pass: each weight row is loaded once for 4 pixels */
#ifndef SF_CONV_CO_TILE
#define SF_CONV_CO_TILE 32 /* output channels per register tile (measured: 32 beats 8/16 on every build) */
#endif

static inline void sf_conv_finish(float *restrict y, const float *restrict acc, int64_t n, float act_max) {
  if (act_max < 0.0f) {
    memcpy(y, acc, (size_t)n * sizeof(float));
    return;
  }
  for (int64_t i = 0; i < n; i++) {
    float v = acc[i] > 0.0f ? acc[i] : 0.0f;
    y[i] = v < act_max ? v : act_max;
  }
}

/* Output rows [oy0, oy1); scratch holds SF_CONV_PX * cout floats. */
static void SF_CONV_NAME(conv_rows)(const float *x, const float *w, const float *bias, float *y, const sf_conv_shape *s,
                                    int64_t oy0, int64_t oy1, float *scratch) {
  const int64_t cin = s->cin, cout = s->cout, ow = s->ow;
  for (int64_t oy = oy0; oy < oy1; oy++) {
    for (int64_t ox0 = 0; ox0 < ow; ox0 += SF_CONV_PX) {
      const int64_t np = ow - ox0 < SF_CONV_PX ? ow - ox0 : SF_CONV_PX;
      float *restrict acc[SF_CONV_PX];
      for (int p = 0; p < SF_CONV_PX; p++) acc[p] = scratch + (int64_t)p * cout;
      for (int64_t p = 0; p < np; p++) {
        if (bias) memcpy(acc[p], bias, (size_t)cout * sizeof(float));
        else memset(acc[p], 0, (size_t)cout * sizeof(float));
      }
      for (int64_t ky = 0; ky < s->kh; ky++) {
        const int64_t iy = oy * s->stride_h + ky - s->pad_top;
        if (iy < 0 || iy >= s->h) continue;
        for (int64_t kx = 0; kx < s->kw; kx++) {
          const float *xp[SF_CONV_PX];
          int all = 1;
          for (int64_t p = 0; p < np; p++) {
            const int64_t ix = (ox0 + p) * s->stride_w + kx - s->pad_left;
            xp[p] = (ix < 0 || ix >= s->w) ? NULL : x + (iy * s->w + ix) * cin;
            if (!xp[p]) all = 0;
          }
          const float *wk = w + (ky * s->kw + kx) * cin * cout;
          if (all && np == SF_CONV_PX) {
            float *restrict a0 = acc[0], *restrict a1 = acc[1], *restrict a2 = acc[2], *restrict a3 = acc[3];
            int64_t co0 = 0;
            /* Register tiles: SF_CONV_CO_TILE output channels × 4 pixels stay in registers over the
             * whole ci loop (same per-element operation order as the plain loop below). */
            for (; co0 + SF_CONV_CO_TILE <= cout; co0 += SF_CONV_CO_TILE) {
              float t0[SF_CONV_CO_TILE], t1[SF_CONV_CO_TILE], t2[SF_CONV_CO_TILE], t3[SF_CONV_CO_TILE];
              for (int j = 0; j < SF_CONV_CO_TILE; j++) {
                t0[j] = a0[co0 + j]; t1[j] = a1[co0 + j]; t2[j] = a2[co0 + j]; t3[j] = a3[co0 + j];
              }
              for (int64_t ci = 0; ci < cin; ci++) {
                const float *restrict wr = wk + ci * cout + co0;
                const float x0 = xp[0][ci], x1 = xp[1][ci], x2 = xp[2][ci], x3 = xp[3][ci];
                for (int j = 0; j < SF_CONV_CO_TILE; j++) {
                  const float wv = wr[j];
                  t0[j] = t0[j] + x0 * wv;
                  t1[j] = t1[j] + x1 * wv;
                  t2[j] = t2[j] + x2 * wv;
                  t3[j] = t3[j] + x3 * wv;
                }
              }
              for (int j = 0; j < SF_CONV_CO_TILE; j++) {
                a0[co0 + j] = t0[j]; a1[co0 + j] = t1[j]; a2[co0 + j] = t2[j]; a3[co0 + j] = t3[j];
              }
            }
            for (int64_t ci = 0; ci < cin && co0 < cout; ci++) {
              const float *restrict wr = wk + ci * cout;
              const float x0 = xp[0][ci], x1 = xp[1][ci], x2 = xp[2][ci], x3 = xp[3][ci];
              for (int64_t co = co0; co < cout; co++) {
                const float wv = wr[co];
                a0[co] = a0[co] + x0 * wv;
                a1[co] = a1[co] + x1 * wv;
                a2[co] = a2[co] + x2 * wv;
                a3[co] = a3[co] + x3 * wv;
              }
            }
          } else {
            for (int64_t p = 0; p < np; p++) {
              if (!xp[p]) continue;
              float *restrict a = acc[p];
              for (int64_t ci = 0; ci < cin; ci++) {
                const float *restrict wr = wk + ci * cout;
                const float xv = xp[p][ci];
                for (int64_t co = 0; co < cout; co++) a[co] = a[co] + xv * wr[co];
              }
            }
          }
        }
      }
      for (int64_t p = 0; p < np; p++) sf_conv_finish(y + (oy * ow + ox0 + p) * cout, acc[p], cout, s->act_max);
    }
  }
}

/* Depthwise: output rows [oy0, oy1). */
static void SF_CONV_NAME(dw_rows)(const float *x, const float *w, const float *bias, float *y, const sf_conv_shape *s,
                                  int64_t oy0, int64_t oy1) {
  const int64_t c = s->cin, ow = s->ow;
  for (int64_t oy = oy0; oy < oy1; oy++) {
    for (int64_t ox = 0; ox < ow; ox++) {
      float *restrict acc = y + (oy * ow + ox) * c;
      if (bias) memcpy(acc, bias, (size_t)c * sizeof(float));
      else memset(acc, 0, (size_t)c * sizeof(float));
      for (int64_t ky = 0; ky < s->kh; ky++) {
        const int64_t iy = oy * s->stride_h + ky - s->pad_top;
        if (iy < 0 || iy >= s->h) continue;
        for (int64_t kx = 0; kx < s->kw; kx++) {
          const int64_t ix = ox * s->stride_w + kx - s->pad_left;
          if (ix < 0 || ix >= s->w) continue;
          const float *restrict xr = x + (iy * s->w + ix) * c;
          const float *restrict wr = w + (ky * s->kw + kx) * c;
          for (int64_t i = 0; i < c; i++) acc[i] = acc[i] + xr[i] * wr[i];
        }
      }
      if (s->act_max >= 0.0f) {
        const float m = s->act_max;
        for (int64_t i = 0; i < c; i++) {
          float v = acc[i] > 0.0f ? acc[i] : 0.0f;
          acc[i] = v < m ? v : m;
        }
      }
    }
  }
}
