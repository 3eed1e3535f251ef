/**
 * Shared helpers of the fidelity tests: run our engine and llama.cpp (node-llama-cpp's prebuilt
 * binary, flash attention off, F32 K/V: see tests/helpers/llamacpp-ref.ts) on identical token
 * input and compare next-token logits and greedy continuations.
 */
import type { CausalLM } from '../../src/models/causal-lm.js';

/** Argmax with ties to the lowest id (llama.cpp's greedy sampler). */
export function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/** Margin between the top-1 and top-2 logits. */
export function top2Margin(x: Float32Array): number {
  let a = -Infinity, b = -Infinity;
  for (const v of x) {
    if (v > a) { b = a; a = v; } else if (v > b) b = v;
  }
  return a - b;
}

/** max |a - b| and max |b| over the vocabulary. */
export function logitDiff(a: Float32Array, b: Float32Array): { maxAbs: number; maxRef: number; rel: number } {
  let maxAbs = 0, maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(a[i]! - b[i]!));
    maxRef = Math.max(maxRef, Math.abs(b[i]!));
  }
  return { maxAbs, maxRef, rel: maxAbs / maxRef };
}

/** Greedy decoding with our engine; stops after `n` tokens or at an end-of-generation token. */
export function ourGreedy(model: CausalLM, prompt: number[], n: number): { tokens: number[]; logits0: Float32Array; margins: number[] } {
  model.truncate(0);
  let logits = model.forward(prompt);
  const logits0 = logits.slice();
  const tokens: number[] = [];
  const margins: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = argmax(logits);
    margins.push(top2Margin(logits));
    tokens.push(t);
    if (model.tokenizer.isEog(t)) break;
    if (i + 1 < n) logits = model.forward([t]);
  }
  return { tokens, logits0, margins };
}

/** Index of the first difference of two sequences, or -1. */
export function firstDiff(a: number[], b: number[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}
