/**
 * Shared helpers of the op tests: a seeded RNG, binary16 decoding, random ggml blocks with finite
 * scales, the gguf-py (numpy) reference runner, and a wrapper forcing the native scalar path.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GGMLType, rowBytes } from '../../src/core/ggml-type.js';
import { native } from '../../src/backends/cpu/native.js';

/** Project root: the nearest ancestor holding package.json (works from tests/ and dist/tests/). */
export const ROOT = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();

/** Deterministic uniform [0,1) generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n standard-normal float32 values (Box–Muller) times `scale`. */
export function gaussian(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return out;
}

/** binary16 bits → number (exact). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** A finite binary16 bit pattern near ±2^[lo, hi). */
function randomHalf(r: () => number, lo: number, hi: number, signed: boolean): number {
  const e = Math.floor(lo + r() * (hi - lo)) + 15;
  const bits = (e << 10) | Math.floor(r() * 1024);
  return signed && r() < 0.5 ? bits | 0x8000 : bits;
}

/** Byte offsets of the fp16 scale fields within one block of each quantized type. */
const SCALE_FIELDS: Partial<Record<number, { offsets: number[]; signed: boolean[] }>> = {
  [GGMLType.Q4_0]: { offsets: [0], signed: [true] },
  [GGMLType.Q4_1]: { offsets: [0, 2], signed: [false, true] },
  [GGMLType.Q5_0]: { offsets: [0], signed: [true] },
  [GGMLType.Q5_1]: { offsets: [0, 2], signed: [false, true] },
  [GGMLType.Q8_0]: { offsets: [0], signed: [true] },
  [GGMLType.Q4_K]: { offsets: [0, 2], signed: [false, false] },
  [GGMLType.Q5_K]: { offsets: [0, 2], signed: [false, false] },
  [GGMLType.Q6_K]: { offsets: [208], signed: [true] },
};

/**
 * Random raw bytes of `nBlocks` blocks of `type` with finite fp16 scales (random everywhere else,
 * so every quant level and scale bit pattern occurs). F16/BF16 elements are finite (subnormals
 * included); F32 elements are gaussian.
 */
export function randomBlocks(type: number, nElems: number, seed: number): Uint8Array {
  const r = rng(seed);
  const bytes = new Uint8Array(rowBytes(type, nElems));
  if (type === GGMLType.F32) {
    bytes.set(new Uint8Array(gaussian(nElems, seed).buffer));
    return bytes;
  }
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(r() * 256);
  const u16 = new Uint16Array(bytes.buffer);
  if (type === GGMLType.F16) {
    for (let i = 0; i < u16.length; i++) if ((u16[i]! & 0x7c00) === 0x7c00) u16[i]! &= ~0x4000;
    return bytes;
  }
  if (type === GGMLType.BF16) {
    for (let i = 0; i < u16.length; i++) if ((u16[i]! & 0x7f80) === 0x7f80) u16[i]! &= ~0x4000;
    return bytes;
  }
  const f = SCALE_FIELDS[type];
  if (!f) throw new Error(`randomBlocks: no layout for type ${type}`);
  const blockBytes = rowBytes(type, nElems) / (nElems / (type >= GGMLType.Q4_K ? 256 : 32));
  const dv = new DataView(bytes.buffer);
  for (let b = 0; b < bytes.length; b += blockBytes)
    f.offsets.forEach((o, k) => dv.setUint16(b + o, randomHalf(r, -12, -4, f.signed[k]!), true));
  return bytes;
}

export const GGUF_PY = join(ROOT, '.cache', 'llama.cpp', 'gguf-py');

/** One gguf-py operation: dequantize raw blocks, or quantize float32 values. */
export interface RefOp {
  op: 'dequantize' | 'quantize';
  type: number;
  data: Uint8Array;
}

/**
 * Run ops through gguf-py's numpy (de)quantizers. Returns null (with `why`) when python3, numpy or
 * gguf-py is unavailable; a result entry is null where gguf-py lacks that quantizer.
 */
export function ggufRef(ops: RefOp[]): { results: (Uint8Array | null)[] } | { skip: string } {
  if (!existsSync(join(GGUF_PY, 'gguf', 'quants.py'))) return { skip: `gguf-py not found at ${GGUF_PY} (run npm run fixtures)` };
  const input = JSON.stringify({
    gguf_py: GGUF_PY,
    ops: ops.map((o) => ({ op: o.op, type: o.type, data: Buffer.from(o.data.buffer, o.data.byteOffset, o.data.byteLength).toString('base64') })),
  });
  try {
    const out = execFileSync('python3', [join(ROOT, 'tests', 'ops', 'gguf_ref.py')], { input, maxBuffer: 1 << 28, stdio: ['pipe', 'pipe', 'pipe'] });
    const parsed = JSON.parse(out.toString()) as { results: (string | null)[] };
    return { results: parsed.results.map((s) => (s === null ? null : new Uint8Array(Buffer.from(s, 'base64')))) };
  } catch (e) {
    const err = e as { status?: number; stderr?: Buffer; message: string };
    if (err.status === 3 || (err as { code?: string }).code === 'ENOENT') {
      return { skip: `python3 + numpy unavailable (pip install numpy): ${err.stderr?.toString().trim() ?? err.message}` };
    }
    throw e;
  }
}

/**
 * Runs fn with the native addon forced to its scalar kernels (the reference the WASM build must
 * match bit for bit), then restores the previous path. Throws whatever native() or fn throws.
 */
export function withScalarPath<T>(fn: () => T): T {
  const k = native();
  const prev = k.getPath();
  k.setPath('scalar');
  try {
    return fn();
  } finally {
    k.setPath(prev);
  }
}
