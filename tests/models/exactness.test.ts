/**
 * Bit-exactness against llama.cpp (node-llama-cpp 3.22.1's prebuilt CPU binary, flash attention
 * off, F32 K/V cache; tests/helpers/llamacpp-ref.ts) on SmolLM2-135M-Instruct Q4_1: for chat
 * prompts, the first-step logits (whole prompt in one batch) and 64-token greedy continuations
 * (decoded token by token) must match. Every op on the path reproduces ggml-cpu's float
 * operations, so the expected difference is exactly 0; the assertion allows 1e-2.
 *
 * Needs the transformer's SwiGLU to be the native `swiglu` (ggml_vec_swiglu_f32 with ggml_v_expf):
 * with a libm-exp SiLU, last-bit differences are amplified by activation quantization to ~1 logit.
 * Until that switch lands the test is reported as a todo (diagnostics still printed).
 *
 * Gemma 3 270M is reported as diagnostics only: its logits differ from llama.cpp already for a
 * single token at position 0 (ops outside RoPE/attention), and llama.cpp itself is not
 * batch-invariant on it (repacked Q4_K GEMM in batches).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesModule, repoRoot } from '../helpers/paths.js';
import { loadModel } from '../../src/models/load.js';
import { applyChatTemplate } from '../../src/tokenizers/chat-template.js';
import { llamaCppReference } from '../helpers/llamacpp-ref.js';
import { ourGreedy, logitDiff, firstDiff } from './fidelity.js';

const PROMPTS = ['What is the capital of France?', 'Write a haiku about the sea.', 'Why is the sky blue?', 'List three prime numbers greater than 20.'];
const N_PREDICT = 64;

/** Whether the transformer already runs the native SwiGLU (see the file comment). */
function nativeSwiglu(): boolean {
  const src = ['src/models/transformer.ts', 'src/nn/activations.ts']
    .map((p) => { try { return readFileSync(join(repoRoot(), p), 'utf8'); } catch { return ''; } })
    .join('\n');
  return /\.swiglu\(/.test(src);
}

test('SmolLM2 Q4_1: logits and greedy output bit-identical to llama.cpp', { timeout: 600_000, todo: nativeSwiglu() ? false : 'the transformer does not use the native swiglu yet' }, async (t) => {
  const path = await (await fixturesModule()).ensureFixture('smollm2');
  const ours = await loadModel(path, { threads: 2, contextSize: 512 });
  const ref = await llamaCppReference(path, { threads: 2, contextSize: 512 });
  try {
    const tmpl = ours.tokenizer.chatTemplate;
    assert.ok(tmpl, 'model has a chat template');
    const bos = ours.tokenizer.bos >= 0 ? ours.tokenizer.tokenText(ours.tokenizer.bos) : '';
    const eos = ours.tokenizer.eos >= 0 ? ours.tokenizer.tokenText(ours.tokenizer.eos) : '';
    for (const [i, prompt] of PROMPTS.entries()) {
      const text = applyChatTemplate(tmpl, [{ role: 'user', content: prompt }], { addGenerationPrompt: true, bosToken: bos, eosToken: eos });
      const tokens = ours.tokenizer.encode(text, { addSpecial: true, parseSpecial: true });
      // prefixes of the prompt (2, 5, 20 tokens, whole) exercise RoPE and attention at several lengths
      for (const n of [2, 5, 20]) {
        if (n >= tokens.length) continue;
        ours.truncate(0);
        const d = logitDiff(ours.forward(tokens.slice(0, n)), await ref.logits(tokens.slice(0, n))).maxAbs;
        t.diagnostic(`prompt ${i} prefix ${n}: logits maxAbs=${d}`);
        assert.ok(d <= 1e-2, `prompt ${i} prefix ${n}: max abs diff ${d}`);
      }
      const a = ourGreedy(ours, tokens, N_PREDICT);
      const b = await ref.greedy(tokens, N_PREDICT);
      const d = logitDiff(a.logits0, b.logits0).maxAbs;
      const k = firstDiff(a.tokens, b.tokens);
      t.diagnostic(`prompt ${i} (${tokens.length} tokens): first-step logits maxAbs=${d}, greedy ${k < 0 ? 'identical' : `diverges at ${k}`}`);
      assert.ok(d <= 1e-2, `prompt ${i}: first-step logits max abs diff ${d} > 1e-2`);
      assert.equal(k, -1, `prompt ${i}: greedy tokens diverge at ${k}`);
    }
  } finally {
    await ref.dispose();
    ours.dispose();
  }
});

test('Gemma 3 270M Q4_K_M: logit differences to llama.cpp (diagnostics only)', { timeout: 600_000 }, async (t) => {
  const path = await (await fixturesModule()).ensureFixture('gemma3');
  const ours = await loadModel(path, { threads: 2, contextSize: 512 });
  const ref = await llamaCppReference(path, { threads: 2, contextSize: 512 });
  try {
    const bos = ours.tokenizer.bos >= 0 ? ours.tokenizer.tokenText(ours.tokenizer.bos) : '';
    for (const [i, prompt] of PROMPTS.entries()) {
      const tokens = ours.tokenizer.encode(`${bos}<start_of_turn>user\n${prompt}<end_of_turn>\n<start_of_turn>model\n`, { addSpecial: false, parseSpecial: true });
      ours.truncate(0);
      const d = logitDiff(ours.forward(tokens), await ref.logits(tokens)).maxAbs;
      t.diagnostic(`gemma3 prompt ${i} (${tokens.length} tokens): logits maxAbs=${d}`);
    }
  } finally {
    await ref.dispose();
    ours.dispose();
  }
});
