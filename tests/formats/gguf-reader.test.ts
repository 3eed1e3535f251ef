/**
 * GGUF reader on the real SmolLM2-135M file. Expected values come from the model's published
 * Hugging Face config (hidden_size 576, 30 layers, 9 heads, 3 KV heads, intermediate 1536,
 * vocab 49152, tied embeddings) and the GGUF layout (9 tensors per llama block + token_embd +
 * output_norm), not from our own code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { openGGUF, GGUFValueType } from '../../src/formats/gguf/reader.js';
import { GGMLType } from '../../src/core/ggml-type.js';
import { pythonGGUFSkip, runPython } from './python-helper.js';
import { repoRoot } from '../helpers/paths.js';
import { join } from 'node:path';

const SMOL = join(repoRoot(), '.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf');
const GEMMA = join(repoRoot(), '.cache/models/gemma-3-270m-q4_k_m.gguf');

test('SmolLM2 GGUF: metadata and tensor table', { skip: !existsSync(SMOL) && 'SmolLM2 fixture missing (npm run fixtures)' }, () => {
  const g = openGGUF(SMOL);
  assert.equal(g.version, 3);
  assert.equal(g.getString('general.architecture'), 'llama');
  assert.equal(g.getNumber('llama.block_count'), 30);
  assert.equal(g.getNumber('llama.embedding_length'), 576);
  assert.equal(g.getNumber('llama.attention.head_count'), 9);
  assert.equal(g.getNumber('llama.attention.head_count_kv'), 3);
  assert.equal(g.getNumber('llama.feed_forward_length'), 1536);
  assert.equal(g.metadataTypes.get('llama.block_count'), GGUFValueType.UINT32);
  const tokens = g.getStringArray('tokenizer.ggml.tokens');
  assert.equal(tokens.length, 49152);
  assert.equal(tokens[0], '<|endoftext|>');
  assert.equal(g.metadataArrayTypes.get('tokenizer.ggml.tokens'), GGUFValueType.STRING);
  assert.ok(g.getNumericArray('tokenizer.ggml.token_type') instanceof Int32Array);
  assert.equal(g.tensors.length, 30 * 9 + 2);
  const emb = g.tensor('token_embd.weight');
  assert.ok(emb);
  assert.deepEqual(emb.dims, [576, 49152]);
  const q = g.tensor('blk.0.attn_q.weight')!;
  assert.deepEqual(q.dims, [576, 576]);
  assert.equal(q.type, GGMLType.Q4_1);
  assert.equal(q.nbytes, (576 / 32) * 20 * 576);
  const k = g.tensor('blk.29.attn_k.weight')!;
  assert.deepEqual(k.dims, [576, 192]);
  assert.equal(g.tensor('output.weight'), undefined);
  // tensors lie inside the file, aligned, and tensorData is a zero-copy view
  for (const t of g.tensors) {
    assert.equal((t.offset - g.dataOffset) % g.alignment, 0);
    assert.ok(t.offset + t.nbytes <= g.bytes.length);
  }
  const d = g.tensorData('blk.0.attn_norm.weight');
  assert.equal(d.buffer, g.bytes.buffer);
  assert.equal(d.length, 576 * 4);
});

test('typed getters: defaults and typed errors', { skip: !existsSync(SMOL) && 'SmolLM2 fixture missing' }, () => {
  const g = openGGUF(SMOL);
  assert.equal(g.getNumber('llama.nope', 7), 7);
  assert.equal(g.getString('nope', 'x'), 'x');
  assert.equal(g.getBool('tokenizer.ggml.add_bos_token'), false);
  assert.throws(() => g.getNumber('llama.nope'), { code: 'GGUF_MISSING_KEY' });
  assert.throws(() => g.getString('llama.block_count'), { code: 'GGUF_BAD_KEY_TYPE' });
  assert.throws(() => g.getNumber('general.architecture'), { code: 'GGUF_BAD_KEY_TYPE' });
  assert.throws(() => g.getBool('general.name'), { code: 'GGUF_BAD_KEY_TYPE' });
  assert.throws(() => g.getArray('general.name'), { code: 'GGUF_BAD_KEY_TYPE' });
  assert.throws(() => g.getStringArray('tokenizer.ggml.token_type'), { code: 'GGUF_BAD_KEY_TYPE' });
  assert.equal(g.has('general.name'), true);
  assert.equal(g.has('general.nope'), false);
});

test('Gemma3 GGUF: K-quant tensors and head dims', { skip: !existsSync(GEMMA) && 'gemma fixture missing' }, () => {
  const g = openGGUF(GEMMA);
  assert.equal(g.getString('general.architecture'), 'gemma3');
  assert.equal(g.getNumber('gemma3.block_count'), 18);
  assert.equal(g.getNumber('gemma3.attention.key_length'), 256);
  assert.equal(g.getStringArray('tokenizer.ggml.tokens').length, 262144);
  assert.ok(g.getNumericArray('tokenizer.ggml.scores') instanceof Float32Array);
  // q_proj: hidden 640 -> 4 heads x 256
  assert.deepEqual(g.tensor('blk.0.attn_q.weight')!.dims, [640, 1024]);
  assert.ok(g.tensor('blk.0.attn_q_norm.weight'));
  assert.ok(g.tensor('blk.0.post_ffw_norm.weight'));
});

for (const [label, path] of [['SmolLM2', SMOL], ['Gemma3', GEMMA]] as const) {
  test(`${label}: tensor table and metadata equal llama.cpp gguf-py's GGUFReader`, { skip: (!existsSync(path) && `${label} fixture missing`) || pythonGGUFSkip() }, () => {
    const out = runPython(
      `
import json, gguf
r = gguf.GGUFReader(sys.argv[1])
def conv(f):
    v = f.contents()
    if isinstance(v, list):
        return {'len': len(v), 'first': [x if isinstance(x, str) else float(x) for x in v[:5]], 'last': v[-1] if isinstance(v[-1], str) else float(v[-1])}
    return v if isinstance(v, (str, bool)) else float(v)
print(json.dumps({
  'fields': {k: conv(f) for k, f in r.fields.items() if not k.startswith('GGUF.')},
  'tensors': [[t.name, int(t.tensor_type), [int(d) for d in t.shape], int(t.data_offset), int(t.n_bytes)] for t in r.tensors],
}))
`,
      [path],
    );
    const py = JSON.parse(out) as { fields: Record<string, unknown>; tensors: [string, number, number[], number, number][] };
    const g = openGGUF(path);
    assert.deepEqual(g.tensors.map((t) => [t.name, t.type, t.dims, t.offset, t.nbytes]), py.tensors);
    assert.deepEqual([...g.metadata.keys()], Object.keys(py.fields));
    for (const [k, want] of Object.entries(py.fields)) {
      const v = g.metadata.get(k)!;
      if (typeof v === 'object') {
        const arr = Array.from(v as ArrayLike<unknown>);
        const norm = (x: unknown) => (typeof x === 'string' ? x : Number(x));
        assert.deepEqual({ len: arr.length, first: arr.slice(0, 5).map(norm), last: norm(arr[arr.length - 1]) }, want, k);
      } else {
        assert.equal(typeof v === 'bigint' ? Number(v) : v, want, k);
      }
    }
  });
}
