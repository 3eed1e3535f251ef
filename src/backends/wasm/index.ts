/**
 * WASM CPU backend: the portable native kernels (native/sf_quant.c, sf_dot_scalar.c, sf_attn.c)
 * compiled to WebAssembly with SIMD128 dot products (wasm/sf_dot_simd128.c), built by
 * `scripts/build-wasm.sh` into wasm/synflux.wasm. Implements `LayerKernels` with the semantics of
 * `NativeKernels` (src/backends/cpu/native.ts); results equal the native *scalar* path bit for bit
 * (the SIMD kernels keep the scalar float order), and differ from the AVX2/AVX-512 paths only by
 * float reordering.
 *
 * Memory: weights are copied into linear memory once per weight buffer (cached by Uint8Array
 * identity, freed when the array is garbage-collected; a weight that is itself a view of linear
 * memory is read in place, and `matmulF32` takes a changing F32 operand without caching it);
 * `allocF32` hands out float buffers in
 * linear memory (the transformer's activations and KV cache) that every kernel reads and writes in
 * place; other arrays go through reusable scratch regions (copied in and out); memory grows as
 * needed up to wasm32's 4 GiB.
 *
 * Threads: the module imports a shared `WebAssembly.Memory`; `setThreads(n)` starts n-1 workers
 * (src/backends/wasm/threads.ts) that instantiate the same module on that memory and share every
 * pool job of wasm/pool.c (matmul rows, attention heads, GLU chunks). Outputs do not depend on
 * the thread count. Where SharedArrayBuffer is missing (a browser page that is not
 * crossOriginIsolated) the module is instantiated on unshared memory and runs single-threaded.
 */
import { packageRoot } from '../../core/package-root.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LayerKernels } from '../kernels.js';
import type { NativeAttentionShape, NativeRopeParams } from '../cpu/native.js';
import { BackendError } from '../../core/errors.js';
import { WasmWorkerPool, unshareMemoryImport, workerFactory } from './threads.js';

/** Command that builds wasm/synflux.wasm. */
export const WASM_BUILD_COMMAND = 'scripts/build-wasm.sh';

/** The parts of the WebAssembly JS API used here (tsconfig's lib has no DOM / WebAssembly types). */
interface WasmMemory { readonly buffer: ArrayBuffer }
interface WasmModule { readonly __brand?: 'module' }
declare const WebAssembly: {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: object): Promise<{ exports: unknown }>;
  Memory: new (d: { initial: number; maximum: number; shared?: boolean }) => WasmMemory;
};

/** Pages (64 KiB) of the module's imported memory: initial (16 MiB) and maximum (4 GiB), as scripts/build-wasm.sh links it. */
const MEMORY_PAGES = { initial: 256, maximum: 65536 };

interface Exports {
  sf_alloc(n: number): number;
  sf_free(p: number): void;
  sf_row_bytes(type: number, n: number): number;
  sf_block_elems(type: number): number;
  sf_act_type(type: number): number;
  sf_has_dot(type: number): number;
  sf_dot_is_simd(type: number): number;
  sf_wasm_matmul(type: number, w: number, nOut: number, nIn: number, x: number, nTok: number, y: number): number;
  sf_wasm_matmul_multi(type: number, nIn: number, x: number, nTok: number, w0: number, n0: number, y0: number, w1: number, n1: number,
    y1: number, w2: number, n2: number, y2: number): number;
  sf_wasm_pool_set_threads(n: number): number;
  sf_wasm_pool_set_spin(rounds: number): void;
  sf_wasm_pool_stop(): void;
  sf_wasm_pool_restart(): void;
  sf_wasm_pool_threads(): number;
  sf_wasm_pool_joined(): number;
  sf_wasm_pool_set_main_wait(on: number): void;
  sf_wasm_set_seq_bytes(bytes: number): void;
  sf_wasm_get_rows(type: number, w: number, nIn: number, ids: number, nIds: number, out: number): number;
  sf_wasm_rope(x: number, nTok: number, nHeads: number, headDim: number, pos0: number, mode: number, nDims: number, nCtxOrig: number,
    freqBase: number, freqScale: number, extFactor: number, attnFactor: number, betaFast: number, betaSlow: number, freqFactors: number): void;
  sf_wasm_attention(q: number, k: number, vt: number, out: number, nTok: number, pos0: number, nHead: number, nHeadKv: number,
    dk: number, dv: number, nCtx: number, window: number, scale: number): number;
  sf_wasm_n_kv(nCtx: number, used: number): number;
  sf_wasm_swiglu(n: number, y: number, x: number, g: number): void;
  sf_wasm_geglu(n: number, y: number, x: number, g: number): void;
}

/** The WASM kernel set: LayerKernels plus a few helpers used by tests and tools. */
export interface WasmKernels extends LayerKernels {
  /** Weight type ids matmul accepts. */
  weightTypes(): number[];
  /** Weight type ids whose dot product runs the SIMD128 kernel (the rest run the scalar C). */
  simdTypes(): number[];
  /** llama.cpp's padded n_kv (same as NativeKernels.attnNKv). */
  attnNKv(nCtx: number, used: number): number;
  /** Bytes of linear memory now. */
  memoryBytes(): number;
  /** True when linear memory is shared (threads possible). */
  readonly shared: boolean;
  /** Threads taking part in jobs now (the caller included). */
  threads(): number;
  /** Jobs joined by workers so far (a counter in linear memory; shows that workers do take part). */
  workerJoins(): number;
  /**
   * `y[nTok, nOut] = x[nTok, nIn] · Aᵀ` for a float32 left operand `a[nOut, nIn]` that changes
   * between calls (attention keys and values): the F32 `matmul` (same bits), but `a` is never
   * cached. An `a` from {@link allocF32} is read in place; any other array is copied into one
   * reusable scratch region (grown as needed), so no call leaves a copy behind.
   * @throws RangeError (`ERR_SYNFLUX_ARG`) when the arrays are shorter than the sizes say;
   *   BackendError when linear memory runs out.
   */
  matmulF32(a: Float32Array, nOut: number, nIn: number, x: Float32Array, nTok: number, y: Float32Array): void;
  /** Matmuls of one weight type sharing X in one job (as NativeKernels.matmulMulti). */
  matmulMulti(type: number, nIn: number, x: Float32Array, nTok: number, w0: Uint8Array, nOut0: number, y0: Float32Array,
    w1: Uint8Array, nOut1: number, y1: Float32Array, w2?: Uint8Array | null, nOut2?: number, y2?: Float32Array | null): void;
  /**
   * A zeroed float32 buffer of `n` elements in linear memory (shared memory only; elsewhere, or
   * when linear memory is exhausted, a plain Float32Array): every kernel reads and writes such
   * arrays (and their subarrays) in place instead of copying them in and out. Freed when the
   * returned array is garbage-collected, or by {@link freeF32}.
   */
  allocF32(n: number): Float32Array;
  /** Frees an array from {@link allocF32} now (no-op for other arrays); it must not be used afterwards. */
  freeF32(a: Float32Array): void;
  /** Stops the workers and waits for them to exit (≤ 2 s); setThreads starts new ones afterwards. */
  close(): Promise<void>;
  /**
   * Tuning knobs (results never change): `spinRounds`, busy-poll rounds before a thread sleeps
   * (default 2^18, ~0.3 ms); `seqBytes`, weight size (bytes) above which the 4-row matmul kernels
   * read the rows one after the other instead of interleaved (default 4 MiB).
   */
  tune(o: { spinRounds?: number; seqBytes?: number }): void;
}

/** Options of {@link wasmKernels}. */
export interface WasmKernelOptions {
  /**
   * Shared memory and workers (default: where SharedArrayBuffer exists). false gives a separate,
   * uncached, single-threaded instance on unshared memory (the fallback of browsers that are not
   * crossOriginIsolated).
   */
  shared?: boolean;
}

/** Absolute path of the module: $SYNFLUX_WASM if set, else <package root>/wasm/synflux.wasm. */
export function wasmModulePath(): string {
  return process.env.SYNFLUX_WASM ?? join(packageRoot(), 'wasm', 'synflux.wasm');
}

/** True when wasm/synflux.wasm exists. */
export function wasmAvailable(): boolean {
  return existsSync(wasmModulePath());
}

const ALL_TYPES = [0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 30];
const MAX_U32 = 0xffffffff;

function argError(msg: string): never {
  const e = new RangeError(msg) as RangeError & { code: string };
  e.code = 'ERR_SYNFLUX_ARG';
  throw e;
}

function checkCount(fn: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) argError(`${fn}: ${name} must be an integer in [0, 2^31), got ${v}`);
}

class WasmKernelSet implements WasmKernels {
  private readonly weights = new WeakMap<Uint8Array, number>();
  private readonly freeWeights = new FinalizationRegistry<number>((p) => this.ex.sf_free(p));
  private readonly slots = new Map<string, { ptr: number; bytes: number }>();
  /** `memory.buffer` objects that allocF32 made views on: any Float32Array on one of them is linear memory. */
  private readonly ownBufs = new WeakSet<object>();
  private readonly viewPtr = new WeakMap<Float32Array, number>();
  private readonly freeViews = new FinalizationRegistry<number>((p) => this.ex.sf_free(p));

  constructor(
    private readonly ex: Exports,
    private readonly memory: WasmMemory,
    readonly shared: boolean,
    private readonly pool: WasmWorkerPool | null,
  ) {}

  private oom(what: string, bytes: number): never {
    throw new BackendError('BACKEND_UNAVAILABLE', `wasm backend: out of linear memory allocating ${bytes} bytes for ${what} (wasm32 limit 4 GiB; now ${this.memoryBytes()} bytes)`);
  }

  /** A reusable scratch region of at least `bytes` bytes. */
  private slot(name: string, bytes: number): number {
    const s = this.slots.get(name);
    if (s && s.bytes >= bytes) return s.ptr;
    if (s) this.ex.sf_free(s.ptr);
    this.slots.delete(name);
    const want = Math.max(bytes, 64);
    if (want > MAX_U32) this.oom(name, want);
    const ptr = this.ex.sf_alloc(want) >>> 0; // pointers ≥ 2 GiB come back as negative i32
    if (!ptr) this.oom(name, want);
    this.slots.set(name, { ptr, bytes: want });
    return ptr;
  }

  /** Copy floats into scratch `name`; returns the pointer. */
  private put(name: string, src: Float32Array, n = src.length, extraFloats = 0): number {
    const p = this.slot(name, (n + extraFloats) * 4);
    new Float32Array(this.memory.buffer, p, n).set(n === src.length ? src : src.subarray(0, n));
    return p;
  }

  /** Byte address of `a` when it is a view of linear memory (from allocF32), else -1. */
  private at(a: Float32Array): number {
    return this.ownBufs.has(a.buffer) ? a.byteOffset : -1;
  }

  /** Address of `n` input floats: `src` itself when it lives in linear memory, else a copy in scratch `name`. */
  private inp(name: string, src: Float32Array, n: number): number {
    const p = this.at(src);
    return p >= 0 ? p : this.put(name, src, n);
  }

  /**
   * Address for `n` output floats: `dst` itself when it lives in linear memory and does not overlap
   * the input at `[in0, in1)` bytes, else scratch `name` (copied out by {@link out}).
   */
  private outp(name: string, dst: Float32Array, n: number, in0 = 0, in1 = 0): number {
    const p = this.at(dst);
    if (p >= 0 && (p + n * 4 <= in0 || p >= in1)) return p;
    return this.slot(name, n * 4);
  }

  /** Copies `n` floats at `p` into `dst` unless `p` is `dst` itself. */
  private out(p: number, dst: Float32Array, n: number): void {
    if (p !== this.at(dst)) dst.set(this.f32(p, n));
  }

  allocF32(n: number): Float32Array {
    checkCount('allocF32', 'n', n);
    if (!this.shared || n === 0 || n * 4 > MAX_U32) return new Float32Array(n);
    const p = this.ex.sf_alloc(n * 4) >>> 0;
    if (!p) return new Float32Array(n);
    const buf = this.memory.buffer;
    this.ownBufs.add(buf);
    const a = new Float32Array(buf, p, n);
    a.fill(0);
    this.viewPtr.set(a, p);
    this.freeViews.register(a, p, a);
    return a;
  }

  freeF32(a: Float32Array): void {
    const p = this.viewPtr.get(a);
    if (p === undefined) return;
    this.viewPtr.delete(a);
    this.freeViews.unregister(a);
    this.ex.sf_free(p);
  }

  private f32(p: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, p, n);
  }

  /**
   * The weight buffer's address in linear memory: a view of linear memory (a Uint8Array over an
   * {@link allocF32} buffer) is used in place and not cached; any other buffer is copied once,
   * on first use, and that copy is cached by the array's identity.
   */
  private weight(w: Uint8Array): number {
    if (this.ownBufs.has(w.buffer)) return w.byteOffset;
    let p = this.weights.get(w);
    if (p !== undefined) return p;
    if (w.byteLength > MAX_U32) this.oom('a weight', w.byteLength);
    p = this.ex.sf_alloc(Math.max(w.byteLength, 1)) >>> 0;
    if (!p) this.oom('a weight', w.byteLength);
    new Uint8Array(this.memory.buffer, p, w.byteLength).set(w);
    this.weights.set(w, p);
    this.freeWeights.register(w, p);
    return p;
  }

  private rowBytes(fn: string, type: number, n: number): number {
    if (!ALL_TYPES.includes(type)) argError(`${fn}: unsupported type ${type}`);
    const b = this.ex.sf_row_bytes(type, n);
    if (b < 0) argError(`${fn}: ${n} is not a multiple of the block size ${this.ex.sf_block_elems(type)} of type ${type}`);
    return b;
  }

  matmul(type: number, w: Uint8Array, nOut: number, nIn: number, x: Float32Array, nTok: number, y: Float32Array): void {
    const fn = 'matmul';
    checkCount(fn, 'nOut', nOut);
    checkCount(fn, 'nIn', nIn);
    checkCount(fn, 'nTok', nTok);
    if (!this.ex.sf_has_dot(type)) argError(`${fn}: weight type ${type} is not supported`);
    const row = this.rowBytes(fn, type, nIn);
    if (w.byteLength < row * nOut) argError(`${fn}: w has ${w.byteLength} bytes, need nOut*rowSize = ${row * nOut}`);
    if (x.length < nTok * nIn) argError(`${fn}: x has ${x.length} floats, need nTok*nIn = ${nTok * nIn}`);
    if (y.length < nTok * nOut) argError(`${fn}: y has ${y.length} floats, need nTok*nOut = ${nTok * nOut}`);
    if (nOut === 0 || nTok === 0) return;
    const pw = this.weight(w);
    const px = this.inp('x', x, nTok * nIn);
    const py = this.outp('y', y, nTok * nOut, px, px + nTok * nIn * 4);
    const rc = this.ex.sf_wasm_matmul(type, pw, nOut, nIn, px, nTok, py);
    if (rc === -2) this.oom('matmul activations', nTok * nIn);
    if (rc !== 0) argError(`${fn}: bad arguments (type ${type}, nIn ${nIn})`);
    this.out(py, y, nTok * nOut);
  }

  matmulF32(a: Float32Array, nOut: number, nIn: number, x: Float32Array, nTok: number, y: Float32Array): void {
    const fn = 'matmulF32';
    checkCount(fn, 'nOut', nOut);
    checkCount(fn, 'nIn', nIn);
    checkCount(fn, 'nTok', nTok);
    if (a.length < nOut * nIn) argError(`${fn}: a has ${a.length} floats, need nOut*nIn = ${nOut * nIn}`);
    if (x.length < nTok * nIn) argError(`${fn}: x has ${x.length} floats, need nTok*nIn = ${nTok * nIn}`);
    if (y.length < nTok * nOut) argError(`${fn}: y has ${y.length} floats, need nTok*nOut = ${nTok * nOut}`);
    if (nOut === 0 || nTok === 0) return;
    const pa = this.inp('a', a, nOut * nIn);
    const px = this.inp('x', x, nTok * nIn);
    // y in place unless it overlaps x or a
    let py = this.outp('y', y, nTok * nOut, px, px + nTok * nIn * 4);
    if (py === this.at(y) && py < pa + nOut * nIn * 4 && py + nTok * nOut * 4 > pa) py = this.slot('y', nTok * nOut * 4);
    const rc = this.ex.sf_wasm_matmul(0, pa, nOut, nIn, px, nTok, py);
    if (rc === -2) this.oom('matmul activations', nTok * nIn);
    if (rc !== 0) argError(`${fn}: bad arguments (nIn ${nIn})`);
    this.out(py, y, nTok * nOut);
  }

  getRows(type: number, w: Uint8Array, nIn: number, ids: Int32Array, out: Float32Array): void {
    const fn = 'getRows';
    checkCount(fn, 'nIn', nIn);
    if (nIn === 0) argError(`${fn}: nIn must be > 0`);
    const row = this.rowBytes(fn, type, nIn);
    const nRows = Math.floor(w.byteLength / row);
    if (out.length < ids.length * nIn) argError(`${fn}: out has ${out.length} floats, need ids.length*nIn = ${ids.length * nIn}`);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id < 0 || id >= nRows) argError(`${fn}: ids[${i}] = ${id} is out of range [0, ${nRows})`);
    }
    if (ids.length === 0) return;
    const pw = this.weight(w);
    const pi = this.slot('ids', ids.length * 4);
    new Int32Array(this.memory.buffer, pi, ids.length).set(ids);
    const po = this.outp('rows', out, ids.length * nIn);
    this.ex.sf_wasm_get_rows(type, pw, nIn, pi, ids.length, po);
    this.out(po, out, ids.length * nIn);
  }

  rope(x: Float32Array, nTok: number, nHeads: number, headDim: number, pos0: number, p: NativeRopeParams): void {
    const fn = 'rope';
    for (const [k, v] of [['nTok', nTok], ['nHeads', nHeads], ['headDim', headDim], ['pos0', pos0]] as const) checkCount(fn, k, v);
    if (p.nDims % 2 !== 0 || p.nDims > headDim || p.nDims <= 0) argError(`${fn}: nDims ${p.nDims} must be even, > 0 and ≤ headDim ${headDim}`);
    if (p.mode !== 0 && p.mode !== 2) argError(`${fn}: mode must be 0 (norm) or 2 (neox), got ${p.mode}`);
    const n = nTok * nHeads * headDim;
    if (x.length < n) argError(`${fn}: x has ${x.length} floats, need ${n}`);
    if (p.freqFactors && p.freqFactors.length < p.nDims / 2) argError(`${fn}: freqFactors has ${p.freqFactors.length} floats, need nDims/2`);
    if (n === 0) return;
    const px = this.inp('rope', x, n);
    const pf = p.freqFactors ? this.inp('ff', p.freqFactors, p.nDims / 2) : 0;
    this.ex.sf_wasm_rope(px, nTok, nHeads, headDim, pos0, p.mode, p.nDims, p.nCtxOrig, p.freqBase, p.freqScale, p.extFactor,
      p.attnFactor, p.betaFast, p.betaSlow, pf);
    this.out(px, x, n);
  }

  attention(q: Float32Array, k: Float32Array, vT: Float32Array, out: Float32Array, s: NativeAttentionShape): void {
    const fn = 'attention';
    for (const key of ['nTok', 'pos0', 'nHead', 'nHeadKv', 'headDimK', 'headDimV', 'nCtx', 'window'] as const) checkCount(fn, key, s[key]);
    const { nTok, pos0, nHead, nHeadKv, headDimK: dk, headDimV: dv, nCtx } = s;
    if (nHeadKv === 0 || nHead % nHeadKv !== 0) argError(`${fn}: nHead ${nHead} must be a multiple of nHeadKv ${nHeadKv}`);
    const used = pos0 + nTok;
    if (used > nCtx) argError(`${fn}: pos0 + nTok = ${used} exceeds nCtx ${nCtx}`);
    if (q.length < nTok * nHead * dk) argError(`${fn}: q has ${q.length} floats, need ${nTok * nHead * dk}`);
    if (k.length < nCtx * nHeadKv * dk) argError(`${fn}: k has ${k.length} floats, need nCtx*nHeadKv*headDimK = ${nCtx * nHeadKv * dk}`);
    if (vT.length < nCtx * nHeadKv * dv) argError(`${fn}: vT has ${vT.length} floats, need ${nCtx * nHeadKv * dv}`);
    if (out.length < nTok * nHead * dv) argError(`${fn}: out has ${out.length} floats, need ${nTok * nHead * dv}`);
    if (nTok === 0) return;
    // The kernel reads K rows [0, used) and V^T columns [0, e), e = min(n_kv, ceil64(used)): copy those only.
    const nKv = this.ex.sf_wasm_n_kv(nCtx, used);
    const e = Math.min(nKv, Math.ceil(used / 64) * 64);
    // K, V^T and q are read only: linear-memory arrays are used in place (the KV cache of a
    // transformer whose kernels allocated it), others copied in.
    const pq = this.inp('q', q, nTok * nHead * dk);
    const pk = this.inp('k', k, used * nHeadKv * dk);
    const rows = nHeadKv * dv;
    let pv = this.at(vT);
    if (pv < 0) {
      pv = this.slot('vt', rows * nCtx * 4);
      const vm = this.f32(pv, rows * nCtx);
      for (let r = 0; r < rows; r++) vm.set(vT.subarray(r * nCtx, r * nCtx + e), r * nCtx);
    }
    const nOut = nTok * nHead * dv;
    let po = this.outp('att', out, nOut, pq, pq + nTok * nHead * dk * 4);
    if (po === this.at(out) && ((po < pk + used * nHeadKv * dk * 4 && po + nOut * 4 > pk) || (po < pv + rows * nCtx * 4 && po + nOut * 4 > pv))) {
      po = this.slot('att', nOut * 4);
    }
    const rc = this.ex.sf_wasm_attention(pq, pk, pv, po, nTok, pos0, nHead, nHeadKv, dk, dv, nCtx, s.window, s.scale);
    if (rc !== 0) this.oom('attention scratch', 8 * (nKv + 64));
    this.out(po, out, nOut);
  }

  private glu(fn: 'swiglu' | 'geglu', g: Float32Array, u: Float32Array, out: Float32Array, n: number): void {
    checkCount(fn, 'n', n);
    if (g.length < n || u.length < n || out.length < n) argError(`${fn}: g, u and out need ${n} floats`);
    if (n === 0) return;
    const pg = this.inp('g', g, n);
    const pu = this.inp('u', u, n);
    // y may alias g or u (element-wise); any other overlap goes through scratch
    let py = this.outp('glu', out, n);
    if (py !== pg && py !== pu && py === this.at(out) && ((py < pg + n * 4 && py + n * 4 > pg) || (py < pu + n * 4 && py + n * 4 > pu))) py = this.slot('glu', n * 4);
    if (fn === 'swiglu') this.ex.sf_wasm_swiglu(n, py, pg, pu);
    else this.ex.sf_wasm_geglu(n, py, pg, pu);
    this.out(py, out, n);
  }

  swiglu(g: Float32Array, u: Float32Array, out: Float32Array, n: number): void {
    this.glu('swiglu', g, u, out, n);
  }

  geglu(g: Float32Array, u: Float32Array, out: Float32Array, n: number): void {
    this.glu('geglu', g, u, out, n);
  }

  matmulMulti(type: number, nIn: number, x: Float32Array, nTok: number, w0: Uint8Array, nOut0: number, y0: Float32Array,
    w1: Uint8Array, nOut1: number, y1: Float32Array, w2?: Uint8Array | null, nOut2?: number, y2?: Float32Array | null): void {
    const fn = 'matmulMulti';
    checkCount(fn, 'nIn', nIn);
    checkCount(fn, 'nTok', nTok);
    if (!this.ex.sf_has_dot(type)) argError(`${fn}: weight type ${type} is not supported`);
    const row = this.rowBytes(fn, type, nIn);
    if (x.length < nTok * nIn) argError(`${fn}: x has ${x.length} floats, need nTok*nIn = ${nTok * nIn}`);
    // No per-call arrays or closures: this runs twice per layer per decoded token.
    const n2 = w2 && y2 ? nOut2 ?? 0 : 0;
    this.checkPart(fn, row, nTok, 0, w0, nOut0, y0);
    this.checkPart(fn, row, nTok, 1, w1, nOut1, y1);
    if (w2 && y2) this.checkPart(fn, row, nTok, 2, w2, n2, y2);
    if (nTok === 0) return;
    const pw0 = nOut0 > 0 ? this.weight(w0) : 0;
    const pw1 = nOut1 > 0 ? this.weight(w1) : 0;
    const pw2 = n2 > 0 ? this.weight(w2!) : 0;
    const px = this.inp('x', x, nTok * nIn);
    const xe = px + nTok * nIn * 4;
    const py0 = this.outp('y0', y0, nTok * nOut0, px, xe);
    const py1 = this.outp('y1', y1, nTok * nOut1, px, xe);
    const py2 = w2 && y2 ? this.outp('y2', y2, nTok * n2, px, xe) : 0;
    const rc = this.ex.sf_wasm_matmul_multi(type, nIn, px, nTok, pw0, nOut0, py0, pw1, nOut1, py1, pw2, n2, py2);
    if (rc === -2) this.oom('matmul activations', nTok * nIn);
    if (rc !== 0) argError(`${fn}: bad arguments (type ${type}, nIn ${nIn})`);
    if (nOut0 > 0) this.out(py0, y0, nTok * nOut0);
    if (nOut1 > 0) this.out(py1, y1, nTok * nOut1);
    if (n2 > 0) this.out(py2, y2!, nTok * n2);
  }

  /** Checks one weight/output pair of matmulMulti. @throws TypeError/RangeError (argError) on bad sizes. */
  private checkPart(fn: string, row: number, nTok: number, i: number, w: Uint8Array, n: number, y: Float32Array): void {
    checkCount(fn, `nOut${i}`, n);
    if (w.byteLength < row * n) argError(`${fn}: w${i} has ${w.byteLength} bytes, need nOut${i}*rowSize = ${row * n}`);
    if (y.length < nTok * n) argError(`${fn}: y${i} has ${y.length} floats, need nTok*nOut${i} = ${nTok * n}`);
  }

  /** Uses n threads (the caller and n-1 workers); returns the count in effect (1 without shared memory). */
  setThreads(n: number): number {
    if (!this.pool) return 1;
    return this.pool.setThreads(n);
  }

  threads(): number {
    return this.ex.sf_wasm_pool_threads();
  }

  workerJoins(): number {
    return this.ex.sf_wasm_pool_joined() >>> 0;
  }

  tune(o: { spinRounds?: number; seqBytes?: number }): void {
    if (o.spinRounds !== undefined) this.ex.sf_wasm_pool_set_spin(Math.max(0, Math.min(MAX_U32, Math.floor(o.spinRounds))));
    if (o.seqBytes !== undefined) this.ex.sf_wasm_set_seq_bytes(Math.max(0, Math.min(MAX_U32, Math.floor(o.seqBytes))));
  }

  close(): Promise<void> {
    return this.pool ? this.pool.close() : Promise.resolve();
  }

  attnNKv(nCtx: number, used: number): number {
    return this.ex.sf_wasm_n_kv(nCtx, used);
  }

  weightTypes(): number[] {
    return ALL_TYPES.filter((t) => this.ex.sf_has_dot(t));
  }

  simdTypes(): number[] {
    return ALL_TYPES.filter((t) => this.ex.sf_has_dot(t) && this.ex.sf_dot_is_simd(t));
  }

  memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }
}

let cached: Promise<WasmKernels> | undefined;

/** True where this thread may block in Atomics.wait (Node, workers; not a browser's main thread). */
function mainThreadMayWait(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

async function instantiate(shared: boolean): Promise<WasmKernels> {
  const file = wasmModulePath();
  if (!existsSync(file)) {
    throw new BackendError('BACKEND_UNAVAILABLE', `wasm kernels not built: ${file} is missing; run \`${WASM_BUILD_COMMAND}\` in the project root (needs clang and lld)`);
  }
  try {
    const bytes = new Uint8Array(readFileSync(file));
    const memory = new WebAssembly.Memory({ ...MEMORY_PAGES, shared });
    const module = await WebAssembly.compile(shared ? bytes : unshareMemoryImport(bytes));
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    const ex = instance.exports as unknown as Exports;
    const factory = shared ? await workerFactory() : null;
    ex.sf_wasm_pool_set_main_wait(shared && mainThreadMayWait() ? 1 : 0);
    return new WasmKernelSet(ex, memory, shared, factory ? new WasmWorkerPool(ex, module, memory, factory) : null);
  } catch (e) {
    throw new BackendError('BACKEND_UNAVAILABLE', `cannot instantiate ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The WASM kernels: by default one shared-memory instance per process (cached), whose workers
 * start on the first setThreads(n > 1); `{ shared: false }` gives a new single-threaded instance.
 * @throws BackendError `BACKEND_UNAVAILABLE` when wasm/synflux.wasm is missing or cannot be instantiated.
 */
export function wasmKernels(opts: WasmKernelOptions = {}): Promise<WasmKernels> {
  const canShare = typeof SharedArrayBuffer !== 'undefined';
  if (opts.shared === false || !canShare) {
    if (opts.shared === true) return Promise.reject(new BackendError('BACKEND_UNAVAILABLE', 'wasm threads need SharedArrayBuffer (crossOriginIsolated in browsers)'));
    if (opts.shared === false) return instantiate(false);
  }
  cached ??= instantiate(canShare);
  cached.catch(() => (cached = undefined));
  return cached;
}

/** Stops the workers of the cached instance, if any (the process exits without it too: workers are unref'ed). */
export async function closeWasmKernels(): Promise<void> {
  if (cached) await (await cached).close();
}
