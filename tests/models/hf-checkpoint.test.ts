/**
 * Hugging Face checkpoint loading: the random llama checkpoint written by llama.cpp's gguf-py
 * (which tests/models/random-arch.test.ts proves equal to llama.cpp) is exported here to an HF
 * folder — config.json, tokenizer.json, model.safetensors with HF tensor names and HF's q/k row
 * layout (the inverse of convert_hf_to_gguf.py's permute) — and loaded back through
 * src/models/load-hf.ts. Logits and greedy tokens must equal the GGUF load exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/models/load.js';
import { openGGUF } from '../../src/formats/gguf/reader.js';
import { ggufToHFNames, unpermuteQK } from '../../src/formats/hf/tensor-names.js';
import { TokenType } from '../../src/tokenizers/tokenizer.js';
import { ensureRandomModel } from '../helpers/random-models.js';
import { ourGreedy } from './fidelity.js';

/** Minimal safetensors writer (8-byte LE header length, JSON header, F32 data). */
function writeSafetensors(path: string, tensors: { name: string; shape: number[]; data: Float32Array }[]): void {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const t of tensors) { header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + t.data.byteLength] }; off += t.data.byteLength; }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8) json += ' ';
  const buf = Buffer.alloc(8 + json.length + off);
  buf.writeBigUInt64LE(BigInt(json.length), 0);
  buf.write(json, 8, 'utf8');
  let p = 8 + json.length;
  for (const t of tensors) { Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(buf, p); p += t.data.byteLength; }
  writeFileSync(path, buf);
}

test('random llama checkpoint: HF safetensors folder loads to the same logits as the GGUF', { timeout: 300_000 }, async () => {
  const ggufPath = await ensureRandomModel('llama');
  const g = openGGUF(ggufPath);
  const num = (k: string) => g.getNumber(`llama.${k}`);
  const nLayer = num('block_count'), nHead = num('attention.head_count'), nHeadKv = num('attention.head_count_kv');
  const dir = mkdtempSync(join(tmpdir(), 'synflux-hf-'));
  const hfNames = ggufToHFNames('llama', nLayer);
  const tensors = g.tensors.map((t) => {
    const data = new Float32Array(g.tensorData(t).slice().buffer);
    const shape = [...t.dims].reverse();
    const hfName = hfNames.get(t.name);
    assert.ok(hfName, `no HF name for ${t.name}`);
    let out: Float32Array = data;
    if (/\.attn_q\.weight$/.test(t.name)) out = unpermuteQK(data, shape, nHead);
    if (/\.attn_k\.weight$/.test(t.name)) out = unpermuteQK(data, shape, nHeadKv);
    return { name: hfName, shape, data: out };
  });
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: num('embedding_length'), intermediate_size: num('feed_forward_length'),
    num_hidden_layers: nLayer, num_attention_heads: nHead, num_key_value_heads: nHeadKv, rms_norm_eps: num('attention.layer_norm_rms_epsilon'),
    rope_theta: num('rope.freq_base'), max_position_embeddings: num('context_length'), vocab_size: num('vocab_size'), tie_word_embeddings: false,
    hidden_act: 'silu',
  }));
  const tokens = g.getStringArray('tokenizer.ggml.tokens');
  const types = g.getArray('tokenizer.ggml.token_type') as Int32Array;
  const vocab: Record<string, number> = {};
  const added: { id: number; content: string; special: boolean }[] = [];
  tokens.forEach((t, id) => { if (types[id] === TokenType.Control) added.push({ id, content: t, special: true }); else vocab[t] = id; });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({
    version: '1.0', added_tokens: added,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    decoder: { type: 'ByteLevel' },
    model: { type: 'BPE', vocab, merges: g.getStringArray('tokenizer.ggml.merges') },
  }));

  const a = await loadModel(ggufPath, { contextSize: 128 });
  const b = await loadModel(dir, { contextSize: 128 });
  const text = 'The quick brown fox jumps over the lazy dog; 3.14159 and 42.';
  const ids = a.tokenizer.encode(text, { addSpecial: false });
  assert.deepEqual(b.tokenizer.encode(text, { addSpecial: false }), ids, 'tokenizer.json encodes like the GGUF vocabulary');
  const ga = ourGreedy(a, ids, 16);
  const gb = ourGreedy(b, ids, 16);
  assert.deepEqual(Array.from(gb.logits0), Array.from(ga.logits0), 'first-step logits identical');
  assert.deepEqual(gb.tokens, ga.tokens, 'greedy tokens identical');
});
