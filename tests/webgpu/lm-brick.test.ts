/**
 * The LM brick on the `webgpu` device (src/backends/webgpu/lm-brick.ts): same ports as the cpu/wasm
 * LM brick, a cost estimate, and greedy tokens equal to greedy decoding of the native transformer
 * with float32 activations (the numbers the WebGPU kernels compute with; see model.test.ts), on
 * SmolLM2-135M Q4_1 without the chat template (a 5-token prompt keeps SwiftShader time short).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createWebGPULmBrick } from '../../src/backends/webgpu/lm-brick.js';
import { Transformer } from '../../src/models/transformer.js';
import { mapFile, bindWeights } from '../../src/models/load.js';
import { parseGGUF } from '../../src/formats/gguf/reader.js';
import { getArch } from '../../src/models/registry.js';
import { tokenizerFromGGUF } from '../../src/tokenizers/index.js';
import { fixturesModule } from '../helpers/paths.js';
import { f32ActivationKernels } from '../helpers/f32-kernels.js';
import { argmax } from '../helpers/llamacpp-ref.js';
import { SKIP, page, closePage } from './page.js';

after(closePage);

test('LM brick on webgpu: ports, cost, greedy tokens equal the f32-activation CPU greedy', { skip: SKIP, timeout: 10 * 60_000 }, async () => {
  const model = await (await fixturesModule()).ensureFixture('smollm2');
  const brick = await createWebGPULmBrick({ kind: 'lm', name: 'lm', model, maxTokens: 3, chat: false, contextSize: 64 }, { host: await page() });
  try {
    assert.equal(brick.device, 'webgpu');
    assert.deepEqual(brick.outputs.map((p) => p.name), ['text', 'tokens', 'prompt_tokens']);
    const inputs = { prompt: { kind: 'text' as const, text: 'The capital of France is' } };
    assert.ok((brick.cost?.(inputs).flops ?? 0) > 0);
    const out = await brick.run(inputs);
    const tokens = out.tokens!.kind === 'tokens' ? Array.from(out.tokens!.data) : [];

    const kernels = f32ActivationKernels();
    const file = parseGGUF(mapFile(model), model);
    const cfg = (await getArch('llama')).configFromGGUF(file);
    const tok = tokenizerFromGGUF(file.metadata);
    const ref = new Transformer(cfg, bindWeights(file, cfg), tok, { kernels, nCtx: 64 });
    const ids = tok.encode('The capital of France is', { addSpecial: true });
    const want: number[] = [];
    let logits = ref.forward(ids);
    for (let i = 0; i < 3; i++) {
      const t = argmax(logits);
      if (tok.isEog(t)) break;
      want.push(t);
      if (i < 2) logits = ref.forward([t]);
    }
    assert.deepEqual(tokens, want);
    assert.equal(out.text!.kind === 'text' ? out.text!.text : '', tok.decode(want));
    assert.equal(out.prompt_tokens!.kind === 'tensor' ? out.prompt_tokens!.data[0] : -1, ids.length);
  } finally {
    brick.dispose();
  }
});
