/*
 * NEON path internals (sf_dot_neon.c, sf_dot_neon_dotprod.c), exposed for the op harness
 * tests/native/neon-harness.c. The addon only uses sf_fill_neon (sf_common.h).
 */
#ifndef SF_DOT_NEON_H
#define SF_DOT_NEON_H

#include "sf_common.h"

/* Fills k's vec_dot entries with the ARMv8.0 NEON kernels (SMULL/SADALP block sums). Returns 0
 * and fills nothing when not compiled for AArch64. */
int sf_fill_neon_plain(sf_kernel_table *k);
/* Fills k's vec_dot entries with the kernels built with +dotprod (SDOT block sums). Returns 0 and
 * fills nothing when that file was compiled without __ARM_FEATURE_DOTPROD. The caller must check
 * sf_neon_cpu_dotprod() before running them (they use an ARMv8.2 instruction). */
int sf_fill_neon_dotprod(sf_kernel_table *k);
/* 1 when the CPU has the dot-product instructions (Linux: getauxval(AT_HWCAP) & HWCAP_ASIMDDP;
 * macOS: sysctl hw.optional.arm.FEAT_DotProd), 0 otherwise or off AArch64. sf_fill_neon uses
 * the dotprod kernels when this is 1, unless the environment sets SYNFLUX_NEON_DOTPROD=0. */
int sf_neon_cpu_dotprod(void);

#endif
