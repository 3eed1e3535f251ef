/**
 * Golden for the idefics3 preprocessing path that older SmolVLM mmproj files take: without
 * `clip.vision.preproc_image_size`, llama.cpp's mtmd_image_preprocessor_idefics3 sizes the image
 * llava-uhd style (calc_size_preserved_ratio aligned to image_size, bicubic, PAD_CEIL refined
 * image, overview from the original). SynFlux reference tooling, run once:
 *
 *   npx tsx scripts/reference/vision-uhd-golden.ts [MTMD_DUMP] [CHECKPOINT_DIR]
 *     MTMD_DUMP       scripts/reference/mtmd-dump.cpp built by scripts/reference/vlm-goldens.sh
 *                     (default .cache/vlm/bin/mtmd-dump)
 *     CHECKPOINT_DIR  the random SmolVLM checkpoint of make-random-vlm.py (default .cache/vlm/smolvlm)
 *
 * Writes the variant mmproj (the checkpoint's mmproj.gguf minus that one key, rewritten with
 * src/formats/gguf/writer.ts exactly as tests/vision/idefics3-uhd.test.ts rewrites it) to a temp
 * folder, runs llama.cpp on image2.png, and writes tests/fixtures/vision/idefics3-uhd-image2.
 * {pixels.u8 (RGB8 HWC per tile, encode order), embd.f32, json}.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeUhdVariant } from '../../tests/vision/uhd-variant.js';

const root = resolve(import.meta.dirname ?? '.', '..', '..');
const dump = process.argv[2] ?? join(root, '.cache/vlm/bin/mtmd-dump');
const ck = process.argv[3] ?? join(root, '.cache/vlm/smolvlm');
const tmp = mkdtempSync(join(tmpdir(), 'uhd-'));
const mmproj = join(tmp, 'mmproj-uhd.gguf');
writeUhdVariant(join(ck, 'mmproj.gguf'), mmproj);
const pre = join(tmp, 'out');
const out = execFileSync(dump, ['-m', join(ck, 'model.gguf'), '--mmproj', mmproj, '--image', join(ck, 'image2.png'), '-p', '<__media__>', '-n', '1', '-t', '2', '--out-prefix', pre],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
const meta = JSON.parse(out) as { chunks: { type: string; encodes?: { shape_chw: number[] }[] }[] };
const man = JSON.parse(readFileSync(join(ck, 'manifest.json'), 'utf8')) as { vision: { image_mean: number[]; image_std: number[] } };
const pix = new Float32Array(readFileSync(pre + '.pixels.f32').buffer.slice(0));
const tiles: number[] = [];
let off = 0;
const shapes: number[][] = [];
for (const c of meta.chunks) for (const e of c.encodes ?? []) {
  const [ch, h, w] = e.shape_chw as [number, number, number];
  shapes.push([ch, h, w]);
  for (let i = 0; i < h * w; i++) for (let k = 0; k < ch; k++) {
    const u = (pix[off + k * h * w + i]! * man.vision.image_std[k]! + man.vision.image_mean[k]!) * 255;
    const r = Math.round(u);
    if (Math.abs(u - r) > 2e-3 || r < 0 || r > 255) throw new Error('pixels are not normalised u8');
    tiles.push(r);
  }
  off += ch * h * w;
}
const dir = join(root, 'tests/fixtures/vision');
writeFileSync(join(dir, 'idefics3-uhd-image2.pixels.u8'), Uint8Array.from(tiles));
writeFileSync(join(dir, 'idefics3-uhd-image2.embd.f32'), readFileSync(pre + '.embd.f32'));
writeFileSync(join(dir, 'idefics3-uhd-image2.json'), JSON.stringify({ generator: 'scripts/reference/vision-uhd-golden.ts', tiles: shapes, checkpoint: 'make-random-vlm.py --family smolvlm --seed 1',
  sha256: Object.fromEntries(['mmproj.gguf', 'image2.png'].map((f) => [f, createHash('sha256').update(readFileSync(join(ck, f))).digest('hex')])) }, null, 1) + '\n');
console.log(`wrote ${shapes.length} tiles`);
