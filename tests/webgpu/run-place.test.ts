/**
 * The LM on the `webgpu` device through the user-facing entry points: `synflux run --place
 * lm=webgpu --json` and the `llm.generate` pipeline brick placed on webgpu. The reference is the
 * native transformer with float32 activations (matmuls on dequantized weights: the numbers the
 * WebGPU kernels compute with, see model.test.ts) on SmolLM2-135M Q4_1, raw prompt, 3 tokens
 * (SwiftShader takes ~1–2 s per token): greedy token ids must be equal, and with temperature 0.8
 * and a fixed seed the host-side sampler (src/generation/samplers.ts) fed the page's logits must
 * pick what it picks from the CPU reference's logits. Without Chromium the tests skip, and the
 * CLI must fail with the typed BackendError `WEBGPU_NO_BROWSER` instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Transformer } from '../../src/models/transformer.js';
import { mapFile, bindWeights } from '../../src/models/load.js';
import { parseGGUF } from '../../src/formats/gguf/reader.js';
import { getArch } from '../../src/models/registry.js';
import { tokenizerFromGGUF } from '../../src/tokenizers/index.js';
import { Sampler } from '../../src/generation/samplers.js';
import { brickType } from '../../src/pipelines/registry.js';
import type { LlmGenerateWebGPUBrick } from '../../src/pipelines/bricks/llm-generate-webgpu.js';
import { fixturesModule } from '../helpers/paths.js';
import { f32ActivationKernels } from '../helpers/f32-kernels.js';
import { cliCommand, repoRoot } from '../cli/root.js';
import { SKIP } from './page.js';

const root = repoRoot(import.meta.url);
const PROMPT = 'The capital of France is';

/** Tokens the f32-activation CPU forward generates for PROMPT with `sampler` (3 tokens, stops at EOG). */
async function reference(model: string, sampler: Sampler): Promise<{ ids: number[]; text: string; promptTokens: number }> {
  const file = parseGGUF(mapFile(model), model);
  const cfg = (await getArch('llama')).configFromGGUF(file);
  const tok = tokenizerFromGGUF(file.metadata);
  const ref = new Transformer(cfg, bindWeights(file, cfg), tok, { kernels: f32ActivationKernels(), nCtx: 64 });
  const prompt = tok.encode(PROMPT, { addSpecial: true });
  for (const id of prompt) sampler.accept(id);
  const ids: number[] = [];
  let logits = ref.forward(prompt);
  for (let i = 0; i < 3; i++) {
    const t = sampler.sample(logits);
    sampler.accept(t);
    if (tok.isEog(t)) break;
    ids.push(t);
    if (i < 2) logits = ref.forward([t]);
  }
  return { ids, text: tok.decode(ids), promptTokens: prompt.length };
}

test('run --place lm=webgpu --json: greedy tokens equal the f32-activation CPU greedy; placement and per-brick time reported', { skip: SKIP, timeout: 5 * 60_000 }, async () => {
  const model = await (await fixturesModule()).ensureFixture('smollm2');
  const [node, pre] = cliCommand(root);
  const r = spawnSync(node, [...pre, 'run', '--model', model, '--prompt', PROMPT, '--max-tokens', '3', '--temperature', '0', '--ctx-size', '64', '--place', 'lm=webgpu', '--json'],
    { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { text: string; token_ids: number[]; prompt_tokens: number; placement: Record<string, string>; timings: { total_ms: number; load_ms: number; bricks: Record<string, number> } };
  const want = await reference(model, new Sampler(49152, { temperature: 0 }));
  assert.deepEqual(out.token_ids, want.ids);
  assert.equal(out.text, want.text);
  assert.equal(out.prompt_tokens, want.promptTokens);
  assert.deepEqual(out.placement, { lm: 'webgpu' });
  assert.ok(out.timings.bricks.lm! > 0 && Math.abs(out.timings.total_ms - out.timings.load_ms - out.timings.bricks.lm!) < 0.01);
  assert.match(r.stderr, /placement lm=webgpu/);
});

test('llm.generate on webgpu: temperature 0.8, seed 7 samples on the host what the CPU reference logits give', { skip: SKIP, timeout: 5 * 60_000 }, async () => {
  const model = await (await fixturesModule()).ensureFixture('smollm2');
  const type = brickType('llm.generate')!;
  assert.ok(type.devices.includes('webgpu'));
  const opts = { model, chat: false, maxTokens: 3, temperature: 0.8, seed: 7, contextSize: 64 };
  const brick = (await type.create({ name: 'lm', device: 'webgpu', options: opts })) as LlmGenerateWebGPUBrick;
  try {
    assert.equal(brick.device, 'webgpu');
    const out = await brick.run({ prompt: { kind: 'text', text: PROMPT } });
    const want = await reference(model, new Sampler(49152, { temperature: 0.8, seed: 7 }, 64));
    assert.deepEqual(brick.lastResult!.tokens, want.ids);
    assert.equal(out.text!.kind === 'text' ? out.text!.text : null, want.text.trim());
    assert.equal(brick.lastResult!.seed, 7);
  } finally {
    brick.dispose();
  }
});

test('run --place lm=webgpu without Chromium: typed BackendError WEBGPU_NO_BROWSER', { skip: SKIP ? false : 'Chromium is installed (the runs above cover webgpu)' }, async () => {
  const model = await (await fixturesModule()).ensureFixture('smollm2');
  const [node, pre] = cliCommand(root);
  const r = spawnSync(node, [...pre, 'run', '--model', model, '--prompt', 'x', '--max-tokens', '1', '--place', 'lm=webgpu'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /WEBGPU_NO_BROWSER/);
});
