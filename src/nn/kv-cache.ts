/**
 * Per-layer key/value cache in float32, allocated once for the whole context
 * (llama.cpp `llama_kv_cache` with `-ctk f32 -ctv f32`). Layout per layer: K and V are
 * [nCtx, nHeadKv * headDim] row-major, one row per position.
 */

/** KV cache of a decoder: one K and one V buffer per layer. */
export class KVCache {
  readonly k: Float32Array[];
  readonly v: Float32Array[];
  /** Number of positions held (tokens). */
  length = 0;

  /**
   * @param nLayer layers; @param nCtx positions; @param kDim nHeadKv*headDimK; @param vDim nHeadKv*headDimV
   * Memory: nLayer * nCtx * (kDim + vDim) * 4 bytes.
   */
  constructor(readonly nLayer: number, readonly nCtx: number, readonly kDim: number, readonly vDim: number) {
    this.k = Array.from({ length: nLayer }, () => new Float32Array(nCtx * kDim));
    this.v = Array.from({ length: nLayer }, () => new Float32Array(nCtx * vDim));
  }

  /** Bytes held by the cache. */
  get bytes(): number {
    return this.nLayer * this.nCtx * (this.kDim + this.vDim) * 4;
  }
}
