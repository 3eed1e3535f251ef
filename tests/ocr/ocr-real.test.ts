// PP-OCRv4 det + rec (ONNX Runtime, CPU EP) on real images of printed text:
// 1. the recognized text against the text printed in the image (tests/ocr/expected-text.ts,
//    transcribed by reading the images), as a character error rate after removing whitespace;
// 2. boxes and text against PaddleOCR's own pipeline code as packaged by RapidOCR
//    (OpenCV findContours/minAreaRect/warpPerspective, pyclipper), run once on the same ONNX files
//    by scripts/reference/ocr-golden.py, which wrote tests/fixtures/ocr/golden.json.
// Bad images give typed errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodeImage } from '../../src/preprocess/image.js';
import { OcrDetector } from '../../src/models/ocr/detector.js';
import { OcrRecognizer } from '../../src/models/ocr/recognizer.js';
import { readText, recognizeBoxes, type OcrLine } from '../../src/models/ocr/read-text.js';
import { repoRoot } from '../helpers/paths.js';
import { cer, EXPECTED_TEXT } from './expected-text.js';

interface GoldenLine { box: number[][]; text: string; score: number; kept: boolean }
interface Golden { images: Record<string, { width: number; height: number; lines: GoldenLine[] }> }

async function imagePath(name: string): Promise<string> {
  if (name === 'ocr-notice.png') return join(repoRoot(), 'tests/fixtures/images', name);
  const mod = (await import(pathToFileURL(join(repoRoot(), 'scripts/fixtures/ocr-images.mjs')).href)) as { ensureOcrImages(): string };
  return join(mod.ensureOcrImages(), name);
}

const golden = (): Golden => JSON.parse(readFileSync(join(repoRoot(), 'tests/fixtures/ocr/golden.json'), 'utf8')) as Golden;
const NAMES = ['page.png', 'imageTextN.png', 'imageTextR.png', 'ocr-notice.png'];

/**
 * CER budgets against the printed text (whitespace ignored). Clean screenshot and flat scan:
 * 2%; the rotated scan: 3%; the photographed page (uneven light, a line cut by the edge): 8%.
 */
const CER_BUDGET: Record<string, number> = { 'page.png': 0.08, 'imageTextN.png': 0.02, 'imageTextR.png': 0.03, 'ocr-notice.png': 0.02 };

let det: OcrDetector, detLoose: OcrDetector, rec: OcrRecognizer;

test.before(async () => {
  det = await OcrDetector.create({ intraOpNumThreads: 1 });
  // The pipeline's setting (pipelines/ocr-qa.json): box_thresh 0.5, which keeps the dim lines of page.png.
  detLoose = await OcrDetector.create({ intraOpNumThreads: 1, db: { boxThresh: 0.5 } });
  rec = await OcrRecognizer.create({ intraOpNumThreads: 1 });
});
test.after(() => {
  det?.dispose();
  detLoose?.dispose();
  rec?.dispose();
});

for (const name of NAMES) {
  test(`${name}: recognized text matches the printed text`, async () => {
    const img = await decodeImage(await imagePath(name));
    const lines = await readText(detLoose, rec, img);
    const got = lines.map((l) => l.text).join('\n');
    const want = EXPECTED_TEXT[name]!.join('\n');
    const rate = cer(got, want);
    console.log(`# ${name}: ${lines.length} lines, CER ${(rate * 100).toFixed(2)}% (budget ${CER_BUDGET[name]! * 100}%)`);
    assert.ok(rate <= CER_BUDGET[name]!, `${name}: CER ${rate.toFixed(4)} > ${CER_BUDGET[name]}\n--- got\n${got}\n--- want\n${want}`);
    assert.equal(lines.length, EXPECTED_TEXT[name]!.length, `${name}: one line per printed line\n${got}`);
  });

  test(`${name}: boxes and text match PaddleOCR's pipeline (RapidOCR + OpenCV reference)`, async () => {
    const ref = golden().images[name]!;
    const img = await decodeImage(await imagePath(name));
    assert.equal(img.width, ref.width);
    assert.equal(img.height, ref.height);
    const boxes = await det.detect(img);
    const ours: OcrLine[] = await recognizeBoxes(rec, img, boxes, 0);
    // Exact-size inputs (640×256: no resize) differ from the reference only by the post-processing
    // (findContours vs our components, pyclipper's integer offset, float32 vs float64 corners):
    // ≤ 1.5 px (one pixel in x and y). Resized inputs also differ by the resize (OpenCV's 11-bit
    // fixed-point bilinear vs ours): ≤ 3 px.
    const exact = ref.width % 32 === 0 && ref.height % 32 === 0;
    const tol = exact ? 1.5 : 3;
    let matched = 0, worst = 0;
    const oursText: string[] = [], refText: string[] = [];
    for (const r of ref.lines) {
      const dist = (o: OcrLine): number => Math.max(...r.box.map(([x, y], k) => Math.hypot(o.box[k]!.x - x!, o.box[k]!.y - y!)));
      const best = ours.reduce<OcrLine | undefined>((b, o) => (!b || dist(o) < dist(b) ? o : b), undefined);
      assert.ok(best, `${name}: no box for reference line ${JSON.stringify(r.text)}`);
      const d = dist(best!);
      worst = Math.max(worst, d);
      assert.ok(d <= tol, `${name}: box for ${JSON.stringify(r.text)} off by ${d.toFixed(2)} px (> ${tol}): ours ${JSON.stringify(best!.box)} ref ${JSON.stringify(r.box)}`);
      // Boxes 1-2 px apart give slightly different crops of the same line (on the rotated page a
      // line may lose a comma or a letter): each line within 5% CER, all lines of the image
      // together within 1%.
      const c = cer(best!.text, r.text);
      assert.ok(c <= 0.05, `${name}: ours ${JSON.stringify(best!.text)} vs reference ${JSON.stringify(r.text)} (CER ${c.toFixed(3)})`);
      oursText.push(best!.text);
      refText.push(r.text);
      matched++;
    }
    // Where box scores sit near box_thresh the two resizes may keep different marginal boxes: at
    // most one extra box on resized images, none on exact-size ones.
    const total = cer(oursText.join('\n'), refText.join('\n'));
    const same = oursText.filter((t, i) => t === refText[i]).length;
    console.log(`# ${name}: text vs reference CER ${(total * 100).toFixed(2)}% over ${matched} lines, ${same} identical`);
    assert.ok(total <= 0.01, `${name}: text vs reference CER ${total.toFixed(4)} > 0.01`);
    const extra = ours.length - matched;
    console.log(`# ${name}: ${matched} reference boxes matched, worst corner ${worst.toFixed(2)} px (tol ${tol}), ${extra} extra`);
    assert.ok(extra >= 0 && extra <= (exact ? 0 : 1), `${name}: ${ours.length} boxes vs ${ref.lines.length} in the reference`);
  });
}

test('degenerate images: a 1×1 image and a blank image have no text', async () => {
  const one = { width: 1, height: 1, data: new Uint8Array([255, 255, 255]) };
  assert.deepEqual(await readText(det, rec, one), []);
  const blank = { width: 300, height: 100, data: new Uint8Array(300 * 100 * 3).fill(255) };
  assert.deepEqual(await readText(det, rec, blank), []);
  // Degenerate boxes are skipped, not cropped.
  assert.deepEqual(await recognizeBoxes(rec, blank, [{ box: [{ x: 5, y: 5 }, { x: 5, y: 5 }, { x: 5, y: 5 }, { x: 5, y: 5 }], score: 1 }]), []);
});

test('bad image files give typed ImageErrors', async () => {
  const notice = readFileSync(join(repoRoot(), 'tests/fixtures/images/ocr-notice.png'));
  await assert.rejects(decodeImage(new Uint8Array(0)), { name: 'ImageError', code: 'IMAGE_EMPTY' });
  await assert.rejects(decodeImage(new Uint8Array(notice.subarray(0, 16))), { name: 'ImageError', code: 'IMAGE_TRUNCATED' });
  await assert.rejects(decodeImage(new Uint8Array(notice.subarray(0, notice.length >> 1))), { name: 'ImageError', code: 'IMAGE_TRUNCATED' });
  await assert.rejects(decodeImage(new TextEncoder().encode('GIF89a not supported')), { name: 'ImageError', code: 'IMAGE_UNSUPPORTED_FORMAT' });
  await assert.rejects(decodeImage(new Uint8Array(notice), { maxPixels: 1000 }), { name: 'ImageError', code: 'IMAGE_TOO_LARGE' });
  await assert.rejects(decodeImage(join(repoRoot(), 'no-such-image.png')), { name: 'ImageError', code: 'IMAGE_NOT_FOUND' });
});
