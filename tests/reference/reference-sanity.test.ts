// Sanity of the llama.cpp reference itself: the random-weight checkpoints are valid llama.cpp models
// (finite logits with a real spread, greedy output that is not one repeated token), and the real
// models give plausible text. Everything else that compares against llama.cpp builds on this.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { llamaCppProvenance, llamaCppReference, type LlamaCppReference } from '../helpers/llamacpp-ref.js';
import { fixturesModule } from '../helpers/paths.js';
import { ensureRandomModel, RANDOM_ARCHS } from '../helpers/random-models.js';

function stats(x: Float32Array): { mean: number; std: number; min: number; max: number; finite: boolean } {
  let s = 0, s2 = 0, min = Infinity, max = -Infinity, finite = true;
  for (const v of x) {
    if (!Number.isFinite(v)) finite = false;
    s += v; s2 += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = s / x.length;
  return { mean, std: Math.sqrt(Math.max(0, s2 / x.length - mean * mean)), min, max, finite };
}

function withBos(ref: LlamaCppReference, toks: number[]): number[] {
  return ref.addBos && ref.bos !== null ? [ref.bos, ...toks] : toks;
}

test('llama.cpp reference: bundled source and prebuilt binary are the same release', () => {
  const p = llamaCppProvenance();
  assert.equal(p.sourceTag, p.binariesRelease);
  if (p.prebuiltRelease !== null) assert.equal(p.prebuiltRelease, p.sourceTag);
});

describe('random-weight checkpoints load and run in llama.cpp', () => {
  // Long enough (> 8 tokens) that Gemma 3's local layers (sliding window 8) actually slide.
  const prompt = 'The quick brown fox jumps over the lazy dog. Once upon a time, in a land far away,';
  for (const arch of RANDOM_ARCHS) {
    test(arch, async (t) => {
      const path = await ensureRandomModel(arch);
      const ref = await llamaCppReference(path, { contextSize: 256 });
      try {
        const toks = withBos(ref, ref.tokenize(prompt, false));
        assert.ok(toks.length > 12, `prompt tokenized to ${toks.length} tokens`);
        const logits = await ref.logits(toks);
        assert.equal(logits.length, ref.nVocab);
        const st = stats(logits);
        t.diagnostic(`${arch}: n_vocab ${ref.nVocab}, logits mean ${st.mean.toFixed(3)} std ${st.std.toFixed(3)} range [${st.min.toFixed(2)}, ${st.max.toFixed(2)}]`);
        assert.ok(st.finite, 'all logits finite');
        assert.ok(st.std > 0.5 && st.std < 20, `logit spread ${st.std}`);
        assert.ok(st.max - st.min > 5, 'logit range');

        const g = await ref.greedy(toks, 24);
        t.diagnostic(`${arch}: greedy ${g.tokens.join(' ')} | ${JSON.stringify(ref.detokenize(g.tokens))} | min top1-top2 margin ${Math.min(...g.margins).toExponential(2)}`);
        assert.deepEqual(g.logits0, logits, 'first greedy step reproduces logits() exactly');
        assert.ok(g.tokens.length >= 2, 'generated at least two tokens');
        assert.ok(new Set(g.tokens).size > 1, 'greedy output is not one repeated token');
      } finally {
        await ref.dispose();
      }
    });
  }
});

describe('real models through the reference', () => {
  const opened: LlamaCppReference[] = [];
  after(async () => { for (const r of opened) await r.dispose(); });

  const cases = [
    { key: 'smollm2', expect: /Paris/ },
    { key: 'gemma3', expect: null },
  ];
  for (const c of cases) {
    test(c.key, async (t) => {
      const path = await (await fixturesModule()).ensureFixture(c.key);
      const ref = await llamaCppReference(path, { contextSize: 256 });
      opened.push(ref);
      const toks = withBos(ref, ref.tokenize('The capital of France is', false));
      const g = await ref.greedy(toks, 16);
      const st = stats(g.logits0);
      const text = ref.detokenize(g.tokens);
      t.diagnostic(`${c.key}: prompt ${toks.join(' ')} -> ${g.tokens.join(' ')} | ${JSON.stringify(text)} | logits std ${st.std.toFixed(3)}`);
      console.log(`[${c.key}] The capital of France is${text}`);
      assert.ok(st.finite, 'all logits finite');
      assert.ok(st.std > 0.5, 'logit spread');
      assert.ok(new Set(g.tokens).size > 1, 'not one repeated token');
      if (c.expect) assert.match(text, c.expect);
    });
  }
});
