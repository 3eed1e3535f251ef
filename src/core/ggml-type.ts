/**
 * ggml tensor types: the numeric ids used in GGUF tensor infos, with block size (elements per
 * block) and type size (bytes per block). Source: ggml/include/ggml.h (`enum ggml_type`) and
 * ggml/src/ggml.c (`type_traits`) in llama.cpp.
 */
import { UnsupportedTensorTypeError } from './errors.js';

/** ggml type ids as stored in GGUF (`enum ggml_type`). */
export enum GGMLType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
}

/** Layout of one ggml type: `blockSize` elements are stored in `typeSize` bytes. */
export interface GGMLTypeInfo {
  readonly name: string;
  /** Elements per block (1 for plain types). */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
  /** True where SynFlux has kernels (dequantize + dot) for this type. */
  readonly computable: boolean;
}

const QK_K = 256;

/** Per-type layouts (ggml.c `type_traits`). */
export const GGML_TYPES: ReadonlyMap<number, GGMLTypeInfo> = new Map<number, GGMLTypeInfo>([
  [GGMLType.F32, { name: 'F32', blockSize: 1, typeSize: 4, computable: true }],
  [GGMLType.F16, { name: 'F16', blockSize: 1, typeSize: 2, computable: true }],
  [GGMLType.BF16, { name: 'BF16', blockSize: 1, typeSize: 2, computable: true }],
  [GGMLType.Q4_0, { name: 'Q4_0', blockSize: 32, typeSize: 18, computable: true }],
  [GGMLType.Q4_1, { name: 'Q4_1', blockSize: 32, typeSize: 20, computable: true }],
  [GGMLType.Q5_0, { name: 'Q5_0', blockSize: 32, typeSize: 22, computable: true }],
  [GGMLType.Q5_1, { name: 'Q5_1', blockSize: 32, typeSize: 24, computable: true }],
  [GGMLType.Q8_0, { name: 'Q8_0', blockSize: 32, typeSize: 34, computable: true }],
  [GGMLType.Q8_1, { name: 'Q8_1', blockSize: 32, typeSize: 36, computable: false }],
  [GGMLType.Q2_K, { name: 'Q2_K', blockSize: QK_K, typeSize: 84, computable: false }],
  [GGMLType.Q3_K, { name: 'Q3_K', blockSize: QK_K, typeSize: 110, computable: false }],
  [GGMLType.Q4_K, { name: 'Q4_K', blockSize: QK_K, typeSize: 144, computable: true }],
  [GGMLType.Q5_K, { name: 'Q5_K', blockSize: QK_K, typeSize: 176, computable: true }],
  [GGMLType.Q6_K, { name: 'Q6_K', blockSize: QK_K, typeSize: 210, computable: true }],
  [GGMLType.Q8_K, { name: 'Q8_K', blockSize: QK_K, typeSize: 292, computable: false }],
  [GGMLType.IQ2_XXS, { name: 'IQ2_XXS', blockSize: QK_K, typeSize: 66, computable: false }],
  [GGMLType.IQ2_XS, { name: 'IQ2_XS', blockSize: QK_K, typeSize: 74, computable: false }],
  [GGMLType.IQ3_XXS, { name: 'IQ3_XXS', blockSize: QK_K, typeSize: 98, computable: false }],
  [GGMLType.IQ1_S, { name: 'IQ1_S', blockSize: QK_K, typeSize: 50, computable: false }],
  [GGMLType.IQ4_NL, { name: 'IQ4_NL', blockSize: 32, typeSize: 18, computable: false }],
  [GGMLType.IQ3_S, { name: 'IQ3_S', blockSize: QK_K, typeSize: 110, computable: false }],
  [GGMLType.IQ2_S, { name: 'IQ2_S', blockSize: QK_K, typeSize: 82, computable: false }],
  [GGMLType.IQ4_XS, { name: 'IQ4_XS', blockSize: QK_K, typeSize: 136, computable: false }],
  [GGMLType.I8, { name: 'I8', blockSize: 1, typeSize: 1, computable: false }],
  [GGMLType.I16, { name: 'I16', blockSize: 1, typeSize: 2, computable: false }],
  [GGMLType.I32, { name: 'I32', blockSize: 1, typeSize: 4, computable: false }],
  [GGMLType.I64, { name: 'I64', blockSize: 1, typeSize: 8, computable: false }],
  [GGMLType.F64, { name: 'F64', blockSize: 1, typeSize: 8, computable: false }],
  [GGMLType.IQ1_M, { name: 'IQ1_M', blockSize: QK_K, typeSize: 56, computable: false }],
  [GGMLType.TQ1_0, { name: 'TQ1_0', blockSize: QK_K, typeSize: 54, computable: false }],
  [GGMLType.TQ2_0, { name: 'TQ2_0', blockSize: QK_K, typeSize: 66, computable: false }],
  [GGMLType.MXFP4, { name: 'MXFP4', blockSize: 32, typeSize: 17, computable: false }],
]);

/**
 * Layout of a ggml type id.
 * @throws UnsupportedTensorTypeError when the id is not a known ggml type.
 */
export function typeInfo(type: number): GGMLTypeInfo {
  const t = GGML_TYPES.get(type);
  if (!t) throw new UnsupportedTensorTypeError('UNKNOWN_TENSOR_TYPE', `unknown ggml tensor type id ${type}`);
  return t;
}

/** Name of a ggml type id (e.g. `Q4_K`), or `type#N` when unknown. */
export function typeName(type: number): string {
  return GGML_TYPES.get(type)?.name ?? `type#${type}`;
}

/**
 * Bytes taken by `n` consecutive elements of `type` (one row).
 * @throws UnsupportedTensorTypeError for an unknown type; ShapeError-like RangeError when `n` is
 *   not a multiple of the block size.
 */
export function rowBytes(type: number, n: number): number {
  const t = typeInfo(type);
  if (n % t.blockSize !== 0) {
    throw new UnsupportedTensorTypeError('BAD_ROW_LENGTH', `row of ${n} elements is not a multiple of ${t.name}'s block size ${t.blockSize}`);
  }
  return (n / t.blockSize) * t.typeSize;
}
