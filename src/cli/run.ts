/**
 * `synflux run`: one-shot generation. stdout gets only the generated text, streamed as tokens
 * arrive (or, with `--json`, one JSON object); logs, progress and timings go to stderr.
 */
import { RequestError } from '../core/errors.js';
import { generate, type GenerateResult } from '../generation/generate.js';
import { log, type CliIO } from './io.js';
import { loadCliModel } from './model.js';
import { parseGenerationOptions, parseModelOptions, type RawGenerationOptions, type RawModelOptions } from './options.js';

/** Raw options of `synflux run` as commander produces them. */
export interface RawRunOptions extends RawGenerationOptions, RawModelOptions {
  prompt?: string;
  chat?: boolean;
  system?: string;
  json?: boolean;
  /** `--mmproj PATH`: vision projector for `--image`. */
  mmproj?: string;
  /** `--image PATH…`. */
  image?: string[];
  /** `--pipeline FILE`: run a pipeline file instead (src/cli/pipeline.ts). */
  pipeline?: string;
  /** `--place brick=device,…`: placement overrides for `--pipeline`, or `lm=`/`vision=cpu|wasm` for a model. */
  place?: string[];
}

/** The `--json` output object (snake_case keys; times in ms, rates in tokens/s). */
export interface RunJson {
  text: string;
  /** Number of generated tokens (without a final end-of-generation token). */
  tokens: number;
  /** Number of prompt tokens. */
  prompt_tokens: number;
  /** The generated token ids (for comparisons with other engines). */
  token_ids: number[];
  finish_reason: GenerateResult['finishReason'];
  seed: number;
  timings: {
    load_ms: number; prefill_ms: number; decode_ms: number; prefill_tok_s: number; decode_tok_s: number;
    /** Image encoding (vision model) time, present with --image. */
    image_encode_ms?: number;
    /** load + image encoding + prefill + decode (ms). */
    total_ms: number;
  };
}

/** Builds the `--json` object from a result and the load time. */
export function runJson(r: GenerateResult, loadMs: number): RunJson {
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    text: r.text,
    tokens: r.tokens.length,
    prompt_tokens: r.promptTokens,
    token_ids: r.tokens,
    finish_reason: r.finishReason,
    seed: r.seed,
    timings: {
      load_ms: round(loadMs),
      prefill_ms: round(r.timings.prefillMs),
      decode_ms: round(r.timings.decodeMs),
      prefill_tok_s: round(r.timings.prefillTokS),
      decode_tok_s: round(r.timings.decodeTokS),
      ...(r.timings.imageEncodeMs !== undefined ? { image_encode_ms: round(r.timings.imageEncodeMs) } : {}),
      total_ms: round(loadMs + (r.timings.imageEncodeMs ?? 0) + r.timings.prefillMs + r.timings.decodeMs + r.timings.sampleMs),
    },
  };
}

/** One-line human summary of a result's timings (for stderr). */
export function timingSummary(r: GenerateResult, loadMs?: number): string {
  const t = r.timings;
  const parts = [
    ...(loadMs !== undefined ? [`load ${loadMs.toFixed(0)} ms`] : []),
    `prompt ${r.promptTokens} tok (${t.prefillTokens} evaluated, ${t.prefillTokS.toFixed(1)} tok/s)`,
    `generated ${r.tokens.length} tok (${t.decodeTokS.toFixed(1)} tok/s)`,
    `finish ${r.finishReason}`,
    `seed ${r.seed}`,
  ];
  return parts.join(' | ');
}

/**
 * `--place` for a language model (`lm=cpu|wasm`) and its vision projector (`vision=cpu|wasm`).
 * @throws RequestError `BAD_PIN` for another brick or device, `vision` without `--mmproj`, or an
 *   `lm` pin that contradicts `--backend`.
 */
async function modelPlacement(place: readonly string[], hasMmproj: boolean, backend: string | undefined): Promise<{ backend?: 'cpu' | 'wasm'; visionDevice?: 'cpu' | 'wasm' }> {
  const { parsePlace } = await import('../bricks/planner.js');
  const pins = parsePlace(place.join(','));
  const out: { backend?: 'cpu' | 'wasm'; visionDevice?: 'cpu' | 'wasm' } = {};
  for (const [brick, dev] of Object.entries(pins)) {
    if (dev !== 'cpu' && dev !== 'wasm') throw new RequestError('BAD_PIN', `--place ${brick}=${dev}: a model's bricks run on cpu or wasm`);
    if (brick === 'vision') {
      if (!hasMmproj) throw new RequestError('BAD_PIN', '--place vision=… needs --mmproj');
      out.visionDevice = dev;
    } else if (brick === 'lm') {
      if (backend !== undefined && backend !== dev) throw new RequestError('BAD_PIN', `--place lm=${dev} contradicts --backend ${backend}`);
      out.backend = dev;
    } else {
      throw new RequestError('BAD_PIN', `--place names brick '${brick}'; a model run has the bricks lm and vision (with --mmproj)`);
    }
  }
  return out;
}

/**
 * Runs `synflux run`. The first SIGINT stops generation (finish reason `abort`, output kept).
 * @throws RequestError on bad options or a missing prompt; model loading and generation errors propagate.
 */
export async function runCommand(raw: RawRunOptions, io: CliIO): Promise<void> {
  if (raw.pipeline !== undefined) return (await import('./pipeline.js')).pipelineCommand(raw, io);
  if ((await import('./classify.js')).isClassifierModel(raw.model)) return (await import('./classify.js')).classifyCommand(raw, io);
  if (raw.prompt === undefined) throw new RequestError('BAD_OPTION', '--prompt is required');
  const gen = parseGenerationOptions(raw);
  const modelOpts = parseModelOptions(raw);
  const images = raw.image ?? [];
  if (images.length > 0 && raw.mmproj === undefined) throw new RequestError('BAD_OPTION', '--image needs --mmproj (the vision projector GGUF) for a language model');
  if (raw.mmproj !== undefined) modelOpts.mmproj = raw.mmproj;
  if (raw.place !== undefined && raw.place.length > 0) Object.assign(modelOpts, await modelPlacement(raw.place, raw.mmproj !== undefined, modelOpts.backend));
  const chat = raw.chat === true || raw.system !== undefined;
  const { model, loadMs } = await loadCliModel(modelOpts, io);
  const ac = new AbortController();
  const onSigint = (): void => ac.abort();
  process.once('SIGINT', onSigint);
  try {
    const request = chat
      ? {
          ...gen,
          messages: [
            ...(raw.system !== undefined ? [{ role: 'system', content: raw.system }] : []),
            { role: 'user', content: raw.prompt },
          ],
        }
      : { ...gen, prompt: raw.prompt };
    let result: GenerateResult | undefined;
    for await (const ev of generate(model, { ...request, ...(images.length > 0 ? { images } : {}), signal: ac.signal })) {
      if (ev.type === 'done') {
        const { type: _t, ...r } = ev;
        result = r;
      } else if (!raw.json && ev.text) io.stdout.write(ev.text);
    }
    if (!result) throw new Error('generation ended without a result');
    if (raw.json) io.stdout.write(`${JSON.stringify(runJson(result, loadMs))}\n`);
    else if (io.stdout.isTTY) io.stdout.write('\n');
    log(io, timingSummary(result, loadMs));
  } finally {
    process.removeListener('SIGINT', onSigint);
    model.dispose();
  }
}
