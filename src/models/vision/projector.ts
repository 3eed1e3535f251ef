/**
 * Projectors from ViT features to LM embeddings:
 * - `mlp` (LLaVA-1.5, HF LlavaMultiModalProjector): `linear_2(act(linear_1(x)))` (GGUF mm.0 / mm.2);
 *   HF's `projector_hidden_act` 'gelu' is the erf GELU (llama.cpp uses its tanh-table ggml_gelu).
 * - `idefics3` (HF Idefics3Connector, clip.cpp `build_patch_merge_permute`): pixel shuffle by
 *   `scale_factor` s — token (y', x') gathers the s×s patches (y's+dy, x's+dx) into the feature
 *   index (dy·s + dx)·d + c — then a linear layer (mm.model.fc, no bias).
 * - `gemma3` (HF Gemma3MultiModalProjector, clip_graph_siglip): s×s average pooling of the
 *   patch grid, RMSNorm with (1 + w) (mm.soft_emb_norm, +1 folded in at load), and the linear
 *   `x · mm_input_projection_weight`.
 */
import type { VisionConfig } from './config.js';
import { activate, linear } from './ops.js';
import type { VisionKernels } from './kernels.js';
import { rmsNorm } from '../../nn/norm.js';
import type { ProjectorWeights } from './weights.js';

/**
 * Pixel shuffle (space-to-depth) of a square patch grid.
 * @param x float32 `[side·side, d]` row-major patches
 * @returns float32 `[(side/s)², d·s²]`
 */
export function pixelShuffle(x: Float32Array, side: number, d: number, s: number): Float32Array {
  const so = side / s;
  const out = new Float32Array(x.length);
  const D = d * s * s;
  for (let yo = 0; yo < so; yo++) for (let xo = 0; xo < so; xo++) {
    const ob = (yo * so + xo) * D;
    for (let dy = 0; dy < s; dy++) for (let dx = 0; dx < s; dx++) {
      const src = ((yo * s + dy) * side + xo * s + dx) * d;
      out.set(x.subarray(src, src + d), ob + (dy * s + dx) * d);
    }
  }
  return out;
}

/**
 * s×s average pooling (stride s) of a square grid, ggml_pool_2d AVG: float32 sum of the window
 * in (ky, kx) order, divided by s².
 * @param x float32 `[side·side, d]` → float32 `[(side/s)², d]`
 */
export function avgPool(x: Float32Array, side: number, d: number, s: number): Float32Array {
  const so = side / s;
  const out = new Float32Array(so * so * d);
  const f = Math.fround;
  const acc = new Float32Array(d);
  for (let yo = 0; yo < so; yo++) for (let xo = 0; xo < so; xo++) {
    acc.fill(0);
    for (let ky = 0; ky < s; ky++) for (let kx = 0; kx < s; kx++) {
      const src = ((yo * s + ky) * side + xo * s + kx) * d;
      for (let c = 0; c < d; c++) acc[c] = f(acc[c]! + x[src + c]!);
    }
    const o = (yo * so + xo) * d;
    for (let c = 0; c < d; c++) out[o + c] = f(acc[c]! / (s * s));
  }
  return out;
}

/** Tokens the projector emits for one tile. */
export function projectedTokens(cfg: VisionConfig): number {
  const side = cfg.imageSize / cfg.patchSize;
  return cfg.projector === 'mlp' ? side * side : (side / cfg.nMerge) ** 2;
}

/**
 * Projects one tile's ViT features.
 * @param feats float32 `[side², nEmbd]` (class token already removed)
 * @param k kernel provider (src/models/vision/kernels.ts) for the matmuls and GELU
 * @returns float32 `[projectedTokens(cfg), nEmbdOut]`
 */
export function project(cfg: VisionConfig, pw: ProjectorWeights, feats: Float32Array, k: VisionKernels): Float32Array {
  const side = cfg.imageSize / cfg.patchSize;
  const d = cfg.nEmbd;
  const nTok = side * side;
  if (pw.kind === 'mlp') {
    const hdn = new Float32Array(nTok * pw.mm0.nOut);
    linear(pw.mm0, pw.mm0B, feats, nTok, hdn, k);
    activate(cfg.projectorAct, hdn, hdn.length, k);
    if (!pw.mm2) return hdn;
    const out = new Float32Array(nTok * pw.mm2.nOut);
    linear(pw.mm2, pw.mm2B, hdn, nTok, out, k);
    return out;
  }
  const s = cfg.nMerge;
  const nOut = (side / s) ** 2;
  if (pw.kind === 'idefics3') {
    const sh = pixelShuffle(feats, side, d, s);
    const out = new Float32Array(nOut * pw.fc.nOut);
    linear(pw.fc, pw.fcB, sh, nOut, out, k);
    return out;
  }
  const pooled = avgPool(feats, side, d, s);
  rmsNorm(pooled, pw.softEmbNorm, pooled, nOut, d, cfg.eps);
  const out = new Float32Array(nOut * pw.inputProj.nOut);
  linear(pw.inputProj, null, pooled, nOut, out, k);
  return out;
}
