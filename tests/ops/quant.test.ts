/**
 * Native (de)quantization vs llama.cpp's gguf-py numpy reference, bit-exact:
 * dequantize of every weight type on random blocks; quantize of Q8_0/Q4_0/Q4_1/Q5_0/Q5_1/F16/BF16.
 * Plus structural checks of the formats gguf-py cannot quantize (Q8_1 s field, Q8_K bsums,
 * K-quant reference quantizers' round trip).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GGMLType, rowBytes, typeName } from '../../src/core/ggml-type.js';
import { native } from '../../src/backends/cpu/native.js';
import { gaussian, ggufRef, halfToFloat, randomBlocks, type RefOp } from './helpers.js';

const k = native();
const WEIGHT_TYPES = [GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q5_1, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K];
const N = 256 * 24; // elements per type: 24 K-quant super-blocks, 192 small blocks

/** Index of the first differing 32-bit word, or -1. */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const bytesOf = (f: Float32Array): Uint8Array => new Uint8Array(f.buffer, f.byteOffset, f.byteLength);

test('dequantize matches gguf-py bit-exactly for every weight type', (t) => {
  const inputs = WEIGHT_TYPES.map((type, i) => randomBlocks(type, N, 1000 + i));
  const ref = ggufRef(inputs.map((data, i) => ({ op: 'dequantize', type: WEIGHT_TYPES[i]!, data })));
  if ('skip' in ref) return t.skip(ref.skip);
  WEIGHT_TYPES.forEach((type, i) => {
    const out = new Float32Array(N);
    k.dequantize(type, inputs[i]!, N, out);
    const want = ref.results[i]!;
    const d = firstDiff(bytesOf(out), want);
    assert.equal(d, -1, `${typeName(type)}: first differing byte ${d} (native ${out[d >> 2]}, gguf-py ${new Float32Array(want.buffer, want.byteOffset)[d >> 2]})`);
  });
});

test('getRows dequantizes the selected rows', () => {
  for (const type of WEIGHT_TYPES) {
    const nIn = 512, nRows = 7;
    const w = randomBlocks(type, nIn * nRows, 77 + type);
    const all = new Float32Array(nIn * nRows);
    k.dequantize(type, w, nIn * nRows, all);
    const ids = Int32Array.from([6, 0, 3, 3]);
    const out = new Float32Array(ids.length * nIn);
    k.getRows(type, w, nIn, ids, out);
    ids.forEach((id, i) => assert.deepEqual(out.subarray(i * nIn, (i + 1) * nIn), all.subarray(id * nIn, (id + 1) * nIn), `${typeName(type)} row ${id}`));
  }
});

test('quantize Q8_0/Q4_0/Q4_1/Q5_0/Q5_1/F16/BF16 matches gguf-py bit-exactly', (t) => {
  const types = [GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q5_1, GGMLType.F16, GGMLType.BF16];
  const src = gaussian(N, 4242, 0.05);
  // sprinkle exact ties and special values: zeros block, constant block, tiny values (fp16 subnormals)
  src.fill(0, 0, 32);
  src.fill(0.25, 32, 64);
  for (let i = 64; i < 96; i++) src[i] = (i - 80) * 2 ** -20;
  const ops: RefOp[] = types.map((type) => ({ op: 'quantize', type, data: bytesOf(src) }));
  const ref = ggufRef(ops);
  if ('skip' in ref) return t.skip(ref.skip);
  types.forEach((type, i) => {
    const out = new Uint8Array(rowBytes(type, N));
    const written = k.quantize(type, src, N, out);
    assert.equal(written, out.length);
    const d = firstDiff(out, ref.results[i]!);
    assert.equal(d, -1, `${typeName(type)}: first differing byte ${d}`);
  });
});

test('Q8_1 activations: s = fp16(d * sum q); Q8_K: bsums are sums of 16', () => {
  const n = 512;
  const x = gaussian(n, 9);
  const q81 = new Uint8Array(k.rowSize(GGMLType.Q8_1, n));
  assert.equal(k.quantizeActivation(GGMLType.Q4_1, x, n, q81), GGMLType.Q8_1);
  const dv = new DataView(q81.buffer);
  for (let b = 0; b < n / 32; b++) {
    const d = halfToFloat(dv.getUint16(b * 36, true));
    const s = halfToFloat(dv.getUint16(b * 36 + 2, true));
    let sum = 0;
    for (let j = 0; j < 32; j++) sum += dv.getInt8(b * 36 + 4 + j);
    assert.ok(Math.abs(s - d * sum) <= Math.abs(d * sum) * 2 ** -10 + 1e-7, `block ${b}: s=${s} d*sum=${d * sum}`);
    // every q within rounding of x/d
    // q was rounded from x * 127/amax while d is stored rounded to fp16: allow that slack
    for (let j = 0; j < 32; j++) {
      const err = Math.abs(dv.getInt8(b * 36 + 4 + j) - x[b * 32 + j]! / d);
      assert.ok(err <= 0.5 + 128 * 2 ** -11, `block ${b} elem ${j}: |q - x/d| = ${err}`);
    }
  }
  const q8k = new Uint8Array(k.rowSize(GGMLType.Q8_K, n));
  assert.equal(k.quantizeActivation(GGMLType.Q4_K, x, n, q8k), GGMLType.Q8_K);
  const kv = new DataView(q8k.buffer);
  for (let b = 0; b < n / 256; b++) {
    for (let g = 0; g < 16; g++) {
      let sum = 0;
      for (let j = 0; j < 16; j++) sum += kv.getInt8(b * 292 + 4 + g * 16 + j);
      assert.equal(kv.getInt16(b * 292 + 260 + g * 2, true), sum);
    }
  }
});

test('K-quant reference quantizers round-trip with small error', () => {
  const bounds: Record<number, number> = { [GGMLType.Q4_K]: 0.12, [GGMLType.Q5_K]: 0.06, [GGMLType.Q6_K]: 0.03, [GGMLType.Q8_0]: 0.01, [GGMLType.Q5_0]: 0.06, [GGMLType.Q5_1]: 0.06 };
  const x = gaussian(N, 31337);
  for (const [ts, bound] of Object.entries(bounds)) {
    const type = Number(ts);
    const q = new Uint8Array(rowBytes(type, N));
    k.quantize(type, x, N, q);
    const back = new Float32Array(N);
    k.dequantize(type, q, N, back);
    let num = 0, den = 0;
    for (let i = 0; i < N; i++) {
      num += (back[i]! - x[i]!) ** 2;
      den += x[i]! ** 2;
    }
    const rel = Math.sqrt(num / den);
    assert.ok(rel < bound, `${typeName(type)} relative RMS error ${rel} >= ${bound}`);
  }
  // all-zero input quantizes to zeros without NaN
  for (const type of [GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q5_1, GGMLType.Q8_0]) {
    const z = new Float32Array(256);
    const q = new Uint8Array(rowBytes(type, 256));
    k.quantize(type, z, 256, q);
    const back = new Float32Array(256).fill(1);
    k.dequantize(type, q, 256, back);
    assert.ok(back.every((v) => v === 0), `${typeName(type)} zeros`);
  }
});
