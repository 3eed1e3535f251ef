/**
 * Hyperparameters of a vision tower + projector, read either from an mmproj GGUF (llama.cpp's
 * `clip.*` keys, tools/mtmd/clip-impl.h and clip.cpp `load_hparams`) or from a Hugging Face
 * folder (`config.json` `vision_config` + `preprocessor_config.json`), giving one
 * {@link VisionConfig}.
 */
import { ModelFormatError } from '../../core/errors.js';
import type { GGUFFile } from '../../formats/gguf/reader.js';
import type { PadStyle, ResizeAlgo } from '../../preprocess/resize.js';

/** Projectors implemented here (llama.cpp `projector_type` names). */
export const VISION_PROJECTORS = ['mlp', 'idefics3', 'gemma3'] as const;
/** One of {@link VISION_PROJECTORS}. */
export type VisionProjector = (typeof VISION_PROJECTORS)[number];

/** Element-wise activation of the ViT MLP / projector. */
export type VisionActivation = 'gelu' | 'gelu_erf' | 'gelu_quick' | 'silu';

/** Everything the encoder, projector and preprocessor need. */
export interface VisionConfig {
  readonly projector: VisionProjector;
  /** Square input side of one tile, pixels (`clip.vision.image_size`). */
  readonly imageSize: number;
  /** Patch side, pixels. */
  readonly patchSize: number;
  /** ViT width. */
  readonly nEmbd: number;
  /** ViT MLP width. */
  readonly nFf: number;
  readonly nHead: number;
  /** Blocks present in the checkpoint. */
  readonly nLayer: number;
  /** Blocks actually run (LLaVA's feature layer; otherwise nLayer). */
  readonly nLayerRun: number;
  /** Apply `post_ln` when the checkpoint has it (false for LLaVA's hidden-state features). */
  readonly usePostNorm: boolean;
  /** LayerNorm epsilon (`clip.vision.attention.layer_norm_epsilon`, clip.cpp default 1e-6). */
  readonly eps: number;
  /** ViT MLP activation (`clip.use_gelu` → gelu, `clip.use_silu` → silu, else gelu_quick). */
  readonly act: VisionActivation;
  /** Activation between mm.0 and mm.2 of the LLaVA MLP projector. */
  readonly projectorAct: VisionActivation;
  readonly imageMean: readonly [number, number, number];
  readonly imageStd: readonly [number, number, number];
  /** idefics3 pixel-shuffle scale factor / gemma3 pooling kernel, per side. */
  readonly nMerge: number;
  /** Output width = the LM's n_embd (`clip.vision.projection_dim`). */
  readonly nEmbdOut: number;
  /** idefics3: longest edge the image is first resized to (`clip.vision.preproc_image_size`); 0 = none. */
  readonly longestEdge: number;
  readonly resizeAlgo: ResizeAlgo;
  readonly padStyle: PadStyle;
  readonly padColor: readonly [number, number, number];
}

function triple(v: ArrayLike<number> | undefined, what: string, source: string): [number, number, number] {
  if (!v || v.length < 3) throw new ModelFormatError('VISION_BAD_CONFIG', `${source}: ${what} needs 3 values`);
  return [Number(v[0]), Number(v[1]), Number(v[2])];
}

function check(c: VisionConfig, source: string): VisionConfig {
  const bad = (m: string): never => { throw new ModelFormatError('VISION_BAD_CONFIG', `${source}: ${m}`); };
  for (const k of ['imageSize', 'patchSize', 'nEmbd', 'nFf', 'nHead', 'nLayer', 'nEmbdOut', 'nMerge'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0 || c[k] > 1 << 20) bad(`${k} = ${c[k]} is not a positive integer`);
  }
  if (c.nEmbd % c.nHead !== 0) bad(`embedding width ${c.nEmbd} is not a multiple of ${c.nHead} heads`);
  if (c.imageSize % c.patchSize !== 0) bad(`image size ${c.imageSize} is not a multiple of patch size ${c.patchSize}`);
  if (c.nLayerRun < 0 || c.nLayerRun > c.nLayer) bad(`feature layer ${c.nLayerRun} outside 0..${c.nLayer}`);
  const side = c.imageSize / c.patchSize;
  if ((c.projector === 'idefics3' || c.projector === 'gemma3') && side % c.nMerge !== 0) bad(`${side} patches per side not divisible by ${c.nMerge}`);
  if (!(c.eps > 0)) bad(`layer norm epsilon ${c.eps}`);
  if (c.imageStd.some((s) => s === 0)) bad('image_std has a zero');
  // float32 like clip.cpp's hparams, so GGUF (stored f32) and HF (JSON doubles) configs agree
  const f = Math.fround;
  return { ...c, eps: f(c.eps), imageMean: [f(c.imageMean[0]), f(c.imageMean[1]), f(c.imageMean[2])], imageStd: [f(c.imageStd[0]), f(c.imageStd[1]), f(c.imageStd[2])] };
}

/**
 * Per-projector preprocessing defaults, as clip.cpp `load_hparams` sets them: mlp (LLaVA-1.5)
 * bicubic with PAD_CEIL in the mean colour (122,116,104); idefics3 Lanczos; gemma3 bilinear
 * with PAD_CEIL in black.
 */
function preprocDefaults(p: VisionProjector): Pick<VisionConfig, 'resizeAlgo' | 'padStyle' | 'padColor'> {
  if (p === 'mlp') return { resizeAlgo: 'bicubic', padStyle: 'ceil', padColor: [122, 116, 104] };
  if (p === 'idefics3') return { resizeAlgo: 'lanczos', padStyle: 'none', padColor: [0, 0, 0] };
  return { resizeAlgo: 'bilinear', padStyle: 'ceil', padColor: [0, 0, 0] };
}

/**
 * Reads an mmproj GGUF's `clip.*` metadata.
 *
 * LLaVA (`mlp`): llama.cpp runs `block_count - 1` blocks (clip_graph_llava `il_last`), while the
 * Hugging Face definition takes `hidden_states[vision_feature_layer]` (-2). llama.cpp's converter
 * (legacy-models/convert_image_encoder_to_gguf.py) already drops the last block and writes
 * `block_count = num_hidden_layers - 1`, so the HF semantics are: run every block in the file,
 * or `max(clip.vision.feature_layer)` blocks when that key is present, and no post-LN.
 * @throws ModelFormatError `VISION_NO_ENCODER`, `VISION_UNSUPPORTED_PROJECTOR` (also LLaVA-1.6
 *   pinpoints), `VISION_BAD_CONFIG`, `GGUF_MISSING_KEY`.
 */
export function visionConfigFromGGUF(f: GGUFFile): VisionConfig {
  const src = f.source;
  if (!f.getBool('clip.has_vision_encoder', false)) throw new ModelFormatError('VISION_NO_ENCODER', `${src}: not an mmproj file with a vision encoder (clip.has_vision_encoder is not true)`);
  const proj = f.getString('clip.projector_type', '') || f.getString('clip.vision.projector_type', '');
  if (!(VISION_PROJECTORS as readonly string[]).includes(proj)) {
    throw new ModelFormatError('VISION_UNSUPPORTED_PROJECTOR', `${src}: projector type '${proj || '(none)'}' is not supported (supported: ${VISION_PROJECTORS.join(', ')})`);
  }
  const projector = proj as VisionProjector;
  if (f.has('clip.vision.image_grid_pinpoints')) {
    throw new ModelFormatError('VISION_UNSUPPORTED_PROJECTOR', `${src}: LLaVA-1.6-style any-resolution tiling (clip.vision.image_grid_pinpoints) is not supported`);
  }
  if (f.has('clip.vision.feature_layer') && projector !== 'mlp') {
    throw new ModelFormatError('VISION_BAD_CONFIG', `${src}: clip.vision.feature_layer is only supported for the mlp projector`);
  }
  const nLayer = f.getNumber('clip.vision.block_count');
  const useGelu = f.getBool('clip.use_gelu', false);
  const useSilu = f.getBool('clip.use_silu', false);
  if (useGelu && useSilu) throw new ModelFormatError('VISION_BAD_CONFIG', `${src}: both clip.use_gelu and clip.use_silu are set`);
  let nLayerRun = nLayer;
  if (projector === 'mlp' && f.has('clip.vision.feature_layer')) {
    const fl = Array.from(f.getArray('clip.vision.feature_layer') as ArrayLike<number>, Number);
    if (fl.length) nLayerRun = Math.max(...fl);
  }
  const nMergeDefault = projector === 'gemma3' ? 4 : projector === 'idefics3' ? 2 : 1;
  return check({
    projector,
    imageSize: f.getNumber('clip.vision.image_size'),
    patchSize: f.getNumber('clip.vision.patch_size'),
    nEmbd: f.getNumber('clip.vision.embedding_length'),
    nFf: f.getNumber('clip.vision.feed_forward_length'),
    nHead: f.getNumber('clip.vision.attention.head_count'),
    nLayer,
    nLayerRun,
    usePostNorm: projector !== 'mlp',
    eps: f.getNumber('clip.vision.attention.layer_norm_epsilon', 1e-6),
    act: useGelu ? 'gelu' : useSilu ? 'silu' : 'gelu_quick',
    projectorAct: 'gelu_erf',
    imageMean: triple(f.getArray('clip.vision.image_mean') as ArrayLike<number>, 'clip.vision.image_mean', src),
    imageStd: triple(f.getArray('clip.vision.image_std') as ArrayLike<number>, 'clip.vision.image_std', src),
    nMerge: f.getNumber('clip.vision.projector.scale_factor', nMergeDefault),
    nEmbdOut: f.getNumber('clip.vision.projection_dim'),
    longestEdge: projector === 'idefics3' ? f.getNumber('clip.vision.preproc_image_size', 0) : 0,
    ...preprocDefaults(projector),
  }, src);
}

type Json = Record<string, unknown>;
const num = (o: Json | undefined, k: string, def?: number): number => {
  const v = o?.[k];
  if (typeof v === 'number') return v;
  if (def !== undefined) return def;
  throw new ModelFormatError('VISION_BAD_CONFIG', `config is missing numeric '${k}'`);
};

/** HF `hidden_act` → activation. */
function hfAct(a: unknown): VisionActivation {
  if (a === 'quick_gelu') return 'gelu_quick';
  if (a === 'gelu_pytorch_tanh' || a === 'gelu_new' || a === 'gelu_fast') return 'gelu';
  if (a === 'gelu') return 'gelu_erf';
  if (a === 'silu') return 'silu';
  throw new ModelFormatError('VISION_BAD_CONFIG', `unsupported hidden_act '${String(a)}'`);
}

/**
 * Maps a Hugging Face `config.json` (+ `preprocessor_config.json`) of an Idefics3/SmolVLM,
 * LLaVA or Gemma 3 checkpoint to a {@link VisionConfig}, with the same conventions as the
 * converter (llama.cpp conversion/smolvlm.py, gemma.py, legacy llava converter): idefics3
 * `scale_factor` (default 2) and `size.longest_edge`; gemma3 pooling kernel
 * (image_size/patch_size)/sqrt(mm_tokens_per_image); LLaVA `vision_feature_layer` (default -2)
 * counted from the full tower.
 * @throws ModelFormatError `VISION_UNSUPPORTED_PROJECTOR`, `VISION_BAD_CONFIG`.
 */
export function visionConfigFromHF(config: Json, preproc: Json, source = '<config>'): VisionConfig {
  const mt = String(config.model_type ?? '');
  const projector: VisionProjector | undefined =
    mt === 'idefics3' || mt === 'smolvlm' ? 'idefics3' : mt === 'llava' ? 'mlp' : mt === 'gemma3' ? 'gemma3' : undefined;
  if (!projector) throw new ModelFormatError('VISION_UNSUPPORTED_PROJECTOR', `${source}: model_type '${mt}' has no supported vision tower (idefics3, smolvlm, llava, gemma3)`);
  const v = (config.vision_config ?? {}) as Json;
  const t = (config.text_config ?? {}) as Json;
  const imageSize = num(v, 'image_size');
  const patchSize = num(v, 'patch_size');
  const nLayer = num(v, 'num_hidden_layers');
  let nLayerRun = nLayer;
  let nMerge = 1;
  if (projector === 'mlp') {
    const fl = config.vision_feature_layer ?? -2;
    if (Array.isArray(fl) && fl.length !== 1) {
      throw new ModelFormatError('VISION_BAD_CONFIG', `${source}: several vision_feature_layer values (concatenated features) are not supported`);
    }
    const l = Array.isArray(fl) ? Math.max(...fl.map((x) => (x < 0 ? nLayer + 1 + x : x))) : (fl as number) < 0 ? nLayer + 1 + (fl as number) : (fl as number);
    nLayerRun = l;
    if (config.vision_feature_select_strategy !== undefined && config.vision_feature_select_strategy !== 'default') {
      throw new ModelFormatError('VISION_BAD_CONFIG', `${source}: vision_feature_select_strategy '${String(config.vision_feature_select_strategy)}' is not supported (only 'default')`);
    }
  } else if (projector === 'idefics3') {
    nMerge = num(config, 'scale_factor', 2);
  } else {
    const perSide = Math.round(Math.sqrt(num(config, 'mm_tokens_per_image', 256)));
    nMerge = Math.trunc(imageSize / patchSize / perSide);
  }
  const size = (preproc.size ?? {}) as Json;
  const mean = (preproc.image_mean ?? [0.5, 0.5, 0.5]) as number[];
  const std = (preproc.image_std ?? [0.5, 0.5, 0.5]) as number[];
  const defEps = projector === 'gemma3' ? 1e-6 : 1e-5;
  // SmolVLM2 configs omit some SigLIP sizes; conversion/smolvlm.py fills in transformers' defaults
  const sigDef = (k: string, d: number): number | undefined => (projector === 'idefics3' ? num(v, k, d) : undefined);
  // HF `resample` (PIL constants): 1 Lanczos, 2 bilinear, 3 bicubic
  const resample = preproc.resample === 1 ? 'lanczos' : preproc.resample === 2 ? 'bilinear' : 'bicubic';
  return check({
    projector,
    imageSize,
    patchSize,
    nEmbd: sigDef('hidden_size', 1152) ?? num(v, 'hidden_size'),
    nFf: sigDef('intermediate_size', 3072) ?? num(v, 'intermediate_size'),
    nHead: sigDef('num_attention_heads', 16) ?? num(v, 'num_attention_heads'),
    nLayer,
    nLayerRun,
    usePostNorm: projector !== 'mlp',
    eps: num(v, 'layer_norm_eps', defEps),
    act: hfAct(v.hidden_act ?? (projector === 'mlp' ? 'quick_gelu' : 'gelu_pytorch_tanh')),
    projectorAct: hfAct(config.projector_hidden_act ?? 'gelu'),
    imageMean: triple(mean, 'image_mean', source),
    imageStd: triple(std, 'image_std', source),
    nMerge,
    nEmbdOut: num(t, 'hidden_size'),
    longestEdge: projector === 'idefics3' ? num(size, 'longest_edge', imageSize) : 0,
    ...preprocDefaults(projector),
    ...(projector === 'mlp' ? { resizeAlgo: resample } : {}),
  }, source);
}
