/**
 * MobileNetV2 (nsfwjs) input preprocessing: RGB bytes → normalized float32 `[S, S, 3]` (HWC), as
 * nsfwjs 4.4.0 `NSFWJS.infer` does it (dist/cjs/core.js):
 *   1. `normalized = img.toFloat().div(255)` — here generalized to `(rgb - mean) / std` with the
 *      model's mean/std (mean 0, std 255 for nsfwjs, which is the same float operation);
 *   2. if the image is not already S×S: `tf.image.resizeBilinear(normalized, [S, S], alignCorners = true)`
 *      — no aspect-preserving crop or pad, the image is stretched;
 * with tf.image.resizeBilinear's CPU arithmetic (tfjs-backend-cpu 4.22.0 kernels/ResizeBilinear.ts,
 * halfPixelCenters = false): `ratio = (in - 1) / (S - 1)`, source `f = ratio * r`,
 * `lo = floor(f)`, `hi = min(in - 1, ceil(f))`, `frac = f - lo`, then
 * `top = tl + (tr - tl) * cf`, `bottom = bl + (br - bl) * cf`, `v = top + (bottom - top) * rf`
 * in float64 from float32 inputs, stored as float32.
 * Decoding (JPEG/PNG/WebP → RGB bytes, alpha dropped, grey expanded) is the caller's (sharp).
 */
import { ShapeError } from '../../core/errors.js';

/** An 8-bit RGB image, rows top to bottom, `width * height * 3` bytes. */
export interface RgbBytes {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * Normalizes an RGB image per channel: `fround(fround(rgb - mean) / std)`.
 * @returns float32 `[height, width, 3]`
 * @throws ShapeError when `data` is not `width * height * 3` bytes
 */
export function normalizeRgb(img: RgbBytes, mean: readonly number[], std: readonly number[]): Float32Array {
  const n = img.width * img.height;
  if (!Number.isInteger(n) || n <= 0 || img.data.length !== n * 3) {
    throw new ShapeError('IMAGE_BAD_SHAPE', `image data has ${img.data.length} bytes, want ${img.width}×${img.height}×3`);
  }
  const out = new Float32Array(n * 3);
  const m = mean.map((v) => Math.fround(v));
  for (let i = 0; i < n * 3; i++) {
    const c = i % 3;
    out[i] = Math.fround(img.data[i]! - m[c]!) / std[c]!;
  }
  return out;
}

/**
 * `tf.image.resizeBilinear(x, [outH, outW], alignCorners = true)` for one HWC float32 image, with
 * TF.js's CPU kernel arithmetic (see the file header).
 * @param x float32 `[h, w, c]`
 * @returns float32 `[outH, outW, c]`
 */
export function resizeBilinearAlignCorners(x: Float32Array, h: number, w: number, c: number, outH: number, outW: number): Float32Array {
  if (x.length !== h * w * c) throw new ShapeError('IMAGE_BAD_SHAPE', `resize input has ${x.length} floats, want ${h}×${w}×${c}`);
  const out = new Float32Array(outH * outW * c);
  const rRatio = (outH > 1 ? h - 1 : h) / (outH > 1 ? outH - 1 : outH);
  const cRatio = (outW > 1 ? w - 1 : w) / (outW > 1 ? outW - 1 : outW);
  let o = 0;
  for (let r = 0; r < outH; r++) {
    const fr = rRatio * r;
    const r0 = Math.max(0, Math.floor(fr));
    const rf = fr - r0;
    const r1 = Math.min(h - 1, Math.ceil(fr));
    for (let col = 0; col < outW; col++) {
      const fc = cRatio * col;
      const c0 = Math.max(0, Math.floor(fc));
      const cf = fc - c0;
      const c1 = Math.min(w - 1, Math.ceil(fc));
      const tl = (r0 * w + c0) * c, tr = (r0 * w + c1) * c, bl = (r1 * w + c0) * c, br = (r1 * w + c1) * c;
      for (let d = 0; d < c; d++) {
        const top = x[tl + d]! + (x[tr + d]! - x[tl + d]!) * cf;
        const bottom = x[bl + d]! + (x[br + d]! - x[bl + d]!) * cf;
        out[o++] = top + (bottom - top) * rf;
      }
    }
  }
  return out;
}

/**
 * The whole nsfwjs preprocessing: normalize, then (when the image is not `size`×`size`) resize
 * bilinearly with aligned corners.
 * @returns float32 `[size, size, 3]` (HWC), ready for {@link MobileNetV2.forward}
 * @throws ShapeError on inconsistent image data
 */
export function preprocessMobileNetV2(img: RgbBytes, size: number, mean: readonly number[], std: readonly number[]): Float32Array {
  const norm = normalizeRgb(img, mean, std);
  if (img.width === size && img.height === size) return norm;
  return resizeBilinearAlignCorners(norm, img.height, img.width, 3, size, size);
}
