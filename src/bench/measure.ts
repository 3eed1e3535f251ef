/**
 * Throughput measurement of SynFlux itself, with llama-bench's definitions: `pp` = tokens/s of a
 * `p`-token prompt evaluated in one forward call from an empty KV cache; `tg` = tokens/s of `n`
 * tokens evaluated one at a time from an empty cache; best of `reps`. Token ids are a fixed
 * pseudo-random sequence (an LCG) away from the first 100 ids, like llama-bench's random prompt.
 */
import { loadModel } from '../models/load.js';
import { RequestError } from '../core/errors.js';

/** Options of {@link measureModel}. */
export interface MeasureOptions {
  /** Prompt length for pp (tokens, ≥ 1). */
  p: number;
  /** Generated tokens for tg (tokens, ≥ 1). */
  n: number;
  /** CPU threads. */
  threads: number;
  /** Repetitions; the best is reported (default 3). */
  reps?: number;
  /** Compute backend (default `cpu`). */
  backend?: 'cpu' | 'wasm';
}

/** Result of {@link measureModel} (the `synflux bench --json` object). */
export interface MeasureResult {
  pp_tok_s: number;
  tg_tok_s: number;
  /** Time to load the model (ms). */
  load_ms: number;
  /** The process's peak resident set size (bytes), read after the runs. */
  peak_rss_bytes: number;
}

/** Deterministic pseudo-random token ids in [100, nVocab - 100). */
export function benchTokens(nVocab: number, n: number, seed: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(100 + (s % Math.max(1, nVocab - 200)));
  }
  return out;
}

/**
 * Loads `path` and measures pp/tg throughput.
 * @throws RequestError for non-positive p, n or threads; loader errors as {@link loadModel}.
 */
export async function measureModel(path: string, o: MeasureOptions): Promise<MeasureResult> {
  for (const [k, v] of [['p', o.p], ['n', o.n], ['threads', o.threads]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RequestError('BAD_OPTION', `${k} must be a positive integer, got ${v}`);
  }
  const reps = o.reps ?? 3;
  const t0 = performance.now();
  const m = await loadModel(path, { threads: o.threads, contextSize: Math.max(o.p, o.n) + 16, ...(o.backend ? { backend: o.backend } : {}) });
  const loadMs = performance.now() - t0;
  let pp = 0, tg = 0;
  for (let r = 0; r < reps; r++) {
    m.truncate(0);
    const prompt = benchTokens(m.config.nVocab, o.p, r + 1);
    const a = performance.now();
    m.forward(prompt);
    pp = Math.max(pp, o.p / ((performance.now() - a) / 1000));
    m.truncate(0);
    const gen = benchTokens(m.config.nVocab, o.n, r + 7);
    const b = performance.now();
    for (const t of gen) m.forward([t]);
    tg = Math.max(tg, o.n / ((performance.now() - b) / 1000));
  }
  m.dispose();
  return { pp_tok_s: +pp.toFixed(2), tg_tok_s: +tg.toFixed(2), load_ms: Math.round(loadMs), peak_rss_bytes: process.resourceUsage().maxRSS * 1024 };
}
