/**
 * Image resampling exactly as llama.cpp's mtmd does it (tools/mtmd/mtmd-image.cpp `img_tool`:
 * `resize_pillow`, `resize` with padding, `crop`), which itself follows Pillow's
 * libImaging/Resample.c: a separable two-pass filter (horizontal, then vertical), per-output-pixel
 * coefficients normalised to sum 1, converted to 22-bit fixed point, integer accumulation with a
 * 0.5 rounding bias and clamping to [0, 255] after each pass. Bilinear (support 1), bicubic
 * (support 2, a = -0.5 as in Pillow) and Lanczos-3.
 *
 * Why not sharp/libvips: libvips' kernels (reduce/shrink, its own bicubic and lanczos3 with
 * different support handling and rounding) do not reproduce these integers, and every later
 * number (patch embeddings, tokens) depends on them. sharp is used only to decode
 * (src/preprocess/image.ts); all resampling, padding and cropping is this file.
 *
 * Images here are RGB uint8, interleaved, row-major: `data[(y * width + x) * 3 + c]`.
 */
import { RequestError } from '../core/errors.js';

/** An RGB image, 8 bits per channel, interleaved (`[H, W, 3]` row-major). */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** `width * height * 3` bytes. */
  readonly data: Uint8Array;
}

/** Resampling filter (clip-impl.h `resize_algo`). */
export type ResizeAlgo = 'bilinear' | 'bicubic' | 'lanczos';

/** Padding style when resizing into a box (clip-model.h `pad_style`): none = stretch. */
export type PadStyle = 'none' | 'ceil' | 'nearest';

const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);

function support(algo: ResizeAlgo): number {
  return algo === 'bilinear' ? 1 : algo === 'bicubic' ? 2 : 3;
}

function filter(algo: ResizeAlgo, x: number): number {
  if (algo === 'lanczos') {
    if (-3 <= x && x < 3) {
      const sinc = (v: number): number => (v === 0 ? 1 : Math.sin(v * Math.PI) / (v * Math.PI));
      return sinc(x) * sinc(x / 3);
    }
    return 0;
  }
  if (x < 0) x = -x;
  if (algo === 'bilinear') return x < 1 ? 1 - x : 0;
  const a = -0.5;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Coeffs {
  ksize: number;
  /** [out*2]: first input index, count. */
  bounds: Int32Array;
  /** [out*ksize] fixed-point weights. */
  weights: Int32Array;
}

/** mtmd-image.cpp `precompute_weights` (double arithmetic, Pillow's +/-0.5 then truncation). */
function precompute(algo: ResizeAlgo, inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const sup = support(algo) * filterscale;
  const ksize = Math.ceil(sup) * 2 + 1;
  const pre = new Float64Array(outSize * ksize);
  const bounds = new Int32Array(outSize * 2);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let ww = 0;
    const ss = 1 / filterscale;
    let xmin = Math.trunc(center - sup + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + sup + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let x = 0;
    for (; x < xmax; x++) {
      const w = filter(algo, (x + xmin - center + 0.5) * ss);
      pre[xx * ksize + x] = w;
      ww += w;
    }
    for (x = 0; x < xmax; x++) if (ww !== 0) pre[xx * ksize + x] = pre[xx * ksize + x]! / ww;
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  const fxp = 2 ** PRECISION_BITS;
  const weights = new Int32Array(outSize * ksize);
  for (let i = 0; i < weights.length; i++) {
    const p = pre[i]!;
    weights[i] = Math.trunc(p * fxp + (p < 0 ? -0.5 : 0.5));
  }
  return { ksize, bounds, weights };
}

const clip8 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

function horizontal(src: Uint8Array, inW: number, inH: number, outW: number, c: Coeffs): Uint8Array {
  const out = new Uint8Array(outW * inH * 3);
  const { ksize, bounds, weights } = c;
  for (let y = 0; y < inH; y++) {
    const row = y * inW * 3;
    const drow = y * outW * 3;
    for (let xx = 0; xx < outW; xx++) {
      const xmin = bounds[xx * 2]!;
      const xcnt = bounds[xx * 2 + 1]!;
      const k = xx * ksize;
      let s0 = HALF, s1 = HALF, s2 = HALF;
      let p = row + xmin * 3;
      for (let x = 0; x < xcnt; x++, p += 3) {
        const w = weights[k + x]!;
        s0 += src[p]! * w;
        s1 += src[p + 1]! * w;
        s2 += src[p + 2]! * w;
      }
      // int32 arithmetic shift as in C (sums stay within int32 by the 2 bits of headroom)
      out[drow + xx * 3] = clip8(s0 >> PRECISION_BITS);
      out[drow + xx * 3 + 1] = clip8(s1 >> PRECISION_BITS);
      out[drow + xx * 3 + 2] = clip8(s2 >> PRECISION_BITS);
    }
  }
  return out;
}

function vertical(src: Uint8Array, w: number, outH: number, c: Coeffs): Uint8Array {
  const n = w * 3;
  const out = new Uint8Array(n * outH);
  const acc = new Float64Array(n);
  const { ksize, bounds, weights } = c;
  for (let yy = 0; yy < outH; yy++) {
    const ymin = bounds[yy * 2]!;
    const ycnt = bounds[yy * 2 + 1]!;
    acc.fill(HALF);
    for (let y = 0; y < ycnt; y++) {
      const wt = weights[yy * ksize + y]!;
      const r = (ymin + y) * n;
      for (let i = 0; i < n; i++) acc[i] = acc[i]! + src[r + i]! * wt;
    }
    const d = yy * n;
    for (let i = 0; i < n; i++) out[d + i] = clip8(acc[i]! >> PRECISION_BITS);
  }
  return out;
}

/**
 * Resizes to exactly `width`×`height` (no aspect preservation), mtmd-image.cpp `resize_pillow`.
 * @throws RequestError `IMAGE_RESIZE_RANGE` when a target side is outside 1..65536.
 */
export function resizePillow(img: RgbImage, width: number, height: number, algo: ResizeAlgo): RgbImage {
  if (!(width > 0 && width <= 65536 && height > 0 && height <= 65536) || !Number.isInteger(width) || !Number.isInteger(height)) {
    throw new RequestError('IMAGE_RESIZE_RANGE', `resize target ${width}x${height} is out of range (1..65536)`);
  }
  const needH = width !== img.width;
  const needV = height !== img.height;
  let data = img.data;
  if (needH) data = horizontal(data, img.width, img.height, width, precompute(algo, img.width, width));
  if (needV) data = vertical(data, width, height, precompute(algo, img.height, height));
  if (!needH && !needV) data = img.data.slice();
  return { width, height, data };
}

/**
 * Resizes into a `width`×`height` box, mtmd-image.cpp `img_tool::resize`: `pad = 'none'` stretches;
 * otherwise the image is scaled by min(scale_w, scale_h) (sides rounded up for `ceil`, to nearest
 * for `nearest`), centred, and the rest filled with `padColor`.
 */
export function resizeInto(img: RgbImage, width: number, height: number, algo: ResizeAlgo, pad: PadStyle = 'ceil',
  padColor: readonly [number, number, number] = [0, 0, 0]): RgbImage {
  if (width === img.width && height === img.height) return { width, height, data: img.data.slice() };
  if (pad === 'none') return resizePillow(img, width, height, algo);
  const f = Math.fround;
  const scale = Math.min(f(width / img.width), f(height / img.height));
  const rnd = pad === 'nearest' ? Math.round : Math.ceil;
  // float products as in C (float * int → float)
  const nw = Math.min(Math.trunc(rnd(f(img.width * scale))), width);
  const nh = Math.min(Math.trunc(rnd(f(img.height * scale))), height);
  const resized = resizePillow(img, nw, nh, algo);
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) out.set(padColor, i * 3);
  const ox = pad === 'nearest' ? Math.round((width - nw) / 2) : Math.trunc((width - nw) / 2);
  const oy = pad === 'nearest' ? Math.round((height - nh) / 2) : Math.trunc((height - nh) / 2);
  for (let y = 0; y < nh; y++) {
    const dy = y + oy;
    if (dy < 0 || dy >= height) continue;
    for (let x = 0; x < nw; x++) {
      const dx = x + ox;
      if (dx < 0 || dx >= width) continue;
      const s = (y * nw + x) * 3, d = (dy * width + dx) * 3;
      out[d] = resized.data[s]!; out[d + 1] = resized.data[s + 1]!; out[d + 2] = resized.data[s + 2]!;
    }
  }
  return { width, height, data: out };
}

/** Crops `w`×`h` at (x, y) (mtmd-image.cpp `img_tool::crop`). @throws RequestError `IMAGE_CROP_RANGE`. */
export function crop(img: RgbImage, x: number, y: number, w: number, h: number): RgbImage {
  if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > img.width || y + h > img.height) {
    throw new RequestError('IMAGE_CROP_RANGE', `crop ${w}x${h}+${x}+${y} outside a ${img.width}x${img.height} image`);
  }
  const out = new Uint8Array(w * h * 3);
  for (let r = 0; r < h; r++) out.set(img.data.subarray(((y + r) * img.width + x) * 3, ((y + r) * img.width + x + w) * 3), r * w * 3);
  return { width: w, height: h, data: out };
}
