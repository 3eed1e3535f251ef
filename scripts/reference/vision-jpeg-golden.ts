/**
 * Golden for JPEG input: llama.cpp decodes with stb_image, SynFlux with sharp (libvips/mozjpeg), so
 * the decoded pixels of a real photo differ slightly (IDCT, chroma upsampling, colour-conversion
 * rounding). This records llama.cpp's preprocessed tile and embeddings of a real photo (llama.cpp's
 * own tools/mtmd/test-1.jpeg, 640×488) through the random Gemma 3 checkpoint, so the test can bound
 * the difference. SynFlux reference tooling, run once:
 *
 *   npx tsx scripts/reference/vision-jpeg-golden.ts [MTMD_DUMP] [CHECKPOINT_DIR] [LLAMA_CPP_DIR]
 *     defaults: .cache/vlm/bin/mtmd-dump (scripts/reference/vlm-goldens.sh builds it), .cache/vlm/gemma3, .cache/llama.cpp
 *
 * Writes tests/fixtures/vision/gemma3-test1-jpeg.{pixels.u8 (RGB8 HWC), embd.f32, json}.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname ?? '.', '..', '..');
const dump = process.argv[2] ?? join(root, '.cache/vlm/bin/mtmd-dump');
const ck = process.argv[3] ?? join(root, '.cache/vlm/gemma3');
const jpeg = join(process.argv[4] ?? join(root, '.cache/llama.cpp'), 'tools/mtmd/test-1.jpeg');
const pre = join(mkdtempSync(join(tmpdir(), 'jpeg-')), 'out');
const out = execFileSync(dump, ['-m', join(ck, 'model.gguf'), '--mmproj', join(ck, 'mmproj.gguf'), '--image', jpeg, '-p', '<__media__>', '-n', '1', '-t', '2', '--out-prefix', pre],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
const meta = JSON.parse(out) as { chunks: { encodes?: { shape_chw: number[] }[] }[] };
const man = JSON.parse(readFileSync(join(ck, 'manifest.json'), 'utf8')) as { vision: { image_mean: number[]; image_std: number[] } };
const pix = new Float32Array(readFileSync(pre + '.pixels.f32').buffer.slice(0));
const shapes = meta.chunks.flatMap((c) => (c.encodes ?? []).map((e) => e.shape_chw));
if (shapes.length !== 1) throw new Error(`expected one tile, got ${shapes.length}`);
const [ch, h, w] = shapes[0] as [number, number, number];
const u8 = new Uint8Array(ch * h * w);
for (let i = 0; i < h * w; i++) for (let k = 0; k < ch; k++) {
  const u = (pix[k * h * w + i]! * man.vision.image_std[k]! + man.vision.image_mean[k]!) * 255;
  const r = Math.round(u);
  if (Math.abs(u - r) > 2e-3 || r < 0 || r > 255) throw new Error('pixels are not normalised u8');
  u8[i * ch + k] = r;
}
const dir = join(root, 'tests/fixtures/vision');
const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
writeFileSync(join(dir, 'gemma3-test1-jpeg.pixels.u8'), u8);
writeFileSync(join(dir, 'gemma3-test1-jpeg.embd.f32'), readFileSync(pre + '.embd.f32'));
writeFileSync(join(dir, 'gemma3-test1-jpeg.json'), JSON.stringify({ generator: 'scripts/reference/vision-jpeg-golden.ts', tile: [ch, h, w],
  checkpoint: 'make-random-vlm.py --family gemma3 --seed 1', sha256: { 'mmproj.gguf': sha(join(ck, 'mmproj.gguf')), 'test-1.jpeg': sha(jpeg) } }, null, 1) + '\n');
console.log('wrote gemma3-test1-jpeg goldens');
