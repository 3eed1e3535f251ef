/**
 * The internal hyperparameters of a decoder-only language model, filled from GGUF metadata
 * (`{arch}.*` keys, llama.cpp src/llama-model.cpp `load_hparams`) or from a Hugging Face
 * `config.json` (src/formats/hf/). Field names follow llama.cpp's `llama_hparams`.
 */

/** RoPE variant: `norm` rotates pairs (2i, 2i+1) (llama); `neox` rotates (i, i+d/2) (qwen2/3, gemma3). */
export type RopeType = 'norm' | 'neox';

/** RoPE frequency scaling (GGUF `{arch}.rope.scaling.*`, HF `rope_scaling`). */
export interface RopeScaling {
  type: 'none' | 'linear' | 'yarn' | 'llama3';
  /** Scale factor (context extension factor). */
  factor: number;
  /** Context length the model was trained with before extension (tokens). */
  originalContext: number;
  /** llama3 / yarn parameters where present. */
  lowFreqFactor?: number;
  highFreqFactor?: number;
  yarnBetaFast?: number;
  yarnBetaSlow?: number;
  yarnExtFactor?: number;
  yarnAttnFactor?: number;
}

/** Hyperparameters of a decoder-only transformer LM. */
export interface LLMConfig {
  /** Architecture string as in GGUF `general.architecture`: `llama`, `qwen2`, `qwen3`, `gemma3`. */
  arch: string;
  /** Model name for display (GGUF `general.name`). */
  name: string;
  nVocab: number;
  /** Training context length (tokens). */
  nCtxTrain: number;
  /** Model width d. */
  nEmbd: number;
  nLayer: number;
  /** Query heads. */
  nHead: number;
  /** Key/value heads (GQA when < nHead). */
  nHeadKv: number;
  /** Per-head dimension of K (and Q). */
  headDimK: number;
  /** Per-head dimension of V. */
  headDimV: number;
  /** MLP hidden size. */
  nFF: number;
  /** RMSNorm epsilon. */
  rmsEps: number;
  ropeType: RopeType;
  /** Dimensions rotated per head (≤ headDimK). */
  ropeDim: number;
  ropeFreqBase: number;
  /** RoPE base for sliding-window (local) layers (gemma3 `rope.freq_base_swa`, default 10000). */
  ropeFreqBaseSwa?: number;
  ropeScaling: RopeScaling;
  /** Sliding window size in tokens for local layers (0 = none). */
  slidingWindow: number;
  /** Layer i is local (sliding) when `swaPattern > 1 && i % swaPattern < swaPattern - 1` (gemma3). */
  swaPattern: number;
  /** Attention score scale; default 1/sqrt(headDimK). gemma3 uses query_pre_attn_scalar^-0.5. */
  attnScale: number;
  /** Apply attnScale to q before attention (ggml_scale, gemma3) instead of inside the softmax; the softmax then uses 1. */
  scaleQ: boolean;
  /** Logit soft-capping (gemma2-style); 0 = none. */
  finalLogitSoftcap: number;
  /** Multiply token embeddings by sqrt(nEmbd) (gemma). */
  embedScale: boolean;
  /** MLP activation: `silu` (SwiGLU) or `gelu` (GeGLU, tanh approximation). */
  activation: 'silu' | 'gelu';
  /** Per-head RMSNorm on q and k (qwen3, gemma3). */
  qkNorm: boolean;
  /** Extra RMSNorm after attention and after the MLP (gemma3 `post_attention_norm`, `post_ffw_norm`). */
  postNorms: boolean;
  /** Whether q/k/v projections carry biases (qwen2). */
  qkvBias: boolean;
  /** Output projection shares the token embedding matrix. */
  tiedEmbeddings: boolean;
}
