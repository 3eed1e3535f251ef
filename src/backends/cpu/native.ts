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
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackendError } from '../../core/errors.js';

/** Instruction-set path of the kernels. `auto` picks the best one the CPU supports. */
export type KernelPath = 'scalar' | 'avx2' | 'avx512';

/** Which path implements the dot product of each weight type under the current path. */
export interface KernelInfo {
  /** Path in use now. */
  path: KernelPath;
  /** Paths this CPU and build support. */
  paths: KernelPath[];
  /** Weight type name (e.g. `Q4_K`) → the path whose kernel runs (a lower one where none exists). */
  dot: Record<string, KernelPath>;
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
  /** x86 features the CPU reports (e.g. `avx2`, `avx512vnni`). */
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

/** The project root: the nearest ancestor of this module holding package.json (works from src/ and dist/). */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** Absolute path of the addon: $SYNFLUX_NATIVE if set, else build/Release/synflux_native.node. */
export function nativeAddonPath(): string {
  return process.env.SYNFLUX_NATIVE ?? join(projectRoot(), 'build', 'Release', 'synflux_native.node');
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
