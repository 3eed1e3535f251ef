/**
 * Causal multi-head attention with grouped K/V heads (MHA / GQA / MQA) and an optional sliding
 * window, over the float32 KV cache — the non-flash path of llama.cpp's `build_attn_mha`
 * (llama-graph.cpp): kq = K·q, softmax(kq * scale + mask) with `ggml_soft_max_ext`
 * semantics (max subtracted, exp in float32, sum in float64, multiply by 1/sum), then Σ p·V.
 * Sliding window as llama.cpp `LLAMA_SWA_TYPE_STANDARD`: key at p0 is visible from query at p1
 * when p1 - p0 < window. Paper: Vaswani et al. 2017; GQA: Ainslie et al. 2023.
 *
 * This is the portable reference (accurate to ~1e-6, not bit-exact); the engine runs the native
 * `attention` kernel (native/sf_attn.c), which reproduces llama.cpp's SIMD summation order.
 */

const fr = Math.fround;

/** Shapes of one attention call. */
export interface AttentionShape {
  nHead: number;
  nHeadKv: number;
  headDimK: number;
  headDimV: number;
  /** Score scale (e.g. 1/sqrt(headDimK)); gemma3 pre-scales q and passes 1. */
  scale: number;
  /** Sliding window in tokens (0 = full causal). */
  window: number;
}

/**
 * Attention for `nTok` query tokens at positions pos0 … pos0+nTok-1, whose K/V are already in
 * the cache rows [0, pos0+nTok).
 * @param q float32 [nTok, nHead*headDimK]
 * @param kc float32 cache [nCtx, nHeadKv*headDimK]
 * @param vc float32 cache stored transposed, [nHeadKv*headDimV, nCtx] (llama.cpp v_trans; see KVCache)
 * @param out float32 [nTok, nHead*headDimV]
 * @param scores scratch float32 of at least pos0+nTok elements
 */
export function attention(s: AttentionShape, q: Float32Array, kc: Float32Array, vc: Float32Array, out: Float32Array, nTok: number, pos0: number, scores: Float32Array): void {
  const { nHead, nHeadKv, headDimK: dk, headDimV: dv, scale, window } = s;
  const group = nHead / nHeadKv;
  const kStride = nHeadKv * dk;
  const nCtx = kc.length / kStride;
  for (let t = 0; t < nTok; t++) {
    const p1 = pos0 + t;
    const j0 = window > 0 ? Math.max(0, p1 - window + 1) : 0;
    for (let h = 0; h < nHead; h++) {
      const g = Math.floor(h / group);
      const qo = t * nHead * dk + h * dk;
      let max = -Infinity;
      for (let j = j0; j <= p1; j++) {
        const ko = j * kStride + g * dk;
        let dot = 0;
        for (let i = 0; i < dk; i++) dot += q[qo + i]! * kc[ko + i]!;
        const v = fr(fr(dot) * scale);
        scores[j] = v;
        if (v > max) max = v;
      }
      let sum = 0;
      for (let j = j0; j <= p1; j++) {
        const e = fr(Math.exp(fr(scores[j]! - max)));
        scores[j] = e;
        sum += e;
      }
      const inv = fr(1 / sum);
      const oo = t * nHead * dv + h * dv;
      for (let i = 0; i < dv; i++) out[oo + i] = 0;
      for (let j = j0; j <= p1; j++) {
        const pj = fr(scores[j]! * inv);
        const vo = g * dv * nCtx + j;
        for (let i = 0; i < dv; i++) out[oo + i] += pj * vc[vo + i * nCtx]!;
      }
    }
  }
}
