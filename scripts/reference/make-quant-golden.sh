#!/usr/bin/env bash
# Records what llama.cpp's llama-quantize makes of the synthetic quantizer-test checkpoints
# (tests/quant/synthetic-model.ts) into tests/quant/golden/llama-quantize.json: per tensor, its type
# and the first 16 hex digits of the SHA-256 of its bytes. Needs .cache/llama.cpp/build/bin/llama-quantize
# (scripts/reference/build-llama-cpp.sh). The test in tests/quant/llama-quantize.test.ts compares
# SynFlux's quantizer against this file wherever llama-quantize is not built (CI).
set -euo pipefail
cd "$(dirname "$0")/../.."
test -x .cache/llama.cpp/build/bin/llama-quantize || { echo "build llama-quantize first: scripts/reference/build-llama-cpp.sh" >&2; exit 1; }
SYNFLUX_UPDATE_QUANT_GOLDEN=1 node scripts/run-tests.mjs tests/quant/llama-quantize
