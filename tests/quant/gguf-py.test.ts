/**
 * `quantizeModel` output blocks against llama.cpp's gguf-py numpy reference (gguf/quants.py, run by
 * tests/ops/gguf_ref.py; needs python3 + numpy, skips with a message without them). Runs in CI.
 * gguf-py quantizes Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and F16, so every tensor of those types in our
 * file must equal gguf-py's quantization of the F32 source bytes. For Q4_K / Q5_K / Q6_K gguf-py
 * has only dequantizers: there the check is that gguf-py decodes our blocks to the same floats as
 * the addon (a format check; the bytes themselves are checked against llama-quantize in
 * llama-quantize.test.ts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GGMLType, typeName } from '../../src/core/ggml-type.js';
import { native } from '../../src/backends/cpu/native.js';
import { openGGUF } from '../../src/formats/gguf/reader.js';
import { quantizeModel } from '../../src/quant/quantize-model.js';
import type { QuantFtypeName } from '../../src/quant/tensor-type.js';
import { ggufRef, type RefOp } from '../ops/helpers.js';
import { NARROW, WIDE, writeSyntheticModel } from './synthetic-model.js';

const GGUF_PY_QUANTIZES = new Set<number>([GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q5_1, GGMLType.F16]);
const K_TYPES = new Set<number>([GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K]);

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'synflux-quant-py-'));
  writeSyntheticModel(join(dir, 'wide.gguf'), WIDE);
  writeSyntheticModel(join(dir, 'narrow.gguf'), NARROW);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const CASES: [string, QuantFtypeName][] = [
  ['wide', 'Q8_0'], ['wide', 'Q4_0'], ['wide', 'Q4_1'], ['wide', 'F16'], ['wide', 'Q4_K_M'], ['wide', 'Q5_K_M'],
  ['narrow', 'Q4_K_M'], ['narrow', 'Q5_K_M'], ['narrow', 'Q6_K'],
];

for (const [model, type] of CASES) {
  test(`${model} ${type}: blocks equal gguf-py's quantizer (or decode identically for K-quants)`, (t) => {
    const srcPath = join(dir, `${model}.gguf`);
    const outPath = join(dir, `${model}-${type}.gguf`);
    quantizeModel(srcPath, outPath, type);
    const src = openGGUF(srcPath);
    const out = openGGUF(outPath);
    const ops: RefOp[] = [];
    const checks: { name: string; kind: 'quantize' | 'dequantize'; type: number; ours: Uint8Array; n: number }[] = [];
    for (const ot of out.tensors) {
      if (ot.type === GGMLType.F32) continue;
      const ours = out.tensorData(ot);
      if (GGUF_PY_QUANTIZES.has(ot.type)) {
        ops.push({ op: 'quantize', type: ot.type, data: src.tensorData(ot.name) });
        checks.push({ name: ot.name, kind: 'quantize', type: ot.type, ours, n: ot.nElements });
      } else if (K_TYPES.has(ot.type)) {
        ops.push({ op: 'dequantize', type: ot.type, data: ours });
        checks.push({ name: ot.name, kind: 'dequantize', type: ot.type, ours, n: ot.nElements });
      } else {
        assert.fail(`${ot.name}: unexpected type ${typeName(ot.type)}`);
      }
    }
    const ref = ggufRef(ops);
    if ('skip' in ref) return t.skip(ref.skip);
    const k = native();
    checks.forEach((c, i) => {
      const want = ref.results[i];
      assert.ok(want, `gguf-py gave no result for ${c.name} ${typeName(c.type)}`);
      if (c.kind === 'quantize') {
        assert.ok(Buffer.from(c.ours).equals(Buffer.from(want)), `${c.name} (${typeName(c.type)}): bytes differ from gguf-py`);
      } else {
        const mine = new Float32Array(c.n);
        k.dequantize(c.type, c.ours, c.n, mine);
        assert.ok(Buffer.from(mine.buffer).equals(Buffer.from(want)), `${c.name} (${typeName(c.type)}): gguf-py decodes our blocks differently`);
      }
    });
  });
}

test('requantizing needs allowRequantize; unknown types are typed errors', () => {
  const q8 = join(dir, 'wide-req-Q8_0.gguf');
  quantizeModel(join(dir, 'wide.gguf'), q8, 'Q8_0');
  assert.throws(() => quantizeModel(q8, join(dir, 'x.gguf'), 'Q4_K_M'), { code: 'QUANT_REQUANTIZE' });
  assert.throws(() => quantizeModel(join(dir, 'wide.gguf'), join(dir, 'x.gguf'), 'Q3_K' as QuantFtypeName), { code: 'QUANT_BAD_TYPE' });
  assert.throws(() => quantizeModel(q8, q8, 'Q8_0'), { code: 'QUANT_SAME_FILE' });
  // same type: nothing is requantized, so no flag is needed, and bytes are copied
  const again = join(dir, 'wide-req-again.gguf');
  quantizeModel(q8, again, 'Q8_0');
  const a = openGGUF(q8);
  const b = openGGUF(again);
  for (const ta of a.tensors) assert.ok(Buffer.from(a.tensorData(ta)).equals(Buffer.from(b.tensorData(ta.name))), ta.name);
});
