/**
 * Generation on the `webgpu` device: the decoder runs in a headless Chromium page
 * (src/backends/webgpu/remote-lm.ts `WebGPULM`), Node samples. Used by the `llm.generate`
 * pipeline brick when placed on `webgpu` and by `synflux run --place lm=webgpu`.
 *
 * The loop is src/generation/generate.ts `generate` itself, which awaits each forward (here an RPC
 * to the page): tokenize (optionally through the chat template) → prefill in one forward call →
 * sample on the host from the returned float32 logits with the same sampler (penalties,
 * top-k/top-p/min-p, temperature, seeded RNG; greedy when temperature ≤ 0, ties to the lowest id),
 * stop strings and UTF-8-aware streaming. So temperature > 0 is supported: only the logits cross
 * the RPC (`nVocab` floats per forward), the sampling is the CPU path's. Images are refused
 * (the WebGPU LM takes token ids only).
 */
import { RequestError } from '../../core/errors.js';
import type { Brick, PortSpec, PortValue, PortValues } from '../../bricks/brick.js';
import type { AsyncCausalLM, GenerateEvent, GenerateRequest, GenerateResult, GenerateTimings } from '../../generation/generate.js';
import type { WebGPULM, WebGPULMOptions } from '../../backends/webgpu/remote-lm.js';
import type { BrickContext } from '../registry.js';
import { takePort } from './ports.js';
import { generateRequestFromOptions, resolveModelOption } from './llm-generate.js';

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
 * Streams a generation on a {@link WebGPULM}: src/generation/generate.ts `generate` (the one
 * generation loop: sampler, stop strings, UTF-8 streaming, prompt cache) over an adapter whose
 * `forward` is the page RPC. One `token` event per generated token, then `done`, whose timings
 * add the page-side ms. Timings: `prefillMs` / `decodeMs` are wall ms of the forward RPCs (Node ↔
 * page round trip included), `sampleMs` the host sampler's.
 * @throws RequestError `BAD_SAMPLING_OPTION` (bad maxTokens / sampling options), `CONTEXT_OVERFLOW`
 *   (prompt longer than the page model's context), `UNSUPPORTED_OPTION` (images); the page's
 *   RequestError / BackendError (`WEBGPU_*`) from `forward`.
 */
export async function* generateOnWebGPU(lm: WebGPULM, request: GenerateRequest): AsyncGenerator<GenerateEvent & { timings?: WebGPUGenerateTimings }> {
  const { generate } = await import('../../generation/generate.js');
  const page = { calls: 0, prefillMs: 0, decodeMs: 0 };
  const model: AsyncCausalLM = {
    config: lm.config, tokenizer: lm.tokenizer, nCtx: lm.nCtx,
    get nPast() {
      return lm.nPast;
    },
    async forward(tokens) {
      const r = await lm.forward(tokens);
      if (page.calls++ === 0) page.prefillMs += r.pageMs;
      else page.decodeMs += r.pageMs;
      return r.logits;
    },
    truncate: (n) => lm.truncate(n),
  };
  for await (const ev of generate(model, request)) {
    if (ev.type === 'done') yield { ...ev, timings: { ...ev.timings, pagePrefillMs: page.prefillMs, pageDecodeMs: page.decodeMs } };
    else yield ev;
  }
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
    const r = await generateTextOnWebGPU(this.lm, generateRequestFromOptions(this.opts, prompt));
    this.lastResult = r;
    return { text: { kind: 'text', text: r.text.trim() } };
  }

  dispose(): void {
    const lm = this.lm;
    this.lm = undefined;
    void lm?.dispose();
  }
}
