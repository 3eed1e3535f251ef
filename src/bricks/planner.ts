/**
 * Placement planner: for a chain of bricks and a set of measured device profiles, enumerate every
 * placement (brick → device), predict its latency (brick times + transfers between consecutive
 * bricks, src/bricks/cost-model.ts), memory per device, energy per query and stream throughput,
 * and pick the best one for the objective. Exhaustive search: fine for the ≤ 6 bricks × 4 devices
 * of a multimodal chain (4,096 placements); larger searches are refused.
 *
 * Energy per query (J) = Σ over devices with power figures of
 * `busyW × busy_ms + idleW × (total_ms − busy_ms)`, / 1000 (devices sit idle while others work).
 * Stream time per item (pipelined executor, src/bricks/executor.ts) = the busiest device's
 * Σ brick ms (bricks on one device serialize; different devices overlap).
 */
import { RequestError } from '../core/errors.js';
import type { BrickCost } from './brick.js';
import { brickMs, transferMs } from './cost-model.js';
import type { ProfileSet } from './profile-schema.js';

/** One brick as the planner sees it. */
export interface PlanBrick {
  /** Brick name (the key of `placement`, `--place NAME=DEVICE`). */
  readonly name: string;
  /** Cost of one run (per query). */
  readonly cost: BrickCost;
  /** Devices able to run it (default: every device in the profile set). */
  readonly devices?: readonly string[];
  /**
   * Measured ms of one run per device (calibration of opaque bricks such as ONNX graphs whose
   * FLOPs are not known); used instead of the cost model where present.
   */
  readonly calibratedMs?: Readonly<Record<string, number>>;
  /** Bytes of the brick's inputs when it is the first brick (moved from the host); default 0. */
  readonly inputBytes?: number;
}

/** What to minimize. */
export type Objective = 'latency' | 'energy';

/** Options of {@link plan}. */
export interface PlanOptions {
  objective?: Objective;
  /** Pinned bricks: name → device. */
  pins?: Readonly<Record<string, string>>;
  /** Devices not to use (failed or missing). */
  exclude?: readonly string[];
  /** Resident-memory budget per device, bytes. */
  memoryBudget?: Readonly<Record<string, number>>;
  /** Energy budget per query, J (objective latency only). */
  energyBudgetJ?: number;
  /** Largest search accepted (default 100,000 placements). */
  maxCandidates?: number;
}

/** One evaluated placement. */
export interface Candidate {
  placement: Record<string, string>;
  /** `total` (end-to-end ms of one query, sequential) and ms per brick. */
  predicted_ms: Record<string, number>;
  /** ms spent moving activations (host → first, between bricks, last → host). */
  transfer_ms: number;
  /** Predicted ms per item of a pipelined stream (busiest device). */
  stream_ms_per_item: number;
  /** Resident bytes per device. */
  memory_bytes: Record<string, number>;
  /** Energy per query (J), or null when no device has power figures. */
  energy_j: number | null;
  /** False when a budget is exceeded (`reason` says which). */
  feasible: boolean;
  reason?: string;
}

/** A chosen placement with every candidate considered. */
export interface Plan extends Candidate {
  objective: Objective;
  candidates: Candidate[];
}

/**
 * Evaluates one placement.
 * @throws RequestError `UNPLACEABLE` when a brick cannot run on its device (no figures for its dtypes).
 */
export function evaluate(bricks: readonly PlanBrick[], ps: ProfileSet, placement: Readonly<Record<string, string>>, opts: PlanOptions = {}): Candidate {
  const predicted: Record<string, number> = {};
  const busy: Record<string, number> = {};
  const mem: Record<string, number> = {};
  let total = 0;
  let xfer = 0;
  let prevDev = 'host';
  let prevBytes = bricks[0]?.inputBytes ?? 0;
  for (const b of bricks) {
    const dev = placement[b.name];
    if (!dev) throw new RequestError('UNPLACEABLE', `placement has no device for brick ${b.name}`);
    const prof = ps.devices[dev];
    if (!prof) throw new RequestError('UNPLACEABLE', `no profile for device ${dev} (brick ${b.name})`);
    const ms = b.calibratedMs?.[dev] ?? brickMs(prof, b.cost, ps.hostOps);
    if (ms === null) throw new RequestError('UNPLACEABLE', `brick ${b.name} cannot run on ${dev} (no measured figures for its dtypes)`);
    const t = transferMs(ps, prevDev, dev, prevBytes);
    xfer += t;
    predicted[b.name] = ms;
    busy[dev] = (busy[dev] ?? 0) + ms;
    mem[dev] = (mem[dev] ?? 0) + b.cost.memoryBytes;
    total += ms + t;
    prevDev = dev;
    prevBytes = b.cost.outputBytes;
  }
  const tOut = transferMs(ps, prevDev, 'host', prevBytes);
  xfer += tOut;
  total += tOut;
  predicted.total = total;
  let energy: number | null = null;
  for (const [name, d] of Object.entries(ps.devices)) {
    if (!d.power) continue;
    const bz = busy[name] ?? 0;
    energy = (energy ?? 0) + (d.power.busyW * bz + d.power.idleW * Math.max(0, total - bz)) / 1000;
  }
  let feasible = true;
  let reason: string | undefined;
  for (const [dev, bytes] of Object.entries(mem)) {
    const cap = opts.memoryBudget?.[dev];
    if (cap !== undefined && bytes > cap) {
      feasible = false;
      reason = `memory on ${dev}: ${bytes} bytes > budget ${cap}`;
    }
  }
  if (feasible && opts.energyBudgetJ !== undefined && energy !== null && energy > opts.energyBudgetJ) {
    feasible = false;
    reason = `energy ${energy.toFixed(3)} J > budget ${opts.energyBudgetJ} J`;
  }
  return {
    placement: { ...placement }, predicted_ms: predicted, transfer_ms: xfer,
    stream_ms_per_item: Math.max(0, ...Object.values(busy)), memory_bytes: mem, energy_j: energy, feasible,
    ...(reason ? { reason } : {}),
  };
}

/**
 * Chooses a placement. Ties (within 1e-9 ms or J) go to the earlier candidate in enumeration
 * order (bricks in chain order, devices in each brick's `devices` order or the profile's).
 * @throws RequestError `UNPLACEABLE` when a brick has no usable device, `NO_FEASIBLE_PLACEMENT`
 *   when every placement breaks a budget, `NO_POWER` for the energy objective without power
 *   figures, `SEARCH_TOO_LARGE` beyond `maxCandidates`, `BAD_PIN` for a pin to an unknown brick/device.
 */
export function plan(bricks: readonly PlanBrick[], ps: ProfileSet, opts: PlanOptions = {}): Plan {
  const objective = opts.objective ?? 'latency';
  if (objective !== 'latency' && objective !== 'energy') throw new RequestError('BAD_OPTION', `objective must be latency or energy, got ${String(objective)}`);
  if (!bricks.length) throw new RequestError('UNPLACEABLE', 'no bricks to place');
  const pins = opts.pins ?? {};
  for (const [b, d] of Object.entries(pins)) {
    if (!bricks.some((x) => x.name === b)) throw new RequestError('BAD_PIN', `--place names brick '${b}', which is not in this pipeline (bricks: ${bricks.map((x) => x.name).join(', ')})`);
    if (!ps.devices[d]) throw new RequestError('BAD_PIN', `--place ${b}=${d}: no device '${d}' in the profile (devices: ${Object.keys(ps.devices).join(', ')})`);
  }
  const excluded = new Set(opts.exclude ?? []);
  const options: string[][] = bricks.map((b) => {
    const pin = pins[b.name];
    let devs = pin ? [pin] : [...(b.devices ?? Object.keys(ps.devices))];
    devs = devs.filter((d) => ps.devices[d] && !excluded.has(d) && (b.calibratedMs?.[d] !== undefined || brickMs(ps.devices[d]!, b.cost, ps.hostOps) !== null));
    if (!devs.length) {
      throw new RequestError('UNPLACEABLE', `brick ${b.name} has no usable device${pin ? ` (pinned to ${pin}${excluded.has(pin) ? ', which is excluded' : ''})` : ''}${excluded.size ? `; excluded: ${[...excluded].join(', ')}` : ''}`);
    }
    return devs;
  });
  const count = options.reduce((n, o) => n * o.length, 1);
  if (count > (opts.maxCandidates ?? 100_000)) throw new RequestError('SEARCH_TOO_LARGE', `${count} placements exceed the exhaustive-search limit`);
  if (objective === 'energy' && !Object.values(ps.devices).some((d) => d.power)) {
    throw new RequestError('NO_POWER', 'objective energy needs power figures (synflux profile --power FILE)');
  }
  const candidates: Candidate[] = [];
  const idx = new Array<number>(bricks.length).fill(0);
  for (let k = 0; k < count; k++) {
    const placement: Record<string, string> = {};
    bricks.forEach((b, i) => (placement[b.name] = options[i]![idx[i]!]!));
    candidates.push(evaluate(bricks, ps, placement, opts));
    for (let i = bricks.length - 1; i >= 0; i--) {
      if (++idx[i]! < options[i]!.length) break;
      idx[i] = 0;
    }
  }
  const score = (c: Candidate): number => (objective === 'energy' ? c.energy_j ?? Number.POSITIVE_INFINITY : c.predicted_ms.total!);
  let best: Candidate | undefined;
  for (const c of candidates) if (c.feasible && (!best || score(c) < score(best) - 1e-9)) best = c;
  if (!best) throw new RequestError('NO_FEASIBLE_PLACEMENT', `every placement breaks a budget (e.g. ${candidates[0]?.reason ?? 'unknown'})`);
  return { ...best, objective, candidates };
}

/**
 * Parses `--place vision=cpu,lm=wasm` into pins.
 * @throws RequestError `BAD_PIN` for an entry without `=`.
 */
export function parsePlace(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!s) return out;
  for (const part of s.split(',').map((x) => x.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) throw new RequestError('BAD_PIN', `--place entry '${part}' is not BRICK=DEVICE`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}
