/**
 * A printable summary of a GGUF file, used by `synflux inspect`. Large arrays (vocabularies,
 * merges, scores) are summarised as type + length + a short preview instead of being dumped.
 */
import { typeName } from '../../core/ggml-type.js';
import { GGUFValueType, ggufValueTypeName, type GGUFFile, type GGUFValue } from './reader.js';

/** One metadata entry in the summary. */
export interface GGUFMetadataSummary {
  /** Value type name, e.g. `UINT32`, or `ARRAY<STRING>`. */
  type: string;
  /** Scalars as-is (64-bit ints as decimal strings); long strings and arrays abbreviated. */
  value: string | number | boolean | null;
  /** Array length, for ARRAY values. */
  length?: number;
}

/** One tensor in the summary. */
export interface GGUFTensorSummary {
  name: string;
  /** ggml type name, e.g. `Q4_K`. */
  type: string;
  /** ggml order: row length first. */
  dims: number[];
  /** Data size in bytes. */
  bytes: number;
  /** Absolute offset in the file (bytes). */
  offset: number;
}

/** What {@link describeGGUF} returns (JSON-serialisable). */
export interface GGUFDescription {
  source: string;
  version: number;
  /** `general.architecture`, or null. */
  architecture: string | null;
  /** `general.name`, or null. */
  name: string | null;
  alignment: number;
  /** Byte offset of the data section. */
  dataOffset: number;
  /** File size in bytes. */
  fileBytes: number;
  metadata: Record<string, GGUFMetadataSummary>;
  tensorCount: number;
  /** Sum of tensor data sizes in bytes. */
  tensorBytes: number;
  /** Total parameter count (sum of element counts). */
  parameters: number;
  /** Tensor count and bytes per ggml type name. */
  byType: Record<string, { count: number; bytes: number }>;
  tensors: GGUFTensorSummary[];
}

const MAX_STRING = 200;
const PREVIEW = 5;

function short(s: string): string {
  return s.length > MAX_STRING ? `${s.slice(0, MAX_STRING)}… (${s.length} chars)` : s;
}

function scalar(v: GGUFValue): string | number | boolean {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return short(v);
  return v as number | boolean;
}

function summarise(v: GGUFValue, type: GGUFValueType, arrayType: GGUFValueType | undefined): GGUFMetadataSummary {
  if (type !== GGUFValueType.ARRAY) return { type: ggufValueTypeName(type), value: scalar(v) };
  const arr = Array.from(v as ArrayLike<GGUFValue>);
  const head = arr.slice(0, PREVIEW).map((x) => (Array.isArray(x) || ArrayBuffer.isView(x) ? '[…]' : JSON.stringify(scalar(x))));
  const preview = `[${head.join(', ')}${arr.length > PREVIEW ? `, … ${arr.length - PREVIEW} more` : ''}]`;
  return { type: `ARRAY<${ggufValueTypeName(arrayType ?? -1)}>`, value: preview, length: arr.length };
}

/**
 * Summarise a parsed GGUF file: version, architecture, metadata (arrays shown as type, length
 * and a 5-element preview; strings cut at 200 characters), every tensor with type name, dims
 * and size, totals per type.
 */
export function describeGGUF(file: GGUFFile): GGUFDescription {
  const metadata: Record<string, GGUFMetadataSummary> = {};
  for (const [k, v] of file.metadata) {
    metadata[k] = summarise(v, file.metadataTypes.get(k)!, file.metadataArrayTypes.get(k));
  }
  const byType: Record<string, { count: number; bytes: number }> = {};
  let tensorBytes = 0;
  let parameters = 0;
  const tensors = file.tensors.map((t) => {
    const tn = typeName(t.type);
    const e = (byType[tn] ??= { count: 0, bytes: 0 });
    e.count++;
    e.bytes += t.nbytes;
    tensorBytes += t.nbytes;
    parameters += t.nElements;
    return { name: t.name, type: tn, dims: [...t.dims], bytes: t.nbytes, offset: t.offset };
  });
  const str = (k: string) => {
    const v = file.metadata.get(k);
    return typeof v === 'string' ? v : null;
  };
  return {
    source: file.source,
    version: file.version,
    architecture: str('general.architecture'),
    name: str('general.name'),
    alignment: file.alignment,
    dataOffset: file.dataOffset,
    fileBytes: file.bytes.length,
    metadata,
    tensorCount: tensors.length,
    tensorBytes,
    parameters,
    byType,
    tensors,
  };
}
