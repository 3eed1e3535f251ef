/**
 * src/preprocess/resize.ts against Pillow itself: bilinear, bicubic and Lanczos resizes of a
 * synthetic 53x37 RGB image (down, up, one axis only, mixed) must equal Pillow 9.4's output byte for
 * byte. Goldens written once by scripts/reference/pillow-resize-golden.py (Debian python3-pil)
 * into tests/fixtures/vision/pillow-resize.{json,bin}. llama.cpp's mtmd (mtmd-image.cpp
 * resize_pillow) and Hugging Face image processors both resample this way.
 * Also: the native row softmax of the ViT attention against its TypeScript reference (libm expf and
 * V8's Math.exp may differ by an ulp, so equality is to 1e-6 relative).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RequestError } from '../../src/core/errors.js';
import { crop, resizeInto, resizePillow, type ResizeAlgo } from '../../src/preprocess/resize.js';
import { repoRoot } from '../helpers/paths.js';

const dir = join(repoRoot(), 'tests', 'fixtures', 'vision');
const meta = JSON.parse(readFileSync(join(dir, 'pillow-resize.json'), 'utf8')) as {
  input: { width: number; height: number; offset: number };
  cases: { filter: ResizeAlgo; width: number; height: number; offset: number }[];
};
const blob = new Uint8Array(readFileSync(join(dir, 'pillow-resize.bin')));
const input = { width: meta.input.width, height: meta.input.height, data: blob.subarray(0, meta.input.width * meta.input.height * 3) };

for (const c of meta.cases) {
  test(`Pillow ${c.filter} ${input.width}x${input.height} → ${c.width}x${c.height}: identical bytes`, () => {
    const want = blob.subarray(c.offset, c.offset + c.width * c.height * 3);
    const got = resizePillow(input, c.width, c.height, c.filter);
    assert.equal(got.width, c.width);
    assert.equal(got.height, c.height);
    let diff = 0, maxd = 0;
    for (let i = 0; i < want.length; i++) if (got.data[i] !== want[i]) { diff++; maxd = Math.max(maxd, Math.abs(got.data[i]! - want[i]!)); }
    assert.equal(diff, 0, `${diff} of ${want.length} bytes differ from Pillow (max ${maxd})`);
  });
}

test('padding resize keeps aspect, centres and fills; crop and range checks are typed', () => {
  const r = resizeInto(input, 40, 40, 'bicubic', 'ceil', [1, 2, 3]);
  // 53x37 into 40x40: scale 40/53 → 40 x ceil(37·40/53 = 27.9) = 28, centred at y = 6
  assert.deepEqual(Array.from(r.data.subarray(0, 3)), [1, 2, 3]);
  assert.deepEqual(Array.from(r.data.subarray((39 * 40 + 39) * 3, (39 * 40 + 39) * 3 + 3)), [1, 2, 3]);
  const inner = resizePillow(input, 40, 28, 'bicubic');
  assert.deepEqual(Array.from(r.data.subarray(6 * 40 * 3, 34 * 40 * 3)), Array.from(inner.data));
  const c = crop(input, 3, 4, 5, 6);
  assert.deepEqual(Array.from(c.data.subarray(0, 3)), Array.from(input.data.subarray((4 * 53 + 3) * 3, (4 * 53 + 3) * 3 + 3)));
  assert.throws(() => crop(input, 50, 0, 10, 10), RequestError);
  assert.throws(() => resizePillow(input, 0, 10, 'bilinear'), RequestError);
  assert.throws(() => resizePillow(input, 70000, 10, 'bilinear'), RequestError);
});

test('native softmaxRows (native/sf_vit.c) equals the TypeScript reference to float rounding (expf vs Math.exp); bad arguments are typed', async () => {
  const { native } = await import('../../src/backends/cpu/native.js');
  const { softmaxRows } = await import('../../src/models/vision/ops.js');
  const nat = native() as unknown as { softmaxRows(s: Float32Array, rows: number, n: number, scale: number): void };
  let seed = 7;
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
  for (const [rows, n] of [[3, 5], [64, 1025], [300, 77]] as const) {
    const a = Float32Array.from({ length: rows * n }, () => rnd() * 40 - 20);
    const b = a.slice();
    softmaxRows(a, rows, n, 0.125);
    nat.softmaxRows(b, rows, n, 0.125);
    let md = 0;
    for (let i = 0; i < a.length; i++) md = Math.max(md, Math.abs(a[i]! - b[i]!) / Math.abs(a[i]!));
    assert.ok(md < 1e-6, `${rows}x${n}: max relative difference ${md}`);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += a[r * n + j]!;
      assert.ok(Math.abs(s - 1) < 1e-5);
    }
  }
  assert.throws(() => nat.softmaxRows(new Float32Array(4), 2, 3, 1), { code: 'ERR_SYNFLUX_ARG' });
  assert.throws(() => nat.softmaxRows(new Float64Array(4) as unknown as Float32Array, 1, 4, 1), { code: 'ERR_SYNFLUX_ARG' });
});
