/**
 * Vision loader and encoder bad input: typed errors, never a crash. Variants of the random SmolVLM
 * mmproj are rewritten with our GGUF writer so that only the property under test is wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelFormatError, RequestError, ShapeError } from '../../src/core/errors.js';
import { openGGUF, GGUFValueType } from '../../src/formats/gguf/reader.js';
import { writeGGUF, type GGUFMetadataEntry, type GGUFTensorEntry } from '../../src/formats/gguf/writer.js';
import { loadVisionModel } from '../../src/models/vision/index.js';
import { ensureVlmCheckpoint } from './vlm-fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'synflux-vis-'));

async function variant(name: string, edit: (meta: GGUFMetadataEntry[], tensors: GGUFTensorEntry[]) => void): Promise<string> {
  const src = openGGUF(join(await ensureVlmCheckpoint('smolvlm'), 'mmproj.gguf'));
  const meta: GGUFMetadataEntry[] = [...src.metadata].map(([key, value]) => ({ key, type: src.metadataTypes.get(key)!, value, arrayType: src.metadataArrayTypes.get(key) }));
  const tensors: GGUFTensorEntry[] = src.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type, data: src.tensorData(t) }));
  edit(meta, tensors);
  const out = join(tmp, name);
  writeGGUF(out, { metadata: meta, tensors });
  return out;
}

const code = (c: string, cls: new (...a: never[]) => Error) => (e: unknown) => {
  assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
  assert.equal((e as unknown as { code: string }).code, c, (e as Error).message);
  return true;
};

test('a language-model GGUF, a truncated mmproj and a missing path are rejected with typed errors', async () => {
  const dir = await ensureVlmCheckpoint('smolvlm');
  await assert.rejects(loadVisionModel(join(dir, 'model.gguf')), code('VISION_NO_ENCODER', ModelFormatError));
  const bytes = readFileSync(join(dir, 'mmproj.gguf'));
  const cut = join(tmp, 'cut.gguf');
  writeFileSync(cut, bytes.subarray(0, bytes.length >> 1));
  await assert.rejects(loadVisionModel(cut), ModelFormatError);
  await assert.rejects(loadVisionModel(join(tmp, 'nope.gguf')), code('VISION_NOT_FOUND', ModelFormatError));
});

test('unsupported projector, LLaVA-1.6 pinpoints, inconsistent sizes and missing/misshapen tensors are typed', async () => {
  const setStr = (k: string, v: string) => (m: GGUFMetadataEntry[]) => { m.find((e) => e.key === k)!.value = v; };
  await assert.rejects(loadVisionModel(await variant('proj.gguf', setStr('clip.projector_type', 'qwen2vl'))), code('VISION_UNSUPPORTED_PROJECTOR', ModelFormatError));
  await assert.rejects(loadVisionModel(await variant('pin.gguf', (m) => m.push({ key: 'clip.vision.image_grid_pinpoints', type: GGUFValueType.ARRAY, arrayType: GGUFValueType.INT32, value: [336, 672] }))),
    code('VISION_UNSUPPORTED_PROJECTOR', ModelFormatError));
  await assert.rejects(loadVisionModel(await variant('heads.gguf', (m) => { m.find((e) => e.key === 'clip.vision.attention.head_count')!.value = 5; })), code('VISION_BAD_CONFIG', ModelFormatError));
  await assert.rejects(loadVisionModel(await variant('size.gguf', (m) => { m.find((e) => e.key === 'clip.vision.image_size')!.value = 100; })), code('VISION_BAD_CONFIG', ModelFormatError));
  await assert.rejects(loadVisionModel(await variant('miss.gguf', (_m, t) => { t.splice(t.findIndex((x) => x.name === 'v.blk.1.attn_q.weight'), 1); })), code('MISSING_TENSOR', ModelFormatError));
  await assert.rejects(loadVisionModel(await variant('shape.gguf', (_m, t) => {
    const i = t.findIndex((x) => x.name === 'mm.model.fc.weight');
    t[i] = { ...t[i]!, dims: [t[i]!.dims[1]!, t[i]!.dims[0]!] };
  })), ShapeError);
});

test('encodeTile rejects a tile of the wrong shape; a disposed model refuses to encode', async () => {
  const m = await loadVisionModel(join(await ensureVlmCheckpoint('smolvlm'), 'mmproj.gguf'));
  const S = m.config.imageSize;
  assert.throws(() => m.encodeTile({ kind: 'image', data: new Float32Array(3 * S * (S + 1)), shape: [3, S, S + 1] }), code('VISION_BAD_TILE', ShapeError));
  assert.throws(() => m.encodeTile({ kind: 'image', data: new Float32Array(10), shape: [3, S, S] }), code('VISION_BAD_TILE', ShapeError));
  m.dispose();
  assert.throws(() => m.encodeTile({ kind: 'image', data: new Float32Array(3 * S * S), shape: [3, S, S] }), code('VISION_DISPOSED', RequestError));
});

test('encode() applies the model\'s maxImagePixels limit and passes image errors through', async () => {
  const dir = await ensureVlmCheckpoint('smolvlm');
  const m = await loadVisionModel(join(dir, 'mmproj.gguf'), { maxImagePixels: 100 });
  await assert.rejects(m.encode(join(dir, 'image.png')), { code: 'IMAGE_TOO_LARGE' });
  await assert.rejects(m.encode(new Uint8Array(0)), { code: 'IMAGE_EMPTY' });
  await assert.rejects(m.encode(new TextEncoder().encode('not an image')), { code: 'IMAGE_UNSUPPORTED_FORMAT' });
});
