/**
 * Fidelity on SmolLM2-135M variants made by SynFlux's own quantizer (synflux quantize): Q8_0 and
 * Q4_K_M, requantized from the Q4_1 fixture with --allow-requantize (no F16 source of this model
 * is reachable from here, so the weights carry Q4_1's rounding; the file is still a valid Q8_0 /
 * Q4_K_M mix: Q8_0, Q5_0 (576-wide rows), Q4_K and Q6_K tensors). For 3 chat prompts the same
 * tokens go to our engine and to llama.cpp (node-llama-cpp's prebuilt binary, run live, flash
 * attention off, F32 K/V cache) loading the SAME quantized file. Requirements: first-step logits
 * max abs difference ≤ 1e-2 (as real-models.test.ts; the value itself is reported — it is 0 when
 * our kernels keep ggml's float order) and identical 32-token greedy output for every prompt.
 * The variants are written under .cache/models/derived/ (git-ignored) and reused while the Q4_1
 * source and the quantizer sources are unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureFixture } from '../../scripts/fetch-fixtures.mjs';
import { loadModel } from '../../src/models/load.js';
import { quantizeModel } from '../../src/quant/quantize-model.js';
import type { QuantFtypeName } from '../../src/quant/tensor-type.js';
import { applyChatTemplate } from '../../src/tokenizers/chat-template.js';
import { llamaCppReference } from '../helpers/llamacpp-ref.js';
import { repoRoot } from '../helpers/paths.js';
import { firstDiff, logitDiff, ourGreedy } from './fidelity.js';

const PROMPTS = ['What is the capital of France?', 'Write a haiku about the sea.', 'Why is the sky blue?'];
const N_PREDICT = 32;

/** Quantizes `src` to `type` into .cache/models/derived/, keyed by the quantizer sources' hash. */
function variant(src: string, type: QuantFtypeName): string {
  const root = repoRoot();
  const h = createHash('sha256');
  for (const f of ['src/quant/quantize-model.ts', 'src/quant/tensor-type.ts', 'native/sf_quant.c']) h.update(readFileSync(join(root, f)));
  h.update(src);
  const stamp = h.digest('hex');
  const dir = join(root, '.cache', 'models', 'derived');
  const out = join(dir, `SmolLM2-135M-Instruct.${type}-requant.gguf`);
  if (existsSync(out) && existsSync(`${out}.stamp`) && readFileSync(`${out}.stamp`, 'utf8') === stamp) return out;
  mkdirSync(dir, { recursive: true });
  quantizeModel(src, `${out}.tmp`, type, { allowRequantize: true });
  renameSync(`${out}.tmp`, out);
  writeFileSync(`${out}.stamp`, stamp);
  return out;
}

for (const type of ['Q8_0', 'Q4_K_M'] as const) {
  test(`SmolLM2 ${type} made by synflux quantize: logits and greedy output match llama.cpp on the same file`, { timeout: 600_000 }, async (t) => {
    const path = variant(await ensureFixture('smollm2'), type);
    const ours = await loadModel(path, { threads: 2, contextSize: 256 });
    const ref = await llamaCppReference(path, { threads: 2, contextSize: 256 });
    try {
      const tmpl = ours.tokenizer.chatTemplate;
      assert.ok(tmpl, 'model has a chat template');
      let maxAbs = 0;
      for (const [i, prompt] of PROMPTS.entries()) {
        const text = applyChatTemplate(tmpl, [{ role: 'user', content: prompt }], { addGenerationPrompt: true, bosToken: '', eosToken: '' });
        const tokens = ours.tokenizer.encode(text, { addSpecial: true, parseSpecial: true });
        const a = ourGreedy(ours, tokens, N_PREDICT);
        const b = await ref.greedy(tokens, N_PREDICT);
        const d = logitDiff(a.logits0, b.logits0);
        maxAbs = Math.max(maxAbs, d.maxAbs);
        const k = firstDiff(a.tokens, b.tokens);
        t.diagnostic(`${type} prompt ${i}: logits maxAbs=${d.maxAbs} ${k < 0 ? 'tokens identical' : `tokens diverge at ${k}`}`);
        assert.equal(k, -1, `${type} prompt ${i}: greedy tokens diverge at ${k}`);
      }
      t.diagnostic(`SmolLM2 ${type}: first-step logits max abs diff ${maxAbs}`);
      assert.ok(maxAbs <= 1e-2, `${type}: first-step logits max abs diff ${maxAbs} > 1e-2`);
    } finally {
      ref.dispose();
      ours.dispose();
    }
  });
}
