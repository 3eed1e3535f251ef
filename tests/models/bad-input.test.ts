/**
 * Loader-level bad input: every case must raise a typed SynfluxError with a clear message (no
 * crash, no silent garbage). Files are built with our GGUF writer from the real SmolLM2 file's
 * metadata, so only the one property under test is wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/models/load.js';
import { openGGUF, GGUFValueType } from '../../src/formats/gguf/reader.js';
import { writeGGUF, type GGUFMetadataEntry, type GGUFTensorEntry } from '../../src/formats/gguf/writer.js';
import { GGMLType } from '../../src/core/ggml-type.js';
import { ModelFormatError, TokenizerError, UnsupportedArchitectureError, UnsupportedTensorTypeError, RequestError } from '../../src/core/errors.js';
import { fixturesModule } from '../helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'synflux-bad-'));

/** Rewrites the SmolLM2 file with edited metadata / tensors. */
async function variant(name: string, edit: (meta: GGUFMetadataEntry[], tensors: GGUFTensorEntry[]) => void): Promise<string> {
  const src = openGGUF(await (await fixturesModule()).ensureFixture('smollm2'));
  const meta: GGUFMetadataEntry[] = [...src.metadata].map(([key, value]) => ({ key, type: src.metadataTypes.get(key)!, value, arrayType: src.metadataArrayTypes.get(key) }));
  const tensors: GGUFTensorEntry[] = src.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type, data: src.tensorData(t) }));
  edit(meta, tensors);
  const out = join(dir, name);
  writeGGUF(out, { metadata: meta, tensors });
  return out;
}

test('unsupported architecture → UnsupportedArchitectureError naming it', async () => {
  const p = await variant('arch.gguf', (m) => { m.find((e) => e.key === 'general.architecture')!.value = 'mamba9'; });
  await assert.rejects(loadModel(p), (e: unknown) => e instanceof UnsupportedArchitectureError && /mamba9/.test(e.message));
});

test('tokenizer without its vocabulary → TokenizerError TOKENIZER_NO_VOCAB', async () => {
  const p = await variant('novocab.gguf', (m) => { m.splice(m.findIndex((e) => e.key === 'tokenizer.ggml.tokens'), 1); });
  await assert.rejects(loadModel(p), (e: unknown) => e instanceof TokenizerError && e.code === 'TOKENIZER_NO_VOCAB');
});

test('a weight in a type without kernels → UnsupportedTensorTypeError', async () => {
  const p = await variant('iq.gguf', (_m, t) => {
    const w = t.find((x) => x.name === 'blk.0.attn_q.weight')!;
    w.type = GGMLType.IQ4_NL; // 32-element blocks of 18 bytes; no kernels for it yet
    w.data = new Uint8Array((w.dims[0]! * w.dims[1]!) / 32 * 18);
  });
  await assert.rejects(loadModel(p), (e: unknown) => e instanceof UnsupportedTensorTypeError && /IQ4_NL/.test(e.message));
});

test('a missing required tensor → ModelFormatError MISSING_TENSOR', async () => {
  const p = await variant('missing.gguf', (_m, t) => { t.splice(t.findIndex((x) => x.name === 'blk.3.ffn_up.weight'), 1); });
  await assert.rejects(loadModel(p), (e: unknown) => e instanceof ModelFormatError && e.code === 'MISSING_TENSOR' && /blk\.3\.ffn_up/.test(e.message));
});

test('truncated file and wrong magic through loadModel → ModelFormatError', async () => {
  const real = readFileSync(await (await fixturesModule()).ensureFixture('smollm2'));
  const cut = join(dir, 'cut.gguf');
  writeFileSync(cut, real.subarray(0, 1 << 20));
  await assert.rejects(loadModel(cut), (e: unknown) => e instanceof ModelFormatError && e.code === 'GGUF_TRUNCATED');
  const magic = join(dir, 'magic.gguf');
  writeFileSync(magic, Buffer.concat([Buffer.from('GGML'), real.subarray(4, 4096)]));
  await assert.rejects(loadModel(magic), (e: unknown) => e instanceof ModelFormatError && e.code === 'GGUF_BAD_MAGIC');
  await assert.rejects(loadModel(join(dir, 'does-not-exist.gguf')), (e: unknown) => e instanceof ModelFormatError);
});

test('oversize requests → RequestError (context overflow, bad token id)', async () => {
  const m = await loadModel(await (await fixturesModule()).ensureFixture('smollm2'), { contextSize: 16 });
  assert.throws(() => m.forward(new Array(17).fill(1)), (e: unknown) => e instanceof RequestError && e.code === 'CONTEXT_OVERFLOW');
  assert.throws(() => m.forward([m.config.nVocab]), (e: unknown) => e instanceof RequestError && e.code === 'BAD_TOKEN');
  void GGUFValueType;
});
