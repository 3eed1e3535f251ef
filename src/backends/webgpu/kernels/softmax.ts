/**
 * Row softmax on WebGPU: y = softmax(x · scale) per row of n floats (max subtracted before exp,
 * as ggml_soft_max_ext). One 256-thread workgroup per row, tree reductions for max and sum.
 */
import type { WebGPUDevice } from '../device.js';
import { Params } from '../device.js';
import type { GPUBufferLike } from '../gpu-types.js';
import type { KernelSource } from '../pipeline-cache.js';
import { BackendError } from '../../../core/errors.js';

const KERNEL: KernelSource = {
  name: 'softmax',
  code: `struct P { n: u32, rows: u32, scale: f32, gridX: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
var<workgroup> red: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * p.gridX;
  if (r >= p.rows) { return; }
  let b = r * p.n;
  var m = -3.0e38;
  for (var i = lid; i < p.n; i += 256u) { m = max(m, X[b + i] * p.scale); }
  red[lid] = m;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) { if (lid < k) { red[lid] = max(red[lid], red[lid + k]); } workgroupBarrier(); }
  let mx = red[0];
  workgroupBarrier();
  var s = 0.0;
  for (var i = lid; i < p.n; i += 256u) { let e = exp(X[b + i] * p.scale - mx); Y[b + i] = e; s += e; }
  red[lid] = s;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) { if (lid < k) { red[lid] += red[lid + k]; } workgroupBarrier(); }
  let inv = 1.0 / red[0];
  for (var i = lid; i < p.n; i += 256u) { Y[b + i] = Y[b + i] * inv; }
}`,
};

/**
 * Records y[r, :] = softmax(scale · x[r, :]) for `rows` rows of `n` floats (x, y float32 [rows, n]).
 * @throws BackendError `WEBGPU_BAD_SHAPE` when a buffer is too small or x is y.
 */
export function softmax(dev: WebGPUDevice, x: GPUBufferLike, y: GPUBufferLike, a: { n: number; rows: number; scale?: number }): void {
  if (x === y || a.rows * a.n * 4 > x.size || a.rows * a.n * 4 > y.size) throw new BackendError('WEBGPU_BAD_SHAPE', 'softmax: y must be a distinct buffer of rows·n floats');
  const [gx, gy] = dev.grid(a.rows);
  dev.dispatch(KERNEL, [x, y], new Params().u(a.n).u(a.rows).f(a.scale ?? 1).u(gx), [gx, gy]);
}
