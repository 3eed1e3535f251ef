/* Declarations shared by the wasm/ sources (not part of native/). */
#ifndef SF_WASM_KERNELS_H
#define SF_WASM_KERNELS_H
#include <stdatomic.h>
#include <stddef.h>
#include "sf_common.h"

/* out[i] = vec_dot(n, w + i * w_row, a) for i = 0..3, each bit-identical to the one-row kernel. */
typedef void (*sf_dot4_fn)(int n, const void *w, size_t w_row, const void *a, float *out);

/* The 4-row SIMD128 kernel of a weight type, or NULL (wasm/sf_dot_simd128.c). */
sf_dot4_fn sf_simd128_dot4(int type);
void sf_fill_simd128(sf_kernel_table *k);

/* Threads taking part in pool jobs, the caller included (wasm/pool.c). */
int32_t sf_wasm_pool_threads(void);
#endif
