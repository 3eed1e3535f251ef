/* AVX-512 kernels (placeholder). */
#include "sf_common.h"
int sf_fill_avx512(sf_kernel_table *k) { (void)k; return 0; }
