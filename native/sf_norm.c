/*
 * RMSNorm exactly as src/nn/norm.ts computes it (and ggml-cpu ops.cpp
 * ggml_compute_forward_rms_norm_f32): sum of float squares accumulated in double, in order;
 * mean = (float)(sum / n); scale = 1 / sqrtf((float)(mean + eps)) in float; y = (x * scale) * w in
 * float. Rows are independent, so they are split over the pool; every schedule gives the same bits.
 */
#include <math.h>
#include <stdatomic.h>
#include "sf_common.h"

typedef struct {
  const float *x, *w;
  float *y;
  int64_t rows, n;
  double eps;
  _Alignas(64) _Atomic int64_t next;
  char pad_[56];
} norm_ctx;

static void norm_rows(const norm_ctx *c, int64_t r0, int64_t r1) {
  const int64_t n = c->n;
  for (int64_t r = r0; r < r1; r++) {
    const float *x = c->x + r * n;
    float *y = c->y + r * n;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
      const float sq = x[i] * x[i];
      sum += (double)sq;
    }
    const float mean = (float)(sum / (double)n);
    const float t = (float)((double)mean + c->eps);
    const float s = (float)sqrt((double)t);
    const float scale = 1.0f / s;
    if (c->w)
      for (int64_t i = 0; i < n; i++) {
        const float xs = x[i] * scale;
        y[i] = xs * c->w[i];
      }
    else
      for (int64_t i = 0; i < n; i++) y[i] = x[i] * scale;
  }
}

static void norm_task(void *vctx, int ith, int nth) {
  norm_ctx *c = vctx;
  (void)ith; (void)nth;
  const int64_t step = 8;
  for (;;) {
    const int64_t r0 = atomic_fetch_add_explicit(&c->next, step, memory_order_relaxed);
    if (r0 >= c->rows) break;
    norm_rows(c, r0, r0 + step < c->rows ? r0 + step : c->rows);
  }
}

void sf_rms_norm_f32(const float *x, const float *w, float *y, int64_t rows, int64_t n, double eps) {
  norm_ctx c = {.x = x, .w = w, .y = y, .rows = rows, .n = n, .eps = eps};
  atomic_init(&c.next, 0);
  if (rows <= 8 || rows * n < 32768) norm_rows(&c, 0, rows);
  else sf_pool_run(norm_task, &c);
}
