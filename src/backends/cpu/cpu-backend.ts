/**
 * The CPU backend: host-memory buffers (Uint8Array views, zero-copy `wrap` for mmapped weights)
 * and the native kernels of native.ts. The reference backend every other one is tested against.
 */
import { BackendError } from '../../core/errors.js';
import { GGMLType } from '../../core/ggml-type.js';
import type { Backend, BackendBuffer, Device, OpAttrs, OpName } from '../backend.js';
import { native, type NativeKernels } from './native.js';

/** Weight types the native matmul / get_rows kernels handle. */
export const CPU_WEIGHT_TYPES: ReadonlySet<number> = new Set([
  GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q8_0,
  GGMLType.Q5_0, GGMLType.Q5_1, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K,
]);
/** Types `quantize` can write (weight types plus the Q8_1/Q8_K activation formats). */
export const CPU_QUANTIZE_TYPES: ReadonlySet<number> = new Set([...CPU_WEIGHT_TYPES, GGMLType.Q8_1, GGMLType.Q8_K]);

/** A CPU buffer: plain host memory. `bytes` may be read and written directly. */
export class CpuBuffer implements BackendBuffer {
  private data: Uint8Array | undefined;
  constructor(readonly backend: CpuBackend, data: Uint8Array) {
    this.data = data;
  }
  /** Size in bytes; throws after `free`. */
  get byteLength(): number {
    return this.bytes.byteLength;
  }
  /** The memory; throws after `free`. */
  get bytes(): Uint8Array {
    if (!this.data) throw new BackendError('BUFFER_FREED', 'CPU buffer used after free');
    return this.data;
  }
  /** The memory as float32 (byte offset must be 4-aligned). */
  f32(): Float32Array {
    const b = this.bytes;
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength >>> 2);
  }
  /** The memory as int32 (byte offset must be 4-aligned). */
  i32(): Int32Array {
    const b = this.bytes;
    return new Int32Array(b.buffer, b.byteOffset, b.byteLength >>> 2);
  }
  /** Drop the reference to the memory (the GC reclaims it; mmapped memory is unmapped then). */
  release(): void {
    this.data = undefined;
  }
}

/** The CPU backend over the native addon (loaded on first kernel use). */
export class CpuBackend implements Backend {
  private kernels: NativeKernels | undefined;

  get device(): Device {
    const k = this.kern();
    return { name: `cpu (${k.getPath()}, ${k.getThreads()} threads)`, kind: 'cpu' };
  }

  private kern(): NativeKernels {
    return (this.kernels ??= native());
  }

  supportsOp(op: OpName, dtypes: readonly number[]): boolean {
    const t = dtypes[0];
    if (t === undefined) return false;
    switch (op) {
      case 'matmul':
      case 'get_rows':
      case 'dequantize':
        return CPU_WEIGHT_TYPES.has(t);
      case 'quantize':
        return CPU_QUANTIZE_TYPES.has(t);
      default:
        return false;
    }
  }

  allocate(byteLength: number): CpuBuffer {
    if (!Number.isSafeInteger(byteLength) || byteLength < 0) throw new RangeError(`allocate: bad byte length ${byteLength}`);
    // 8-byte multiple so f32()/i32() views cover every byte written
    const ab = new ArrayBuffer(Math.ceil(byteLength / 8) * 8);
    return new CpuBuffer(this, new Uint8Array(ab, 0, byteLength));
  }

  /** Wrap existing memory (e.g. an mmapped tensor) as a buffer without copying. */
  wrap(view: ArrayBufferView): CpuBuffer {
    return new CpuBuffer(this, new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  }

  upload(buf: BackendBuffer, data: ArrayBufferView, offset = 0): void {
    const dst = this.own(buf).bytes;
    if (offset < 0 || offset + data.byteLength > dst.byteLength) {
      throw new RangeError(`upload: ${data.byteLength} bytes at offset ${offset} exceed the buffer's ${dst.byteLength}`);
    }
    dst.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
  }

  download(buf: BackendBuffer, out?: Uint8Array): Uint8Array {
    const src = this.own(buf).bytes;
    const dst = out ?? new Uint8Array(src.byteLength);
    if (dst.byteLength < src.byteLength) throw new RangeError(`download: out has ${dst.byteLength} bytes, need ${src.byteLength}`);
    dst.set(src);
    return dst;
  }

  free(buf: BackendBuffer): void {
    this.own(buf).release();
  }

  run(op: OpName, inputs: readonly BackendBuffer[], outputs: readonly BackendBuffer[], attrs: OpAttrs): void {
    const k = this.kern();
    const type = attr(attrs, 'type');
    if (!this.supportsOp(op, [type])) throw new BackendError('UNSUPPORTED_OP', `cpu: op ${op} does not support ggml type ${type}`);
    const i = (n: number): CpuBuffer => this.own(inputs[n], `${op}: input ${n}`);
    const o = (n: number): CpuBuffer => this.own(outputs[n], `${op}: output ${n}`);
    switch (op) {
      case 'matmul':
        k.matmul(type, i(0).bytes, attr(attrs, 'nOut'), attr(attrs, 'nIn'), i(1).f32(), attr(attrs, 'nTok'), o(0).f32());
        return;
      case 'get_rows':
        k.getRows(type, i(0).bytes, attr(attrs, 'nIn'), i(1).i32(), o(0).f32());
        return;
      case 'dequantize':
        k.dequantize(type, i(0).bytes, attr(attrs, 'n'), o(0).f32());
        return;
      case 'quantize':
        k.quantize(type, i(0).f32(), attr(attrs, 'n'), o(0).bytes);
        return;
    }
  }

  private own(buf: BackendBuffer | undefined, what = 'buffer'): CpuBuffer {
    if (!(buf instanceof CpuBuffer) || buf.backend !== this) throw new BackendError('FOREIGN_BUFFER', `${what} is missing or not a buffer of this CPU backend`);
    return buf;
  }
}

function attr(attrs: OpAttrs, name: string): number {
  const v = attrs[name];
  if (v === undefined) throw new BackendError('MISSING_ATTR', `op attribute '${name}' is missing`);
  return v;
}
