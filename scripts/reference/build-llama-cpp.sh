#!/usr/bin/env bash
# Builds llama.cpp's reference tools (llama-bench, llama-cli, llama-quantize, llama-perplexity,
# llama-mtmd-cli and the static libmtmd used by scripts/reference/vlm-goldens.sh) from
# the source bundled with node-llama-cpp (cloned into .cache/llama.cpp by scripts/fetch-fixtures.mjs)
# into .cache/llama.cpp/build/bin. Static, Release, portable x86-64 ISA flags: GGML_NATIVE=OFF with
# AVX2 + AVX-512(VNNI) on and AMX off (with GGML_NATIVE=ON the AMX code traps on these machines).
# Never commit the build. Usage: scripts/reference/build-llama-cpp.sh [-jN]   (default -j2)
# Background: nohup scripts/reference/build-llama-cpp.sh > .cache/llama-build.log 2>&1 &
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
JOBS="${1:--j2}"

SRC="$(cd "$ROOT" && node -e "import('./scripts/fetch-fixtures.mjs').then(m => console.log(m.ensureLlamaCppSource()))")"
BUILD="$SRC/build"
echo "[build-llama-cpp] source $SRC ($(git -C "$SRC" log -1 --format='%h %s' | tr '\n' ' ')), build $BUILD"

cmake -S "$SRC" -B "$BUILD" \
  -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_SHARED_LIBS=OFF \
  -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON \
  -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF \
  -DLLAMA_CURL=OFF

cmake --build "$BUILD" --config Release "$JOBS" --target llama-bench llama-cli llama-quantize llama-perplexity llama-mtmd-cli mtmd

for t in llama-bench llama-cli llama-quantize llama-perplexity llama-mtmd-cli; do
  test -x "$BUILD/bin/$t" || { echo "[build-llama-cpp] missing $BUILD/bin/$t" >&2; exit 1; }
done
"$BUILD/bin/llama-cli" --version 2>&1 | head -n 2 || true
echo "[build-llama-cpp] done: $BUILD/bin"
