/**
 * RMSNorm on WebGPU (Zhang & Sennrich 2019; ggml_rms_norm + ggml_mul): per row of n floats,
 * y = x · 1/sqrt(mean(x²) + eps) · w. One 256-thread workgroup per row; the sum of squares is a
 * tree reduction in f32 (ggml's CPU path sums in f64 — see src/nn/norm.ts; the difference is
 * within f32 rounding of the mean).
 */
import type { WebGPUDevice } from '../device.js';
import { Params } from '../device.js';
import type { GPUBufferLike } from '../gpu-types.js';
import type { KernelSource } from '../pipeline-cache.js';
import { BackendError } from '../../../core/errors.js';

function wgsl(inplace: boolean): string {
  return `struct P { n: u32, rows: u32, eps: f32, hasW: u32, xOff: u32, yOff: u32, gridX: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, ${inplace ? 'read_write' : 'read'}> X: array<f32>;
@group(0) @binding(2) var<storage, read> Wn: array<f32>;
${inplace ? '' : '@group(0) @binding(3) var<storage, read_write> Y: array<f32>;'}
var<workgroup> red: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * p.gridX;
  if (r >= p.rows) { return; }
  let xb = p.xOff + r * p.n;
  let yb = p.yOff + r * p.n;
  var s = 0.0;
  for (var i = lid; i < p.n; i += 256u) { let v = X[xb + i]; s += v * v; }
  red[lid] = s;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (lid < k) { red[lid] += red[lid + k]; }
    workgroupBarrier();
  }
  let scale = 1.0 / sqrt(red[0] / f32(p.n) + p.eps);
  for (var i = lid; i < p.n; i += 256u) {
    var v = X[xb + i] * scale;
    if (p.hasW != 0u) { v *= Wn[i]; }
    ${inplace ? 'X' : 'Y'}[yb + i] = v;
  }
}`;
}

const K: Record<string, KernelSource> = {
  out: { name: 'rms_norm', code: wgsl(false) },
  inplace: { name: 'rms_norm_inplace', code: wgsl(true) },
};

/**
 * Records y[yOff + r·n + i] = rmsnorm(x row r)[i] · w[i] for r < rows. `y` may be `x` (in place,
 * then yOff must equal xOff). `w` null = no weight (a 16-byte placeholder is bound).
 * @throws BackendError `WEBGPU_BAD_SHAPE` on buffers too small.
 */
export function rmsNorm(dev: WebGPUDevice, x: GPUBufferLike, w: GPUBufferLike | null, y: GPUBufferLike, a: { n: number; rows: number; eps: number; xOff?: number; yOff?: number }): void {
  const xOff = a.xOff ?? 0, yOff = a.yOff ?? 0;
  if ((xOff + a.rows * a.n) * 4 > x.size || (yOff + a.rows * a.n) * 4 > y.size || (w && a.n * 4 > w.size)) throw new BackendError('WEBGPU_BAD_SHAPE', 'rms_norm: buffers too small');
  const inplace = x === y;
  if (inplace && xOff !== yOff) throw new BackendError('WEBGPU_BAD_SHAPE', 'rms_norm in place needs xOff = yOff');
  const [gx, gy] = dev.grid(a.rows);
  const wb = w ?? placeholder(dev);
  dev.dispatch(inplace ? K.inplace! : K.out!, inplace ? [x, wb] : [x, wb, y], new Params().u(a.n).u(a.rows).f(a.eps).u(w ? 1 : 0).u(xOff).u(yOff).u(gx), [gx, gy]);
}

const dummies = new WeakMap<WebGPUDevice, GPUBufferLike>();
/** A 16-byte buffer bound where a kernel's optional input is absent. */
export function placeholder(dev: WebGPUDevice): GPUBufferLike {
  let b = dummies.get(dev);
  if (!b) dummies.set(dev, (b = dev.createBuffer(16, 'placeholder')));
  return b;
}
