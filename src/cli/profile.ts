/**
 * `synflux profile [--device cpu|wasm|onnx|webgpu|all] [--threads N] [--json] [--out FILE] [--power FILE] [--quick]`:
 * measures device profiles (src/bricks/profile.ts; schema in src/bricks/profile-schema.ts) and
 * stores them as JSON under the user cache dir (or `--out`). `--power FILE` merges
 * `{ DEVICE: { idleW, busyW } }` (watts; power cannot be measured here). Progress goes to stderr;
 * stdout gets a summary table, or the profile JSON with `--json`.
 */
import { readFileSync } from 'node:fs';
import { RequestError } from '../core/errors.js';
import type { CliIO } from './io.js';
import { parseIntOption } from './options.js';
import type { ProfileDeviceName } from '../bricks/profile.js';

/** Options as parsed by commander. */
export interface ProfileOptions { device?: string; threads?: string; json?: boolean; out?: string; power?: string; quick?: boolean }

/** Device names `--device` accepts. */
export const PROFILE_DEVICES: readonly ProfileDeviceName[] = ['cpu', 'wasm', 'onnx', 'webgpu'];

/**
 * Parses `--device`: undefined for none or `all` (cpu, wasm, onnx, and webgpu when a Chromium is
 * installed and starts: src/bricks/profile.ts `measureProfiles`), else the listed names.
 * @throws RequestError BAD_OPTION for an unknown name.
 */
export function parseDevices(s: string | undefined): ProfileDeviceName[] | undefined {
  if (!s || s === 'all') return undefined;
  const out = s.split(',').map((x) => x.trim());
  for (const d of out) if (!PROFILE_DEVICES.includes(d as ProfileDeviceName)) throw new RequestError('BAD_OPTION', `--device must be cpu, wasm, onnx, webgpu, a comma list of them, or all; got ${d}`);
  return out as ProfileDeviceName[];
}

/** Runs the profiler, saves the file and prints the summary. */
export async function profileCommand(opts: ProfileOptions, io: CliIO): Promise<void> {
  const { measureProfiles } = await import('../bricks/profile.js');
  const { saveProfileSet, defaultProfilePath, mergePower } = await import('../bricks/profile-schema.js');
  const threads = opts.threads === undefined ? 1 : parseIntOption('--threads', opts.threads, 1, 256);
  let power: unknown;
  if (opts.power) {
    try {
      power = JSON.parse(readFileSync(opts.power, 'utf8'));
    } catch (e) {
      throw new RequestError('BAD_POWER_CONFIG', `cannot read --power ${opts.power}: ${(e as Error).message}`, { cause: e });
    }
  }
  const p = await measureProfiles({
    devices: parseDevices(opts.device), threads,
    ...(opts.quick ? { sizes: [[512, 512]], minMs: 30, maxMs: 600 } : {}),
    log: (l) => io.stderr.write(`[synflux] ${l}\n`),
  });
  if (power !== undefined) mergePower(p, power);
  const out = opts.out ?? defaultProfilePath();
  saveProfileSet(p, out);
  io.stderr.write(`[synflux] profile written to ${out}\n`);
  if (opts.json) {
    io.stdout.write(JSON.stringify(p, null, 2) + '\n');
    return;
  }
  for (const [name, d] of Object.entries(p.devices)) {
    io.stdout.write(`${name}: ${d.description}; memory-bound ${d.memGBs.toFixed(2)} GB/s; launch ${d.launchUs.toFixed(1)} µs${d.power ? `; power ${d.power.idleW}/${d.power.busyW} W idle/busy` : ''}\n`);
    if (d.opNs) io.stdout.write(`  ops ns/element: ${Object.entries(d.opNs).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}\n`);
    for (const m of d.matmul) io.stdout.write(`  matmul ${m.dtype.padEnd(5)} ${`${m.nOut}x${m.nIn}`.padEnd(10)} nTok ${String(m.nTok).padStart(3)}: ${m.gflops.toFixed(2).padStart(8)} GFLOP/s\n`);
  }
  if (p.hostOps) io.stdout.write(`host ops ns/unit: ${Object.entries(p.hostOps.opNs).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}\n`);
  for (const t of p.transfers) io.stdout.write(`transfer ${t.from}→${t.to}: ${t.fixedMs.toFixed(3)} ms + ${(t.bytesPerSec / 1e9).toFixed(2)} GB/s\n`);
}
