/**
 * Hostile and damaged GGUF input: every case must end in a typed SynfluxError with a stable code,
 * never a RangeError, a hang or an out-of-memory crash. Files are built with our writer and then
 * patched at offsets computed from the GGUF layout (header = magic u32, version u32, n_tensors u64,
 * n_kv u64; string = u64 length + bytes; tensor info = name, u32 n_dims, u64 dims, u32 type,
 * u64 offset).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, openSync, readSync, closeSync } from 'node:fs';
import { parseGGUF, GGUFValueType as T } from '../../src/formats/gguf/reader.js';
import { serializeGGUF } from '../../src/formats/gguf/writer.js';
import { GGMLType } from '../../src/core/ggml-type.js';
import { ModelFormatError, SynfluxError, UnsupportedTensorTypeError } from '../../src/core/errors.js';
import { repoRoot } from '../helpers/paths.js';
import { join } from 'node:path';

const SMOL = join(repoRoot(), '.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf');

function setU32(b: Uint8Array, off: number, v: number): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setUint32(off, v, true);
  return b;
}
function setU64(b: Uint8Array, off: number, v: bigint): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setBigUint64(off, v, true);
  return b;
}

/** One F32 tensor 'x' of 8 elements and no metadata: tensor info starts at byte 24. */
function oneTensor(): Uint8Array {
  return serializeGGUF({ metadata: [], tensors: [{ name: 'x', dims: [8], type: GGMLType.F32, data: new Uint8Array(32) }] });
}
// Offsets inside oneTensor(): name len 24, name 32, n_dims 33, dim0 37, type 45, offset 49.
const N_DIMS = 33, DIM0 = 37, TYPE = 45, OFFSET = 49;

function expectCode(bytes: Uint8Array, code: string, cls: typeof SynfluxError = ModelFormatError): void {
  assert.throws(() => parseGGUF(bytes, 'hostile.gguf'), (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.equal((e as SynfluxError).code, code, (e as Error).message);
    return true;
  });
}

test('sanity: the unpatched fixture parses', () => {
  const g = parseGGUF(oneTensor());
  assert.deepEqual(g.tensor('x')!.dims, [8]);
  assert.equal(g.tensor('x')!.type, GGMLType.F32);
});

test('truncated real file (first 1 MB of SmolLM2) → GGUF_TRUNCATED', { skip: !existsSync(SMOL) && 'SmolLM2 fixture missing' }, () => {
  const fd = openSync(SMOL, 'r');
  const head = new Uint8Array(1 << 20);
  readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  expectCode(head, 'GGUF_TRUNCATED');
});

test('truncated inside the header and tensor table → GGUF_TRUNCATED', () => {
  const b = oneTensor();
  for (const cut of [6, 12, 23, 30, 40, 50]) expectCode(b.slice(0, cut), 'GGUF_TRUNCATED');
});

test('wrong magic → GGUF_BAD_MAGIC', () => {
  const b = oneTensor();
  b[0] = 0x47 ^ 0xff;
  expectCode(b, 'GGUF_BAD_MAGIC');
  expectCode(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]), 'GGUF_BAD_MAGIC'); // a zip file
  expectCode(new Uint8Array(2), 'GGUF_BAD_MAGIC');
});

test('unsupported versions → GGUF_BAD_VERSION', () => {
  for (const v of [0, 1, 4, 0x03000000 /* big-endian v3 */]) expectCode(setU32(oneTensor(), 4, v), 'GGUF_BAD_VERSION');
  assert.doesNotThrow(() => parseGGUF(setU32(oneTensor(), 4, 2)));
});

test('tensor data past end of file → GGUF_TENSOR_OUT_OF_BOUNDS', () => {
  const b = oneTensor();
  expectCode(b.slice(0, b.length - 4), 'GGUF_TENSOR_OUT_OF_BOUNDS');
  expectCode(setU64(oneTensor(), OFFSET, 1n << 40n), 'GGUF_TENSOR_OUT_OF_BOUNDS');
  expectCode(setU64(oneTensor(), OFFSET, 0xffffffffffffffe0n), 'GGUF_TENSOR_OUT_OF_BOUNDS');
});

test('unknown tensor type id → UnsupportedTensorTypeError UNKNOWN_TENSOR_TYPE', () => {
  expectCode(setU32(oneTensor(), TYPE, 4), 'UNKNOWN_TENSOR_TYPE', UnsupportedTensorTypeError); // id 4 was removed from ggml
  expectCode(setU32(oneTensor(), TYPE, 0xdeadbeef), 'UNKNOWN_TENSOR_TYPE', UnsupportedTensorTypeError);
});

test('hostile huge counts are rejected before allocating', () => {
  const huge = 0x7fffffffffffffffn;
  expectCode(setU64(oneTensor(), 8, huge), 'GGUF_TRUNCATED'); // n_tensors
  expectCode(setU64(oneTensor(), 16, huge), 'GGUF_TRUNCATED'); // n_kv
  expectCode(setU64(oneTensor(), 8, 1000n), 'GGUF_TRUNCATED'); // plausible but too many for the bytes
  expectCode(setU64(oneTensor(), 24, huge), 'GGUF_TRUNCATED'); // tensor name length
  // metadata: one string array; patch the string length and the array count
  const meta = () => serializeGGUF({ metadata: [{ key: 'k', type: T.ARRAY, arrayType: T.STRING, value: ['abc'] }], tensors: [] });
  // key len 24, key 32, type 33, elem type 37, count 41, first string len 49
  expectCode(setU64(meta(), 41, huge), 'GGUF_TRUNCATED');
  expectCode(setU64(meta(), 41, 1n << 32n), 'GGUF_TRUNCATED');
  expectCode(setU64(meta(), 49, huge), 'GGUF_TRUNCATED');
  expectCode(setU64(meta(), 49, 0x100000000n + 3n), 'GGUF_TRUNCATED'); // would wrap to 3 if read as u32
  const f32s = () => serializeGGUF({ metadata: [{ key: 'k', type: T.ARRAY, arrayType: T.FLOAT32, value: [1, 2] }], tensors: [] });
  expectCode(setU64(f32s(), 41, 1000n), 'GGUF_TRUNCATED'); // 4000 bytes needed, file is 64
  expectCode(setU64(f32s(), 41, huge), 'GGUF_TRUNCATED');
});

test('bad dims → GGUF_BAD_DIMS', () => {
  expectCode(setU32(oneTensor(), N_DIMS, 0), 'GGUF_BAD_DIMS');
  expectCode(setU32(oneTensor(), N_DIMS, 5), 'GGUF_BAD_DIMS');
  expectCode(setU64(oneTensor(), DIM0, 0xfffffffffffffff8n), 'GGUF_BAD_DIMS'); // -8 as int64
  expectCode(setU64(oneTensor(), DIM0, 1n << 60n), 'GGUF_BAD_DIMS');
  // 2-D tensor whose element count overflows 2^53: dims [2^30, 2^30]
  const two = serializeGGUF({ metadata: [], tensors: [{ name: 'x', dims: [8, 1], type: GGMLType.F32, data: new Uint8Array(32) }] });
  setU64(two, DIM0, 1n << 30n);
  setU64(two, DIM0 + 8, 1n << 30n);
  expectCode(two, 'GGUF_BAD_DIMS');
  // Q4_0 row of 40 elements (block size 32)
  const q = serializeGGUF({ metadata: [], tensors: [{ name: 'x', dims: [64], type: GGMLType.Q4_0, data: new Uint8Array(36) }] });
  expectCode(setU64(q, DIM0, 40n), 'GGUF_BAD_DIMS');
});

test('duplicates → GGUF_DUPLICATE_TENSOR / GGUF_DUPLICATE_KEY', () => {
  const t = serializeGGUF({
    metadata: [],
    tensors: [
      { name: 'a', dims: [8], type: GGMLType.F32, data: new Uint8Array(32) },
      { name: 'b', dims: [8], type: GGMLType.F32, data: new Uint8Array(32) },
    ],
  });
  // second tensor info starts at 24 + 33 = 57; its name byte is at 65
  assert.equal(t[65], 'b'.charCodeAt(0));
  t[65] = 'a'.charCodeAt(0);
  expectCode(t, 'GGUF_DUPLICATE_TENSOR');
  const m = serializeGGUF({
    metadata: [
      { key: 'k1', type: T.UINT8, value: 1 },
      { key: 'k2', type: T.UINT8, value: 2 },
    ],
    tensors: [],
  });
  // entry = 8 + 2 + 4 + 1 = 15 bytes; second key's last char at 24 + 15 + 9
  assert.equal(m[48], '2'.charCodeAt(0));
  m[48] = '1'.charCodeAt(0);
  expectCode(m, 'GGUF_DUPLICATE_KEY');
});

test('bad alignment → GGUF_BAD_ALIGNMENT', () => {
  const mk = () => serializeGGUF({ metadata: [{ key: 'general.alignment', type: T.UINT32, value: 32 }], tensors: [] });
  // key 'general.alignment' (17 bytes) → value at 24 + 8 + 17 + 4 = 53
  expectCode(setU32(mk(), 53, 48), 'GGUF_BAD_ALIGNMENT');
  expectCode(setU32(mk(), 53, 0), 'GGUF_BAD_ALIGNMENT');
  expectCode(setU32(mk(), 49, T.UINT16), 'GGUF_BAD_ALIGNMENT'); // wrong value type (UINT16 reads 2 bytes then junk)
  expectCode(setU64(oneTensor(), OFFSET, 4n), 'GGUF_BAD_ALIGNMENT'); // tensor offset not aligned
});

test('unknown metadata value type and array-nesting bomb → GGUF_BAD_VALUE_TYPE', () => {
  const m = serializeGGUF({ metadata: [{ key: 'k', type: T.UINT8, value: 1 }], tensors: [] });
  expectCode(setU32(m, 33, 13), 'GGUF_BAD_VALUE_TYPE');
  // 100 nested arrays of length 1: key 'k', type ARRAY, then (u32 ARRAY, u64 1) × 100
  const parts: number[] = [];
  const head = new Uint8Array(24 + 9 + 4);
  setU32(head, 0, 0x46554747); setU32(head, 4, 3); setU64(head, 16, 1n); setU64(head, 24, 1n); head[32] = 'k'.charCodeAt(0); setU32(head, 33, T.ARRAY);
  for (let i = 0; i < 100; i++) parts.push(9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0);
  const bomb = new Uint8Array(head.length + parts.length + 16);
  bomb.set(head);
  bomb.set(parts, head.length);
  expectCode(bomb, 'GGUF_BAD_VALUE_TYPE');
});

test('fuzz: random truncations and byte flips only ever throw SynfluxError', () => {
  const base = serializeGGUF({
    metadata: [
      { key: 'general.architecture', type: T.STRING, value: 'llama' },
      { key: 'tok', type: T.ARRAY, arrayType: T.STRING, value: ['a', 'bb', 'ccc'] },
      { key: 'sc', type: T.ARRAY, arrayType: T.FLOAT32, value: [1, 2, 3] },
      { key: 'n', type: T.UINT64, value: 5n },
    ],
    tensors: [
      { name: 'w', dims: [32, 2], type: GGMLType.Q8_0, data: new Uint8Array(68) },
      { name: 'v', dims: [4], type: GGMLType.F32, data: new Uint8Array(16) },
    ],
  });
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  let rejected = 0;
  for (let i = 0; i < 3000; i++) {
    const b = i % 3 === 0 ? base.slice(0, rnd(base.length)) : base.slice();
    if (i % 3 !== 0) for (let k = 0; k < 1 + rnd(4); k++) b[rnd(b.length)] = rnd(256);
    try {
      parseGGUF(b);
    } catch (e) {
      assert.ok(e instanceof SynfluxError, `iteration ${i}: ${String(e)}`);
      rejected++;
    }
  }
  assert.ok(rejected > 1000, `only ${rejected} of 3000 damaged files rejected`);
});
