/**
 * `synflux plan --model LM.gguf [--mmproj MMPROJ.gguf] | --pipeline FILE [--objective latency|energy]
 *  [--place BRICK=DEVICE,…] [--profile FILE] [--calibration FILE] [--prompt-tokens N] [--gen-tokens N] [--image-tiles N]
 *  [--memory-budget DEVICE=BYTES,…] [--energy-budget J] [--json]`:
 * chooses a placement from the measured device profiles (src/bricks/planner.ts) and prints it with
 * the predicted ms per brick, memory per device and energy per query. `--json` prints
 * `{placement, predicted_ms: {total, BRICK…}, memory_bytes: {DEVICE…}, energy_j, objective,
 *   stream_ms_per_item, transfer_ms, candidates: [{placement, predicted_ms, …}…]}`.
 */
import { readFileSync } from 'node:fs';
import { RequestError } from '../core/errors.js';
import type { CliIO } from './io.js';
import { parseIntOption, parseNumberOption } from './options.js';

/** Options as parsed by commander. */
export interface PlanCliOptions {
  model?: string; mmproj?: string; pipeline?: string; objective?: string; place?: string; profile?: string; calibration?: string;
  promptTokens?: string; genTokens?: string; imageTiles?: string; memoryBudget?: string; energyBudget?: string; json?: boolean;
}

function readJson(flag: string, path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new RequestError('BAD_OPTION', `cannot read ${flag} ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Plans and prints. @throws RequestError for bad options, a missing profile or an unplaceable brick. */
export async function planCommand(opts: PlanCliOptions, io: CliIO): Promise<void> {
  const { plan, parsePlace } = await import('../bricks/planner.js');
  const { loadProfileSet, defaultProfilePath } = await import('../bricks/profile-schema.js');
  const { modelPlanBricks, pipelinePlanBricks } = await import('../bricks/plan-bricks.js');
  const objective = opts.objective ?? 'latency';
  if (objective !== 'latency' && objective !== 'energy') throw new RequestError('BAD_OPTION', `--objective must be latency or energy, got ${objective}`);
  const q = {
    ...(opts.promptTokens !== undefined ? { promptTokens: parseIntOption('--prompt-tokens', opts.promptTokens, 1) } : {}),
    ...(opts.genTokens !== undefined ? { genTokens: parseIntOption('--gen-tokens', opts.genTokens, 0) } : {}),
    ...(opts.imageTiles !== undefined ? { tiles: parseIntOption('--image-tiles', opts.imageTiles, 1) } : {}),
  };
  const ps = loadProfileSet(opts.profile ?? defaultProfilePath());
  const calibration = opts.calibration ? (readJson('--calibration', opts.calibration) as Record<string, Record<string, number>>) : {};
  let bricks;
  let uncalibrated: string[] = [];
  if (opts.pipeline) ({ bricks, uncalibrated } = await pipelinePlanBricks(opts.pipeline, q, calibration));
  else if (opts.model) bricks = (await modelPlanBricks(opts.model, opts.mmproj, q)).map((b) => (calibration[b.name] ? { ...b, calibratedMs: calibration[b.name]! } : b));
  else throw new RequestError('BAD_OPTION', 'plan needs --model (with optional --mmproj) or --pipeline');
  if (uncalibrated.length) io.stderr.write(`[synflux] warning: no calibration for ${uncalibrated.join(', ')} (opaque ONNX bricks priced at 0 ms; see bench/plan-check.ts --write-calibration)\n`);
  const memoryBudget: Record<string, number> = {};
  for (const [d, v] of Object.entries(parsePlace(opts.memoryBudget))) {
    const n = Number(v);
    if (!(n >= 0)) throw new RequestError('BAD_OPTION', `--memory-budget ${d}=${v}: bytes must be a number ≥ 0`);
    memoryBudget[d] = n;
  }
  const energyBudgetJ = opts.energyBudget === undefined ? undefined : parseNumberOption('--energy-budget', opts.energyBudget, { min: 0 });
  const p = plan(bricks, ps, { objective, pins: parsePlace(opts.place), memoryBudget, ...(energyBudgetJ !== undefined ? { energyBudgetJ } : {}) });
  if (opts.json) {
    io.stdout.write(JSON.stringify(p) + '\n');
    return;
  }
  io.stdout.write(`objective: ${objective}; ${p.candidates.length} placements considered\n`);
  for (const b of bricks) io.stdout.write(`  ${b.name.padEnd(12)} → ${p.placement[b.name]!.padEnd(5)} ${p.predicted_ms[b.name]!.toFixed(2).padStart(10)} ms\n`);
  io.stdout.write(`  transfers${' '.repeat(17)}${p.transfer_ms.toFixed(2).padStart(10)} ms\n`);
  io.stdout.write(`total: ${p.predicted_ms.total!.toFixed(2)} ms per query; pipelined stream: ${p.stream_ms_per_item.toFixed(2)} ms per item\n`);
  io.stdout.write(`memory: ${Object.entries(p.memory_bytes).map(([d, b]) => `${d} ${(b / 2 ** 20).toFixed(1)} MiB`).join(', ')}\n`);
  io.stdout.write(`energy: ${p.energy_j === null ? 'n/a (no power figures in the profile)' : `${p.energy_j.toFixed(3)} J per query`}\n`);
}
