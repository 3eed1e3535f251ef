/* AVX-512 build of the HWC convolution row kernels (sf_conv_impl.h); same float ops as sf_conv.c. */
#include "sf_conv.h"
#if defined(__AVX512F__)
#define SF_CONV_NAME(n) sf_conv_avx512_##n
#include "sf_conv_impl.h"
const sf_conv_kernels sf_conv_avx512 = {sf_conv_avx512_conv_rows, sf_conv_avx512_dw_rows};
const int sf_conv_avx512_compiled = 1;
#else
const sf_conv_kernels sf_conv_avx512 = {0, 0};
const int sf_conv_avx512_compiled = 0;
#endif
