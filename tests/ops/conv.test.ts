/**
 * HWC convolutions: the C kernels (native/sf_conv.c: portable, AVX2 and AVX-512 builds) equal the TypeScript
 * reference (src/nn/conv.ts, the same float operations) bit for bit, and both agree with TF.js's
 * own CPU kernels (tf.conv2d / tf.depthwiseConv2d / tf.relu6 from @tensorflow/tfjs 4.22.0, an
 * independent implementation) to float32 rounding. Also: TF 'SAME' padding arithmetic against
 * TF.js output sizes, and typed errors for bad arguments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { conv2dRef, convOutputSize, depthwiseConv2dRef, tfSamePadding, type Conv2DShape } from '../../src/nn/conv.js';
import { conv2dNative, depthwiseConv2dNative } from '../../src/backends/cpu/conv-native.js';
import { native } from '../../src/backends/cpu/native.js';
import { ShapeError } from '../../src/core/errors.js';
import { gaussian } from './helpers.js';

await tf.setBackend('cpu');

interface Case { h: number; w: number; cin: number; cout: number; k: number; stride: number; pad: 'same' | 'valid'; act: number }
const CASES: Case[] = [
  { h: 9, w: 11, cin: 3, cout: 32, k: 3, stride: 2, pad: 'same', act: 6 }, // stem-like, odd sizes
  { h: 8, w: 8, cin: 3, cout: 8, k: 3, stride: 2, pad: 'same', act: -1 }, // even input: extra pad bottom/right
  { h: 7, w: 13, cin: 24, cout: 40, k: 1, stride: 1, pad: 'valid', act: 6 }, // pointwise, ow % 4 != 0
  { h: 5, w: 5, cin: 17, cout: 9, k: 3, stride: 1, pad: 'same', act: -1 },
  { h: 10, w: 6, cin: 5, cout: 7, k: 5, stride: 3, pad: 'valid', act: 6 },
];

function shapeOf(c: Case): Conv2DShape {
  const [pt, pb] = c.pad === 'same' ? tfSamePadding(c.h, c.k, c.stride) : [0, 0];
  const [pl, pr] = c.pad === 'same' ? tfSamePadding(c.w, c.k, c.stride) : [0, 0];
  return { h: c.h, w: c.w, cin: c.cin, cout: c.cout, kh: c.k, kw: c.k, strideH: c.stride, strideW: c.stride,
    padTop: pt, padLeft: pl, padBottom: pb, padRight: pr, actMax: c.act };
}

const sameBits = (a: Float32Array, b: Float32Array, what: string): void => {
  assert.equal(a.length, b.length, `${what}: length`);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i]) assert.fail(`${what}: element ${i}: ${a[i]} != ${b[i]}`);
};
const maxRel = (a: Float32Array | Float64Array, b: ArrayLike<number>): number => {
  let m = 0, scale = 1e-6;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m / scale;
};

function tfConv(x: Float32Array, w: Float32Array, b: Float32Array, c: Case, depthwise: boolean): Float32Array {
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, [1, c.h, c.w, c.cin]);
    let y = depthwise
      ? tf.depthwiseConv2d(xt, tf.tensor4d(w, [c.k, c.k, c.cin, 1]), c.stride, c.pad)
      : tf.conv2d(xt, tf.tensor4d(w, [c.k, c.k, c.cin, c.cout]), c.stride, c.pad);
    y = tf.add(y, tf.tensor1d(b));
    if (c.act === 6) y = tf.relu6(y);
    return y.dataSync() as Float32Array;
  });
}

/** Runs check once per native kernel path this CPU has (scalar, avx2, avx512), then restores the path. */
function onEveryPath(check: (path: string) => void): void {
  const k = native();
  const saved = k.getPath();
  try {
    for (const path of ['scalar', 'avx2', 'avx512'] as const) {
      if (!k.kernelInfo().paths.includes(path)) continue;
      k.setPath(path);
      check(path);
    }
  } finally {
    k.setPath(saved);
  }
}

for (const [i, c] of CASES.entries()) {
  test(`conv2d ${JSON.stringify(c)}: C == TS reference bit for bit (every path), ≈ TF.js`, () => {
    const s = shapeOf(c);
    const x = gaussian(c.h * c.w * c.cin, 100 + i);
    const w = gaussian(c.k * c.k * c.cin * c.cout, 200 + i, 0.3);
    const b = gaussian(c.cout, 300 + i);
    const ref = conv2dRef(x, w, b, s);
    onEveryPath((path) => sameBits(conv2dNative(x, w, b, s), ref, `conv2d/${path}`));
    const t = tfConv(x, w, b, c, false);
    const { oh, ow } = convOutputSize(s);
    assert.equal(t.length, oh * ow * c.cout, 'output size equals TF.js (TF SAME/VALID arithmetic)');
    assert.ok(maxRel(ref, t) < 1e-5, `vs TF.js: ${maxRel(ref, t)}`);
    const noBias = conv2dNative(x, w, null, s);
    sameBits(noBias, conv2dRef(x, w, null, s), 'conv2d without bias');
  });

  test(`depthwise conv2d ${JSON.stringify({ ...c, cout: c.cin })}: C == TS reference bit for bit, ≈ TF.js`, () => {
    const cc = { ...c, cout: c.cin };
    const s = shapeOf(cc);
    const x = gaussian(c.h * c.w * c.cin, 400 + i);
    const w = gaussian(c.k * c.k * c.cin, 500 + i, 0.5);
    const b = gaussian(c.cin, 600 + i);
    const ref = depthwiseConv2dRef(x, w, b, s);
    onEveryPath((path) => sameBits(depthwiseConv2dNative(x, w, b, s), ref, `dwconv2d/${path}`));
    const t = tfConv(x, w, b, cc, true);
    assert.equal(t.length, ref.length);
    assert.ok(maxRel(ref, t) < 1e-5, `vs TF.js: ${maxRel(ref, t)}`);
  });
}

test('a large conv (split over the thread pool) equals the reference', () => {
  const s: Conv2DShape = { h: 56, w: 56, cin: 24, cout: 144, kh: 1, kw: 1, strideH: 1, strideW: 1, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0, actMax: 6 };
  const x = gaussian(56 * 56 * 24, 7), w = gaussian(24 * 144, 8, 0.2), b = gaussian(144, 9);
  sameBits(conv2dNative(x, w, b, s), conv2dRef(x, w, b, s), 'pool conv');
  const d: Conv2DShape = { ...s, cin: 144, cout: 144, kh: 3, kw: 3, strideH: 2, strideW: 2, padTop: 0, padLeft: 0, padBottom: 1, padRight: 1 };
  const xd = gaussian(56 * 56 * 144, 10), wd = gaussian(9 * 144, 11);
  sameBits(depthwiseConv2dNative(xd, wd, b, d), depthwiseConv2dRef(xd, wd, b, d), 'pool dwconv');
});

test('TF SAME padding puts the extra pixel bottom/right', () => {
  assert.deepEqual(tfSamePadding(224, 3, 2), [0, 1]);
  assert.deepEqual(tfSamePadding(225, 3, 2), [1, 1]);
  assert.deepEqual(tfSamePadding(7, 3, 1), [1, 1]);
  assert.deepEqual(tfSamePadding(7, 1, 1), [0, 0]);
});

test('bad conv arguments give typed errors, not crashes', () => {
  const s: Conv2DShape = { h: 4, w: 4, cin: 2, cout: 3, kh: 3, kw: 3, strideH: 1, strideW: 1, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0, actMax: -1 };
  const x = new Float32Array(32), w = new Float32Array(54);
  const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;
  assert.throws(() => conv2dNative(x.subarray(1), w, null, s), code('ERR_SYNFLUX_ARG'));
  assert.throws(() => conv2dNative(x, w.subarray(1), null, s), code('ERR_SYNFLUX_ARG'));
  assert.throws(() => conv2dNative(x, w, new Float32Array(2), s), code('ERR_SYNFLUX_ARG'));
  assert.throws(() => conv2dNative(x, w, null, { ...s, strideH: 0 }), ShapeError);
  assert.throws(() => conv2dNative(x, w, null, s, new Float32Array(3)), code('ERR_SYNFLUX_ARG'));
  assert.throws(() => conv2dNative(x, w, null, { ...s, kh: 9 }), ShapeError);
  assert.throws(() => depthwiseConv2dNative(x, new Float32Array(18), null, s), code('ERR_SYNFLUX_ARG')); // cout != cin
  assert.throws(() => conv2dRef(x.subarray(2), w, null, s), ShapeError);
  const k = native() as unknown as { conv2d: (...a: unknown[]) => void };
  assert.throws(() => k.conv2d(x, w, null, new Float32Array(12), { ...s, h: 'x' }), code('ERR_SYNFLUX_ARG'));
  assert.throws(() => k.conv2d([1, 2], w, null, new Float32Array(12), s), code('ERR_SYNFLUX_ARG'));
});
