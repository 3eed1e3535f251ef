/**
 * `synflux run`: one-shot generation. stdout gets only the generated text, streamed as tokens
 * arrive (or, with `--json`, one JSON object); logs, progress and timings go to stderr.
 */
import { RequestError } from '../core/errors.js';
import { generate, type GenerateEvent, type GenerateRequest, type GenerateResult } from '../generation/generate.js';
import { log, type CliIO } from './io.js';
import { loadCliModel, resolveModelPath } from './model.js';
import { parseGenerationOptions, parseModelOptions, type ModelOptions, type RawGenerationOptions, type RawModelOptions } from './options.js';

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
  /** `--place brick=device,…`: placement overrides for `--pipeline`, or `lm=cpu|wasm|webgpu` / `vision=cpu|wasm` for a model. */
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
    /**
     * Per-brick ms of the query (load excluded), comparable with `synflux plan`'s `predicted_ms`:
     * `lm` = prefill + decode + sampling, `vision` = image encoding. Present when `placement` is.
     */
    bricks?: Record<string, number>;
  };
  /** Device per brick (`lm`, and `vision` with --mmproj), as `--place` and `synflux plan` name them. */
  placement?: Record<string, string>;
}

/**
 * Builds the `--json` object from a result and the load time; with `placement` (brick → device)
 * also `placement` and `timings.bricks`.
 */
export function runJson(r: GenerateResult, loadMs: number, placement?: Record<string, string>): RunJson {
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  const bricks: Record<string, number> = {};
  if (placement) {
    if (placement.vision !== undefined) bricks.vision = round(r.timings.imageEncodeMs ?? 0);
    bricks.lm = round(r.timings.prefillMs + r.timings.decodeMs + r.timings.sampleMs);
  }
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
      ...(placement ? { bricks } : {}),
    },
    ...(placement ? { placement: { ...placement } } : {}),
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

/** Where `--place` puts a model's bricks. */
interface ModelPlacement {
  /** The LM's device: `cpu` / `wasm` (kernel backend of loadModel) or `webgpu` (headless Chromium page). */
  lm?: 'cpu' | 'wasm' | 'webgpu';
  visionDevice?: 'cpu' | 'wasm';
}

/**
 * `--place` for a language model (`lm=cpu|wasm|webgpu`) and its vision projector (`vision=cpu|wasm`).
 * @throws RequestError `BAD_PIN` for another brick or device, `vision` without `--mmproj`, an
 *   `lm` pin that contradicts `--backend`, or `webgpu` with `--mmproj` (the WebGPU LM takes no
 *   image embeddings yet and there is no WebGPU vision encoder).
 */
async function modelPlacement(place: readonly string[], hasMmproj: boolean, backend: string | undefined): Promise<ModelPlacement> {
  const { parsePlace } = await import('../bricks/planner.js');
  const pins = parsePlace(place.join(','));
  const out: ModelPlacement = {};
  for (const [brick, dev] of Object.entries(pins)) {
    if (brick === 'vision') {
      if (dev === 'webgpu') throw new RequestError('BAD_PIN', '--place vision=webgpu: no WebGPU vision encoder yet, and the webgpu LM takes no images yet; the vision brick runs on cpu or wasm');
      if (dev !== 'cpu' && dev !== 'wasm') throw new RequestError('BAD_PIN', `--place vision=${dev}: the vision brick runs on cpu or wasm`);
      if (!hasMmproj) throw new RequestError('BAD_PIN', '--place vision=… needs --mmproj');
      out.visionDevice = dev;
    } else if (brick === 'lm') {
      if (dev !== 'cpu' && dev !== 'wasm' && dev !== 'webgpu') throw new RequestError('BAD_PIN', `--place lm=${dev}: the LM runs on cpu, wasm or webgpu`);
      if (dev === 'webgpu' && hasMmproj) throw new RequestError('BAD_PIN', '--place lm=webgpu with --mmproj: the webgpu LM takes no images yet (place lm on cpu or wasm)');
      if (backend !== undefined && backend !== dev) throw new RequestError('BAD_PIN', `--place lm=${dev} contradicts --backend ${backend}`);
      out.lm = dev;
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
  const where = raw.place !== undefined && raw.place.length > 0 ? await modelPlacement(raw.place, raw.mmproj !== undefined, modelOpts.backend) : {};
  if (where.lm === 'cpu' || where.lm === 'wasm') modelOpts.backend = where.lm;
  if (where.visionDevice !== undefined) modelOpts.visionDevice = where.visionDevice;
  const placement: Record<string, string> = {
    ...(raw.mmproj !== undefined ? { vision: modelOpts.visionDevice ?? 'cpu' } : {}),
    lm: where.lm ?? modelOpts.backend ?? 'cpu',
  };
  const chat = raw.chat === true || raw.system !== undefined;
  const request: GenerateRequest = chat
    ? {
        ...gen,
        messages: [
          ...(raw.system !== undefined ? [{ role: 'system', content: raw.system }] : []),
          { role: 'user', content: raw.prompt },
        ],
      }
    : { ...gen, prompt: raw.prompt };
  // The LM on its device: the webgpu page model (no images: modelPlacement refuses them) or the
  // in-process model; one generation loop either way (src/generation/generate.ts).
  const lm = where.lm === 'webgpu'
    ? await (async () => {
        const { lm: page, loadMs } = await loadWebGPUCliModel(modelOpts, io);
        const { generateOnWebGPU } = await import('../pipelines/bricks/llm-generate-webgpu.js');
        return { loadMs, run: (signal: AbortSignal) => generateOnWebGPU(page, { ...request, signal }), dispose: () => page.dispose() };
      })()
    : await (async () => {
        const { model, loadMs } = await loadCliModel(modelOpts, io);
        return { loadMs, run: (signal: AbortSignal) => generate(model, { ...request, ...(images.length > 0 ? { images } : {}), signal }), dispose: () => model.dispose() };
      })();
  const ac = new AbortController();
  const onSigint = (): void => ac.abort();
  process.once('SIGINT', onSigint);
  try {
    await emit(lm.run(ac.signal), raw, io, lm.loadMs, placement);
  } finally {
    process.removeListener('SIGINT', onSigint);
    await lm.dispose();
  }
}

/** Streams generated text to stdout (or prints the `--json` object) and the timing line to stderr. */
async function emit(events: AsyncIterable<GenerateEvent>, raw: RawRunOptions, io: CliIO, loadMs: number, placement: Record<string, string>): Promise<void> {
  let result: GenerateResult | undefined;
  for await (const ev of events) {
    if (ev.type === 'done') {
      const { type: _t, ...r } = ev;
      result = r;
    } else if (!raw.json && ev.text) io.stdout.write(ev.text);
  }
  if (!result) throw new Error('generation ended without a result');
  if (raw.json) io.stdout.write(`${JSON.stringify(runJson(result, loadMs, placement))}\n`);
  else if (io.stdout.isTTY) io.stdout.write('\n');
  log(io, `${timingSummary(result, loadMs)} | placement ${Object.entries(placement).map(([b, d]) => `${b}=${d}`).join(',')}`);
}

/**
 * Loads the model for `--place lm=webgpu`: headless Chromium (src/backends/webgpu/remote-lm.ts),
 * context `--ctx-size` (default min(2048, training context)); `--threads` does not apply.
 * @throws RequestError `MODEL_NOT_FOUND`, `BAD_PIN` when a weight type has no WGSL reader;
 *   BackendError `WEBGPU_NO_BROWSER` (no Chromium), `WEBGPU_*` load errors; ModelFormatError.
 */
async function loadWebGPUCliModel(opts: ModelOptions, io: CliIO): Promise<{ lm: import('../backends/webgpu/remote-lm.js').WebGPULM; loadMs: number }> {
  const path = await resolveModelPath(opts, io);
  const { openGGUF } = await import('../formats/gguf/reader.js');
  const { webgpuUnsupportedWeights } = await import('../bricks/lm-brick.js');
  const bad = webgpuUnsupportedWeights(openGGUF(path));
  if (bad.length) throw new RequestError('BAD_PIN', `--place lm=webgpu: the WebGPU kernels cannot read ${bad.slice(0, 3).join(', ')}${bad.length > 3 ? ` (+${bad.length - 3} more)` : ''}`);
  const { loadWebGPULM } = await import('../pipelines/bricks/llm-generate-webgpu.js');
  log(io, `loading ${path.split(/[\\/]/).pop()} on webgpu (headless Chromium)`);
  const t0 = performance.now();
  const lm = await loadWebGPULM(path, { ...(opts.contextSize !== undefined ? { contextSize: opts.contextSize } : {}) });
  return { lm, loadMs: performance.now() - t0 };
}
