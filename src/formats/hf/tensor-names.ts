/**
 * Hugging Face tensor names → GGUF tensor names, and the value transforms llama.cpp's
 * convert_hf_to_gguf.py applies, so that weights loaded from a safetensors checkpoint equal the
 * ones llama.cpp would load from the converted GGUF.
 *
 * Sources: gguf-py/gguf/tensor_mapping.py (name table), gguf-py/gguf/constants.py (GGUF
 * names), conversion/llama.py `LlamaModel.permute` / `modify_tensors`, conversion/gemma.py
 * `Gemma3Model.norm_shift` / `modify_tensors`.
 */
import { ShapeError } from '../../core/errors.js';
import type { LLMConfig } from '../../models/config.js';

/** Per-layer HF suffix → GGUF suffix, common to the four architectures. */
const LAYER_COMMON: Record<string, string> = {
  'input_layernorm.weight': 'attn_norm.weight',
  'self_attn.q_proj.weight': 'attn_q.weight',
  'self_attn.q_proj.bias': 'attn_q.bias',
  'self_attn.k_proj.weight': 'attn_k.weight',
  'self_attn.k_proj.bias': 'attn_k.bias',
  'self_attn.v_proj.weight': 'attn_v.weight',
  'self_attn.v_proj.bias': 'attn_v.bias',
  'self_attn.o_proj.weight': 'attn_output.weight',
  'self_attn.o_proj.bias': 'attn_output.bias',
  'self_attn.q_norm.weight': 'attn_q_norm.weight',
  'self_attn.k_norm.weight': 'attn_k_norm.weight',
  'mlp.gate_proj.weight': 'ffn_gate.weight',
  'mlp.up_proj.weight': 'ffn_up.weight',
  'mlp.down_proj.weight': 'ffn_down.weight',
};

/**
 * `post_attention_layernorm` is the pre-MLP norm in llama/qwen (→ `ffn_norm`) but a true post-
 * attention norm in gemma3 (→ `post_attention_norm`), whose pre-MLP norm is
 * `pre_feedforward_layernorm` (→ `ffn_norm`).
 */
const LAYER_BY_ARCH: Record<string, Record<string, string>> = {
  llama: { 'post_attention_layernorm.weight': 'ffn_norm.weight' },
  qwen2: { 'post_attention_layernorm.weight': 'ffn_norm.weight' },
  qwen3: { 'post_attention_layernorm.weight': 'ffn_norm.weight' },
  gemma3: {
    'post_attention_layernorm.weight': 'post_attention_norm.weight',
    'pre_feedforward_layernorm.weight': 'ffn_norm.weight',
    'post_feedforward_layernorm.weight': 'post_ffw_norm.weight',
  },
};

const GLOBAL: Record<string, string> = {
  'model.embed_tokens.weight': 'token_embd.weight',
  'model.norm.weight': 'output_norm.weight',
  'lm_head.weight': 'output.weight',
};

/** Prefixes of multimodal wrappers whose text model we map (Gemma3ForConditionalGeneration). */
const WRAPPER_PREFIXES: [string, string][] = [
  ['model.language_model.', 'model.'],
  ['language_model.model.', 'model.'],
  ['language_model.lm_head.', 'lm_head.'],
  // Idefics3 / SmolVLM wrap the language model as model.text_model.
  ['model.text_model.', 'model.'],
];

/** HF tensors that carry no weights llama.cpp uses (dropped by the converter). */
const IGNORED = /(^|\.)rotary_emb\.inv_freq$/;

const LAYER_RE = /^model\.layers\.(\d+)\.(.+)$/;

/**
 * GGUF name of an HF tensor of architecture `arch` (`llama`, `qwen2`, `qwen3`, `gemma3`).
 * @returns the GGUF name (e.g. `model.layers.3.self_attn.q_proj.weight` → `blk.3.attn_q.weight`),
 *   or `undefined` for tensors the converter drops (`rotary_emb.inv_freq`) and for names this
 *   table does not know (vision towers, projectors...).
 */
export function hfToGGUFName(hfName: string, arch: string): string | undefined {
  let name = hfName;
  for (const [from, to] of WRAPPER_PREFIXES) if (name.startsWith(from)) name = to + name.slice(from.length);
  if (IGNORED.test(name)) return undefined;
  const g = GLOBAL[name];
  if (g) return g;
  const m = LAYER_RE.exec(name);
  if (!m) return undefined;
  const suffix = LAYER_BY_ARCH[arch]?.[m[2]] ?? LAYER_COMMON[m[2]];
  return suffix ? `blk.${m[1]}.${suffix}` : undefined;
}

/** Inverse table for one architecture and layer count: GGUF name → HF name. */
export function ggufToHFNames(arch: string, nLayer: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const [hf, gg] of Object.entries(GLOBAL)) out.set(gg, hf);
  const layer = { ...LAYER_COMMON, ...(LAYER_BY_ARCH[arch] ?? {}) };
  for (let i = 0; i < nLayer; i++) {
    for (const [hf, gg] of Object.entries(layer)) {
      if (hfToGGUFName(`model.layers.${i}.${hf}`, arch) === `blk.${i}.${gg}`) out.set(`blk.${i}.${gg}`, `model.layers.${i}.${hf}`);
    }
  }
  return out;
}

/**
 * Reorder the rows of a llama q_proj / k_proj weight (shape `[nHead·headDim, nCols]`, row-major)
 * or bias (shape `[nHead·headDim]`) from HF's rotate-half RoPE layout to GGUF's interleaved one,
 * exactly like convert_hf_to_gguf.py's `LlamaModel.permute`:
 * `w.reshape(nHead, 2, headDim/2, ...).swapaxes(1, 2).reshape(w.shape)`, i.e. within each head,
 * new row `2j + i` = old row `i·headDim/2 + j` (i ∈ {0, 1}, j < headDim/2).
 * Pass `nHead` = query heads for q_proj and KV heads for k_proj.
 * @returns a new Float32Array; the input is not modified.
 * @throws ShapeError `BAD_PERMUTE_SHAPE` when the shape's element count does not match `data`,
 *   or the rows do not split into `nHead` heads of even size.
 */
export function permuteQK(data: Float32Array, shape: readonly number[], nHead: number): Float32Array {
  return reorderQK(data, shape, nHead, false);
}

/**
 * Inverse of {@link permuteQK}: GGUF interleaved row layout → HF rotate-half layout (to compare
 * GGUF-loaded llama q/k weights with HF ones).
 * @throws ShapeError `BAD_PERMUTE_SHAPE` as {@link permuteQK}.
 */
export function unpermuteQK(data: Float32Array, shape: readonly number[], nHead: number): Float32Array {
  return reorderQK(data, shape, nHead, true);
}

/** Row reorder shared by {@link permuteQK} (HF → GGUF) and {@link unpermuteQK} (GGUF → HF). */
function reorderQK(data: Float32Array, shape: readonly number[], nHead: number, inverse: boolean): Float32Array {
  const rows = shape[0];
  const cols = shape.slice(1).reduce((a, b) => a * b, 1);
  if (rows === undefined || rows * cols !== data.length || nHead <= 0 || rows % (2 * nHead) !== 0) {
    throw new ShapeError('BAD_PERMUTE_SHAPE', `cannot ${inverse ? 'unpermute' : 'permute'} [${shape.join(', ')}] (${data.length} values) into ${nHead} heads of even size`);
  }
  const headDim = rows / nHead;
  const half = headDim / 2;
  const out = new Float32Array(data.length);
  for (let h = 0; h < nHead; h++) {
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < half; j++) {
        const hfRow = (h * headDim + i * half + j) * cols;
        const ggufRow = (h * headDim + 2 * j + i) * cols;
        const [src, dst] = inverse ? [ggufRow, hfRow] : [hfRow, ggufRow];
        out.set(data.subarray(src, src + cols), dst);
      }
    }
  }
  return out;
}

/**
 * Gemma3 RMSNorm weights: HF computes `x̂ · (1 + w)`, GGUF stores `w + 1` so that llama.cpp's
 * plain `x̂ · w` matches (conversion/gemma.py `norm_shift` = 1.0 for names ending in
 * `norm.weight`). Returns a new array.
 */
export function gemmaNormShift(data: Float32Array): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] + 1;
  return out;
}

/** A tensor ready to be used as if loaded from the converted GGUF. */
export interface MappedTensor {
  /** GGUF name. */
  name: string;
  /** Dimensions in ggml order (ne0 = row length first): the HF shape reversed. */
  dims: number[];
  /** float32 values, row-major over the HF shape (= ggml layout for `dims`). */
  data: Float32Array;
}

/**
 * Map one HF tensor to its GGUF name and values: llama q_proj/k_proj (weights and biases) are
 * row-permuted with {@link permuteQK} (q with `nHead`, k with `nHeadKv`), gemma3 `*norm.weight`
 * tensors get +1. Other tensors pass through unchanged (same array).
 *
 * Not applied: the converter's trimming of gemma3's embedding rows to the tokenizer's real
 * vocabulary size (needs the tokenizer; llama.cpp then reads nVocab from the trimmed tensor).
 *
 * @param shape HF (PyTorch) shape, outermost first.
 * @returns undefined for tensors the converter drops or this table does not know.
 * @throws ShapeError `BAD_PERMUTE_SHAPE` (see {@link permuteQK}).
 */
export function mapHFTensor(hfName: string, data: Float32Array, shape: readonly number[], config: Pick<LLMConfig, 'arch' | 'nHead' | 'nHeadKv'>): MappedTensor | undefined {
  const name = hfToGGUFName(hfName, config.arch);
  if (name === undefined) return undefined;
  let out = data;
  if (config.arch === 'llama') {
    if (/\.attn_q\.(weight|bias)$/.test(name)) out = permuteQK(data, shape, config.nHead);
    else if (/\.attn_k\.(weight|bias)$/.test(name)) out = permuteQK(data, shape, config.nHeadKv);
  } else if (config.arch === 'gemma3' && hfName.endsWith('norm.weight')) {
    out = gemmaNormShift(data);
  }
  return { name, dims: [...shape].reverse(), data: out };
}
