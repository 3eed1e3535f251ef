/**
 * Architecture checks on random-weight F32 checkpoints written with llama.cpp's own gguf-py
 * (scripts/reference/make-random-gguf.py: small dims, real tokenizers): for llama, qwen2, qwen3
 * and gemma3, next-token logits after a prompt and after each greedy step must match llama.cpp
 * (node-llama-cpp's prebuilt binary, live, flash attention off, F32 K/V) to 1e-3 relative error
 * (max |ours - ref| / max |ref|), and 32 greedy tokens must be identical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/models/load.js';
import { llamaCppReference } from '../helpers/llamacpp-ref.js';
import { ensureRandomModel } from '../helpers/random-models.js';
import { ourGreedy, logitDiff, firstDiff } from './fidelity.js';

const TEXTS = [
  'The quick brown fox jumps over the lazy dog.',
  'In 1492, Columbus sailed the ocean blue; numbers like 3.14159 and 42 appear too.',
];

for (const arch of ['llama', 'qwen2', 'qwen3', 'gemma3'] as const) {
  test(`random ${arch} checkpoint matches llama.cpp (logits 1e-3 rel, greedy identical)`, { timeout: 600_000 }, async (t) => {
    const path = await ensureRandomModel(arch);
    const ours = await loadModel(path, { threads: 2, contextSize: 256 });
    const ref = await llamaCppReference(path, { threads: 2, contextSize: 256 });
    try {
      for (const text of TEXTS) {
        const tokens = ours.tokenizer.encode(text, { addSpecial: true });
        const a = ourGreedy(ours, tokens, 32);
        const b = await ref.greedy(tokens, 32);
        const d = logitDiff(a.logits0, b.logits0);
        t.diagnostic(`${arch}: ${tokens.length} prompt tokens, logits rel err ${d.rel.toExponential(2)}, first diff ${firstDiff(a.tokens, b.tokens)}`);
        assert.ok(d.rel <= 1e-3, `${arch}: logits relative error ${d.rel} > 1e-3`);
        assert.deepEqual(a.tokens, b.tokens, `${arch}: greedy tokens differ`);
        // Logits after the whole greedy continuation (exercises the KV cache over many positions).
        const all = [...tokens, ...a.tokens.slice(0, -1)];
        ours.truncate(0);
        const la = ours.forward(all).slice();
        const lb = await ref.logits(all);
        const d2 = logitDiff(la, lb);
        assert.ok(d2.rel <= 1e-3, `${arch}: logits after ${all.length} tokens, relative error ${d2.rel} > 1e-3`);
      }
    } finally {
      ref.dispose();
      ours.dispose();
    }
  });
}
