/**
 * TF.js weight decoding: the bytes of a weights manifest's shards → float32/int32 tensors, with
 * the manifest's quantization undone exactly as tfjs-core does it
 * (tfjs-core/src/io/io_utils.ts `decodeWeights` / `decodeWeight`, v4.22.0):
 *   - uint8 / uint16 affine: `value = q * scale + min`, computed in float64 (JS numbers) and
 *     rounded once to float32 when stored (int32 weights: `Math.round` of it);
 *   - float16: IEEE half → float32 (exact);
 *   - unquantized float32 / int32 / bool: the little-endian bytes as they are.
 * Weights are laid out back to back in the concatenation of all shards, in manifest order.
 */
import { ModelFormatError } from '../../core/errors.js';
import { f16BitsToF32 } from '../../core/f16.js';

/** One entry of a weights manifest (`weightsManifest[i].weights[j]`, tfjs-core `WeightsManifestEntry`). */
export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool' | string;
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16' | string; min?: number; scale?: number };
}

/** A decoded weight: row-major data in TF's own layout (e.g. conv kernels `[kh, kw, cin, cout]`). */
export interface TfjsTensor {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  data: Float32Array | Int32Array | Uint8Array;
}

const MAX_ELEMENTS = 2 ** 31;

function elementCount(spec: TfjsWeightSpec): number {
  if (!Array.isArray(spec.shape)) throw new ModelFormatError('TFJS_BAD_MANIFEST', `weight ${spec.name}: shape is not an array`);
  let n = 1;
  for (const d of spec.shape) {
    if (!Number.isInteger(d) || d < 0) throw new ModelFormatError('TFJS_BAD_MANIFEST', `weight ${spec.name}: bad dimension ${String(d)}`);
    n *= d;
  }
  if (n > MAX_ELEMENTS) throw new ModelFormatError('TFJS_BAD_MANIFEST', `weight ${spec.name}: ${n} elements is too many`);
  return n;
}

/**
 * Decodes every weight of `specs` from `data` (all shards concatenated, manifest order).
 * @param data shard bytes, concatenated
 * @param specs the manifest entries, in order
 * @returns name → tensor (float32 for float weights, whatever their storage)
 * @throws ModelFormatError `TFJS_BAD_MANIFEST` (unknown dtype/quantization, missing min/scale,
 *   duplicate name), `TFJS_WEIGHTS_TRUNCATED` (the shards hold fewer bytes than the manifest
 *   needs), `TFJS_WEIGHTS_TRAILING` (more bytes than it needs)
 */
export function decodeTfjsWeights(data: Uint8Array, specs: readonly TfjsWeightSpec[]): Map<string, TfjsTensor> {
  const out = new Map<string, TfjsTensor>();
  let offset = 0;
  for (const spec of specs) {
    if (typeof spec.name !== 'string') throw new ModelFormatError('TFJS_BAD_MANIFEST', 'weight without a name');
    if (out.has(spec.name)) throw new ModelFormatError('TFJS_BAD_MANIFEST', `duplicate weight ${spec.name}`);
    const n = elementCount(spec);
    const q = spec.quantization;
    const storage = q ? q.dtype : spec.dtype;
    const width = ({ uint8: 1, uint16: 2, float16: 2, float32: 4, int32: 4, bool: 1 } as Record<string, number>)[storage];
    if (width === undefined) throw new ModelFormatError('TFJS_BAD_MANIFEST', `weight ${spec.name}: unsupported storage dtype ${String(storage)}`);
    if (spec.dtype !== 'float32' && spec.dtype !== 'int32' && spec.dtype !== 'bool') {
      throw new ModelFormatError('TFJS_BAD_MANIFEST', `weight ${spec.name}: unsupported dtype ${String(spec.dtype)}`);
    }
    const bytes = n * width;
    if (offset + bytes > data.length) {
      throw new ModelFormatError('TFJS_WEIGHTS_TRUNCATED', `weight ${spec.name} needs bytes [${offset}, ${offset + bytes}) but the shards hold ${data.length}`);
    }
    const dv = new DataView(data.buffer, data.byteOffset + offset, bytes);
    let values: Float32Array | Int32Array | Uint8Array;
    if (q) {
      if (spec.dtype === 'bool') throw new ModelFormatError('TFJS_BAD_MANIFEST', `weight ${spec.name}: quantized bool weights are not defined`);
      if (q.dtype === 'uint8' || q.dtype === 'uint16') {
        const { min, scale } = q;
        if (typeof min !== 'number' || typeof scale !== 'number' || !Number.isFinite(min) || !Number.isFinite(scale)) {
          throw new ModelFormatError('TFJS_BAD_MANIFEST', `weight ${spec.name}: ${q.dtype} quantization needs finite min and scale`);
        }
        values = spec.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
        const round = spec.dtype === 'int32';
        for (let i = 0; i < n; i++) {
          const v = q.dtype === 'uint8' ? dv.getUint8(i) : dv.getUint16(2 * i, true);
          values[i] = round ? Math.round(v * scale + min) : v * scale + min;
        }
      } else {
        // float16 (io_utils.ts: only for float32 weights).
        if (spec.dtype !== 'float32') throw new ModelFormatError('TFJS_BAD_MANIFEST', `weight ${spec.name}: float16 quantization of a ${spec.dtype} weight`);
        values = new Float32Array(n);
        for (let i = 0; i < n; i++) values[i] = f16BitsToF32(dv.getUint16(2 * i, true));
      }
    } else if (spec.dtype === 'float32') {
      values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = dv.getFloat32(4 * i, true);
    } else if (spec.dtype === 'int32') {
      values = new Int32Array(n);
      for (let i = 0; i < n; i++) values[i] = dv.getInt32(4 * i, true);
    } else {
      values = data.slice(offset, offset + n);
    }
    out.set(spec.name, { name: spec.name, shape: [...spec.shape], dtype: spec.dtype, data: values });
    offset += bytes;
  }
  if (offset !== data.length) {
    throw new ModelFormatError('TFJS_WEIGHTS_TRAILING', `the shards hold ${data.length} bytes but the manifest describes ${offset}`);
  }
  return out;
}
