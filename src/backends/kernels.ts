/**
 * The kernel set a decoder needs from a compute backend. The native CPU addon implements it
 * (src/backends/cpu/native.ts); other CPU-class backends (WASM) implement the same calls with the
 * same semantics, so the transformer runs unchanged on any of them.
 */
import type { NativeKernels } from './cpu/native.js';
import { BackendError } from '../core/errors.js';

/** Kernels used by src/models/transformer.ts; shapes and dtypes as documented on NativeKernels. */
export type LayerKernels = Pick<NativeKernels, 'matmul' | 'getRows' | 'rope' | 'attention' | 'swiglu' | 'geglu' | 'setThreads'> &
  /** Optional fused kernels; the transformer falls back to the calls above when absent. */
  Partial<Pick<NativeKernels, 'rmsNorm' | 'matmulMulti'>> & {
    /**
     * Optional: a zeroed float32 buffer of `n` elements that the kernels use in place (the WASM
     * backend's linear memory: activations and the KV cache then need no copies per call). Plain
     * Float32Arrays work with every kernel too.
     */
    allocF32?(n: number): Float32Array;
    /** Optional: frees a buffer from `allocF32` now; it must not be used afterwards. */
    freeF32?(a: Float32Array): void;
  };

/** Names accepted by `--backend` / `LoadOptions.backend`. */
export type BackendName = 'cpu' | 'wasm';

/**
 * The kernels of a backend.
 * @throws BackendError (`BACKEND_UNAVAILABLE`) for an unknown name or a backend that cannot start here;
 *   BackendError (`NATIVE_NOT_BUILT`) when the native addon is missing.
 */
export async function kernelsFor(backend: BackendName = 'cpu'): Promise<LayerKernels> {
  if (backend === 'cpu') return (await import('./cpu/native.js')).native();
  if (backend === 'wasm') {
    let mod: { wasmKernels?: () => Promise<LayerKernels> };
    try {
      mod = (await import('./wasm/index.js' as string)) as typeof mod;
    } catch (e) {
      throw new BackendError('BACKEND_UNAVAILABLE', `the wasm backend is not available in this build: ${(e as Error).message}`, { cause: e });
    }
    if (!mod.wasmKernels) throw new BackendError('BACKEND_UNAVAILABLE', 'the wasm backend module exports no wasmKernels()');
    return mod.wasmKernels();
  }
  throw new BackendError('BACKEND_UNAVAILABLE', `unknown backend '${String(backend)}' (known: cpu, wasm)`);
}
