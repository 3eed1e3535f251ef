/**
 * One matmul `Y[nTok, nOut] = X[nTok, nIn] · W[nOut, nIn]ᵀ` prepared on a device: the common
 * measuring stick of the device profiler (src/bricks/profile.ts) and the compute of the test /
 * benchmark bricks (src/bricks/matmul-brick.ts).
 *
 * Devices: `cpu` = the native addon (src/backends/cpu/native.ts, ggml block formats, the addon's
 * pthread pool), `wasm` = wasm/synflux.wasm through `kernelsFor('wasm')` (1 thread unless asked), `onnx` =
 * a generated one-node ONNX MatMul (src/bricks/onnx-matmul.ts) run by onnxruntime-node's CPU
 * execution provider (F32/F16 only: ONNX has no ggml block formats), loaded lazily through
 * src/backends/onnx/runtime.ts.
 */
import { BackendError, RequestError } from '../core/errors.js';
import { GGML_TYPES, rowBytes } from '../core/ggml-type.js';
import type { LayerKernels } from '../backends/kernels.js';
import { loadOnnxRuntime, type OrtTensor } from '../backends/onnx/runtime.js';

/** Devices a matmul can be prepared on. */
export type MatmulDeviceName = 'cpu' | 'wasm' | 'onnx';

/** Weight dtypes (ggml type names) per device. */
export const MATMUL_DTYPES: Readonly<Record<MatmulDeviceName, readonly string[]>> = {
  cpu: ['F32', 'F16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q4_K', 'Q5_K', 'Q6_K'],
  wasm: ['F32', 'F16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q4_K', 'Q5_K', 'Q6_K'],
  onnx: ['F32', 'F16'],
};

/** A matmul whose weights already live on the device. */
export interface PreparedMatmul {
  readonly device: MatmulDeviceName;
  readonly dtype: string;
  readonly nOut: number;
  readonly nIn: number;
  /** Bytes of the weight as stored on the device. */
  readonly weightBytes: number;
  /**
   * Runs the matmul on `x` float32 `[nTok, nIn]` into `y` float32 `[nTok, nOut]` (allocated when
   * absent) and returns y.
   * @throws RequestError when x or y is too short.
   */
  run(x: Float32Array, nTok: number, y?: Float32Array): Promise<Float32Array>;
  /** Frees the device copy (ONNX session). */
  dispose(): Promise<void>;
}

/** Options of {@link prepareMatmul}. */
export interface PrepareOptions {
  /** cpu: pool threads (process-wide setting of the addon); wasm: wasm pool threads (1 = no workers); onnx: intra-op threads. Default 1. */
  threads?: number;
}

function typeIdOf(dtype: string): number {
  for (const [id, t] of GGML_TYPES) if (t.name === dtype) return id;
  throw new RequestError('UNKNOWN_DTYPE', `unknown weight dtype '${dtype}'`);
}

/**
 * Quantizes float32 weights `[nOut, nIn]` to ggml `dtype` blocks with the addon's reference
 * quantizer (ggml-quants.c quantize_row_*_ref), or returns the float32 bytes for F32.
 * @throws BackendError NATIVE_NOT_BUILT when a quantized dtype is asked and the addon is missing.
 */
export async function quantizeWeights(dtype: string, w: Float32Array, nOut: number, nIn: number): Promise<Uint8Array> {
  const type = typeIdOf(dtype);
  if (type === 0) return new Uint8Array(w.buffer.slice(w.byteOffset, w.byteOffset + nOut * nIn * 4));
  const { native } = await import('../backends/cpu/native.js');
  const out = new Uint8Array(rowBytes(type, nIn) * nOut);
  native().quantize(type, w, nOut * nIn, out);
  return out;
}

/**
 * Prepares `W` (float32 `[nOut, nIn]`, quantized to `dtype` on the way) for repeated matmuls.
 * @throws RequestError for a dtype the device lacks or bad sizes; BackendError when the device
 *   cannot start (`BACKEND_UNAVAILABLE` for an unknown device or missing wasm module,
 *   `NATIVE_NOT_BUILT`, `ONNX_RUNTIME_MISSING` when onnxruntime-node cannot be loaded).
 */
export async function prepareMatmul(device: MatmulDeviceName, dtype: string, w: Float32Array, nOut: number, nIn: number,
  opts: PrepareOptions = {}): Promise<PreparedMatmul> {
  if (!MATMUL_DTYPES[device]) throw new BackendError('BACKEND_UNAVAILABLE', `unknown device '${device}' (known: cpu, wasm, onnx)`);
  if (!MATMUL_DTYPES[device].includes(dtype)) throw new RequestError('UNSUPPORTED_DTYPE', `device ${device} has no ${dtype} matmul`);
  if (w.length < nOut * nIn) throw new RequestError('BAD_SHAPE', `w has ${w.length} floats, need nOut*nIn = ${nOut * nIn}`);
  const check = (x: Float32Array, nTok: number, y: Float32Array): void => {
    if (x.length < nTok * nIn) throw new RequestError('BAD_SHAPE', `x has ${x.length} floats, need nTok*nIn = ${nTok * nIn}`);
    if (y.length < nTok * nOut) throw new RequestError('BAD_SHAPE', `y has ${y.length} floats, need nTok*nOut = ${nTok * nOut}`);
  };
  if (device === 'onnx') return prepareOnnx(dtype, w, nOut, nIn, opts.threads ?? 1, check);
  const type = typeIdOf(dtype);
  const bytes = await quantizeWeights(dtype, w, nOut, nIn);
  let k: LayerKernels;
  if (device === 'cpu') {
    const { native } = await import('../backends/cpu/native.js');
    k = native();
    k.setThreads(opts.threads ?? 1);
  } else {
    const { kernelsFor } = await import('../backends/kernels.js');
    k = await kernelsFor('wasm');
    // The wasm backend runs single-threaded unless asked (its pool starts workers for n > 1).
    k.setThreads(opts.threads ?? 1);
  }
  return {
    device, dtype, nOut, nIn, weightBytes: bytes.byteLength,
    async run(x, nTok, y = new Float32Array(nTok * nOut)) {
      check(x, nTok, y);
      k.matmul(type, bytes, nOut, nIn, x, nTok, y);
      return y;
    },
    async dispose() {},
  };
}

async function prepareOnnx(dtype: string, w: Float32Array, nOut: number, nIn: number, threads: number,
  check: (x: Float32Array, nTok: number, y: Float32Array) => void): Promise<PreparedMatmul> {
  const ort = await loadOnnxRuntime();
  const { matmulOnnxModel } = await import('./onnx-matmul.js');
  const { f32ToF16Bits, f16BitsToF32 } = await import('../core/f16.js');
  const f16 = dtype === 'F16';
  const session = await ort.InferenceSession.create(matmulOnnxModel(w, nOut, nIn, { dtype: f16 ? 'f16' : 'f32' }), {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: ['cpu'],
  });
  return {
    device: 'onnx', dtype, nOut, nIn, weightBytes: nOut * nIn * (f16 ? 2 : 4),
    async run(x, nTok, y = new Float32Array(nTok * nOut)) {
      check(x, nTok, y);
      let X: OrtTensor;
      if (f16) {
        const h = new Uint16Array(nTok * nIn);
        for (let i = 0; i < h.length; i++) h[i] = f32ToF16Bits(x[i]!);
        X = new ort.Tensor('float16', h, [nTok, nIn]);
      } else {
        X = new ort.Tensor('float32', x.length === nTok * nIn ? x : x.subarray(0, nTok * nIn), [nTok, nIn]);
      }
      const out = (await session.run({ X })).Y!;
      if (f16) {
        const h = out.data as Uint16Array;
        for (let i = 0; i < nTok * nOut; i++) y[i] = f16BitsToF32(h[i]!);
      } else {
        y.set((out.data as Float32Array).subarray(0, nTok * nOut));
      }
      return y;
    },
    async dispose() {
      await session.release();
    },
  };
}
