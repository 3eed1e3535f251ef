/**
 * Embedding input to the decoder (CausalLM.forwardEmbeddings), on the random llama and gemma3
 * checkpoints written by llama.cpp's gguf-py (tests/helpers/random-models.ts):
 * - feeding the token-embedding rows as embeddings gives bit-identical logits to feeding the ids
 *   (gemma3: llama.cpp scales only token input by sqrt(n_embd), so the rows are pre-scaled here);
 * - a non-causal batch changes the first row's logits (it now sees later rows), and a one-row
 *   non-causal batch equals the causal one (full correctness of non-causal image batches is
 *   checked end to end against llama-mtmd-cli on the Gemma-3-style checkpoint);
 * - shape and size errors are typed.
 * The end-to-end check of image embeddings against llama.cpp's mtmd is tests/multimodal/vlm.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/models/load.js';
import { openGGUF } from '../../src/formats/gguf/reader.js';
import { native } from '../../src/backends/cpu/native.js';
import { RequestError, ShapeError } from '../../src/core/errors.js';
import { ensureRandomModel } from '../helpers/random-models.js';

/** Token-embedding rows (F32 checkpoint) for `ids`, float32 [n, d]. */
function embedRows(path: string, ids: number[], d: number): Float32Array {
  const f = openGGUF(path);
  const t = f.tensors.find((x) => x.name === 'token_embd.weight')!;
  const out = new Float32Array(ids.length * d);
  native().getRows(t.type, f.tensorData(t), d, Int32Array.from(ids), out);
  return out;
}

for (const arch of ['llama', 'gemma3'] as const) {
  test(`${arch}: embeddings input equals token input bit for bit`, async () => {
    const path = await ensureRandomModel(arch);
    const m = await loadModel(path, { threads: 2, contextSize: 256 });
    const d = m.config.nEmbd;
    const ids = [1, 17, 33, 5, 99, 250, 7, 3];
    const a = Float32Array.from(m.forward(ids, { allLogits: true }));
    m.truncate(0);
    const e = embedRows(path, ids, d);
    if (m.config.embedScale) {
      const s = Math.fround(Math.sqrt(d));
      for (let i = 0; i < e.length; i++) e[i] = Math.fround(e[i]! * s);
    }
    const b = Float32Array.from(m.forwardEmbeddings!(e, ids.length, { allLogits: true }));
    assert.equal(b.length, a.length);
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    assert.equal(maxDiff, 0, `max |Δlogit| ${maxDiff}`);
    // Mixed: text prefix by ids, then embeddings, continue by ids — same as all ids.
    m.truncate(0);
    m.forward(ids.slice(0, 3));
    m.forwardEmbeddings!(e.subarray(3 * d, 6 * d), 3);
    const c = Float32Array.from(m.forward(ids.slice(6)));
    const lastA = a.subarray((ids.length - 1) * m.config.nVocab);
    for (let i = 0; i < c.length; i++) assert.equal(c[i], lastA[i]);
    m.dispose();
  });
}

test('non-causal embeddings batch: earlier rows see later ones; one row equals causal', async () => {
  const path = await ensureRandomModel('gemma3');
  const m = await loadModel(path, { threads: 2, contextSize: 256 });
  const d = m.config.nEmbd;
  const V = m.config.nVocab;
  const ids = [2, 40, 41, 42, 43, 44];
  const e = embedRows(path, ids, d);
  m.forward([1]);
  const causal = Float32Array.from(m.forwardEmbeddings!(e, ids.length, { allLogits: true }));
  m.truncate(0);
  m.forward([1]);
  const nc = Float32Array.from(m.forwardEmbeddings!(e, ids.length, { allLogits: true, nonCausal: true }));
  let firstDiff = 0;
  for (let i = 0; i < V; i++) firstDiff = Math.max(firstDiff, Math.abs(causal[i]! - nc[i]!));
  assert.ok(firstDiff > 1e-4, `row 0 must see later rows when non-causal (max Δ ${firstDiff})`);
  // One row: non-causal = causal.
  m.truncate(1);
  const one = Float32Array.from(m.forwardEmbeddings!(e.subarray(0, d), 1, { nonCausal: true }));
  for (let i = 0; i < V; i++) assert.equal(one[i], causal[i]);
  m.dispose();
});

test('forwardEmbeddings rejects wrong shapes and overflow with typed errors', async () => {
  const m = await loadModel(await ensureRandomModel('llama'), { threads: 1, contextSize: 8 });
  const d = m.config.nEmbd;
  assert.throws(() => m.forwardEmbeddings!(new Float32Array(d * 2 - 1), 2), ShapeError);
  assert.throws(() => m.forwardEmbeddings!(new Float32Array(0), 0), RequestError);
  assert.throws(() => m.forwardEmbeddings!(new Float32Array(d * 9), 9), (e: unknown) => e instanceof RequestError && e.code === 'CONTEXT_OVERFLOW');
  m.dispose();
});
