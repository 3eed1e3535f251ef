/**
 * Model weights as the transformer consumes them: 2-D matmul weights stay in their ggml block
 * format (zero-copy views over the model file), small vectors (norm weights, biases) are
 * dequantized to float32 once at load.
 */
import { ShapeError, ModelFormatError } from '../core/errors.js';
import { GGMLType, typeInfo } from '../core/ggml-type.js';
import { f16BitsToF32, bf16BitsToF32 } from '../core/f16.js';
import type { GGUFFile, GGUFTensorInfo } from '../formats/gguf/reader.js';

/** A 2-D weight W [nOut, nIn] (ggml dims [nIn, nOut]) kept in its ggml type. */
export interface MatWeight {
  name: string;
  /** ggml type id. */
  type: number;
  /** Raw blocks: nOut rows of rowBytes(type, nIn) bytes. */
  data: Uint8Array;
  nIn: number;
  nOut: number;
}

/** Weights of one decoder block (GGUF tensor names `blk.N.*`). */
export interface LayerWeights {
  attnNorm: Float32Array;
  wq: MatWeight;
  wk: MatWeight;
  wv: MatWeight;
  wo: MatWeight;
  bq: Float32Array | null;
  bk: Float32Array | null;
  bv: Float32Array | null;
  qNorm: Float32Array | null;
  kNorm: Float32Array | null;
  postAttnNorm: Float32Array | null;
  ffnNorm: Float32Array;
  wGate: MatWeight;
  wUp: MatWeight;
  wDown: MatWeight;
  postFfnNorm: Float32Array | null;
}

/** All weights of a decoder-only LM. */
export interface DecoderWeights {
  tokenEmbd: MatWeight;
  layers: LayerWeights[];
  outputNorm: Float32Array;
  /** LM head; the token embedding itself when tied. */
  output: MatWeight;
  /** llama3-style per-pair RoPE frequency divisors [ropeDim/2] (`rope_freqs.weight`), or null. */
  ropeFreqs: Float32Array | null;
}

/**
 * Where {@link bindDecoderWeights} reads GGUF-named tensors from: a GGUF file, or a Hugging Face
 * checkpoint mapped to GGUF names (src/models/load-hf.ts).
 */
export interface TensorSource {
  has(name: string): boolean;
  /** 2-D weight with ggml dims [nIn, nOut]. @throws ModelFormatError (missing), ShapeError. */
  mat(name: string, nIn: number, nOut: number): MatWeight;
  optMat(name: string, nIn: number, nOut: number): MatWeight | null;
  /** 1-D tensor as float32. @throws ModelFormatError (missing), ShapeError. */
  vec(name: string, n: number): Float32Array;
  optVec(name: string, n: number): Float32Array | null;
}

/** GGUF-named float32 tensors held in memory (ggml dims order: row length first). */
export class F32TensorSource implements TensorSource {
  constructor(readonly tensors: ReadonlyMap<string, { dims: number[]; data: Float32Array }>, readonly source = '<memory>') {}
  has(name: string): boolean {
    return this.tensors.has(name);
  }
  private get(name: string): { dims: number[]; data: Float32Array } {
    const t = this.tensors.get(name);
    if (!t) throw new ModelFormatError('MISSING_TENSOR', `${this.source}: required tensor '${name}' is missing`);
    return t;
  }
  mat(name: string, nIn: number, nOut: number): MatWeight {
    const t = this.get(name);
    if (t.dims.length !== 2 || t.dims[0] !== nIn || t.dims[1] !== nOut) {
      throw new ShapeError('BAD_TENSOR_SHAPE', `${name}: expected dims [${nIn}, ${nOut}], checkpoint has [${t.dims.join(', ')}]`);
    }
    return { name, type: GGMLType.F32, data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), nIn, nOut };
  }
  optMat(name: string, nIn: number, nOut: number): MatWeight | null {
    return this.has(name) ? this.mat(name, nIn, nOut) : null;
  }
  vec(name: string, n: number): Float32Array {
    const t = this.get(name);
    if (t.data.length !== n) throw new ShapeError('BAD_TENSOR_SHAPE', `${name}: expected ${n} elements, checkpoint has ${t.data.length}`);
    return t.data;
  }
  optVec(name: string, n: number): Float32Array | null {
    return this.has(name) ? this.vec(name, n) : null;
  }
}

/** Reads tensors out of a GGUF file with shape checks. */
export class GGUFTensorSource implements TensorSource {
  constructor(readonly file: GGUFFile) {}

  has(name: string): boolean {
    return this.file.tensor(name) !== undefined;
  }

  private info(name: string): GGUFTensorInfo {
    const t = this.file.tensor(name);
    if (!t) throw new ModelFormatError('MISSING_TENSOR', `${this.file.source}: required tensor '${name}' is missing`);
    return t;
  }

  /**
   * A 2-D weight with ggml dims [nIn, nOut].
   * @throws ModelFormatError when missing; ShapeError when dims differ.
   */
  mat(name: string, nIn: number, nOut: number): MatWeight {
    const t = this.info(name);
    if (t.dims.length !== 2 || t.dims[0] !== nIn || t.dims[1] !== nOut) {
      throw new ShapeError('BAD_TENSOR_SHAPE', `${name}: expected dims [${nIn}, ${nOut}], file has [${t.dims.join(', ')}]`);
    }
    typeInfo(t.type);
    return { name, type: t.type, data: this.file.tensorData(t), nIn, nOut };
  }

  /** Optional 2-D weight. */
  optMat(name: string, nIn: number, nOut: number): MatWeight | null {
    return this.has(name) ? this.mat(name, nIn, nOut) : null;
  }

  /**
   * A 1-D tensor of `n` elements dequantized to float32 (F32, F16, BF16 supported).
   * @throws ModelFormatError when missing; ShapeError on a length mismatch; UnsupportedTensorTypeError.
   */
  vec(name: string, n: number): Float32Array {
    const t = this.info(name);
    if (t.nElements !== n) throw new ShapeError('BAD_TENSOR_SHAPE', `${name}: expected ${n} elements, file has ${t.nElements}`);
    const raw = this.file.tensorData(t);
    const out = new Float32Array(n);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (t.type === GGMLType.F32) for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
    else if (t.type === GGMLType.F16) for (let i = 0; i < n; i++) out[i] = f16BitsToF32(dv.getUint16(i * 2, true));
    else if (t.type === GGMLType.BF16) for (let i = 0; i < n; i++) out[i] = bf16BitsToF32(dv.getUint16(i * 2, true));
    else throw new ShapeError('BAD_TENSOR_TYPE', `${name}: 1-D tensors must be F32/F16/BF16, file has type ${typeInfo(t.type).name}`);
    return out;
  }

  /** Optional 1-D tensor. */
  optVec(name: string, n: number): Float32Array | null {
    return this.has(name) ? this.vec(name, n) : null;
  }
}
