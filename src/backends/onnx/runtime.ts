/**
 * Lazy loading of `onnxruntime-node`, so that the rest of SynFlux works (and type-checks its
 * callers) on machines where the ONNX Runtime binary is not installed. Only the small part of the
 * runtime's API that the ONNX brick uses is typed here; the shapes follow onnxruntime-common's
 * `InferenceSession` / `Tensor` (onnxruntime-node 1.30.0).
 */
import { BackendError } from '../../core/errors.js';

/** Element types the ONNX brick exchanges (ONNX `tensor(float)`, `tensor(int32)`, …). */
export type OrtTensorType = 'float32' | 'int32' | 'int64' | 'uint8' | 'int8' | 'bool' | 'float16' | 'string' | 'float64';

/** An ONNX Runtime tensor (onnxruntime-common `Tensor`). */
export interface OrtTensor {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
  dispose?(): void;
}

/** What the session reports about one input or output (onnxruntime-common `ValueMetadata`). */
export interface OrtValueMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  /** Dimensions; strings are symbolic (dynamic) dimensions. */
  readonly shape?: readonly (number | string)[];
}

/** An ONNX Runtime session (onnxruntime-common `InferenceSession`). */
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly OrtValueMetadata[];
  readonly outputMetadata?: readonly OrtValueMetadata[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

/** Session options the brick passes through (onnxruntime-common `InferenceSession.SessionOptions`). */
export interface OrtSessionOptions {
  executionProviders?: string[];
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

/** The module surface used by SynFlux. */
export interface OrtModule {
  InferenceSession: { create(pathOrBytes: string | Uint8Array, options?: OrtSessionOptions): Promise<OrtSession> };
  Tensor: new (type: string, data: unknown, dims: readonly number[]) => OrtTensor;
}

let cached: Promise<OrtModule> | undefined;

/**
 * Imports `onnxruntime-node` once.
 * @throws BackendError (`ONNX_RUNTIME_MISSING`) when the package or its native binding cannot be loaded.
 */
export function loadOnnxRuntime(): Promise<OrtModule> {
  cached ??= import('onnxruntime-node').then(
    (m) => ((m as { default?: OrtModule }).default ?? (m as unknown as OrtModule)),
    (e: unknown) => {
      cached = undefined;
      throw new BackendError(
        'ONNX_RUNTIME_MISSING',
        `onnxruntime-node could not be loaded (install it: npm install onnxruntime-node@1.30.0): ${(e as Error)?.message ?? e}`,
        { cause: e },
      );
    },
  );
  return cached;
}
