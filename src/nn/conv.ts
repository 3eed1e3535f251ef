/**
 * 2-D convolutions over channels-last (HWC) float32 feature maps — the TypeScript reference of
 * native/sf_conv.c (same float operations in the same order, so the two agree bit for bit) and
 * TF's padding arithmetic.
 *
 * Float operations of one output element (native/sf_conv.h): `acc = bias[c]` (or 0); for ky, kx
 * (taps outside the padded input skipped), ci in order: `acc = fround(acc + fround(x * w))`; then,
 * when `actMax >= 0`, `y = min(max(acc, 0), actMax)` (ReLU6 for 6, as `tf.relu6`).
 * Geometry (TF/Keras): `oh = floor((h + padTop + padBottom - kh) / strideH) + 1`, input pixel
 * `(oy * strideH + ky - padTop, ox * strideW + kx - padLeft)`.
 */
import { ShapeError } from '../core/errors.js';

/** Geometry of one convolution. Depthwise: `cout === cin`. `actMax < 0` = no activation. */
export interface Conv2DShape {
  readonly h: number;
  readonly w: number;
  readonly cin: number;
  readonly cout: number;
  readonly kh: number;
  readonly kw: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padTop: number;
  readonly padLeft: number;
  readonly padBottom: number;
  readonly padRight: number;
  readonly actMax: number;
}

/**
 * Output height and width of a convolution (floor division, TF 'VALID' on the padded input).
 * @throws ShapeError `CONV_BAD_SHAPE` (a non-integer or out-of-range field), `CONV_KERNEL_TOO_LARGE`
 *   (the kernel is larger than the padded input)
 */
export function convOutputSize(s: Conv2DShape): { oh: number; ow: number } {
  for (const [k, min] of [['h', 1], ['w', 1], ['cin', 1], ['cout', 1], ['kh', 1], ['kw', 1], ['strideH', 1], ['strideW', 1], ['padTop', 0], ['padLeft', 0], ['padBottom', 0], ['padRight', 0]] as const) {
    const v = s[k];
    if (!Number.isSafeInteger(v) || v < min) throw new ShapeError('CONV_BAD_SHAPE', `conv shape: ${k} must be an integer >= ${min}, got ${String(v)}`);
  }
  const ph = s.h + s.padTop + s.padBottom;
  const pw = s.w + s.padLeft + s.padRight;
  if (ph < s.kh || pw < s.kw) throw new ShapeError('CONV_KERNEL_TOO_LARGE', `kernel ${s.kh}x${s.kw} is larger than the padded input ${ph}x${pw}`);
  return { oh: Math.floor((ph - s.kh) / s.strideH) + 1, ow: Math.floor((pw - s.kw) / s.strideW) + 1 };
}

/**
 * TF 'SAME' padding along one axis (tensorflow/core/framework/kernel_shape_util.cc
 * `GetWindowedOutputSize`): output `ceil(n / stride)`, total padding
 * `max((out - 1) * stride + k - n, 0)`, the smaller half before, the extra pixel after
 * (bottom/right).
 * @returns `[before, after]` pixels
 */
export function tfSamePadding(n: number, k: number, stride: number): [number, number] {
  const out = Math.ceil(n / stride);
  const total = Math.max((out - 1) * stride + k - n, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

function check(name: string, x: Float32Array, w: Float32Array, bias: Float32Array | null, s: Conv2DShape, depthwise: boolean): { oh: number; ow: number } {
  const { oh, ow } = convOutputSize(s);
  if (depthwise && s.cout !== s.cin) throw new ShapeError('CONV_BAD_SHAPE', `${name}: depthwise needs cout === cin`);
  const wantW = depthwise ? s.kh * s.kw * s.cin : s.kh * s.kw * s.cin * s.cout;
  if (x.length !== s.h * s.w * s.cin) throw new ShapeError('CONV_BAD_SHAPE', `${name}: x has ${x.length} floats, want ${s.h * s.w * s.cin}`);
  if (w.length !== wantW) throw new ShapeError('CONV_BAD_SHAPE', `${name}: w has ${w.length} floats, want ${wantW}`);
  if (bias && bias.length !== s.cout) throw new ShapeError('CONV_BAD_SHAPE', `${name}: bias has ${bias.length} floats, want ${s.cout}`);
  return { oh, ow };
}

function activate(acc: number, actMax: number): number {
  if (actMax < 0) return acc;
  const v = acc > 0 ? acc : 0;
  return v < actMax ? v : Math.fround(actMax);
}

/**
 * Regular convolution, reference implementation.
 * @param x input `[h, w, cin]` float32 (HWC)
 * @param w kernel `[kh, kw, cin, cout]` float32 (TF HWIO layout)
 * @param bias `[cout]` or null
 * @returns output `[oh, ow, cout]` float32
 * @throws ShapeError on inconsistent lengths or a kernel larger than the padded input
 */
export function conv2dRef(x: Float32Array, w: Float32Array, bias: Float32Array | null, s: Conv2DShape): Float32Array {
  const { oh, ow } = check('conv2dRef', x, w, bias, s, false);
  const y = new Float32Array(oh * ow * s.cout);
  const acc = new Float32Array(s.cout);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      if (bias) acc.set(bias);
      else acc.fill(0);
      for (let ky = 0; ky < s.kh; ky++) {
        const iy = oy * s.strideH + ky - s.padTop;
        if (iy < 0 || iy >= s.h) continue;
        for (let kx = 0; kx < s.kw; kx++) {
          const ix = ox * s.strideW + kx - s.padLeft;
          if (ix < 0 || ix >= s.w) continue;
          const xo = (iy * s.w + ix) * s.cin;
          const wo = (ky * s.kw + kx) * s.cin * s.cout;
          for (let ci = 0; ci < s.cin; ci++) {
            const xv = x[xo + ci]!;
            const wr = wo + ci * s.cout;
            for (let co = 0; co < s.cout; co++) acc[co] = acc[co]! + Math.fround(xv * w[wr + co]!);
          }
        }
      }
      const yo = (oy * ow + ox) * s.cout;
      for (let co = 0; co < s.cout; co++) y[yo + co] = activate(acc[co]!, s.actMax);
    }
  }
  return y;
}

/**
 * Depthwise convolution (depth multiplier 1), reference implementation.
 * @param x input `[h, w, c]` float32 (HWC)
 * @param w kernel `[kh, kw, c]` float32 (TF `[kh, kw, c, 1]`)
 * @param bias `[c]` or null
 * @returns output `[oh, ow, c]` float32
 * @throws ShapeError on inconsistent lengths or a kernel larger than the padded input
 */
export function depthwiseConv2dRef(x: Float32Array, w: Float32Array, bias: Float32Array | null, s: Conv2DShape): Float32Array {
  const { oh, ow } = check('depthwiseConv2dRef', x, w, bias, s, true);
  const c = s.cin;
  const y = new Float32Array(oh * ow * c);
  const acc = new Float32Array(c);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      if (bias) acc.set(bias);
      else acc.fill(0);
      for (let ky = 0; ky < s.kh; ky++) {
        const iy = oy * s.strideH + ky - s.padTop;
        if (iy < 0 || iy >= s.h) continue;
        for (let kx = 0; kx < s.kw; kx++) {
          const ix = ox * s.strideW + kx - s.padLeft;
          if (ix < 0 || ix >= s.w) continue;
          const xo = (iy * s.w + ix) * c;
          const wo = (ky * s.kw + kx) * c;
          for (let i = 0; i < c; i++) acc[i] = acc[i]! + Math.fround(x[xo + i]! * w[wo + i]!);
        }
      }
      const yo = (oy * ow + ox) * c;
      for (let i = 0; i < c; i++) y[yo + i] = activate(acc[i]!, s.actMax);
    }
  }
  return y;
}
