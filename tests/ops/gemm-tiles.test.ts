/**
 * The AVX-512 prefill tile kernels (native/sf_gemm_avx512.c: up to 4 weight rows × 4 tokens per
 * pass) must give the same bits as the one-row AVX2 kernels they replace, which follow ggml-cpu's
 * x86 float order (docs/fidelity.md). For every type with a tile kernel, shapes that exercise
 * full and partial row groups (n_out % 4 ≠ 0), leftover tokens (n_tok % 4 ≠ 0), Q4_K both with and
 * without ggml's repacking (n_out % 8), and several blocks per row: matmul on the avx512 path vs
 * the avx2 path, bit for bit. Skips where the CPU has no AVX-512 VNNI path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GGMLType, rowBytes, typeName } from '../../src/core/ggml-type.js';
import { native } from '../../src/backends/cpu/native.js';
import { gaussian } from './helpers.js';

const k = native();
const TYPES = [GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q5_1, GGMLType.Q8_0, GGMLType.Q4_K, GGMLType.Q6_K];

test('AVX-512 tile kernels equal the AVX2 one-row kernels bit for bit', (t) => {
  const paths = k.kernelInfo().paths;
  if (!paths.includes('avx512') || !paths.includes('avx2')) return t.skip(`no avx512+avx2 paths on this CPU (${paths.join(', ')})`);
  try {
    for (const type of TYPES) {
      const isK = type === GGMLType.Q4_K || type === GGMLType.Q6_K;
      for (const nIn of isK ? [256, 768] : [64, 640]) {
        for (const nOut of [1, 6, 8, 19, 24]) {
          const w0 = gaussian(nOut * nIn, 1000 + type * 7 + nOut);
          const w = new Uint8Array(rowBytes(type, nIn) * nOut);
          k.quantize(type, w0, nOut * nIn, w);
          for (const nTok of [4, 7, 13, 36]) {
            const x = gaussian(nTok * nIn, 31 * nTok + nIn);
            const ya = new Float32Array(nTok * nOut), yb = new Float32Array(nTok * nOut);
            k.setPath('avx2');
            k.matmul(type, w, nOut, nIn, x, nTok, ya);
            k.setPath('avx512');
            k.matmul(type, w, nOut, nIn, x, nTok, yb);
            const a = new Uint32Array(ya.buffer), b = new Uint32Array(yb.buffer);
            const i = a.findIndex((v, j) => v !== b[j]);
            assert.equal(i, -1, `${typeName(type)} nIn=${nIn} nOut=${nOut} nTok=${nTok}: y[${i}] avx2 ${ya[i]} vs avx512 ${yb[i]}`);
          }
        }
      }
    }
  } finally {
    k.setPath('auto');
  }
});
