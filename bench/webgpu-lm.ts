/**
 * Decode/prefill speed of a GGUF LM on the `webgpu` device (headless Chromium; SwiftShader's
 * CPU-emulated adapter on machines without a GPU), with the CPU engine's greedy tokens beside it
 * for agreement. Prints one JSON object.
 *
 *   node dist/bench/webgpu-lm.js [model.gguf] [--prompt TEXT] [--tokens N]
 *
 * Default model: .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf (node scripts/fetch-fixtures.mjs smollm2).
 */
import { join } from 'node:path';
import { WebGPULM } from '../src/backends/webgpu/remote-lm.js';
import { packageRoot } from '../src/core/package-root.js';
import { loadModel } from '../src/models/load.js';

function argmax(x: Float32Array): number {
  let b = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[b]!) b = i;
  return b;
}

const args = process.argv.slice(2);
const opt = (name: string, d: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args.splice(i, 2)[1]! : d;
};
const prompt = opt('--prompt', 'The capital of France is');
const nGen = Number(opt('--tokens', '16'));
const path = args[0] ?? join(packageRoot(), '.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf');

const t0 = performance.now();
const lm = await WebGPULM.load(path, { contextSize: 512 });
const loadMs = performance.now() - t0;
const info = await lm.host.call<Record<string, unknown>>('info');
const ids = lm.tokenizer.encode(prompt);
// Warm-up: compiles every pipeline (SwiftShader JIT) so the timed runs measure kernels only.
await lm.forward(ids);
await lm.forward([ids[0]!]);
await lm.truncate(0);
let r = await lm.forward(ids);
const prefillMs = r.pageMs;
const gpuTokens: number[] = [];
let decodeMs = 0;
for (let i = 0; i < nGen; i++) {
  const t = argmax(r.logits);
  gpuTokens.push(t);
  if (i + 1 === nGen) break;
  r = await lm.forward([t]);
  decodeMs += r.pageMs;
}
await lm.dispose();
const cpu = await loadModel(path, { contextSize: 512, threads: 1 });
const cpuTokens: number[] = [];
let c = cpu.forward(ids);
for (let i = 0; i < nGen; i++) {
  const t = argmax(c);
  cpuTokens.push(t);
  if (i + 1 < nGen) c = cpu.forward([t]);
}
let firstDiff = gpuTokens.findIndex((t, i) => t !== cpuTokens[i]);
console.log(JSON.stringify({
  model: path, adapter: info, prompt_tokens: ids.length, gen_tokens: nGen,
  load_ms: Math.round(loadMs), prefill_ms: Math.round(prefillMs), prefill_tok_s: +(ids.length / (prefillMs / 1000)).toFixed(3),
  decode_ms_per_tok: Math.round(decodeMs / Math.max(1, nGen - 1)), decode_tok_s: +((nGen - 1) / (decodeMs / 1000)).toFixed(3),
  greedy_agree_with_cpu: firstDiff < 0 ? nGen : firstDiff, gpu_text: cpu.tokenizer.decode(gpuTokens), cpu_text: cpu.tokenizer.decode(cpuTokens),
}, null, 1));
