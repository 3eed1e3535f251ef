/*
 * NEON path of the dot products (AArch64, where AdvSIMD is mandatory): the ARMv8.0 kernels of
 * sf_dot_neon_impl.h, plus the +dotprod build of the same kernels (sf_dot_neon_dotprod.c) when
 * the CPU reports the dot-product instructions. Both are bit-identical to sf_dot_scalar.c.
 * Compiled without ISA flags (scripts/build-native.mjs); on other architectures only the stubs
 * below remain.
 */
#include <stdlib.h>
#include "sf_dot_neon.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
/* Built for ARMv8.0 these use SMULL/SADALP; when the whole build already targets dotprod
 * (e.g. clang on macOS arm64) the header picks SDOT here too, which that target guarantees. */
#define SF_NEON_FILL sf_neon_plain_fill
#include "sf_dot_neon_impl.h"

#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20) /* arch/arm64/include/uapi/asm/hwcap.h */
#endif
static int cpu_dotprod(void) { return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0; }
#elif defined(__APPLE__)
#include <sys/sysctl.h>
static int cpu_dotprod(void) {
  int v = 0;
  size_t len = sizeof v;
  return sysctlbyname("hw.optional.arm.FEAT_DotProd", &v, &len, NULL, 0) == 0 && v != 0;
}
#else
static int cpu_dotprod(void) { return 0; }
#endif

int sf_neon_cpu_dotprod(void) { return cpu_dotprod(); }

int sf_fill_neon_plain(sf_kernel_table *k) {
  sf_neon_plain_fill(k);
  return 1;
}

int sf_fill_neon(sf_kernel_table *k) {
  sf_neon_plain_fill(k);
  const char *env = getenv("SYNFLUX_NEON_DOTPROD"); /* "0": keep the ARMv8.0 kernels */
  if (cpu_dotprod() && !(env && env[0] == '0')) sf_fill_neon_dotprod(k);
  return 1;
}

#else
int sf_neon_cpu_dotprod(void) { return 0; }
int sf_fill_neon_plain(sf_kernel_table *k) {
  (void)k;
  return 0;
}
int sf_fill_neon(sf_kernel_table *k) {
  (void)k;
  return 0;
}
#endif
