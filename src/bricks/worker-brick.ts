/**
 * A brick whose compute runs in its own worker thread (src/bricks/device-worker.ts).
 *
 * Why a worker: the native addon's kernels and the wasm kernels are synchronous calls. Called on
 * the main thread they block the event loop, so a second device could not start its work until
 * the first returned — no overlap. In a worker each device computes while the main thread relays
 * messages. The native addon is a Node-API module, so each worker gets its own instance of its
 * JS binding; its C state (the pthread pool, the kernel path) is process-wide, so one process
 * should host one `cpu` device (pool size = its threads). The wasm worker instantiates its own
 * wasm/synflux.wasm (single-threaded). Inputs and outputs cross by structured clone (a copy;
 * priced by the profile's transfer table).
 */
import { Worker } from 'node:worker_threads';
import { BackendError, ImageError, PipelineError, RequestError, SynfluxError } from '../core/errors.js';
import type { Brick, BrickCost, PortSpec, PortValue, PortValues } from './brick.js';
import type { HostedSpec } from './device-worker.js';

/** What the worker should host. */
export interface WorkerBrickInit {
  readonly name: string;
  readonly device: string;
  readonly inputs: readonly PortSpec[];
  readonly outputs: readonly PortSpec[];
  readonly cost?: (inputs: PortValues) => BrickCost;
  readonly hosted: HostedSpec;
}

type Reply = { id: number; ok: true; outputs?: Record<string, PortValue> } | { id: number; ok: false; error: { name: string; code?: string; message: string } };

/** The worker: the compiled device-worker.js, or under tsx (sources run directly) a bootstrap that registers tsx first. */
function spawnWorker(workerData: unknown): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new Worker(new URL('./device-worker.js', self), { workerData });
  const entry = new URL('./device-worker.ts', self).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

/**
 * The worker's error on this side: RequestError, and the bad-input / bad-pipeline classes
 * ImageError and PipelineError, keep their class (they must end a stream, not re-plan it); any other
 * error is a BackendError (the device failed), its code kept.
 */
function rebuild(e: { name: string; code?: string; message: string }): Error {
  if (e.name === 'RequestError') return new RequestError(e.code ?? 'REQUEST', e.message);
  if (e.name === 'ImageError') return new ImageError(e.code ?? 'IMAGE', e.message);
  if (e.name === 'PipelineError') return new PipelineError(e.code ?? 'PIPELINE', e.message);
  if (e.name === 'BackendError' || e.code) return new BackendError(e.code ?? 'BACKEND_FAILED', e.message);
  return new BackendError('BACKEND_FAILED', `${e.name}: ${e.message}`);
}

/** A Brick proxy to a worker-hosted computation. */
export class WorkerBrick implements Brick {
  readonly name: string;
  readonly device: string;
  readonly inputs: readonly PortSpec[];
  readonly outputs: readonly PortSpec[];
  readonly cost?: (inputs: PortValues) => BrickCost;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void }>();
  private dead: Error | null = null;

  private constructor(init: WorkerBrickInit, private readonly worker: Worker) {
    this.name = init.name;
    this.device = init.device;
    this.inputs = init.inputs;
    this.outputs = init.outputs;
    if (init.cost) this.cost = init.cost;
    worker.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      p?.resolve(r);
    });
    const die = (err: Error): void => {
      this.dead = err;
      for (const [id, p] of this.pending) p.resolve({ id, ok: false, error: { name: 'BackendError', code: 'DEVICE_LOST', message: err.message } });
      this.pending.clear();
    };
    worker.on('error', (e) => die(new BackendError('DEVICE_LOST', `${init.device} worker for ${init.name} failed: ${e.message}`)));
    worker.on('exit', (code) => die(new BackendError('DEVICE_LOST', `${init.device} worker for ${init.name} exited (${code})`)));
  }

  /**
   * Starts the worker and waits until the hosted brick is ready.
   * @throws BackendError when the device cannot start in the worker (the worker's error, code kept).
   */
  static async start(init: WorkerBrickInit): Promise<WorkerBrick> {
    const w = spawnWorker({ hosted: init.hosted });
    const b = new WorkerBrick(init, w);
    const r = await b.call({ op: 'init' });
    if (!r.ok) {
      await w.terminate();
      throw rebuild(r.error);
    }
    return b;
  }

  private call(msg: object): Promise<Reply> {
    if (this.dead) return Promise.resolve({ id: 0, ok: false, error: { name: 'BackendError', code: 'DEVICE_LOST', message: this.dead.message } });
    const id = this.nextId++;
    return new Promise<Reply>((resolve) => {
      this.pending.set(id, { resolve });
      this.worker.postMessage({ id, ...msg });
    });
  }

  /**
   * Runs the hosted brick in the worker.
   * @throws RequestError for bad inputs; BackendError (`DEVICE_LOST` when the worker died).
   */
  async run(inputs: PortValues): Promise<Record<string, PortValue>> {
    const r = await this.call({ op: 'run', inputs });
    if (!r.ok) throw rebuild(r.error);
    return r.outputs!;
  }

  /** Terminates the worker (pending runs fail with DEVICE_LOST). */
  dispose(): void {
    void this.worker.terminate();
  }
}

/** Serializable form of an error for the worker's reply. */
export function errorReply(e: unknown): { name: string; code?: string; message: string } {
  const err = e as Error;
  return { name: err?.name ?? 'Error', ...(e instanceof SynfluxError ? { code: e.code } : {}), message: err?.message ?? String(e) };
}
