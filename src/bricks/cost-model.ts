/**
 * Cost model: a brick's cost figures (BrickCost, src/bricks/brick.ts) × a measured device profile
 * (src/bricks/profile-schema.ts) → predicted milliseconds.
 *
 * - A matmul `MatmulWork` is priced at the profile's measured GFLOP/s for its dtype, interpolated
 *   linearly in log(nTok) between the measured token counts and in log(weight elements) between the
 *   measured sizes (clamped outside the measured range). At nTok = 1 the measured figure is
 *   bandwidth-bound (weights streamed once per token), at 64 compute-bound, so prefill and decode
 *   are priced by what they are (roofline idea: Williams, Waterman, Patterson, CACM 2009).
 * - `flops`/`bytesMoved` are totals including the matmuls (weights at their stored size plus float32
 *   activations in and out). The rest of a phase (flops and bytes not in `matmuls`) is priced as a roofline
 *   `max(flops / F32 GFLOP/s, bytes / memGBs)`; each launch adds `launchUs`.
 * - `ops` (units of work per op class: image pixels decoded, resize filter taps, LayerNorm elements,
 *   rope elements, …) are priced at the measured nanoseconds per unit: the device's `opNs` first
 *   (kernels that differ per device), else the host's `hostOps.opNs` (JavaScript work, the same on
 *   every device's thread); an op class without a figure (a version-1 profile) costs 0.
 * - A transfer of `b` bytes from device A to B costs `fixedMs + b / bytesPerSec` from the profile's
 *   transfer table.
 */
import type { BrickCost, BrickCostPhase, MatmulWork, OpWork } from './brick.js';
import { GGML_TYPES } from '../core/ggml-type.js';
import type { DeviceProfile, HostProfile, MatmulPoint, ProfileSet } from './profile-schema.js';

/** Dtypes priced with a measured neighbour's figures when not measured themselves. */
const DTYPE_FALLBACK: Readonly<Record<string, readonly string[]>> = {
  Q4_0: ['Q4_1', 'Q8_0'], Q5_0: ['Q4_1', 'Q8_0'], Q5_1: ['Q4_1', 'Q8_0'], Q4_1: ['Q4_0', 'Q8_0'],
  Q5_K: ['Q4_K', 'Q8_0'], Q6_K: ['Q4_K', 'Q8_0'], Q4_K: ['Q5_K', 'Q8_0'], BF16: ['F16', 'F32'], F16: ['F32'], Q8_0: ['F16'],
  // batched vision matmuls (src/models/vision/cost.ts): the device's GEMM figures where measured, else its matmul's
  'F32.gemm': ['F32'], 'F16.gemm': ['F16', 'F32'],
};

function interp(x: number, x0: number, x1: number, y0: number, y1: number): number {
  if (x1 === x0) return (y0 + y1) / 2;
  const t = Math.min(1, Math.max(0, (x - x0) / (x1 - x0)));
  return y0 + t * (y1 - y0);
}

/** Interpolates `f(key)` over points sorted by key in log space (clamped). */
function logInterp<T>(pts: readonly T[], key: (p: T) => number, val: (p: T) => number, x: number): number {
  const s = [...pts].sort((a, b) => key(a) - key(b));
  if (s.length === 1 || x <= key(s[0]!)) return val(s[0]!);
  const last = s[s.length - 1]!;
  if (x >= key(last)) return val(last);
  for (let i = 1; i < s.length; i++) {
    if (x <= key(s[i]!)) return interp(Math.log(x), Math.log(key(s[i - 1]!)), Math.log(key(s[i]!)), val(s[i - 1]!), val(s[i]!));
  }
  return val(last);
}

/** The measured points usable for `dtype` on this device (its own, else a fallback's), or []. */
export function pointsFor(p: DeviceProfile, dtype: string): MatmulPoint[] {
  for (const d of [dtype, ...(DTYPE_FALLBACK[dtype] ?? [])]) {
    const pts = p.matmul.filter((m) => m.dtype === d);
    if (pts.length) return pts;
  }
  return [];
}

/**
 * Predicted GFLOP/s of a `dtype` matmul of `nOut × nIn` weights on `nTok` tokens, or null when the
 * device has no figures for the dtype (nor a fallback), i.e. cannot run it.
 */
export function matmulGflops(p: DeviceProfile, dtype: string, nOut: number, nIn: number, nTok: number): number | null {
  const pts = pointsFor(p, dtype);
  if (!pts.length) return null;
  const bySize = new Map<number, MatmulPoint[]>();
  for (const m of pts) {
    const k = m.nOut * m.nIn;
    bySize.set(k, [...(bySize.get(k) ?? []), m]);
  }
  const perSize = [...bySize.entries()].map(([elems, ms]) => ({
    elems, g: logInterp(ms, (m) => m.nTok, (m) => m.gflops, Math.max(1, nTok)),
  }));
  return logInterp(perSize, (s) => s.elems, (s) => s.g, nOut * nIn);
}

/** Predicted ms of `w.count` matmuls, or null when the device lacks the dtype. */
export function matmulMs(p: DeviceProfile, w: MatmulWork): number | null {
  const g = matmulGflops(p, w.dtype, w.nOut, w.nIn, w.nTok);
  if (g === null) return null;
  return (w.count * 2 * w.nOut * w.nIn * w.nTok) / (g * 1e6);
}

/** Best measured F32 compute rate (GFLOP/s) of the device, used for non-matmul arithmetic. */
function f32Peak(p: DeviceProfile): number {
  const pts = pointsFor(p, 'F32');
  const all = pts.length ? pts : p.matmul;
  return Math.max(...all.map((m) => m.gflops), 1e-3);
}

type PhaseLike = Pick<BrickCostPhase, 'flops' | 'bytesMoved' | 'matmuls' | 'launches' | 'ops'>;

/**
 * Predicted ms of `ops` on device `p`: Σ units × ns per unit (device `opNs`, else `host.opNs`,
 * else 0) / 1e6.
 */
export function opsMs(p: DeviceProfile, host: HostProfile | undefined, ops: OpWork | undefined): number {
  let ns = 0;
  for (const [op, n] of Object.entries(ops ?? {})) ns += n * (p.opNs?.[op] ?? host?.opNs[op] ?? 0);
  return ns / 1e6;
}

function phaseMs(p: DeviceProfile, ph: PhaseLike, host?: HostProfile): number | null {
  let ms = 0;
  let mmFlops = 0;
  let mmBytes = 0;
  for (const w of ph.matmuls ?? []) {
    const t = matmulMs(p, w);
    if (t === null) return null;
    ms += t;
    mmFlops += w.count * 2 * w.nOut * w.nIn * w.nTok;
    mmBytes += w.count * (weightBytes(w.dtype, w.nOut, w.nIn) + w.nTok * (w.nIn + w.nOut) * 4);
  }
  const restFlops = Math.max(0, ph.flops - mmFlops);
  const restBytes = Math.max(0, ph.bytesMoved - mmBytes);
  ms += Math.max(restFlops / (f32Peak(p) * 1e6), restBytes / (p.memGBs * 1e6));
  ms += ((ph.launches ?? 0) * p.launchUs) / 1000;
  ms += opsMs(p, host, ph.ops);
  return ms;
}

/** Stored bytes of a `dtype` weight `[nOut, nIn]` (ggml block sizes, a `.kernel` suffix ignored; F32 size for unknown names). */
export function weightBytes(dtype: string, nOut: number, nIn: number): number {
  const name = dtype.split('.')[0];
  for (const [, t] of GGML_TYPES) if (t.name === name) return Math.ceil((nIn / t.blockSize) * t.typeSize) * nOut;
  return nOut * nIn * 4;
}

/**
 * Predicted ms of one brick run on a device, or null when the device cannot run it (a dtype
 * without figures). `phases`, when present, replace the totals (a brick-level `ops` is added to
 * them). `host`: the profile set's `hostOps` (JavaScript work figures).
 */
export function brickMs(p: DeviceProfile, c: BrickCost, host?: HostProfile): number | null {
  if (c.phases?.length) {
    let ms = opsMs(p, host, c.ops);
    for (const ph of c.phases) {
      const t = phaseMs(p, ph, host);
      if (t === null) return null;
      ms += t;
    }
    return ms;
  }
  return phaseMs(p, c, host);
}

/** Predicted ms to move `bytes` from device `from` to `to` (`host` = the main thread); 0 when no entry exists for host paths. */
export function transferMs(ps: ProfileSet, from: string, to: string, bytes: number): number {
  const t = ps.transfers.find((x) => x.from === from && x.to === to);
  if (!t) return from === to || from === 'host' || to === 'host' ? 0 : Number.POSITIVE_INFINITY;
  return t.fixedMs + (bytes / t.bytesPerSec) * 1000;
}
