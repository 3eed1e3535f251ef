/**
 * GGUF v2/v3 reader over a `Uint8Array` holding a whole file.
 *
 * Layout (little-endian; spec: ggml docs/gguf.md, implementation ggml/src/gguf.cpp and
 * gguf-py/gguf/gguf_reader.py in llama.cpp):
 * ```
 * u32 magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
 * n_kv × { string key | u32 value_type | value }
 * n_tensors × { string name | u32 n_dims | u64 ne[n_dims] | u32 ggml_type | u64 offset }
 * padding to `general.alignment` (default 32) | tensor data (offsets relative to here)
 * ```
 * A string is `u64 length | UTF-8 bytes` (no terminator); an array is
 * `u32 element_type | u64 count | elements`.
 *
 * Every read is bounds-checked; every malformed file yields a {@link ModelFormatError} (or an
 * {@link UnsupportedTensorTypeError} for unknown tensor type ids) with a stable `code`, never a
 * RangeError or an out-of-memory crash: counts are checked against the bytes that remain before
 * anything is allocated.
 */
import { ModelFormatError, UnsupportedTensorTypeError } from '../../core/errors.js';
import { GGML_TYPES } from '../../core/ggml-type.js';
import { closeSync, openSync, readSync } from 'node:fs';
import { readFileBytes } from '../file-bytes.js';

/** GGUF metadata value types (gguf.h `enum gguf_type`, gguf-py `GGUFValueType`). */
export enum GGUFValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** A decoded GGUF array: numeric arrays are typed arrays (copied, so always aligned). */
export type GGUFArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigUint64Array
  | BigInt64Array
  | boolean[]
  | string[]
  | GGUFValue[];

/**
 * A decoded GGUF metadata value. Scalars: 8/16/32-bit ints and floats → `number`;
 * UINT64/INT64 → `bigint` (use {@link GGUFFile.getNumber} to get a `number`); BOOL → `boolean`;
 * STRING → `string`; ARRAY → {@link GGUFArray}.
 */
export type GGUFValue = number | bigint | boolean | string | GGUFArray;

/** One tensor's descriptor. */
export interface GGUFTensorInfo {
  name: string;
  /** Dimensions in ggml order: `dims[0]` = ne0 = row length (contiguous), then rows, ... */
  dims: number[];
  /** ggml type id ({@link GGMLType}). */
  type: number;
  /** Absolute byte offset of the tensor data in the file. */
  offset: number;
  /** Size of the tensor data in bytes. */
  nbytes: number;
  /** Product of `dims`. */
  nElements: number;
}

/** `"GGUF"` read as a little-endian u32. */
export const GGUF_MAGIC = 0x46554747;
/** Alignment of the data section when `general.alignment` is absent (bytes). */
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** Maximum tensor rank (ggml `GGML_MAX_DIMS`). */
export const GGUF_MAX_DIMS = 4;
/** Maximum nesting of arrays inside arrays accepted (guards the recursion). */
const MAX_ARRAY_DEPTH = 8;

/** Element size in bytes of fixed-size value types; 0 for STRING/ARRAY. */
const SCALAR_SIZE: Record<number, number> = {
  [GGUFValueType.UINT8]: 1,
  [GGUFValueType.INT8]: 1,
  [GGUFValueType.UINT16]: 2,
  [GGUFValueType.INT16]: 2,
  [GGUFValueType.UINT32]: 4,
  [GGUFValueType.INT32]: 4,
  [GGUFValueType.FLOAT32]: 4,
  [GGUFValueType.BOOL]: 1,
  [GGUFValueType.UINT64]: 8,
  [GGUFValueType.INT64]: 8,
  [GGUFValueType.FLOAT64]: 8,
};

/** Smallest encoded size of one value of `type` (used to reject absurd counts). */
function minValueSize(type: GGUFValueType): number {
  if (type === GGUFValueType.STRING) return 8;
  if (type === GGUFValueType.ARRAY) return 12;
  return SCALAR_SIZE[type];
}

/** Name of a value type, e.g. `UINT32`, or `type#N` when unknown. */
export function ggufValueTypeName(t: number): string {
  return GGUFValueType[t] ?? `type#${t}`;
}

const IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Bounds-checked little-endian cursor. */
class Cursor {
  pos = 0;
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    private readonly source: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  need(n: number, what: string): void {
    if (n > this.bytes.length - this.pos) {
      throw new ModelFormatError(
        'GGUF_TRUNCATED',
        `${this.source}: truncated while reading ${what} at byte ${this.pos} (need ${n}, ${this.remaining} left)`,
      );
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.pos++];
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(what: string): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /**
   * A count (u64) that is then checked against the remaining bytes: `count * minSize` must fit.
   * Rejecting here is what keeps a hostile 2^63 count from allocating anything.
   */
  count(what: string, minSize: number): number {
    const c = this.u64(what);
    if (c > BigInt(this.remaining) / BigInt(Math.max(1, minSize))) {
      throw new ModelFormatError(
        'GGUF_TRUNCATED',
        `${this.source}: ${what} = ${c} cannot fit in the ${this.remaining} bytes left at byte ${this.pos - 8} (file truncated or corrupt)`,
      );
    }
    return Number(c);
  }

  string(what: string): string {
    const n = this.count(`${what} length`, 1);
    const start = this.pos;
    this.pos += n;
    return decodeUtf8(this.bytes, start, start + n);
  }

  /** Copy `n` elements of `size` bytes into a fresh aligned buffer. */
  copy(n: number, size: number): ArrayBuffer {
    const len = n * size;
    this.need(len, 'array data');
    const out = new ArrayBuffer(len);
    new Uint8Array(out).set(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return out;
  }

  scalar(type: GGUFValueType, what: string): number | bigint | boolean {
    const size = SCALAR_SIZE[type];
    this.need(size, what);
    const p = this.pos;
    this.pos += size;
    const v = this.view;
    switch (type) {
      case GGUFValueType.UINT8: return v.getUint8(p);
      case GGUFValueType.INT8: return v.getInt8(p);
      case GGUFValueType.UINT16: return v.getUint16(p, true);
      case GGUFValueType.INT16: return v.getInt16(p, true);
      case GGUFValueType.UINT32: return v.getUint32(p, true);
      case GGUFValueType.INT32: return v.getInt32(p, true);
      case GGUFValueType.FLOAT32: return v.getFloat32(p, true);
      case GGUFValueType.BOOL: return v.getUint8(p) !== 0;
      case GGUFValueType.UINT64: return v.getBigUint64(p, true);
      case GGUFValueType.INT64: return v.getBigInt64(p, true);
      case GGUFValueType.FLOAT64: return v.getFloat64(p, true);
      default: throw new Error(`unreachable scalar type ${type}`);
    }
  }
}

/** UTF-8 decode of bytes[start, end); plain ASCII strings take a fast path. */
function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 64) {
    for (let i = start; i < end; i++) {
      if (bytes[i] >= 0x80) return utf8.decode(bytes.subarray(start, end));
    }
    return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  }
  return utf8.decode(bytes.subarray(start, end));
}

function checkValueType(t: number, source: string, where: string): GGUFValueType {
  if (!(t in GGUFValueType) || t < 0 || t > 12) {
    throw new ModelFormatError('GGUF_BAD_VALUE_TYPE', `${source}: unknown metadata value type ${t} ${where}`);
  }
  return t as GGUFValueType;
}

/** Parsed value plus its declared type(s). */
interface TypedValue {
  value: GGUFValue;
  type: GGUFValueType;
  arrayType?: GGUFValueType;
}

function readArray(cur: Cursor, source: string, key: string, depth: number): TypedValue {
  if (depth > MAX_ARRAY_DEPTH) {
    throw new ModelFormatError('GGUF_BAD_VALUE_TYPE', `${source}: arrays nested deeper than ${MAX_ARRAY_DEPTH} in '${key}'`);
  }
  const et = checkValueType(cur.u32(`array type of '${key}'`), source, `(array element of '${key}')`);
  const n = cur.count(`array length of '${key}'`, minValueSize(et));
  let value: GGUFArray;
  switch (et) {
    case GGUFValueType.UINT8: value = new Uint8Array(cur.copy(n, 1)); break;
    case GGUFValueType.INT8: value = new Int8Array(cur.copy(n, 1)); break;
    case GGUFValueType.UINT16: value = new Uint16Array(cur.copy(n, 2)); break;
    case GGUFValueType.INT16: value = new Int16Array(cur.copy(n, 2)); break;
    case GGUFValueType.UINT32: value = new Uint32Array(cur.copy(n, 4)); break;
    case GGUFValueType.INT32: value = new Int32Array(cur.copy(n, 4)); break;
    case GGUFValueType.FLOAT32: value = new Float32Array(cur.copy(n, 4)); break;
    case GGUFValueType.UINT64: value = new BigUint64Array(cur.copy(n, 8)); break;
    case GGUFValueType.INT64: value = new BigInt64Array(cur.copy(n, 8)); break;
    case GGUFValueType.FLOAT64: value = new Float64Array(cur.copy(n, 8)); break;
    case GGUFValueType.BOOL: {
      cur.need(n, `bool array '${key}'`);
      const out = new Array<boolean>(n);
      for (let i = 0; i < n; i++) out[i] = cur.bytes[cur.pos + i] !== 0;
      cur.pos += n;
      value = out;
      break;
    }
    case GGUFValueType.STRING: {
      // Hot path (vocabularies of 50k-260k strings): no per-element message building.
      const out = new Array<string>(n);
      const b = cur.bytes;
      const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      let p = cur.pos;
      for (let i = 0; i < n; i++) {
        if (b.length - p < 8) {
          cur.pos = p;
          cur.need(8, `length of string #${i} of '${key}'`);
        }
        const lo = view.getUint32(p, true);
        const hi = view.getUint32(p + 4, true);
        p += 8;
        const len = hi === 0 ? lo : Number.MAX_SAFE_INTEGER;
        if (len > b.length - p) {
          cur.pos = p - 8;
          throw new ModelFormatError(
            'GGUF_TRUNCATED',
            `${source}: string #${i} of '${key}' has length ${view.getBigUint64(p - 8, true)}, more than the ${b.length - p} bytes left (file truncated or corrupt)`,
          );
        }
        const e = p + len;
        out[i] = decodeUtf8(b, p, e);
        p = e;
      }
      cur.pos = p;
      value = out;
      break;
    }
    case GGUFValueType.ARRAY: {
      const out = new Array<GGUFValue>(n);
      for (let i = 0; i < n; i++) out[i] = readArray(cur, source, key, depth + 1).value;
      value = out;
      break;
    }
  }
  return { value, type: GGUFValueType.ARRAY, arrayType: et };
}

function readValue(cur: Cursor, type: GGUFValueType, source: string, key: string): TypedValue {
  if (type === GGUFValueType.STRING) return { value: cur.string(`value of '${key}'`), type };
  if (type === GGUFValueType.ARRAY) return readArray(cur, source, key, 0);
  return { value: cur.scalar(type, `value of '${key}'`), type };
}

function isTypedOrArray(v: GGUFValue): v is GGUFArray {
  return Array.isArray(v) || ArrayBuffer.isView(v);
}

/** A parsed GGUF file: metadata, tensor descriptors, and zero-copy access to tensor bytes. */
export class GGUFFile {
  /** Format version (2 or 3). */
  readonly version: number;
  /** Metadata key → value, in file order. */
  readonly metadata: Map<string, GGUFValue>;
  /** Metadata key → declared value type. */
  readonly metadataTypes: Map<string, GGUFValueType>;
  /** Metadata key → element type, for ARRAY-typed keys only. */
  readonly metadataArrayTypes: Map<string, GGUFValueType>;
  /** Tensor descriptors in file order. */
  readonly tensors: GGUFTensorInfo[];
  /** Data-section alignment in bytes (`general.alignment`, default 32). */
  readonly alignment: number;
  /** Absolute byte offset where the data section starts. */
  readonly dataOffset: number;
  /** The whole file (treat as read-only). */
  readonly bytes: Uint8Array;
  /** Where the bytes came from (path or `<buffer>`), used in error messages. */
  readonly source: string;
  private readonly byName: Map<string, GGUFTensorInfo>;

  /** @internal Use {@link parseGGUF} or {@link openGGUF}. */
  constructor(init: {
    version: number;
    metadata: Map<string, GGUFValue>;
    metadataTypes: Map<string, GGUFValueType>;
    metadataArrayTypes: Map<string, GGUFValueType>;
    tensors: GGUFTensorInfo[];
    alignment: number;
    dataOffset: number;
    bytes: Uint8Array;
    source: string;
  }) {
    this.version = init.version;
    this.metadata = init.metadata;
    this.metadataTypes = init.metadataTypes;
    this.metadataArrayTypes = init.metadataArrayTypes;
    this.tensors = init.tensors;
    this.alignment = init.alignment;
    this.dataOffset = init.dataOffset;
    this.bytes = init.bytes;
    this.source = init.source;
    this.byName = new Map(init.tensors.map((t) => [t.name, t]));
  }

  /** `general.architecture`, or `undefined` when absent or not a string. */
  get architecture(): string | undefined {
    const v = this.metadata.get('general.architecture');
    return typeof v === 'string' ? v : undefined;
  }

  /** Descriptor of the tensor called `name`, or `undefined`. */
  tensor(name: string): GGUFTensorInfo | undefined {
    return this.byName.get(name);
  }

  /**
   * Zero-copy view of a tensor's raw bytes (in its ggml block layout).
   * @throws ModelFormatError `GGUF_MISSING_TENSOR` when given a name that is not in the file.
   */
  tensorData(t: GGUFTensorInfo | string): Uint8Array {
    const info = typeof t === 'string' ? this.byName.get(t) : t;
    if (!info) throw new ModelFormatError('GGUF_MISSING_TENSOR', `${this.source}: no tensor named '${String(t)}'`);
    return this.bytes.subarray(info.offset, info.offset + info.nbytes);
  }

  /** Whether metadata key `key` is present. */
  has(key: string): boolean {
    return this.metadata.has(key);
  }

  private missing(key: string): never {
    throw new ModelFormatError('GGUF_MISSING_KEY', `${this.source}: required metadata key '${key}' is missing`);
  }

  private badType(key: string, want: string): never {
    const t = this.metadataTypes.get(key);
    const at = this.metadataArrayTypes.get(key);
    const got = t === GGUFValueType.ARRAY ? `ARRAY<${ggufValueTypeName(at ?? -1)}>` : ggufValueTypeName(t ?? -1);
    throw new ModelFormatError('GGUF_BAD_KEY_TYPE', `${this.source}: metadata key '${key}' is ${got}, expected ${want}`);
  }

  /**
   * A STRING metadata value.
   * @throws ModelFormatError `GGUF_MISSING_KEY` (absent, no default) / `GGUF_BAD_KEY_TYPE`.
   */
  getString(key: string, def?: string): string {
    const v = this.metadata.get(key);
    if (v === undefined) return def !== undefined ? def : this.missing(key);
    if (typeof v !== 'string') this.badType(key, 'STRING');
    return v;
  }

  /**
   * Any numeric scalar (ints, floats; UINT64/INT64 converted to `number`).
   * @throws ModelFormatError `GGUF_MISSING_KEY` / `GGUF_BAD_KEY_TYPE` (not numeric, or a 64-bit
   *   integer beyond `Number.MAX_SAFE_INTEGER`).
   */
  getNumber(key: string, def?: number): number {
    const v = this.metadata.get(key);
    if (v === undefined) return def !== undefined ? def : this.missing(key);
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint') {
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
        this.badType(key, 'a number within ±2^53');
      }
      return Number(v);
    }
    return this.badType(key, 'a number');
  }

  /**
   * A BOOL metadata value.
   * @throws ModelFormatError `GGUF_MISSING_KEY` / `GGUF_BAD_KEY_TYPE`.
   */
  getBool(key: string, def?: boolean): boolean {
    const v = this.metadata.get(key);
    if (v === undefined) return def !== undefined ? def : this.missing(key);
    if (typeof v !== 'boolean') this.badType(key, 'BOOL');
    return v;
  }

  /**
   * An ARRAY metadata value (typed array / boolean[] / string[] / nested).
   * @throws ModelFormatError `GGUF_MISSING_KEY` / `GGUF_BAD_KEY_TYPE`.
   */
  getArray(key: string, def?: GGUFArray): GGUFArray {
    const v = this.metadata.get(key);
    if (v === undefined) return def !== undefined ? def : this.missing(key);
    if (!isTypedOrArray(v)) this.badType(key, 'ARRAY');
    return v;
  }

  /**
   * An ARRAY of STRING (e.g. `tokenizer.ggml.tokens`, `tokenizer.ggml.merges`).
   * @throws ModelFormatError `GGUF_MISSING_KEY` / `GGUF_BAD_KEY_TYPE`.
   */
  getStringArray(key: string, def?: string[]): string[] {
    const v = this.metadata.get(key);
    if (v === undefined) return def !== undefined ? def : this.missing(key);
    if (this.metadataArrayTypes.get(key) !== GGUFValueType.STRING) this.badType(key, 'ARRAY<STRING>');
    return v as string[];
  }

  /**
   * An ARRAY of a numeric type as a typed array (e.g. `tokenizer.ggml.scores` → Float32Array,
   * `tokenizer.ggml.token_type` → Int32Array). 64-bit integer arrays come back as BigInt arrays.
   * @throws ModelFormatError `GGUF_MISSING_KEY` / `GGUF_BAD_KEY_TYPE`.
   */
  getNumericArray(
    key: string,
  ): Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array | BigUint64Array | BigInt64Array {
    const v = this.metadata.get(key);
    if (v === undefined) this.missing(key);
    if (!ArrayBuffer.isView(v)) this.badType(key, 'a numeric ARRAY');
    return v;
  }
}

/**
 * Parse a GGUF v2/v3 file held entirely in `bytes`. Tensor data is not copied: use
 * {@link GGUFFile.tensorData} for zero-copy views.
 *
 * @param bytes the whole file.
 * @param source name used in error messages (a path).
 * @throws ModelFormatError with `code`:
 *   `GGUF_BAD_MAGIC`, `GGUF_BAD_VERSION` (v1, big-endian, or unknown), `GGUF_TRUNCATED` (a read past the end, or a
 *   tensor/kv/array/string count larger than the remaining bytes could hold — rejected before
 *   any allocation),
 *   `GGUF_BAD_VALUE_TYPE`, `GGUF_DUPLICATE_KEY`, `GGUF_BAD_ALIGNMENT` (alignment not a power
 *   of two or not UINT32, or a tensor offset not a multiple of it), `GGUF_BAD_DIMS` (0 or >4 dims,
 *   negative or overflowing dims, row length not a multiple of the block size),
 *   `GGUF_DUPLICATE_TENSOR`, `GGUF_TENSOR_OUT_OF_BOUNDS` (data past end of file).
 * @throws UnsupportedTensorTypeError `UNKNOWN_TENSOR_TYPE` for a ggml type id that does not exist.
 */
export function parseGGUF(bytes: Uint8Array, source = '<buffer>'): GGUFFile {
  if (!IS_LITTLE_ENDIAN) throw new ModelFormatError('GGUF_BAD_VERSION', 'big-endian hosts are not supported');
  const cur = new Cursor(bytes, source);
  if (bytes.length < 4) throw new ModelFormatError('GGUF_BAD_MAGIC', `${source}: file too short to be GGUF (${bytes.length} bytes)`);
  const magic = cur.u32('magic');
  if (magic !== GGUF_MAGIC) {
    const shown = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new ModelFormatError('GGUF_BAD_MAGIC', `${source}: not a GGUF file (magic bytes ${shown}, expected 47 47 55 46 "GGUF")`);
  }
  const version = cur.u32('version');
  if (version !== 2 && version !== 3) {
    if ((version & 0xffff) === 0 && version !== 0) {
      throw new ModelFormatError('GGUF_BAD_VERSION', `${source}: big-endian GGUF files are not supported`);
    }
    const why = version === 1 ? 'GGUF v1 is obsolete and not supported' : `unsupported GGUF version ${version}`;
    throw new ModelFormatError('GGUF_BAD_VERSION', `${source}: ${why} (supported: 2, 3)`);
  }
  // Minimum encoded size of one tensor info (name len, n_dims, one dim, type, offset) and of one kv.
  const nTensors = cur.count('tensor count', 8 + 4 + 8 + 4 + 8);
  const nKV = cur.count('metadata count', 8 + 4 + 1);

  const metadata = new Map<string, GGUFValue>();
  const metadataTypes = new Map<string, GGUFValueType>();
  const metadataArrayTypes = new Map<string, GGUFValueType>();
  for (let i = 0; i < nKV; i++) {
    const key = cur.string(`metadata key #${i}`);
    if (metadata.has(key)) throw new ModelFormatError('GGUF_DUPLICATE_KEY', `${source}: duplicate metadata key '${key}'`);
    const type = checkValueType(cur.u32(`type of '${key}'`), source, `for key '${key}'`);
    const tv = readValue(cur, type, source, key);
    metadata.set(key, tv.value);
    metadataTypes.set(key, tv.type);
    if (tv.arrayType !== undefined) metadataArrayTypes.set(key, tv.arrayType);
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  if (metadata.has('general.alignment')) {
    if (metadataTypes.get('general.alignment') !== GGUFValueType.UINT32) {
      throw new ModelFormatError('GGUF_BAD_ALIGNMENT', `${source}: general.alignment must be UINT32, got ${ggufValueTypeName(metadataTypes.get('general.alignment')!)}`);
    }
    alignment = metadata.get('general.alignment') as number;
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) {
      throw new ModelFormatError('GGUF_BAD_ALIGNMENT', `${source}: general.alignment ${alignment} is not a power of two`);
    }
  }

  const tensors: GGUFTensorInfo[] = [];
  const relOffsets: bigint[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const name = cur.string(`tensor name #${i}`);
    if (seen.has(name)) throw new ModelFormatError('GGUF_DUPLICATE_TENSOR', `${source}: duplicate tensor '${name}'`);
    seen.add(name);
    const nDims = cur.u32(`n_dims of '${name}'`);
    if (nDims === 0 || nDims > GGUF_MAX_DIMS) {
      throw new ModelFormatError('GGUF_BAD_DIMS', `${source}: tensor '${name}' has ${nDims} dims (expected 1..${GGUF_MAX_DIMS})`);
    }
    const dims: number[] = [];
    let nElements = 1;
    for (let d = 0; d < nDims; d++) {
      const ne = cur.u64(`dim ${d} of '${name}'`);
      if (ne > 0x7fffffffffffffffn) {
        throw new ModelFormatError('GGUF_BAD_DIMS', `${source}: tensor '${name}' has negative dim ${d} (${BigInt.asIntN(64, ne)})`);
      }
      if (ne > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new ModelFormatError('GGUF_BAD_DIMS', `${source}: tensor '${name}' dim ${d} = ${ne} is too large`);
      }
      dims.push(Number(ne));
      nElements *= Number(ne);
      if (!Number.isSafeInteger(nElements)) {
        throw new ModelFormatError('GGUF_BAD_DIMS', `${source}: tensor '${name}' element count overflows (dims ${dims.join('×')}...)`);
      }
    }
    const type = cur.u32(`type of '${name}'`);
    const ti = GGML_TYPES.get(type);
    if (!ti) throw new UnsupportedTensorTypeError('UNKNOWN_TENSOR_TYPE', `${source}: tensor '${name}' has unknown ggml type id ${type}`);
    if (dims[0] % ti.blockSize !== 0) {
      throw new ModelFormatError('GGUF_BAD_DIMS', `${source}: tensor '${name}' row length ${dims[0]} is not a multiple of ${ti.name}'s block size ${ti.blockSize}`);
    }
    const rel = cur.u64(`offset of '${name}'`);
    if (rel % BigInt(alignment) !== 0n) {
      throw new ModelFormatError('GGUF_BAD_ALIGNMENT', `${source}: tensor '${name}' offset ${rel} is not a multiple of the alignment ${alignment}`);
    }
    relOffsets.push(rel);
    tensors.push({ name, dims, type, offset: 0, nbytes: (nElements / ti.blockSize) * ti.typeSize, nElements });
  }

  const dataOffset = Math.ceil(cur.pos / alignment) * alignment;
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i];
    const abs = BigInt(dataOffset) + relOffsets[i];
    if (abs + BigInt(t.nbytes) > BigInt(bytes.length)) {
      throw new ModelFormatError(
        'GGUF_TENSOR_OUT_OF_BOUNDS',
        `${source}: tensor '${t.name}' data [${abs}, ${abs + BigInt(t.nbytes)}) lies past the end of the file (${bytes.length} bytes)`,
      );
    }
    t.offset = Number(abs);
  }

  return new GGUFFile({ version, metadata, metadataTypes, metadataArrayTypes, tensors, alignment, dataOffset, bytes, source });
}

/**
 * Read and parse the GGUF file at `path`.
 * @throws ModelFormatError `FILE_READ_FAILED` when unreadable, plus everything {@link parseGGUF}
 *   throws.
 */
export function openGGUF(path: string): GGUFFile {
  return parseGGUF(readFileBytes(path), path);
}

/**
 * Reads one metadata value from the head of the GGUF file at `path` without parsing the rest:
 * the key/value list is walked with the same bounds-checked reader as {@link parseGGUF}, over at
 * most the first `windowBytes` bytes, and the walk stops at `key`. Meant for dispatching on
 * `general.architecture` (which writers put first) before choosing a loader, so that a language
 * model's vocabulary is not parsed twice.
 * @param path a file path.
 * @param key the metadata key, e.g. `general.architecture`.
 * @param windowBytes how much of the file head to read (bytes, default 64 KiB).
 * @returns the value, or `undefined` when the key does not occur within the window.
 * @throws ModelFormatError `FILE_READ_FAILED` when unreadable, `GGUF_BAD_MAGIC` /
 *   `GGUF_BAD_VERSION` for a file that is not GGUF v2/v3, and the value errors of
 *   {@link parseGGUF} for a malformed entry before `key`.
 */
export function peekGGUFMetadata(path: string, key: string, windowBytes = 65536): GGUFValue | undefined {
  let head: Uint8Array;
  try {
    const fd = openSync(path, 'r');
    try {
      const buf = new Uint8Array(windowBytes);
      head = buf.subarray(0, readSync(fd, buf, 0, windowBytes, 0));
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new ModelFormatError('FILE_READ_FAILED', `cannot read ${path}: ${msg}`, { cause: err });
  }
  const cur = new Cursor(head, path);
  if (head.length < 8 || cur.u32('magic') !== GGUF_MAGIC) throw new ModelFormatError('GGUF_BAD_MAGIC', `${path}: not a GGUF file`);
  const version = cur.u32('version');
  if (version !== 2 && version !== 3) throw new ModelFormatError('GGUF_BAD_VERSION', `${path}: unsupported GGUF version ${version} (supported: 2, 3)`);
  try {
    cur.u64('tensor count');
    const nKV = cur.u64('metadata count');
    for (let i = 0n; i < nKV; i++) {
      const k = cur.string(`metadata key #${i}`);
      const type = checkValueType(cur.u32(`type of '${k}'`), path, `for key '${k}'`);
      const tv = readValue(cur, type, path, k);
      if (k === key) return tv.value;
    }
  } catch (err) {
    // The window ended inside an entry: the key is not in the head.
    if (err instanceof ModelFormatError && err.code === 'GGUF_TRUNCATED' && head.length === windowBytes) return undefined;
    throw err;
  }
  return undefined;
}
