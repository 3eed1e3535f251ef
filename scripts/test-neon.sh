#!/usr/bin/env bash
# NEON op test under emulation: cross-compiles tests/native/neon-harness.c with the scalar and NEON
# kernels and the matmul driver (native/) statically for aarch64, and runs it under qemu-aarch64.
# Three runs:
#   1. -march=armv8-a build (plain NEON file; +dotprod file as scripts/build-native.mjs builds it)
#      on qemu's "max" CPU, which has SDOT: both kernel tables checked, auto path uses dotprod;
#   2. the same binary on a Cortex-A53 (ARMv8.0, no SDOT): detection must say no dotprod and the
#      path must keep the plain kernels;
#   3. a build where everything targets -march=armv8.2-a+dotprod;
#   4. where clang exists, a clang build of 1 (SDOT CPU).
# Every run requires each NEON result to equal the scalar result bit for bit. On an aarch64 host
# (no QEMU_AARCH64 set) it builds with cc and runs the harness directly instead (the dotprod build
# only where /proc/cpuinfo lists asimddp).
# Needs: aarch64-linux-gnu-gcc and qemu-aarch64 (Debian: apt-get install gcc-aarch64-linux-gnu qemu-user).
# Usage: scripts/test-neon.sh [OUTDIR]   (default: .cache/neon)
set -euo pipefail
cd "$(dirname "$0")/.."
NATIVE=0
if [ "$(uname -m)" = aarch64 ] && [ -z "${QEMU_AARCH64:-}" ]; then NATIVE=1; fi # real ARM: no emulator
CC=${AARCH64_CC:-$([ $NATIVE = 1 ] && echo cc || echo aarch64-linux-gnu-gcc)}
QEMU=${QEMU_AARCH64:-qemu-aarch64}
TOOLS=("$CC")
[ $NATIVE = 1 ] || TOOLS+=("$QEMU")
for tool in "${TOOLS[@]}"; do
  command -v "$tool" >/dev/null || { echo "test-neon: $tool not found (apt-get install gcc-aarch64-linux-gnu qemu-user)" >&2; exit 2; }
done
OUT=${1:-.cache/neon}
mkdir -p "$OUT"
# -ffp-contract=off as scripts/build-native.mjs: GCC for AArch64 would otherwise fuse a*b+c.
COMMON=(-O3 -std=gnu11 -pthread -ffp-contract=off -Wall -Wextra -Wno-unused-parameter -Inative)
SRCS=(native/sf_dot_scalar.c native/sf_quant.c native/sf_dot_neon.c native/sf_matmul.c native/sf_dot_avx2.c
      native/sf_dot_avx512.c native/sf_gemm_avx512.c tests/native/neon-harness.c)

build() { # build NAME MARCH
  local name=$1 march=$2
  # the dotprod file always gets +dotprod, as in build-native.mjs
  "$CC" "${COMMON[@]}" -march=armv8.2-a+dotprod -c native/sf_dot_neon_dotprod.c -o "$OUT/$name-dotprod.o"
  "$CC" "${COMMON[@]}" -static "-march=$march" "${SRCS[@]}" "$OUT/$name-dotprod.o" -o "$OUT/$name" -lm
}

build harness-v8 armv8-a
build harness-v82dp armv8.2-a+dotprod
# 4. where clang is installed (CI has it for the wasm build): the same with clang (macOS arm64 builds
#    the addon with clang), linked by the GNU cross toolchain
CLANG=0
if [ $NATIVE = 0 ] && command -v clang >/dev/null &&
  echo '#include <arm_neon.h>
#include <stdio.h>
int main(void) { return 0; }' | clang --target=aarch64-linux-gnu -x c -c - -o "$OUT/clang-probe.o" 2>/dev/null; then
  CLANG=1
  objs=()
  for f in "${SRCS[@]}" native/sf_dot_neon_dotprod.c; do
    march=armv8-a
    case $f in *_neon_dotprod.c) march=armv8.2-a+dotprod ;; esac
    o="$OUT/clang-$(basename "$f" .c).o"
    clang --target=aarch64-linux-gnu "${COMMON[@]}" "-march=$march" -c "$f" -o "$o"
    objs+=("$o")
  done
  "$CC" -static -pthread "${objs[@]}" -o "$OUT/harness-clang" -lm
elif [ $NATIVE = 0 ]; then
  echo "test-neon: no clang with an aarch64 target here; skipping the clang build"
fi

status=0
run() { # run LABEL QEMU_CPU BINARY EXPECT_DOTPROD
  echo "== $1 (qemu -cpu $2)"
  "$QEMU" -cpu "$2" "$3" "--expect-dotprod=$4" || status=1
}
if [ $NATIVE = 1 ]; then
  echo "== armv8-a build (this CPU)"
  "$OUT/harness-v8" || status=1
  if grep -qw asimddp /proc/cpuinfo; then
    echo "== armv8.2-a+dotprod build (this CPU)"
    "$OUT/harness-v82dp" || status=1
  fi
else
  run "armv8-a build" max "$OUT/harness-v8" 1
  run "armv8-a build, ARMv8.0 CPU" cortex-a53 "$OUT/harness-v8" 0
  run "armv8.2-a+dotprod build" max "$OUT/harness-v82dp" 1
  if [ $CLANG = 1 ]; then run "clang armv8-a build" max "$OUT/harness-clang" 1; fi
fi
if [ $status -eq 0 ]; then echo "test-neon: OK"; else echo "test-neon: FAIL"; fi
exit $status
