/**
 * safetensors reader: files written by the reference Python `safetensors` package (skipped when
 * it is not installed), hand-built files, sharded checkpoints and hostile headers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSafetensors, openSafetensors, openSafetensorsModel, bytesToFloat32 } from '../../src/formats/safetensors/reader.js';
import { ModelFormatError, SynfluxError, UnsupportedTensorTypeError } from '../../src/core/errors.js';
import { pythonModulesSkip, runPython } from './python-helper.js';

/** Build a safetensors file by hand from a header object and a data section. */
function build(header: object, data: Uint8Array, pad = 0): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'synflux-st-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('reads a file written by the Python safetensors package', { skip: pythonModulesSkip('numpy', 'safetensors') }, () => {
  withDir((dir) => {
    const path = join(dir, 'a.safetensors');
    runPython(
      `
import numpy as np
from safetensors.numpy import save_file
save_file({
  'w': (np.arange(12, dtype=np.float32).reshape(3, 4) * 0.5 - 1),
  'h': np.array([0, 1, -2, 0.5, 65504, 2**-24, np.inf], dtype=np.float16),
  'i': np.array([[-1, 2**40]], dtype=np.int64),
  'd': np.array([0.1], dtype=np.float64),
  'b': np.array([1, 0, 255], dtype=np.uint8),
}, sys.argv[1], metadata={'format': 'np'})
`,
      [path],
    );
    const f = openSafetensors(path);
    assert.deepEqual(f.metadata, { format: 'np' });
    assert.deepEqual(new Set(f.names), new Set(['w', 'h', 'i', 'd', 'b']));
    assert.deepEqual(f.tensor('w')!.shape, [3, 4]);
    assert.equal(f.tensor('w')!.dtype, 'F32');
    assert.deepEqual(Array.from(f.toFloat32('w')), Array.from({ length: 12 }, (_, k) => k * 0.5 - 1));
    assert.equal(f.tensor('h')!.dtype, 'F16');
    assert.deepEqual(Array.from(f.toFloat32('h')), [0, 1, -2, 0.5, 65504, 2 ** -24, Infinity]);
    const i = f.tensorData('i');
    assert.deepEqual(Array.from(new BigInt64Array(i.slice().buffer)), [-1n, 2n ** 40n]);
    assert.deepEqual(f.tensor('i')!.shape, [1, 2]);
    assert.equal(f.toFloat32('d')[0], Math.fround(0.1));
    assert.deepEqual(Array.from(f.tensorData('b')), [1, 0, 255]);
    assert.throws(() => f.toFloat32('b'), UnsupportedTensorTypeError);
    assert.throws(() => f.tensorData('nope'), { code: 'SAFETENSORS_MISSING_TENSOR' });
  });
});

test('sharded checkpoint via model.safetensors.index.json', { skip: pythonModulesSkip('numpy', 'safetensors') }, () => {
  withDir((dir) => {
    runPython(
      `
import json, os, numpy as np
from safetensors.numpy import save_file
d = sys.argv[1]
save_file({'a': np.ones((2, 2), np.float32)}, os.path.join(d, 'model-00001-of-00002.safetensors'))
save_file({'b': np.full((3,), 7, np.float32), 'c': np.zeros((1,), np.float32)}, os.path.join(d, 'model-00002-of-00002.safetensors'))
json.dump({'metadata': {'total_size': 32}, 'weight_map': {'a': 'model-00001-of-00002.safetensors', 'b': 'model-00002-of-00002.safetensors', 'c': 'model-00002-of-00002.safetensors'}}, open(os.path.join(d, 'model.safetensors.index.json'), 'w'))
`,
      [dir],
    );
    const m = openSafetensorsModel(dir);
    assert.equal(m.files.length, 2);
    assert.deepEqual(m.names, ['a', 'b', 'c']);
    assert.deepEqual(Array.from(m.toFloat32('a')), [1, 1, 1, 1]);
    assert.deepEqual(Array.from(m.toFloat32('b')), [7, 7, 7]);
    assert.deepEqual(m.tensor('b')!.shape, [3]);
    assert.equal(m.indexMetadata.total_size, 32);
    // an index naming a tensor its shard lacks
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { zz: 'model-00001-of-00002.safetensors' } }));
    assert.throws(() => openSafetensorsModel(dir), { code: 'SAFETENSORS_MISSING_TENSOR' });
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: '../x.safetensors' } }));
    assert.throws(() => openSafetensorsModel(dir), { code: 'SAFETENSORS_BAD_INDEX' });
    writeFileSync(join(dir, 'model.safetensors.index.json'), '{oops');
    assert.throws(() => openSafetensorsModel(dir), { code: 'SAFETENSORS_BAD_INDEX' });
  });
});

test('hand-built file: BF16, padding, zero-size tensors, single-file model', () => {
  // bf16 bit patterns: 0x3F80 = 1.0, 0xC040 = -3.0, 0x3EAA ≈ 0.33203125
  const data = new Uint8Array([0x80, 0x3f, 0x40, 0xc0, 0xaa, 0x3e, 0, 0]);
  const bytes = build({ x: { dtype: 'BF16', shape: [3], data_offsets: [0, 6] }, e: { dtype: 'F32', shape: [0, 4], data_offsets: [6, 6] } }, data, 5);
  const f = parseSafetensors(bytes);
  assert.deepEqual(Array.from(f.toFloat32('x')), [1, -3, 0.33203125]);
  assert.equal(f.tensor('e')!.nElements, 0);
  assert.equal(f.tensorData('x').buffer, bytes.buffer);
  withDir((dir) => {
    writeFileSync(join(dir, 'model.safetensors'), bytes);
    assert.deepEqual(openSafetensorsModel(dir).names, ['x', 'e']);
    assert.throws(() => openSafetensorsModel(join(dir, 'missing')), ModelFormatError);
  });
  assert.deepEqual(Array.from(bytesToFloat32(new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00]), 'F16')), [1, -2, 2 ** -24]);
});

test('hostile headers → typed errors', () => {
  const ok = { t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const data8 = new Uint8Array(8);
  const cases: [Uint8Array, string][] = [
    [new Uint8Array(5), 'SAFETENSORS_TRUNCATED'],
    [build(ok, data8).slice(0, 20), 'SAFETENSORS_TRUNCATED'],
    [(() => { const b = build(ok, data8); new DataView(b.buffer).setBigUint64(0, 1n << 62n, true); return b; })(), 'SAFETENSORS_HEADER_TOO_LARGE'],
    [(() => { const b = build(ok, data8); new DataView(b.buffer).setBigUint64(0, 1000n, true); return b; })(), 'SAFETENSORS_TRUNCATED'],
    [(() => { const b = build(ok, data8); b[8] = 0x5b; return b; })(), 'SAFETENSORS_BAD_HEADER'],
    [build([1, 2] as unknown as object, data8), 'SAFETENSORS_BAD_HEADER'],
    [build({ __metadata__: { a: 1 } }, data8), 'SAFETENSORS_BAD_HEADER'],
    [build({ t: { shape: [2], data_offsets: [0, 8] } }, data8), 'SAFETENSORS_BAD_TENSOR'],
    [build({ t: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, data8), 'SAFETENSORS_BAD_TENSOR'],
    [build({ t: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, data8), 'SAFETENSORS_BAD_TENSOR'],
    [build({ t: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, data8), 'SAFETENSORS_BAD_TENSOR'],
    [build({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data8), 'SAFETENSORS_SIZE_MISMATCH'],
    [build({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data8), 'SAFETENSORS_OUT_OF_BOUNDS'],
    [build({ t: { dtype: 'F32', shape: [2], data_offsets: [2 ** 52, 2 ** 52 + 8] } }, data8), 'SAFETENSORS_OUT_OF_BOUNDS'],
    [build({ t: ok.t, u: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data8), 'SAFETENSORS_OVERLAP'],
  ];
  for (const [bytes, code] of cases) {
    assert.throws(() => parseSafetensors(bytes), (e: unknown) => {
      assert.ok(e instanceof ModelFormatError, String(e));
      assert.equal((e as SynfluxError).code, code, (e as Error).message);
      return true;
    });
  }
  assert.throws(() => parseSafetensors(build({ t: { dtype: 'Q9', shape: [2], data_offsets: [0, 8] } }, data8)), { code: 'SAFETENSORS_UNKNOWN_DTYPE' });
});
