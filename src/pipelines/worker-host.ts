/**
 * Worker-thread side of a pipeline brick hosted off the main thread (src/bricks/device-worker.ts
 * kind `pipeline-brick`, proxied by src/bricks/worker-brick.ts `WorkerBrick`).
 *
 * Why: onnxruntime-node's `session.run` and SynFlux's native / wasm kernels are synchronous calls
 * on the calling thread (onnxruntime-node's backend wraps the native run in `setImmediate`, it does
 * not move it to another thread). Bricks that all compute on the main thread can be interleaved by
 * the executor but never overlap; a brick in its own worker computes while the main thread runs
 * the others. The worker creates the brick from the brick-type registry, exactly as the main
 * thread would, so outputs are the same.
 */
import { PipelineError } from '../core/errors.js';
import type { PortValue, PortValues } from '../bricks/brick.js';
import { brickType } from './registry.js';

/** What to host: a registered brick type with its (JSON) options. */
export interface PipelineBrickSpec {
  readonly kind: 'pipeline-brick';
  /** Registered type (src/pipelines/registry.ts), e.g. `llm.generate`. */
  readonly type: string;
  /** The brick's name in the pipeline. */
  readonly name: string;
  /** The brick's options (overrides merged; already validated on the main thread). */
  readonly options: Readonly<Record<string, unknown>>;
}

/** Output port under which a hosted brick's `lastLines` (JSON text) travel back (no real port has a '#'). */
export const HOSTED_LINES_PORT = '#lines';

/**
 * Creates the brick in this (worker) thread.
 * @returns its `run`; outputs are the brick's, plus {@link HOSTED_LINES_PORT} when the brick keeps
 *   `lastLines` (recognized OCR lines), captured right after the run.
 * @throws PipelineError (`PIPELINE_UNKNOWN_TYPE`) for a type not registered in the worker (types
 *   registered at run time by `registerBrickType` exist only in the thread that registered them);
 *   the brick factory's errors.
 */
export async function hostPipelineBrick(spec: PipelineBrickSpec, device: string): Promise<{ run(inputs: PortValues): Promise<Record<string, PortValue>> }> {
  const t = brickType(spec.type);
  if (!t) throw new PipelineError('PIPELINE_UNKNOWN_TYPE', `brick type ${spec.type} is not registered in the worker thread (only built-in types can be worker-hosted)`);
  const b = await t.create({ name: spec.name, device, options: spec.options });
  return {
    run: async (inputs) => {
      const out = { ...(await b.run(inputs)) };
      const ll = (b as { lastLines?: unknown }).lastLines;
      if (Array.isArray(ll)) out[HOSTED_LINES_PORT] = { kind: 'text', text: JSON.stringify(ll) };
      return out;
    },
  };
}
