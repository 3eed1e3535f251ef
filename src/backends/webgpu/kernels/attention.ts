/**
 * Causal grouped-query attention on WebGPU with an optional sliding window, over float32 K/V
 * caches K [nCtx, nHeadKv·dk] and V [nCtx, nHeadKv·dv] (V row-major here, not transposed as in the
 * CPU cache). Query token t sits at position pos0 + t and sees keys j ≤ pos0 + t (and, with a
 * window w, pos0 + t − j < w: llama.cpp LLAMA_SWA_TYPE_STANDARD); head h reads kv head
 * h / (nHead / nHeadKv) (Ainslie et al. 2023, GQA).
 *
 * One 64-thread workgroup per (token, head) streams keys in chunks of 64 with the online softmax
 * of FlashAttention (Dao et al. 2022; Milakov & Gimelshein 2018): running max m and sum l, and
 * each thread accumulating up to 4 output dims (dv ≤ 256), rescaled by exp(m_old − m_new).
 * Scores are (q·k)·scale; gemma3 pre-scales q and passes scale 1 (as src/models/transformer.ts).
 */
import type { WebGPUDevice } from '../device.js';
import { Params } from '../device.js';
import type { GPUBufferLike } from '../gpu-types.js';
import type { KernelSource } from '../pipeline-cache.js';
import { BackendError } from '../../../core/errors.js';

const KERNEL: KernelSource = {
  name: 'attention',
  code: `struct P { nTok: u32, pos0: u32, nHead: u32, nHeadKv: u32, dk: u32, dv: u32, scale: f32, window: u32, qOff: u32, oOff: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> Q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> K: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;
var<workgroup> qs: array<vec4<f32>, 64>;
var<workgroup> sc: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wid.x / p.nHead;
  let h = wid.x % p.nHead;
  if (t >= p.nTok) { return; }
  let g = h / (p.nHead / p.nHeadKv);
  let p1 = p.pos0 + t;
  var j0 = 0u;
  if (p.window > 0u && p1 + 1u > p.window) { j0 = p1 + 1u - p.window; }
  let dk4 = p.dk >> 2u;
  if (lid < dk4) { qs[lid] = Q[(p.qOff >> 2u) + (t * p.nHead + h) * dk4 + lid]; }
  workgroupBarrier();
  let kStride4 = p.nHeadKv * dk4;
  let vStride = p.nHeadKv * p.dv;
  var m = -1.0e30;
  var l = 0.0;
  var acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  for (var jb = j0; jb <= p1; jb += 64u) {
    let j = jb + lid;
    var s = -1.0e30;
    if (j <= p1) {
      let kb = j * kStride4 + g * dk4;
      var d = 0.0;
      for (var i = 0u; i < dk4; i++) { d += dot(qs[i], K[kb + i]); }
      s = d * p.scale;
    }
    sc[lid] = s;
    workgroupBarrier();
    let cnt = min(64u, p1 + 1u - jb);
    var cm = m;
    for (var i = 0u; i < cnt; i++) { cm = max(cm, sc[i]); }
    let alpha = exp(m - cm);
    workgroupBarrier();
    sc[lid] = select(0.0, exp(s - cm), lid < cnt);
    workgroupBarrier();
    var ps = 0.0;
    for (var c = 0u; c < 4u; c++) { acc[c] *= alpha; }
    for (var i = 0u; i < cnt; i++) {
      let pj = sc[i];
      ps += pj;
      let vb = (jb + i) * vStride + g * p.dv;
      for (var c = 0u; c < 4u; c++) {
        let d = lid + 64u * c;
        if (d < p.dv) { acc[c] += pj * V[vb + d]; }
      }
    }
    l = l * alpha + ps;
    m = cm;
    workgroupBarrier();
  }
  let ob = p.oOff + (t * p.nHead + h) * p.dv;
  for (var c = 0u; c < 4u; c++) {
    let d = lid + 64u * c;
    if (d < p.dv) { O[ob + d] = acc[c] / l; }
  }
}`,
};

/** Shape of one attention call. */
export interface AttentionArgs {
  nTok: number;
  /** Position of the first query token; cache rows [0, pos0 + nTok) must be filled. */
  pos0: number;
  nHead: number;
  nHeadKv: number;
  /** Head dims of K (≤ 256, multiple of 4) and V (≤ 256). */
  dk: number;
  dv: number;
  scale: number;
  /** Sliding window in tokens (0 = full causal). */
  window: number;
  /** First element of q / out (default 0; qOff a multiple of 4). */
  qOff?: number;
  oOff?: number;
}

/**
 * Records out[nTok, nHead·dv] = attention(q[nTok, nHead·dk], K cache, V cache).
 * @throws BackendError `WEBGPU_BAD_SHAPE` (head dims > 256 or not multiples of 4, nHead not a
 *   multiple of nHeadKv, buffers too small).
 */
export function attention(dev: WebGPUDevice, q: GPUBufferLike, k: GPUBufferLike, v: GPUBufferLike, out: GPUBufferLike, a: AttentionArgs): void {
  const qOff = a.qOff ?? 0, oOff = a.oOff ?? 0;
  if (a.dk % 4 !== 0 || a.dk > 256 || a.dv > 256 || a.nHead % a.nHeadKv !== 0 || qOff % 4 !== 0) {
    throw new BackendError('WEBGPU_BAD_SHAPE', `attention: dk=${a.dk} (multiple of 4, ≤ 256), dv=${a.dv} (≤ 256), nHead=${a.nHead} multiple of nHeadKv=${a.nHeadKv}`);
  }
  const n = a.pos0 + a.nTok;
  if ((qOff + a.nTok * a.nHead * a.dk) * 4 > q.size || n * a.nHeadKv * a.dk * 4 > k.size || n * a.nHeadKv * a.dv * 4 > v.size || (oOff + a.nTok * a.nHead * a.dv) * 4 > out.size) {
    throw new BackendError('WEBGPU_BAD_SHAPE', 'attention: buffers too small');
  }
  const groups = a.nTok * a.nHead;
  if (groups > dev.limits.maxComputeWorkgroupsPerDimension) throw new BackendError('WEBGPU_BAD_SHAPE', `attention: nTok·nHead = ${groups} exceeds the dispatch limit; split the batch`);
  dev.dispatch(KERNEL, [q, k, v, out], new Params().u(a.nTok).u(a.pos0).u(a.nHead).u(a.nHeadKv).u(a.dk).u(a.dv).f(a.scale).u(a.window).u(qOff).u(oOff), [groups]);
}
