/**
 * Whole forwards of SmolLM2-135M-Instruct Q4_1 and Gemma 3 270M Q4_K_M on WebGPU (headless Chromium, SwiftShader here)
 * against the CPU engine, through the Node ↔ page RPC (src/backends/webgpu/remote-lm.ts):
 * - against the native transformer with float32 activations (every matmul runs on the
 *   dequantized weights, the same numbers the WebGPU kernels compute with): logits within 2e-5
 *   of the logit range for SmolLM2 (observed ~1e-6) and 1e-3 for Gemma 3 (observed ~2e-4), whose
 *   logits are far more sensitive: on the CPU alone, swapping ggml's F16 GELU table for the exact
 *   f32 GELU moves them by 2e-4 of the range, so single F16 rounding flips in the GPU's GeGLU
 *   (same rounding, different tanh) show at that scale; prompt and three greedy decode steps;
 * - against the normal CPU engine, which rounds activations to Q8_1 as llama.cpp does (so it
 *   differs by ~1e-2 of the range): within 5e-2, and greedy tokens equal unless the CPU's top-1/top-2
 *   margin is below the observed logit difference.
 * Also: bad token ids and context overflow raise RequestError from the page. Timing is printed,
 * never asserted.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { WebGPULM } from '../../src/backends/webgpu/remote-lm.js';
import { Transformer } from '../../src/models/transformer.js';
import { loadModel, mapFile, bindWeights } from '../../src/models/load.js';
import { parseGGUF } from '../../src/formats/gguf/reader.js';
import { getArch } from '../../src/models/registry.js';
import { tokenizerFromGGUF } from '../../src/tokenizers/index.js';
import { RequestError } from '../../src/core/errors.js';
import { fixturesModule } from '../helpers/paths.js';
import { f32ActivationKernels } from '../helpers/f32-kernels.js';
import { argmax, topMargin } from '../helpers/llamacpp-ref.js';
import { SKIP, page, closePage } from './page.js';

after(closePage);

function diff(a: Float32Array, b: Float32Array): { rel: number; abs: number } {
  let m = 0, lo = Infinity, hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i]! - b[i]!));
    lo = Math.min(lo, b[i]!);
    hi = Math.max(hi, b[i]!);
  }
  return { rel: m / (hi - lo), abs: m };
}

for (const [fixture, title, bound32] of [['smollm2', 'SmolLM2-135M Q4_1 (llama: Q4_1 + Q8_0, norm RoPE, GQA 9/3)', 2e-5],
  ['gemma3', 'Gemma 3 270M Q4_K_M (Q5_0/Q8_0/Q4_K/Q6_K, neox RoPE, q/k norms, post norms, GeGLU, MQA dk=256)', 1e-3]] as const) {
test(`${title} on WebGPU matches the CPU engine (prompt + greedy decode)`, { skip: SKIP, timeout: 15 * 60_000 }, async (t) => {
  const path = await (await fixturesModule()).ensureFixture(fixture);
  const host = await page();
  let t0 = performance.now();
  const gpu = await WebGPULM.load(path, { host, contextSize: 128 });
  t.diagnostic(`load (GGUF parse + fetch + upload): ${(performance.now() - t0).toFixed(0)} ms`);
  const file = parseGGUF(mapFile(path), path);
  const cfg = (await getArch(file.getString('general.architecture'))).configFromGGUF(file);
  const ref32 = new Transformer(cfg, bindWeights(file, cfg), tokenizerFromGGUF(file.metadata), { kernels: f32ActivationKernels(), nCtx: 128 });
  const cpu = await loadModel(path, { contextSize: 128, threads: 1 });
  try {
    const prompt = gpu.tokenizer.encode('The capital of France is');
    let feed: number[] = prompt;
    for (let step = 0; step < 4; step++) {
      t0 = performance.now();
      const g = await gpu.forward(feed);
      const ms = performance.now() - t0;
      const r = ref32.forward(feed).slice();
      const c = cpu.forward(feed).slice();
      const e32 = diff(g.logits, r), eq = diff(g.logits, c);
      const tg = argmax(g.logits), tc = argmax(c);
      t.diagnostic(`${step === 0 ? `prefill ${feed.length} tok` : `decode ${step}`}: ${ms.toFixed(0)} ms (page ${g.pageMs.toFixed(0)} ms); ` +
        `vs f32-activation CPU ${e32.rel.toExponential(2)} of range; vs CPU engine ${eq.rel.toExponential(2)} (abs ${eq.abs.toFixed(3)}); ` +
        `argmax gpu ${tg} cpu ${tc} (cpu margin ${topMargin(c).toFixed(3)})`);
      assert.ok(e32.rel < bound32, `step ${step}: ${e32.rel} vs the f32-activation CPU forward`);
      assert.equal(tg, argmax(r), `step ${step}: greedy token differs from the f32-activation CPU forward`);
      assert.ok(eq.rel < 5e-2, `step ${step}: ${eq.rel} vs the CPU engine`);
      if (tg !== tc) assert.ok(topMargin(c) < 2 * eq.abs, `step ${step}: tokens differ (${tg} vs ${tc}) although the CPU margin ${topMargin(c)} exceeds 2× the logit difference ${eq.abs}`);
      feed = [tg];
    }
    await assert.rejects(gpu.forward([cfg.nVocab]), (e: unknown) => e instanceof RequestError && e.code === 'BAD_TOKEN');
    await assert.rejects(gpu.forward(new Array(200).fill(1)), (e: unknown) => e instanceof RequestError && e.code === 'CONTEXT_OVERFLOW');
    await gpu.truncate(0);
    assert.equal(gpu.nPast, 0);
  } finally {
    await gpu.dispose();
    cpu.dispose();
  }
});
}

test('SmolLM2 on WebGPU: a 70-token prompt (two micro-batches) with logits of every position vs the f32-activation CPU forward', { skip: SKIP, timeout: 15 * 60_000 }, async (t) => {
  const path = await (await fixturesModule()).ensureFixture('smollm2');
  const gpu = await WebGPULM.load(path, { host: await page(), contextSize: 128 });
  try {
    const file = parseGGUF(mapFile(path), path);
    const cfg = (await getArch('llama')).configFromGGUF(file);
    const ref = new Transformer(cfg, bindWeights(file, cfg), tokenizerFromGGUF(file.metadata), { kernels: f32ActivationKernels(), nCtx: 128 });
    const text = 'Bricks of a multimodal model run on the compute unit that suits each of them, chosen from measured device profiles: the vision encoder on the GPU, the language model on the CPU, and the projector wherever the copy costs least, all pipelined. The planner predicts each placement from per-op throughput, launch overhead and transfer costs, then the executor overlaps the devices across successive inputs.';
    const ids = gpu.tokenizer.encode(text).slice(0, 70);
    assert.equal(ids.length, 70, 'prompt shorter than 70 tokens');
    const t0 = performance.now();
    const g = (await gpu.forward(ids, { allLogits: true })).logits;
    const ms = performance.now() - t0;
    const r = ref.forward(ids, { allLogits: true });
    const V = cfg.nVocab;
    let worst = 0, agree = 0;
    for (let p = 0; p < ids.length; p++) {
      const e = diff(g.subarray(p * V, (p + 1) * V), r.subarray(p * V, (p + 1) * V));
      worst = Math.max(worst, e.rel);
      if (argmax(g.subarray(p * V, (p + 1) * V)) === argmax(r.subarray(p * V, (p + 1) * V))) agree++;
    }
    t.diagnostic(`70-token prefill: ${ms.toFixed(0)} ms; worst position ${worst.toExponential(2)} of range; argmax agrees at ${agree}/70 positions`);
    assert.ok(worst < 2e-5, `${worst}`);
    assert.equal(agree, 70);
  } finally {
    await gpu.dispose();
  }
});

