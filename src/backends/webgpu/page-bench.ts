/**
 * Device-resident kernel timings for the `webgpu` device profile (Node side:
 * ./profile.ts `measureWebGPUDevice`), run inside the page (browser-safe, no Node imports) and
 * exposed through ./page-api.ts. Buffers are created once per figure and stay on the GPU; a
 * figure is the median over several timed batches, each batch recording `reps` dispatches
 * into one submit (as a model forward records all its kernels into one submit) followed by a
 * 4-byte readback that waits for the GPU (the bare readback's own time subtracted). Inputs are zero-filled: SwiftShader and GPUs run the
 * same instructions whatever the values (no data-dependent branches in these kernels).
 */
import type { WebGPUDevice } from './device.js';
import type { GPUBufferLike } from './gpu-types.js';
import { matmul, type MatmulKernel } from './kernels/matmul.js';
import { rmsNorm } from './kernels/norm.js';
import { rope } from './kernels/rope.js';
import { attention } from './kernels/attention.js';
import { elementwise } from './kernels/elementwise.js';
import { rowBytes } from './quant-wgsl.js';
import { RequestError } from '../../core/errors.js';

/** Time budget of one figure (ms of wall time in the page). */
export interface BenchBudget {
  /** Keep timing batches until at least this much time (and 3 batches) went by. */
  minMs: number;
  /**
   * Stop before this much time is spent on the figure (the warm-up excluded): one call at least
   * `maxMs / 2` long is timed once and returned as is (large matmuls on CPU-emulated adapters).
   */
  maxMs: number;
  /**
   * Run one untimed warm-up call first (default true). Skip it when the kernel's pipeline is
   * already compiled and one call is long (a large matmul after a small one of the same dtype).
   */
  warm?: boolean;
}

/** One timed figure. */
export interface BenchTiming {
  /** Median milliseconds per recorded call (a batch's time minus `readMs`, over `reps`). */
  ms: number;
  /** Calls recorded per submitted batch. */
  reps: number;
  /** Timed batches. */
  batches: number;
  /** Minimum ms of a submit + 4-byte readback without kernels, subtracted from each batch. */
  readMs: number;
}

/**
 * Times `record` (which records one call's dispatches, nothing else) on `d`: one untimed warm-up
 * (pipeline compilation, first touch of the buffers; unless `b.warm` is false), five bare
 * readbacks whose minimum (`readMs`, the submit + map round trip) is subtracted from every timed
 * batch, one timed probe call that sizes the batches to about minMs/5 each, then batches of
 * `reps` calls per submit until {@link BenchBudget} is met.
 * @throws BackendError from WebGPU (validation, device loss).
 */
export async function timeOnDevice(d: WebGPUDevice, record: () => void, sync: GPUBufferLike, b: BenchBudget): Promise<BenchTiming> {
  const minMs = Math.max(0, b.minMs), maxMs = Math.max(minMs, b.maxMs);
  if (b.warm !== false) {
    record();
    await d.read(sync, 4);
  }
  // the fixed cost of a batch's submit + 4-byte readback (copy, mapAsync), subtracted from every
  // batch: inside a forward, kernels do not pay it (the forward's one readback is priced apart)
  // (the minimum of 5: a fixed cost, which other load on the machine only ever lengthens)
  let readMs = Infinity;
  for (let i = 0; i < 5; i++) {
    const a = performance.now();
    await d.read(sync, 4);
    readMs = Math.min(readMs, performance.now() - a);
  }
  const start = performance.now();
  record();
  await d.read(sync, 4);
  const probe = Math.max(performance.now() - start - readMs, 1e-3);
  if (probe >= maxMs / 2) return { ms: probe, reps: 1, batches: 1, readMs };
  const reps = Math.max(1, Math.min(512, Math.floor(minMs / 5 / Math.max(probe, 1e-3))));
  const s: number[] = [];
  while (s.length < 3 || (performance.now() - start < minMs && s.length < 100)) {
    const a = performance.now();
    for (let i = 0; i < reps; i++) record();
    await d.read(sync, 4);
    const t = performance.now() - a;
    s.push(Math.max(t - readMs, 0) / reps);
    if (performance.now() - start + t > maxMs) break;
  }
  s.sort((x, y) => x - y);
  return { ms: s[s.length >> 1]!, reps, batches: s.length, readMs };
}

/** Arguments of {@link benchMatmul}. */
export interface BenchMatmulArgs extends BenchBudget {
  /** ggml type id of W. */
  type: number;
  nIn: number;
  nOut: number;
  nTok: number;
  /** Force a kernel; default the one `matmul` picks for this adapter (what WebGPUTransformer runs). */
  kernel?: MatmulKernel;
}

/**
 * Y[nTok, nOut] = X·Wᵀ with W [nOut, nIn] in its ggml block format, all device-resident.
 * @returns median ms per matmul (launch included, upload excluded).
 * @throws BackendError `WEBGPU_BAD_SHAPE` / `WEBGPU_UNSUPPORTED_TYPE` / `WEBGPU_TOO_LARGE` from the kernel.
 */
export async function benchMatmul(d: WebGPUDevice, a: BenchMatmulArgs): Promise<BenchTiming> {
  const w = d.createBuffer(rowBytes(a.type, a.nIn) * a.nOut, 'bench_w');
  const x = d.createBuffer(a.nIn * a.nTok * 4, 'bench_x');
  const y = d.createBuffer(a.nOut * a.nTok * 4, 'bench_y');
  try {
    return await timeOnDevice(d, () => matmul(d, w, x, y, { type: a.type, nIn: a.nIn, nOut: a.nOut, nTok: a.nTok, kernel: a.kernel }), y, a);
  } finally {
    w.destroy();
    x.destroy();
    y.destroy();
  }
}

/**
 * A non-matmul kernel figure. Shapes are those the decoder (./model.ts) passes:
 * - `rope`: in place on [nTok, nHeads, headDim], all dims rotated (unit: rotated floats, nTok·nHeads·headDim);
 * - `swiglu`: y = silu(g)·u on n floats (unit: outputs);
 * - `rmsNorm`: rows × n, weighted, out of place (unit: normalized floats);
 * - `attention`: nTok queries at positions pos0…pos0+nTok-1 over a K/V cache of pos0+nTok rows,
 *   nHead = nHeadKv heads of dk = dv dims, full causal (unit: one call);
 * - `copy`: n floats, buffer to buffer (unit: one call; for GB/s);
 * - `launch`: `count` dispatches of the smallest kernel (a one-token 32×32 F32 matmul) in the
 *   batch (unit: one batch of `count`).
 */
export type BenchOpArgs = BenchBudget & (
  | { op: 'rope'; nTok: number; nHeads: number; headDim: number }
  | { op: 'swiglu'; n: number }
  | { op: 'rmsNorm'; rows: number; n: number }
  | { op: 'attention'; nTok: number; pos0: number; nHead: number; d: number }
  | { op: 'copy'; n: number }
  | { op: 'launch'; count: number }
);

/**
 * Times one of the kernels of {@link BenchOpArgs} with device-resident buffers.
 * @returns median ms per call (one call = one dispatch, or `count` dispatches for `launch`).
 * @throws RequestError `BAD_BENCH_OP` for an unknown op; BackendError from the kernels.
 */
export async function benchOp(d: WebGPUDevice, a: BenchOpArgs): Promise<BenchTiming> {
  const bufs: GPUBufferLike[] = [];
  const buf = (floats: number, label: string): GPUBufferLike => {
    const b = d.createBuffer(Math.max(4, floats) * 4, label);
    bufs.push(b);
    return b;
  };
  try {
    switch (a.op) {
      case 'rope': {
        const x = buf(a.nTok * a.nHeads * a.headDim, 'x'), cs = buf(a.nTok * a.headDim, 'cs');
        return await timeOnDevice(d, () => rope(d, x, cs, { nTok: a.nTok, nHeads: a.nHeads, headDim: a.headDim, nDims: a.headDim, mode: 'norm' }), x, a);
      }
      case 'swiglu': {
        const g = buf(a.n, 'g'), u = buf(a.n, 'u'), y = buf(a.n, 'y');
        return await timeOnDevice(d, () => elementwise(d, 'swiglu', g, u, y, { n: a.n }), y, a);
      }
      case 'rmsNorm': {
        const x = buf(a.rows * a.n, 'x'), w = buf(a.n, 'w'), y = buf(a.rows * a.n, 'y');
        return await timeOnDevice(d, () => rmsNorm(d, x, w, y, { n: a.n, rows: a.rows, eps: 1e-5 }), y, a);
      }
      case 'attention': {
        const nKv = a.pos0 + a.nTok;
        const q = buf(a.nTok * a.nHead * a.d, 'q'), k = buf(nKv * a.nHead * a.d, 'k'), v = buf(nKv * a.nHead * a.d, 'v'), o = buf(a.nTok * a.nHead * a.d, 'o');
        const args = { nTok: a.nTok, pos0: a.pos0, nHead: a.nHead, nHeadKv: a.nHead, dk: a.d, dv: a.d, scale: 0.125, window: 0 };
        return await timeOnDevice(d, () => attention(d, q, k, v, o, args), o, a);
      }
      case 'copy': {
        const x = buf(a.n, 'x'), y = buf(a.n, 'y');
        return await timeOnDevice(d, () => elementwise(d, 'copy', x, null, y, { n: a.n }), y, a);
      }
      case 'launch': {
        const w = buf(32 * 32, 'w'), x = buf(32, 'x'), y = buf(32, 'y');
        return await timeOnDevice(d, () => {
          for (let i = 0; i < a.count; i++) matmul(d, w, x, y, { type: 0, nIn: 32, nOut: 32, nTok: 1 });
        }, y, a);
      }
      default:
        throw new RequestError('BAD_BENCH_OP', `unknown bench op ${(a as { op: string }).op}`);
    }
  } finally {
    for (const b of bufs) b.destroy();
  }
}
