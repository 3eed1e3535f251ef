#!/usr/bin/env bash
# Build wasm/synflux.wasm: the portable native kernels (native/sf_quant.c, sf_dot_scalar.c,
# sf_attn.c) plus wasm/glue.c (exports, matmul driver), wasm/pool.c (worker pool over shared
# memory), wasm/alloc.c (locked allocator), wasm/sf_dot_simd128.c (SIMD128 dot products),
# wasm/sf_attn_simd128.c (the attention kernels sf_attn.c calls on its SIMD path) and
# wasm/libm.c, with plain clang + wasm-ld (Debian: apt-get install clang lld). Threads proposal:
# -matomics, and the module imports a shared memory (env.memory, 256..65536 pages) that the main
# thread and every worker instantiate the module on (src/backends/wasm/threads.ts).
# No libc: wasm/include/ holds the few headers the kernels include. Reproducible: no debug info,
# no paths, names stripped, so two builds (anywhere, same clang) give the same bytes.
#   scripts/build-wasm.sh [OUT]   (default wasm/synflux.wasm)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-wasm/synflux.wasm}
CC=${CC:-clang}
command -v "$CC" >/dev/null || { echo "build-wasm: $CC not found (apt-get install -y clang lld)" >&2; exit 1; }
command -v wasm-ld >/dev/null || command -v wasm-ld-14 >/dev/null || { echo "build-wasm: wasm-ld not found (apt-get install -y lld)" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
CFLAGS=(--target=wasm32 -O3 -msimd128 -matomics -mbulk-memory -mmutable-globals -mnontrapping-fptoint -msign-ext -ffreestanding -nostdlibinc
  -isystem wasm/include -Inative -ffp-contract=off -fno-math-errno -DSF_EW_CHUNK=256 -g0 -std=c11 -Wall -Wextra -Wno-unused-parameter
  -ffile-prefix-map="$PWD"=. -fno-ident)
SRCS=(native/sf_quant.c native/sf_dot_scalar.c native/sf_attn.c wasm/sf_dot_simd128.c wasm/sf_attn_simd128.c wasm/libm.c wasm/alloc.c wasm/pool.c wasm/glue.c)
OBJS=()
for s in "${SRCS[@]}"; do
  o="$TMP/$(basename "${s%.c}").o"
  "$CC" "${CFLAGS[@]}" -c "$s" -o "$o"
  OBJS+=("$o")
done
# Imported shared memory of 16 MiB that grows to 4 GiB (memory.grow in malloc); 1 MiB main stack
# first (workers get their own stacks from malloc and set the exported __stack_pointer);
# exports named in the sources.
"$CC" --target=wasm32 -nostdlib -fuse-ld=lld -Wl,--no-entry -Wl,--strip-all -Wl,--import-memory -Wl,--shared-memory \
  -Wl,--initial-memory=16777216 -Wl,--max-memory=4294967296 -Wl,-z,stack-size=1048576 -Wl,--stack-first \
  -Wl,--export=__stack_pointer -o "$TMP/out.wasm" "${OBJS[@]}"
mkdir -p "$(dirname "$OUT")"
cp "$TMP/out.wasm" "$OUT"
echo "build-wasm: $OUT ($(wc -c <"$OUT") bytes)"
