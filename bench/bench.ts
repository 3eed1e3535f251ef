/**
 * `npm run bench -- --model PATH [-p 512] [-n 128] [-t 1,2] [--reps 3] [--no-wasm]`: runs SynFlux (native
 * addon, and the WASM backend with t-1 workers unless --no-wasm or wasm/synflux.wasm is missing) and
 * llama.cpp (node-llama-cpp's prebuilt binary; and `llama-bench` built from the bundled source
 * by scripts/reference/build-llama-cpp.sh, when present) alternately on the same file, each
 * measurement in its own process, and prints prefill (pp) and decode (tg) tok/s, load time,
 * peak RSS and the SynFlux / llama.cpp ratios as a Markdown table for BENCHMARKS.md.
 */
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';

const { values } = parseArgs({
  options: {
    model: { type: 'string' }, p: { type: 'string', short: 'p', default: '512' }, n: { type: 'string', short: 'n', default: '128' },
    t: { type: 'string', short: 't', default: '2' }, reps: { type: 'string', default: '3' }, 'no-wasm': { type: 'boolean', default: false },
  },
});
if (!values.model) { console.error('usage: npm run bench -- --model PATH [-p 512] [-n 128] [-t 1,2]'); process.exit(2); }
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

interface Row { engine: string; threads: number; load_ms: number; pp_tok_s: number; tg_tok_s: number; peak_rss_bytes: number }
function one(engine: string, t: number): Row {
  const out = execFileSync(process.execPath, [join(here, 'one-run.js'), '--engine', engine, '--model', values.model!, '-p', values.p!, '-n', values.n!, '-t', String(t), '--reps', values.reps!], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as Row;
}
function llamaBench(t: number): { pp: number; tg: number } | null {
  const bin = join(root, '.cache/llama.cpp/build/bin/llama-bench');
  if (!existsSync(bin)) return null;
  const out = execFileSync(bin, ['-m', values.model!, '-p', values.p!, '-n', values.n!, '-t', String(t), '-o', 'json', '-r', values.reps!], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const rows = JSON.parse(out) as { n_prompt: number; n_gen: number; avg_ts: number }[];
  return { pp: rows.find((r) => r.n_prompt > 0)?.avg_ts ?? NaN, tg: rows.find((r) => r.n_gen > 0)?.avg_ts ?? NaN };
}

const mb = (b: number) => (b / 2 ** 20).toFixed(0);
console.log(`model: ${values.model}  pp${values.p} tg${values.n}  cpu: ${cpus()[0]?.model} x${cpus().length}  date: ${new Date().toISOString().slice(0, 10)}`);
console.log('| threads | engine | pp tok/s | tg tok/s | load ms | peak RSS MiB |');
console.log('|---|---|---|---|---|---|');
for (const t of values.t!.split(',').map(Number)) {
  const ours = one('synflux', t);
  const wasm = !values['no-wasm'] && existsSync(join(root, 'wasm', 'synflux.wasm')) ? one('synflux-wasm', t) : null;
  const ref = one('llamacpp', t);
  const lb = llamaBench(t);
  console.log(`| ${t} | SynFlux native | ${ours.pp_tok_s} | ${ours.tg_tok_s} | ${ours.load_ms} | ${mb(ours.peak_rss_bytes)} |`);
  if (wasm) console.log(`| ${t} | SynFlux wasm | ${wasm.pp_tok_s} | ${wasm.tg_tok_s} | ${wasm.load_ms} | ${mb(wasm.peak_rss_bytes)} |`);
  console.log(`| ${t} | llama.cpp (node-llama-cpp) | ${ref.pp_tok_s} | ${ref.tg_tok_s} | ${ref.load_ms} | ${mb(ref.peak_rss_bytes)} |`);
  if (lb) console.log(`| ${t} | llama.cpp (llama-bench) | ${lb.pp.toFixed(2)} | ${lb.tg.toFixed(2)} | | |`);
  console.log(`| ${t} | **ratio SynFlux / node-llama-cpp** | ${(ours.pp_tok_s / ref.pp_tok_s).toFixed(2)} | ${(ours.tg_tok_s / ref.tg_tok_s).toFixed(2)} | | ${(ours.peak_rss_bytes / ref.peak_rss_bytes).toFixed(2)} |`);
  if (lb) console.log(`| ${t} | **ratio SynFlux / llama-bench** | ${(ours.pp_tok_s / lb.pp).toFixed(2)} | ${(ours.tg_tok_s / lb.tg).toFixed(2)} | | |`);
  if (wasm) console.log(`| ${t} | **ratio SynFlux wasm / node-llama-cpp** | ${(wasm.pp_tok_s / ref.pp_tok_s).toFixed(2)} | ${(wasm.tg_tok_s / ref.tg_tok_s).toFixed(2)} | | ${(wasm.peak_rss_bytes / ref.peak_rss_bytes).toFixed(2)} |`);
  if (wasm && lb) console.log(`| ${t} | **ratio SynFlux wasm / llama-bench** | ${(wasm.pp_tok_s / lb.pp).toFixed(2)} | ${(wasm.tg_tok_s / lb.tg).toFixed(2)} | | |`);
}
