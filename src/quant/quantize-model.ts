/**
 * Whole-file GGUF quantizer: the same per-tensor types and the same block bytes as llama.cpp's
 * `llama-quantize IN OUT TYPE` (src/llama-quant.cpp `llama_model_quantize_impl`) without an
 * importance matrix.
 *
 * Per tensor: if the chosen type ({@link chooseTensorTypes}) equals the current one, the bytes are
 * copied; otherwise the tensor is converted to float32 (F32 as is; F16/BF16/quantized through the
 * native addon's ggml-exact dequantizers, = ggml `to_float`) and quantized row by row with the
 * native addon's ggml reference quantizers (ggml-quants.c `quantize_row_*_ref`, which is what
 * `ggml_quantize_chunk` runs when no importance matrix is given). Metadata is copied, with
 * `general.quantization_version` = 2 and `general.file_type` = the llama_ftype set as llama.cpp
 * does (removed, then appended), and the split keys removed. Tensors are written in llama-quantize's
 * order ({@link llamaQuantOrder}).
 */
import { ModelFormatError, RequestError } from '../core/errors.js';
import { GGMLType, rowBytes, typeInfo } from '../core/ggml-type.js';
import { native, type NativeKernels } from '../backends/cpu/native.js';
import { GGUFValueType, openGGUF, type GGUFFile } from '../formats/gguf/reader.js';
import { writeGGUF, type GGUFMetadataEntry, type GGUFTensorEntry } from '../formats/gguf/writer.js';
import { chooseTensorTypes, llamaQuantOrder, QUANT_FTYPES, type QuantFtypeName } from './tensor-type.js';

/** ggml's GGML_QNT_VERSION, written as `general.quantization_version`. */
export const GGML_QNT_VERSION = 2;

/** Options of {@link quantizeModel}. */
export interface QuantizeOptions {
  /** Allow converting tensors that are already quantized (llama-quantize `--allow-requantize`). */
  allowRequantize?: boolean;
  /** Called once per tensor after it is done (for progress output). */
  onTensor?: (info: QuantizedTensorInfo, index: number, count: number) => void;
}

/** What happened to one tensor. */
export interface QuantizedTensorInfo {
  name: string;
  dims: number[];
  /** ggml type ids before and after. */
  fromType: number;
  toType: number;
  /** Bytes before and after. */
  fromBytes: number;
  toBytes: number;
}

/** Summary returned by {@link quantizeModel}. */
export interface QuantizeResult {
  tensors: QuantizedTensorInfo[];
  /** Total tensor bytes before and after. */
  bytesIn: number;
  bytesOut: number;
}

const TO_FLOAT_TYPES = new Set<number>([
  GGMLType.F16, GGMLType.BF16, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q5_1, GGMLType.Q8_0,
  GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K,
]);
const QUANTIZE_TYPES = new Set<number>([
  GGMLType.F16, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q5_1, GGMLType.Q8_0,
  GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K,
]);

/** Rows converted per native call (bounds the float32 scratch to ~16 MiB for wide rows). */
const SLAB_ELEMENTS = 4 << 20;

/**
 * Converts one tensor's bytes (type `from`, rows of `nPerRow` elements) to type `to`.
 * @returns `rows * rowBytes(to, nPerRow)` bytes.
 * @throws RequestError `QUANT_UNSUPPORTED` when the addon has no converter for `from` or `to`.
 */
export function convertTensor(k: NativeKernels, src: Uint8Array, from: number, to: number, nPerRow: number, rows: number): Uint8Array {
  if (from !== GGMLType.F32 && !TO_FLOAT_TYPES.has(from)) {
    throw new RequestError('QUANT_UNSUPPORTED', `cannot convert from tensor type ${typeInfo(from).name}`);
  }
  if (!QUANTIZE_TYPES.has(to)) throw new RequestError('QUANT_UNSUPPORTED', `cannot quantize to ${typeInfo(to).name}`);
  const srcRow = rowBytes(from, nPerRow);
  const dstRow = rowBytes(to, nPerRow);
  const out = new Uint8Array(rows * dstRow);
  const slabRows = Math.max(1, Math.min(rows, Math.floor(SLAB_ELEMENTS / nPerRow)));
  const f32 = new Float32Array(slabRows * nPerRow);
  for (let r = 0; r < rows; r += slabRows) {
    const nr = Math.min(slabRows, rows - r);
    const n = nr * nPerRow;
    const chunk = src.subarray(r * srcRow, (r + nr) * srcRow);
    let x: Float32Array;
    if (from === GGMLType.F32) {
      x = chunk.byteOffset % 4 === 0
        ? new Float32Array(chunk.buffer, chunk.byteOffset, n)
        : new Float32Array(chunk.slice().buffer, 0, n);
    } else {
      x = f32.subarray(0, n);
      k.dequantize(from, chunk, n, x);
    }
    const written = k.quantize(to, x, n, out.subarray(r * dstRow, (r + nr) * dstRow));
    if (written !== nr * dstRow) throw new ModelFormatError('QUANT_SIZE', `quantizer wrote ${written} bytes, expected ${nr * dstRow}`);
  }
  return out;
}

/** Copies a file's metadata as writer entries, applying llama-quantize's edits for `ftype`. */
function outputMetadata(f: GGUFFile, ftype: QuantFtypeName): GGUFMetadataEntry[] {
  const drop = new Set(['general.quantization_version', 'general.file_type', 'split.no', 'split.count', 'split.tensors.count']);
  const out: GGUFMetadataEntry[] = [];
  for (const [key, value] of f.metadata) {
    if (drop.has(key)) continue;
    const type = f.metadataTypes.get(key);
    if (type === undefined) throw new ModelFormatError('GGUF_BAD_VALUE_TYPE', `${f.source}: no type for metadata '${key}'`);
    const e: GGUFMetadataEntry = { key, type, value };
    if (type === GGUFValueType.ARRAY) {
      const at = f.metadataArrayTypes.get(key);
      if (at === undefined || at === GGUFValueType.ARRAY) {
        throw new ModelFormatError('GGUF_BAD_VALUE_TYPE', `${f.source}: metadata '${key}' is a nested array, which the writer does not support`);
      }
      e.arrayType = at;
    }
    out.push(e);
  }
  out.push({ key: 'general.quantization_version', type: GGUFValueType.UINT32, value: GGML_QNT_VERSION });
  out.push({ key: 'general.file_type', type: GGUFValueType.UINT32, value: QUANT_FTYPES[ftype] });
  return out;
}

/**
 * Quantizes the GGUF at `inPath` to `outPath` as llama-quantize would for `ftype`.
 * The output is built in memory (input mmapped/read, one converted tensor at a time, then the whole
 * file serialized): peak memory ≈ input + output size.
 * @throws RequestError `QUANT_BAD_TYPE` (unknown type), `QUANT_REQUANTIZE` (a quantized tensor
 *   would change type and `allowRequantize` is off), `QUANT_UNSUPPORTED` (no converter for a type),
 *   `QUANT_SAME_FILE` (in and out are the same path); ModelFormatError / UnsupportedTensorTypeError
 *   for unreadable input; BackendError when the native addon is not built.
 */
export function quantizeModel(inPath: string, outPath: string, ftype: QuantFtypeName, opts: QuantizeOptions = {}): QuantizeResult {
  if (!Object.prototype.hasOwnProperty.call(QUANT_FTYPES, ftype)) {
    throw new RequestError('QUANT_BAD_TYPE', `unknown quantization type '${String(ftype)}' (one of ${Object.keys(QUANT_FTYPES).join(', ')})`);
  }
  if (inPath === outPath) throw new RequestError('QUANT_SAME_FILE', 'input and output must be different files');
  const f = openGGUF(inPath);
  const arch = f.architecture ?? '';
  const num = (key: string): number => {
    const v = f.metadata.get(key);
    return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0;
  };
  const ordered = llamaQuantOrder(f.tensors);
  const types = chooseTensorTypes(ordered, ftype, { nLayer: num(`${arch}.block_count`), nExpert: num(`${arch}.expert_count`) });
  for (let i = 0; i < ordered.length; i++) {
    const t = ordered[i];
    const info = typeInfo(t.type);
    if (types[i] !== t.type && info.blockSize > 1 && !opts.allowRequantize) {
      throw new RequestError('QUANT_REQUANTIZE', `tensor ${t.name} is already ${info.name}; requantizing to ${typeInfo(types[i]).name} needs --allow-requantize (quality drops)`);
    }
  }
  const k = native();
  const tensors: GGUFTensorEntry[] = [];
  const infos: QuantizedTensorInfo[] = [];
  let bytesIn = 0;
  let bytesOut = 0;
  ordered.forEach((t, i) => {
    const src = f.tensorData(t);
    const to = types[i];
    const rows = t.nElements / t.dims[0];
    const data = to === t.type ? src : convertTensor(k, src, t.type, to, t.dims[0], rows);
    tensors.push({ name: t.name, dims: [...t.dims], type: to, data });
    const info: QuantizedTensorInfo = { name: t.name, dims: [...t.dims], fromType: t.type, toType: to, fromBytes: src.length, toBytes: data.length };
    infos.push(info);
    bytesIn += src.length;
    bytesOut += data.length;
    opts.onTensor?.(info, i, ordered.length);
  });
  writeGGUF(outPath, { metadata: outputMetadata(f, ftype), tensors, alignment: f.alignment });
  return { tensors: infos, bytesIn, bytesOut };
}
