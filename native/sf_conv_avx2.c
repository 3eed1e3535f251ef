/* AVX2 build of the HWC convolution row kernels (sf_conv_impl.h); same float ops as sf_conv.c. */
#include "sf_conv.h"
#if defined(__AVX2__)
#define SF_CONV_NAME(n) sf_conv_avx2_##n
#include "sf_conv_impl.h"
const sf_conv_kernels sf_conv_avx2 = {sf_conv_avx2_conv_rows, sf_conv_avx2_dw_rows};
const int sf_conv_avx2_compiled = 1;
#else
const sf_conv_kernels sf_conv_avx2 = {0, 0};
const int sf_conv_avx2_compiled = 0;
#endif
