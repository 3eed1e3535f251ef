/**
 * Device profiles: what `synflux profile` measures and the planner reads. Stored as JSON (this
 * schema, versioned by `version`) under the user cache dir
 * (`$SYNFLUX_CACHE` or `$XDG_CACHE_HOME/synflux` or `~/.cache/synflux`, file `device-profile.json`)
 * or where `--out` says.
 *
 * ```json
 * { "schema": "synflux-device-profile", "version": 1, "created": "2026-11-21T20:00:00Z",
 *   "host": { "cpus": 2, "cpuModel": "…", "node": "v20.…" },
 *   "devices": {
 *     "cpu": { "kind": "cpu", "description": "native addon (avx512), 1 thread", "threads": 1,
 *              "matmul": [ { "dtype": "Q4_1", "nOut": 512, "nIn": 512, "nTok": 1, "ms": 0.03, "gflops": 17.5 }, … ],
 *              "memGBs": 9.1, "launchUs": 1.2, "power": { "idleW": 2, "busyW": 9 } }, … },
 *   "transfers": [ { "from": "cpu", "to": "wasm", "fixedMs": 0.05, "bytesPerSec": 4.1e9 }, … ] }
 * ```
 * - `matmul[].gflops` = 2·nOut·nIn·nTok / time; at nTok = 1 it is bandwidth-limited (weights streamed once
 *   per token), at nTok ≥ 64 compute-limited.
 * - `memGBs`: a memory-bound op on buffers far larger than the last-level cache, bytes moved / time
 *   (cpu/wasm: an F32 row gather, 32 MiB read + 32 MiB written; onnx: a one-token F32 matmul
 *   streaming a 32 MiB weight; webgpu: a 32 MiB buffer-to-buffer copy kernel).
 * - `launchUs`: per-call overhead of the device's smallest op (a 32×32 F32 matmul of one token;
 *   webgpu: the marginal cost of one more such dispatch inside one submit).
 * - `transfers[]`: moving `b` bytes of activations from one device to another costs `fixedMs + b / bytesPerSec`
 *   (worker message hop and the copy into wasm linear memory; ONNX tensor creation and copy;
 *   webgpu: float32 bytes as base64 through the Chromium page's playwright RPC).
 * - `power` (optional): idle/busy watts, merged from a config file (not measured here).
 * - `opNs` (version 2, optional per device): nanoseconds per element of the non-matmul kernels a
 *   language model or vision tower calls on that device, the marginal cost at prompt-chunk sizes
 *   (src/bricks/profile-ops.ts): `rope` (per rotated float), `glu` (per output of SwiGLU),
 *   `attention` (per query·key·head-dim product, QKᵀ and AV counted once each), `attentionRow` (per
 *   query row × head × padded KV length, native/sf_attn.c sf_attn_n_kv), `softmax` (per
 *   score; cpu: native/sf_vit.c, wasm: the TypeScript reference), `gelu` (per element, GeGLU kernel),
 *   `forwardLayer` (per layer of one decoder forward call on a synthetic tiny decoder: the fixed
 *   per-call cost, kernel launches and TypeScript glue included). Only the `webgpu` device
 *   (src/backends/webgpu/profile.ts) has `forwardCall` (ns per LM forward call: the Node ↔
 *   Chromium page RPC round trip, submit and the logits readback's fixed part), `logitsOut` (ns
 *   per logit float returned to Node per forward call: GPU readback, base64, playwright transfer)
 *   `attentionHead` (ns per query row × head: one attention workgroup's fixed cost) and
 *   `attentionPair` (ns per query·key pair really visited × head: its WGSL attention does not pad
 *   the KV length, so its per-key cost is not an `attentionRow`, which webgpu stores as 0); other
 *   devices lack them, so the cost model prices that work 0 there.
 * - `hostOps.opNs` (version 2, optional): nanoseconds per unit of work done in JavaScript on whatever
 *   thread hosts a brick (same on every device): `decodePng` / `decodeJpeg` (per decoded pixel,
 *   sharp), `resizeH` / `resizeV` (per filter tap of 3 channels of the horizontal / vertical pass,
 *   src/preprocess/resize.ts), `resizePass` (per pass: coefficients and buffers), `normalize` (per
 *   output pixel, uint8 → float32 CHW), `layerNorm` (per element), `elementwise` (per element of a
 *   float32 add / bias / table lookup loop), `softmaxTs` (per element, TypeScript softmax).
 *
 * Version 1 files (no `opNs`, no `hostOps`) are still read; the work those figures price is then 0 ms.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { RequestError } from '../core/errors.js';

/** Current schema version; bump on incompatible changes. */
export const PROFILE_VERSION = 2;
/** Versions this build reads (1: without `opNs` / `hostOps`). */
export const PROFILE_VERSIONS_READ: readonly number[] = [1, 2];
/** Value of the `schema` field. */
export const PROFILE_SCHEMA = 'synflux-device-profile';

/** One measured matmul point. */
export interface MatmulPoint {
  /** Weight dtype (ggml type name). */
  dtype: string;
  nOut: number;
  nIn: number;
  nTok: number;
  /** Median milliseconds per call. */
  ms: number;
  /** 2·nOut·nIn·nTok / (ms · 1e6). */
  gflops: number;
}

/** Power draw of a device (watts), from a config file. */
export interface PowerFigures {
  idleW: number;
  busyW: number;
}

/** What one device measured. */
export interface DeviceProfile {
  kind: 'cpu' | 'gpu' | 'npu';
  description: string;
  threads: number;
  matmul: MatmulPoint[];
  /** Sustained bandwidth of a memory-bound op, GB/s (1e9 bytes/s). */
  memGBs: number;
  /** Per-call overhead, microseconds. */
  launchUs: number;
  /**
   * Nanoseconds per element of non-matmul kernels (`rope`, `glu`, `rmsNorm`, `attention`, `attentionRow`, `softmax`, `gelu`)
   * and per decoder layer-forward (`forwardLayer`); webgpu also `forwardCall`, `logitsOut`, `attentionHead`, `attentionPair` (file header); version 2.
   */
  opNs?: Record<string, number>;
  power?: PowerFigures;
}

/** Host (JavaScript) work, the same on every device's thread; version 2. */
export interface HostProfile {
  /** Nanoseconds per unit (`decodeCall`, `decodePng`, `decodeJpeg`, `resizeH`, `resizeV`, `resizePass`, `normalize`, `layerNorm`, `elementwise`, `softmaxTs`). */
  opNs: Record<string, number>;
}

/** Cost of moving activations between two devices: `fixedMs + bytes / bytesPerSec`. */
export interface TransferProfile {
  from: string;
  to: string;
  fixedMs: number;
  bytesPerSec: number;
}

/** A set of device profiles measured on one host. */
export interface ProfileSet {
  schema: typeof PROFILE_SCHEMA;
  version: number;
  created: string;
  host: { cpus: number; cpuModel: string; node: string };
  devices: Record<string, DeviceProfile>;
  transfers: TransferProfile[];
  /** Host (JavaScript) work figures; version 2. */
  hostOps?: HostProfile;
}

/** Default location: `$SYNFLUX_CACHE`, else `$XDG_CACHE_HOME/synflux`, else `~/.cache/synflux`, + `device-profile.json`. */
export function defaultProfilePath(): string {
  const dir = process.env.SYNFLUX_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'synflux');
  return join(dir, 'device-profile.json');
}

/**
 * Checks the shape of a parsed profile set.
 * @throws RequestError `BAD_PROFILE` naming the first problem (wrong schema/version, missing fields).
 */
export function validateProfileSet(v: unknown): ProfileSet {
  const bad = (m: string): never => {
    throw new RequestError('BAD_PROFILE', `device profile: ${m}`);
  };
  if (!v || typeof v !== 'object') bad('not an object');
  const p = v as ProfileSet;
  if (p.schema !== PROFILE_SCHEMA) bad(`schema is ${JSON.stringify(p.schema)}, expected ${PROFILE_SCHEMA}`);
  if (!PROFILE_VERSIONS_READ.includes(p.version)) bad(`version ${p.version} is not supported (this build reads ${PROFILE_VERSIONS_READ.join(', ')}; re-run synflux profile)`);
  const badOps = (where: string, ops: unknown): void => {
    if (ops === undefined) return;
    if (!ops || typeof ops !== 'object') bad(`${where} is not an object`);
    for (const [k, v] of Object.entries(ops as Record<string, unknown>)) if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) bad(`${where}.${k} must be a finite number ≥ 0`);
  };
  badOps('hostOps.opNs', p.hostOps === undefined ? undefined : p.hostOps?.opNs ?? null);
  if (!p.devices || typeof p.devices !== 'object') bad('devices missing');
  for (const [name, d] of Object.entries(p.devices)) {
    if (!Array.isArray(d.matmul)) bad(`${name}.matmul is not an array`);
    for (const m of d.matmul) {
      if (!(m.gflops > 0) || !(m.nTok > 0) || typeof m.dtype !== 'string') bad(`${name}.matmul has a bad point ${JSON.stringify(m)}`);
    }
    if (!(d.memGBs > 0)) bad(`${name}.memGBs must be > 0`);
    if (!(d.launchUs >= 0)) bad(`${name}.launchUs must be ≥ 0`);
    if (d.power && !(d.power.idleW >= 0 && d.power.busyW >= 0)) bad(`${name}.power needs idleW, busyW ≥ 0`);
    badOps(`${name}.opNs`, d.opNs);
  }
  if (!Array.isArray(p.transfers)) bad('transfers is not an array');
  for (const t of p.transfers) if (!(t.bytesPerSec > 0) || !(t.fixedMs >= 0)) bad(`bad transfer ${JSON.stringify(t)}`);
  return p;
}

/**
 * Reads and validates a profile file.
 * @throws RequestError `PROFILE_NOT_FOUND` (with the command that makes one) or `BAD_PROFILE`.
 */
export function loadProfileSet(path = defaultProfilePath()): ProfileSet {
  if (!existsSync(path)) throw new RequestError('PROFILE_NOT_FOUND', `no device profile at ${path}; run \`synflux profile\` first (or pass --profile FILE)`);
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new RequestError('BAD_PROFILE', `device profile ${path} is not JSON: ${(e as Error).message}`, { cause: e });
  }
  return validateProfileSet(v);
}

/** Writes `p` as indented JSON to `path` (directories created). */
export function saveProfileSet(p: ProfileSet, path = defaultProfilePath()): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(p, null, 2) + '\n');
}

/**
 * Merges power figures into the devices of `p` (in place) from a config object
 * `{ DEVICE: { idleW, busyW } }`, e.g. the JSON file given by `--power`.
 * @throws RequestError `BAD_POWER_CONFIG` for a non-numeric or negative figure.
 */
export function mergePower(p: ProfileSet, cfg: unknown): ProfileSet {
  if (!cfg || typeof cfg !== 'object') throw new RequestError('BAD_POWER_CONFIG', 'power config must be an object {device: {idleW, busyW}}');
  for (const [dev, f] of Object.entries(cfg as Record<string, PowerFigures>)) {
    if (!f || typeof f.idleW !== 'number' || typeof f.busyW !== 'number' || f.idleW < 0 || f.busyW < 0) {
      throw new RequestError('BAD_POWER_CONFIG', `power config for ${dev} needs numbers idleW, busyW ≥ 0`);
    }
    const d = p.devices[dev];
    if (d) d.power = { idleW: f.idleW, busyW: f.busyW };
  }
  return p;
}
