/**
 * A tiny ONNX model writer for device profiling and tests: one `MatMul` node `Y = X · Wᵀ` with the
 * weight as an initializer, serialized with a minimal protocol-buffers encoder (only the wire
 * types ONNX needs: varint and length-delimited).
 *
 * Format: onnx/onnx.proto3 (ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto,
 * TypeProto.Tensor, TensorShapeProto) and the protobuf encoding spec
 * (https://protobuf.dev/programming-guides/encoding/). Field numbers used here:
 * ModelProto{ir_version=1, producer_name=2, graph=7, opset_import=8};
 * OperatorSetIdProto{domain=1, version=2}; GraphProto{node=1, name=2, initializer=5, input=11, output=12};
 * NodeProto{input=1, output=2, name=3, op_type=4}; TensorProto{dims=1, data_type=2, name=8, raw_data=9};
 * ValueInfoProto{name=1, type=2}; TypeProto{tensor_type=1}; TypeProto.Tensor{elem_type=1, shape=2};
 * TensorShapeProto{dim=1}; Dimension{dim_value=1, dim_param=2}.
 */
import { RequestError } from '../core/errors.js';
import { f32ToF16Bits } from '../core/f16.js';

/** ONNX TensorProto.DataType values used here. */
export const ONNX_FLOAT = 1;
export const ONNX_FLOAT16 = 10;

/** Growable byte buffer with protobuf field writers. */
class PbWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  /** Unsigned varint (values up to 2^53). */
  varint(v: number): this {
    if (!Number.isInteger(v) || v < 0) throw new RequestError('ONNX_WRITE', `protobuf varint must be a non-negative integer, got ${v}`);
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
    return this;
  }

  private tag(field: number, wire: 0 | 2): this {
    return this.varint(field * 8 + wire);
  }

  /** Field of wire type 0 (int32/int64/enum, non-negative). */
  int(field: number, v: number): this {
    return this.tag(field, 0).varint(v);
  }

  /** Length-delimited field holding raw bytes. */
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** Length-delimited UTF-8 string field. */
  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  /** Embedded message field. */
  msg(field: number, m: PbWriter): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** ValueInfoProto of a tensor with element type `elem` and dims (numbers, or strings for symbolic dims). */
function valueInfo(name: string, elem: number, dims: readonly (number | string)[]): PbWriter {
  const shape = new PbWriter();
  for (const d of dims) shape.msg(1, typeof d === 'number' ? new PbWriter().int(1, d) : new PbWriter().str(2, d));
  const tensorType = new PbWriter().int(1, elem).msg(2, shape);
  return new PbWriter().str(1, name).msg(2, new PbWriter().msg(1, tensorType));
}

/** Options of {@link matmulOnnxModel}. */
export interface MatmulOnnxOptions {
  /** Element type of X, W and Y: `f32` (default) or `f16` (W given as float32, rounded to f16). */
  dtype?: 'f32' | 'f16';
  /** Name of the token dimension of X/Y (symbolic, default `n`); a number fixes it. */
  nTok?: number | string;
}

/**
 * Serialized ONNX model (opset 13, IR version 8) computing `Y[n, nOut] = X[n, nIn] · W[nOut, nIn]ᵀ`:
 * a `Transpose`-free MatMul against the initializer `Wt[nIn, nOut]` (W transposed at write time).
 * Inputs: `X` float32 (or float16) `[n, nIn]`; output `Y` `[n, nOut]`.
 * @param w float32 `[nOut, nIn]` row-major.
 * @throws RequestError when `w.length !== nOut * nIn` or a size is not a positive integer.
 */
export function matmulOnnxModel(w: Float32Array, nOut: number, nIn: number, opts: MatmulOnnxOptions = {}): Uint8Array {
  for (const [k, v] of [['nOut', nOut], ['nIn', nIn]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new RequestError('ONNX_WRITE', `${k} must be a positive integer, got ${v}`);
  }
  if (w.length !== nOut * nIn) throw new RequestError('ONNX_WRITE', `w has ${w.length} floats, expected nOut*nIn = ${nOut * nIn}`);
  const f16 = opts.dtype === 'f16';
  const elem = f16 ? ONNX_FLOAT16 : ONNX_FLOAT;
  // Wt[i, o] = W[o, i]
  let raw: Uint8Array;
  if (f16) {
    const h = new Uint16Array(nIn * nOut);
    for (let o = 0; o < nOut; o++) for (let i = 0; i < nIn; i++) h[i * nOut + o] = f32ToF16Bits(w[o * nIn + i]!);
    raw = new Uint8Array(h.buffer);
  } else {
    const t = new Float32Array(nIn * nOut);
    for (let o = 0; o < nOut; o++) for (let i = 0; i < nIn; i++) t[i * nOut + o] = w[o * nIn + i]!;
    raw = new Uint8Array(t.buffer);
  }
  const init = new PbWriter().int(1, nIn).int(1, nOut).int(2, elem).str(8, 'Wt').bytes(9, raw);
  const node = new PbWriter().str(1, 'X').str(1, 'Wt').str(2, 'Y').str(3, 'matmul').str(4, 'MatMul');
  const n = opts.nTok ?? 'n';
  const graph = new PbWriter()
    .msg(1, node)
    .str(2, 'synflux_matmul')
    .msg(5, init)
    .msg(11, valueInfo('X', elem, [n, nIn]))
    .msg(12, valueInfo('Y', elem, [n, nOut]));
  return new PbWriter()
    .int(1, 8)
    .str(2, 'synflux')
    .msg(7, graph)
    .msg(8, new PbWriter().str(1, '').int(2, 13))
    .finish();
}
