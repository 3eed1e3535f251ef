import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Candidates } from '../../src/generation/candidates.js';
import {
  Sampler, PenaltyWindow, applyMinP, applyTopK, applyTopP, argmaxLowestId, resolveSamplingOptions, DEFAULT_SAMPLING,
} from '../../src/generation/samplers.js';
import { Mt19937 } from '../../src/generation/rng.js';
import { RequestError } from '../../src/core/errors.js';

function randomLogits(n: number, seed: number, scale = 4): Float32Array {
  const g = new Mt19937(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = (g.nextFloat() - 0.5) * scale;
  return x;
}

/** Logits whose softmax is exactly proportional to `probs`. */
function logitsOf(probs: number[]): Float32Array {
  return Float32Array.from(probs, (p) => Math.log(p));
}

function live(c: Candidates): number[] {
  return Array.from(c.ids.subarray(0, c.size));
}

function histogram(s: Sampler, logits: Float32Array, n: number): Map<number, number> {
  const h = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const id = s.sample(logits);
    h.set(id, (h.get(id) ?? 0) + 1);
  }
  return h;
}

test('defaults are llama.cpp common_params_sampling defaults', () => {
  assert.deepEqual({ ...DEFAULT_SAMPLING }, {
    temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1, repeatLastN: 64, frequencyPenalty: 0, presencePenalty: 0,
  });
});

test('keepTop / sortAll: heap selection equals a full sort (ties by lowest id)', () => {
  const n = 3000;
  const x = randomLogits(n, 1);
  x[10] = x[20] = x[30] = 5; // ties at the top
  x[40] = x[41] = -Infinity;
  x[50] = -0;
  x[51] = 0;
  x[52] = -1e-30;
  x[53] = 3.4e38;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[b]! - x[a]! || a - b);
  for (const k of [1, 3, 40, 1000, 1500, n]) {
    const c = new Candidates(n);
    c.load(x);
    c.keepTop(k);
    assert.deepEqual(live(c), order.slice(0, k), `k=${k}`);
    assert.ok(c.sorted);
  }
  const c = new Candidates(n);
  c.load(x);
  c.sortAll();
  assert.deepEqual(live(c), order);
});

test('top-k = 1 equals greedy for any seed and temperature', () => {
  for (let trial = 0; trial < 20; trial++) {
    const x = randomLogits(500, 100 + trial);
    const greedy = argmaxLowestId(x);
    const s = new Sampler(500, { topK: 1, temperature: 1.5, seed: trial, topP: 1, minP: 0 });
    for (let i = 0; i < 5; i++) assert.equal(s.sample(x), greedy);
  }
});

test('temperature 0 is greedy with ties to the lowest id; never consumes the logits', () => {
  const x = new Float32Array([0, 3, 1, 3, -1]);
  const s = new Sampler(5, { temperature: 0 });
  assert.equal(s.sample(x), 1);
  assert.deepEqual(Array.from(x), [0, 3, 1, 3, -1]);
  const neg = new Float32Array([-5, -2, -2, -9]);
  assert.equal(new Sampler(4, { temperature: -1 }).sample(neg), 1);
});

test('temperature → 0⁺ concentrates on the argmax; temperature scales log-odds', () => {
  const x = randomLogits(200, 9, 1);
  const greedy = argmaxLowestId(x);
  x[greedy]! += 0.05; // a clear gap: at T = 1e-3 the runner-up has odds < e^-50
  const cold = new Sampler(200, { temperature: 1e-3, topK: 0, topP: 1, minP: 0, seed: 3 });
  for (let i = 0; i < 200; i++) assert.equal(cold.sample(x), greedy);
  // p ∝ exp(l/T): logits [0, ln 4] give odds 4:1 at T=1 and 2:1 at T=2.
  const two = new Float32Array([0, Math.log(4)]);
  const h1 = histogram(new Sampler(2, { temperature: 1, topK: 0, topP: 1, minP: 0, seed: 5 }), two, 20000);
  const h2 = histogram(new Sampler(2, { temperature: 2, topK: 0, topP: 1, minP: 0, seed: 5 }), two, 20000);
  assert.ok(Math.abs(h1.get(1)! / 20000 - 0.8) < 0.015, `T=1: ${h1.get(1)}`);
  assert.ok(Math.abs(h2.get(1)! / 20000 - 2 / 3) < 0.015, `T=2: ${h2.get(1)}`);
});

test('top-p keeps the minimal descending prefix with mass ≥ p', () => {
  const x = logitsOf([0.15, 0.5, 0.05, 0.3]);
  const keep = (p: number): number[] => {
    const c = new Candidates(4);
    c.load(x);
    applyTopP(c, p);
    return live(c);
  };
  assert.deepEqual(keep(0.4), [1]);
  assert.deepEqual(keep(0.75), [1, 3]);
  assert.deepEqual(keep(0.9), [1, 3, 0]);
  assert.deepEqual(keep(0.99), [1, 3, 0, 2]);
  assert.deepEqual(keep(1), [0, 1, 2, 3]); // disabled: untouched, unsorted
  // Sampling frequencies renormalise over the kept set: 0.5 / 0.8 and 0.3 / 0.8.
  const h = histogram(new Sampler(4, { temperature: 1, topK: 0, topP: 0.75, minP: 0, seed: 11 }), x, 20000);
  assert.deepEqual([...h.keys()].sort(), [1, 3]);
  assert.ok(Math.abs(h.get(1)! / 20000 - 0.625) < 0.015, `${h.get(1)}`);
});

test('top-p on large vocabularies: the top-256 shortcut and the full-sort fallback agree with a reference', () => {
  const n = 5000;
  for (const [scale, p] of [[40, 0.9], [0.01, 0.5], [3, 0.95]] as const) {
    const x = randomLogits(n, 77, scale);
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[b]! - x[a]! || a - b);
    const max = x[order[0]!]!;
    let z = 0;
    for (const v of x) z += Math.exp(v - max);
    let cum = 0, m = 0;
    while (m < n) { cum += Math.exp(x[order[m]!]! - max) / z; m++; if (cum >= p) break; }
    const c = new Candidates(n);
    c.load(x);
    applyTopP(c, p);
    assert.deepEqual(live(c), order.slice(0, m), `scale=${scale} p=${p} kept ${c.size}, want ${m}`);
  }
});

test('min-p keeps exactly the tokens with p ≥ minP · p_max', () => {
  const probs = [0.4, 0.05, 0.2, 0.039, 0.041, 0.27];
  const x = logitsOf(probs);
  const c = new Candidates(6);
  c.load(x);
  applyMinP(c, 0.1); // threshold 0.04
  assert.deepEqual(live(c).sort(), [0, 1, 2, 4, 5]);
  const d = new Candidates(6);
  d.load(x);
  applyMinP(d, 0);
  assert.equal(d.size, 6);
  const h = histogram(new Sampler(6, { temperature: 1, topK: 0, topP: 1, minP: 0.6, seed: 2 }), x, 5000);
  assert.deepEqual([...h.keys()].sort(), [0, 5]); // 0.27 ≥ 0.24, 0.2 < 0.24
});

test('top-k then top-p then min-p chain order: top-k limits what top-p normalises over', () => {
  const x = logitsOf([0.4, 0.3, 0.2, 0.1]);
  const c = new Candidates(4);
  c.load(x);
  applyTopK(c, 2); // {0: 4/7, 1: 3/7}
  applyTopP(c, 0.5);
  assert.deepEqual(live(c), [0]);
});

test('repetition penalty: llama.cpp semantics (divide positive, multiply negative) over the last N tokens', () => {
  const w = new PenaltyWindow(6, 3);
  for (const t of [0, 1, 1, 2]) w.accept(t); // window [1, 1, 2]: 0 fell out
  assert.equal(w.count(0), 0);
  assert.equal(w.count(1), 2);
  const x = new Float32Array([2, 2, -2, 1, 0, 0]);
  w.apply(x, 2, 0.5, 0.25);
  // id 1: 2/2 - 2·0.5 - 0.25 = -0.25; id 2: -2·2 - 0.5 - 0.25 = -4.75; id 0 untouched.
  assert.deepEqual(Array.from(x), [2, -0.25, -4.75, 1, 0, 0]);
  w.reset();
  const y = new Float32Array([2, 2, -2, 1, 0, 0]);
  w.apply(y, 2, 0.5, 0.25);
  assert.deepEqual(Array.from(y), [2, 2, -2, 1, 0, 0]);
  const off = new PenaltyWindow(6, 0);
  off.accept(1);
  const z = new Float32Array([1, 1, 1, 1, 1, 1]);
  off.apply(z, 2, 1, 1);
  assert.deepEqual(Array.from(z), [1, 1, 1, 1, 1, 1]);
});

test('repeat penalty changes a greedy choice inside the sampler', () => {
  const x = new Float32Array([1.0, 0.9, 0]);
  const s = new Sampler(3, { temperature: 0, repeatPenalty: 1.5 });
  assert.equal(s.sample(x), 0);
  s.accept(0);
  assert.equal(s.sample(x), 1); // 1.0/1.5 < 0.9
});

test('seed reproducibility and different seeds differ', () => {
  const x = randomLogits(300, 5, 2);
  const run = (seed: number): number[] => {
    const s = new Sampler(300, { seed, topK: 0, topP: 1, minP: 0, temperature: 1 });
    return Array.from({ length: 50 }, () => s.sample(x));
  };
  assert.deepEqual(run(123), run(123));
  assert.notDeepEqual(run(123), run(124));
  assert.equal(new Sampler(300, { seed: 9 }).seed, 9);
});

test('option validation throws RequestError', () => {
  for (const bad of [{ topP: 1.5 }, { topP: -0.1 }, { minP: 2 }, { repeatPenalty: 0 }, { temperature: NaN }, { topK: 1.5 }, { repeatLastN: -2 }, { seed: -1 }]) {
    assert.throws(() => resolveSamplingOptions(bad), (e: unknown) => e instanceof RequestError && e.code === 'BAD_SAMPLING_OPTION', JSON.stringify(bad));
  }
  assert.equal(resolveSamplingOptions({ topK: undefined }).topK, 40);
  assert.throws(() => new Sampler(3).sample(new Float32Array(4)), RangeError);
});
