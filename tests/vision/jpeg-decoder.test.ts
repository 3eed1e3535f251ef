/**
 * JPEG input vs llama.cpp: llama.cpp decodes with stb_image, we decode with sharp (mozjpeg), and the
 * two decoders round a real photo's pixels differently in places (IDCT, chroma upsampling, YCbCr→RGB
 * fixed point). PNG/WebP input is byte-identical (tests/vision/vlm-embeddings.test.ts); for JPEG this
 * test bounds the difference on llama.cpp's own photo tools/mtmd/test-1.jpeg through the random
 * Gemma 3 checkpoint (golden recorded by scripts/reference/vision-jpeg-golden.ts over mtmd-dump):
 * no value differs by more than 1 level, under 10 % differ at all, and the embeddings stay within
 * 3e-3 relative error. (Measured when written: 7343 of 150528 values off by 1, embeddings 1.27e-3 —
 * above the 1e-3 bound the PNG goldens meet: the decoder, not the encoder, is the limit for JPEG.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadVisionModel } from '../../src/models/vision/index.js';
import { fixturesModule, repoRoot } from '../helpers/paths.js';
import { compare, concat, ensureVlmCheckpoint, readF32 } from './vlm-fixtures.js';

test('real JPEG photo: pixels within 1 level of stb_image (llama.cpp), embeddings within 3e-3', async () => {
  const ck = await ensureVlmCheckpoint('gemma3');
  const jpeg = join((await fixturesModule()).ensureLlamaCppSource(), 'tools', 'mtmd', 'test-1.jpeg');
  const fx = join(repoRoot(), 'tests', 'fixtures', 'vision');
  const meta = JSON.parse(readFileSync(join(fx, 'gemma3-test1-jpeg.json'), 'utf8')) as { sha256: Record<string, string> };
  const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
  assert.equal(sha(join(ck, 'mmproj.gguf')), meta.sha256['mmproj.gguf'], 'checkpoint changed: re-run scripts/reference/vision-jpeg-golden.ts');
  assert.equal(sha(jpeg), meta.sha256['test-1.jpeg']);
  const m = await loadVisionModel(join(ck, 'mmproj.gguf'));
  const pre = await m.preprocess(jpeg);
  const dump = new Uint8Array(readFileSync(join(fx, 'gemma3-test1-jpeg.pixels.u8')));
  const c = m.config, S = c.imageSize;
  assert.equal(dump.length, 3 * S * S);
  let diff = 0, max = 0;
  for (let ch = 0; ch < 3; ch++) for (let i = 0; i < S * S; i++) {
    const d = Math.abs(Math.round((pre.tiles[0]!.data[ch * S * S + i]! * c.imageStd[ch]! + c.imageMean[ch]!) * 255) - dump[i * 3 + ch]!);
    if (d) diff++;
    max = Math.max(max, d);
  }
  const enc = await m.encode(jpeg);
  const { rel, maxAbs } = compare(concat(enc.tiles.map((t) => t.data)), readF32(join(fx, 'gemma3-test1-jpeg.embd.f32')));
  process.stderr.write(`[vision] test-1.jpeg (gemma3): ${diff} of ${3 * S * S} tile values differ (max ${max}); embeddings rel ${rel.toExponential(3)}, max abs ${maxAbs.toExponential(3)}\n`);
  assert.ok(max <= 1, `a pixel differs by ${max} levels`);
  assert.ok(diff < 0.1 * 3 * S * S, `${diff} values differ`);
  assert.ok(rel < 3e-3, `embeddings relative error ${rel}`);
});
