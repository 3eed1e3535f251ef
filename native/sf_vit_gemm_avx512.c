/*
 * Blocked AVX-512 GEMM for the compute-bound vision encoder (src/models/vision), `gemm` in sf_vit.c: Y[n_tok, n_out] = X[n_tok, n_in] . W^T
 * with W [n_out, n_in] in F32 or F16 (row-major, ggml layout). Weights are packed per block of 32
 * outputs x KC inputs into a k-major panel (F16 converted to F32 while packing); a 6x32 register
 * micro-kernel (12 zmm accumulators) runs over every 6-token tile. Every output is one FMA chain
 * over k in order (the packing only changes where the operands come from).
 *
 * F16 weights: like ggml-cpu (vec_dot_type F16), the activations are rounded to F16 first, so the
 * products are those of ggml_vec_dot_f16 (F16 x F16, F32 accumulation); only the summation order
 * differs. Output blocks are shared out over the thread pool.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "sf_common.h"

int sf_vit_gemm_avx512(int wtype, const void *w, int64_t n_out, int64_t n_in, const float *x, int64_t n_tok, float *y);

#if defined(__AVX512F__) && defined(__F16C__)
#include <immintrin.h>

#define MR 6
#define NR 32
#define KC 256

typedef struct {
  int wtype;
  const void *w;
  int64_t n_out, n_in, n_tok;
  const float *x;
  float *y;
  _Alignas(64) _Atomic int64_t next;
  _Atomic int failed;
} vgemm_ctx;

/* panel[k][j] = W[o0 + j][k0 + k] for j < nr (zero beyond), k < kc. */
static void pack(const vgemm_ctx *c, int64_t o0, int64_t nr, int64_t k0, int64_t kc, float *panel) {
  for (int64_t j = 0; j < NR; j++) {
    if (j >= nr) {
      for (int64_t k = 0; k < kc; k++) panel[k * NR + j] = 0.0f;
      continue;
    }
    if (c->wtype == SF_F32) {
      const float *src = (const float *)c->w + (o0 + j) * c->n_in + k0;
      for (int64_t k = 0; k < kc; k++) panel[k * NR + j] = src[k];
    } else {
      const uint16_t *src = (const uint16_t *)c->w + (o0 + j) * c->n_in + k0;
      int64_t k = 0;
      for (; k + 16 <= kc; k += 16) {
        float tmp[16];
        _mm512_storeu_ps(tmp, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + k))));
        for (int i = 0; i < 16; i++) panel[(k + i) * NR + j] = tmp[i];
      }
      for (; k < kc; k++) panel[k * NR + j] = _cvtsh_ss(src[k]);
    }
  }
}

/* rows x 32 tile of Y (+)= X[t0.., k0..k0+kc] . panel; `first` zeroes instead of loading Y. */
static inline void kernel(const float *x, int64_t ldx, const float *panel, int64_t kc, float *y, int64_t ldy, int rows, __mmask16 m0,
                          __mmask16 m1, int first) {
  __m512 a[MR][2];
  for (int i = 0; i < MR; i++) {
    if (i < rows && !first) {
      a[i][0] = _mm512_maskz_loadu_ps(m0, y + i * ldy);
      a[i][1] = _mm512_maskz_loadu_ps(m1, y + i * ldy + 16);
    } else {
      a[i][0] = _mm512_setzero_ps();
      a[i][1] = _mm512_setzero_ps();
    }
  }
  if (rows == MR) {
    for (int64_t k = 0; k < kc; k++) {
      const __m512 w0 = _mm512_load_ps(panel + k * NR), w1 = _mm512_load_ps(panel + k * NR + 16);
      for (int i = 0; i < MR; i++) {
        const __m512 b = _mm512_set1_ps(x[i * ldx + k]);
        a[i][0] = _mm512_fmadd_ps(b, w0, a[i][0]);
        a[i][1] = _mm512_fmadd_ps(b, w1, a[i][1]);
      }
    }
  } else {
    for (int64_t k = 0; k < kc; k++) {
      const __m512 w0 = _mm512_load_ps(panel + k * NR), w1 = _mm512_load_ps(panel + k * NR + 16);
      for (int i = 0; i < rows; i++) {
        const __m512 b = _mm512_set1_ps(x[i * ldx + k]);
        a[i][0] = _mm512_fmadd_ps(b, w0, a[i][0]);
        a[i][1] = _mm512_fmadd_ps(b, w1, a[i][1]);
      }
    }
  }
  for (int i = 0; i < rows; i++) {
    _mm512_mask_storeu_ps(y + i * ldy, m0, a[i][0]);
    _mm512_mask_storeu_ps(y + i * ldy + 16, m1, a[i][1]);
  }
}

static void vgemm_task(void *vctx, int ith, int nth) {
  (void)ith;
  (void)nth;
  vgemm_ctx *c = vctx;
  float *panel = aligned_alloc(64, sizeof(float) * KC * NR);
  if (!panel) {
    atomic_store(&c->failed, 1);
    return;
  }
  const int64_t nblk = (c->n_out + NR - 1) / NR;
  for (;;) {
    const int64_t b = atomic_fetch_add_explicit(&c->next, 1, memory_order_relaxed);
    if (b >= nblk) break;
    const int64_t o0 = b * NR;
    const int64_t nr = c->n_out - o0 < NR ? c->n_out - o0 : NR;
    const __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);
    const __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : nr <= 16 ? (__mmask16)0 : (__mmask16)((1u << (nr - 16)) - 1);
    for (int64_t k0 = 0; k0 < c->n_in; k0 += KC) {
      const int64_t kc = c->n_in - k0 < KC ? c->n_in - k0 : KC;
      pack(c, o0, nr, k0, kc, panel);
      for (int64_t t0 = 0; t0 < c->n_tok; t0 += MR) {
        const int rows = c->n_tok - t0 < MR ? (int)(c->n_tok - t0) : MR;
        kernel(c->x + t0 * c->n_in + k0, c->n_in, panel, kc, c->y + t0 * c->n_out + o0, c->n_out, rows, m0, m1, k0 == 0);
      }
    }
  }
  free(panel);
}

/* Returns 0, or -1 when out of memory. wtype: SF_F32 or SF_F16; arguments already validated. */
int sf_vit_gemm_avx512(int wtype, const void *w, int64_t n_out, int64_t n_in, const float *x, int64_t n_tok, float *y) {
  float *xr = NULL;
  if (wtype == SF_F16) {
    /* round X to F16 as ggml-cpu converts activations to the F16 vec_dot_type */
    xr = malloc(sizeof(float) * (size_t)(n_tok * n_in));
    if (!xr) return -1;
    const int64_t n = n_tok * n_in;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
      _mm512_storeu_ps(xr + i, _mm512_cvtph_ps(_mm512_cvtps_ph(_mm512_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
    for (; i < n; i++) xr[i] = _cvtsh_ss(_cvtss_sh(x[i], 0));
    x = xr;
  }
  vgemm_ctx c = {.wtype = wtype, .w = w, .n_out = n_out, .n_in = n_in, .n_tok = n_tok, .x = x, .y = y};
  atomic_init(&c.next, 0);
  atomic_init(&c.failed, 0);
  sf_pool_run(vgemm_task, &c);
  free(xr);
  return atomic_load(&c.failed) ? -1 : 0;
}
#else
/* Built without AVX-512 (non-x86): never called (sf_vit.c checks the kernel path first). */
int sf_vit_gemm_avx512(int wtype, const void *w, int64_t n_out, int64_t n_in, const float *x, int64_t n_tok, float *y) {
  (void)wtype; (void)w; (void)n_out; (void)n_in; (void)x; (void)n_tok; (void)y;
  return -1;
}
#endif
