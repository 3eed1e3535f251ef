/**
 * Typed access to the native HWC convolutions (native/sf_conv.c, bound by sf_conv_napi.c): same
 * float operations as the reference in src/nn/conv.ts, bit for bit, on every kernel path.
 */
import { BackendError } from '../../core/errors.js';
import { convOutputSize, type Conv2DShape } from '../../nn/conv.js';
import { native } from './native.js';

/** The conv entry points of the addon. */
interface ConvAddon {
  conv2d(x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, shape: Conv2DShape): void;
  dwconv2d(x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, shape: Conv2DShape): void;
}

function addon(): ConvAddon {
  const n = native() as unknown as Partial<ConvAddon>;
  if (typeof n.conv2d !== 'function' || typeof n.dwconv2d !== 'function') {
    throw new BackendError('NATIVE_STALE', 'the native addon has no conv2d/dwconv2d; rebuild it with `node scripts/build-native.mjs --force`');
  }
  return n as ConvAddon;
}

/**
 * Regular convolution in C. `x` `[h, w, cin]`, `w` `[kh, kw, cin, cout]` (HWIO), `bias` `[cout]`
 * or null; returns `[oh, ow, cout]` (a new array unless `out` is given, which must have that length).
 * @throws BackendError when the addon is missing/stale; ShapeError (kernel larger than the padded
 *   input); the addon's RangeError/TypeError (`ERR_SYNFLUX_ARG`) on inconsistent lengths
 */
export function conv2dNative(x: Float32Array, w: Float32Array, bias: Float32Array | null, s: Conv2DShape, out?: Float32Array): Float32Array {
  const { oh, ow } = convOutputSize(s);
  const y = out ?? new Float32Array(oh * ow * s.cout);
  addon().conv2d(x, w, bias, y, s);
  return y;
}

/**
 * Depthwise convolution in C. `x` `[h, w, c]`, `w` `[kh, kw, c]`, `bias` `[c]` or null; returns
 * `[oh, ow, c]` (a new array unless `out` is given).
 * @throws as {@link conv2dNative}
 */
export function depthwiseConv2dNative(x: Float32Array, w: Float32Array, bias: Float32Array | null, s: Conv2DShape, out?: Float32Array): Float32Array {
  const { oh, ow } = convOutputSize(s);
  const y = out ?? new Float32Array(oh * ow * s.cout);
  addon().dwconv2d(x, w, bias, y, s);
  return y;
}
