/**
 * Shared option parsing and validation for the CLI subcommands. Commander hands option values
 * over as strings; these pure functions turn them into typed values and throw
 * {@link RequestError} (code `BAD_OPTION`) with the flag name on anything out of range, so the
 * CLI prints `error: --top-p must be in [0, 1], got 1.5` instead of failing later.
 */
import { RequestError } from '../core/errors.js';
import type { GenerateRequest } from '../generation/generate.js';

/** Raw (string) options shared by `run` and `chat`, as commander produces them (camelCased flags). */
export interface RawGenerationOptions {
  maxTokens?: string;
  temperature?: string;
  topK?: string;
  topP?: string;
  minP?: string;
  repeatPenalty?: string;
  repeatLastN?: string;
  frequencyPenalty?: string;
  presencePenalty?: string;
  seed?: string;
  stop?: string[];
}

/** Raw model options: `--model`, `--threads`, `--ctx-size`. */
export interface RawModelOptions {
  model?: string;
  threads?: string;
  ctxSize?: string;
  backend?: string;
}

/** Validated model options (undefined = the loader's default). */
export interface ModelOptions {
  /** Explicit model path (`--model`), if given. */
  model?: string;
  /** CPU threads (≥ 1). */
  threads?: number;
  /** KV cache size in tokens (≥ 1). */
  contextSize?: number;
  /** Compute backend (`--backend cpu|wasm`). */
  backend?: 'cpu' | 'wasm';
  /** Vision projector (`--mmproj`). */
  mmproj?: string;
  /** Device of the vision projector (`--place vision=cpu|wasm`). */
  visionDevice?: 'cpu' | 'wasm';
}

/**
 * Validates `--backend` (cpu | wasm).
 * @throws RequestError (`BAD_OPTION`) for another name.
 */
export function parseBackendOption(raw: string): 'cpu' | 'wasm' {
  if (raw !== 'cpu' && raw !== 'wasm') bad('--backend', 'must be cpu or wasm', raw);
  return raw;
}

/** The generation fields the CLI sets on a {@link GenerateRequest}. */
export type GenerationOptions = Pick<
  GenerateRequest,
  'maxTokens' | 'temperature' | 'topK' | 'topP' | 'minP' | 'repeatPenalty' | 'repeatLastN' | 'frequencyPenalty' | 'presencePenalty' | 'seed' | 'stop'
>;

function bad(flag: string, msg: string, got: string): never {
  throw new RequestError('BAD_OPTION', `${flag} ${msg}, got ${JSON.stringify(got)}`);
}

/**
 * Parses a decimal integer option in [min, max].
 * @throws RequestError (`BAD_OPTION`) when the text is not an integer or is out of range.
 */
export function parseIntOption(flag: string, text: string, min = -Infinity, max = Infinity): number {
  const t = text.trim();
  if (!/^[+-]?\d+$/.test(t)) bad(flag, 'must be an integer', text);
  const v = Number(t);
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    const range = max === Infinity ? `≥ ${min}` : min === -Infinity ? `≤ ${max}` : `in [${min}, ${max}]`;
    bad(flag, `must be an integer ${range}`, text);
  }
  return v;
}

/**
 * Parses a finite decimal number option in [min, max] (exclusive bounds via `minExclusive`).
 * @throws RequestError (`BAD_OPTION`) when the text is not a finite number or is out of range.
 */
export function parseNumberOption(
  flag: string,
  text: string,
  opts: { min?: number; max?: number; minExclusive?: boolean } = {},
): number {
  const t = text.trim();
  const v = t === '' ? NaN : Number(t);
  if (!Number.isFinite(v)) bad(flag, 'must be a number', text);
  const { min = -Infinity, max = Infinity, minExclusive = false } = opts;
  if (minExclusive ? v <= min : v < min) bad(flag, minExclusive ? `must be > ${min}` : max === Infinity ? `must be ≥ ${min}` : `must be in [${min}, ${max}]`, text);
  if (v > max) bad(flag, min === -Infinity ? `must be ≤ ${max}` : `must be in [${min}, ${max}]`, text);
  return v;
}

/**
 * Validates the sampling / length / stop options of `run` and `chat`. Absent options stay
 * absent (the generation defaults, llama.cpp's, apply). `--seed -1` means a random seed, as in
 * llama.cpp (LLAMA_DEFAULT_SEED).
 * @throws RequestError (`BAD_OPTION`): --max-tokens < -1, --temperature not finite,
 *   --top-k < 0, --top-p / --min-p outside [0, 1], --repeat-penalty ≤ 0, --repeat-last-n < -1,
 *   --seed outside [-1, 2^32 − 1], an empty --stop string.
 */
export function parseGenerationOptions(raw: RawGenerationOptions): GenerationOptions {
  const o: GenerationOptions = {};
  if (raw.maxTokens !== undefined) o.maxTokens = parseIntOption('--max-tokens', raw.maxTokens, -1);
  if (raw.temperature !== undefined) o.temperature = parseNumberOption('--temperature', raw.temperature);
  if (raw.topK !== undefined) o.topK = parseIntOption('--top-k', raw.topK, 0);
  if (raw.topP !== undefined) o.topP = parseNumberOption('--top-p', raw.topP, { min: 0, max: 1 });
  if (raw.minP !== undefined) o.minP = parseNumberOption('--min-p', raw.minP, { min: 0, max: 1 });
  if (raw.repeatPenalty !== undefined) o.repeatPenalty = parseNumberOption('--repeat-penalty', raw.repeatPenalty, { min: 0, minExclusive: true });
  if (raw.repeatLastN !== undefined) o.repeatLastN = parseIntOption('--repeat-last-n', raw.repeatLastN, -1);
  if (raw.frequencyPenalty !== undefined) o.frequencyPenalty = parseNumberOption('--frequency-penalty', raw.frequencyPenalty);
  if (raw.presencePenalty !== undefined) o.presencePenalty = parseNumberOption('--presence-penalty', raw.presencePenalty);
  if (raw.seed !== undefined) {
    const s = parseIntOption('--seed', raw.seed, -1, 0xffffffff);
    if (s !== -1) o.seed = s;
  }
  if (raw.stop !== undefined) {
    for (const s of raw.stop) if (s === '') bad('--stop', 'must not be empty', s);
    o.stop = [...raw.stop];
  }
  return o;
}

/**
 * Validates `--threads` (1..1024) and `--ctx-size` (1..2^24).
 * @throws RequestError (`BAD_OPTION`) on a non-integer or out-of-range value, or an empty --model.
 */
export function parseModelOptions(raw: RawModelOptions): ModelOptions {
  const o: ModelOptions = {};
  if (raw.model !== undefined) {
    if (raw.model.trim() === '') bad('--model', 'must be a path', raw.model);
    o.model = raw.model;
  }
  if (raw.threads !== undefined) o.threads = parseIntOption('--threads', raw.threads, 1, 1024);
  if (raw.ctxSize !== undefined) o.contextSize = parseIntOption('--ctx-size', raw.ctxSize, 1, 1 << 24);
  if (raw.backend !== undefined) o.backend = parseBackendOption(raw.backend);
  return o;
}
