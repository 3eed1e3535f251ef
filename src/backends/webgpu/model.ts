/**
 * A decoder-only transformer LM running entirely on WebGPU: the same graph as
 * src/models/transformer.ts (llama.cpp's llama/qwen2/qwen3/gemma3 graphs), with weights kept in
 * their GGUF block format in GPU buffers, activations and the K/V cache in GPU memory, and one
 * command submission per micro-batch; only the logits come back to the host.
 *
 * Browser-safe (no Node imports): it is built from a {@link GPUModelManifest} (config + where each
 * weight lies in the GGUF bytes + the small f32 vectors) and the file's bytes, so a page can fetch
 * the GGUF itself. src/backends/webgpu/remote-lm.ts builds the manifest in Node and drives this
 * class inside headless Chromium.
 */
import type { LLMConfig } from '../../models/config.js';
import { ropeParamsOf, type RopeParams } from '../../nn/rope.js';
import { WebGPUDevice } from './device.js';
import type { GPUBufferLike } from './gpu-types.js';
import { matmul } from './kernels/matmul.js';
import { getRows } from './kernels/get-rows.js';
import { rmsNorm } from './kernels/norm.js';
import { rope, ropeTable } from './kernels/rope.js';
import { attention } from './kernels/attention.js';
import { elementwise } from './kernels/elementwise.js';
import { rowBytes } from './quant-wgsl.js';
import { RequestError, ModelFormatError } from '../../core/errors.js';

/** Where one 2-D weight W [nOut, nIn] lies in the file bytes. */
export interface ManifestMat {
  type: number;
  nIn: number;
  nOut: number;
  /** Byte offset of the first block in the file. */
  offset: number;
}

/** Everything but the big tensors' bytes: config, weight locations and small vectors. */
export interface GPUModelManifest {
  config: LLMConfig;
  /** KV cache capacity (tokens). */
  nCtx: number;
  /** 2-D weights by GGUF name (`token_embd.weight`, `blk.N.attn_q.weight`, …). */
  mats: Record<string, ManifestMat>;
  /** 1-D float32 tensors by GGUF name (norm weights, biases). */
  vecs: Record<string, Float32Array>;
  /** llama3 RoPE frequency factors or null. */
  ropeFreqs: Float32Array | null;
}

interface GMat { type: number; nIn: number; nOut: number; buf: GPUBufferLike }
interface GLayer {
  attnNorm: GPUBufferLike; wq: GMat; wk: GMat; wv: GMat; wo: GMat;
  bq: GPUBufferLike | null; bk: GPUBufferLike | null; bv: GPUBufferLike | null;
  qNorm: GPUBufferLike | null; kNorm: GPUBufferLike | null; postAttnNorm: GPUBufferLike | null;
  ffnNorm: GPUBufferLike; wGate: GMat; wUp: GMat; wDown: GMat; postFfnNorm: GPUBufferLike | null;
  kc: GPUBufferLike; vc: GPUBufferLike;
}

/** Micro-batch size (tokens per submission); longer inputs are split. */
export const GPU_UBATCH = 64;

/** A transformer LM on a WebGPU device. */
export class WebGPUTransformer {
  private nPastV = 0;
  private readonly layers: GLayer[] = [];
  private readonly tokEmbd: GMat;
  private readonly output: GMat;
  private readonly outNorm: GPUBufferLike;
  private readonly s: Record<'x' | 'h' | 'q' | 'k' | 'v' | 'att' | 'o' | 'g' | 'u' | 'ids' | 'csG' | 'csL' | 'logits', GPUBufferLike>;
  private readonly rp: { global: RopeParams; local: RopeParams };
  private readonly owned: GPUBufferLike[] = [];

  /**
   * Uploads the weights.
   * @param bytes the whole GGUF file (weights are read at the manifest's offsets)
   * @throws ModelFormatError when a weight lies outside `bytes`; BackendError (`WEBGPU_UNSUPPORTED_TYPE`,
   *   `WEBGPU_TOO_LARGE`) when a weight type has no kernel or a tensor exceeds the device's binding size.
   */
  constructor(readonly dev: WebGPUDevice, readonly manifest: GPUModelManifest, bytes: Uint8Array) {
    const c = manifest.config;
    const mats = new Map<string, GMat>();
    const mat = (name: string): GMat => {
      const m = manifest.mats[name];
      if (!m) throw new ModelFormatError('MISSING_TENSOR', `manifest lacks '${name}'`);
      let g = mats.get(name);
      if (!g) {
        const n = rowBytes(m.type, m.nIn) * m.nOut;
        if (m.offset + n > bytes.byteLength) throw new ModelFormatError('GGUF_TRUNCATED', `${name}: bytes [${m.offset}, ${m.offset + n}) lie outside the file`);
        g = { type: m.type, nIn: m.nIn, nOut: m.nOut, buf: this.own(dev.createBuffer(bytes.subarray(m.offset, m.offset + n), name)) };
        mats.set(name, g);
      }
      return g;
    };
    const vec = (name: string): GPUBufferLike | null => {
      const v = manifest.vecs[name];
      return v ? this.own(dev.createBuffer(v, name)) : null;
    };
    const req = (name: string): GPUBufferLike => {
      const v = vec(name);
      if (!v) throw new ModelFormatError('MISSING_TENSOR', `manifest lacks '${name}'`);
      return v;
    };
    const kvK = c.nHeadKv * c.headDimK, kvV = c.nHeadKv * c.headDimV;
    for (let i = 0; i < c.nLayer; i++) {
      const p = `blk.${i}.`;
      this.layers.push({
        attnNorm: req(p + 'attn_norm.weight'), wq: mat(p + 'attn_q.weight'), wk: mat(p + 'attn_k.weight'), wv: mat(p + 'attn_v.weight'),
        wo: mat(p + 'attn_output.weight'), bq: vec(p + 'attn_q.bias'), bk: vec(p + 'attn_k.bias'), bv: vec(p + 'attn_v.bias'),
        qNorm: c.qkNorm ? req(p + 'attn_q_norm.weight') : null, kNorm: c.qkNorm ? req(p + 'attn_k_norm.weight') : null,
        postAttnNorm: c.postNorms ? req(p + 'post_attention_norm.weight') : null, ffnNorm: req(p + 'ffn_norm.weight'),
        wGate: mat(p + 'ffn_gate.weight'), wUp: mat(p + 'ffn_up.weight'), wDown: mat(p + 'ffn_down.weight'),
        postFfnNorm: c.postNorms ? req(p + 'post_ffw_norm.weight') : null,
        kc: this.own(dev.createBuffer(manifest.nCtx * kvK * 4, `k${i}`)), vc: this.own(dev.createBuffer(manifest.nCtx * kvV * 4, `v${i}`)),
      });
    }
    this.tokEmbd = mat('token_embd.weight');
    this.output = c.tiedEmbeddings ? this.tokEmbd : mat('output.weight');
    this.outNorm = req('output_norm.weight');
    const M = GPU_UBATCH, f = (n: number, l: string) => this.own(dev.createBuffer(n * 4, l));
    this.s = {
      x: f(M * c.nEmbd, 'x'), h: f(M * c.nEmbd, 'h'), q: f(M * c.nHead * c.headDimK, 'q'), k: f(M * kvK, 'k'), v: f(M * kvV, 'v'),
      att: f(M * c.nHead * c.headDimV, 'att'), o: f(M * c.nEmbd, 'o'), g: f(M * c.nFF, 'g'), u: f(M * c.nFF, 'u'), ids: f(M, 'ids'),
      csG: f(M * c.ropeDim, 'cs_global'), csL: f(M * c.ropeDim, 'cs_local'), logits: f(M * c.nVocab, 'logits'),
    };
    this.rp = ropeParamsOf(c, manifest.ropeFreqs);
  }

  private own(b: GPUBufferLike): GPUBufferLike {
    this.owned.push(b);
    return b;
  }

  /** Tokens in the KV cache. */
  get nPast(): number {
    return this.nPastV;
  }

  /** Drops cached tokens from position n on. @throws RequestError when n is outside [0, nPast]. */
  truncate(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.nPastV) throw new RequestError('BAD_TRUNCATE', `cannot truncate a cache of ${this.nPastV} tokens to ${n}`);
    this.nPastV = n;
  }

  /** True when layer il uses the sliding window (gemma3 pattern rule, as Transformer.isLocalLayer). */
  private isLocal(il: number): boolean {
    const c = this.manifest.config;
    return c.slidingWindow > 0 && c.swaPattern > 1 && il % c.swaPattern < c.swaPattern - 1;
  }

  /**
   * Runs tokens at positions [nPast, nPast + n) and returns float32 logits [nVocab] of the last
   * token, or [n, nVocab] with allLogits.
   * @throws RequestError (`EMPTY_INPUT`, `CONTEXT_OVERFLOW`, `BAD_TOKEN`); BackendError from WebGPU.
   */
  async forward(tokens: ArrayLike<number>, opts: { allLogits?: boolean } = {}): Promise<Float32Array> {
    const c = this.manifest.config;
    const n = tokens.length;
    if (n === 0) throw new RequestError('EMPTY_INPUT', 'forward() needs at least one token');
    if (this.nPastV + n > this.manifest.nCtx) throw new RequestError('CONTEXT_OVERFLOW', `${this.nPastV} cached + ${n} new tokens exceed the context size ${this.manifest.nCtx}`);
    for (let i = 0; i < n; i++) {
      const t = tokens[i]!;
      if (!Number.isInteger(t) || t < 0 || t >= c.nVocab) throw new RequestError('BAD_TOKEN', `token id ${t} is outside [0, ${c.nVocab})`);
    }
    const all = opts.allLogits === true;
    const out = new Float32Array(all ? n * c.nVocab : c.nVocab);
    for (let s = 0; s < n; s += GPU_UBATCH) {
      const m = Math.min(GPU_UBATCH, n - s);
      const last = s + m === n;
      const ids = new Int32Array(m);
      for (let i = 0; i < m; i++) ids[i] = tokens[s + i]!;
      this.encode(ids, all ? 'all' : last ? 'last' : 'none');
      if (all || last) {
        const first = all ? 0 : m - 1;
        const rows = m - first;
        const lg = await this.dev.readF32(this.s.logits, rows * c.nVocab);
        if (c.finalLogitSoftcap > 0) for (let i = 0; i < lg.length; i++) lg[i] = Math.tanh(lg[i]! / c.finalLogitSoftcap) * c.finalLogitSoftcap;
        out.set(lg, all ? s * c.nVocab : 0);
      } else await this.dev.flush();
    }
    return out;
  }

  /** Records one micro-batch of m ≤ GPU_UBATCH tokens; logits of all rows or of the last one go to s.logits. */
  private encode(ids: Int32Array, logits: 'all' | 'last' | 'none'): void {
    const c = this.manifest.config, d = this.dev, S = this.s, m = ids.length, e = c.nEmbd;
    const pos0 = this.nPastV;
    const kvK = c.nHeadKv * c.headDimK, kvV = c.nHeadKv * c.headDimV;
    d.write(S.ids, ids);
    d.write(S.csG, ropeTable(this.rp.global, pos0, m));
    if (c.slidingWindow > 0) d.write(S.csL, ropeTable(this.rp.local, pos0, m));
    getRows(d, this.tokEmbd.buf, S.ids, S.x, { type: this.tokEmbd.type, nIn: e, nIds: m });
    if (c.embedScale) elementwise(d, 'scale', S.x, null, S.x, { n: m * e, s: Math.fround(Math.sqrt(e)) });
    const mm = (w: GMat, x: GPUBufferLike, y: GPUBufferLike) => matmul(d, w.buf, x, y, { type: w.type, nIn: w.nIn, nOut: w.nOut, nTok: m });
    for (let il = 0; il < c.nLayer; il++) {
      const L = this.layers[il]!;
      const local = this.isLocal(il);
      rmsNorm(d, S.x, L.attnNorm, S.h, { n: e, rows: m, eps: c.rmsEps });
      mm(L.wq, S.h, S.q);
      mm(L.wk, S.h, S.k);
      mm(L.wv, S.h, S.v);
      if (L.bq) elementwise(d, 'add', S.q, L.bq, S.q, { n: m * L.wq.nOut, bn: L.wq.nOut });
      if (L.bk) elementwise(d, 'add', S.k, L.bk, S.k, { n: m * kvK, bn: kvK });
      if (L.bv) elementwise(d, 'add', S.v, L.bv, S.v, { n: m * kvV, bn: kvV });
      if (L.qNorm) rmsNorm(d, S.q, L.qNorm, S.q, { n: c.headDimK, rows: m * c.nHead, eps: c.rmsEps });
      if (L.kNorm) rmsNorm(d, S.k, L.kNorm, S.k, { n: c.headDimK, rows: m * c.nHeadKv, eps: c.rmsEps });
      const cs = local ? S.csL : S.csG;
      const mode = c.ropeType;
      rope(d, S.q, cs, { nTok: m, nHeads: c.nHead, headDim: c.headDimK, nDims: c.ropeDim, mode });
      rope(d, S.k, cs, { nTok: m, nHeads: c.nHeadKv, headDim: c.headDimK, nDims: c.ropeDim, mode });
      if (c.scaleQ) elementwise(d, 'scale', S.q, null, S.q, { n: m * c.nHead * c.headDimK, s: Math.fround(c.attnScale) });
      elementwise(d, 'copy', S.k, null, L.kc, { n: m * kvK, yOff: pos0 * kvK });
      elementwise(d, 'copy', S.v, null, L.vc, { n: m * kvV, yOff: pos0 * kvV });
      attention(d, S.q, L.kc, L.vc, S.att, {
        nTok: m, pos0, nHead: c.nHead, nHeadKv: c.nHeadKv, dk: c.headDimK, dv: c.headDimV,
        scale: Math.fround(c.scaleQ ? 1 : c.attnScale), window: local ? c.slidingWindow : 0,
      });
      mm(L.wo, S.att, S.o);
      if (L.postAttnNorm) rmsNorm(d, S.o, L.postAttnNorm, S.o, { n: e, rows: m, eps: c.rmsEps });
      elementwise(d, 'add', S.x, S.o, S.x, { n: m * e });
      rmsNorm(d, S.x, L.ffnNorm, S.h, { n: e, rows: m, eps: c.rmsEps });
      mm(L.wGate, S.h, S.g);
      mm(L.wUp, S.h, S.u);
      elementwise(d, c.activation === 'silu' ? 'swiglu' : 'geglu', S.g, S.u, S.g, { n: m * c.nFF });
      mm(L.wDown, S.g, S.o);
      if (L.postFfnNorm) rmsNorm(d, S.o, L.postFfnNorm, S.o, { n: e, rows: m, eps: c.rmsEps });
      elementwise(d, 'add', S.x, S.o, S.x, { n: m * e });
    }
    this.nPastV = pos0 + m;
    if (logits === 'none') return;
    const first = logits === 'all' ? 0 : m - 1;
    rmsNorm(d, S.x, this.outNorm, S.h, { n: e, rows: m - first, eps: c.rmsEps, xOff: first * e });
    const w = this.output;
    matmul(d, w.buf, S.h, S.logits, { type: w.type, nIn: w.nIn, nOut: w.nOut, nTok: m - first });
  }

  /** Destroys every GPU buffer of the model (the device stays). */
  dispose(): void {
    for (const b of this.owned) b.destroy();
    this.owned.length = 0;
  }
}
