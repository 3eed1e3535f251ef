/**
 * The vision encoder + projector on the `wasm` device (src/models/vision/kernels.ts, the WASM
 * backend's matmul/GeGLU) against the same model on the native `cpu` kernels, on the random
 * SmolVLM-style checkpoint (scripts/reference/make-random-vlm.py; its cpu embeddings are checked
 * against llama.cpp's mtmd in tests/vision):
 * - default native path (AVX-512 blocked GEMM, another summation order): small relative error;
 * - native forced to its scalar path with the same TypeScript softmax: bit-identical (the WASM
 *   backend's contract is the native scalar bits), so any indexing slip in the provider shows;
 * - the worker-hosted `vision` brick on `wasm` (what the pipelined executor and the planner place).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureVlmCheckpoint, compare } from '../vision/vlm-fixtures.js';
import { native } from '../../src/backends/cpu/native.js';
import { loadVisionModel } from '../../src/models/vision/index.js';
import { nativeVisionKernels, softmaxRowsTs, wasmVisionKernels, visionKernelsFor, type VisionKernels } from '../../src/models/vision/kernels.js';
import { encodeViT } from '../../src/models/vision/encoder.js';
import { project } from '../../src/models/vision/projector.js';
import { visionConfigFromGGUF } from '../../src/models/vision/config.js';
import { visionWeightsFromGGUF } from '../../src/models/vision/weights.js';
import { openGGUF } from '../../src/formats/gguf/reader.js';
import { createVisionWorkerBrick } from '../../src/bricks/vision-host.js';
import type { PortValue } from '../../src/bricks/brick.js';

const flat = (e: { tiles: { data: Float32Array }[] }): Float32Array => {
  const out = new Float32Array(e.tiles.reduce((a, t) => a + t.data.length, 0));
  let o = 0;
  for (const t of e.tiles) { out.set(t.data, o); o += t.data.length; }
  return out;
};

test('vision on wasm: embeddings of both images within 1e-4 relative of the native cpu ones (AVX-512 sums in another order)', async () => {
  const dir = await ensureVlmCheckpoint('smolvlm');
  const mmproj = join(dir, 'mmproj.gguf');
  const cpu = await loadVisionModel(mmproj, { device: 'cpu', threads: 1 });
  const wasm = await loadVisionModel(mmproj, { device: 'wasm' });
  assert.equal(wasm.device, 'wasm');
  assert.equal(cpu.device, 'cpu');
  for (const f of ['image.png', 'image2.png']) {
    const bytes = new Uint8Array(readFileSync(join(dir, f)));
    const a = await cpu.encode(bytes);
    const b = await wasm.encode(bytes);
    assert.deepEqual(b.grid, a.grid);
    assert.equal(b.tiles.length, a.tiles.length);
    const { rel, maxAbs } = compare(flat(b), flat(a));
    console.log(`# ${f}: ${a.tiles.length} tiles, wasm vs cpu rel ${rel.toExponential(2)}, max abs ${maxAbs.toExponential(2)}`);
    assert.ok(rel < 1e-4, `rel ${rel}`);
    assert.ok(rel > 0 || native().getPath() !== 'avx512', 'different summation orders are expected to leave some difference on the AVX-512 path');
  }
});

test('vision on wasm equals the native scalar path bit for bit (same softmax)', async () => {
  const dir = await ensureVlmCheckpoint('smolvlm');
  const f = openGGUF(join(dir, 'mmproj.gguf'));
  const cfg = visionConfigFromGGUF(f);
  const w = visionWeightsFromGGUF(f, cfg);
  const model = await loadVisionModel(join(dir, 'mmproj.gguf'), { device: 'cpu' });
  const pre = await model.preprocess(new Uint8Array(readFileSync(join(dir, 'image.png'))));
  const wk = await wasmVisionKernels();
  const nk = nativeVisionKernels();
  const scalarTsSoftmax: VisionKernels = { ...nk, softmaxRows: softmaxRowsTs };
  const k = native();
  const prev = k.getPath();
  k.setPath('scalar');
  try {
    let tiles = 0;
    for (const tile of pre.tiles) {
      const want = project(cfg, w.projector, encodeViT(cfg, w, tile, scalarTsSoftmax), scalarTsSoftmax);
      const got = project(cfg, w.projector, encodeViT(cfg, w, tile, wk), wk);
      assert.equal(got.length, want.length);
      assert.ok(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength)), `tile ${tiles} differs`);
      tiles++;
    }
    assert.equal(tiles, 5, '192x192 image: 2x2 grid + overview');
  } finally {
    k.setPath(prev);
  }
});

test('vision brick hosted in a wasm worker: same grid, embeddings within 1e-4 of the cpu worker; unknown device is a typed error', async () => {
  const dir = await ensureVlmCheckpoint('smolvlm');
  const mmproj = join(dir, 'mmproj.gguf');
  const bytes = new Uint8Array(readFileSync(join(dir, 'image2.png')));
  const input = { image: { kind: 'tensor', dtype: 'u8', data: bytes, shape: [bytes.length] } as PortValue };
  const outs: Record<string, PortValue>[] = [];
  for (const dev of ['cpu', 'wasm']) {
    const b = await createVisionWorkerBrick({ kind: 'vision', name: 'vision', mmproj }, dev, { threads: 1 });
    try {
      assert.equal(b.device, dev);
      outs.push(await b.run(input));
    } finally {
      b.dispose();
    }
  }
  const [c, wv] = outs as [Record<string, PortValue>, Record<string, PortValue>];
  assert.ok(c.embeddings?.kind === 'embeddings' && wv.embeddings?.kind === 'embeddings');
  assert.deepEqual(wv.embeddings.shape, c.embeddings.shape);
  assert.deepEqual([...(wv.grid as { data: Int32Array }).data], [...(c.grid as { data: Int32Array }).data]);
  assert.ok(compare(wv.embeddings.data, c.embeddings.data).rel < 1e-4);
  await assert.rejects(createVisionWorkerBrick({ kind: 'vision', name: 'vision', mmproj }, 'webgpu'), { name: 'BackendError' });
  await assert.rejects(visionKernelsFor('npu'), { name: 'BackendError', code: 'BACKEND_UNAVAILABLE' });
});

test('loadModel({ mmproj, visionDevice: "wasm" }) generates the greedy tokens of the cpu vision model (native scalar path)', async () => {
  const { loadModel } = await import('../../src/models/load.js');
  const { generateText } = await import('../../src/generation/generate.js');
  const dir = await ensureVlmCheckpoint('smolvlm');
  const k = native();
  const prev = k.getPath();
  k.setPath('scalar');
  try {
    const toks: number[][] = [];
    for (const visionDevice of ['cpu', 'wasm'] as const) {
      const m = await loadModel(join(dir, 'model.gguf'), { mmproj: join(dir, 'mmproj.gguf'), visionDevice, threads: 1, contextSize: 2048 });
      try {
        assert.equal(m.vision?.device, visionDevice);
        const r = await generateText(m, { prompt: 'Describe the image.', images: [join(dir, 'image2.png')], chat: false, maxTokens: 8, temperature: 0, seed: 1 });
        toks.push(r.tokens);
      } finally {
        m.dispose();
      }
    }
    assert.ok(toks[0]!.length > 0);
    assert.deepEqual(toks[1], toks[0]);
  } finally {
    k.setPath(prev);
  }
});
