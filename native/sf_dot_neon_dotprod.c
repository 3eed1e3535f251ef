/*
 * The NEON kernels of sf_dot_neon_impl.h built with the ARMv8.2 dot-product extension
 * (scripts/build-native.mjs compiles *_neon_dotprod.c with -march=armv8.2-a+dotprod on arm64),
 * so the 32-element block sums use SDOT. Called only when sf_neon_cpu_dotprod() is 1.
 * Without __ARM_FEATURE_DOTPROD (other architectures, or a compiler without the flag) only the
 * stub remains.
 */
#include "sf_dot_neon.h"

#if defined(__aarch64__) && defined(__ARM_NEON) && defined(__ARM_FEATURE_DOTPROD)
#define SF_NEON_FILL sf_neon_dotprod_fill
#include "sf_dot_neon_impl.h"

int sf_fill_neon_dotprod(sf_kernel_table *k) {
  sf_neon_dotprod_fill(k);
  return 1;
}
#else
int sf_fill_neon_dotprod(sf_kernel_table *k) {
  (void)k;
  return 0;
}
#endif
