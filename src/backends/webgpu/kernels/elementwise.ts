/**
 * Element-wise kernels on WebGPU over float32 buffers:
 * - `add`, `mul`: y = a ∘ b with b broadcast by index modulo its length bn (residual adds, biases,
 *   norm weights: ggml_add / ggml_mul broadcasting rows);
 * - `scale`: y = a · s (ggml_scale);
 * - `silu`, `gelu`: y = act(a); `swiglu`, `geglu`: y = act(a) · b (Shazeer 2020). SiLU
 *   x/(1+e^−x); GELU the tanh approximation (Hendrycks & Gimpel 2016), saturated as ggml's table
 *   (x ≤ −10 → 0, x ≥ 10 → x). `geglu` evaluates GELU as ggml-cpu's GGML_GELU_FP16 table does: x
 *   rounded to F16, GELU of that, the result rounded to F16 (pack2x16float); `gelu` is unrounded;
 * - `copy`: y[yOff + i] = a[aOff + i] (writes K/V rows into the caches).
 * y may be a (in place); y may not be b.
 */
import type { WebGPUDevice } from '../device.js';
import { Params } from '../device.js';
import type { GPUBufferLike } from '../gpu-types.js';
import type { KernelSource } from '../pipeline-cache.js';
import { placeholder } from './norm.js';
import { BackendError } from '../../../core/errors.js';

/** Element-wise operation names. */
export type ElementwiseOp = 'add' | 'mul' | 'scale' | 'silu' | 'gelu' | 'swiglu' | 'geglu' | 'copy';

const EXPR: Record<ElementwiseOp, string> = {
  add: 'a + B[p.bOff + i % p.bn]',
  mul: 'a * B[p.bOff + i % p.bn]',
  scale: 'a * p.s',
  silu: 'silu(a)',
  gelu: 'gelu(a)',
  swiglu: 'silu(a) * B[p.bOff + i]',
  geglu: 'gelu16(a) * B[p.bOff + i]',
  copy: 'a',
};
const BINARY: ReadonlySet<ElementwiseOp> = new Set(['add', 'mul', 'swiglu', 'geglu']);

function wgsl(op: ElementwiseOp, inplace: boolean): string {
  return `struct P { n: u32, bn: u32, s: f32, aOff: u32, bOff: u32, yOff: u32, gridX: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, ${inplace ? 'read_write' : 'read'}> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
${inplace ? '' : '@group(0) @binding(3) var<storage, read_write> Y: array<f32>;'}
fn silu(x: f32) -> f32 { return x / (1.0 + exp(-x)); }
fn gelu(x: f32) -> f32 {
  if (x <= -10.0) { return 0.0; }
  if (x >= 10.0) { return x; }
  return 0.5 * x * (1.0 + tanh(0.7978845608028654 * x * (1.0 + 0.044715 * x * x)));
}
fn r16(x: f32) -> f32 { return unpack2x16float(pack2x16float(vec2<f32>(x, 0.0))).x; }
fn gelu16(x: f32) -> f32 {
  if (x <= -10.0) { return 0.0; }
  if (x >= 10.0) { return x; }
  return r16(gelu(r16(x)));
}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * p.gridX) * 256u + lid;
  _ = B[0];
  if (i >= p.n) { return; }
  let a = A[p.aOff + i];
  ${inplace ? 'A' : 'Y'}[p.yOff + i] = ${EXPR[op]};
}`;
}

const cache = new Map<string, KernelSource>();

/** Operands of an element-wise op (offsets in elements). */
export interface ElementwiseArgs {
  /** Elements to produce. */
  n: number;
  /** Broadcast length of b for add/mul (default n). */
  bn?: number;
  /** Scalar of `scale`. */
  s?: number;
  aOff?: number;
  bOff?: number;
  yOff?: number;
}

/**
 * Records y = op(a[, b]).
 * @throws BackendError `WEBGPU_BAD_SHAPE` when a buffer is too small, b is missing for a binary
 *   op, y is b, or an in-place call has yOff ≠ aOff.
 */
export function elementwise(dev: WebGPUDevice, op: ElementwiseOp, a: GPUBufferLike, b: GPUBufferLike | null, y: GPUBufferLike, args: ElementwiseArgs): void {
  const aOff = args.aOff ?? 0, bOff = args.bOff ?? 0, yOff = args.yOff ?? 0;
  const n = args.n, bn = args.bn ?? n;
  const binary = BINARY.has(op);
  if (binary && !b) throw new BackendError('WEBGPU_BAD_SHAPE', `${op} needs a second operand`);
  if (b && y === b) throw new BackendError('WEBGPU_BAD_SHAPE', `${op}: the output may alias a, not b`);
  const inplace = a === y;
  if (inplace && aOff !== yOff) throw new BackendError('WEBGPU_BAD_SHAPE', `${op} in place needs aOff = yOff`);
  if ((aOff + n) * 4 > a.size || (yOff + n) * 4 > y.size || (binary && (bOff + Math.min(bn, n)) * 4 > b!.size) || bn < 1) {
    throw new BackendError('WEBGPU_BAD_SHAPE', `${op}: buffers too small for ${n} elements`);
  }
  const key = `${op}:${inplace}`;
  let k = cache.get(key);
  if (!k) cache.set(key, (k = { name: `${op}${inplace ? '_inplace' : ''}`, code: wgsl(op, inplace) }));
  const bb = binary ? b! : placeholder(dev);
  const [gx, gy] = dev.grid(Math.ceil(n / 256));
  dev.dispatch(k, inplace ? [a, bb] : [a, bb, y], new Params().u(n).u(bn).f(args.s ?? 1).u(aOff).u(bOff).u(yOff).u(gx), [gx, gy]);
}
