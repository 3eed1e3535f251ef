#!/usr/bin/env bash
# Produces the VLM golden files in tests/fixtures/vlm/<family>/ (smolvlm, llava, gemma3) from llama.cpp's
# mtmd (the source bundled with node-llama-cpp, .cache/llama.cpp) and the PyTorch reference
# scripts/reference/torch-vlm-ref.py. Run once by hand; tests only read the goldens and regenerate the
# checkpoints with scripts/reference/make-random-vlm.py (deterministic; meta.json holds their sha256).
#
#   1. scripts/reference/build-llama-cpp.sh (llama-mtmd-cli + static libmtmd/libllama/ggml; -j2)
#   2. builds scripts/reference/mtmd-dump.cpp against that tree into .cache/vlm/bin/mtmd-dump
#   3. scripts/reference/vlm-goldens.py: checkpoints -> .cache/vlm/<family>, dumps, torch reference,
#      llama-mtmd-cli cross-check, writes tests/fixtures/vlm/<family>/{meta.json,*.f32,*.u8}
#
# Needs: cmake + a C++17 compiler, python3 with numpy 2.2.6 + pyyaml (gguf-py), and Debian's torch for
# /usr/bin/python3 (apt-get install -y python3-torch python3-numpy python3-pil).
# Usage: scripts/reference/vlm-goldens.sh [family ...]     (default: smolvlm llava gemma3)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
L="$ROOT/.cache/llama.cpp"
B="$L/build"

if [ ! -x "$B/bin/llama-mtmd-cli" ] || [ ! -f "$B/tools/mtmd/libmtmd.a" ]; then
  scripts/reference/build-llama-cpp.sh -j2
fi

mkdir -p .cache/vlm/bin
g++ -std=c++17 -O2 -Wno-deprecated-declarations \
  -I"$L/include" -I"$L/ggml/include" -I"$L/tools/mtmd" \
  scripts/reference/mtmd-dump.cpp -o .cache/vlm/bin/mtmd-dump \
  "$B/tools/mtmd/libmtmd.a" "$B/src/libllama.a" "$B/ggml/src/libggml.a" "$B/ggml/src/libggml-cpu.a" \
  "$B/ggml/src/libggml-base.a" "$B/vendor/hash/libvendor-hash.a" -ldl -lm -fopenmp -lpthread

python3 scripts/reference/vlm-goldens.py "$@"
