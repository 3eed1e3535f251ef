/**
 * `synflux bench --model PATH [-p 512] [-n 128] [-t 2] [--reps 3] [--backend cpu|wasm] [--json]`: SynFlux's own
 * prefill/decode throughput (see src/bench/measure.ts). The comparison against llama.cpp is
 * `npm run bench` (bench/bench.ts).
 */
import type { CliIO } from './io.js';
import { measureModel } from '../bench/measure.js';
import { resolveModelPath } from './model.js';
import { parseBackendOption } from './options.js';

/** Options as parsed by commander. */
export interface BenchOptions { model?: string; p?: string; n?: string; threads?: string; reps?: string; json?: boolean; backend?: string }

/** Runs the benchmark and prints a line of figures, or the JSON object with `--json`. */
export async function benchCommand(opts: BenchOptions, io: CliIO): Promise<void> {
  const path = await resolveModelPath({ model: opts.model }, io);
  const r = await measureModel(path, { p: Number(opts.p ?? 512), n: Number(opts.n ?? 128), threads: Number(opts.threads ?? 2), reps: Number(opts.reps ?? 3),
    ...(opts.backend !== undefined ? { backend: parseBackendOption(opts.backend) } : {}) });
  if (opts.json) io.stdout.write(JSON.stringify(r) + '\n');
  else io.stdout.write(`pp${opts.p ?? 512}: ${r.pp_tok_s} tok/s | tg${opts.n ?? 128}: ${r.tg_tok_s} tok/s | load ${r.load_ms} ms | peak RSS ${(r.peak_rss_bytes / 2 ** 20).toFixed(0)} MiB\n`);
}
