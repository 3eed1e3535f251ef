/**
 * Executes a validated pipeline: creates every brick on its placed device (through the brick type
 * registry, so nothing here knows about OCR or language models), then runs the bricks one after
 * another in topological order, feeding each the values on its input edges, and times each run.
 * Execution is sequential: the pipelined, re-planning chain executor is src/bricks/executor.ts
 * (used by `synflux plan` / plan-check), which `synflux run --pipeline` does not use yet.
 */
import { PipelineError, RequestError } from '../core/errors.js';
import type { Brick, PortValue } from '../bricks/brick.js';
import { brickType } from './registry.js';
import type { ValidatedPipeline } from './types.js';
import { parseEdge } from './validate.js';

/** Options of {@link createPipeline}. */
export interface CreatePipelineOptions {
  /** Per-brick option overrides, merged over the file's options (e.g. `{lm: {model: PATH}}`). */
  readonly overrides?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Log lines (brick loading). */
  readonly log?: (msg: string) => void;
}

/** Timings of one pipeline run, ms. */
export interface PipelineTimings {
  /** Wall time of the whole run (all bricks, sequential), ms. */
  readonly total_ms: number;
  /** Wall time of each brick's run, ms, by brick name. */
  readonly bricks: Readonly<Record<string, number>>;
}

/** Result of one pipeline run. */
export interface PipelineResult {
  /** The pipeline's outputs by name. */
  readonly outputs: Readonly<Record<string, PortValue>>;
  readonly timings: PipelineTimings;
}

/** A pipeline with its bricks created, ready to run (possibly many times). */
export interface LoadedPipeline {
  readonly pipeline: ValidatedPipeline;
  /** The created bricks by name. */
  readonly bricks: ReadonlyMap<string, Brick>;
  /** Time to create each brick (load weights / sessions), ms. */
  readonly loadMs: Readonly<Record<string, number>>;
  /**
   * Runs the pipeline once.
   * @throws RequestError (`PIPELINE_INPUT_MISSING` / `PIPELINE_INPUT_KIND`) for missing or
   *   mistyped pipeline inputs; PipelineError (`PIPELINE_BRICK_OUTPUT`) when a brick does not
   *   produce a declared output; whatever a brick throws.
   */
  run(inputs: Readonly<Record<string, PortValue>>): Promise<PipelineResult>;
  /** Disposes every brick. */
  dispose(): void;
}

/**
 * Creates the bricks of a validated pipeline, in execution order (a failure disposes the bricks
 * already created).
 * @throws PipelineError (`PIPELINE_BAD_OPTION`) when an override is invalid; the errors of the
 *   brick factories (missing models, ONNX Runtime, …).
 */
export async function createPipeline(p: ValidatedPipeline, opts: CreatePipelineOptions = {}): Promise<LoadedPipeline> {
  const bricks = new Map<string, Brick>();
  const loadMs: Record<string, number> = {};
  const specs = new Map(p.spec.bricks.map((b) => [b.name, b]));
  for (const name of Object.keys(opts.overrides ?? {})) {
    if (!specs.has(name)) throw new PipelineError('PIPELINE_BAD_OPTION', `override for unknown brick ${JSON.stringify(name)}`);
  }
  try {
    for (const name of p.order) {
      const b = specs.get(name)!;
      const t = brickType(b.type)!;
      const options = { ...(b.options ?? {}), ...(opts.overrides?.[name] ?? {}) };
      t.validateOptions(options, `${name}.options`);
      const device = p.placement[name]!;
      opts.log?.(`creating brick ${name} (${b.type}) on ${device}`);
      const t0 = performance.now();
      bricks.set(name, await t.create({ name, device, options, ...(opts.log ? { log: opts.log } : {}) }));
      loadMs[name] = performance.now() - t0;
    }
  } catch (e) {
    for (const br of bricks.values()) br.dispose();
    throw e;
  }

  const run = async (inputs: Readonly<Record<string, PortValue>>): Promise<PipelineResult> => {
    for (const [name, decl] of Object.entries(p.spec.inputs)) {
      const v = inputs[name];
      if (!v) throw new RequestError('PIPELINE_INPUT_MISSING', `pipeline ${p.spec.name} needs input ${JSON.stringify(name)} (${decl.kind})`);
      if (v.kind !== decl.kind) throw new RequestError('PIPELINE_INPUT_KIND', `pipeline input ${name} must be ${decl.kind}, got ${v.kind}`);
    }
    const values = new Map<string, Record<string, PortValue>>();
    const resolve = (edge: string, where: string): PortValue => {
      const ref = parseEdge(edge, where);
      const v = ref.from === 'input' ? inputs[ref.name] : values.get(ref.brick)?.[ref.port];
      if (!v) throw new PipelineError('PIPELINE_BRICK_OUTPUT', `${where}: ${edge} produced no value`);
      return v;
    };
    const times: Record<string, number> = {};
    const t0 = performance.now();
    for (const name of p.order) {
      const b = specs.get(name)!;
      const ins: Record<string, PortValue> = {};
      for (const [port, edge] of Object.entries(b.inputs)) ins[port] = resolve(edge, `${name}.inputs.${port}`);
      const tb = performance.now();
      values.set(name, await bricks.get(name)!.run(ins));
      times[name] = performance.now() - tb;
    }
    const total = performance.now() - t0;
    const outputs: Record<string, PortValue> = {};
    for (const [name, edge] of Object.entries(p.spec.outputs)) outputs[name] = resolve(edge, `outputs.${name}`);
    return { outputs, timings: { total_ms: total, bricks: times } };
  };

  return {
    pipeline: p,
    bricks,
    loadMs,
    run,
    dispose: () => {
      for (const br of bricks.values()) br.dispose();
    },
  };
}
