/**
 * Image embeddings of the random-weight SmolVLM (idefics3), LLaVA-1.5 (mlp) and Gemma 3 checkpoints
 * (scripts/reference/make-random-vlm.py, regenerated into .cache/vlm/<family>) against goldens that
 * reference code wrote once into tests/fixtures/vlm/<family>/ (scripts/reference/mtmd-dump.cpp over
 * llama.cpp's libmtmd, and scripts/reference/torch-vlm-ref.py, a PyTorch implementation of the
 * Hugging Face definitions):
 *   embd.f32              llama.cpp mtmd_encode_chunk output for image.png, all image chunks in order
 *   image.torch-embd.f32  PyTorch (HF definition, float64) on llama.cpp's preprocessed tiles
 *   image.pixels.u8       llama.cpp's resized/cropped tiles, RGB uint8 [H, W, 3] each, in LM order
 *
 * LLaVA: llama.cpp deviates from the HF definition (tools/mtmd/models/llava.cpp): it appends the
 * class token after the patches (patch i gets position i, the class token position N) and keeps rows
 * 1..N (dropping patch 0 and keeping the class token); with the legacy converter's already shortened
 * tower (block_count = num_hidden_layers - 1) it also runs one block fewer than vision_feature_layer
 * -2 asks; and its projector GELU is the tanh table where HF's 'gelu' is erf. We follow the HF
 * definition and compare LLaVA against the PyTorch golden only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadVisionModel, createVisionBrick, type VisionModel } from '../../src/models/vision/index.js';
import { compare, concat, ensureVlmCheckpoint, goldenDir, readF32, VLM_FAMILIES, type VlmFamily } from './vlm-fixtures.js';

/** The bound; llama.cpp-referenced families are also held to LLAMA_TOL (same float ops, F16 patch embedding included). */
const TOL = 1e-3;
const LLAMA_TOL = 1e-4;
const models = new Map<string, Promise<VisionModel>>();
function model(path: string): Promise<VisionModel> {
  let m = models.get(path);
  if (!m) { m = loadVisionModel(path, { threads: 2 }); models.set(path, m); }
  return m;
}

function golden(family: VlmFamily, name: string): string {
  const p = join(goldenDir(family), name);
  assert.ok(existsSync(p), `golden ${p} is missing (written by the reference scripts, see the file comment)`);
  return p;
}

/** Golden of `image` (`image` | `image2`): `<image>.<kind>`, or the older unprefixed `embd.f32` for image.png. */
function goldenOf(family: VlmFamily, image: string, kind: string): string {
  const p = join(goldenDir(family), `${image}.${kind}`);
  if (!existsSync(p) && image === 'image' && kind === 'embd.f32' && existsSync(join(goldenDir(family), 'embd.f32'))) return join(goldenDir(family), 'embd.f32');
  return golden(family, `${image}.${kind}`);
}

for (const family of VLM_FAMILIES) {
  test(`${family}: the regenerated checkpoint is the one the goldens were recorded from`, async () => {
    const dir = await ensureVlmCheckpoint(family);
    const meta = JSON.parse(readFileSync(golden(family, 'meta.json'), 'utf8')) as { sha256: Record<string, string> };
    for (const f of ['mmproj.gguf', 'image.png', 'image2.png', 'hf/model.safetensors', 'hf/config.json', 'hf/preprocessor_config.json']) {
      const want = meta.sha256[f];
      assert.ok(want, `meta.json has no sha256 for ${f}`);
      assert.equal(createHash('sha256').update(readFileSync(join(dir, f))).digest('hex'), want,
        `${family}/${f} differs from the goldens' checkpoint: regenerate goldens (scripts/reference/vlm-goldens.sh)`);
    }
  });

  for (const image of ['image', 'image2']) {
    test(`${family}: ${image}.png embeddings match the ${family === 'llava' ? 'PyTorch (HF definition)' : 'llama.cpp mtmd'} golden within ${TOL} relative error`, async () => {
      const dir = await ensureVlmCheckpoint(family);
      const m = await model(join(dir, 'mmproj.gguf'));
      const enc = await m.encode(join(dir, `${image}.png`));
      const ours = concat(enc.tiles.map((t) => t.data));
      const refs: [string, string][] = family === 'llava' ? [['torch', 'torch-embd.f32']] : [['llama.cpp', 'embd.f32'], ['torch', 'torch-embd.f32']];
      for (const [who, kind] of refs) {
        const ref = readF32(goldenOf(family, image, kind));
        assert.equal(ours.length, ref.length, `${who}: ${ref.length / m.nEmbdOut} tokens, ours ${ours.length / m.nEmbdOut}`);
        const { rel, maxAbs } = compare(ours, ref);
        process.stderr.write(`[vision] ${family} ${image}.png vs ${who}: rel ${rel.toExponential(3)}, max abs ${maxAbs.toExponential(3)} (${enc.tiles.length} tile(s), ${ours.length / m.nEmbdOut} tokens x ${m.nEmbdOut})\n`);
        const tol = who === 'llama.cpp' ? LLAMA_TOL : TOL;
        assert.ok(rel < tol, `${family} vs ${who}: relative error ${rel} ≥ ${tol} (max abs ${maxAbs})`);
      }
      if (family === 'llava') {
        // the deviation is real: llama.cpp's own LLaVA embeddings are far from the HF definition
        const lc = readF32(goldenOf(family, image, 'embd.f32'));
        assert.equal(lc.length, ours.length);
        const { rel } = compare(ours, lc);
        process.stderr.write(`[vision] llava ${image}.png vs llama.cpp (deviating graph): rel ${rel.toExponential(3)}\n`);
        assert.ok(rel > 1e-2, 'llama.cpp LLaVA output unexpectedly equals the HF definition');
      }
    });

    // LLaVA on a non-square image: llama.cpp pads to a square in the mean colour (original LLaVA's
    // expand2square); the HF CLIPImageProcessor we follow resizes the short side and centre-crops, so
    // the reference tile is HF's (PIL), image2.hf-pixels.u8.
    const pixRef = family === 'llava' && image === 'image2' ? ['HF (PIL)', 'hf-pixels.u8'] : ["llama.cpp's", 'pixels.u8'];
    test(`${family}: preprocessing of ${image}.png equals ${pixRef[0]} tiles byte for byte`, async () => {
      const dir = await ensureVlmCheckpoint(family);
      const m = await model(join(dir, 'mmproj.gguf'));
      const dump = new Uint8Array(readFileSync(goldenOf(family, image, pixRef[1]!)));
      const c = m.config;
      // undo the normalisation: tiles hold ((x/255 − mean)/std); x is recovered by rounding
      const pre = await m.preprocess(join(dir, `${image}.png`));
      const S = c.imageSize;
      assert.equal(dump.length, pre.tiles.length * S * S * 3, 'tile count');
      pre.tiles.forEach((t, k) => {
        let diff = 0;
        for (let ch = 0; ch < 3; ch++) {
          for (let i = 0; i < S * S; i++) {
            const x = Math.round((t.data[ch * S * S + i]! * c.imageStd[ch]! + c.imageMean[ch]!) * 255);
            if (x !== dump[k * S * S * 3 + i * 3 + ch]) diff++;
          }
        }
        assert.equal(diff, 0, `tile ${k}: ${diff} channel values differ from llama.cpp`);
      });
      if (c.projector === 'idefics3') assert.ok(pre.grid && pre.grid.rows * pre.grid.cols + 1 === pre.tiles.length);
    });
  }

  if (family === 'gemma3') {
    test('gemma3 with preprocess: "hf": image2.png stretched like Gemma3ImageProcessor (PIL tile byte for byte, PyTorch HF embeddings within 1e-3)', async () => {
      const dir = await ensureVlmCheckpoint(family);
      const m = await loadVisionModel(join(dir, 'mmproj.gguf'), { preprocess: 'hf' });
      const pre = await m.preprocess(join(dir, 'image2.png'));
      const dump = new Uint8Array(readFileSync(golden(family, 'image2.hf-pixels.u8')));
      const c = m.config, S = c.imageSize;
      assert.equal(dump.length, S * S * 3);
      let diff = 0;
      for (let ch = 0; ch < 3; ch++) for (let i = 0; i < S * S; i++) {
        if (Math.round((pre.tiles[0]!.data[ch * S * S + i]! * c.imageStd[ch]! + c.imageMean[ch]!) * 255) !== dump[i * 3 + ch]) diff++;
      }
      assert.equal(diff, 0, `${diff} values differ from PIL's stretched tile`);
      const enc = await m.encode(join(dir, 'image2.png'));
      const { rel, maxAbs } = compare(concat(enc.tiles.map((t) => t.data)), readF32(golden(family, 'image2.hf-torch-embd.f32')));
      process.stderr.write(`[vision] gemma3 image2.png (HF preprocessing) vs torch: rel ${rel.toExponential(3)}, max abs ${maxAbs.toExponential(3)}\n`);
      assert.ok(rel < TOL, `relative error ${rel}`);
      m.dispose();
    });
  }

  test(`${family}: the Hugging Face folder and the mmproj GGUF give identical embeddings`, async () => {
    const dir = await ensureVlmCheckpoint(family);
    const g = await model(join(dir, 'mmproj.gguf'));
    const h = await model(join(dir, 'hf'));
    // same engine configuration except the block count: the GGUF of LLaVA lacks the last block
    const strip = (c: typeof g.config) => ({ ...c, nLayer: 0 });
    assert.deepEqual(strip(h.config), strip(g.config));
    for (const img of ['image.png', 'image2.png']) {
      const a = await g.encode(join(dir, img));
      const b = await h.encode(join(dir, img));
      assert.deepEqual(b.grid, a.grid);
      assert.equal(b.tiles.length, a.tiles.length);
      a.tiles.forEach((t, i) => assert.ok(Buffer.from(t.data.buffer).equals(Buffer.from(b.tiles[i]!.data.buffer)), `${img} tile ${i} differs`));
    }
  });

  test(`${family}: the vision brick returns encode()'s embeddings and a positive cost`, async () => {
    const dir = await ensureVlmCheckpoint(family);
    const m = await model(join(dir, 'mmproj.gguf'));
    const brick = createVisionBrick(m);
    const bytes = new Uint8Array(readFileSync(join(dir, 'image2.png')));
    const input = { image: { kind: 'tensor' as const, dtype: 'u8' as const, data: bytes, shape: [bytes.length] } };
    const out = await brick.run(input);
    const enc = await m.encode(bytes);
    const e = out.embeddings!;
    assert.equal(e.kind, 'embeddings');
    assert.deepEqual(Array.from((e as { data: Float32Array }).data), Array.from(concat(enc.tiles.map((t) => t.data))));
    const cost = brick.cost!(input);
    assert.ok(cost.flops > 0 && cost.bytesMoved > m.weightBytes && cost.outputBytes === (e as { data: Float32Array }).data.length * 4);
    await assert.rejects(brick.run({}), { code: 'BRICK_BAD_INPUT' });
  });
}
