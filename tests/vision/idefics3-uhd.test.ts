/**
 * The idefics3 path of SmolVLM mmproj files without `clip.vision.preproc_image_size` (older
 * conversions): llama.cpp then sizes the image llava-uhd style (aligned to the tile size, bicubic,
 * padded refined image, overview from the original). The golden is llama.cpp's own preprocessing and
 * embeddings of image2.png (160×96 → 2×1 tiles + overview) on that variant, recorded once by
 * scripts/reference/vision-uhd-golden.ts (mtmd-dump over libmtmd) into tests/fixtures/vision/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadVisionModel } from '../../src/models/vision/index.js';
import { repoRoot } from '../helpers/paths.js';
import { writeUhdVariant } from './uhd-variant.js';
import { compare, concat, ensureVlmCheckpoint, readF32 } from './vlm-fixtures.js';

test('idefics3 without preproc_image_size: tiles byte-identical to llama.cpp, embeddings within 1e-4', async () => {
  const ck = await ensureVlmCheckpoint('smolvlm');
  const path = join(mkdtempSync(join(tmpdir(), 'synflux-uhd-')), 'mmproj.gguf');
  writeUhdVariant(join(ck, 'mmproj.gguf'), path);
  const m = await loadVisionModel(path);
  assert.equal(m.config.longestEdge, 0);
  const fx = join(repoRoot(), 'tests', 'fixtures', 'vision');
  const meta = JSON.parse(readFileSync(join(fx, 'idefics3-uhd-image2.json'), 'utf8')) as { sha256: Record<string, string> };
  for (const [f, sha] of Object.entries(meta.sha256)) {
    assert.equal(createHash('sha256').update(readFileSync(join(ck, f))).digest('hex'), sha, `${f} changed since the golden was recorded: re-run scripts/reference/vision-uhd-golden.ts`);
  }
  const dump = new Uint8Array(readFileSync(join(fx, 'idefics3-uhd-image2.pixels.u8')));
  const pre = await m.preprocess(join(ck, 'image2.png'));
  assert.deepEqual(pre.grid, { rows: 1, cols: 2 });
  const c = m.config, S = c.imageSize;
  assert.equal(dump.length, pre.tiles.length * S * S * 3);
  pre.tiles.forEach((t, k) => {
    let diff = 0;
    for (let ch = 0; ch < 3; ch++) for (let i = 0; i < S * S; i++) {
      if (Math.round((t.data[ch * S * S + i]! * c.imageStd[ch]! + c.imageMean[ch]!) * 255) !== dump[(k * S * S + i) * 3 + ch]) diff++;
    }
    assert.equal(diff, 0, `tile ${k}: ${diff} values differ`);
  });
  const enc = await m.encode(join(ck, 'image2.png'));
  const { rel, maxAbs } = compare(concat(enc.tiles.map((t) => t.data)), readF32(join(fx, 'idefics3-uhd-image2.embd.f32')));
  process.stderr.write(`[vision] idefics3 (no longest edge) image2.png vs llama.cpp: rel ${rel.toExponential(3)}, max abs ${maxAbs.toExponential(3)}\n`);
  assert.ok(rel < 1e-4, `relative error ${rel}`);
});
