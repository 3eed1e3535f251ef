/**
 * GGUF v3 writer (little-endian). Produces the layout read by {@link parseGGUF}, by llama.cpp's
 * ggml/src/gguf.cpp and by gguf-py's GGUFReader: header, metadata KVs, tensor infos, padding to
 * the alignment, then tensor data with each tensor padded to the alignment (gguf.cpp
 * `gguf_write_to_buf`, gguf-py `GGUFWriter`).
 */
import { writeFileSync } from 'node:fs';
import { ModelFormatError } from '../../core/errors.js';
import { typeInfo } from '../../core/ggml-type.js';
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_MAX_DIMS, GGUFValueType, type GGUFValue } from './reader.js';

/** One metadata entry to write. `arrayType` is required when `type` is ARRAY. */
export interface GGUFMetadataEntry {
  key: string;
  type: GGUFValueType;
  /**
   * number/bigint for numeric scalars (bigint or safe-integer number for 64-bit ints), boolean
   * for BOOL, string for STRING; for ARRAY any iterable of element values (typed array,
   * number[], string[], boolean[]); nested arrays are not supported by the writer.
   */
  value: GGUFValue | number[] | bigint[];
  arrayType?: GGUFValueType;
}

/** One tensor to write: `dims` in ggml order (ne0 = row length first), `data` raw block bytes. */
export interface GGUFTensorEntry {
  name: string;
  dims: number[];
  /** ggml type id. */
  type: number;
  /** Exactly `rowBytes(type, dims[0]) * dims[1] * ...` bytes. */
  data: Uint8Array;
}

/** Input of {@link serializeGGUF}. */
export interface GGUFWriteSpec {
  metadata: GGUFMetadataEntry[];
  tensors: GGUFTensorEntry[];
  /**
   * Data alignment in bytes (power of two). Defaults to a `general.alignment` UINT32 entry in
   * `metadata` if present, else 32. When given and different from 32 and no `general.alignment`
   * entry exists, one is added so readers agree.
   */
  alignment?: number;
}

const enc = new TextEncoder();

/** Growable little-endian byte sink. */
class Sink {
  buf = new Uint8Array(1 << 16);
  view = new DataView(this.buf.buffer);
  len = 0;
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
    this.view = new DataView(nb.buffer);
  }
  u8(v: number): void { this.ensure(1); this.view.setUint8(this.len, v); this.len += 1; }
  i8(v: number): void { this.ensure(1); this.view.setInt8(this.len, v); this.len += 1; }
  u16(v: number): void { this.ensure(2); this.view.setUint16(this.len, v, true); this.len += 2; }
  i16(v: number): void { this.ensure(2); this.view.setInt16(this.len, v, true); this.len += 2; }
  u32(v: number): void { this.ensure(4); this.view.setUint32(this.len, v, true); this.len += 4; }
  i32(v: number): void { this.ensure(4); this.view.setInt32(this.len, v, true); this.len += 4; }
  f32(v: number): void { this.ensure(4); this.view.setFloat32(this.len, v, true); this.len += 4; }
  f64(v: number): void { this.ensure(8); this.view.setFloat64(this.len, v, true); this.len += 8; }
  u64(v: bigint): void { this.ensure(8); this.view.setBigUint64(this.len, v, true); this.len += 8; }
  i64(v: bigint): void { this.ensure(8); this.view.setBigInt64(this.len, v, true); this.len += 8; }
  bytes(b: Uint8Array): void { this.ensure(b.length); this.buf.set(b, this.len); this.len += b.length; }
  str(s: string): void { const b = enc.encode(s); this.u64(BigInt(b.length)); this.bytes(b); }
  pad(align: number): void { const n = (align - (this.len % align)) % align; this.ensure(n); this.buf.fill(0, this.len, this.len + n); this.len += n; }
}

function toBig(v: unknown, key: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  throw new ModelFormatError('GGUF_BAD_VALUE', `metadata '${key}': ${String(v)} is not a 64-bit integer`);
}

function toNum(v: unknown, key: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new ModelFormatError('GGUF_BAD_VALUE', `metadata '${key}': ${String(v)} is not a number`);
}

function writeScalar(s: Sink, type: GGUFValueType, v: unknown, key: string): void {
  switch (type) {
    case GGUFValueType.UINT8: s.u8(toNum(v, key)); break;
    case GGUFValueType.INT8: s.i8(toNum(v, key)); break;
    case GGUFValueType.UINT16: s.u16(toNum(v, key)); break;
    case GGUFValueType.INT16: s.i16(toNum(v, key)); break;
    case GGUFValueType.UINT32: s.u32(toNum(v, key)); break;
    case GGUFValueType.INT32: s.i32(toNum(v, key)); break;
    case GGUFValueType.FLOAT32: s.f32(toNum(v, key)); break;
    case GGUFValueType.FLOAT64: s.f64(toNum(v, key)); break;
    case GGUFValueType.BOOL: s.u8(v ? 1 : 0); break;
    case GGUFValueType.UINT64: s.u64(BigInt.asUintN(64, toBig(v, key))); break;
    case GGUFValueType.INT64: s.i64(BigInt.asIntN(64, toBig(v, key))); break;
    case GGUFValueType.STRING:
      if (typeof v !== 'string') throw new ModelFormatError('GGUF_BAD_VALUE', `metadata '${key}': expected a string`);
      s.str(v);
      break;
    default:
      throw new ModelFormatError('GGUF_BAD_VALUE_TYPE', `metadata '${key}': cannot write value type ${type} here`);
  }
}

function writeEntry(s: Sink, e: GGUFMetadataEntry): void {
  s.str(e.key);
  s.u32(e.type);
  if (e.type !== GGUFValueType.ARRAY) {
    writeScalar(s, e.type, e.value, e.key);
    return;
  }
  const at = e.arrayType;
  if (at === undefined || at === GGUFValueType.ARRAY) {
    throw new ModelFormatError('GGUF_BAD_VALUE_TYPE', `metadata '${e.key}': ARRAY needs a non-ARRAY arrayType (nested arrays unsupported)`);
  }
  const v = e.value as unknown;
  if (typeof v !== 'object' || v === null || !(Symbol.iterator in v)) {
    throw new ModelFormatError('GGUF_BAD_VALUE', `metadata '${e.key}': ARRAY value is not iterable`);
  }
  const items = Array.from(v as Iterable<unknown>);
  s.u32(at);
  s.u64(BigInt(items.length));
  for (const x of items) writeScalar(s, at, x, e.key);
}

/**
 * Serialize a GGUF v3 file to bytes.
 * @throws ModelFormatError `GGUF_BAD_ALIGNMENT` (not a power of two), `GGUF_BAD_DIMS`
 *   (rank 0 or >4, bad dims, data length not matching dims×type), `GGUF_DUPLICATE_KEY`,
 *   `GGUF_DUPLICATE_TENSOR`, `GGUF_BAD_VALUE(_TYPE)` for values that do not fit their type.
 * @throws UnsupportedTensorTypeError for unknown ggml type ids.
 */
export function serializeGGUF(spec: GGUFWriteSpec): Uint8Array {
  const metadata = [...spec.metadata];
  const alignEntry = metadata.find((m) => m.key === 'general.alignment');
  let alignment = spec.alignment ?? (alignEntry ? Number(alignEntry.value) : GGUF_DEFAULT_ALIGNMENT);
  if (alignEntry) {
    if (alignEntry.type !== GGUFValueType.UINT32 || Number(alignEntry.value) !== alignment) {
      throw new ModelFormatError('GGUF_BAD_ALIGNMENT', `general.alignment entry must be UINT32 and equal the alignment option (${alignment})`);
    }
  } else if (alignment !== GGUF_DEFAULT_ALIGNMENT) {
    metadata.push({ key: 'general.alignment', type: GGUFValueType.UINT32, value: alignment });
  }
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw new ModelFormatError('GGUF_BAD_ALIGNMENT', `alignment ${alignment} is not a power of two`);
  }
  alignment = Number(alignment);

  const keys = new Set<string>();
  for (const m of metadata) {
    if (keys.has(m.key)) throw new ModelFormatError('GGUF_DUPLICATE_KEY', `duplicate metadata key '${m.key}'`);
    keys.add(m.key);
  }

  // Tensor offsets (relative to the data section), each tensor padded to the alignment.
  const names = new Set<string>();
  const offsets: number[] = [];
  let rel = 0;
  for (const t of spec.tensors) {
    if (names.has(t.name)) throw new ModelFormatError('GGUF_DUPLICATE_TENSOR', `duplicate tensor '${t.name}'`);
    names.add(t.name);
    if (t.dims.length === 0 || t.dims.length > GGUF_MAX_DIMS || t.dims.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw new ModelFormatError('GGUF_BAD_DIMS', `tensor '${t.name}': bad dims [${t.dims.join(', ')}]`);
    }
    const ti = typeInfo(t.type);
    const n = t.dims.reduce((a, b) => a * b, 1);
    if (t.dims[0] % ti.blockSize !== 0) {
      throw new ModelFormatError('GGUF_BAD_DIMS', `tensor '${t.name}': row length ${t.dims[0]} not a multiple of ${ti.name} block size ${ti.blockSize}`);
    }
    const nbytes = (n / ti.blockSize) * ti.typeSize;
    if (t.data.length !== nbytes) {
      throw new ModelFormatError('GGUF_BAD_DIMS', `tensor '${t.name}': ${t.data.length} data bytes, dims×${ti.name} need ${nbytes}`);
    }
    offsets.push(rel);
    rel += Math.ceil(nbytes / alignment) * alignment;
  }

  const s = new Sink();
  s.u32(GGUF_MAGIC);
  s.u32(3);
  s.u64(BigInt(spec.tensors.length));
  s.u64(BigInt(metadata.length));
  for (const m of metadata) writeEntry(s, m);
  spec.tensors.forEach((t, i) => {
    s.str(t.name);
    s.u32(t.dims.length);
    for (const d of t.dims) s.u64(BigInt(d));
    s.u32(t.type);
    s.u64(BigInt(offsets[i]));
  });
  s.pad(alignment);
  const header = s.buf.subarray(0, s.len);
  const out = new Uint8Array(header.length + rel);
  out.set(header);
  spec.tensors.forEach((t, i) => out.set(t.data, header.length + offsets[i]));
  return out;
}

/**
 * Serialize a GGUF v3 file and write it to `path`.
 * @throws everything {@link serializeGGUF} throws, plus Node's fs errors.
 */
export function writeGGUF(path: string, spec: GGUFWriteSpec): void {
  writeFileSync(path, serializeGGUF(spec));
}
