/**
 * The contract between a loaded language model and the generation loop.
 */
import type { LLMConfig } from './config.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';

/** Options of {@link CausalLM.forward}. */
export interface ForwardOptions {
  /** Return logits for every input token ([n, nVocab] row-major) instead of the last one only. */
  allLogits?: boolean;
}

/** A decoder-only LM with its KV cache. */
export interface CausalLM {
  readonly config: LLMConfig;
  readonly tokenizer: Tokenizer;
  /** Context size of the KV cache (tokens). */
  readonly nCtx: number;
  /** Tokens currently held in the KV cache. */
  readonly nPast: number;
  /**
   * Runs `tokens` (int32 ids) at positions [nPast, nPast + n) and appends their K/V to the cache
   * (prefill when n > 1, decode when n = 1).
   * @returns logits float32 [nVocab] of the last token, or [n, nVocab] with `allLogits`.
   *   The returned array may be reused by the next call: copy it to keep it.
   * @throws RequestError when nPast + n exceeds nCtx or an id is outside [0, nVocab).
   */
  forward(tokens: ArrayLike<number>, options?: ForwardOptions): Float32Array;
  /** Drops cached tokens from position `n` on (n ≤ nPast); `truncate(0)` clears the cache. */
  truncate(n: number): void;
  /** Releases native memory held by the model. */
  dispose(): void;
}
