/**
 * Typed binding of the native CPU kernels (native/*.c, built by `node scripts/build-native.mjs`
 * into build/Release/synflux_native.node). All buffers are passed zero-copy; every argument is
 * validated natively and a bad one throws a TypeError/RangeError/Error with `code` ERR_SYNFLUX_*.
 *
 * Numerics follow ggml (llama.cpp): weights stay in their GGUF block format; `matmul` converts
 * each activation row once to the weight type's vec_dot_type (ggml-cpu.c type_traits_cpu: Q8_0
 * for Q4_0/Q8_0, Q8_1 for Q4_1, Q8_K for Q4_K/Q5_K/Q6_K, F16 for F16, BF16 for BF16, F32 for F32)
 * and computes the integer block dot products exactly as ggml-cpu/quants.c *_generic does.
 */
import { packageRoot } from '../../core/package-root.js';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BackendError } from '../../core/errors.js';

/**
 * Instruction-set path of the kernels. `auto` picks the best one the CPU supports: AVX-512 or AVX2
 * on x86-64, `neon` on arm64 (bit-identical to `scalar`; SDOT kernels where the CPU has dotprod).
 */
export type KernelPath = 'scalar' | 'avx2' | 'avx512' | 'neon';

/** Which path implements the dot product of each weight type under the current path. */
export interface KernelInfo {
  /** Path in use now. */
  path: KernelPath;
  /** Paths this CPU and build support. */
  paths: KernelPath[];
  /** Weight type name (e.g. `Q4_K`) → the path whose kernel runs (a lower one where none exists). */
  dot: Record<string, KernelPath>;
}

/** RoPE parameters of the native `rope` (ggml_rope_ext's, same meaning). */
export interface NativeRopeParams {
  /** 0 = norm (pairs 2i, 2i+1: llama), 2 = neox (pairs i, i + nDims/2: qwen2/3, gemma3); ggml GGML_ROPE_TYPE_*. */
  mode: 0 | 2;
  /** Rotated dims per head (even, ≤ headDim); the rest pass through. */
  nDims: number;
  freqBase: number;
  /** 1 / linear scaling factor. */
  freqScale: number;
  /** YaRN extrapolation mix (0 = off), magnitude factor, ramp betas, original context. */
  extFactor: number;
  attnFactor: number;
  betaFast: number;
  betaSlow: number;
  nCtxOrig: number;
  /** float32 [nDims/2] per-pair theta divisors (llama3 `rope_freqs.weight`), or null. */
  freqFactors: Float32Array | null;
}

/** Shape of one native `attention` call. */
export interface NativeAttentionShape {
  /** Query tokens of this micro-batch (llama.cpp's ubatch size: it picks the kqv kernel). */
  nTok: number;
  /** Position of the first query token; cache rows [0, pos0 + nTok) must be filled. */
  pos0: number;
  nHead: number;
  /** Key/value heads; head h reads kv head floor(h / (nHead / nHeadKv)). */
  nHeadKv: number;
  headDimK: number;
  headDimV: number;
  /** Cache capacity in positions (llama.cpp kv_size; sets the padded n_kv). */
  nCtx: number;
  /** Score scale (kq_scale of ggml_soft_max_ext), e.g. 1/sqrt(headDimK); gemma3 passes 1. */
  scale: number;
  /** Sliding window in tokens (0 = full causal): key p0 is visible from query p1 iff p1 - p0 < window. */
  window: number;
}

/** The native kernel set. Type ids are ggml ids (`GGMLType`); element counts are elements, not bytes. */
export interface NativeKernels {
  /**
   * `Y[nTok, nOut] = X[nTok, nIn] · W[nOut, nIn]^T` (row-major, float32 X and Y).
   * W holds nOut rows of `rowSize(type, nIn)` bytes in ggml block format; nIn must be a multiple
   * of the type's block size. Weight types: F32, F16, BF16, Q4_0, Q4_1, Q8_0, Q4_K, Q5_K, Q6_K.
   * Multithreaded over the pool (`setThreads`). Throws on bad types or short buffers.
   */
  matmul(type: number, w: Uint8Array, nOut: number, nIn: number, x: Float32Array, nTok: number, y: Float32Array): void;
  /**
   * RMSNorm of `rows` rows of `n` floats from x[xOff…] into y[yOff…] (y may alias x), with the
   * float operations of src/nn/norm.ts `rmsNorm` (bit-identical to it); w null = no weight.
   */
  rmsNorm(x: Float32Array, w: Float32Array | null, y: Float32Array, rows: number, n: number, eps: number, xOff: number, yOff: number): void;
  /**
   * Two or three matmuls of one weight type on the same X (fused q/k/v or gate/up) in one pool job:
   * X is converted once; each `y_p[nTok, nOut_p]` is exactly what `matmul` would write. Pass
   * `null` for w2/y2 to run two.
   */
  matmulMulti(type: number, nIn: number, x: Float32Array, nTok: number, w0: Uint8Array, nOut0: number, y0: Float32Array,
    w1: Uint8Array, nOut1: number, y1: Float32Array, w2?: Uint8Array | null, nOut2?: number, y2?: Float32Array | null): void;
  /**
   * Rotary position embedding in place on `x` float32 [nTok, nHeads, headDim]; token t is at
   * position pos0 + t. Bit-identical to ggml-cpu's `ggml_compute_forward_rope_flt<float>` (ops.cpp:
   * ggml_rope_cache_init, rope_yarn, rotate_pairs) in llama.cpp's prebuilt x86 binary, including
   * its FMA contractions (native/sf_attn.c).
   */
  rope(x: Float32Array, nTok: number, nHeads: number, headDim: number, pos0: number, params: NativeRopeParams): void;
  /**
   * Causal (optionally sliding-window) grouped-query attention over the float32 KV cache:
   * `out` float32 [nTok, nHead*headDimV] from `q` float32 [nTok, nHead*headDimK], `k` float32
   * [nCtx, nHeadKv*headDimK] and `vT` float32 [nHeadKv*headDimV, nCtx] (V stored transposed).
   * Bit-identical to llama.cpp's non-flash path (llama-graph.cpp build_attn_mha): kq by
   * ggml_vec_dot_f32, ggml_soft_max_ext (ggml_v_expf chunks of 16, double sum) over n_kv padded
   * to a multiple of 256 (llama-kv-cache.cpp get_n_kv), kqv by llamafile tinyBLAS (nTok ≥ 2) or
   * ggml_vec_dot_f32 (nTok = 1). Multithreaded over (token, head); independent of the thread count.
   */
  attention(q: Float32Array, k: Float32Array, vT: Float32Array, out: Float32Array, shape: NativeAttentionShape): void;
  /**
   * `out[i] = silu(g[i]) * u[i]` for i < n, bit-identical to ggml-cpu's `ggml_vec_swiglu_f32`
   * (AVX-512 build: chunks of 16 by ggml_v_silu with ggml_v_expf, the tail by expf). `out` may alias g or u.
   */
  swiglu(g: Float32Array, u: Float32Array, out: Float32Array, n: number): void;
  /**
   * `out[i] = gelu(g[i]) * u[i]` for i < n, bit-identical to ggml-cpu's `ggml_vec_geglu_f32`
   * (GGML_GELU_FP16 table built from ggml_gelu_f32 with GCC's FMA contraction). `out` may alias g or u.
   */
  geglu(g: Float32Array, u: Float32Array, out: Float32Array, n: number): void;
  /** llama.cpp's padded n_kv for a cache of nCtx cells with `used` filled: min(nCtx, max(256, ceil256(used))). */
  attnNKv(nCtx: number, used: number): number;
  /** Dequantize rows `ids` of W (rows of nIn elements) into `out[ids.length, nIn]` (embedding lookup). */
  getRows(type: number, w: Uint8Array, nIn: number, ids: Int32Array, out: Float32Array): void;
  /** Dequantize `n` elements (a multiple of the block size) from `src` (raw blocks) into `out`. */
  dequantize(type: number, src: ArrayBufferView, n: number, out: Float32Array): void;
  /**
   * Quantize `n` floats into `out` with ggml's reference quantizer (ggml-quants.c
   * quantize_row_*_ref; F16/BF16 round to nearest even). Types: F32, F16, BF16, Q4_0, Q4_1, Q8_0,
   * Q8_1, Q4_K, Q5_K, Q6_K, Q8_K. Returns the number of bytes written.
   */
  quantize(type: number, src: Float32Array, n: number, out: ArrayBufferView): number;
  /**
   * Convert `n` activations the way `matmul` does for weights of `weightType` (ggml-cpu x86
   * quantize_row_q8_0/q8_1 with round-half-even, quantize_row_q8_K, F16/BF16 rounding).
   * Returns the activation type id written into `out`.
   */
  quantizeActivation(weightType: number, src: Float32Array, n: number, out: ArrayBufferView): number;
  /** The ggml vec_dot_type of a weight type (e.g. Q4_1 → Q8_1 = 9). */
  activationType(weightType: number): number;
  /** Bytes of `n` elements of `type`. */
  rowSize(type: number, n: number): number;
  /** Resize the persistent worker pool (1..256 threads, caller included); returns the count made. */
  setThreads(n: number): number;
  /** Threads in the pool (default: online CPUs, at most 32). */
  getThreads(): number;
  /** CPU features the kernels use: x86 (`avx2`, `avx512vnni`, …) or arm64 (`neon`, `dotprod`). */
  cpuFeatures(): string[];
  /** Force a kernel path (tests) or `auto`; throws when the CPU lacks it. Returns the path now in use. */
  setPath(path: KernelPath | 'auto'): KernelPath;
  /** The kernel path in use. */
  getPath(): KernelPath;
  /** Path in use, supported paths, and which path implements each weight type's dot product. */
  kernelInfo(): KernelInfo;
  /**
   * Map a whole file as an ArrayBuffer (private copy-on-write mapping of a read-only descriptor:
   * the file is never modified). Unmapped when the ArrayBuffer is garbage-collected.
   */
  mmap(path: string): ArrayBuffer;
}

/** Command that builds the addon. */
export const NATIVE_BUILD_COMMAND = 'node scripts/build-native.mjs';

let cached: NativeKernels | undefined;

/** Absolute path of the addon: $SYNFLUX_NATIVE if set, else build/Release/synflux_native.node. */
export function nativeAddonPath(): string {
  return process.env.SYNFLUX_NATIVE ?? join(packageRoot(), 'build', 'Release', 'synflux_native.node');
}

/**
 * The native kernels, loaded once.
 * @throws BackendError `NATIVE_NOT_BUILT` when the addon file is missing (message says how to build
 *   it), `NATIVE_LOAD_FAILED` when it exists but cannot be loaded.
 */
export function native(): NativeKernels {
  if (cached) return cached;
  const file = nativeAddonPath();
  if (!existsSync(file)) {
    throw new BackendError('NATIVE_NOT_BUILT', `native CPU kernels not built: ${file} is missing; run \`${NATIVE_BUILD_COMMAND}\` in the project root (needs a C compiler)`);
  }
  try {
    const req = createRequire(import.meta.url);
    cached = req(file) as NativeKernels;
  } catch (e) {
    throw new BackendError('NATIVE_LOAD_FAILED', `cannot load ${file}: ${(e as Error).message}; rebuild with \`${NATIVE_BUILD_COMMAND} --force\``, { cause: e });
  }
  return cached;
}

/** True when the addon loads (never throws). */
export function nativeAvailable(): boolean {
  try {
    native();
    return true;
  } catch {
    return false;
  }
}
