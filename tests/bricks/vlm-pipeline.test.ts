/**
 * The VLM as two worker-hosted bricks — vision encoder + projector on `cpu`, the LM on `cpu` or
 * `wasm` — run by the pipelined executor over a stream of images, against the in-process path of
 * the same random SmolVLM-style checkpoint (`loadModel(lm, { mmproj })` + `generateText` with
 * images; that path is itself checked against llama.cpp's mtmd in tests/vision). Greedy tokens must
 * be identical: the native kernels are forced to the scalar path (process-wide), which the wasm
 * kernels reproduce bit for bit, so the hand-off of embeddings between workers must be lossless.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureVlmCheckpoint } from '../vision/vlm-fixtures.js';
import { native } from '../../src/backends/cpu/native.js';
import { loadModel } from '../../src/models/load.js';
import { generateText } from '../../src/generation/generate.js';
import { PipelineExecutor, type StageSpec } from '../../src/bricks/executor.js';
import { createVisionWorkerBrick } from '../../src/bricks/vision-host.js';
import { createLmBrick, type LmBrickSpec } from '../../src/bricks/lm-brick.js';
import { visionConfigFromGGUF } from '../../src/models/vision/config.js';
import { openGGUF } from '../../src/formats/gguf/reader.js';
import type { PortValues } from '../../src/bricks/brick.js';

const open: PipelineExecutor[] = [];
after(async () => {
  for (const e of open) await e.dispose();
});

test('vision (cpu worker) → LM (cpu or wasm worker) gives the in-process VLM tokens', async () => {
  const dir = await ensureVlmCheckpoint('smolvlm');
  const model = join(dir, 'model.gguf'), mmproj = join(dir, 'mmproj.gguf');
  const images = ['image.png', 'image2.png'].map((f) => new Uint8Array(readFileSync(join(dir, f))));
  native().setPath('scalar');
  const prompt = 'Describe the image.';
  const ref = await loadModel(model, { mmproj, threads: 1, contextSize: 2048 });
  const want: number[][] = [];
  for (const img of images) want.push((await generateText(ref, { prompt, images: [img], chat: false, maxTokens: 8, temperature: 0, seed: 1 })).tokens);
  ref.dispose();
  assert.ok(want.every((w) => w.length > 0), 'reference generated tokens');

  const cfg = visionConfigFromGGUF(openGGUF(mmproj));
  const lm: LmBrickSpec = { kind: 'lm', name: 'lm', model, maxTokens: 8, chat: false, contextSize: 2048, image: { projector: cfg.projector, nEmbdOut: cfg.nEmbdOut } };
  const stages: StageSpec[] = [
    { name: 'vision', devices: ['cpu'], create: (d) => createVisionWorkerBrick({ kind: 'vision', name: 'vision', mmproj }, d, { threads: 1, kernelPath: 'scalar' }) },
    { name: 'lm', devices: ['cpu', 'wasm'], create: (d) => createLmBrick(lm, d, { threads: 1, kernelPath: 'scalar' }) },
  ];
  const inputs: PortValues[] = [0, 1, 0, 1].map((i) => ({
    image: { kind: 'tensor', dtype: 'u8', data: images[i]!, shape: [images[i]!.length] }, prompt: { kind: 'text', text: prompt },
  }));
  for (const lmDev of ['cpu', 'wasm']) {
    const ex = new PipelineExecutor(stages, { placement: { vision: 'cpu', lm: lmDev }, mode: 'pipelined', log: (l) => console.log(`# ${l}`) });
    open.push(ex);
    const r = await ex.runAll(inputs);
    assert.equal(r.results.length, 4);
    r.results.forEach((it, k) => {
      const toks = it.outputs.tokens;
      assert.ok(toks && toks.kind === 'tokens');
      assert.deepEqual([...toks.data], want[k % 2], `lm on ${lmDev}, item ${k}`);
      assert.equal(it.devices.lm, lmDev);
    });
    console.log(`# vision→lm(${lmDev}): ${r.wallMs.toFixed(0)} ms for 4 images; brick ms ${JSON.stringify(r.brickMs)}`);
  }
});
