/*
 * HWC float32 convolutions (sf_conv.h): portable build of the row kernels, path dispatch (AVX-512 or
 * AVX2 as the kernel path allows: sf_set_path / the CPU) and the split of output rows over
 * the thread pool. Every path and every schedule gives the same bits (see sf_conv.h).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include "sf_common.h"
#include "sf_conv.h"

#define SF_CONV_NAME(n) sf_conv_portable_##n
#include "sf_conv_impl.h"
const sf_conv_kernels sf_conv_portable = {sf_conv_portable_conv_rows, sf_conv_portable_dw_rows};

static const sf_conv_kernels *pick(void) {
  /* x86 paths only: the path ids are not ordered by capability (neon comes after avx512). */
  const int path = sf_get_path();
  if (sf_conv_avx512_compiled && path == SF_PATH_AVX512) return &sf_conv_avx512;
  if (sf_conv_avx2_compiled && (path == SF_PATH_AVX2 || path == SF_PATH_AVX512)) return &sf_conv_avx2;
  return &sf_conv_portable;
}

typedef struct {
  const float *x, *w, *bias;
  float *y;
  const sf_conv_shape *s;
  const sf_conv_kernels *k;
  int depthwise;
  int64_t rows_per_step;
  _Alignas(64) _Atomic int64_t next;
  char pad_[56];
} conv_ctx;

static void conv_task(void *vctx, int ith, int nth) {
  conv_ctx *c = vctx;
  (void)ith; (void)nth;
  float *scratch = NULL;
  if (!c->depthwise) {
    scratch = malloc((size_t)SF_CONV_PX * (size_t)c->s->cout * sizeof(float));
    if (!scratch) return; /* the caller's own run (ith 0) still completes every row */
  }
  for (;;) {
    const int64_t r0 = atomic_fetch_add_explicit(&c->next, c->rows_per_step, memory_order_relaxed);
    if (r0 >= c->s->oh) break;
    const int64_t r1 = r0 + c->rows_per_step < c->s->oh ? r0 + c->rows_per_step : c->s->oh;
    if (c->depthwise) c->k->dw_rows(c->x, c->w, c->bias, c->y, c->s, r0, r1);
    else c->k->conv_rows(c->x, c->w, c->bias, c->y, c->s, r0, r1, scratch);
  }
  free(scratch);
}

/* Returns 0, or -1 when no thread could allocate its scratch (rows left undone). */
static int run(conv_ctx *c, double macs) {
  atomic_init(&c->next, 0);
  c->rows_per_step = 1;
  if (macs < (double)(1 << 18) || c->s->oh == 1) conv_task(c, 0, 1); /* small: caller only, same bits */
  else sf_pool_run(conv_task, c);
  return atomic_load(&c->next) >= c->s->oh ? 0 : -1;
}

int sf_conv2d_hwc_f32(const float *x, const float *w, const float *bias, float *y, const sf_conv_shape *s) {
  conv_ctx c = {.x = x, .w = w, .bias = bias, .y = y, .s = s, .k = pick(), .depthwise = 0};
  return run(&c, (double)s->oh * s->ow * s->cout * s->cin * s->kh * s->kw);
}

int sf_dwconv2d_hwc_f32(const float *x, const float *w, const float *bias, float *y, const sf_conv_shape *s) {
  conv_ctx c = {.x = x, .w = w, .bias = bias, .y = y, .s = s, .k = pick(), .depthwise = 1};
  return run(&c, (double)s->oh * s->ow * s->cin * s->kh * s->kw);
}
