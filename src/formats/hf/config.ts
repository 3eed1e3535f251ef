/**
 * Hugging Face `config.json` → {@link LLMConfig} for LlamaForCausalLM, Qwen2ForCausalLM,
 * Qwen3ForCausalLM and Gemma3ForCausalLM (`gemma3_text`, also the text part of
 * Gemma3ForConditionalGeneration).
 *
 * The result matches what llama.cpp derives from the GGUF that llama.cpp's
 * convert_hf_to_gguf.py writes for the same checkpoint (conversion/base.py
 * `TextModel.set_gguf_parameters`, conversion/gemma.py `Gemma3Model`, src/models/*.cpp
 * `load_arch_hparams`), with Hugging Face's class defaults (transformers `LlamaConfig`,
 * `Qwen2Config`, `Qwen3Config`, `Gemma3TextConfig`) where a key is absent.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ModelFormatError, UnsupportedArchitectureError } from '../../core/errors.js';
import type { LLMConfig, RopeScaling } from '../../models/config.js';

/** Architectures this module maps, by HF class name and by `model_type`. */
const ARCH_BY_CLASS: Record<string, string> = {
  LlamaForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
  Qwen3ForCausalLM: 'qwen3',
  Gemma3ForCausalLM: 'gemma3',
  Gemma3ForConditionalGeneration: 'gemma3',
};
/**
 * Vision-language wrappers whose language model is described by `text_config` (the vision tower
 * and projector are loaded by src/models/vision from the same folder).
 */
const VLM_WRAPPERS = new Set(['Idefics3ForConditionalGeneration', 'SmolVLMForConditionalGeneration', 'LlavaForConditionalGeneration', 'Gemma3ForConditionalGeneration']);
const ARCH_BY_MODEL_TYPE: Record<string, string> = { llama: 'llama', qwen2: 'qwen2', qwen3: 'qwen3', gemma3_text: 'gemma3', gemma3: 'gemma3' };

/** HF activation names → LLMConfig activation. */
const ACTIVATIONS: Record<string, 'silu' | 'gelu'> = {
  silu: 'silu',
  swish: 'silu',
  gelu_pytorch_tanh: 'gelu',
  gelu_new: 'gelu',
  gelu_fast: 'gelu',
  gelu: 'gelu',
};

/** Options of {@link llmConfigFromHF}. */
export interface HFConfigOptions {
  /**
   * Names of the checkpoint's tensors. When given, `tiedEmbeddings` is true exactly when there
   * is no `lm_head.weight` (what convert_hf_to_gguf.py effectively does: no `output.weight` is
   * written and llama.cpp falls back to `token_embd`).
   */
  tensorNames?: Iterable<string>;
  /** Display name; defaults to `_name_or_path`, else the architecture. */
  name?: string;
}

type Json = Record<string, unknown>;

function num(cfg: Json, key: string, def?: number): number {
  const v = cfg[key];
  if (v === undefined || v === null) {
    if (def !== undefined) return def;
    throw new ModelFormatError('HF_CONFIG_MISSING_KEY', `config.json: required key "${key}" is missing`);
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ModelFormatError('HF_CONFIG_BAD_VALUE', `config.json: "${key}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function int(cfg: Json, key: string, def?: number): number {
  const v = num(cfg, key, def);
  if (!Number.isSafeInteger(v) || v <= 0) throw new ModelFormatError('HF_CONFIG_BAD_VALUE', `config.json: "${key}" must be a positive integer, got ${v}`);
  return v;
}

function obj(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

/** Resolve the architecture string, or throw UnsupportedArchitectureError. */
function detectArch(cfg: Json): string {
  const classes = Array.isArray(cfg.architectures) ? (cfg.architectures as unknown[]).filter((x): x is string => typeof x === 'string') : [];
  for (const c of classes) if (ARCH_BY_CLASS[c]) return ARCH_BY_CLASS[c];
  const mt = typeof cfg.model_type === 'string' ? cfg.model_type : '';
  if (classes.length === 0 && ARCH_BY_MODEL_TYPE[mt]) return ARCH_BY_MODEL_TYPE[mt];
  throw new UnsupportedArchitectureError(
    'UNSUPPORTED_ARCHITECTURE',
    `config.json: architecture ${JSON.stringify(classes)} / model_type "${mt}" is not supported (supported: ${Object.keys(ARCH_BY_CLASS).join(', ')})`,
  );
}

/**
 * RoPE parameters: newer transformers write `rope_parameters` (optionally split into
 * `full_attention` / `sliding_attention`), older ones `rope_theta` + `rope_scaling`
 * (conversion/base.py mirrors both into one dict the same way).
 */
function ropeParams(cfg: Json): { full: Json; sliding: Json } {
  const rp = obj(cfg.rope_parameters) ?? obj(cfg.rope_scaling) ?? {};
  const full = { ...(obj(rp.full_attention) ?? rp) };
  if (full.rope_theta === undefined && cfg.rope_theta !== undefined) full.rope_theta = cfg.rope_theta;
  if (full.rope_type === undefined && full.type !== undefined) full.rope_type = full.type;
  const sliding = { ...(obj(rp.sliding_attention) ?? {}) };
  if (sliding.rope_theta === undefined && cfg.rope_local_base_freq !== undefined) sliding.rope_theta = cfg.rope_local_base_freq;
  return { full, sliding };
}

function ropeScaling(p: Json, nCtxTrain: number): RopeScaling {
  const type = typeof p.rope_type === 'string' ? p.rope_type.toLowerCase() : 'default';
  const factor = typeof p.factor === 'number' ? p.factor : 1;
  const orig = typeof p.original_max_position_embeddings === 'number' ? p.original_max_position_embeddings : nCtxTrain;
  const opt = (k: string) => (typeof p[k] === 'number' ? (p[k] as number) : undefined);
  switch (type) {
    case 'default':
      return { type: 'none', factor: 1, originalContext: nCtxTrain };
    case 'linear':
      return { type: 'linear', factor, originalContext: orig };
    case 'yarn':
      return {
        type: 'yarn',
        factor,
        originalContext: orig,
        yarnBetaFast: opt('beta_fast'),
        yarnBetaSlow: opt('beta_slow'),
        yarnExtFactor: opt('extrapolation_factor'),
        yarnAttnFactor: opt('attention_factor') ?? opt('attn_factor'),
      };
    case 'llama3':
      return { type: 'llama3', factor, originalContext: orig, lowFreqFactor: opt('low_freq_factor'), highFreqFactor: opt('high_freq_factor') };
    default:
      throw new ModelFormatError('HF_UNSUPPORTED_ROPE_SCALING', `config.json: rope scaling type "${type}" is not supported`);
  }
}

/**
 * Gemma3 local/global layer pattern: `layer_types` (newer transformers) must be periodic with
 * the global layer last in each period; else `sliding_window_pattern` / `_sliding_window_pattern`;
 * else 6 (llama.cpp's `load_swa_pattern(ml, 6)` default).
 */
function gemmaSwaPattern(cfg: Json, nLayer: number): number {
  const lt = cfg.layer_types;
  if (Array.isArray(lt)) {
    if (lt.length !== nLayer) throw new ModelFormatError('HF_CONFIG_BAD_VALUE', `config.json: layer_types has ${lt.length} entries for ${nLayer} layers`);
    const firstFull = lt.indexOf('full_attention');
    const p = firstFull < 0 ? nLayer + 1 : firstFull + 1;
    if (firstFull < 0 && lt.every((t) => t === 'sliding_attention')) {
      throw new ModelFormatError('HF_CONFIG_UNSUPPORTED', 'config.json: layer_types has no full_attention layer');
    }
    lt.forEach((t, i) => {
      const want = i % p < p - 1 ? 'sliding_attention' : 'full_attention';
      if (t !== want) throw new ModelFormatError('HF_CONFIG_UNSUPPORTED', `config.json: layer_types is not periodic with period ${p} (layer ${i} is ${String(t)})`);
    });
    return p;
  }
  return int(cfg, 'sliding_window_pattern', typeof cfg._sliding_window_pattern === 'number' ? cfg._sliding_window_pattern : 6);
}

/**
 * Map a parsed `config.json` object to an {@link LLMConfig}.
 *
 * Derivations (per architecture):
 * - all: `headDimK = headDimV = head_dim ?? hidden_size / num_attention_heads`,
 *   `ropeDim = headDimK × (partial_rotary_factor ?? 1)`, `nHeadKv = num_key_value_heads ?? nHead`.
 * - llama: RoPE `norm` (HF checkpoints store q/k in neox order; see `permuteQK` in
 *   tensor-names.ts, which converts them like convert_hf_to_gguf.py does), `qkvBias =
 *   attention_bias`.
 * - qwen2: RoPE `neox`, `qkvBias` true (Qwen2Attention always has q/k/v biases).
 * - qwen3: RoPE `neox`, `qkNorm`.
 * - gemma3: RoPE `neox`, `attnScale = query_pre_attn_scalar^-0.5` (default 256), embedding
 *   scaled by √d, GELU (tanh), `qkNorm`, `postNorms`, sliding window from `sliding_window` with
 *   the pattern from `layer_types`/`sliding_window_pattern` (pattern 1 → no SWA, as the
 *   converter then omits the window), local RoPE base `rope_local_base_freq` (default 10000),
 *   tied embeddings by default.
 *
 * @throws UnsupportedArchitectureError `UNSUPPORTED_ARCHITECTURE` for other architectures.
 * @throws ModelFormatError `HF_CONFIG_MISSING_KEY`, `HF_CONFIG_BAD_VALUE`,
 *   `HF_CONFIG_UNSUPPORTED` (non-periodic layer_types), `HF_UNSUPPORTED_ROPE_SCALING`,
 *   `HF_UNSUPPORTED_ACTIVATION`.
 */
export function llmConfigFromHF(json: unknown, opts: HFConfigOptions = {}): LLMConfig {
  let cfg = obj(json);
  if (!cfg) throw new ModelFormatError('HF_CONFIG_BAD_VALUE', 'config.json is not a JSON object');
  const text = obj(cfg.text_config);
  const classes = Array.isArray(cfg.architectures) ? (cfg.architectures as unknown[]) : [];
  if (text && classes.some((c) => typeof c === 'string' && VLM_WRAPPERS.has(c))) {
    // A VLM checkpoint: the decoder is text_config (Gemma 3 keeps its own class for the defaults below).
    cfg = classes.includes('Gemma3ForConditionalGeneration') ? { ...text, architectures: cfg.architectures } : { ...text, architectures: text.architectures ?? [] };
  }
  const arch = detectArch(cfg);
  const gemma = arch === 'gemma3';

  const nEmbd = int(cfg, 'hidden_size');
  const nLayer = int(cfg, 'num_hidden_layers');
  const nHead = int(cfg, 'num_attention_heads', gemma ? 8 : undefined);
  const nHeadKv = int(cfg, 'num_key_value_heads', gemma ? 4 : nHead);
  if (nHead % nHeadKv !== 0) throw new ModelFormatError('HF_CONFIG_BAD_VALUE', `config.json: ${nHead} heads not divisible by ${nHeadKv} KV heads`);
  if (cfg.head_dim == null && !gemma && nEmbd % nHead !== 0) {
    throw new ModelFormatError('HF_CONFIG_BAD_VALUE', `config.json: hidden_size ${nEmbd} not divisible by ${nHead} heads and no head_dim`);
  }
  const headDim = int(cfg, 'head_dim', gemma ? 256 : nEmbd / nHead);
  const nCtxTrain = int(cfg, 'max_position_embeddings', { llama: 2048, qwen2: 32768, qwen3: 32768, gemma3: 131072 }[arch]);
  const { full, sliding } = ropeParams(cfg);
  const ropeFreqBase = typeof full.rope_theta === 'number' ? full.rope_theta : gemma ? 1_000_000 : 10_000;
  const partial = typeof full.partial_rotary_factor === 'number' ? full.partial_rotary_factor : num(cfg, 'partial_rotary_factor', 1);

  const actName = String(cfg.hidden_activation ?? cfg.hidden_act ?? (gemma ? 'gelu_pytorch_tanh' : 'silu'));
  const activation = ACTIVATIONS[actName];
  if (!activation) throw new ModelFormatError('HF_UNSUPPORTED_ACTIVATION', `config.json: activation "${actName}" is not supported`);

  let slidingWindow = 0;
  let swaPattern = 1;
  if (gemma) {
    swaPattern = gemmaSwaPattern(cfg, nLayer);
    if (swaPattern !== 1 && cfg.sliding_window != null) slidingWindow = int(cfg, 'sliding_window');
    if (slidingWindow === 0) swaPattern = 1;
  }

  let tiedEmbeddings: boolean;
  if (opts.tensorNames) {
    tiedEmbeddings = true;
    for (const n of opts.tensorNames) if (n === 'lm_head.weight') tiedEmbeddings = false;
  } else {
    tiedEmbeddings = typeof cfg.tie_word_embeddings === 'boolean' ? cfg.tie_word_embeddings : gemma;
  }

  const softcap = cfg.final_logit_softcapping;
  return {
    arch,
    name: opts.name ?? (typeof cfg._name_or_path === 'string' && cfg._name_or_path ? cfg._name_or_path : arch),
    nVocab: int(cfg, 'vocab_size', gemma ? 262208 : undefined),
    nCtxTrain,
    nEmbd,
    nLayer,
    nHead,
    nHeadKv,
    headDimK: headDim,
    headDimV: headDim,
    nFF: int(cfg, 'intermediate_size'),
    rmsEps: num(cfg, 'rms_norm_eps', 1e-6),
    ropeType: arch === 'llama' ? 'norm' : 'neox',
    ropeDim: Math.round(headDim * partial),
    ropeFreqBase,
    ropeFreqBaseSwa: gemma ? (typeof sliding.rope_theta === 'number' ? sliding.rope_theta : 10_000) : undefined,
    ropeScaling: ropeScaling(full, nCtxTrain),
    slidingWindow,
    swaPattern,
    attnScale: gemma ? num(cfg, 'query_pre_attn_scalar', 256) ** -0.5 : 1 / Math.sqrt(headDim),
    finalLogitSoftcap: typeof softcap === 'number' ? softcap : 0,
    embedScale: gemma,
    scaleQ: gemma,
    activation,
    qkNorm: arch === 'qwen3' || gemma,
    postNorms: gemma,
    qkvBias: arch === 'qwen2' ? true : cfg.attention_bias === true,
    tiedEmbeddings,
  };
}

/**
 * Read `config.json` (a path to the file or to its directory) and map it with
 * {@link llmConfigFromHF}.
 * @throws ModelFormatError `FILE_READ_FAILED` (unreadable), `HF_CONFIG_BAD_VALUE` (not JSON),
 *   plus everything {@link llmConfigFromHF} throws.
 */
export function readHFConfig(path: string, opts: HFConfigOptions = {}): LLMConfig {
  let p = path;
  let text: string;
  try {
    if (statSync(p).isDirectory()) p = join(p, 'config.json');
    text = readFileSync(p, 'utf8');
  } catch (e) {
    throw new ModelFormatError('FILE_READ_FAILED', `cannot read ${p}: ${(e as Error).message}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError('HF_CONFIG_BAD_VALUE', `${p}: not valid JSON (${(e as Error).message})`);
  }
  return llmConfigFromHF(json, opts);
}
