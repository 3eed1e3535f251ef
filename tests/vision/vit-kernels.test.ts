/**
 * The vision encoder's native GEMM (native/sf_vit_gemm_avx512.c, `gemm` in sf_vit.c) against the
 * project's `matmul` kernel, which is itself checked against ggml (tests/ops): F32 and F16 weights,
 * shapes with remainders in every blocked dimension (tokens vs the 6-row tile, outputs vs the
 * 32-column panel, inputs vs the 256-deep block). Only the summation order differs, so results agree
 * to float rounding; on a non-AVX-512 kernel path `gemm` is `matmul` exactly. Bad arguments are typed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native } from '../../src/backends/cpu/native.js';
import { GGMLType } from '../../src/core/ggml-type.js';

type Gemm = (type: number, w: Uint8Array, nOut: number, nIn: number, x: Float32Array, nTok: number, y: Float32Array) => void;
const nat = native();
const gemm = (nat as unknown as { gemm: Gemm }).gemm;

let seed = 99;
const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff - 0.5; };

function weights(type: number, nIn: number, nOut: number): Uint8Array {
  const f = Float32Array.from({ length: nIn * nOut }, rnd);
  const w = new Uint8Array(nat.rowSize(type, nIn * nOut));
  nat.quantize(type, f, nIn * nOut, w);
  return w;
}

const SHAPES: [number, number, number][] = [[1, 5, 3], [7, 300, 17], [13, 37, 45], [64, 256, 32], [61, 513, 70], [200, 64, 1024]];

for (const [name, type] of [['F32', GGMLType.F32], ['F16', GGMLType.F16]] as const) {
  test(`gemm == matmul to float rounding (${name} weights, remainders in every block dimension)`, () => {
    for (const [nTok, nIn, nOut] of SHAPES) {
      const w = weights(type, nIn, nOut);
      const x = Float32Array.from({ length: nTok * nIn }, rnd);
      const a = new Float32Array(nTok * nOut), b = new Float32Array(nTok * nOut).fill(NaN);
      nat.matmul(type, w, nOut, nIn, x, nTok, a);
      gemm(type, w, nOut, nIn, x, nTok, b);
      // different summation order only: |error| grows like sqrt(nIn)·eps·|terms| (terms ≤ 0.25 here)
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      assert.ok(worst <= Math.sqrt(nIn) * 2e-6, `${nTok}x${nIn}x${nOut}: max |gemm − matmul| = ${worst}`);
    }
  });
}

test('on the AVX2 / scalar kernel paths gemm is matmul exactly', () => {
  try {
    for (const path of ['avx2', 'scalar'] as const) {
      if (!nat.kernelInfo().paths.includes(path)) continue;
      nat.setPath(path);
      const [nTok, nIn, nOut] = [61, 513, 70];
      const w = weights(GGMLType.F16, nIn, nOut);
      const x = Float32Array.from({ length: nTok * nIn }, rnd);
      const a = new Float32Array(nTok * nOut), b = new Float32Array(nTok * nOut);
      nat.matmul(GGMLType.F16, w, nOut, nIn, x, nTok, a);
      gemm(GGMLType.F16, w, nOut, nIn, x, nTok, b);
      assert.ok(Buffer.from(a.buffer).equals(Buffer.from(b.buffer)), path);
    }
  } finally {
    nat.setPath('auto');
  }
});

test('gemm rejects bad arguments with ERR_SYNFLUX_ARG', () => {
  const w = weights(GGMLType.F32, 8, 4);
  const x = new Float32Array(16), y = new Float32Array(8);
  const bad = (f: () => void) => assert.throws(f, { code: 'ERR_SYNFLUX_ARG' });
  bad(() => gemm(GGMLType.Q8_0, w, 4, 8, x, 2, y));
  bad(() => gemm(GGMLType.F32, w, 5, 8, x, 2, y));
  bad(() => gemm(GGMLType.F32, w, 4, 8, x, 3, y));
  bad(() => gemm(GGMLType.F32, w, 4, 8, x, 2, new Float32Array(7)));
  bad(() => gemm(GGMLType.F32, w, 4, 8.5, x, 2, y));
  bad(() => gemm(GGMLType.F32, new Float32Array(32) as unknown as Uint8Array, 4, 8, x, 2, y));
  gemm(GGMLType.F32, w, 4, 8, x, 0, y); // zero tokens: no-op
});

test('GELU: the threaded native path (ggml GeGLU with u = 1) equals the TypeScript F16-table GELU bit for bit', async () => {
  const { activate } = await import('../../src/models/vision/ops.js');
  const n = 1 << 18;
  const a = Float32Array.from({ length: n }, (_, i) => (i / n) * 30 - 15);
  const b = a.slice();
  activate('gelu', a, n); // ≥ 4096 elements: native
  for (let o = 0; o < n; o += 4000) activate('gelu', b.subarray(o, Math.min(n, o + 4000)), Math.min(4000, n - o)); // JS table
  assert.ok(Buffer.from(a.buffer).equals(Buffer.from(b.buffer)));
  assert.equal(a[0], 0); // x ≤ −10 saturates to 0
  assert.equal(a[n - 1], b[n - 1]);
});
