/**
 * Workers for the WASM backend: N-1 workers (Node `worker_threads`, or Web Workers in a browser
 * that is `crossOriginIsolated`) each instantiate wasm/synflux.wasm on the main thread's shared
 * `WebAssembly.Memory` and run the module's `sf_worker_main` loop (wasm/pool.c), which takes part
 * in every `sf_pool_run` job (matmul rows, attention heads, GLU chunks) until the pool is stopped.
 * All synchronisation is inside the module (i32 atomics and memory.atomic.wait/notify on linear
 * memory); JS only starts and stops the workers.
 *
 * Worker protocol (runtime-agnostic; the worker source is {@link WORKER_SOURCE}):
 * - main → worker, once: `{ type: 'start', module: WebAssembly.Module, memory: WebAssembly.Memory,
 *   id: number, stackTop: number }`. `id` is 0-based (the worker is thread id + 1 in the pool);
 *   `stackTop` is the 16-byte-aligned end of a {@link WORKER_STACK_BYTES} region the main thread
 *   allocated in linear memory for this worker's C stack (the module exports `__stack_pointer`,
 *   a per-instance global).
 * - worker: `new WebAssembly.Instance(module, { env: { memory } })`, sets `__stack_pointer` to
 *   `stackTop`, posts `{ type: 'ready', id }`, calls `sf_worker_main(id)` (blocks until
 *   `sf_wasm_pool_stop()`), posts `{ type: 'exit', id }` and closes. On an exception it posts
 *   `{ type: 'error', id, message }` and closes.
 * Workers never allocate outside jobs; inside a job wasm/alloc.c's allocator is locked.
 */

/** Bytes of C stack per worker (the kernels' largest frame is a few KiB). */
export const WORKER_STACK_BYTES = 256 * 1024;

/** The worker's code: plain JS, valid both as a Node `eval` worker (CommonJS) and a browser Worker script. */
export const WORKER_SOURCE = `'use strict';
const isNode = typeof process === 'object' && !!(process.versions && process.versions.node);
const port = isNode ? require('node:worker_threads').parentPort : self;
const onMessage = (f) => isNode ? port.once('message', f) : (self.onmessage = (e) => { self.onmessage = null; f(e.data); });
onMessage((m) => {
  try {
    const inst = new WebAssembly.Instance(m.module, { env: { memory: m.memory } });
    inst.exports.__stack_pointer.value = m.stackTop;
    port.postMessage({ type: 'ready', id: m.id });
    inst.exports.sf_worker_main(m.id);
    port.postMessage({ type: 'exit', id: m.id });
  } catch (e) {
    port.postMessage({ type: 'error', id: m.id, message: String(e && e.stack || e) });
  }
  if (isNode) port.close(); else self.close();
});
`;

/** A started worker, whatever the runtime. */
export interface WorkerLike {
  postMessage(msg: unknown): void;
  /** Registers the message handler (data already unwrapped). */
  onMessage(cb: (msg: { type: string; id: number; message?: string }) => void): void;
  terminate(): void;
}

/** Starts a worker running {@link WORKER_SOURCE}; null when the runtime has no workers. */
export type WorkerFactory = () => WorkerLike;

interface NodeWorker {
  postMessage(m: unknown): void;
  on(ev: string, cb: (x: unknown) => void): void;
  unref(): void;
  terminate(): Promise<number>;
}

/**
 * The worker factory of this runtime: Node's `worker_threads` (workers are `unref`ed, so they
 * never keep the process alive) or the browser's `Worker` on a Blob URL; null when neither exists.
 */
export async function workerFactory(): Promise<WorkerFactory | null> {
  const g = globalThis as unknown as {
    process?: { versions?: { node?: string } };
    Worker?: new (url: string) => { postMessage(m: unknown): void; onmessage: ((e: { data: unknown }) => void) | null; terminate(): void };
    Blob?: new (parts: string[], o: { type: string }) => unknown;
    URL?: { createObjectURL(b: unknown): string };
  };
  if (g.process?.versions?.node) {
    const wt = (await import('node:worker_threads')) as unknown as { Worker: new (src: string, o: { eval: true }) => NodeWorker };
    return () => {
      const w = new wt.Worker(WORKER_SOURCE, { eval: true });
      let cb: ((m: { type: string; id: number; message?: string }) => void) | null = null;
      w.on('message', (m) => cb?.(m as { type: string; id: number }));
      w.on('error', (e) => cb?.({ type: 'error', id: -1, message: String(e) }));
      w.unref(); // after the listeners: adding a 'message' listener refs the worker's port again
      return { postMessage: (m) => w.postMessage(m), onMessage: (f) => (cb = f), terminate: () => void w.terminate() };
    };
  }
  if (g.Worker && g.Blob && g.URL) {
    const url = g.URL.createObjectURL(new g.Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    const W = g.Worker;
    return () => {
      const w = new W(url);
      return {
        postMessage: (m) => w.postMessage(m),
        onMessage: (f) => (w.onmessage = (e) => f(e.data as { type: string; id: number })),
        terminate: () => w.terminate(),
      };
    };
  }
  return null;
}

/** The module exports the pool uses. */
export interface PoolExports {
  sf_alloc(n: number): number;
  sf_free(p: number): void;
  sf_wasm_pool_set_threads(n: number): number;
  sf_wasm_pool_stop(): void;
  sf_wasm_pool_restart(): void;
}

/** Largest thread count (wasm/pool.c MAX_WORKERS + 1). */
export const MAX_THREADS = 64;

/**
 * The workers of one module instance. `setThreads(n)` is synchronous: it starts the missing
 * workers and returns at once; until a worker has instantiated the module the caller simply does
 * its share of the work (wasm/pool.c never waits for a worker that has not joined a job).
 */
export class WasmWorkerPool {
  private readonly workers: { w: WorkerLike; stack: number; exited: Promise<void>; done: boolean }[] = [];
  private closed = false;
  /** Messages of workers that failed to start (for diagnostics). */
  readonly errors: string[] = [];

  constructor(
    private readonly ex: PoolExports,
    private readonly module: unknown,
    private readonly memory: unknown,
    private readonly factory: WorkerFactory,
  ) {}

  /**
   * Uses `n` threads (the caller and n-1 workers), clamped to 1..{@link MAX_THREADS}; returns the count in effect.
   * @throws BackendError is not thrown here: a worker that cannot start is recorded in `errors` and the pool runs without it.
   */
  setThreads(n: number): number {
    const want = Math.max(1, Math.min(MAX_THREADS, Math.floor(n)));
    if (this.closed) {
      this.ex.sf_wasm_pool_restart();
      this.closed = false;
    }
    while (this.workers.length < want - 1) {
      const id = this.workers.length;
      const stack = this.ex.sf_alloc(WORKER_STACK_BYTES) >>> 0;
      if (!stack) break;
      const w = this.factory();
      const entry = { w, stack, exited: Promise.resolve(), done: false };
      entry.exited = new Promise<void>((resolve) => {
        w.onMessage((m) => {
          if (m.type === 'error') this.errors.push(m.message ?? 'worker error');
          if (m.type === 'exit' || m.type === 'error') {
            entry.done = true;
            resolve();
          }
        });
      });
      w.postMessage({ type: 'start', module: this.module, memory: this.memory, id, stackTop: (stack + WORKER_STACK_BYTES) & ~15 });
      this.workers.push(entry);
    }
    return this.ex.sf_wasm_pool_set_threads(Math.min(want, this.workers.length + 1));
  }

  /** Workers started (they stay, parked, when the thread count is lowered). */
  get size(): number {
    return this.workers.length;
  }

  /**
   * Stops every worker (they leave sf_worker_main after their current job) and waits up to
   * `timeoutMs` (ms) for them to exit, then terminates the rest; frees their stacks. The pool can
   * be used again afterwards (setThreads starts new workers).
   */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.workers.length === 0) return;
    this.ex.sf_wasm_pool_set_threads(1);
    this.ex.sf_wasm_pool_stop();
    this.closed = true;
    const all = this.workers.splice(0);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
    await Promise.race([Promise.all(all.map((x) => x.exited)), timeout]);
    clearTimeout(timer);
    for (const x of all) {
      x.w.terminate();
      // a worker that did not leave sf_worker_main in time could still touch its stack: leak it then
      if (x.done) this.ex.sf_free(x.stack);
    }
  }
}

/**
 * Rewrites a module's imported shared memory as an unshared one (limits flag 0x03 → 0x01 in the
 * import section; same length), for runtimes without SharedArrayBuffer: atomic instructions stay
 * valid on unshared memory (WebAssembly threads proposal), and with one thread the module never
 * waits. Returns a new array; input without a shared memory import is returned unchanged.
 * @throws RangeError on a malformed module header or import section.
 */
export function unshareMemoryImport(bytes: Uint8Array): Uint8Array {
  const b = bytes.slice();
  let p = 8;
  const leb = (): number => {
    let r = 0, s = 0, x: number;
    do {
      if (p >= b.length) throw new RangeError('wasm module: truncated LEB128');
      x = b[p++]!;
      r += (x & 0x7f) * 2 ** s;
      s += 7;
    } while (x & 0x80);
    return r;
  };
  if (b.length < 8 || b[0] !== 0 || b[1] !== 0x61 || b[2] !== 0x73 || b[3] !== 0x6d) throw new RangeError('not a wasm module');
  while (p < b.length) {
    const id = b[p++]!;
    const size = leb();
    const end = p + size;
    if (id !== 2) {
      p = end;
      continue;
    }
    const n = leb();
    for (let i = 0; i < n; i++) {
      const nm = leb(); // module name (read the length before moving p: `p += leb()` would add to the old p)
      p += nm;
      const nf = leb(); // field name
      p += nf;
      const kind = b[p++]!;
      if (kind === 0) leb();
      else if (kind === 1) {
        p++;
        const f = b[p++]!;
        leb();
        if (f & 1) leb();
      } else if (kind === 2) {
        const f = b[p]!;
        if (f === 3) b[p] = 1;
        p++;
        leb();
        if (f & 1) leb();
      } else if (kind === 3) p += 2;
      else throw new RangeError(`wasm module: unknown import kind ${kind}`);
    }
    return b;
  }
  return b;
}
