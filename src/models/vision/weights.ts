/**
 * Vision tower + projector weights, bound from GGUF-named tensors (llama.cpp clip-impl.h `TN_*`):
 * an mmproj GGUF directly (zero-copy matmul weights in their ggml type), or a Hugging Face
 * checkpoint whose names are mapped here onto the same GGUF names (weights as float32), as
 * llama.cpp's converter maps them (gguf-py tensor_mapping.py, conversion/gemma.py's
 * soft_emb_norm +1).
 */
import { ModelFormatError, ShapeError } from '../../core/errors.js';
import { native } from '../../backends/cpu/native.js';
import { GGMLType, typeInfo } from '../../core/ggml-type.js';
import type { GGUFFile } from '../../formats/gguf/reader.js';
import type { SafetensorsModel } from '../../formats/safetensors/reader.js';
import { F32TensorSource, GGUFTensorSource, type MatWeight, type TensorSource } from '../weights.js';
import type { VisionConfig } from './config.js';

/** One pre-norm ViT block (`v.blk.N.*`). Matmul weights are `[nOut, nIn]`; vectors float32. */
export interface VisionLayerWeights {
  ln1W: Float32Array; ln1B: Float32Array | null;
  q: MatWeight; qB: Float32Array | null;
  k: MatWeight; kB: Float32Array | null;
  v: MatWeight; vB: Float32Array | null;
  o: MatWeight; oB: Float32Array | null;
  ln2W: Float32Array; ln2B: Float32Array | null;
  up: MatWeight; upB: Float32Array | null;
  down: MatWeight; downB: Float32Array | null;
}

/** Projector weights by kind. */
export type ProjectorWeights =
  | { kind: 'mlp'; mm0: MatWeight; mm0B: Float32Array | null; mm2: MatWeight | null; mm2B: Float32Array | null }
  | { kind: 'idefics3'; fc: MatWeight; fcB: Float32Array | null }
  /** `inputProj` float32 `[nEmbdOut, nEmbd·]` (transposed from the file's `[nEmbd, nEmbdOut]`); `softEmbNorm` has the +1 in it. */
  | { kind: 'gemma3'; inputProj: MatWeight; softEmbNorm: Float32Array };

/** All weights of a vision model. */
export interface VisionWeights {
  /** Patch embedding as a matmul `[nEmbd, 3·p·p]` (conv kernel flattened c, ky, kx). */
  patch: MatWeight;
  patchB: Float32Array | null;
  /** Learned positions float32 `[nPos, nEmbd]`. */
  pos: Float32Array;
  /** Class token float32 `[nEmbd]` (CLIP), or null. */
  cls: Float32Array | null;
  preLnW: Float32Array | null; preLnB: Float32Array | null;
  layers: VisionLayerWeights[];
  postLnW: Float32Array | null; postLnB: Float32Array | null;
  projector: ProjectorWeights;
  /** Bytes of all weights (for cost estimates). */
  bytes: number;
}

function matBytes(m: MatWeight | null): number {
  return m ? m.data.byteLength : 0;
}

/**
 * Binds the weights of `cfg` from GGUF-named tensors.
 * `patchMat` supplies the 4-D patch kernel as a 2-D matmul weight.
 * @throws ModelFormatError `MISSING_TENSOR`; ShapeError on wrong dims.
 */
function bind(src: TensorSource, cfg: VisionConfig, patchMat: MatWeight, srcName: string): VisionWeights {
  const d = cfg.nEmbd, ff = cfg.nFf;
  patchMat = patchAsF16(patchMat, cfg);
  const nPatch = (cfg.imageSize / cfg.patchSize) ** 2;
  const cls = src.optVec('v.class_embd', d);
  const pos = src.vec('v.position_embd.weight', d * (nPatch + (cls ? 1 : 0)));
  const layers: VisionLayerWeights[] = [];
  for (let i = 0; i < cfg.nLayerRun; i++) {
    const p = `v.blk.${i}.`;
    let up = src.mat(`${p}ffn_up.weight`, ...upDims(src, `${p}ffn_up.weight`, d, ff));
    let down = src.mat(`${p}ffn_down.weight`, ...upDims(src, `${p}ffn_down.weight`, ff, d));
    let upB = src.optVec(`${p}ffn_up.bias`, up.nOut);
    let downB = src.optVec(`${p}ffn_down.bias`, down.nOut);
    // clip.cpp swaps up/down when a legacy file stored them the other way round
    if (up.nIn === ff && down.nIn === d) { [up, down] = [down, up]; [upB, downB] = [downB, upB]; }
    layers.push({
      ln1W: src.vec(`${p}ln1.weight`, d), ln1B: src.optVec(`${p}ln1.bias`, d),
      q: src.mat(`${p}attn_q.weight`, d, d), qB: src.optVec(`${p}attn_q.bias`, d),
      k: src.mat(`${p}attn_k.weight`, d, d), kB: src.optVec(`${p}attn_k.bias`, d),
      v: src.mat(`${p}attn_v.weight`, d, d), vB: src.optVec(`${p}attn_v.bias`, d),
      o: src.mat(`${p}attn_out.weight`, d, d), oB: src.optVec(`${p}attn_out.bias`, d),
      ln2W: src.vec(`${p}ln2.weight`, d), ln2B: src.optVec(`${p}ln2.bias`, d),
      up, upB, down, downB,
    });
  }
  let projector: ProjectorWeights;
  const out = cfg.nEmbdOut;
  if (cfg.projector === 'mlp') {
    const mm0 = src.mat('mm.0.weight', d, ...outDim(src, 'mm.0.weight'));
    const mm2 = src.has('mm.2.weight') ? src.mat('mm.2.weight', mm0.nOut, out) : null;
    if (!mm2 && mm0.nOut !== out) throw new ShapeError('BAD_TENSOR_SHAPE', `${srcName}: mm.0 gives ${mm0.nOut} features, projection_dim is ${out}`);
    projector = { kind: 'mlp', mm0, mm0B: src.optVec('mm.0.bias', mm0.nOut), mm2, mm2B: mm2 ? src.optVec('mm.2.bias', out) : null };
  } else if (cfg.projector === 'idefics3') {
    const fc = src.mat('mm.model.fc.weight', d * cfg.nMerge * cfg.nMerge, out);
    projector = { kind: 'idefics3', fc, fcB: src.optVec('mm.model.fc.bias', out) };
  } else {
    // file/HF layout [nEmbd (rows), nEmbdOut (cols)] (ggml dims [out, d]); transpose to W [out, d]
    const raw = src.vec('mm.input_projection.weight', d * out);
    const wt = new Float32Array(d * out);
    for (let i = 0; i < d; i++) for (let j = 0; j < out; j++) wt[j * d + i] = raw[i * out + j]!;
    projector = {
      kind: 'gemma3',
      inputProj: { name: 'mm.input_projection.weight', type: GGMLType.F32, data: new Uint8Array(wt.buffer), nIn: d, nOut: out },
      softEmbNorm: src.vec('mm.soft_emb_norm.weight', d),
    };
  }
  const w: VisionWeights = {
    patch: patchMat, patchB: src.optVec('v.patch_embd.bias', d), pos, cls,
    preLnW: src.optVec('v.pre_ln.weight', d), preLnB: src.optVec('v.pre_ln.bias', d),
    layers,
    postLnW: cfg.usePostNorm ? src.optVec('v.post_ln.weight', d) : null,
    postLnB: cfg.usePostNorm ? src.optVec('v.post_ln.bias', d) : null,
    projector, bytes: 0,
  };
  let bytes = matBytes(w.patch) + w.pos.byteLength;
  for (const l of layers) bytes += matBytes(l.q) + matBytes(l.k) + matBytes(l.v) + matBytes(l.o) + matBytes(l.up) + matBytes(l.down);
  if (projector.kind === 'mlp') bytes += matBytes(projector.mm0) + matBytes(projector.mm2);
  else if (projector.kind === 'idefics3') bytes += matBytes(projector.fc);
  else bytes += matBytes(projector.inputProj);
  w.bytes = bytes;
  return w;
}

/**
 * llama.cpp computes the patch embedding with `ggml_conv_2d`, whose im2col output is F16 (ggml.c:
 * `ggml_im2col(..., a->type == BF16 ? F32 : F16)`), so pixels and kernel meet as F16 in the matmul.
 * For the projectors whose reference is llama.cpp (idefics3, gemma3) we do the same: the kernel is
 * stored as F16, and the native F16 matmul rounds the im2col rows to F16 (ggml's vec_dot_type).
 * LLaVA follows the Hugging Face (F32) definition and keeps its kernel type.
 */
function patchAsF16(m: MatWeight, cfg: VisionConfig): MatWeight {
  if (cfg.projector === 'mlp' || m.type === GGMLType.F16) return m;
  const nat = native();
  const n = m.nIn * m.nOut;
  const f32 = new Float32Array(n);
  nat.dequantize(m.type, m.data, n, f32);
  const out = new Uint8Array(nat.rowSize(GGMLType.F16, n));
  nat.quantize(GGMLType.F16, f32, n, out);
  return { ...m, type: GGMLType.F16, data: out };
}

/** [nIn, nOut] of a 2-D tensor whose nIn must be `nIn` or `nOut` (ffn up/down may be swapped). */
function upDims(src: TensorSource, name: string, nIn: number, nOut: number): [number, number] {
  const dims = tensorDims(src, name);
  if (dims && dims.length === 2 && dims[0] === nOut && dims[1] === nIn) return [nOut, nIn];
  return [nIn, nOut];
}

function outDim(src: TensorSource, name: string): [number] {
  const dims = tensorDims(src, name);
  if (!dims || dims.length !== 2) throw new ShapeError('BAD_TENSOR_SHAPE', `${name}: expected a 2-D tensor`);
  return [dims[1]!];
}

function tensorDims(src: TensorSource, name: string): readonly number[] | undefined {
  if (src instanceof GGUFTensorSource) return src.file.tensor(name)?.dims;
  if (src instanceof F32TensorSource) return src.tensors.get(name)?.dims;
  return undefined;
}

/**
 * Weights from an mmproj GGUF (tensor names of clip-impl.h).
 * @throws ModelFormatError (missing tensors), ShapeError, UnsupportedTensorTypeError.
 */
export function visionWeightsFromGGUF(file: GGUFFile, cfg: VisionConfig): VisionWeights {
  const src = new GGUFTensorSource(file);
  const t = file.tensor('v.patch_embd.weight');
  if (!t) throw new ModelFormatError('MISSING_TENSOR', `${file.source}: required tensor 'v.patch_embd.weight' is missing`);
  const p = cfg.patchSize, d = cfg.nEmbd;
  if (t.dims.length !== 4 || t.dims[0] !== p || t.dims[1] !== p || t.dims[2] !== 3 || t.dims[3] !== d) {
    throw new ShapeError('BAD_TENSOR_SHAPE', `v.patch_embd.weight: expected dims [${p}, ${p}, 3, ${d}], file has [${t.dims.join(', ')}]`);
  }
  typeInfo(t.type);
  const patch: MatWeight = { name: t.name, type: t.type, data: file.tensorData(t), nIn: 3 * p * p, nOut: d };
  return bind(src, cfg, patch, file.source);
}

/** HF tensor name (vision part, after the tower prefix) → GGUF name. */
function mapVisionName(rest: string): string | undefined {
  const simple: Record<string, string> = {
    'embeddings.patch_embedding.weight': 'v.patch_embd.weight',
    'embeddings.patch_embedding.bias': 'v.patch_embd.bias',
    'embeddings.position_embedding.weight': 'v.position_embd.weight',
    'embeddings.class_embedding': 'v.class_embd',
    'pre_layrnorm.weight': 'v.pre_ln.weight', 'pre_layrnorm.bias': 'v.pre_ln.bias',
    'post_layernorm.weight': 'v.post_ln.weight', 'post_layernorm.bias': 'v.post_ln.bias',
  };
  if (simple[rest]) return simple[rest];
  const m = /^encoder\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(rest);
  if (!m) return undefined;
  const sub: Record<string, string> = {
    'self_attn.q_proj': 'attn_q', 'self_attn.k_proj': 'attn_k', 'self_attn.v_proj': 'attn_v', 'self_attn.out_proj': 'attn_out',
    'layer_norm1': 'ln1', 'layer_norm2': 'ln2', 'mlp.fc1': 'ffn_up', 'mlp.fc2': 'ffn_down',
  };
  const s = sub[m[2]!];
  return s ? `v.blk.${m[1]}.${s}.${m[3]}` : undefined;
}

/** HF tensor name → GGUF name for the vision tower and projector, or undefined (text model, heads). */
export function hfVisionTensorName(name: string): string | undefined {
  const n = name.replace(/^model\./, '');
  for (const pre of ['vision_tower.vision_model.', 'vision_model.', 'vision_tower.']) {
    if (n.startsWith(pre)) return mapVisionName(n.slice(pre.length));
  }
  const proj: Record<string, string> = {
    'connector.modality_projection.proj.weight': 'mm.model.fc.weight',
    'connector.modality_projection.proj.bias': 'mm.model.fc.bias',
    'multi_modal_projector.linear_1.weight': 'mm.0.weight', 'multi_modal_projector.linear_1.bias': 'mm.0.bias',
    'multi_modal_projector.linear_2.weight': 'mm.2.weight', 'multi_modal_projector.linear_2.bias': 'mm.2.bias',
    'multi_modal_projector.mm_input_projection_weight': 'mm.input_projection.weight',
    'multi_modal_projector.mm_soft_emb_norm.weight': 'mm.soft_emb_norm.weight',
  };
  return proj[n];
}

/**
 * Weights from a Hugging Face checkpoint (float32 copies). Gemma 3's `mm_soft_emb_norm` gets the
 * +1 the converter adds (Gemma3RMSNorm multiplies by 1 + w).
 * @throws ModelFormatError (missing tensors), ShapeError.
 */
export function visionWeightsFromHF(st: SafetensorsModel, cfg: VisionConfig, source: string): VisionWeights {
  const map = new Map<string, { dims: number[]; data: Float32Array }>();
  for (const name of st.names) {
    const g = hfVisionTensorName(name);
    if (!g) continue;
    const info = st.tensor(name)!;
    let data = st.toFloat32(name);
    if (g === 'mm.soft_emb_norm.weight') data = data.map((x) => x + 1);
    map.set(g, { dims: [...info.shape].reverse(), data });
  }
  const p = cfg.patchSize, d = cfg.nEmbd;
  const pe = map.get('v.patch_embd.weight');
  if (!pe) throw new ModelFormatError('MISSING_TENSOR', `${source}: no vision patch embedding (…embeddings.patch_embedding.weight)`);
  if (pe.data.length !== d * 3 * p * p) throw new ShapeError('BAD_TENSOR_SHAPE', `patch_embedding: expected ${d}x3x${p}x${p}, checkpoint has [${[...pe.dims].reverse().join(', ')}]`);
  const patch: MatWeight = { name: 'v.patch_embd.weight', type: GGMLType.F32, data: new Uint8Array(pe.data.buffer, pe.data.byteOffset, pe.data.byteLength), nIn: 3 * p * p, nOut: d };
  return bind(new F32TensorSource(map, source), cfg, patch, source);
}
