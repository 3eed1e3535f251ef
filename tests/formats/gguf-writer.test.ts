/**
 * GGUF writer: round trip through our reader, and cross-checks against llama.cpp's gguf-py
 * (GGUFReader reads a file we wrote; GGUFWriter writes a file we read).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGGUF, openGGUF, GGUFValueType as T } from '../../src/formats/gguf/reader.js';
import { serializeGGUF, writeGGUF, type GGUFWriteSpec } from '../../src/formats/gguf/writer.js';
import { GGMLType } from '../../src/core/ggml-type.js';
import { pythonGGUFSkip, runPython } from './python-helper.js';

function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function f32bytes(vals: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(vals).buffer);
}

function sampleSpec(alignment?: number): GGUFWriteSpec {
  return {
    alignment,
    metadata: [
      { key: 'general.architecture', type: T.STRING, value: 'llama' },
      { key: 'general.name', type: T.STRING, value: 'tïny ✓ model' },
      { key: 'test.u8', type: T.UINT8, value: 200 },
      { key: 'test.i8', type: T.INT8, value: -100 },
      { key: 'test.u16', type: T.UINT16, value: 60000 },
      { key: 'test.i16', type: T.INT16, value: -30000 },
      { key: 'test.u32', type: T.UINT32, value: 4000000000 },
      { key: 'test.i32', type: T.INT32, value: -2000000000 },
      { key: 'test.f32', type: T.FLOAT32, value: 0.1 },
      { key: 'test.f64', type: T.FLOAT64, value: 0.1 },
      { key: 'test.u64', type: T.UINT64, value: 18446744073709551615n },
      { key: 'test.i64', type: T.INT64, value: -9007199254740993n },
      { key: 'test.bool', type: T.BOOL, value: true },
      { key: 'test.strs', type: T.ARRAY, arrayType: T.STRING, value: ['a', '', 'Ġhello', '日本'] },
      { key: 'test.f32s', type: T.ARRAY, arrayType: T.FLOAT32, value: [1.5, -2.25, 3] },
      { key: 'test.i32s', type: T.ARRAY, arrayType: T.INT32, value: [1, -2, 3, 2147483647] },
      { key: 'test.bools', type: T.ARRAY, arrayType: T.BOOL, value: [true, false, true] },
      { key: 'test.u64s', type: T.ARRAY, arrayType: T.UINT64, value: [1n, 2n ** 60n] },
      { key: 'test.empty', type: T.ARRAY, arrayType: T.UINT8, value: [] },
    ],
    tensors: [
      { name: 'token_embd.weight', dims: [4, 3], type: GGMLType.F32, data: f32bytes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) },
      { name: 'blk.0.attn_q.weight', dims: [64, 2], type: GGMLType.Q4_0, data: randomBytes(2 * 2 * 18, 7) },
      { name: 'blk.0.ffn_up.weight', dims: [256, 1], type: GGMLType.Q4_K, data: randomBytes(144, 9) },
      { name: 'odd', dims: [3], type: GGMLType.F16, data: randomBytes(6, 11) },
      { name: 'rank4', dims: [2, 1, 2, 1], type: GGMLType.I8, data: randomBytes(4, 13) },
    ],
  };
}

for (const alignment of [undefined, 64]) {
  test(`round trip write → read (alignment ${alignment ?? 'default'})`, () => {
    const spec = sampleSpec(alignment);
    const g = parseGGUF(serializeGGUF(spec));
    assert.equal(g.version, 3);
    assert.equal(g.alignment, alignment ?? 32);
    assert.equal(g.getString('general.name'), 'tïny ✓ model');
    assert.equal(g.getNumber('test.u8'), 200);
    assert.equal(g.getNumber('test.i8'), -100);
    assert.equal(g.getNumber('test.u16'), 60000);
    assert.equal(g.getNumber('test.i16'), -30000);
    assert.equal(g.getNumber('test.u32'), 4000000000);
    assert.equal(g.getNumber('test.i32'), -2000000000);
    assert.equal(g.getNumber('test.f32'), Math.fround(0.1));
    assert.equal(g.getNumber('test.f64'), 0.1);
    assert.equal(g.metadata.get('test.u64'), 18446744073709551615n);
    assert.equal(g.metadata.get('test.i64'), -9007199254740993n);
    assert.throws(() => g.getNumber('test.u64'), { code: 'GGUF_BAD_KEY_TYPE' });
    assert.equal(g.getBool('test.bool'), true);
    assert.deepEqual(g.getStringArray('test.strs'), ['a', '', 'Ġhello', '日本']);
    assert.deepEqual(g.getArray('test.f32s'), new Float32Array([1.5, -2.25, 3]));
    assert.deepEqual(g.getArray('test.i32s'), new Int32Array([1, -2, 3, 2147483647]));
    assert.deepEqual(g.getArray('test.bools'), [true, false, true]);
    assert.deepEqual(g.getArray('test.u64s'), new BigUint64Array([1n, 2n ** 60n]));
    assert.deepEqual(g.getArray('test.empty'), new Uint8Array(0));
    assert.equal(g.metadataTypes.get('test.i16'), T.INT16);
    assert.equal(g.metadataArrayTypes.get('test.bools'), T.BOOL);
    assert.deepEqual(g.tensors.map((t) => t.name), spec.tensors.map((t) => t.name));
    for (const t of spec.tensors) {
      const info = g.tensor(t.name)!;
      assert.deepEqual(info.dims, t.dims);
      assert.equal(info.type, t.type);
      assert.equal((info.offset - g.dataOffset) % g.alignment, 0);
      assert.deepEqual(g.tensorData(info), t.data);
    }
  });
}

test('writer rejects inconsistent input', () => {
  const base = sampleSpec();
  assert.throws(() => serializeGGUF({ ...base, alignment: 48 }), { code: 'GGUF_BAD_ALIGNMENT' });
  assert.throws(() => serializeGGUF({ metadata: [], tensors: [{ name: 'x', dims: [4], type: GGMLType.F32, data: new Uint8Array(15) }] }), { code: 'GGUF_BAD_DIMS' });
  assert.throws(() => serializeGGUF({ metadata: [], tensors: [{ name: 'x', dims: [31], type: GGMLType.Q4_0, data: new Uint8Array(18) }] }), { code: 'GGUF_BAD_DIMS' });
  assert.throws(() => serializeGGUF({ metadata: [base.metadata[0], base.metadata[0]], tensors: [] }), { code: 'GGUF_DUPLICATE_KEY' });
});

test('llama.cpp gguf-py GGUFReader reads our file identically', { skip: pythonGGUFSkip() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'synflux-gguf-'));
  try {
    const path = join(dir, 'ours.gguf');
    const spec = sampleSpec(64);
    writeGGUF(path, spec);
    const out = runPython(
      `
import json, gguf
r = gguf.GGUFReader(sys.argv[1])
def conv(x):
    if isinstance(x, list): return [conv(y) for y in x]
    if isinstance(x, (bool, str)): return x
    if isinstance(x, float): return x
    try:
        if hasattr(x, 'dtype') and x.dtype.kind == 'f': return float(x)
        if hasattr(x, 'dtype') and x.dtype.kind == 'b': return bool(x)
    except Exception: pass
    return str(int(x))
fields = {k: {'types': [int(t) for t in f.types], 'value': conv(f.contents())} for k, f in r.fields.items() if not k.startswith('GGUF.')}
tensors = [{'name': t.name, 'type': int(t.tensor_type), 'shape': [int(d) for d in t.shape], 'nbytes': int(t.n_bytes), 'hex': bytes(t.data.tobytes()).hex()} for t in r.tensors]
print(json.dumps({'alignment': int(r.alignment), 'fields': fields, 'tensors': tensors}))
`,
      [path],
    );
    const py = JSON.parse(out) as {
      alignment: number;
      fields: Record<string, { types: number[]; value: unknown }>;
      tensors: { name: string; type: number; shape: number[]; nbytes: number; hex: string }[];
    };
    assert.equal(py.alignment, 64);
    const expectKeys = spec.metadata.map((m) => m.key);
    if (!expectKeys.includes('general.alignment')) expectKeys.push('general.alignment');
    assert.deepEqual(Object.keys(py.fields), expectKeys);
    for (const m of spec.metadata) {
      const f = py.fields[m.key];
      // gguf-py records no element type for an empty array (it reads no element): compare the rest.
      if (m.type === T.ARRAY && (m.value as unknown[]).length === 0) {
        assert.equal(f.types[0], T.ARRAY);
        continue;
      }
      assert.deepEqual(f.types, m.type === T.ARRAY ? [T.ARRAY, m.arrayType] : [m.type], m.key);
      const norm = (v: unknown): unknown => {
        if (typeof v === 'bigint') return v.toString();
        if (typeof v === 'number') {
          if (m.type === T.FLOAT32 || m.arrayType === T.FLOAT32) return Math.fround(v);
          if (m.type === T.FLOAT64) return v;
          return String(v);
        }
        return v;
      };
      const want = m.type === T.ARRAY ? Array.from(m.value as Iterable<unknown>, norm) : norm(m.value);
      assert.deepEqual(f.value, want, m.key);
    }
    assert.deepEqual(py.tensors.map((t) => t.name), spec.tensors.map((t) => t.name));
    for (const [i, t] of spec.tensors.entries()) {
      const p = py.tensors[i];
      assert.equal(p.type, t.type, t.name);
      assert.deepEqual(p.shape, t.dims, t.name);
      assert.equal(p.nbytes, t.data.length, t.name);
      assert.equal(p.hex, Buffer.from(t.data).toString('hex'), t.name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('our reader reads a file written by llama.cpp gguf-py GGUFWriter', { skip: pythonGGUFSkip() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'synflux-gguf-'));
  try {
    const path = join(dir, 'theirs.gguf');
    runPython(
      `
import numpy as np, gguf
w = gguf.GGUFWriter(sys.argv[1], 'qwen2')
w.add_block_count(2)
w.add_context_length(4096)
w.add_head_count(7)
w.add_layer_norm_rms_eps(1e-6)
w.add_token_list(['<s>', 'hé', 'Ġx'])
w.add_token_scores([0.0, -1.5, 2.5])
w.add_bool('test.flag', True)
w.add_uint64('test.big', 12345678901234)
a = np.arange(12, dtype=np.float32).reshape(3, 4)
w.add_tensor('token_embd.weight', a)
w.add_tensor('blk.0.attn_norm.weight', np.array([1, 2, 3], dtype=np.float16))
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
`,
      [path],
    );
    const g = openGGUF(path);
    assert.equal(g.getString('general.architecture'), 'qwen2');
    assert.equal(g.getNumber('qwen2.block_count'), 2);
    assert.equal(g.getNumber('qwen2.context_length'), 4096);
    assert.equal(g.getNumber('qwen2.attention.head_count'), 7);
    assert.equal(g.getNumber('qwen2.attention.layer_norm_rms_epsilon'), Math.fround(1e-6));
    assert.deepEqual(g.getStringArray('tokenizer.ggml.tokens'), ['<s>', 'hé', 'Ġx']);
    assert.deepEqual(g.getNumericArray('tokenizer.ggml.scores'), new Float32Array([0, -1.5, 2.5]));
    assert.equal(g.getBool('test.flag'), true);
    assert.equal(g.getNumber('test.big'), 12345678901234);
    const emb = g.tensor('token_embd.weight')!;
    assert.deepEqual(emb.dims, [4, 3]); // numpy (3, 4) → ggml ne0 = 4
    assert.equal(emb.type, GGMLType.F32);
    const d = g.tensorData(emb);
    assert.deepEqual(new Float32Array(d.slice().buffer), new Float32Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
    const n = g.tensor('blk.0.attn_norm.weight')!;
    assert.equal(n.type, GGMLType.F16);
    assert.deepEqual(Array.from(new Uint16Array(g.tensorData(n).slice().buffer)), [0x3c00, 0x4000, 0x4200]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
