/* Declarations shared by the wasm/ sources (not part of native/). */
#ifndef SF_WASM_KERNELS_H
#define SF_WASM_KERNELS_H
#include <stdatomic.h>
#include <stddef.h>
#include "sf_common.h"

/* Four-row SIMD128 kernel of a weight type (wasm/sf_dot_simd128.c): `prep` turns one quantized
 * activation row (n values, the act_type blocks) into the kernel's form (prep_size(n) bytes,
 * 16-byte aligned); dot4 sets out[i] = vec_dot(n, w + i * w_row, act) for i = 0..3, each
 * bit-identical to the one-row kernel. */
typedef struct {
  void (*dot4)(int n, const void *w, size_t w_row, const void *prep, float *out);
  /* the same results, the four rows one after the other (one sequential stream: large matrices) */
  void (*seq4)(int n, const void *w, size_t w_row, const void *prep, float *out);
  /* dot4 against two prepared activation rows (prefill), or NULL */
  void (*dot4x2)(int n, const void *w, size_t w_row, const void *prep0, const void *prep1, float *out0, float *out1);
  size_t (*prep_size)(int n);
  void (*prep)(int n, const void *act, void *prep);
} sf_simd128_rows;

/* The four-row kernel of a weight type, or NULL. */
const sf_simd128_rows *sf_simd128_rows_for(int type);
void sf_fill_simd128(sf_kernel_table *k);

/* Threads taking part in pool jobs, the caller included (wasm/pool.c). */
int32_t sf_wasm_pool_threads(void);
#endif
