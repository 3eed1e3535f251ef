/**
 * Pipelined brick executor: runs a chain of bricks over a stream of inputs. In `pipelined` mode
 * every brick is a stage with its own loop and the stages are joined by bounded queues
 * (src/bricks/queue.ts, capacity `depth`), so brick i works on item t+1 while brick i+1 works on
 * item t — real overlap when the bricks sit on different devices whose compute runs off the main
 * thread (worker-hosted cpu/wasm bricks, onnxruntime's async run). A full queue blocks its
 * producer (backpressure), so at most `stages + (stages + 1)·depth` items are in flight. In
 * `sequential` mode each item goes through the whole chain before the next starts (the baseline
 * for the same placement).
 *
 * Each stage receives the item's inputs merged with every earlier stage's outputs (later names
 * win) and adds its own outputs. Results come out in input order with per-brick ms.
 *
 * Dynamic offloading: when a brick cannot be created on its device (missing device, memory
 * budget exceeded) or a run throws a BackendError, the device is excluded, `replan` chooses new
 * devices (by default the next device in the stage's `devices` list; src/bricks/planner.ts via
 * {@link plannerReplan}), the brick is recreated there, one line
 * `[synflux] re-planned: NAME OLD→NEW (reason)` is logged, and the failed item is re-run. Bricks
 * are stateless per item, so outputs stay those of an unfailed run. RequestErrors (bad input) are
 * not offloaded: they end the stream.
 *
 * Users: src/pipelines/runner.ts (pipeline files, `synflux run --pipeline`: every brick of the DAG
 * is a stage) and bench/plan-check.ts (placement checks with matmul-chain and model bricks).
 */
import { performance } from 'node:perf_hooks';
import { BackendError, RequestError, SynfluxError } from '../core/errors.js';
import type { Brick, PortValue, PortValues } from './brick.js';
import { plan, type PlanBrick, type PlanOptions } from './planner.js';
import type { ProfileSet } from './profile-schema.js';
import { BoundedQueue, END } from './queue.js';

/** One stage of the chain. */
export interface StageSpec {
  readonly name: string;
  /** Devices able to host the brick, in fallback order. */
  readonly devices: readonly string[];
  /** Creates the brick on `device`. May throw BackendError when the device is missing. */
  create(device: string): Promise<Brick>;
  /** Resident bytes the brick needs (checked against `memoryBudget`). */
  readonly memoryBytes?: number;
}

/** Chooses new devices after `failed` was excluded; returns the full placement. */
export type Replanner = (excluded: ReadonlySet<string>, current: Readonly<Record<string, string>>) => Record<string, string>;

/** Options of {@link PipelineExecutor}. */
export interface ExecutorOptions {
  /** Brick name → device. */
  placement: Readonly<Record<string, string>>;
  mode?: 'pipelined' | 'sequential';
  /** Queue capacity between stages (default 2). */
  depth?: number;
  /** Resident-memory budget per device, bytes. */
  memoryBudget?: Readonly<Record<string, number>>;
  replan?: Replanner;
  /** Log sink (default: stderr). */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

/** One output of the stream. */
export interface ItemResult {
  index: number;
  outputs: Record<string, PortValue>;
  /** ms per brick run for this item. */
  ms: Record<string, number>;
  /** Device each brick ran on for this item. */
  devices: Record<string, string>;
}

interface Item {
  index: number;
  values: Record<string, PortValue>;
  ms: Record<string, number>;
  devices: Record<string, string>;
}

/**
 * The default replanner: each stage on an excluded device moves to its first non-excluded device
 * of `devices`. `label` names a stage in the error (default `brick NAME`).
 * @throws (from the replanner) BackendError `NO_DEVICE_LEFT` when a stage has no device left.
 */
export function fallbackReplan(stages: readonly StageSpec[], label: (s: StageSpec) => string = (s) => `brick ${s.name}`): Replanner {
  return (excluded, current) => {
    const out: Record<string, string> = { ...current };
    for (const s of stages) {
      if (!excluded.has(out[s.name]!)) continue;
      const d = s.devices.find((x) => !excluded.has(x));
      if (!d) throw new BackendError('NO_DEVICE_LEFT', `${label(s)}: no device left to run on (its devices: ${s.devices.join(', ')}; failed or excluded: ${[...excluded].join(', ')})`);
      out[s.name] = d;
    }
    return out;
  };
}

/**
 * A replanner that re-runs the placement planner without the excluded devices, keeping bricks on
 * healthy devices where they are (pinned).
 */
export function plannerReplan(bricks: readonly PlanBrick[], profiles: ProfileSet, opts: PlanOptions = {}): Replanner {
  return (excluded, current) => {
    const pins: Record<string, string> = {};
    for (const [b, d] of Object.entries(current)) if (!excluded.has(d)) pins[b] = d;
    try {
      return plan(bricks, profiles, { ...opts, pins, exclude: [...excluded, ...(opts.exclude ?? [])] }).placement;
    } catch (e) {
      throw new BackendError('NO_DEVICE_LEFT', `re-planning without ${[...excluded].join(', ')} failed: ${(e as Error).message}`, { cause: e });
    }
  };
}

function abortError(): RequestError {
  return new RequestError('ABORTED', 'pipeline aborted');
}

/** Runs a chain of bricks over a stream. Create, `stream()`/`runAll()`, then `dispose()`. */
export class PipelineExecutor {
  private placement: Record<string, string>;
  private readonly bricks = new Map<string, Promise<Brick>>();
  private readonly excluded = new Set<string>();
  private readonly replan: Replanner;
  private readonly log: (line: string) => void;
  /** Re-plan events, in order. */
  readonly replans: { brick: string; from: string; to: string; reason: string }[] = [];
  /** Highest queue occupancy seen per queue (backpressure checks). */
  queueHighWater: number[] = [];

  /**
   * @throws RequestError `BAD_PLACEMENT` when a stage has no device in `placement`; RangeError for depth < 1.
   */
  constructor(private readonly stages: readonly StageSpec[], private readonly opts: ExecutorOptions) {
    if (!stages.length) throw new RequestError('BAD_PLACEMENT', 'no stages');
    for (const s of stages) if (!opts.placement[s.name]) throw new RequestError('BAD_PLACEMENT', `no device for brick ${s.name}`);
    const depth = opts.depth ?? 2;
    if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`depth must be an integer ≥ 1, got ${depth}`);
    this.placement = { ...opts.placement };
    this.replan = opts.replan ?? fallbackReplan(stages);
    this.log = opts.log ?? ((l) => process.stderr.write(l + '\n'));
  }

  /** Current placement (changes when bricks are offloaded). */
  get currentPlacement(): Readonly<Record<string, string>> {
    return this.placement;
  }

  private memoryOk(device: string): string | null {
    const cap = this.opts.memoryBudget?.[device];
    if (cap === undefined) return null;
    const used = this.stages.filter((s) => this.placement[s.name] === device).reduce((a, s) => a + (s.memoryBytes ?? 0), 0);
    return used > cap ? `memory budget exceeded on ${device}: ${used} > ${cap} bytes` : null;
  }

  /**
   * Moves every stage off excluded devices (one log line per moved brick). When the replanner
   * gives up, its error carries the device failure that triggered the move as `cause` (unless it
   * already has one).
   */
  private offload(reason: string, failure?: unknown): void {
    let next: Record<string, string>;
    try {
      next = this.replan(this.excluded, this.placement);
    } catch (e) {
      if (e instanceof Error && e.cause === undefined && failure !== undefined) e.cause = failure;
      throw e;
    }
    for (const s of this.stages) {
      const from = this.placement[s.name]!;
      const to = next[s.name]!;
      if (from === to) continue;
      this.log(`[synflux] re-planned: ${s.name} ${from}→${to} (${reason})`);
      this.replans.push({ brick: s.name, from, to, reason });
      const old = this.bricks.get(s.name);
      this.bricks.delete(s.name);
      old?.then((b) => b.dispose(), () => {});
    }
    this.placement = next;
  }

  /** The stage's brick on its current device, created (and offloaded on failure) as needed. */
  private async brick(s: StageSpec): Promise<Brick> {
    for (;;) {
      const dev = this.placement[s.name]!;
      let p = this.bricks.get(s.name);
      if (!p) {
        const mem = this.memoryOk(dev);
        p = mem ? Promise.reject(new BackendError('MEMORY_BUDGET', mem)) : s.create(dev);
        this.bricks.set(s.name, p);
        p.catch(() => {});
      }
      try {
        return await p;
      } catch (e) {
        if (this.placement[s.name] !== dev) continue; // another stage already moved it
        if (!(e instanceof BackendError)) throw e;
        this.excluded.add(dev);
        this.offload(`${dev} unavailable: ${e.message}`, e);
      }
    }
  }

  /** Runs stage `s` on one item, offloading and retrying on device failure. */
  private async runStage(s: StageSpec, item: Item, signal: AbortSignal): Promise<void> {
    for (;;) {
      if (signal.aborted) throw abortError();
      const b = await this.brick(s);
      const dev = this.placement[s.name]!;
      if (this.excluded.has(dev)) continue;
      const t0 = performance.now();
      try {
        const out = await b.run(item.values);
        item.ms[s.name] = performance.now() - t0;
        item.devices[s.name] = dev;
        item.values = { ...item.values, ...out };
        return;
      } catch (e) {
        if (!(e instanceof BackendError) || signal.aborted) throw e;
        if (this.placement[s.name] === dev) {
          this.excluded.add(dev);
          this.offload(`${dev} failed: ${e instanceof SynfluxError ? e.code + ': ' : ''}${e.message}`, e);
        }
      }
    }
  }

  /**
   * Creates every stage's brick now, in stage order (re-planning a brick whose device is missing),
   * so that loading is not part of the first item's time. Later calls return at once.
   * @throws BackendError `NO_DEVICE_LEFT` (with the last device failure as `cause`) when a brick
   *   has nowhere left to run; a brick factory's other errors.
   */
  async prepare(): Promise<void> {
    for (const s of this.stages) await this.brick(s);
  }

  /**
   * Streams results in input order. `override` replaces the constructor's `mode` / `depth` for this
   * stream only (the same bricks serve sequential and pipelined streams; run one stream at a time).
   * @throws RequestError `ABORTED` when `signal` aborts; BackendError `NO_DEVICE_LEFT` when a brick
   *   has nowhere left to run; a brick's RequestError for bad input; RangeError for depth < 1.
   */
  async *stream(inputs: Iterable<PortValues> | AsyncIterable<PortValues>, override: { mode?: 'pipelined' | 'sequential'; depth?: number } = {}): AsyncGenerator<ItemResult> {
    const depth = override.depth ?? this.opts.depth ?? 2;
    if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`depth must be an integer ≥ 1, got ${depth}`);
    const ctl = new AbortController();
    const outer = this.opts.signal;
    const onAbort = (): void => ctl.abort();
    if (outer?.aborted) throw abortError();
    outer?.addEventListener('abort', onAbort, { once: true });
    try {
      if ((override.mode ?? this.opts.mode ?? 'pipelined') === 'sequential') yield* this.sequential(inputs, ctl.signal);
      else yield* this.pipelined(inputs, ctl.signal, depth);
    } finally {
      outer?.removeEventListener('abort', onAbort);
      ctl.abort();
    }
  }

  private async *sequential(inputs: Iterable<PortValues> | AsyncIterable<PortValues>, signal: AbortSignal): AsyncGenerator<ItemResult> {
    let index = 0;
    for await (const v of inputs) {
      const item: Item = { index: index++, values: { ...v }, ms: {}, devices: {} };
      for (const s of this.stages) await this.runStage(s, item, signal);
      if (signal.aborted) throw abortError();
      yield { index: item.index, outputs: item.values, ms: item.ms, devices: item.devices };
    }
  }

  private async *pipelined(inputs: Iterable<PortValues> | AsyncIterable<PortValues>, signal: AbortSignal, depth: number): AsyncGenerator<ItemResult> {
    const qs = Array.from({ length: this.stages.length + 1 }, () => new BoundedQueue<Item>(depth));
    this.queueHighWater = qs.map(() => 0);
    const failAll = (e: unknown): void => qs.forEach((q) => q.fail(e));
    const onAbort = (): void => failAll(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    const source = (async () => {
      let index = 0;
      for await (const v of inputs) {
        if (signal.aborted) return;
        await qs[0]!.put({ index: index++, values: { ...v }, ms: {}, devices: {} });
      }
      qs[0]!.close();
    })();
    const workers = this.stages.map(async (s, i) => {
      for (;;) {
        const it = await qs[i]!.take();
        if (it === END) {
          qs[i + 1]!.close();
          return;
        }
        await this.runStage(s, it, signal);
        await qs[i + 1]!.put(it);
      }
    });
    const tasks = [source, ...workers];
    for (const t of tasks) t.catch(failAll);
    try {
      for (;;) {
        const it = await qs[qs.length - 1]!.take();
        if (it === END) break;
        yield { index: it.index, outputs: it.values, ms: it.ms, devices: it.devices };
      }
      await Promise.all(tasks);
    } finally {
      this.queueHighWater = qs.map((q) => q.highWater);
      signal.removeEventListener('abort', onAbort);
      failAll(abortError());
      await Promise.allSettled(tasks);
    }
  }

  /**
   * Runs the whole stream and returns results (in order), wall time (ms, excluding brick creation
   * and the optional warm-up runs: `warmup` run `warmupRuns` times, default 1, so that first-call
   * costs and JIT tier-up are not timed) and per-brick totals (ms).
   * @throws as {@link stream}.
   */
  async runAll(inputs: Iterable<PortValues> | AsyncIterable<PortValues>, opts: { warmup?: PortValues; warmupRuns?: number } = {}):
    Promise<{ results: ItemResult[]; wallMs: number; brickMs: Record<string, number> }> {
    // Create every brick before timing so startup (worker spawn, weight upload) is not counted;
    // `warmup` runs one item through the chain first (first-call costs: wasm weight copies, ORT init).
    await Promise.all(this.stages.map((s) => this.brick(s)));
    for (let w = 0; opts.warmup && w < Math.max(1, opts.warmupRuns ?? 1); w++) {
      const item: Item = { index: -1, values: { ...opts.warmup }, ms: {}, devices: {} };
      for (const s of this.stages) await this.runStage(s, item, new AbortController().signal);
    }
    const t0 = performance.now();
    const results: ItemResult[] = [];
    for await (const r of this.stream(inputs)) results.push(r);
    const wallMs = performance.now() - t0;
    const brickMs: Record<string, number> = {};
    for (const r of results) for (const [k, v] of Object.entries(r.ms)) brickMs[k] = (brickMs[k] ?? 0) + v;
    return { results, wallMs, brickMs };
  }

  /** Disposes every brick (terminates workers, releases sessions). */
  async dispose(): Promise<void> {
    const all = [...this.bricks.values()];
    this.bricks.clear();
    for (const p of all) {
      try {
        (await p).dispose();
      } catch {
        /* a brick that never started has nothing to release */
      }
    }
  }
}
