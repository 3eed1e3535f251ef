/**
 * Executes a validated pipeline on the brick executor (src/bricks/executor.ts
 * {@link PipelineExecutor}) — the one executor SynFlux has; there is no second, sequential runner.
 *
 * Mapping of the pipeline DAG onto the executor's chain of stages:
 * - every brick is one stage, in the pipeline's topological order (`ValidatedPipeline.order`);
 * - the executor hands each stage the item's values merged into one map; the runner keeps pipeline
 *   inputs in it under `$name` and brick outputs under `brick.port` (brick names contain no '.',
 *   so keys never collide), which are exactly the edge strings of the pipeline file. A stage
 *   resolves its input edges from that map, runs the brick on its own port names and returns its
 *   outputs under `brick.port`. Edge semantics are therefore those of the file: a brick sees the
 *   values on its edges, nothing else;
 * - a stage's devices are the placed device first, then the other devices its type lists in the
 *   registry (src/pipelines/registry.ts `devices`), so a BackendError on the placed device (missing
 *   at creation, or failing mid-stream) moves the brick to the next device with the executor's
 *   `[synflux] re-planned: BRICK OLD→NEW (reason)` line, and the failed item is re-run there.
 *   Device exclusion is per device (executor semantics): a dead device is left by every brick on
 *   it, and a brick with no other device ends the stream with BackendError `NO_DEVICE_LEFT`;
 *
 * `run(inputs)` runs one input (sequential); `stream(inputs, {mode, depth})` runs a stream of
 * inputs either `pipelined` (each brick a stage with bounded queues of `depth` items between
 * stages, so brick i works on item t+1 while brick i+1 works on item t; backpressure bounds the
 * items in flight) or `sequential` (each item through every brick before the next starts, the
 * baseline for the same placement). Results come out in input order.
 *
 * Overlap needs compute off the main thread: onnxruntime-node's `run` and the native / wasm
 * kernels are synchronous on their calling thread, so bricks that all run on the main thread are
 * interleaved, not overlapped (only e.g. sharp's image decoding runs on libuv's pool). Bricks named
 * in `workers` run each in its own worker thread (src/pipelines/worker-host.ts) and do overlap.
 */
import { performance } from 'node:perf_hooks';
import { BackendError, PipelineError, RequestError, SynfluxError } from '../core/errors.js';
import type { Brick, PortSpec, PortValue, PortValues } from '../bricks/brick.js';
import { fallbackReplan, PipelineExecutor, type ItemResult, type StageSpec } from '../bricks/executor.js';
import { brickType } from './registry.js';
import type { ValidatedPipeline } from './types.js';
import { parseEdge } from './validate.js';
import { HOSTED_LINES_PORT } from './worker-host.js';

/** Options of {@link createPipeline}. */
export interface CreatePipelineOptions {
  /** Per-brick option overrides, merged over the file's options (e.g. `{lm: {model: PATH}}`). */
  readonly overrides?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /**
   * Log lines (brick loading, re-planning), without the `[synflux] ` prefix. Default: re-plan lines
   * on stderr, loading silent.
   */
  readonly log?: (msg: string) => void;
  /** Default queue depth of pipelined streams (items per queue between stages; default 2). */
  readonly depth?: number;
  /**
   * Bricks to host each in its own worker thread (src/pipelines/worker-host.ts): their compute then
   * overlaps the main thread's bricks in a pipelined stream. Only built-in brick types (types
   * registered at run time exist only in their own thread). Inputs and outputs cross by structured
   * clone (a copy).
   */
  readonly workers?: readonly string[];
}

/** Timings of one pipeline item, ms. */
export interface PipelineTimings {
  /**
   * ms from the item being read from the input stream to its result: for `run` (and sequential
   * streams) the wall time of all bricks on this item; in pipelined streams it also includes time
   * spent waiting in queues.
   */
  readonly total_ms: number;
  /** Wall time of each brick's run on this item, ms, by brick name (in execution order). */
  readonly bricks: Readonly<Record<string, number>>;
}

/** A recognized text line reported by a brick that keeps `lastLines` (`ocr.rec`). */
export interface RecognizedLine {
  readonly text: string;
  /** Recognition confidence in [0, 1]. */
  readonly score: number;
  /** Corners in source pixels: top-left, top-right, bottom-right, bottom-left. */
  readonly box: readonly { readonly x: number; readonly y: number }[];
}

/** Result of one pipeline item. */
export interface PipelineResult {
  /** The pipeline's declared outputs by name. */
  readonly outputs: Readonly<Record<string, PortValue>>;
  readonly timings: PipelineTimings;
  /** Device each brick ran on for this item (differs from the placement after a re-plan). */
  readonly devices: Readonly<Record<string, string>>;
  /** Lines recognized for this item by `ocr.rec`-like bricks, in execution order (absent when none). */
  readonly lines?: readonly RecognizedLine[];
}

/** One result of {@link LoadedPipeline.stream}. */
export interface PipelineItemResult extends PipelineResult {
  /** Position of the item in the input stream (0-based). */
  readonly index: number;
}

/** Options of {@link LoadedPipeline.stream}. */
export interface StreamOptions {
  /** `pipelined` (default): bricks overlap across items; `sequential`: one item at a time. */
  readonly mode?: 'pipelined' | 'sequential';
  /** Queue capacity between stages in pipelined mode (≥ 1; default the pipeline's `depth`, 2). */
  readonly depth?: number;
}

/** Pipeline inputs of one item, by declared input name. */
export type PipelineInputs = Readonly<Record<string, PortValue>>;

/** A pipeline with its bricks created, ready to run (possibly many times, one stream at a time). */
export interface LoadedPipeline {
  readonly pipeline: ValidatedPipeline;
  /** The created bricks by name (a re-planned brick is replaced by its new instance). */
  readonly bricks: ReadonlyMap<string, Brick>;
  /** Time to create each brick (load weights / sessions), ms; the latest creation after a re-plan. */
  readonly loadMs: Readonly<Record<string, number>>;
  /** The executor the stages run on (current placement, re-plan events, queue high-water marks). */
  readonly executor: PipelineExecutor;
  /**
   * Runs the pipeline once on one input.
   * @throws RequestError (`PIPELINE_INPUT_MISSING` / `PIPELINE_INPUT_KIND`) for missing or
   *   mistyped pipeline inputs, (`PIPELINE_BUSY`) while a stream is open; PipelineError
   *   (`PIPELINE_BRICK_OUTPUT`) when a brick does not produce a value on an edge; BackendError
   *   (`NO_DEVICE_LEFT`) when a failing brick has no device left; whatever a brick throws.
   */
  run(inputs: PipelineInputs): Promise<PipelineResult>;
  /**
   * Runs a stream of inputs through the executor, yielding each item's result in input order as
   * soon as it completes. Inputs are read lazily (backpressure: a pipelined stream reads at most
   * `bricks + (bricks + 1)·depth` items ahead of the consumer). Breaking out of the loop ends it.
   * @throws as {@link run}, for the first failing item (the stream ends there); RangeError for
   *   depth < 1.
   */
  stream(inputs: Iterable<PipelineInputs> | AsyncIterable<PipelineInputs>, opts?: StreamOptions): AsyncGenerator<PipelineItemResult>;
  /**
   * Runs a whole stream and collects it.
   * @returns results in input order, `wall_ms` (from the first read to the last result, ms) and
   *   `ms_per_item` (`wall_ms / items`).
   * @throws as {@link stream}.
   */
  runAll(inputs: Iterable<PipelineInputs> | AsyncIterable<PipelineInputs>, opts?: StreamOptions):
    Promise<{ results: PipelineItemResult[]; wall_ms: number; ms_per_item: number; mode: 'pipelined' | 'sequential' }>;
  /** Disposes every brick. */
  dispose(): void;
}

/** Key of a brick's recognized lines in the executor's value map (`#` never occurs in an edge). */
const linesKey = (brick: string): string => `${brick}#lines`;

/** One input edge of a stage: brick port ← value-map key. */
interface EdgeIn {
  readonly port: string;
  /** The edge string, which is also the key in the executor's value map (`$name` / `brick.port`). */
  readonly key: string;
  readonly where: string;
}

/**
 * A pipeline brick as an executor stage brick: reads its edges from the item's value map, runs the
 * real brick on its own port names, returns outputs under `brick.port` (plus the brick's
 * `lastLines`, if it keeps them, as JSON text under `brick#lines`, captured right after the run so
 * a later item's run cannot overwrite them).
 */
class StageBrick implements Brick {
  readonly inputs: readonly PortSpec[];
  readonly outputs: readonly PortSpec[];
  private disposed = false;

  constructor(readonly name: string, readonly device: string, readonly inner: Brick, private readonly edges: readonly EdgeIn[], private readonly onDispose: () => void) {
    this.inputs = inner.inputs;
    this.outputs = inner.outputs;
  }

  /**
   * @throws PipelineError `PIPELINE_BRICK_OUTPUT` when an input edge has no value; the brick's errors.
   */
  async run(values: PortValues): Promise<Record<string, PortValue>> {
    const ins: Record<string, PortValue> = {};
    for (const e of this.edges) {
      const v = values[e.key];
      if (!v) throw new PipelineError('PIPELINE_BRICK_OUTPUT', `${e.where}: ${e.key} produced no value`);
      ins[e.port] = v;
    }
    const out = await this.inner.run(ins);
    const res: Record<string, PortValue> = {};
    for (const [port, v] of Object.entries(out)) res[port === HOSTED_LINES_PORT ? linesKey(this.name) : `${this.name}.${port}`] = v;
    const ll = (this.inner as { lastLines?: unknown }).lastLines;
    if (Array.isArray(ll)) res[linesKey(this.name)] = { kind: 'text', text: JSON.stringify(ll) };
    return res;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.inner.dispose();
    this.onDispose();
  }
}

/**
 * Creates the bricks of a validated pipeline on their placed devices, in execution order, through
 * the executor (a brick whose device is missing — BackendError at creation — is re-planned to its
 * type's next device). A failure disposes the bricks already created.
 * @throws PipelineError (`PIPELINE_BAD_OPTION`) when an override is invalid or `overrides` /
 *   `workers` name an unknown brick, (`PIPELINE_UNKNOWN_TYPE`) when a worker-hosted brick's type
 *   was registered at run time; RangeError for `depth` < 1; the errors of the brick factories
 *   (missing models, ONNX Runtime, …): a BackendError with no other device to try is rethrown as
 *   the factory threw it.
 */
export async function createPipeline(p: ValidatedPipeline, opts: CreatePipelineOptions = {}): Promise<LoadedPipeline> {
  const specs = new Map(p.spec.bricks.map((b) => [b.name, b]));
  for (const name of Object.keys(opts.overrides ?? {})) {
    if (!specs.has(name)) throw new PipelineError('PIPELINE_BAD_OPTION', `override for unknown brick ${JSON.stringify(name)}`);
  }
  const workers = new Set(opts.workers ?? []);
  for (const name of workers) {
    if (!specs.has(name)) throw new PipelineError('PIPELINE_BAD_OPTION', `worker thread for unknown brick ${JSON.stringify(name)} (bricks: ${[...specs.keys()].join(', ')})`);
  }
  const depth = opts.depth ?? 2;
  if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`depth must be an integer ≥ 1, got ${depth}`);
  const bricks = new Map<string, Brick>();
  const wrappers = new Map<string, StageBrick>();
  const loadMs: Record<string, number> = {};

  const stages: StageSpec[] = p.order.map((name) => {
    const b = specs.get(name)!;
    const t = brickType(b.type)!;
    const options = { ...(b.options ?? {}), ...(opts.overrides?.[name] ?? {}) };
    t.validateOptions(options, `${name}.options`);
    const placed = p.placement[name]!;
    const edges: EdgeIn[] = Object.entries(b.inputs).map(([port, edge]) => {
      const where = `${name}.inputs.${port}`;
      parseEdge(edge, where); // validated already; keeps the same error for hand-built pipelines
      return { port, key: edge, where };
    });
    return {
      name,
      devices: [placed, ...t.devices.filter((d) => d !== placed)],
      create: async (device: string): Promise<Brick> => {
        const hosted = workers.has(name);
        opts.log?.(`creating brick ${name} (${b.type}) on ${device}${hosted ? ' in a worker thread' : ''}`);
        const t0 = performance.now();
        const inner = hosted
          ? await (await import('../bricks/worker-brick.js')).WorkerBrick.start({
              name,
              device,
              inputs: t.inputs(options),
              outputs: t.outputs(options),
              hosted: { spec: { kind: 'pipeline-brick', type: b.type, name, options }, device },
            })
          : await t.create({ name, device, options, ...(opts.log ? { log: opts.log } : {}) });
        loadMs[name] = performance.now() - t0;
        const w: StageBrick = new StageBrick(name, device, inner, edges, () => {
          if (wrappers.get(name) === w) {
            wrappers.delete(name);
            bricks.delete(name);
          }
        });
        wrappers.set(name, w);
        bricks.set(name, inner);
        return w;
      },
    };
  });

  // Per-brick fallback: the executor's, with the pipeline's brick types in the message.
  const replan = fallbackReplan(stages, (st) => `brick ${st.name} (${specs.get(st.name)!.type})`);
  const executor = new PipelineExecutor(stages, {
    placement: { ...p.placement },
    mode: 'pipelined',
    depth,
    replan,
    log: (line) => (opts.log ? opts.log(line.replace(/^\[synflux\] /, '')) : process.stderr.write(`${line}\n`)),
  });

  /**
   * The executor's NO_DEVICE_LEFT carries the device failure as `cause`. When nothing was ever
   * moved (the failing brick had no other device), the original error is the useful one (e.g.
   * ONNX_RUNTIME_MISSING); otherwise NO_DEVICE_LEFT names the last failure in its message.
   */
  const unwrap = (e: unknown): unknown => {
    if (!(e instanceof BackendError) || e.code !== 'NO_DEVICE_LEFT' || !(e.cause instanceof SynfluxError)) return e;
    if (executor.replans.length === 0) return e.cause;
    return new BackendError('NO_DEVICE_LEFT', `${e.message}; last failure: ${e.cause.code}: ${e.cause.message}`, { cause: e.cause });
  };

  const disposeAll = (): void => {
    for (const w of [...wrappers.values()]) w.dispose();
    void executor.dispose();
  };

  try {
    await executor.prepare();
  } catch (e) {
    disposeAll();
    throw unwrap(e);
  }

  const checkInputs = (inputs: PipelineInputs): Record<string, PortValue> => {
    for (const [name, decl] of Object.entries(p.spec.inputs)) {
      const v = inputs[name];
      if (!v) throw new RequestError('PIPELINE_INPUT_MISSING', `pipeline ${p.spec.name} needs input ${JSON.stringify(name)} (${decl.kind})`);
      if (v.kind !== decl.kind) throw new RequestError('PIPELINE_INPUT_KIND', `pipeline input ${name} must be ${decl.kind}, got ${v.kind}`);
    }
    const values: Record<string, PortValue> = {};
    for (const [name, v] of Object.entries(inputs)) values[`$${name}`] = v;
    return values;
  };

  const result = (r: ItemResult, totalMs: number): PipelineItemResult => {
    const outputs: Record<string, PortValue> = {};
    for (const [name, edge] of Object.entries(p.spec.outputs)) {
      parseEdge(edge, `outputs.${name}`);
      const v = r.outputs[edge];
      if (!v) throw new PipelineError('PIPELINE_BRICK_OUTPUT', `outputs.${name}: ${edge} produced no value`);
      outputs[name] = v;
    }
    const lines: RecognizedLine[] = [];
    for (const name of p.order) {
      const v = r.outputs[linesKey(name)];
      if (v?.kind === 'text') lines.push(...(JSON.parse(v.text) as RecognizedLine[]));
    }
    const bricksMs: Record<string, number> = {};
    for (const name of p.order) if (r.ms[name] !== undefined) bricksMs[name] = r.ms[name]!;
    return { index: r.index, outputs, timings: { total_ms: totalMs, bricks: bricksMs }, devices: { ...r.devices }, ...(lines.length > 0 ? { lines } : {}) };
  };

  let busy = false;
  async function* stream(inputs: Iterable<PipelineInputs> | AsyncIterable<PipelineInputs>, so: StreamOptions = {}): AsyncGenerator<PipelineItemResult> {
    if (busy) throw new RequestError('PIPELINE_BUSY', `pipeline ${p.spec.name}: another run or stream is in progress (one at a time)`);
    busy = true;
    const started: number[] = [];
    async function* feed(): AsyncGenerator<PortValues> {
      for await (const v of inputs) {
        const values = checkInputs(v);
        started.push(performance.now());
        yield values;
      }
    }
    try {
      for await (const r of executor.stream(feed(), { mode: so.mode ?? 'pipelined', depth: so.depth ?? depth })) {
        yield result(r, performance.now() - started[r.index]!);
      }
    } catch (e) {
      throw unwrap(e);
    } finally {
      busy = false;
    }
  }

  return {
    pipeline: p,
    bricks,
    loadMs,
    executor,
    stream,
    run: async (inputs) => {
      for await (const r of stream([inputs], { mode: 'sequential' })) return r;
      throw new PipelineError('PIPELINE_BRICK_OUTPUT', `pipeline ${p.spec.name}: the run produced no result`);
    },
    runAll: async (inputs, so = {}) => {
      const t0 = performance.now();
      const results: PipelineItemResult[] = [];
      for await (const r of stream(inputs, so)) results.push(r);
      const wall = performance.now() - t0;
      return { results, wall_ms: wall, ms_per_item: results.length ? wall / results.length : 0, mode: so.mode ?? 'pipelined' };
    },
    dispose: disposeAll,
  };
}
