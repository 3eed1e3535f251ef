/**
 * Plane geometry for DB text boxes, replacing the OpenCV / pyclipper / Shapely calls of
 * PaddleOCR's ppocr/postprocess/db_postprocess.py and tools/infer/predict_system.py:
 * convex hull (Andrew's monotone chain), minimum-area rectangle (`cv2.minAreaRect`, by rotating
 * an edge of the hull: the optimal rectangle has a side collinear with a hull edge — Freeman &
 * Shapira 1975), `get_mini_boxes` corner order, the `unclip` offset and box sorting.
 */
import type { Point } from './image-ops.js';

/** A rotated rectangle: centre, side lengths along `angle` (radians) and across it. */
export interface RotatedRect {
  cx: number;
  cy: number;
  /** Side along the direction `angle`. */
  w: number;
  /** Side across it. */
  h: number;
  /** Direction of the `w` side, radians. */
  angle: number;
}

const cross = (o: Point, a: Point, b: Point): number => (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);

/**
 * Convex hull, counter-clockwise in a y-up frame (Andrew's monotone chain), without collinear points.
 * @returns the hull vertices (1 or 2 points for degenerate inputs; empty for no points).
 */
export function convexHull(points: readonly Point[]): Point[] {
  const p = [...points].sort((a, b) => a.x - b.x || a.y - b.y);
  if (p.length <= 2) return p;
  const lower: Point[] = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, q) <= 0) lower.pop();
    lower.push(q);
  }
  const upper: Point[] = [];
  for (let i = p.length - 1; i >= 0; i--) {
    const q = p[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, q) <= 0) upper.pop();
    upper.push(q);
  }
  lower.pop();
  upper.pop();
  return lower.concat(upper);
}

/**
 * Minimum-area enclosing rectangle of a point set (what `cv2.minAreaRect` returns, up to the
 * choice of which side is called width). Points collapse to a zero-size rectangle.
 */
export function minAreaRect(points: readonly Point[]): RotatedRect {
  const hull = convexHull(points);
  if (hull.length === 0) return { cx: 0, cy: 0, w: 0, h: 0, angle: 0 };
  if (hull.length === 1) return { cx: hull[0]!.x, cy: hull[0]!.y, w: 0, h: 0, angle: 0 };
  let best: RotatedRect | undefined;
  let bestArea = Infinity;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i]!, b = hull[(i + 1) % hull.length]!;
    const len = Math.hypot(b.x - a.x, b.y - a.y);
    if (len === 0) continue;
    const ux = (b.x - a.x) / len, uy = (b.y - a.y) / len; // along the edge
    let minU = Infinity, maxU = -Infinity, minV = Infinity, maxV = -Infinity;
    for (const q of hull) {
      const u = q.x * ux + q.y * uy, v = -q.x * uy + q.y * ux;
      if (u < minU) minU = u;
      if (u > maxU) maxU = u;
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea - 1e-9) {
      bestArea = area;
      const cu = (minU + maxU) / 2, cv = (minV + maxV) / 2;
      best = { cx: cu * ux - cv * uy, cy: cu * uy + cv * ux, w: maxU - minU, h: maxV - minV, angle: Math.atan2(uy, ux) };
    }
  }
  return best!;
}

/** The four corners of a rotated rectangle (any order). */
export function rectCorners(r: RotatedRect): Point[] {
  const ux = Math.cos(r.angle), uy = Math.sin(r.angle);
  const hw = r.w / 2, hh = r.h / 2;
  return [
    [-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh],
  ].map(([a, b]) => ({ x: r.cx + a! * ux - b! * uy, y: r.cy + a! * uy + b! * ux }));
}

/**
 * PaddleOCR `get_mini_boxes`: corners of the min-area rectangle sorted by x, then ordered
 * top-left, top-right, bottom-right, bottom-left; plus the shorter side.
 */
export function miniBox(r: RotatedRect): { box: Point[]; sside: number } {
  const p = rectCorners(r).sort((a, b) => a.x - b.x);
  const [i1, i4] = p[1]!.y > p[0]!.y ? [0, 1] : [1, 0];
  const [i2, i3] = p[3]!.y > p[2]!.y ? [2, 3] : [3, 2];
  return { box: [p[i1]!, p[i2]!, p[i3]!, p[i4]!], sside: Math.min(r.w, r.h) };
}

/**
 * DB's `unclip` of a rectangle followed by `get_mini_boxes`: PaddleOCR offsets the box polygon
 * outward by `d = area · unclipRatio / perimeter` (the DB paper's D' = A'·r / L', Liao et al.
 * 2020, eq. 10) with pyclipper's round joins, then takes the min-area rectangle of the result.
 * For a rectangle that rectangle is exactly the original one grown by d on every side (the round
 * corners stay inside it), which is what this returns.
 */
export function unclipRect(r: RotatedRect, unclipRatio: number): RotatedRect {
  const area = r.w * r.h;
  const perim = 2 * (r.w + r.h);
  const d = perim > 0 ? (area * unclipRatio) / perim : 0;
  return { ...r, w: r.w + 2 * d, h: r.h + 2 * d };
}

/**
 * PaddleOCR `order_points_clockwise`: the two left-most points sorted by y give top-left and
 * bottom-left, the two right-most give top-right and bottom-right; returns [tl, tr, br, bl].
 */
export function orderClockwise(pts: readonly Point[]): Point[] {
  const s = [...pts].sort((a, b) => a.x - b.x);
  const [tl, bl] = [s[0]!, s[1]!].sort((a, b) => a.y - b.y) as [Point, Point];
  const [tr, br] = [s[2]!, s[3]!].sort((a, b) => a.y - b.y) as [Point, Point];
  return [tl, tr, br, bl];
}

/**
 * PaddleOCR `sorted_boxes` (tools/infer/predict_system.py): sort by the top-left corner's (y, x),
 * then let a box move before its predecessors while their top-left y differ by < 10 px and it
 * lies to their left (reading order within a line).
 */
export function sortBoxes<T extends { box: readonly Point[] }>(items: readonly T[]): T[] {
  const b = [...items].sort((p, q) => p.box[0]!.y - q.box[0]!.y || p.box[0]!.x - q.box[0]!.x);
  for (let i = 0; i < b.length - 1; i++) {
    for (let j = i; j >= 0; j--) {
      if (Math.abs(b[j + 1]!.box[0]!.y - b[j]!.box[0]!.y) < 10 && b[j + 1]!.box[0]!.x < b[j]!.box[0]!.x) {
        [b[j], b[j + 1]] = [b[j + 1]!, b[j]!];
      } else break;
    }
  }
  return b;
}
