/**
 * The LM brick (src/bricks/lm-brick.ts: same spec, ports and cost model) on the `webgpu` device:
 * the decoder runs in a headless Chromium page through {@link WebGPULM}, so the brick needs no
 * worker thread — Node only awaits the page's replies and stays free for bricks on other devices.
 * Greedy decoding (temperature 0, as the cpu/wasm LM brick), stopping at end-of-generation.
 */
import type { Brick, PortValue, PortValues } from '../../bricks/brick.js';
import { lmCost, lmShapeFromGGUF, fillTemplate, type LmBrickSpec } from '../../bricks/lm-brick.js';
import { openGGUF } from '../../formats/gguf/reader.js';
import { tokenizeRequest } from '../../generation/generate.js';
import { WebGPULM, type WebGPULMOptions } from './remote-lm.js';

/** Greedy argmax (first index of the maximum). */
function argmax(x: Float32Array): number {
  let b = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[b]!) b = i;
  return b;
}

/**
 * Creates the LM brick on WebGPU. Outputs `text`, `tokens`, `prompt_tokens` as the cpu/wasm brick;
 * `run` also reports the page-side milliseconds in `webgpu_ms` (f32 [2]: prefill, decode).
 * @throws BackendError (`WEBGPU_NO_BROWSER`, `WEBGPU_UNAVAILABLE`, …), ModelFormatError for a bad GGUF.
 */
export async function createWebGPULmBrick(spec: LmBrickSpec, opts: WebGPULMOptions = {}): Promise<Brick> {
  const shape = lmShapeFromGGUF(openGGUF(spec.model));
  const lm = await WebGPULM.load(spec.model, { ...opts, contextSize: spec.contextSize ?? 1024 });
  let queue: Promise<unknown> = Promise.resolve();
  const runOnce = async (inputs: PortValues): Promise<Record<string, PortValue>> => {
    const prompt = fillTemplate(spec.template ?? '{prompt}', inputs);
    const ids = await tokenizeRequest(lm.tokenizer, { prompt, chat: spec.chat ?? true });
    await lm.truncate(0);
    const out: number[] = [];
    let r = await lm.forward(ids);
    const prefillMs = r.pageMs;
    let decodeMs = 0;
    for (let i = 0; i < spec.maxTokens; i++) {
      const t = argmax(r.logits);
      if (lm.tokenizer.isEog(t)) break;
      out.push(t);
      if (i + 1 === spec.maxTokens || lm.nPast + 1 > lm.nCtx) break;
      r = await lm.forward([t]);
      decodeMs += r.pageMs;
    }
    return {
      text: { kind: 'text', text: lm.tokenizer.decode(out) }, tokens: { kind: 'tokens', data: Int32Array.from(out) },
      prompt_tokens: { kind: 'tensor', dtype: 'i32', data: Int32Array.of(ids.length), shape: [1] },
      webgpu_ms: { kind: 'tensor', dtype: 'f32', data: Float32Array.of(prefillMs, decodeMs), shape: [2] },
    };
  };
  return {
    name: spec.name, device: 'webgpu',
    inputs: [{ name: 'prompt', kind: 'text' }],
    outputs: [{ name: 'text', kind: 'text' }, { name: 'tokens', kind: 'tokens' }, { name: 'prompt_tokens', kind: 'tensor', shape: [1] }],
    // One query at a time on the page's single KV cache: runs are chained.
    run(inputs) {
      const p = queue.then(() => runOnce(inputs));
      queue = p.catch(() => undefined);
      return p;
    },
    cost(inputs) {
      let chars = 0;
      for (const v of Object.values(inputs)) if (v.kind === 'text') chars += v.text.length;
      return lmCost(shape, Math.ceil(chars / 4) + 16, spec.maxTokens, spec.contextSize ?? 1024);
    },
    dispose() {
      void lm.dispose();
    },
  };
}
