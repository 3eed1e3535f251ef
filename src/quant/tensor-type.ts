/**
 * Per-tensor type choice of llama.cpp's quantizer for the file types SynFlux writes.
 *
 * Port of llama.cpp src/llama-quant.cpp (the copy bundled with node-llama-cpp 3.22.1, in
 * .cache/llama.cpp): `tensor_allows_quantization`, `tensor_get_category`,
 * `llama_tensor_get_type_impl`, `tensor_type_fallback` and `llama_ftype_get_default_type`,
 * restricted to the branches reachable for F16, Q4_0, Q4_1, Q8_0, Q4_K_M, Q5_K_M and Q6_K without
 * an importance matrix, tensor-type overrides or `--pure`. Not ported (and never reached by a model
 * SynFlux loads): the LLM_TYPE_70B attn_v bump and the Falcon-specific rules.
 */
import { RequestError } from '../core/errors.js';
import { GGMLType, typeInfo } from '../core/ggml-type.js';

/** `llama_ftype` values (llama.h) of the file types `synflux quantize` writes. */
export const QUANT_FTYPES = {
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q8_0: 7,
  Q4_K_M: 15,
  Q5_K_M: 17,
  Q6_K: 18,
} as const;

/** Name of a target file type, e.g. `Q4_K_M`. */
export type QuantFtypeName = keyof typeof QUANT_FTYPES;

/** True when `s` names a file type in {@link QUANT_FTYPES}. */
export function isQuantFtypeName(s: string): s is QuantFtypeName {
  return Object.prototype.hasOwnProperty.call(QUANT_FTYPES, s);
}

/**
 * The base ggml type of a file type (llama-quant.cpp `llama_ftype_get_default_type`).
 * @throws RequestError `QUANT_BAD_TYPE` for a name outside {@link QUANT_FTYPES}.
 */
export function defaultTypeOf(ftype: QuantFtypeName): GGMLType {
  switch (ftype) {
    case 'F16': return GGMLType.F16;
    case 'Q4_0': return GGMLType.Q4_0;
    case 'Q4_1': return GGMLType.Q4_1;
    case 'Q8_0': return GGMLType.Q8_0;
    case 'Q4_K_M': return GGMLType.Q4_K;
    case 'Q5_K_M': return GGMLType.Q5_K;
    case 'Q6_K': return GGMLType.Q6_K;
    default: throw new RequestError('QUANT_BAD_TYPE', `unknown quantization type ${String(ftype)}`);
  }
}

/** Broad tensor roles the type rules look at (llama-quant.cpp `tensor_category`). */
export type TensorCategory =
  | 'output' | 'token_embd' | 'attn_qkv' | 'attn_kv_b' | 'attn_v' | 'attn_k' | 'attn_q' | 'attn_output'
  | 'ffn_up' | 'ffn_gate' | 'ffn_down' | 'other';

/** Category of a tensor name, tested in llama-quant.cpp's order (substring matches). */
export function tensorCategory(name: string): TensorCategory {
  if (name === 'output.weight') return 'output';
  if (name === 'token_embd.weight' || name === 'per_layer_token_embd.weight') return 'token_embd';
  if (name.includes('attn_qkv.weight')) return 'attn_qkv';
  if (name.includes('attn_kv_b.weight')) return 'attn_kv_b';
  if (name.includes('attn_v.weight')) return 'attn_v';
  if (name.includes('attn_k.weight')) return 'attn_k';
  if (name.includes('attn_q.weight')) return 'attn_q';
  if (name.includes('attn_output.weight')) return 'attn_output';
  if (name.includes('ffn_up')) return 'ffn_up';
  if (name.includes('ffn_gate')) return 'ffn_gate';
  if (name.includes('ffn_down')) return 'ffn_down';
  return 'other';
}

const NO_QUANT_SUBSTRINGS = [
  '_norm.weight', 'ffn_gate_inp.weight', 'ffn_gate_tid2eid.weight', 'altup', 'laurel', 'per_layer_model_proj',
  'ssm_conv1d', 'shortconv.conv.weight', 'indexer.k_proj.weight', 'indexer.q_proj.weight',
  'time_mix_first.weight', 'time_mix_w0.weight', 'time_mix_w1.weight', 'time_mix_w2.weight', 'time_mix_v0.weight',
  'time_mix_v1.weight', 'time_mix_v2.weight', 'time_mix_a0.weight', 'time_mix_a1.weight', 'time_mix_a2.weight',
  'time_mix_g1.weight', 'time_mix_g2.weight', 'time_mix_decay_w1.weight', 'time_mix_decay_w2.weight',
  'time_mix_lerp_fused.weight', 'attn_rel_b.weight', '.position_embd', 'sam.pos_embd', 'sam.neck.', 'sam.net_',
  '.rel_pos', '.patch_embd', '.patch_merger', 'a.rvq.codebook', 'mm.a.code_embd',
];

/**
 * Whether llama-quantize may change this tensor's type (`tensor_allows_quantization`): at least
 * 2 dimensions (ggml_n_dims counts trailing 1s out), name ending in `weight`, and none of the
 * excluded names (norms, MoE gate inputs, positional embeddings, ...).
 * @param dims ggml order (ne0 first).
 */
export function allowsQuantization(name: string, dims: readonly number[]): boolean {
  let nDims = dims.length;
  while (nDims > 1 && dims[nDims - 1] === 1) nDims--;
  if (nDims < 2) return false;
  if (!name.endsWith('weight')) return false;
  if (NO_QUANT_SUBSTRINGS.some((s) => name.includes(s))) return false;
  if (name === 'position_embd.weight' || name === 'token_types.weight') return false;
  return true;
}

/** Model facts the rules read (llama_hparams). */
export interface QuantModelInfo {
  /** `{arch}.block_count`. */
  nLayer: number;
  /** `{arch}.expert_count` (0 when absent). */
  nExpert: number;
}

/** One tensor as the chooser sees it. */
export interface QuantTensorDesc {
  name: string;
  /** ggml order (ne0 = row length first). */
  dims: readonly number[];
  /** Current ggml type id. */
  type: number;
}

const useMoreBits = (i: number, n: number): boolean =>
  i < Math.trunc(n / 8) || i >= Math.trunc((7 * n) / 8) || (i - Math.trunc(n / 8)) % 3 === 2;

/**
 * Target ggml type of every tensor, in the order llama-quantize visits them (the caller must pass
 * tensors in {@link llamaQuantOrder}; the attn_v / ffn_* counters depend on it).
 * @returns one ggml type id per input tensor.
 * @throws RequestError `QUANT_BAD_TYPE` for an unknown file type, `QUANT_BAD_LAYER` when an
 *   expert tensor's name has no valid `blk.N.` prefix.
 */
export function chooseTensorTypes(tensors: readonly QuantTensorDesc[], ftype: QuantFtypeName, model: QuantModelInfo): number[] {
  const defaultType = defaultTypeOf(ftype);
  const cats = tensors.map((t) => tensorCategory(t.name));
  const nAttnV = cats.filter((c) => c === 'attn_v' || c === 'attn_qkv' || c === 'attn_kv_b').length;
  const tiedEmbeddings = !cats.includes('output');
  const nExpert = Math.max(1, model.nExpert);
  const nLayer = model.nLayer;
  let iAttnV = 0;
  let iFfnDown = 0;
  let iFfnGate = 0;
  let iFfnUp = 0;
  const layerOf = (i: number, name: string): number => {
    if (nExpert <= 1) return i;
    const m = /^blk\.(\d+)\./.exec(name);
    const l = m ? Number(m[1]) : -1;
    if (l < 0 || l >= nLayer) throw new RequestError('QUANT_BAD_LAYER', `cannot determine the layer of tensor ${name}`);
    return l;
  };

  const impl = (t: QuantTensorDesc, cat: TensorCategory, start: number): number => {
    let nt = start;
    if (cat === 'output' || (tiedEmbeddings && cat === 'token_embd')) {
      const qk = typeInfo(nt).blockSize;
      if (t.dims[0] % qk !== 0) nt = GGMLType.Q8_0;
      else if (nt !== GGMLType.Q8_0) nt = GGMLType.Q6_K;
    } else if (cat === 'token_embd') {
      // no rule for the file types ported here
    } else if (cat === 'attn_v' || cat === 'attn_qkv' || cat === 'attn_kv_b') {
      if ((ftype === 'Q4_K_M' || ftype === 'Q5_K_M') && useMoreBits(iAttnV, nAttnV)) nt = GGMLType.Q6_K;
      if (model.nExpert === 8) nt = GGMLType.Q8_0;
      iAttnV++;
    } else if (cat === 'attn_k') {
      if (model.nExpert === 8) nt = GGMLType.Q8_0;
    } else if (cat === 'attn_q') {
      // IQ3 rules only
    } else if (cat === 'ffn_down') {
      const l = layerOf(iFfnDown, t.name);
      if ((ftype === 'Q4_K_M' || ftype === 'Q5_K_M') && useMoreBits(l, nLayer)) nt = GGMLType.Q6_K;
      iFfnDown++;
    } else if (cat === 'attn_output') {
      if (model.nExpert === 8 && ftype === 'Q4_K_M') nt = GGMLType.Q5_K;
    } else if (cat === 'ffn_gate') {
      layerOf(iFfnGate, t.name);
      iFfnGate++;
    } else if (cat === 'ffn_up') {
      layerOf(iFfnUp, t.name);
      iFfnUp++;
    }
    return nt;
  };
  // Note: llama-quant.cpp places the attn_qkv Q4_K_M -> Q5_K / Q5_K_M -> Q6_K rule in a branch that
  // attn_qkv never reaches (category_is_attn_v is tested first), so it is not ported.

  return tensors.map((t, i) => {
    if (!allowsQuantization(t.name, t.dims)) return t.type;
    if (defaultType === GGMLType.F16) return GGMLType.F16;
    const nt = impl(t, cats[i], defaultType);
    return fallback(t, nt);
  });
}

/** `tensor_type_fallback`: a type whose block does not divide the row length is demoted. */
function fallback(t: QuantTensorDesc, target: number): number {
  const ncols = t.dims[0];
  const qk = typeInfo(target).blockSize;
  if (ncols % qk === 0) return target;
  let ret: number;
  switch (target) {
    case GGMLType.Q4_K: ret = GGMLType.Q5_0; break;
    case GGMLType.Q5_K: ret = GGMLType.Q5_1; break;
    case GGMLType.Q6_K: ret = GGMLType.Q8_0; break;
    default: ret = target; break;
  }
  if (ncols % typeInfo(ret).blockSize !== 0) ret = GGMLType.F16;
  return ret;
}

/**
 * Tensor order of llama-quantize's output (llama-model-loader.h `weight_name_comparer`): tensors
 * without a `blk.N.` prefix first (layer -1), then by layer number, then by name (byte order).
 */
export function llamaQuantOrder<T extends { name: string }>(tensors: readonly T[]): T[] {
  const layer = (n: string): number => {
    const m = /^blk\.(-?\d+)\./.exec(n);
    return m ? Number(m[1]) : -1;
  };
  return [...tensors].sort((a, b) => {
    const la = layer(a.name);
    const lb = layer(b.name);
    if (la !== lb) return la - lb;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}
