/**
 * One-shot execution of a single WebGPU kernel on host arrays: upload inputs, record the kernel,
 * read the output back. Used by the op tests (tests/webgpu/) through the Chromium page and by
 * device profiling; the model path (model.ts) keeps everything on the GPU instead.
 */
import { WebGPUDevice } from './device.js';
import type { GPUBufferLike } from './gpu-types.js';
import { matmul, type MatmulKernel } from './kernels/matmul.js';
import { getRows } from './kernels/get-rows.js';
import { rmsNorm } from './kernels/norm.js';
import { rope } from './kernels/rope.js';
import { softmax } from './kernels/softmax.js';
import { attention } from './kernels/attention.js';
import { elementwise, type ElementwiseOp } from './kernels/elementwise.js';
import { BackendError } from '../../core/errors.js';
import { rowBytes } from './quant-wgsl.js';

/** A single-op request. Array inputs are raw bytes (any typed array); attrs are numbers. */
export type OpRequest =
  | { op: 'matmul'; w: Uint8Array; x: Float32Array; type: number; nIn: number; nOut: number; nTok: number; kernel?: MatmulKernel }
  | { op: 'get_rows'; w: Uint8Array; ids: Int32Array; type: number; nIn: number }
  | { op: 'rms_norm'; x: Float32Array; w: Float32Array | null; n: number; rows: number; eps: number; inplace?: boolean }
  | { op: 'rope'; x: Float32Array; table: Float32Array; nTok: number; nHeads: number; headDim: number; nDims: number; mode: 'norm' | 'neox' }
  | { op: 'softmax'; x: Float32Array; n: number; rows: number; scale: number }
  | { op: 'attention'; q: Float32Array; k: Float32Array; v: Float32Array; nTok: number; pos0: number; nHead: number; nHeadKv: number; dk: number; dv: number; scale: number; window: number }
  | { op: ElementwiseOp; a: Float32Array; b: Float32Array | null; n: number; bn?: number; s?: number; inplace?: boolean };

/**
 * Runs one op and returns its float32 output and the GPU time including upload/readback (ms).
 * @throws BackendError for bad shapes or unsupported types (from the kernels) and WebGPU validation errors.
 */
export async function runOp(dev: WebGPUDevice, r: OpRequest): Promise<{ out: Float32Array; ms: number }> {
  const t0 = performance.now();
  const bufs: GPUBufferLike[] = [];
  const up = (a: ArrayBufferView, label: string) => {
    const b = dev.createBuffer(a, label);
    bufs.push(b);
    return b;
  };
  const alloc = (floats: number, label: string) => up(new Float32Array(Math.max(1, floats)), label);
  let out: GPUBufferLike;
  let n: number;
  switch (r.op) {
    case 'matmul': {
      const w = up(r.w, 'w'), x = up(r.x, 'x');
      out = alloc((n = r.nTok * r.nOut), 'y');
      matmul(dev, w, x, out, { type: r.type, nIn: r.nIn, nOut: r.nOut, nTok: r.nTok, kernel: r.kernel });
      break;
    }
    case 'get_rows': {
      const nRows = Math.floor(r.w.byteLength / rowBytes(r.type, r.nIn));
      for (const id of r.ids) if (!(id >= 0 && id < nRows)) throw new BackendError('WEBGPU_BAD_SHAPE', `get_rows: id ${id} outside [0, ${nRows})`);
      const w = up(r.w, 'w'), ids = up(r.ids, 'ids');
      out = alloc((n = r.ids.length * r.nIn), 'out');
      getRows(dev, w, ids, out, { type: r.type, nIn: r.nIn, nIds: r.ids.length });
      break;
    }
    case 'rms_norm': {
      const x = up(r.x, 'x');
      out = r.inplace ? x : alloc(r.rows * r.n, 'y');
      n = r.rows * r.n;
      rmsNorm(dev, x, r.w ? up(r.w, 'w') : null, out, { n: r.n, rows: r.rows, eps: r.eps });
      break;
    }
    case 'rope': {
      out = up(r.x, 'x');
      n = r.x.length;
      rope(dev, out, up(r.table, 'cs'), { nTok: r.nTok, nHeads: r.nHeads, headDim: r.headDim, nDims: r.nDims, mode: r.mode });
      break;
    }
    case 'softmax': {
      const x = up(r.x, 'x');
      out = alloc((n = r.rows * r.n), 'y');
      softmax(dev, x, out, { n: r.n, rows: r.rows, scale: r.scale });
      break;
    }
    case 'attention': {
      const q = up(r.q, 'q'), k = up(r.k, 'k'), v = up(r.v, 'v');
      out = alloc((n = r.nTok * r.nHead * r.dv), 'out');
      attention(dev, q, k, v, out, r);
      break;
    }
    default: {
      const a = up(r.a, 'a');
      const b = r.b ? up(r.b, 'b') : null;
      out = r.inplace ? a : alloc(r.n, 'y');
      n = r.n;
      elementwise(dev, r.op, a, b, out, { n: r.n, bn: r.bn, s: r.s });
      break;
    }
  }
  try {
    const res = await dev.readF32(out, n);
    return { out: res, ms: performance.now() - t0 };
  } catch (e) {
    if (e instanceof BackendError) throw e;
    throw new BackendError('WEBGPU_RUN_FAILED', `${r.op}: ${(e as Error).message}`, { cause: e });
  } finally {
    for (const b of bufs) b.destroy();
  }
}
