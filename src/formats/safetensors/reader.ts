/**
 * safetensors reader: single files and sharded checkpoints (`model.safetensors.index.json`).
 *
 * Layout (spec: https://github.com/huggingface/safetensors README, "Format"):
 * ```
 * u64 LE N | N bytes of UTF-8 JSON header (may be right-padded with spaces) | data
 * header = { "__metadata__"?: {string: string},
 *            "<name>": { "dtype": "F32"|..., "shape": [d0, d1, ...], "data_offsets": [begin, end] } }
 * ```
 * `data_offsets` are relative to the start of the data section; `shape` is row-major with the
 * outermost dimension first (PyTorch order, the reverse of ggml's `ne`). Data is little-endian.
 *
 * Every structural problem raises {@link ModelFormatError} with a `SAFETENSORS_*` code.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ModelFormatError, UnsupportedTensorTypeError } from '../../core/errors.js';
import { readFileBytes } from '../file-bytes.js';

/** safetensors dtypes with their element size in bytes. */
export const SAFETENSORS_DTYPES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
} as const;

/** A safetensors dtype name. */
export type SafetensorsDType = keyof typeof SAFETENSORS_DTYPES;

/** One tensor's descriptor. */
export interface SafetensorsTensorInfo {
  name: string;
  dtype: SafetensorsDType;
  /** Row-major, outermost first (PyTorch order): a Linear weight is `[out, in]`. */
  shape: number[];
  /** Absolute byte offset in the file. */
  offset: number;
  nbytes: number;
  nElements: number;
}

/** Largest JSON header accepted (bytes); the reference implementation uses 100 MB. */
export const SAFETENSORS_MAX_HEADER = 100_000_000;

/** A parsed single safetensors file with zero-copy tensor views. */
export class SafetensorsFile {
  /** Tensor name → descriptor, in header order. */
  readonly tensors: Map<string, SafetensorsTensorInfo>;
  /** The `__metadata__` string map (empty when absent). */
  readonly metadata: Record<string, string>;

  /** @internal Use {@link parseSafetensors} / {@link openSafetensors}. */
  constructor(
    readonly bytes: Uint8Array,
    readonly source: string,
    tensors: Map<string, SafetensorsTensorInfo>,
    metadata: Record<string, string>,
  ) {
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /** Tensor names in header order. */
  get names(): string[] {
    return [...this.tensors.keys()];
  }

  /** Descriptor of `name`, or undefined. */
  tensor(name: string): SafetensorsTensorInfo | undefined {
    return this.tensors.get(name);
  }

  /**
   * Zero-copy view of a tensor's raw little-endian bytes.
   * @throws ModelFormatError `SAFETENSORS_MISSING_TENSOR`.
   */
  tensorData(name: string): Uint8Array {
    const t = this.tensors.get(name);
    if (!t) throw new ModelFormatError('SAFETENSORS_MISSING_TENSOR', `${this.source}: no tensor '${name}'`);
    return this.bytes.subarray(t.offset, t.offset + t.nbytes);
  }

  /**
   * A tensor converted to float32 (a fresh array, row-major as stored).
   * @throws ModelFormatError `SAFETENSORS_MISSING_TENSOR`; UnsupportedTensorTypeError
   *   `SAFETENSORS_DTYPE_NOT_FLOAT` for dtypes other than F32/F16/BF16/F64.
   */
  toFloat32(name: string): Float32Array {
    const t = this.tensors.get(name);
    if (!t) throw new ModelFormatError('SAFETENSORS_MISSING_TENSOR', `${this.source}: no tensor '${name}'`);
    return bytesToFloat32(this.tensorData(name), t.dtype);
  }
}

const F16_TABLE = (() => {
  // float16 → float32 by exponent/mantissa decode (IEEE 754 binary16).
  const out = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) out[h] = s * m * 2 ** -24;
    else if (e === 31) out[h] = m ? NaN : s * Infinity;
    else out[h] = s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return out;
})();

/**
 * Convert little-endian raw bytes of a float dtype to a new Float32Array.
 * @throws UnsupportedTensorTypeError `SAFETENSORS_DTYPE_NOT_FLOAT` for non-float dtypes.
 */
export function bytesToFloat32(data: Uint8Array, dtype: SafetensorsDType): Float32Array {
  const n = data.length / SAFETENSORS_DTYPES[dtype];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float32Array(n);
  switch (dtype) {
    case 'F32':
      new Uint8Array(out.buffer).set(data);
      return out;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = F16_TABLE[view.getUint16(i * 2, true)];
      return out;
    case 'BF16': {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    default:
      throw new UnsupportedTensorTypeError('SAFETENSORS_DTYPE_NOT_FLOAT', `cannot convert safetensors dtype ${dtype} to float32`);
  }
}

function fail(source: string, code: string, msg: string): never {
  throw new ModelFormatError(code, `${source}: ${msg}`);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Parse a safetensors file held in `bytes`.
 * @throws ModelFormatError codes: `SAFETENSORS_TRUNCATED` (shorter than the 8-byte length or
 *   the header), `SAFETENSORS_HEADER_TOO_LARGE`, `SAFETENSORS_BAD_HEADER` (not JSON / not an
 *   object / bad `__metadata__`), `SAFETENSORS_BAD_TENSOR` (missing or invalid dtype, shape or
 *   offsets), `SAFETENSORS_SIZE_MISMATCH` (end-begin ≠ elements × dtype size),
 *   `SAFETENSORS_OUT_OF_BOUNDS` (data past the end of file), `SAFETENSORS_OVERLAP` (two tensors
 *   share bytes).
 * @throws UnsupportedTensorTypeError `SAFETENSORS_UNKNOWN_DTYPE`.
 */
export function parseSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsFile {
  if (bytes.length < 8) fail(source, 'SAFETENSORS_TRUNCATED', `file of ${bytes.length} bytes has no header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(SAFETENSORS_MAX_HEADER)) fail(source, 'SAFETENSORS_HEADER_TOO_LARGE', `header length ${n} exceeds ${SAFETENSORS_MAX_HEADER}`);
  const hlen = Number(n);
  if (8 + hlen > bytes.length) fail(source, 'SAFETENSORS_TRUNCATED', `header of ${hlen} bytes runs past the end of the ${bytes.length}-byte file`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + hlen)));
  } catch (e) {
    fail(source, 'SAFETENSORS_BAD_HEADER', `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail(source, 'SAFETENSORS_BAD_HEADER', 'header is not a JSON object');

  const dataStart = 8 + hlen;
  const dataLen = bytes.length - dataStart;
  const tensors = new Map<string, SafetensorsTensorInfo>();
  let metadata: Record<string, string> = {};
  const ranges: [number, number, string][] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.values(raw).some((v) => typeof v !== 'string')) {
        fail(source, 'SAFETENSORS_BAD_HEADER', '__metadata__ must map strings to strings');
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    if (typeof raw !== 'object' || raw === null) fail(source, 'SAFETENSORS_BAD_TENSOR', `entry '${name}' is not an object`);
    const { dtype, shape, data_offsets: offs } = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string') fail(source, 'SAFETENSORS_BAD_TENSOR', `tensor '${name}' has no dtype`);
    if (!(dtype in SAFETENSORS_DTYPES)) {
      throw new UnsupportedTensorTypeError('SAFETENSORS_UNKNOWN_DTYPE', `${source}: tensor '${name}' has unknown dtype '${dtype}'`);
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) fail(source, 'SAFETENSORS_BAD_TENSOR', `tensor '${name}' has invalid shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isCount) || offs[1] < offs[0]) {
      fail(source, 'SAFETENSORS_BAD_TENSOR', `tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    let nElements = 1;
    for (const d of shape as number[]) {
      nElements *= d;
      if (!Number.isSafeInteger(nElements)) fail(source, 'SAFETENSORS_BAD_TENSOR', `tensor '${name}' element count overflows`);
    }
    const size = SAFETENSORS_DTYPES[dtype as SafetensorsDType];
    if (end - begin !== nElements * size) {
      fail(source, 'SAFETENSORS_SIZE_MISMATCH', `tensor '${name}' spans ${end - begin} bytes but ${JSON.stringify(shape)} × ${dtype} needs ${nElements * size}`);
    }
    if (end > dataLen) fail(source, 'SAFETENSORS_OUT_OF_BOUNDS', `tensor '${name}' data [${begin}, ${end}) lies past the end of the ${dataLen}-byte data section`);
    tensors.set(name, { name, dtype: dtype as SafetensorsDType, shape: shape as number[], offset: dataStart + begin, nbytes: end - begin, nElements });
    if (end > begin) ranges.push([begin, end, name]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1]) fail(source, 'SAFETENSORS_OVERLAP', `tensors '${ranges[i - 1][2]}' and '${ranges[i][2]}' overlap`);
  }
  return new SafetensorsFile(bytes, source, tensors, metadata);
}

/**
 * Read and parse one safetensors file.
 * @throws ModelFormatError `FILE_READ_FAILED` plus everything {@link parseSafetensors} throws.
 */
export function openSafetensors(path: string): SafetensorsFile {
  return parseSafetensors(readFileBytes(path), path);
}

/** A checkpoint made of one or more safetensors files, addressed by tensor name. */
export class SafetensorsModel {
  /** @internal Use {@link openSafetensorsModel}. */
  constructor(
    /** Shard files in index order. */
    readonly files: SafetensorsFile[],
    /** Tensor name → the shard holding it. */
    readonly weightMap: Map<string, SafetensorsFile>,
    /** `metadata` of the index file (e.g. `total_size`), or {} for a single file. */
    readonly indexMetadata: Record<string, unknown> = {},
  ) {}

  /** All tensor names (index order for sharded checkpoints). */
  get names(): string[] {
    return [...this.weightMap.keys()];
  }

  /** Whether tensor `name` exists. */
  has(name: string): boolean {
    return this.weightMap.has(name);
  }

  /** Descriptor of `name`, or undefined. */
  tensor(name: string): SafetensorsTensorInfo | undefined {
    return this.weightMap.get(name)?.tensor(name);
  }

  /**
   * Zero-copy raw bytes of `name`.
   * @throws ModelFormatError `SAFETENSORS_MISSING_TENSOR`.
   */
  tensorData(name: string): Uint8Array {
    return this.file(name).tensorData(name);
  }

  /**
   * `name` as float32 (see {@link SafetensorsFile.toFloat32}).
   * @throws ModelFormatError `SAFETENSORS_MISSING_TENSOR`; UnsupportedTensorTypeError.
   */
  toFloat32(name: string): Float32Array {
    return this.file(name).toFloat32(name);
  }

  private file(name: string): SafetensorsFile {
    const f = this.weightMap.get(name);
    if (!f) throw new ModelFormatError('SAFETENSORS_MISSING_TENSOR', `checkpoint has no tensor '${name}'`);
    return f;
  }
}

/**
 * Open a checkpoint from a directory (prefers `model.safetensors.index.json`, else
 * `model.safetensors`), an index JSON path, or a single `.safetensors` path.
 * @throws ModelFormatError `SAFETENSORS_NOT_FOUND` (nothing to open), `SAFETENSORS_BAD_INDEX`
 *   (index not JSON or no `weight_map` of string→string, or a shard path escaping the folder),
 *   `SAFETENSORS_MISSING_TENSOR` (index names a tensor its shard lacks),
 *   `SAFETENSORS_DUPLICATE_TENSOR` (two shards hold the same name), plus file errors.
 */
export function openSafetensorsModel(path: string): SafetensorsModel {
  let p = path;
  if (existsSync(p) && statSync(p).isDirectory()) {
    const idx = join(p, 'model.safetensors.index.json');
    const single = join(p, 'model.safetensors');
    if (existsSync(idx)) p = idx;
    else if (existsSync(single)) p = single;
    else throw new ModelFormatError('SAFETENSORS_NOT_FOUND', `${path}: neither model.safetensors.index.json nor model.safetensors found`);
  }
  if (!p.endsWith('.json')) {
    const f = openSafetensors(p);
    return new SafetensorsModel([f], new Map(f.names.map((n) => [n, f])));
  }
  let index: unknown;
  try {
    index = JSON.parse(new TextDecoder().decode(readFileBytes(p)));
  } catch (e) {
    if (e instanceof ModelFormatError) throw e;
    throw new ModelFormatError('SAFETENSORS_BAD_INDEX', `${p}: not valid JSON (${(e as Error).message})`);
  }
  const wm = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm) || Object.values(wm).some((v) => typeof v !== 'string')) {
    throw new ModelFormatError('SAFETENSORS_BAD_INDEX', `${p}: missing or invalid "weight_map"`);
  }
  const dir = dirname(p);
  const shards = new Map<string, SafetensorsFile>();
  const weightMap = new Map<string, SafetensorsFile>();
  for (const [name, shard] of Object.entries(wm as Record<string, string>)) {
    if (shard.includes('/') || shard.includes('\\') || shard === '..' || shard === '.') {
      throw new ModelFormatError('SAFETENSORS_BAD_INDEX', `${p}: shard name '${shard}' must be a plain file name`);
    }
    let f = shards.get(shard);
    if (!f) {
      f = openSafetensors(join(dir, shard));
      shards.set(shard, f);
    }
    if (!f.tensors.has(name)) throw new ModelFormatError('SAFETENSORS_MISSING_TENSOR', `${p}: index maps '${name}' to ${shard}, which lacks it`);
    weightMap.set(name, f);
  }
  // Tensors a shard holds but the index omits are served too; such a name held by two shards is
  // ambiguous and rejected.
  for (const f of shards.values()) {
    for (const name of f.names) {
      const owner = weightMap.get(name);
      if (owner === undefined) weightMap.set(name, f);
      else if (owner !== f && (wm as Record<string, string>)[name] === undefined) {
        throw new ModelFormatError('SAFETENSORS_DUPLICATE_TENSOR', `${p}: tensor '${name}' appears in several shards`);
      }
    }
  }
  const meta = (index as { metadata?: unknown }).metadata;
  return new SafetensorsModel([...shards.values()], weightMap, typeof meta === 'object' && meta !== null ? (meta as Record<string, unknown>) : {});
}
