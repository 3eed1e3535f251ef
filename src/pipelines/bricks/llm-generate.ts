/**
 * `llm.generate` brick (cpu | wasm): SynFlux's own decoder (src/models/load.ts `loadModel`,
 * src/generation/generate.ts `generate`) answering the text on input `prompt`.
 *
 * Options: `model` (a GGUF path, or `fixture:NAME` for a fixture of scripts/fetch-fixtures.mjs;
 * default `fixture:smollm2`, SmolLM2-135M-Instruct Q4_1), `chat` (apply the chat template,
 * default true), `system`, sampling (`maxTokens`, `temperature`, `topK`, `topP`, `minP`, `seed`),
 * `threads`, `contextSize`. The device picks the kernel backend (`cpu` native addon, `wasm`); on
 * `webgpu` the registry creates ./llm-generate-webgpu.ts `LlmGenerateWebGPUBrick` instead (same
 * options, host-side sampling from the page's logits).
 */
import { RequestError } from '../../core/errors.js';
import type { Brick, PortSpec, PortValue, PortValues } from '../../bricks/brick.js';
import type { CausalLM } from '../../models/causal-lm.js';
import type { GenerateRequest, GenerateResult } from '../../generation/generate.js';
import type { BrickContext } from '../registry.js';
import { takePort } from './ports.js';

/**
 * Resolves the `model` option (default `fixture:smollm2`) to a file path, fetching a fixture on
 * first use (src/models/model-ref.ts).
 * @throws RequestError (`MODEL_NOT_FOUND`) for a missing file; the fixture fetcher's errors.
 */
export async function resolveModelOption(model: string | undefined): Promise<string> {
  const { resolveModelRef } = await import('../../models/model-ref.js');
  return resolveModelRef(model ?? 'fixture:smollm2', { fetch: true });
}

/**
 * The generation request of an `llm.generate` brick for one prompt: its validated options
 * (`maxTokens` default 128, sampling fields, `chat` default true with an optional `system` turn)
 * over `prompt`. Shared by the cpu/wasm brick and the webgpu one (./llm-generate-webgpu.ts).
 */
export function generateRequestFromOptions(o: Readonly<Record<string, unknown>>, prompt: string): GenerateRequest {
  const sampling: GenerateRequest = {
    maxTokens: (o.maxTokens as number | undefined) ?? 128,
    ...(o.temperature !== undefined ? { temperature: o.temperature as number } : {}),
    ...(o.topK !== undefined ? { topK: o.topK as number } : {}),
    ...(o.topP !== undefined ? { topP: o.topP as number } : {}),
    ...(o.minP !== undefined ? { minP: o.minP as number } : {}),
    ...(o.seed !== undefined ? { seed: o.seed as number } : {}),
  };
  return o.chat !== false
    ? { ...sampling, messages: [...(o.system !== undefined ? [{ role: 'system', content: o.system as string }] : []), { role: 'user', content: prompt }] }
    : { ...sampling, prompt };
}

/** A language model as a brick. */
export class LlmGenerateBrick implements Brick {
  readonly inputs: readonly PortSpec[] = [{ name: 'prompt', kind: 'text' }];
  readonly outputs: readonly PortSpec[] = [{ name: 'text', kind: 'text' }];
  /** The last run's full result (tokens, finish reason, timings). */
  lastResult: GenerateResult | undefined;
  private model: CausalLM | undefined;

  private constructor(readonly name: string, readonly device: string, model: CausalLM, private readonly opts: Readonly<Record<string, unknown>>) {
    this.model = model;
  }

  /**
   * Loads the model on the brick's device.
   * @throws RequestError (`MODEL_NOT_FOUND`); the errors of `loadModel`.
   */
  static async create(ctx: BrickContext): Promise<LlmGenerateBrick> {
    const o = ctx.options;
    const path = await resolveModelOption(o.model as string | undefined);
    const { loadModel } = await import('../../models/load.js');
    const model = await loadModel(path, {
      backend: ctx.device === 'wasm' ? 'wasm' : 'cpu',
      ...(o.threads !== undefined ? { threads: o.threads as number } : {}),
      ...(o.contextSize !== undefined ? { contextSize: o.contextSize as number } : {}),
    });
    ctx.log?.(`${ctx.name}: loaded ${path.split(/[\\/]/).pop()} (${model.config.arch}, ctx ${model.nCtx}) on ${ctx.device}`);
    return new LlmGenerateBrick(ctx.name, ctx.device, model, o);
  }

  /**
   * Generates the answer to input `prompt`.
   * @returns `text`: the generated text.
   * @throws RequestError (prompt too long for the context, bad sampling options, missing port);
   *   BackendError `BRICK_DISPOSED`.
   */
  async run(inputs: PortValues): Promise<Record<string, PortValue>> {
    if (!this.model) throw new RequestError('BRICK_DISPOSED', `${this.name}: brick was disposed`);
    const prompt = takePort(this.name, inputs, 'prompt', 'text').text;
    const request = generateRequestFromOptions(this.opts, prompt);
    const { generateText } = await import('../../generation/generate.js');
    const r = await generateText(this.model, request);
    this.lastResult = r;
    return { text: { kind: 'text', text: r.text.trim() } };
  }

  dispose(): void {
    this.model?.dispose();
    this.model = undefined;
  }
}
