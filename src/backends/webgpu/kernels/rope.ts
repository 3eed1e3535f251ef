/**
 * Rotary position embedding on WebGPU (Su et al. 2021) in place on x [nTok, nHeads, headDim]:
 * `norm` mode rotates pairs (2i, 2i+1) (llama), `neox` mode (i, i + nDims/2) (qwen2/3, gemma3);
 * dims ≥ nDims pass through. The cos/sin of every (token, pair) come from a table the host fills
 * with src/nn/rope.ts `ropeCache` (ggml's rope_yarn, iterated in f32 as ggml-cpu does), so
 * frequency factors and YaRN need no shader code and angles match the CPU bit for bit.
 */
import type { WebGPUDevice } from '../device.js';
import { Params } from '../device.js';
import type { GPUBufferLike } from '../gpu-types.js';
import type { KernelSource } from '../pipeline-cache.js';
import { ropeCache, type RopeParams } from '../../../nn/rope.js';
import { BackendError } from '../../../core/errors.js';

const KERNEL: KernelSource = {
  name: 'rope',
  code: `struct P { nTok: u32, nHeads: u32, headDim: u32, nDims: u32, neox: u32, xOff: u32, gridX: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> X: array<f32>;
@group(0) @binding(2) var<storage, read> CS: array<vec2<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let half = p.nDims >> 1u;
  let idx = (wid.x + wid.y * p.gridX) * 64u + lid;
  if (idx >= p.nTok * p.nHeads * half) { return; }
  let i = idx % half;
  let th = idx / half;
  let t = th / p.nHeads;
  let b = p.xOff + th * p.headDim;
  var i0 = b + 2u * i;
  var i1 = i0 + 1u;
  if (p.neox != 0u) { i0 = b + i; i1 = i0 + half; }
  let cs = CS[t * half + i];
  let x0 = X[i0]; let x1 = X[i1];
  X[i0] = x0 * cs.x - x1 * cs.y;
  X[i1] = x0 * cs.y + x1 * cs.x;
}`,
};

/**
 * The cos/sin table of positions pos0 … pos0+nTok-1: float32 [nTok, nDims/2, 2] (cos, sin),
 * from src/nn/rope.ts `ropeCache`.
 */
export function ropeTable(params: RopeParams, pos0: number, nTok: number): Float32Array {
  const out = new Float32Array(nTok * params.nDims);
  const tmp = new Float32Array(params.nDims);
  for (let t = 0; t < nTok; t++) {
    ropeCache(params, pos0 + t, tmp);
    out.set(tmp, t * params.nDims);
  }
  return out;
}

/**
 * Records RoPE in place on x[xOff …] holding [nTok, nHeads, headDim] with the table `cs` of
 * {@link ropeTable} (nTok rows).
 * @throws BackendError `WEBGPU_BAD_SHAPE` when nDims is odd or exceeds headDim, or buffers are too small.
 */
export function rope(dev: WebGPUDevice, x: GPUBufferLike, cs: GPUBufferLike, a: { nTok: number; nHeads: number; headDim: number; nDims: number; mode: 'norm' | 'neox'; xOff?: number }): void {
  const xOff = a.xOff ?? 0;
  if (a.nDims % 2 !== 0 || a.nDims > a.headDim) throw new BackendError('WEBGPU_BAD_SHAPE', `rope: nDims ${a.nDims} must be even and ≤ headDim ${a.headDim}`);
  if ((xOff + a.nTok * a.nHeads * a.headDim) * 4 > x.size || a.nTok * a.nDims * 4 > cs.size) throw new BackendError('WEBGPU_BAD_SHAPE', 'rope: buffers too small');
  const [gx, gy] = dev.grid(Math.ceil((a.nTok * a.nHeads * a.nDims) / 2 / 64));
  dev.dispatch(KERNEL, [x, cs], new Params().u(a.nTok).u(a.nHeads).u(a.headDim).u(a.nDims).u(a.mode === 'neox' ? 1 : 0).u(xOff).u(gx), [gx, gy]);
}
