// DB post-processing and its geometry, on synthetic probability maps whose correct boxes follow
// from the definitions (PaddleOCR ppocr/postprocess/db_postprocess.py; DB paper, Liao et al. 2020,
// eq. 10 for the unclip offset D = A·r / L): min-area rectangles of rotated point sets, the unclip
// growth, thresholds, the sliver filter, reading order, and CTC decoding rules. The real-image
// boxes are compared with RapidOCR's OpenCV/pyclipper implementation in ocr-real.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convexHull, minAreaRect, miniBox, orderClockwise, sortBoxes, unclipRect } from '../../src/models/ocr/geometry.js';
import { boxScoreFast, connectedRegions, dbPostprocess, type ProbMap } from '../../src/models/ocr/db-postprocess.js';
import { alphabetFromDictionary, ctcGreedyDecode } from '../../src/models/ocr/ctc.js';
import { cropQuad, perspectiveTransform, resizeBilinear, rot90 } from '../../src/models/ocr/image-ops.js';

/** A map with value `v` on the axis-aligned pixel rectangle [x0, x1] × [y0, y1] (inclusive), 0 elsewhere. */
function rectMap(w: number, h: number, rects: [number, number, number, number, number][]): ProbMap {
  const data = new Float32Array(w * h);
  for (const [x0, y0, x1, y1, v] of rects) for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) data[y * w + x] = v;
  return { data, width: w, height: h };
}

test('convex hull drops interior and collinear points of an axis-aligned grid', () => {
  const pts = [];
  for (let x = 0; x <= 5; x++) for (let y = 0; y <= 3; y++) pts.push({ x, y });
  assert.deepEqual(convexHull(pts).map((p) => [p.x, p.y]), [[0, 0], [5, 0], [5, 3], [0, 3]]);
});

test('convex hull and min-area rectangle of a rotated rectangle recover its sides and angle', () => {
  for (const deg of [0, 10, 30, 45, 60, 89, 135]) {
    const a = (deg * Math.PI) / 180;
    const pts = [];
    for (let i = 0; i <= 40; i++) for (let j = 0; j <= 10; j++) {
      const u = -20 + i, v = -5 + j; // a 40 × 10 rectangle, sampled on a grid
      pts.push({ x: 100 + u * Math.cos(a) - v * Math.sin(a), y: 50 + u * Math.sin(a) + v * Math.cos(a) });
    }
    // Every hull vertex lies on the rectangle's boundary (collinear edge points may survive rounding).
    assert.ok(convexHull(pts).length >= 4, `hull of a sampled rectangle at ${deg}°`);
    const r = minAreaRect(pts);
    const sides = [r.w, r.h].sort((p, q) => p - q);
    assert.ok(Math.abs(sides[0]! - 10) < 1e-6 && Math.abs(sides[1]! - 40) < 1e-6, `sides at ${deg}°: ${sides}`);
    assert.ok(Math.abs(r.cx - 100) < 1e-6 && Math.abs(r.cy - 50) < 1e-6);
    assert.ok(Math.abs(r.w * r.h - 400) < 1e-6);
  }
});

test('miniBox orders corners top-left, top-right, bottom-right, bottom-left and reports the short side', () => {
  const { box, sside } = miniBox({ cx: 50, cy: 20, w: 60, h: 10, angle: 0 });
  assert.deepEqual(box.map((p) => [Math.round(p.x), Math.round(p.y)]), [[20, 15], [80, 15], [80, 25], [20, 25]]);
  assert.equal(sside, 10);
  const cw = orderClockwise([{ x: 80, y: 25 }, { x: 20, y: 15 }, { x: 20, y: 25 }, { x: 80, y: 15 }]);
  assert.deepEqual(cw.map((p) => [p.x, p.y]), [[20, 15], [80, 15], [80, 25], [20, 25]]);
});

test('unclip grows a w×h rectangle by D = A·r/L on every side', () => {
  const r = unclipRect({ cx: 0, cy: 0, w: 100, h: 20, angle: 0.3 }, 1.5);
  const d = (100 * 20 * 1.5) / (2 * 120);
  assert.ok(Math.abs(r.w - (100 + 2 * d)) < 1e-9 && Math.abs(r.h - (20 + 2 * d)) < 1e-9);
  assert.equal(r.angle, 0.3);
});

test('connected regions are 8-connected and report row extremes', () => {
  const w = 6, h = 4;
  const bm = new Uint8Array(w * h);
  bm[0] = 1; bm[w + 1] = 1; // diagonal neighbours: one region
  bm[3] = 1; bm[4] = 1; bm[2 * w + 4] = 1; // a separate region, not touching (row 1 col 4 empty)
  const regions = connectedRegions(bm, w, h);
  assert.equal(regions.length, 3);
  assert.deepEqual(regions[0]!.map((p) => [p.x, p.y]).sort(), [[0, 0], [1, 1]]);
});

test('box score is the mean probability inside the polygon', () => {
  const map = rectMap(20, 10, [[2, 2, 11, 5, 0.8]]);
  assert.ok(Math.abs(boxScoreFast(map, [{ x: 2, y: 2 }, { x: 11, y: 2 }, { x: 11, y: 5 }, { x: 2, y: 5 }]) - 0.8) < 1e-6);
  // A box twice as tall covering the same text: half its pixels are 0.
  const s = boxScoreFast(map, [{ x: 2, y: 2 }, { x: 11, y: 2 }, { x: 11, y: 9 }, { x: 2, y: 9 }]);
  assert.ok(Math.abs(s - 0.4) < 1e-6, `score ${s}`);
});

test('dbPostprocess: one text line → one unclipped, rescaled box; weak and tiny regions dropped', () => {
  // Map 160×64 for a 320×128 source. Line: pixels x 20..119, y 10..19 (a 99×9 rectangle of
  // pixel centres) at p = 0.9; a weak region (p = 0.5 < box_thresh 0.6); a 2-px speck.
  const map = rectMap(160, 64, [[20, 10, 119, 19, 0.9], [20, 40, 119, 49, 0.5], [150, 60, 151, 61, 0.95]]);
  const boxes = dbPostprocess(map, 320, 128);
  assert.equal(boxes.length, 1);
  const b = boxes[0]!;
  assert.ok(Math.abs(b.score - 0.9) < 1e-6);
  const w = 99, h = 9, d = (w * h * 1.5) / (2 * (w + h));
  const expect = [[20 - d, 10 - d], [119 + d, 10 - d], [119 + d, 19 + d], [20 - d, 19 + d]].map(([x, y]) => [Math.round(x! * 2), Math.round(y! * 2)]);
  assert.deepEqual(b.box.map((p) => [p.x, p.y]), expect);
  // Lower box threshold keeps the weak line too; a higher binarization threshold removes it entirely.
  assert.equal(dbPostprocess(map, 320, 128, { boxThresh: 0.4 }).length, 2);
  assert.equal(dbPostprocess(map, 320, 128, { thresh: 0.95 }).length, 0);
});

test('dbPostprocess on an empty or all-zero map finds nothing', () => {
  assert.deepEqual(dbPostprocess(rectMap(32, 32, []), 32, 32), []);
});

test('sortBoxes: top-to-bottom, and left-to-right within 10 px of height', () => {
  const mk = (x: number, y: number, id: string) => ({ id, box: [{ x, y }, { x: x + 10, y }, { x: x + 10, y: y + 5 }, { x, y: y + 5 }] });
  const order = sortBoxes([mk(100, 52, 'b2'), mk(5, 50, 'b1'), mk(0, 10, 'a'), mk(0, 90, 'c')]).map((b) => b.id);
  assert.deepEqual(order, ['a', 'b1', 'b2', 'c']);
});

test('CTC greedy decoding merges repeats, drops blanks, keeps a repeat separated by a blank', () => {
  const ab = alphabetFromDictionary('a\nb\n');
  assert.deepEqual(ab.chars, ['blank', 'a', 'b', ' ']);
  // steps: a a blank a b space b  → "aab b"
  const seq = [1, 1, 0, 1, 2, 3, 2];
  const probs = new Float32Array(seq.length * 4);
  seq.forEach((k, t) => { probs.fill(0.1 / 3, t * 4, t * 4 + 4); probs[t * 4 + k] = 0.9; });
  const r = ctcGreedyDecode(probs, seq.length, ab);
  assert.equal(r.text, 'aab b');
  assert.ok(Math.abs(r.score - 0.9) < 1e-6);
  assert.throws(() => ctcGreedyDecode(probs, seq.length + 1, ab), { code: 'OCR_CLASSES_MISMATCH' });
  assert.throws(() => alphabetFromDictionary(''), { code: 'OCR_DICT_EMPTY' });
});

test('perspective crop of an axis-aligned box equals the pixels; tall crops are turned', () => {
  const w = 8, h = 6;
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.fill(i, i * 3, i * 3 + 3);
  const img = { width: w, height: h, data };
  const c = cropQuad(img, [{ x: 2, y: 1 }, { x: 6, y: 1 }, { x: 6, y: 3 }, { x: 2, y: 3 }])!;
  assert.equal(c.width, 4);
  assert.equal(c.height, 2);
  assert.deepEqual([...c.data.filter((_, k) => k % 3 === 0)], [10, 11, 12, 13, 18, 19, 20, 21]);
  const tall = cropQuad(img, [{ x: 1, y: 0 }, { x: 2, y: 0 }, { x: 2, y: 4 }, { x: 1, y: 4 }])!;
  assert.equal(tall.width, 4); // 1 × 4 crop turned a quarter
  assert.equal(tall.height, 1);
  assert.equal(rot90(rot90(rot90(rot90(c)))).data.join(), c.data.join());
  assert.equal(cropQuad(img, [{ x: 1, y: 1 }, { x: 1, y: 1 }, { x: 1, y: 1 }, { x: 1, y: 1 }]), null);
  const H = perspectiveTransform([{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 1, y: 1 }, { x: 0, y: 1 }], [{ x: 0, y: 0 }, { x: 2, y: 0 }, { x: 2, y: 2 }, { x: 0, y: 2 }])!;
  assert.deepEqual([...H].map((v) => Math.round(v * 1e9) / 1e9), [2, 0, 0, 0, 2, 0, 0, 0, 1]);
});

test('bilinear resize uses OpenCV INTER_LINEAR half-pixel centres', () => {
  // 2×1 → 4×1: dst x = 0..3 map to src 0.25·... cv2 gives [a, a+(b-a)/4, a+3(b-a)/4, b].
  const img = { width: 2, height: 1, data: new Uint8Array([0, 0, 0, 200, 200, 200]) };
  const r = resizeBilinear(img, 4, 1);
  assert.deepEqual([...r.data.filter((_, k) => k % 3 === 0)], [0, 50, 150, 200]);
});
