/**
 * Logits processors and token samplers with llama.cpp semantics (src/llama-sampler.cpp,
 * common/sampling.cpp). The default chain is llama.cpp's `common_params_sampling::samplers`
 * restricted to what SynFlux implements:
 *
 *   penalties → top-k → top-p → min-p → temperature → dist
 *
 * and temperature ≤ 0 means greedy: argmax of the penalised logits, ties to the lowest id
 * (llama.cpp's `llama_sampler_greedy` keeps the first maximum it meets, i.e. the lowest id on
 * raw logits). Every buffer is sized nVocab once per {@link Sampler}; sampling a token allocates
 * nothing proportional to the vocabulary.
 */
import { Candidates } from './candidates.js';
import { Mt19937 } from './rng.js';
import { RequestError } from '../core/errors.js';

/** Sampling parameters. Defaults are llama.cpp's `common_params_sampling` defaults. */
export interface SamplingOptions {
  /** Softmax temperature; ≤ 0 samples greedily. Default 0.8. */
  temperature?: number;
  /** Keep the k most likely tokens; ≤ 0 disables. Default 40. */
  topK?: number;
  /** Nucleus mass in [0, 1]; 1 disables. Default 0.95. */
  topP?: number;
  /** Keep tokens with p ≥ minP · p_max, minP in [0, 1]; 0 disables. Default 0.05. */
  minP?: number;
  /** Repetition penalty (> 0); 1 disables. Default 1.0. */
  repeatPenalty?: number;
  /** How many recent tokens the penalties look at; 0 disables, -1 means the context size. Default 64. */
  repeatLastN?: number;
  /** Subtracted from a logit once per occurrence in the window. Default 0. */
  frequencyPenalty?: number;
  /** Subtracted from a logit once if the token occurs in the window. Default 0. */
  presencePenalty?: number;
  /** RNG seed (uint32); random when absent. */
  seed?: number;
}

/** {@link SamplingOptions} with every default filled in (seed stays optional). */
export type ResolvedSamplingOptions = Required<Omit<SamplingOptions, 'seed'>> & { seed?: number };

/** llama.cpp defaults (common/common.h `common_params_sampling`). */
export const DEFAULT_SAMPLING: Readonly<Required<Omit<SamplingOptions, 'seed'>>> = Object.freeze({
  temperature: 0.8,
  topK: 40,
  topP: 0.95,
  minP: 0.05,
  repeatPenalty: 1.0,
  repeatLastN: 64,
  frequencyPenalty: 0,
  presencePenalty: 0,
});

/**
 * Fills defaults and validates ranges.
 * @throws RequestError (code `BAD_SAMPLING_OPTION`) on a non-finite value, topP/minP outside
 *   [0, 1], repeatPenalty ≤ 0, repeatLastN < -1, or a seed that is not an integer.
 */
export function resolveSamplingOptions(o: SamplingOptions = {}): ResolvedSamplingOptions {
  // Only sampling keys are read: `o` may be a larger object (a GenerateRequest).
  const r: ResolvedSamplingOptions = { ...DEFAULT_SAMPLING };
  for (const k of Object.keys(DEFAULT_SAMPLING) as (keyof typeof DEFAULT_SAMPLING)[]) {
    const v = o[k];
    if (v !== undefined) r[k] = v;
  }
  if (o.seed !== undefined) r.seed = o.seed;
  const bad = (msg: string): never => {
    throw new RequestError('BAD_SAMPLING_OPTION', msg);
  };
  for (const [k, v] of Object.entries(r)) {
    if (k === 'seed' && v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) bad(`${k} must be a finite number, got ${String(v)}`);
  }
  if (r.topP < 0 || r.topP > 1) bad(`topP must be in [0, 1], got ${r.topP}`);
  if (r.minP < 0 || r.minP > 1) bad(`minP must be in [0, 1], got ${r.minP}`);
  if (r.repeatPenalty <= 0) bad(`repeatPenalty must be > 0, got ${r.repeatPenalty}`);
  if (!Number.isInteger(r.topK)) bad(`topK must be an integer, got ${r.topK}`);
  if (!Number.isInteger(r.repeatLastN) || r.repeatLastN < -1) bad(`repeatLastN must be an integer ≥ -1, got ${r.repeatLastN}`);
  if (r.seed !== undefined && (!Number.isInteger(r.seed) || r.seed < 0 || r.seed > 0xffffffff)) {
    bad(`seed must be an integer in [0, 4294967295], got ${r.seed}`);
  }
  return r;
}

/**
 * Repetition / frequency / presence penalties over a sliding window of recent tokens
 * (llama.cpp `llama_sampler_penalties`): for each token seen c > 0 times in the last N,
 * logit /= penalty if logit > 0 else logit *= penalty; then logit -= c·freq + presence.
 */
export class PenaltyWindow {
  /** Window length in tokens (0 = disabled). */
  readonly lastN: number;
  private readonly ring: Int32Array;
  private head = 0;
  private filled = 0;
  private readonly counts: Uint32Array;
  // Per-id stamp of the last apply() call that processed it (dedupes ids in the ring).
  private readonly stamp: Uint32Array;
  private epoch = 0;

  /**
   * @param nVocab vocabulary size (counts are kept per id).
   * @param lastN window size in tokens (≥ 0).
   */
  constructor(nVocab: number, lastN: number) {
    this.lastN = Math.max(0, lastN | 0);
    this.ring = new Int32Array(Math.max(1, this.lastN));
    this.counts = new Uint32Array(nVocab);
    this.stamp = new Uint32Array(nVocab);
  }

  /** Records a token (prompt or generated); the oldest falls out once the window is full. Ids outside the vocabulary are ignored. */
  accept(id: number): void {
    if (this.lastN === 0 || id < 0 || id >= this.counts.length) return;
    if (this.filled === this.lastN) {
      const old = this.ring[this.head]!;
      this.counts[old]!--;
    } else this.filled++;
    this.ring[this.head] = id;
    this.counts[id]!++;
    this.head = (this.head + 1) % this.lastN;
  }

  /** Empties the window. */
  reset(): void {
    for (let i = 0; i < this.filled; i++) this.counts[this.ring[i]!] = 0;
    this.head = 0;
    this.filled = 0;
  }

  /** Occurrences of `id` in the window. */
  count(id: number): number {
    return this.counts[id] ?? 0;
  }

  /**
   * Applies the penalties in place to raw logits (float32 [nVocab]); touches only tokens in the
   * window, each once.
   */
  apply(logits: Float32Array, repeat: number, freq: number, presence: number): void {
    if (this.lastN === 0 || (repeat === 1 && freq === 0 && presence === 0)) return;
    if (++this.epoch === 0xffffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
    for (let i = 0; i < this.filled; i++) {
      const id = this.ring[i]!;
      if (this.stamp[id] === this.epoch) continue; // already penalised in this call
      this.stamp[id] = this.epoch;
      const c = this.counts[id]!;
      let l = logits[id]!;
      l = l <= 0 ? l * repeat : l / repeat;
      logits[id] = l - c * freq - (c > 0 ? presence : 0);
    }
  }
}

/** Converts a temperature-scaled candidate set into a draw: softmax then inverse CDF with u ∈ [0, 1) (llama.cpp `llama_sampler_dist_apply`). */
export function sampleDist(c: Candidates, u: number): number {
  if (c.size === 0) throw new RangeError('no candidates');
  if (c.size === 1) return c.ids[0]!;
  const max = c.maxLogit();
  const e = c.scratch;
  let sum = 0;
  for (let i = 0; i < c.size; i++) {
    const v = Math.exp(c.logits[i]! - max);
    e[i] = v;
    sum += v;
  }
  const target = sum * u;
  let run = 0;
  for (let i = 0; i < c.size; i++) {
    run += e[i]!;
    if (run >= target) return c.ids[i]!;
  }
  return c.ids[c.size - 1]!;
}

/** Divides live logits by t (> 0). */
export function applyTemperature(c: Candidates, t: number): void {
  for (let i = 0; i < c.size; i++) c.logits[i] = c.logits[i]! / t;
}

/**
 * Min-p filter (llama.cpp `llama_sampler_min_p_apply`): keeps tokens with
 * p_i ≥ p · p_max, i.e. logit_i ≥ logit_max + ln p. p ≤ 0 disables.
 */
export function applyMinP(c: Candidates, p: number): void {
  if (p <= 0 || c.size === 0) return;
  c.keepAtLeast(c.maxLogit() + Math.log(p));
}

/** Top-k filter (llama.cpp `llama_sampler_top_k_impl`): k ≤ 0 disables. */
export function applyTopK(c: Candidates, k: number): void {
  if (k <= 0) return;
  c.keepTop(k);
}

/** Top-p (nucleus) filter; p ≥ 1 disables. See {@link Candidates.keepTopP}. */
export function applyTopP(c: Candidates, p: number): void {
  c.keepTopP(p, 1);
}

/**
 * A stateful sampler: penalty window + candidate buffers + RNG, reused for every token of one
 * request (or of a chat session).
 */
export class Sampler {
  /** Resolved options (defaults filled). */
  readonly options: ResolvedSamplingOptions;
  /** The seed actually used (drawn at random when the options gave none). */
  readonly seed: number;
  private readonly rng: Mt19937;
  private readonly penalties: PenaltyWindow;
  private readonly cand: Candidates;
  private readonly work: Float32Array;

  /**
   * @param nVocab vocabulary size; logits passed to {@link sample} must have this length.
   * @param options sampling options (validated with {@link resolveSamplingOptions}).
   * @param nCtx context size, used when repeatLastN is -1.
   * @throws RequestError on invalid options.
   */
  constructor(nVocab: number, options: SamplingOptions = {}, nCtx = 0) {
    this.options = resolveSamplingOptions(options);
    this.rng = new Mt19937(this.options.seed);
    this.seed = this.rng.seed;
    const lastN = this.options.repeatLastN === -1 ? nCtx : this.options.repeatLastN;
    this.penalties = new PenaltyWindow(nVocab, lastN);
    this.cand = new Candidates(nVocab);
    this.work = new Float32Array(nVocab);
  }

  /** Records a token in the penalty window (call for prompt tokens and for each sampled token). */
  accept(id: number): void {
    this.penalties.accept(id);
  }

  /** Clears the penalty window (the RNG keeps its state). */
  reset(): void {
    this.penalties.reset();
  }

  /**
   * Picks the next token from logits (float32 [nVocab], not modified) through the chain
   * penalties → top-k → top-p → min-p → temperature → dist, or greedily when temperature ≤ 0.
   * Does not call {@link accept}.
   * @returns the token id.
   * @throws RangeError when logits.length differs from nVocab.
   */
  sample(logits: Float32Array): number {
    const o = this.options;
    if (logits.length !== this.work.length) throw new RangeError(`expected ${this.work.length} logits, got ${logits.length}`);
    const work = this.work;
    work.set(logits);
    this.penalties.apply(work, o.repeatPenalty, o.frequencyPenalty, o.presencePenalty);
    if (o.temperature <= 0) return argmaxLowestId(work);
    const c = this.cand;
    c.load(work);
    applyTopK(c, o.topK);
    applyTopP(c, o.topP);
    applyMinP(c, o.minP);
    applyTemperature(c, o.temperature);
    return sampleDist(c, this.rng.nextFloat());
  }
}

/** Index of the largest value (ties: lowest index); NaN entries never win unless all are NaN (then 0). */
export function argmaxLowestId(x: Float32Array): number {
  let best = 0;
  let bv = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v > bv) {
      bv = v;
      best = i;
    }
  }
  return best;
}
