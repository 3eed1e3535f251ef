/**
 * Generation on the `webgpu` device: the decoder runs in a headless Chromium page
 * (src/backends/webgpu/remote-lm.ts `WebGPULM`), Node samples. Used by the `llm.generate`
 * pipeline brick when placed on `webgpu` and by `synflux run --place lm=webgpu`.
 *
 * The loop is src/generation/generate.ts `generate` made asynchronous (each forward is an RPC to
 * the page): tokenize (optionally through the chat template) → prefill in one forward call →
 * sample on the host from the returned float32 logits with the same {@link Sampler} (penalties,
 * top-k/top-p/min-p, temperature, seeded RNG; greedy when temperature ≤ 0, ties to the lowest id),
 * stop strings and UTF-8-aware streaming. So temperature > 0 is supported: only the logits cross
 * the RPC (`nVocab` floats per forward), the sampling is the CPU path's. Images are refused
 * (the WebGPU LM takes token ids only).
 */
import { RequestError } from '../../core/errors.js';
import type { Brick, PortSpec, PortValue, PortValues } from '../../bricks/brick.js';
import type { GenerateEvent, GenerateRequest, GenerateResult, GenerateTimings } from '../../generation/generate.js';
import type { FinishReason } from '../../generation/stopping.js';
import type { WebGPULM, WebGPULMOptions } from '../../backends/webgpu/remote-lm.js';
import type { BrickContext } from '../registry.js';
import { takePort } from './ports.js';
import { resolveModelOption } from './llm-generate.js';

/** {@link GenerateTimings} plus the time spent inside the page (RPC excluded). */
export interface WebGPUGenerateTimings extends GenerateTimings {
  /** Page-side ms of the prefill call and of all decode calls (the rest of prefillMs/decodeMs is RPC and base64). */
  pagePrefillMs: number;
  pageDecodeMs: number;
}

/** A {@link GenerateResult} of the WebGPU loop. */
export interface WebGPUGenerateResult extends GenerateResult {
  timings: WebGPUGenerateTimings;
}

/**
 * Streams a generation on a {@link WebGPULM}: one `token` event per generated token, then `done`.
 * The KV cache is cleared first (no prefix reuse). Timings: `prefillMs` / `decodeMs` are wall ms
 * of the forward RPCs (Node ↔ page round trip included), `sampleMs` the host sampler's.
 * @throws RequestError `BAD_SAMPLING_OPTION` (bad maxTokens / sampling options), `CONTEXT_OVERFLOW`
 *   (prompt longer than the page model's context), `UNSUPPORTED_OPTION` (images, a prompt cache);
 *   the page's RequestError / BackendError (`WEBGPU_*`) from `forward`.
 */
export async function* generateOnWebGPU(lm: WebGPULM, request: GenerateRequest): AsyncGenerator<GenerateEvent & { timings?: WebGPUGenerateTimings }> {
  const { tokenizeRequest } = await import('../../generation/generate.js');
  const { Sampler } = await import('../../generation/samplers.js');
  const { StopStringMatcher } = await import('../../generation/stopping.js');
  const { Utf8Stream } = await import('../../generation/utf8-stream.js');
  if (request.images?.length) throw new RequestError('UNSUPPORTED_OPTION', 'the webgpu LM takes no images yet (run the LM on cpu or wasm for a vision prompt)');
  if (request.cache) throw new RequestError('UNSUPPORTED_OPTION', 'the webgpu LM does not keep a prompt cache between requests');
  const tok = lm.tokenizer;
  const maxTokens = request.maxTokens ?? 128;
  if (!Number.isInteger(maxTokens) || maxTokens < -1) throw new RequestError('BAD_SAMPLING_OPTION', `maxTokens must be an integer ≥ -1, got ${maxTokens}`);
  const sampler = new Sampler(lm.config.nVocab, request, lm.nCtx);
  const prompt = await tokenizeRequest(tok, request);
  if (prompt.length > lm.nCtx) {
    throw new RequestError('CONTEXT_OVERFLOW', `the prompt is ${prompt.length} tokens but the context holds ${lm.nCtx}; shorten the prompt or raise the context size`);
  }
  const budget = lm.nCtx - prompt.length + 1;
  const maxGen = maxTokens === -1 ? budget : Math.min(maxTokens, budget);
  const timings: WebGPUGenerateTimings = {
    prefillMs: 0, decodeMs: 0, sampleMs: 0, prefillTokS: 0, decodeTokS: 0, prefillTokens: 0, decodeTokens: 0, pagePrefillMs: 0, pageDecodeMs: 0,
  };
  const tokens: number[] = [];
  let text = '';
  let finishReason: FinishReason = 'length';
  let stopString: string | undefined;
  const done = (): GenerateEvent & { timings: WebGPUGenerateTimings } => {
    timings.prefillTokS = timings.prefillMs > 0 ? (timings.prefillTokens * 1000) / timings.prefillMs : 0;
    timings.decodeTokS = timings.decodeMs > 0 ? (timings.decodeTokens * 1000) / timings.decodeMs : 0;
    return { type: 'done', text, tokens, promptTokens: prompt.length, finishReason, seed: sampler.seed, timings, ...(stopString !== undefined ? { stopString } : {}) };
  };
  if (request.signal?.aborted) {
    finishReason = 'abort';
    yield done();
    return;
  }
  if (maxGen === 0) {
    yield done();
    return;
  }
  await lm.truncate(0);
  let t = performance.now();
  let r = await lm.forward(prompt);
  timings.prefillMs = performance.now() - t;
  timings.pagePrefillMs = r.pageMs;
  timings.prefillTokens = prompt.length;
  for (const id of prompt) sampler.accept(id);
  const utf8 = new Utf8Stream();
  const stops = new StopStringMatcher(request.stop ?? []);
  for (;;) {
    if (request.signal?.aborted) {
      finishReason = 'abort';
      break;
    }
    t = performance.now();
    const id = sampler.sample(r.logits);
    sampler.accept(id);
    timings.sampleMs += performance.now() - t;
    if (tok.isEog(id)) {
      finishReason = 'eog';
      break;
    }
    tokens.push(id);
    const s = stops.push(utf8.push(tok.tokenBytes(id)));
    text += s.emit;
    yield { type: 'token', id, text: s.emit };
    if (s.stop !== undefined) {
      finishReason = 'stop';
      stopString = s.stop;
      break;
    }
    if (tokens.length >= maxGen) break;
    t = performance.now();
    r = await lm.forward([id]);
    timings.decodeMs += performance.now() - t;
    timings.pageDecodeMs += r.pageMs;
    timings.decodeTokens++;
  }
  if (finishReason !== 'stop') {
    const tail = stops.push(utf8.flush()).emit + stops.flush();
    text += tail;
    if (tail) yield { type: 'text', text: tail };
  }
  yield done();
}

/**
 * Runs {@link generateOnWebGPU} to completion.
 * @throws as {@link generateOnWebGPU}.
 */
export async function generateTextOnWebGPU(lm: WebGPULM, request: GenerateRequest): Promise<WebGPUGenerateResult> {
  for await (const ev of generateOnWebGPU(lm, request)) {
    if (ev.type === 'done') {
      const { type: _type, ...result } = ev;
      return result as WebGPUGenerateResult;
    }
  }
  throw new Error('unreachable: generateOnWebGPU ended without a done event');
}

/**
 * Loads a GGUF LM onto the page's WebGPU device (launching headless Chromium unless `opts.host`).
 * @throws BackendError `WEBGPU_NO_BROWSER` (no Chromium / playwright-core), `WEBGPU_UNAVAILABLE`,
 *   `WEBGPU_UNSUPPORTED_TYPE`, `WEBGPU_LOAD_FAILED`; ModelFormatError for a bad GGUF.
 */
export async function loadWebGPULM(path: string, opts: WebGPULMOptions = {}): Promise<WebGPULM> {
  const { WebGPULM } = await import('../../backends/webgpu/remote-lm.js');
  return WebGPULM.load(path, opts);
}

/**
 * `llm.generate` on `webgpu`: same options, ports and output as the cpu/wasm brick
 * (./llm-generate.ts) except `threads` (ignored: the page's device decides). Runs are chained
 * (one KV cache per page model); Node only awaits the page, so bricks on other devices keep the
 * Node thread.
 */
export class LlmGenerateWebGPUBrick implements Brick {
  readonly inputs: readonly PortSpec[] = [{ name: 'prompt', kind: 'text' }];
  readonly outputs: readonly PortSpec[] = [{ name: 'text', kind: 'text' }];
  readonly device = 'webgpu';
  /** The last run's full result (tokens, finish reason, timings). */
  lastResult: WebGPUGenerateResult | undefined;
  private lm: WebGPULM | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly name: string, lm: WebGPULM, private readonly opts: Readonly<Record<string, unknown>>) {
    this.lm = lm;
  }

  /**
   * Loads the model in a headless Chromium page.
   * @throws RequestError (`MODEL_NOT_FOUND`); BackendError (`WEBGPU_NO_BROWSER` when no Chromium is
   *   installed — the pipelined executor then re-plans the brick onto another device — and the
   *   other `WEBGPU_*` load errors).
   */
  static async create(ctx: BrickContext): Promise<LlmGenerateWebGPUBrick> {
    const o = ctx.options;
    const path = await resolveModelOption(o.model as string | undefined);
    const lm = await loadWebGPULM(path, { ...(o.contextSize !== undefined ? { contextSize: o.contextSize as number } : {}) });
    ctx.log?.(`${ctx.name}: loaded ${path.split(/[\\/]/).pop()} (${lm.config.arch}, ctx ${lm.nCtx}) on webgpu (headless Chromium)`);
    return new LlmGenerateWebGPUBrick(ctx.name, lm, o);
  }

  /**
   * Generates the answer to input `prompt` (sampling as on cpu: ./llm-generate.ts).
   * @returns `text`: the generated text, trimmed.
   * @throws RequestError (prompt too long, bad sampling options, missing port); BackendError
   *   `BRICK_DISPOSED`, `WEBGPU_*`.
   */
  run(inputs: PortValues): Promise<Record<string, PortValue>> {
    const p = this.queue.then(() => this.runOnce(inputs));
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async runOnce(inputs: PortValues): Promise<Record<string, PortValue>> {
    if (!this.lm) throw new RequestError('BRICK_DISPOSED', `${this.name}: brick was disposed`);
    const prompt = takePort(this.name, inputs, 'prompt', 'text').text;
    const o = this.opts;
    const sampling: GenerateRequest = {
      maxTokens: (o.maxTokens as number | undefined) ?? 128,
      ...(o.temperature !== undefined ? { temperature: o.temperature as number } : {}),
      ...(o.topK !== undefined ? { topK: o.topK as number } : {}),
      ...(o.topP !== undefined ? { topP: o.topP as number } : {}),
      ...(o.minP !== undefined ? { minP: o.minP as number } : {}),
      ...(o.seed !== undefined ? { seed: o.seed as number } : {}),
    };
    const request: GenerateRequest = o.chat !== false
      ? { ...sampling, messages: [...(o.system !== undefined ? [{ role: 'system', content: o.system as string }] : []), { role: 'user', content: prompt }] }
      : { ...sampling, prompt };
    const r = await generateTextOnWebGPU(this.lm, request);
    this.lastResult = r;
    return { text: { kind: 'text', text: r.text.trim() } };
  }

  dispose(): void {
    const lm = this.lm;
    this.lm = undefined;
    void lm?.dispose();
  }
}
