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

/** Options of {@link CausalLM.forwardEmbeddings}. */
export interface EmbeddingsForwardOptions extends ForwardOptions {
  /**
   * Let the rows of this batch attend to each other in both directions (llama.cpp
   * `llama_set_causal_attn(ctx, false)`; mtmd does this for Gemma 3 image chunks,
   * tools/mtmd/mtmd.cpp `mtmd_decode_use_non_causal`). The batch must fit one micro-batch.
   */
  nonCausal?: boolean;
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
  /**
   * Optional (multimodal input): runs `n` input embeddings (float32 [n, nEmbd], e.g. projected image patches) at positions
   * [nPast, nPast + n) in place of token embeddings; no embedding scale is applied (as llama.cpp
   * does for `llama_batch.embd`).
   * @returns logits as {@link forward}.
   * @throws ShapeError when `embd.length !== n * nEmbd`; RequestError on context overflow or a
   *   non-causal batch larger than one micro-batch.
   */
  forwardEmbeddings?(embd: Float32Array, n: number, options?: EmbeddingsForwardOptions): Float32Array;
  /** Drops cached tokens from position `n` on (n ≤ nPast); `truncate(0)` clears the cache. */
  truncate(n: number): void;
  /** Releases native memory held by the model. */
  dispose(): void;
}
