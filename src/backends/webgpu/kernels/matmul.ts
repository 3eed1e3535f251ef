/**
 * Y[nTok, nOut] = X[nTok, nIn] · W[nOut, nIn]ᵀ on WebGPU, W in its ggml block format (F32, F16,
 * BF16, Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q5_K, Q6_K; see ../quant-wgsl.ts), X and Y float32. Activations
 * stay in f32 (unlike ggml's CPU path, which quantizes X to Q8 first), so results differ from the
 * native kernels by the activation rounding only.
 *
 * Three kernels:
 * - matvec (nTok ≤ {@link MATVEC_MAX_TOK}, decode): one 64-thread workgroup per output row; each
 *   thread dequantizes 4 weights at a time and dots them with every token's X, then a tree
 *   reduction in workgroup memory (the "one workgroup per row" GEMV of llama.cpp's ggml-webgpu
 *   mul_mat_vec and of WebLLM/TVM decode kernels).
 * - rows: one invocation per output row, tokens in blocks of 8, no barriers (CPU-emulated adapters).
 * - tiled (prefill): 32×32 output tiles per 16×16 workgroup, K in steps of 32 staged through
 *   workgroup memory (X tile and dequantized W tile), 2×2 outputs per thread.
 */
import type { WebGPUDevice } from '../device.js';
import { Params } from '../device.js';
import type { GPUBufferLike } from '../gpu-types.js';
import type { KernelSource } from '../pipeline-cache.js';
import { weightReader, rowBytes } from '../quant-wgsl.js';
import { typeInfo } from '../../../core/ggml-type.js';
import { BackendError } from '../../../core/errors.js';

/** Largest token count handled by the matvec kernel. */
export const MATVEC_MAX_TOK = 8;

const PARAMS = `struct P { nIn: u32, nOut: u32, nTok: u32, rowBytes: u32, gridX: u32, xOff: u32, yOff: u32, wOff: u32 }
@group(0) @binding(0) var<uniform> p: P;`;

/** WGSL of the matvec kernel for weight type `type`. */
export function matvecWGSL(type: number, nativeF16 = false): string {
  const r = weightReader(type, 1, nativeF16);
  return `${r.enable}${PARAMS}
${r.code}
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
const WG = 64u;
var<workgroup> red: array<f32, ${64 * MATVEC_MAX_TOK}>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * p.gridX;
  if (row >= p.nOut) { return; }
  let base = p.wOff + row * p.rowBytes;
  let n4 = p.nIn >> 2u;
  let x0 = p.xOff >> 2u;
  var acc: array<f32, ${MATVEC_MAX_TOK}>;
  for (var i = lid; i < n4; i += WG) {
    let w = wload4(base, i * 4u);
    for (var t = 0u; t < p.nTok; t++) { acc[t] += dot(w, X[x0 + t * n4 + i]); }
  }
  for (var t = 0u; t < ${MATVEC_MAX_TOK}u; t++) { red[t * WG + lid] = acc[t]; }
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      for (var t = 0u; t < p.nTok; t++) { red[t * WG + lid] += red[t * WG + lid + s]; }
    }
    workgroupBarrier();
  }
  if (lid < p.nTok) { Y[p.yOff + lid * p.nOut + row] = red[lid * WG]; }
}`;
}

/**
 * WGSL of the row-per-invocation matmul: each invocation computes one output row for every token
 * (in blocks of MATVEC_MAX_TOK tokens sharing each dequantized weight) with no workgroup memory
 * and no barriers. Chosen on CPU-emulated adapters
 * (SwiftShader), where barriers and workgroup memory dominate the cost of the reduction kernel.
 */
export function matvecRowsWGSL(type: number, nativeF16 = false): string {
  const r = weightReader(type, 1, nativeF16);
  return `${r.enable}${PARAMS}
${r.code}
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = (wid.x + wid.y * p.gridX) * 64u + lid;
  if (row >= p.nOut) { return; }
  let base = p.wOff + row * p.rowBytes;
  let n4 = p.nIn >> 2u;
  let x0 = p.xOff >> 2u;
  if (p.nTok == 1u) {
    var a = 0.0;
    for (var i = 0u; i < n4; i++) { a += dot(wload4(base, i * 4u), X[x0 + i]); }
    Y[p.yOff + row] = a;
    return;
  }
  for (var t0 = 0u; t0 < p.nTok; t0 += ${MATVEC_MAX_TOK}u) {
    let nt = min(${MATVEC_MAX_TOK}u, p.nTok - t0);
    var acc: array<f32, ${MATVEC_MAX_TOK}>;
    for (var t = 0u; t < ${MATVEC_MAX_TOK}u; t++) { acc[t] = 0.0; }
    for (var i = 0u; i < n4; i++) {
      let w = wload4(base, i * 4u);
      for (var t = 0u; t < nt; t++) { acc[t] += dot(w, X[x0 + (t0 + t) * n4 + i]); }
    }
    for (var t = 0u; t < nt; t++) { Y[p.yOff + (t0 + t) * p.nOut + row] = acc[t]; }
  }
}`;
}

/** WGSL of the tiled kernel for weight type `type`. */
export function matmulTiledWGSL(type: number, nativeF16 = false): string {
  const r = weightReader(type, 1, nativeF16);
  return `${r.enable}${PARAMS}
${r.code}
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
var<workgroup> xs: array<vec4<f32>, 256>;
var<workgroup> ws: array<vec4<f32>, 256>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n0 = wid.x * 32u;
  let m0 = wid.y * 32u;
  let n4 = p.nIn >> 2u;
  let x0 = p.xOff >> 2u;
  let lr = lid >> 3u;
  let lc = lid & 7u;
  let tok = m0 + lr;
  let out = n0 + lr;
  let base = p.wOff + min(out, p.nOut - 1u) * p.rowBytes;
  var acc = array<vec2<f32>, 2>(vec2<f32>(0.0), vec2<f32>(0.0));
  for (var k0 = 0u; k0 < p.nIn; k0 += 32u) {
    var xv = vec4<f32>(0.0);
    if (tok < p.nTok) { xv = X[x0 + tok * n4 + (k0 >> 2u) + lc]; }
    xs[lid] = xv;
    var wv = vec4<f32>(0.0);
    if (out < p.nOut) { wv = wload4(base, k0 + lc * 4u); }
    ws[lid] = wv;
    workgroupBarrier();
    for (var c = 0u; c < 8u; c++) {
      let a0 = xs[(lid3.y * 2u) * 8u + c];
      let a1 = xs[(lid3.y * 2u + 1u) * 8u + c];
      let b0 = ws[(lid3.x * 2u) * 8u + c];
      let b1 = ws[(lid3.x * 2u + 1u) * 8u + c];
      acc[0] += vec2<f32>(dot(a0, b0), dot(a0, b1));
      acc[1] += vec2<f32>(dot(a1, b0), dot(a1, b1));
    }
    workgroupBarrier();
  }
  for (var a = 0u; a < 2u; a++) {
    let t = m0 + lid3.y * 2u + a;
    for (var b = 0u; b < 2u; b++) {
      let o = n0 + lid3.x * 2u + b;
      if (t < p.nTok && o < p.nOut) { Y[p.yOff + t * p.nOut + o] = acc[a][b]; }
    }
  }
}`;
}

const cache = new Map<string, KernelSource>();
const GEN = { matvec: matvecWGSL, rows: matvecRowsWGSL, tiled: matmulTiledWGSL };
function kernel(kind: MatmulKernel, type: number, f16: boolean): KernelSource {
  const key = `${kind}:${type}:${f16}`;
  let k = cache.get(key);
  if (!k) {
    const name = `${kind}_${typeInfo(type).name}${f16 ? '_f16' : ''}`;
    k = { name, code: GEN[kind](type, f16) };
    cache.set(key, k);
  }
  return k;
}

/** Matmul kernels: workgroup-reduction matvec, row-per-invocation matvec, tiled. */
export type MatmulKernel = 'matvec' | 'rows' | 'tiled';

/** Shape and buffer offsets of one matmul. */
export interface MatmulArgs {
  /** ggml type id of W. */
  type: number;
  nIn: number;
  nOut: number;
  nTok: number;
  /** First element of X (a multiple of 4). Default 0. */
  xOff?: number;
  /** First element of Y. Default 0. */
  yOff?: number;
  /**
   * Force a kernel (tests). Default: `rows` on CPU-emulated adapters (SwiftShader: as fast as
   * `tiled` up to 64 tokens and 10× faster than `matvec` at one, measured in bench/webgpu-lm.ts
   * runs), else `matvec` for nTok ≤ 8 and `tiled` above.
   */
  kernel?: MatmulKernel;
}

/**
 * Records Y = X·Wᵀ. `w` holds nOut rows of `rowBytes(type, nIn)` bytes of raw ggml blocks.
 * @throws BackendError `WEBGPU_BAD_SHAPE` (nIn not a multiple of the block size or of 4, bad
 *   offsets), `WEBGPU_UNSUPPORTED_TYPE`.
 */
export function matmul(dev: WebGPUDevice, w: GPUBufferLike, x: GPUBufferLike, y: GPUBufferLike, a: MatmulArgs): void {
  const { type, nIn, nOut, nTok } = a;
  const xOff = a.xOff ?? 0, yOff = a.yOff ?? 0;
  const rb = rowBytes(type, nIn);
  if (nIn % 4 !== 0 || xOff % 4 !== 0 || nTok < 1 || nOut < 1) throw new BackendError('WEBGPU_BAD_SHAPE', `matmul: nIn ${nIn} and xOff ${xOff} must be multiples of 4, nTok/nOut ≥ 1`);
  if (rb * nOut > w.size || (xOff + nTok * nIn) * 4 > x.size || (yOff + nTok * nOut) * 4 > y.size) {
    throw new BackendError('WEBGPU_BAD_SHAPE', `matmul: buffers too small for nOut=${nOut} nIn=${nIn} nTok=${nTok}`);
  }
  const kind = a.kernel ?? (dev.cpuEmulated ? 'rows' : nTok > MATVEC_MAX_TOK ? 'tiled' : 'matvec');
  if (kind === 'matvec' && nTok > MATVEC_MAX_TOK) throw new BackendError('WEBGPU_BAD_SHAPE', `matvec handles at most ${MATVEC_MAX_TOK} tokens`);
  const f16 = dev.hasF16 && type === 1;
  if (kind !== 'tiled') {
    const [gx, gy] = dev.grid(kind === 'rows' ? Math.ceil(nOut / 64) : nOut);
    dev.dispatch(kernel(kind, type, f16), [w, x, y], new Params().u(nIn).u(nOut).u(nTok).u(rb).u(gx).u(xOff).u(yOff).u(0), [gx, gy]);
  } else {
    const gx = Math.ceil(nOut / 32), gy = Math.ceil(nTok / 32);
    dev.dispatch(kernel('tiled', type, f16), [w, x, y], new Params().u(nIn).u(nOut).u(nTok).u(rb).u(gx).u(xOff).u(yOff).u(0), [gx, gy]);
  }
}
