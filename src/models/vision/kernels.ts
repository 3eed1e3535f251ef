/**
 * The kernel provider of the vision encoder and projectors (src/models/vision/ops.ts): the few
 * compute calls they need, from the native addon (`cpu`) or from the WASM backend (`wasm`,
 * src/backends/wasm/index.ts through its public `wasmKernels()` API), so the same ViT runs on
 * either device — e.g. inside the wasm device worker of the pipelined executor
 * (src/bricks/vision-host.ts).
 *
 * Numerics: both providers compute ggml's products (src/backends/cpu/native.ts `matmul`); the
 * native AVX-512 path sums in another order than the WASM kernels, while the native *scalar* path
 * and WASM give the same bits (the WASM backend's contract), except where noted on
 * {@link VisionKernels.softmaxRows}.
 */
import { native } from '../../backends/cpu/native.js';
import { BackendError } from '../../core/errors.js';
import { GGMLType } from '../../core/ggml-type.js';

/** Devices a vision model can run on. */
export type VisionDevice = 'cpu' | 'wasm';

/** Compute calls of the vision ops. Float32 row-major everywhere. */
export interface VisionKernels {
  readonly device: VisionDevice;
  /**
   * `y[nTok, nOut] = x[nTok, nIn] · W[nOut, nIn]ᵀ` for a weight `w` of ggml type `type` (ggml
   * block bytes) that does not change between calls (a provider may keep a copy of it, keyed by
   * the array's identity, as the WASM backend does).
   * @throws RangeError (`ERR_SYNFLUX_ARG`) for sizes that do not match the arrays; BackendError
   *   (wasm) when linear memory runs out.
   */
  matmul(type: number, w: Uint8Array, nOut: number, nIn: number, x: Float32Array, nTok: number, y: Float32Array): void;
  /**
   * The same product for an F32 left operand `a[nOut, nIn]` that changes between calls (attention
   * keys and values): never served from a weight cache.
   */
  matmulDynamic(a: Float32Array, nOut: number, nIn: number, x: Float32Array, nTok: number, y: Float32Array): void;
  /**
   * In-place row softmax of `s[rows, n]` after scaling by `scale`, ggml soft_max_f32 order. cpu:
   * the native kernel (native/sf_vit.c, expf); wasm: ops.ts's TypeScript reference (Math.exp
   * rounded to float32), which may differ from expf by one ulp on some inputs.
   */
  softmaxRows(s: Float32Array, rows: number, n: number, scale: number): void;
  /**
   * `out[i] = gelu(g[i]) · u[i]` for i < n (ggml_vec_geglu_f32: the F16 GELU table); `out` may be `g`.
   */
  geglu(g: Float32Array, u: Float32Array, out: Float32Array, n: number): void;
  /**
   * Optional: a zeroed float32 buffer of `n` elements where this provider's kernels read and
   * write it in place (wasm: linear memory, `WasmKernels.allocF32`). Absent: plain Float32Arrays
   * (see {@link allocActivations}). Such a buffer may live on a SharedArrayBuffer: copy results out
   * of it before handing them on.
   */
  alloc?(n: number): Float32Array;
  /** Optional: releases a buffer from {@link alloc} now (it must not be used afterwards); no-op for other arrays. */
  free?(a: Float32Array): void;
}

/**
 * A zeroed float32 buffer of `n` elements from `k.alloc` when the provider has one, else a plain
 * Float32Array.
 */
export function allocActivations(k: VisionKernels, n: number): Float32Array {
  return k.alloc ? k.alloc(n) : new Float32Array(n);
}

/** The optional vision kernels of the addon (native/sf_vit.c); absent in older builds. */
interface VitKernels {
  softmaxRows?(s: Float32Array, rows: number, n: number, scale: number): void;
  /** Blocked GEMM (native/sf_vit_gemm_avx512.c): matmul's result for F32/F16 weights, summed in another order. */
  gemm?(type: number, w: Uint8Array, nOut: number, nIn: number, x: Float32Array, nTok: number, y: Float32Array): void;
}

/** Token batches at least this large go through the native blocked GEMM (compute-bound) instead of matmul. */
const GEMM_MIN_TOKENS = 8;

/** `Uint8Array` view of a float array's bytes (no copy). */
function bytesOf(a: Float32Array, n: number): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, n * 4);
}

let nativeCache: VisionKernels | undefined;

/**
 * The native provider: the blocked GEMM of native/sf_vit.c for F32/F16 weights and ≥ 8 tokens
 * (on the AVX-512 path; elsewhere it is `matmul`), else `native().matmul`; native softmax and GeGLU.
 * @throws BackendError (`NATIVE_NOT_BUILT`) when the addon is missing.
 */
export function nativeVisionKernels(): VisionKernels {
  if (nativeCache) return nativeCache;
  const k = native();
  const vit = k as unknown as VitKernels;
  const matmul = (type: number, w: Uint8Array, nOut: number, nIn: number, x: Float32Array, nTok: number, y: Float32Array): void => {
    if (vit.gemm && nTok >= GEMM_MIN_TOKENS && (type === GGMLType.F32 || type === GGMLType.F16)) vit.gemm(type, w, nOut, nIn, x, nTok, y);
    else k.matmul(type, w, nOut, nIn, x, nTok, y);
  };
  nativeCache = {
    device: 'cpu',
    matmul,
    matmulDynamic: (a, nOut, nIn, x, nTok, y) => matmul(GGMLType.F32, bytesOf(a, nOut * nIn), nOut, nIn, x, nTok, y),
    softmaxRows: (s, rows, n, scale) => (vit.softmaxRows ? vit.softmaxRows(s, rows, n, scale) : softmaxRowsTs(s, rows, n, scale)),
    geglu: (g, u, out, n) => k.geglu(g, u, out, n),
  };
  return nativeCache;
}

/**
 * The WASM provider over the backend's shared instance (`wasmKernels()`): its `matmul` (weights
 * copied into linear memory once, by identity), `geglu`, `matmulF32` for the dynamic operands
 * (read in place when they live in linear memory, else copied into one reused scratch region:
 * never cached), and `allocF32`/`freeF32` as `alloc`/`free`, so the encoder's activations and
 * attention operands live in linear memory and no kernel call copies them in or out.
 * Single-threaded unless the caller raised the backend's threads.
 * @throws BackendError `BACKEND_UNAVAILABLE` when wasm/synflux.wasm is missing or cannot start.
 */
export async function wasmVisionKernels(): Promise<VisionKernels> {
  let mod: typeof import('../../backends/wasm/index.js');
  try {
    mod = await import('../../backends/wasm/index.js');
  } catch (e) {
    throw new BackendError('BACKEND_UNAVAILABLE', `the wasm backend is not available in this build: ${(e as Error).message}`, { cause: e });
  }
  const w = await mod.wasmKernels();
  return {
    device: 'wasm',
    matmul: (type, wt, nOut, nIn, x, nTok, y) => w.matmul(type, wt, nOut, nIn, x, nTok, y),
    matmulDynamic: (a, nOut, nIn, x, nTok, y) => w.matmulF32(a, nOut, nIn, x, nTok, y),
    softmaxRows: softmaxRowsTs,
    geglu: (g, u, out, n) => w.geglu(g, u, out, n),
    alloc: (n) => w.allocF32(n),
    free: (a) => w.freeF32(a),
  };
}

/**
 * The provider of `device`.
 * @throws BackendError when the device cannot start (addon not built, wasm missing) or is unknown.
 */
export async function visionKernelsFor(device: string = 'cpu'): Promise<VisionKernels> {
  if (device === 'cpu') return nativeVisionKernels();
  if (device === 'wasm') return wasmVisionKernels();
  throw new BackendError('BACKEND_UNAVAILABLE', `the vision encoder runs on cpu or wasm (asked: ${device})`);
}

const fr = Math.fround;

/**
 * In-place row softmax of `s` float32 `[rows, n]` after scaling by `scale` (ggml soft_max_f32:
 * x·scale, max, exp(x − max) summed in double, times (float)(1/sum)). TypeScript reference of the
 * native `softmaxRows` (native/sf_vit.c).
 */
export function softmaxRowsTs(s: Float32Array, rows: number, n: number, scale: number): void {
  for (let t = 0; t < rows; t++) {
    const o = t * n;
    let max = -Infinity;
    for (let j = 0; j < n; j++) {
      const x = fr(s[o + j]! * scale);
      s[o + j] = x;
      if (x > max) max = x;
    }
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const e = fr(Math.exp(fr(s[o + j]! - max)));
      s[o + j] = e;
      sum += e;
    }
    const inv = fr(1 / sum);
    for (let j = 0; j < n; j++) s[o + j] = fr(s[o + j]! * inv);
  }
}
