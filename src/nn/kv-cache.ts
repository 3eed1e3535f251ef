/**
 * Per-layer key/value cache in float32, allocated once for the whole context
 * (llama.cpp `llama_kv_cache` with `-ctk f32 -ctv f32`, flash attention off). Layout per layer,
 * as llama.cpp's: K is [nCtx, nHeadKv * headDimK] row-major (one row per position); V is stored
 * transposed (llama.cpp `v_trans`), [nHeadKv * headDimV, nCtx]: one row per value channel, so
 * kqv = V^T · softmax(kq) reads contiguous rows.
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
   * @param alloc allocator of the zeroed buffers (default `new Float32Array(n)`; a kernel set's
   *   `allocF32` puts them where its attention reads them without a copy)
   */
  constructor(readonly nLayer: number, readonly nCtx: number, readonly kDim: number, readonly vDim: number,
    alloc: (n: number) => Float32Array = (n) => new Float32Array(n)) {
    this.k = Array.from({ length: nLayer }, () => alloc(nCtx * kDim));
    this.v = Array.from({ length: nLayer }, () => alloc(nCtx * vDim));
  }

  /**
   * Writes K/V rows of `n` tokens at positions pos0… of layer `il` (llama.cpp `cpy_k` / `cpy_v`).
   * @param k float32 [n, kDim]; @param v float32 [n, vDim] (token-major; stored transposed)
   */
  store(il: number, pos0: number, k: Float32Array, v: Float32Array, n: number): void {
    this.k[il]!.set(k.subarray(0, n * this.kDim), pos0 * this.kDim);
    const vc = this.v[il]!;
    const nCtx = this.nCtx, vDim = this.vDim;
    for (let t = 0; t < n; t++) {
      const src = t * vDim;
      const dst = pos0 + t;
      for (let c = 0; c < vDim; c++) vc[c * nCtx + dst] = v[src + c]!;
    }
  }

  /** Bytes held by the cache. */
  get bytes(): number {
    return this.nLayer * this.nCtx * (this.kDim + this.vDim) * 4;
  }
}
