/**
 * The backend interface (ARCHITECTURE.md principle 2), kept small: a device description, an op
 * support query, buffers (allocate / upload / download / free) and one entry point that runs a
 * kernel. Shaped after ggml's layered backend API (ggml-backend.h: device → buffer → graph
 * compute, `supports_op`) minus the graph scheduler, which lives above this layer.
 */

/** What kind of processor a device is. */
export type DeviceKind = 'cpu' | 'gpu' | 'npu';

/** A compute device a backend drives. */
export interface Device {
  /** Human-readable name, e.g. `cpu (avx512, 2 threads)`. */
  readonly name: string;
  readonly kind: DeviceKind;
}

/**
 * Ops every backend names the same way. Attributes (`attrs`) and buffers per op:
 * - `matmul`: attrs { type, nOut, nIn, nTok }; inputs [W (type blocks, nOut×nIn), X (f32 nTok×nIn)];
 *   outputs [Y (f32 nTok×nOut)]. Y = X · Wᵀ.
 * - `get_rows`: attrs { type, nIn }; inputs [W, ids (int32)]; outputs [out (f32 ids×nIn)].
 * - `dequantize`: attrs { type, n }; inputs [src blocks]; outputs [out f32].
 * - `quantize`: attrs { type, n }; inputs [src f32]; outputs [out blocks].
 */
export type OpName = 'matmul' | 'get_rows' | 'dequantize' | 'quantize';

/** Integer attributes of an op (ggml type ids, element counts). */
export type OpAttrs = Readonly<Record<string, number>>;

/** Memory owned by a backend. Its contents are reached only through upload/download. */
export interface BackendBuffer {
  readonly backend: Backend;
  readonly byteLength: number;
}

/** A backend: one device, its buffers and its kernels. */
export interface Backend {
  readonly device: Device;
  /** True when `op` runs here for these ggml type ids (weights first, e.g. [Q4_K] for matmul). */
  supportsOp(op: OpName, dtypes: readonly number[]): boolean;
  /** Allocate `byteLength` bytes (zero-filled). */
  allocate(byteLength: number): BackendBuffer;
  /** Copy `data` into `buf` at byte `offset` (default 0). Throws RangeError when it does not fit. */
  upload(buf: BackendBuffer, data: ArrayBufferView, offset?: number): void;
  /** Copy `buf` out (into `out` when given, else a new Uint8Array). */
  download(buf: BackendBuffer, out?: Uint8Array): Uint8Array;
  /** Release `buf`; using it afterwards throws. */
  free(buf: BackendBuffer): void;
  /** Run one op synchronously. Throws BackendError for an unsupported op/type or bad buffers. */
  run(op: OpName, inputs: readonly BackendBuffer[], outputs: readonly BackendBuffer[], attrs: OpAttrs): void;
}
