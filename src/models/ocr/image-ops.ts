/**
 * The pixel operations PP-OCR's inference code does with OpenCV, on RGB uint8 images
 * ({@link RgbImage}, `[H, W, 3]` interleaved):
 * - `cv2.resize(..., INTER_LINEAR)`: bilinear with half-pixel centres and edge clamping, no
 *   antialiasing (OpenCV imgproc/src/resize.cpp; OpenCV rounds its uint8 weights to 11 bits, we
 *   interpolate in float64 and round, so a pixel may differ by one level);
 * - `cv2.getPerspectiveTransform` + `cv2.warpPerspective(..., INTER_CUBIC, BORDER_REPLICATE)` as
 *   used by PaddleOCR's `get_rotate_crop_image` (tools/infer/utility.py): bicubic with OpenCV's
 *   a = −0.75 kernel (imgproc/src/imgwarp.cpp `interpolateCubic`); OpenCV quantizes the source
 *   coordinates to 1/32 px and its weights to fixed point, we use exact float coordinates.
 * - `np.rot90` (counter-clockwise quarter turn) for tall crops.
 */
import type { RgbImage } from '../../preprocess/resize.js';

/** src/preprocess's RGB image (what `decodeImage` returns), re-exported for the OCR modules. */
export type { RgbImage };

/** A 2-D point in pixel coordinates (x right, y down). */
export interface Point {
  x: number;
  y: number;
}

/**
 * Bilinear resize with OpenCV's INTER_LINEAR sampling grid: source coordinate
 * `sx = (dx + 0.5) · srcW / dstW − 0.5`, clamped to the image.
 * @returns a new `[dstH, dstW, 3]` image.
 */
export function resizeBilinear(img: RgbImage, dstW: number, dstH: number): RgbImage {
  const { width: sw, height: sh, data: src } = img;
  const out = new Uint8Array(dstW * dstH * 3);
  const fxScale = sw / dstW;
  const fyScale = sh / dstH;
  const x0 = new Int32Array(dstW), x1 = new Int32Array(dstW), wx = new Float64Array(dstW);
  for (let x = 0; x < dstW; x++) {
    let fx = (x + 0.5) * fxScale - 0.5;
    let ix = Math.floor(fx);
    fx -= ix;
    if (ix < 0) { ix = 0; fx = 0; }
    if (ix >= sw - 1) { ix = sw - 1; fx = 0; }
    x0[x] = ix; x1[x] = Math.min(ix + 1, sw - 1); wx[x] = fx;
  }
  for (let y = 0; y < dstH; y++) {
    let fy = (y + 0.5) * fyScale - 0.5;
    let iy = Math.floor(fy);
    fy -= iy;
    if (iy < 0) { iy = 0; fy = 0; }
    if (iy >= sh - 1) { iy = sh - 1; fy = 0; }
    const r0 = iy * sw * 3, r1 = Math.min(iy + 1, sh - 1) * sw * 3;
    for (let x = 0; x < dstW; x++) {
      const a = x0[x]! * 3, b = x1[x]! * 3, u = wx[x]!;
      const o = (y * dstW + x) * 3;
      for (let c = 0; c < 3; c++) {
        const top = src[r0 + a + c]! * (1 - u) + src[r0 + b + c]! * u;
        const bot = src[r1 + a + c]! * (1 - u) + src[r1 + b + c]! * u;
        out[o + c] = Math.round(top * (1 - fy) + bot * fy);
      }
    }
  }
  return { width: dstW, height: dstH, data: out };
}

/**
 * Solves the 3×3 homography H (h33 = 1) with H·src[i] ∝ dst[i] for four point pairs, as
 * `cv2.getPerspectiveTransform` does (8×8 linear system, Gaussian elimination with partial pivoting).
 * @returns H row-major (9 numbers), or null when the points are degenerate (three collinear).
 */
export function perspectiveTransform(src: readonly Point[], dst: readonly Point[]): Float64Array | null {
  const A: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const { x, y } = src[i]!, { x: u, y: v } = dst[i]!;
    A.push([x, y, 1, 0, 0, 0, -x * u, -y * u, u]);
    A.push([0, 0, 0, x, y, 1, -x * v, -y * v, v]);
  }
  for (let c = 0; c < 8; c++) {
    let p = c;
    for (let r = c + 1; r < 8; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[p]![c]!)) p = r;
    if (Math.abs(A[p]![c]!) < 1e-12) return null;
    [A[c], A[p]] = [A[p]!, A[c]!];
    const row = A[c]!;
    for (let r = 0; r < 8; r++) {
      if (r === c) continue;
      const f = A[r]![c]! / row[c]!;
      if (f !== 0) for (let k = c; k < 9; k++) A[r]![k]! -= f * row[k]!;
    }
  }
  const h = new Float64Array(9);
  for (let i = 0; i < 8; i++) h[i] = A[i]![8]! / A[i]![i]!;
  h[8] = 1;
  return h;
}

/**
 * Crops the quadrilateral `quad` (top-left, top-right, bottom-right, bottom-left) out of `img`
 * and rectifies it, as PaddleOCR's `get_rotate_crop_image`: output width = ⌊max(|p0p1|, |p3p2|)⌋,
 * height = ⌊max(|p0p3|, |p1p2|)⌋, perspective-warped with replicated borders; a crop at least
 * 1.5 times taller than wide is turned a quarter counter-clockwise (`np.rot90`).
 * @returns the crop, or null when the quad is degenerate (zero width/height or collinear corners).
 */
export function cropQuad(img: RgbImage, quad: readonly Point[]): RgbImage | null {
  const d = (a: Point, b: Point): number => Math.hypot(a.x - b.x, a.y - b.y);
  const [p0, p1, p2, p3] = quad as [Point, Point, Point, Point];
  const w = Math.trunc(Math.max(d(p0, p1), d(p2, p3)));
  const h = Math.trunc(Math.max(d(p0, p3), d(p1, p2)));
  if (w < 1 || h < 1) return null;
  // Maps output pixels back into the source (the inverse of cv2's M, solved directly).
  const H = perspectiveTransform([{ x: 0, y: 0 }, { x: w, y: 0 }, { x: w, y: h }, { x: 0, y: h }], quad);
  if (!H) return null;
  const { width: sw, height: sh, data: src } = img;
  const out = new Uint8Array(w * h * 3);
  const wx = new Float64Array(4), wy = new Float64Array(4);
  const xi = new Int32Array(4), yi = new Int32Array(4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const den = H[6]! * x + H[7]! * y + H[8]!;
      const sx = (H[0]! * x + H[1]! * y + H[2]!) / den;
      const sy = (H[3]! * x + H[4]! * y + H[5]!) / den;
      const ix = Math.floor(sx), iy = Math.floor(sy);
      cubicWeights(sx - ix, wx);
      cubicWeights(sy - iy, wy);
      for (let k = 0; k < 4; k++) {
        xi[k] = Math.min(Math.max(ix - 1 + k, 0), sw - 1); // BORDER_REPLICATE
        yi[k] = Math.min(Math.max(iy - 1 + k, 0), sh - 1);
      }
      const o = (y * w + x) * 3;
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let j = 0; j < 4; j++) {
          const row = yi[j]! * sw;
          let r = 0;
          for (let i = 0; i < 4; i++) r += src[(row + xi[i]!) * 3 + c]! * wx[i]!;
          acc += r * wy[j]!;
        }
        out[o + c] = Math.min(255, Math.max(0, Math.round(acc)));
      }
    }
  }
  const crop = { width: w, height: h, data: out };
  return h / w >= 1.5 ? rot90(crop) : crop;
}

/** OpenCV's bicubic weights for fractional offset t ∈ [0, 1) (Keys kernel, a = −0.75), taps at −1, 0, 1, 2. */
function cubicWeights(t: number, w: Float64Array): void {
  const A = -0.75;
  w[0] = ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A;
  w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
  w[2] = ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1;
  w[3] = 1 - w[0] - w[1] - w[2];
}

/** `np.rot90(img)`: a quarter turn counter-clockwise; `[H, W, 3]` → `[W, H, 3]`. */
export function rot90(img: RgbImage): RgbImage {
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(w * h * 3);
  // out[i][j] = in[j][w - 1 - i]
  for (let i = 0; i < w; i++) {
    for (let j = 0; j < h; j++) {
      const s = (j * w + (w - 1 - i)) * 3, o = (i * h + j) * 3;
      out[o] = data[s]!; out[o + 1] = data[s + 1]!; out[o + 2] = data[s + 2]!;
    }
  }
  return { width: h, height: w, data: out };
}

/**
 * Writes `img` as float32 CHW into `out` at channel stride `plane` and row stride `rowStride`,
 * in BGR channel order (PaddleOCR reads images with `cv2.imread`, which yields BGR, and its
 * models were trained on BGR), computing `(v / 255 − mean[c]) / std[c]` per channel c of the BGR
 * image (PaddleOCR ppocr/data/imaugment/operators.py `NormalizeImage`, order `hwc`).
 */
export function writeBgrChw(
  img: RgbImage,
  out: Float32Array,
  offset: number,
  plane: number,
  rowStride: number,
  mean: readonly [number, number, number],
  std: readonly [number, number, number],
): void {
  const { width: w, height: h, data } = img;
  for (let c = 0; c < 3; c++) {
    const srcC = 2 - c; // BGR channel c comes from RGB channel 2 - c
    const m = mean[c]!, s = std[c]!;
    const base = offset + c * plane;
    for (let y = 0; y < h; y++) {
      const o = base + y * rowStride;
      const r = y * w * 3 + srcC;
      for (let x = 0; x < w; x++) out[o + x] = (data[r + x * 3]! / 255 - m) / s;
    }
  }
}
