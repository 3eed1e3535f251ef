/**
 * Rotary position embedding (Su et al. 2021, "RoFormer"), computed as ggml's CPU `rope_f32`
 * (ggml-cpu/ops.cpp: `ggml_rope_cache_init`, `rope_yarn`, `rotate_pairs`): theta for pair i is
 * p * base^(-2i/n_dims), built iteratively in float32 (`theta *= theta_scale`), divided by the
 * optional per-pair frequency factor, interpolated by YaRN when `extFactor` ≠ 0 (Peng et al. 2023).
 * `norm` mode rotates (2i, 2i+1) (llama); `neox` rotates (i, i + n_dims/2) (qwen2/3, gemma3).
 */
import type { LLMConfig, RopeType } from '../models/config.js';

const fr = Math.fround;

/** Parameters of one RoPE application (one layer kind). */
export interface RopeParams {
  type: RopeType;
  /** Rotated dims per head (even, ≤ head dim). */
  nDims: number;
  freqBase: number;
  /** 1 / linear scaling factor. */
  freqScale: number;
  /** Per-pair frequency divisors float32 [nDims/2] (llama3 `rope_freqs.weight`), or null. */
  freqFactors: Float32Array | null;
  /** YaRN: extrapolation mix factor (0 = off), attention factor, beta fast/slow, original context. */
  extFactor: number;
  attnFactor: number;
  betaFast: number;
  betaSlow: number;
  nCtxOrig: number;
}

function corrDim(nDims: number, nCtxOrig: number, nRot: number, base: number): number {
  // ggml_rope_yarn_corr_dim: n_dims * logf(n_ctx_orig / (n_rot * 2 * pi)) / (2 * logf(base))
  return fr(fr(nDims * fr(Math.log(fr(nCtxOrig / fr(nRot * 2 * Math.PI))))) / fr(2 * fr(Math.log(base))));
}

/**
 * Builds the cos/sin cache of one position: cache float32 [nDims] laid out (cos0, sin0, cos1, sin1…).
 */
export function ropeCache(p: RopeParams, pos: number, cache: Float32Array): void {
  const thetaScale = fr(Math.pow(p.freqBase, fr(-2 / p.nDims)));
  let c0 = 0, c1 = 0;
  if (p.extFactor !== 0) {
    c0 = Math.max(0, Math.floor(corrDim(p.nDims, p.nCtxOrig, p.betaFast, p.freqBase)));
    c1 = Math.min(p.nDims - 1, Math.ceil(corrDim(p.nDims, p.nCtxOrig, p.betaSlow, p.freqBase)));
  }
  let theta = fr(pos);
  for (let i0 = 0; i0 < p.nDims; i0 += 2) {
    const ff = p.freqFactors ? p.freqFactors[i0 / 2]! : 1;
    const thetaExtrap = fr(theta / ff);
    let th = fr(p.freqScale * thetaExtrap);
    let mscale = fr(p.attnFactor);
    if (p.extFactor !== 0) {
      const y = fr(fr(Math.floor(i0 / 2) - c0) / Math.max(0.001, c1 - c0));
      const ramp = fr(1 - Math.min(1, Math.max(0, y)));
      const mix = fr(ramp * p.extFactor);
      th = fr(fr(th * fr(1 - mix)) + fr(thetaExtrap * mix));
      mscale = fr(mscale * fr(1 + fr(0.1 * fr(Math.log(fr(1 / p.freqScale))))));
    }
    cache[i0] = fr(fr(Math.cos(th)) * mscale);
    cache[i0 + 1] = fr(fr(Math.sin(th)) * mscale);
    theta = fr(theta * thetaScale);
  }
}

/**
 * Rotates `nHeads` heads of one token in place.
 * @param x float32 vector holding [nHeads, headDim] starting at `off`
 * @param cache from {@link ropeCache} for this token's position
 */
export function applyRope(p: RopeParams, x: Float32Array, off: number, nHeads: number, headDim: number, cache: Float32Array): void {
  const n = p.nDims;
  for (let h = 0; h < nHeads; h++) {
    const base = off + h * headDim;
    if (p.type === 'norm') {
      for (let i0 = 0; i0 < n; i0 += 2) {
        const c = cache[i0]!, s = cache[i0 + 1]!;
        const x0 = x[base + i0]!, x1 = x[base + i0 + 1]!;
        x[base + i0] = fr(x0 * c) - fr(x1 * s);
        x[base + i0 + 1] = fr(x0 * s) + fr(x1 * c);
      }
    } else {
      const half = n / 2;
      for (let i0 = 0; i0 < n; i0 += 2) {
        const ic = i0 / 2;
        const c = cache[i0]!, s = cache[i0 + 1]!;
        const x0 = x[base + ic]!, x1 = x[base + ic + half]!;
        x[base + ic] = fr(x0 * c) - fr(x1 * s);
        x[base + ic + half] = fr(x0 * s) + fr(x1 * c);
      }
    }
  }
}

/**
 * RoPE parameters of a model's global and sliding-window layers (llama.cpp: sliding-window layers
 * use rope.freq_base_swa and no frequency scaling; YaRN ext_factor defaults to 1 when unset).
 * Shared by the CPU transformer and the WebGPU model.
 */
export function ropeParamsOf(c: LLMConfig, freqFactors: Float32Array | null): { global: RopeParams; local: RopeParams } {
  const sc = c.ropeScaling;
  const global: RopeParams = {
    type: c.ropeType, nDims: c.ropeDim, freqBase: c.ropeFreqBase,
    freqScale: sc.type === 'linear' || sc.type === 'yarn' ? 1 / sc.factor : 1,
    freqFactors,
    extFactor: sc.type === 'yarn' ? (sc.yarnExtFactor !== undefined && sc.yarnExtFactor >= 0 ? sc.yarnExtFactor : 1) : 0,
    attnFactor: sc.yarnAttnFactor ?? 1, betaFast: sc.yarnBetaFast ?? 32, betaSlow: sc.yarnBetaSlow ?? 1, nCtxOrig: sc.originalContext,
  };
  return { global, local: { ...global, freqBase: c.ropeFreqBaseSwa ?? c.ropeFreqBase, freqScale: 1, extFactor: 0, attnFactor: 1 } };
}
