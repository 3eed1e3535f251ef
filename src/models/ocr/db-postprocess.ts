/**
 * DB (Differentiable Binarization, Liao et al., AAAI 2020) post-processing as PaddleOCR's
 * ppocr/postprocess/db_postprocess.py `DBPostProcess` does it for PP-OCR detectors
 * (box_type 'quad', score_mode 'fast', use_dilation False), followed by predict_det.py's
 * `filter_tag_det_res`:
 *
 * probability map `[h, w]` → bitmap `p > thresh` → connected regions (8-connected; OpenCV's
 * `findContours` outer borders, holes ignored) → min-area rectangle of each region (`get_mini_boxes`),
 * dropped when its short side < `minSize` → mean probability inside the rectangle
 * (`box_score_fast`), dropped when < `boxThresh` → `unclip` by `unclipRatio` → dropped when the
 * grown short side < `minSize + 2` → scaled to the source image, rounded and clipped → corners
 * ordered clockwise from top-left, dropped when a side is ≤ 3 px.
 */
import type { Point } from './image-ops.js';
import { minAreaRect, miniBox, orderClockwise, unclipRect } from './geometry.js';

/** DB post-processing parameters (PaddleOCR tools/infer/utility.py defaults). */
export interface DbOptions {
  /** Binarization threshold on the probability map (det_db_thresh, default 0.3). */
  readonly thresh?: number;
  /** Minimum mean probability inside a box (det_db_box_thresh, default 0.6). */
  readonly boxThresh?: number;
  /** Offset ratio of `unclip` (det_db_unclip_ratio, default 1.5). */
  readonly unclipRatio?: number;
  /** Minimum short side of a box on the map, px (DBPostProcess.min_size, 3). */
  readonly minSize?: number;
  /** At most this many regions are considered (max_candidates, 1000). */
  readonly maxCandidates?: number;
}

/** One detected text region in source-image pixels. */
export interface DetBox {
  /** Corners: top-left, top-right, bottom-right, bottom-left (integers, as PaddleOCR rounds them). */
  readonly box: readonly Point[];
  /** Mean probability inside the (pre-unclip) box on the map, in [0, 1]. */
  readonly score: number;
}

/** A probability map: float32 `[height, width]`, row-major. */
export interface ProbMap {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
}

/**
 * Labels the 8-connected regions of `bitmap` (1 = foreground) and returns, per region in
 * raster order of its first pixel, the left-most and right-most pixel of each of its rows
 * (enough for the convex hull, hence for the min-area rectangle).
 */
export function connectedRegions(bitmap: Uint8Array, width: number, height: number, maxRegions = Infinity): Point[][] {
  const label = new Int32Array(width * height);
  const regions: Point[][] = [];
  const stack: number[] = [];
  for (let start = 0; start < width * height && regions.length < maxRegions; start++) {
    if (!bitmap[start] || label[start]) continue;
    const id = regions.length + 1;
    const rowMin = new Map<number, number>(), rowMax = new Map<number, number>();
    label[start] = id;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      const y = (p / width) | 0, x = p - y * width;
      const lo = rowMin.get(y);
      if (lo === undefined || x < lo) rowMin.set(y, x);
      const hi = rowMax.get(y);
      if (hi === undefined || x > hi) rowMax.set(y, x);
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          const q = yy * width + xx;
          if (bitmap[q] && !label[q]) {
            label[q] = id;
            stack.push(q);
          }
        }
      }
    }
    const pts: Point[] = [];
    for (const [y, x] of rowMin) {
      pts.push({ x, y });
      const x2 = rowMax.get(y)!;
      if (x2 !== x) pts.push({ x: x2, y });
    }
    regions.push(pts);
  }
  return regions;
}

/**
 * PaddleOCR `box_score_fast`: mean of the map over the pixels of the box's bounding rectangle
 * that lie inside the box polygon (vertices truncated to integers, as `cv2.fillPoly` gets them;
 * pixels on the polygon's edges count as inside).
 */
export function boxScoreFast(map: ProbMap, box: readonly Point[]): number {
  const { data, width: w, height: h } = map;
  const clip = (v: number, hi: number): number => Math.min(Math.max(v, 0), hi);
  const xs = box.map((p) => p.x), ys = box.map((p) => p.y);
  const xmin = clip(Math.floor(Math.min(...xs)), w - 1), xmax = clip(Math.ceil(Math.max(...xs)), w - 1);
  const ymin = clip(Math.floor(Math.min(...ys)), h - 1), ymax = clip(Math.ceil(Math.max(...ys)), h - 1);
  const poly = box.map((p) => ({ x: Math.trunc(p.x - xmin), y: Math.trunc(p.y - ymin) }));
  // Orientation of the polygon, so "inside" is the same side of every edge.
  let s = 0;
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i]!, b = poly[(i + 1) % poly.length]!;
    s += a.x * b.y - b.x * a.y;
  }
  const sign = s >= 0 ? 1 : -1;
  let sum = 0, n = 0;
  for (let y = 0; y <= ymax - ymin; y++) {
    for (let x = 0; x <= xmax - xmin; x++) {
      let inside = true;
      for (let i = 0; i < poly.length && inside; i++) {
        const a = poly[i]!, b = poly[(i + 1) % poly.length]!;
        if (sign * ((b.x - a.x) * (y - a.y) - (b.y - a.y) * (x - a.x)) < 0) inside = false;
      }
      if (inside) {
        sum += data[(y + ymin) * w + x + xmin]!;
        n++;
      }
    }
  }
  return n > 0 ? sum / n : 0;
}

/**
 * Text boxes from a DB probability map.
 * @param map the detector output for one image, `[h, w]` float32 in [0, 1].
 * @param srcWidth width of the source image the map was computed for, px (boxes are scaled to it).
 * @param srcHeight height of the source image, px.
 * @returns boxes in source pixels, in region order (not yet sorted for reading; see `sortBoxes`).
 */
export function dbPostprocess(map: ProbMap, srcWidth: number, srcHeight: number, opts: DbOptions = {}): DetBox[] {
  const thresh = opts.thresh ?? 0.3;
  const boxThresh = opts.boxThresh ?? 0.6;
  const unclipRatio = opts.unclipRatio ?? 1.5;
  const minSize = opts.minSize ?? 3;
  const maxCandidates = opts.maxCandidates ?? 1000;
  const { data, width, height } = map;
  const bitmap = new Uint8Array(width * height);
  for (let i = 0; i < bitmap.length; i++) bitmap[i] = data[i]! > thresh ? 1 : 0;
  const out: DetBox[] = [];
  for (const region of connectedRegions(bitmap, width, height, maxCandidates)) {
    const { box, sside } = miniBox(minAreaRect(region));
    if (sside < minSize) continue;
    const score = boxScoreFast(map, box);
    if (boxThresh > score) continue;
    const grown = miniBox(unclipRect(minAreaRect(box), unclipRatio));
    if (grown.sside < minSize + 2) continue;
    const scaled = grown.box.map((p) => ({
      x: Math.min(Math.max(Math.round((p.x / width) * srcWidth), 0), srcWidth),
      y: Math.min(Math.max(Math.round((p.y / height) * srcHeight), 0), srcHeight),
    }));
    // predict_det.py filter_tag_det_res: clockwise order, clip to the image, drop slivers.
    const ordered = orderClockwise(scaled).map((p) => ({
      x: Math.min(Math.max(p.x, 0), srcWidth - 1),
      y: Math.min(Math.max(p.y, 0), srcHeight - 1),
    }));
    const rw = Math.trunc(Math.hypot(ordered[0]!.x - ordered[1]!.x, ordered[0]!.y - ordered[1]!.y));
    const rh = Math.trunc(Math.hypot(ordered[0]!.x - ordered[3]!.x, ordered[0]!.y - ordered[3]!.y));
    if (rw <= 3 || rh <= 3) continue;
    out.push({ box: ordered, score });
  }
  return out;
}
