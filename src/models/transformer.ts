/**
 * The shared decoder-only transformer builder: pre-norm blocks
 *   x += [postAttnNorm](Wo · attn(rope([qkNorm](Wq·n1(x)+bq)), rope([qkNorm](Wk·n1(x)+bk)), Wv·n1(x)+bv))
 *   x += [postFfnNorm](Wdown · act(Wgate·n2(x)) ⊙ (Wup·n2(x)))
 * configured by {@link LLMConfig} flags, so llama, qwen2, qwen3 and gemma3 are data, not code.
 * Follows llama.cpp's graphs (src/models/{llama,qwen2,qwen3,gemma3}.cpp) op for op, including
 * where each scale is applied, so logits track llama.cpp closely.
 *
 * Matmuls run in the CPU backend's native kernels on the weights' own block format (activations
 * quantized per row as ggml does); all activation buffers are allocated once per model for a
 * maximal micro-batch of {@link MAX_UBATCH} tokens and reused.
 */
import type { CausalLM, EmbeddingsForwardOptions, ForwardOptions } from './causal-lm.js';
import type { LLMConfig } from './config.js';
import type { DecoderWeights, MatWeight } from './weights.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { RequestError, ShapeError } from '../core/errors.js';
import { KVCache } from '../nn/kv-cache.js';
import { rmsNorm } from '../nn/norm.js';
import { ropeParamsOf, type RopeParams } from '../nn/rope.js';
import { native, type NativeAttentionShape, type NativeRopeParams } from '../backends/cpu/native.js';
import type { LayerKernels } from '../backends/kernels.js';

/** Largest number of tokens evaluated in one pass; longer prompts are split (llama.cpp n_ubatch). */
export const MAX_UBATCH = 512;

/** Scratch activations for up to `n` tokens. */
class Scratch {
  readonly x: Float32Array; // residual [n, d]
  readonly h: Float32Array; // normed [n, d]
  readonly q: Float32Array; // [n, nHead*dk]
  readonly k: Float32Array; // [n, nKv*dk]
  readonly v: Float32Array; // [n, nKv*dv]
  readonly att: Float32Array; // [n, nHead*dv]
  readonly o: Float32Array; // [n, d]
  readonly g: Float32Array; // [n, ff]
  readonly u: Float32Array; // [n, ff]
  readonly ids: Int32Array;
  /** @param alloc zeroed float32 buffers (the kernels' allocF32 where they have one) */
  constructor(readonly n: number, c: LLMConfig, alloc: (n: number) => Float32Array) {
    const d = c.nEmbd;
    this.x = alloc(n * d);
    this.h = alloc(n * d);
    this.q = alloc(n * c.nHead * c.headDimK);
    this.k = alloc(n * c.nHeadKv * c.headDimK);
    this.v = alloc(n * c.nHeadKv * c.headDimV);
    this.att = alloc(n * c.nHead * c.headDimV);
    this.o = alloc(n * d);
    this.g = alloc(n * c.nFF);
    this.u = alloc(n * c.nFF);
    this.ids = new Int32Array(n);
  }

  /** The float buffers (for freeing). */
  floats(): Float32Array[] {
    return [this.x, this.h, this.q, this.k, this.v, this.att, this.o, this.g, this.u];
  }
}

/** Options of {@link Transformer}. */
export interface TransformerOptions {
  /** Kernel set to run on (default: the native CPU addon). */
  kernels?: LayerKernels;
  /** KV cache size in tokens (default min(4096, nCtxTrain)). */
  nCtx?: number;
}

/** A decoder-only LM on the CPU backend. */
export class Transformer implements CausalLM {
  readonly nCtx: number;
  /** The KV cache, made on first use (again after dispose()). */
  private kv: KVCache | null = null;
  private readonly kern: LayerKernels;
  private scratch: Scratch | null = null;
  private readonly ropeGlobal: NativeRopeParams;
  private readonly ropeLocal: NativeRopeParams;
  /** Attention call parameters, updated in place per layer (no per-call object). */
  private readonly attnShape: NativeAttentionShape;
  private logitsBuf: Float32Array;
  /** Layer being evaluated (read by attendAll). */
  private curLayer = 0;

  constructor(readonly config: LLMConfig, readonly weights: DecoderWeights, readonly tokenizer: Tokenizer, opts: TransformerOptions = {}) {
    const c = config;
    this.nCtx = Math.max(1, Math.min(opts.nCtx ?? 4096, c.nCtxTrain));
    this.kern = opts.kernels ?? native();
    const { global, local } = ropeParamsOf(c, weights.ropeFreqs);
    this.ropeGlobal = toNativeRope(global);
    this.ropeLocal = toNativeRope(local);
    this.logitsBuf = new Float32Array(c.nVocab);
    this.attnShape = {
      nTok: 0, pos0: 0, nHead: c.nHead, nHeadKv: c.nHeadKv, headDimK: c.headDimK, headDimV: c.headDimV,
      nCtx: this.nCtx, scale: Math.fround(c.scaleQ ? 1 : c.attnScale), window: 0,
    };
  }

  /** Zeroed float32 buffers: in the kernels' own memory where they offer it (no copies per call). */
  private readonly alloc = (n: number): Float32Array => (this.kern.allocF32 ? this.kern.allocF32(n) : new Float32Array(n));

  private get cache(): KVCache {
    const c = this.config;
    return (this.kv ??= new KVCache(c.nLayer, this.nCtx, c.nHeadKv * c.headDimK, c.nHeadKv * c.headDimV, this.alloc));
  }

  get nPast(): number {
    return this.kv ? this.kv.length : 0;
  }

  /** Bytes of the KV cache. */
  get kvBytes(): number {
    const c = this.config;
    return c.nLayer * this.nCtx * c.nHeadKv * (c.headDimK + c.headDimV) * 4;
  }

  truncate(n: number): void {
    if (n < 0 || n > this.nPast) throw new RequestError('BAD_TRUNCATE', `cannot truncate a cache of ${this.nPast} tokens to ${n}`);
    if (this.kv) this.kv.length = n;
  }

  /** Frees the scratch buffers and the KV cache (nPast becomes 0; a later forward starts a new cache). */
  dispose(): void {
    const free = this.kern.freeF32?.bind(this.kern);
    if (free) {
      for (const a of this.scratch?.floats() ?? []) free(a);
      for (const a of [...(this.kv?.k ?? []), ...(this.kv?.v ?? [])]) free(a);
    }
    this.scratch = null;
    this.kv = null;
  }

  /** True when layer `il` uses the sliding window (gemma3 pattern rule). */
  isLocalLayer(il: number): boolean {
    const c = this.config;
    return c.slidingWindow > 0 && c.swaPattern > 1 && il % c.swaPattern < c.swaPattern - 1;
  }

  forward(tokens: ArrayLike<number>, options: ForwardOptions = {}): Float32Array {
    const n = tokens.length;
    const c = this.config;
    if (n === 0) throw new RequestError('EMPTY_INPUT', 'forward() needs at least one token');
    this.checkRoom(n);
    for (let i = 0; i < n; i++) {
      const t = tokens[i]!;
      if (!Number.isInteger(t) || t < 0 || t >= c.nVocab) throw new RequestError('BAD_TOKEN', `token id ${t} is outside [0, ${c.nVocab})`);
    }
    return this.run(n, tokens, null, false, options);
  }

  forwardEmbeddings(embd: Float32Array, n: number, options: EmbeddingsForwardOptions = {}): Float32Array {
    const d = this.config.nEmbd;
    if (!Number.isInteger(n) || n <= 0) throw new RequestError('EMPTY_INPUT', `forwardEmbeddings() needs at least one row, got n = ${n}`);
    if (embd.length !== n * d) throw new ShapeError('BAD_EMBEDDINGS', `embeddings must be float32 [${n}, ${d}] (${n * d} values), got ${embd.length}`);
    this.checkRoom(n);
    const nonCausal = options.nonCausal === true;
    if (nonCausal && n > MAX_UBATCH) {
      // llama.cpp requires a non-causal batch to fit one ubatch too (llama_decode: n_ubatch ≥ n_tokens).
      throw new RequestError('BATCH_TOO_LARGE', `a non-causal embeddings batch of ${n} rows exceeds the micro-batch size ${MAX_UBATCH}`);
    }
    return this.run(n, null, embd, nonCausal, options);
  }

  /** @throws RequestError (`CONTEXT_OVERFLOW`) when n more tokens do not fit in the KV cache. */
  private checkRoom(n: number): void {
    if (this.nPast + n > this.nCtx) {
      throw new RequestError('CONTEXT_OVERFLOW', `${this.nPast} cached + ${n} new tokens exceed the context size ${this.nCtx}`);
    }
  }

  /** Runs n inputs (token ids or embedding rows) in micro-batches of at most MAX_UBATCH. */
  private run(n: number, tokens: ArrayLike<number> | null, embd: Float32Array | null, nonCausal: boolean, options: ForwardOptions): Float32Array {
    const c = this.config;
    const all = options.allLogits === true;
    const out = all ? new Float32Array(n * c.nVocab) : this.logitsBuf;
    for (let s = 0; s < n; s += MAX_UBATCH) {
      const m = Math.min(MAX_UBATCH, n - s);
      const last = s + m === n;
      this.ubatch(tokens, embd, nonCausal, s, m, all ? out.subarray(s * c.nVocab, (s + m) * c.nVocab) : last ? out : null, all);
    }
    return out;
  }

  /**
   * Non-causal attention for a micro-batch of m rows at positions [pos0, pos0+m): every row sees
   * every key up to pos0+m−1 (llama.cpp's `llama_set_causal_attn(ctx, false)`, used by mtmd for
   * Gemma 3 image chunks). The causal kernel is called once per query row with the query position
   * moved to the batch's last position, so its mask admits the whole batch (and the sliding window,
   * if any, widened so it still starts at the row's own position). Only the mask changes: RoPE was
   * already applied at each row's own position. Not on the text hot path.
   */
  private attendAll(pos0: number, m: number): void {
    const c = this.config;
    const S = this.scratch!;
    const A = this.attnShape;
    const il = this.curLayer;
    const qRow = c.nHead * c.headDimK;
    const oRow = c.nHead * c.headDimV;
    const window = A.window;
    A.nTok = 1;
    A.pos0 = pos0 + m - 1;
    for (let i = 0; i < m; i++) {
      // Sliding window (llama_hparams::is_masked_swa): a key is dropped when it lies `window` or more
      // positions before the query's own position p_i = pos0 + i; later keys of the batch are kept.
      // Widening the window by the distance to the batch end keeps the kernel's lower bound at p_i.
      if (window > 0) A.window = window + (m - 1 - i);
      this.kern.attention(S.q.subarray(i * qRow, (i + 1) * qRow), this.cache.k[il]!, this.cache.v[il]!, S.att.subarray(i * oRow, (i + 1) * oRow), A);
    }
    A.window = window;
    A.nTok = m;
    A.pos0 = pos0;
  }

  private mm(w: MatWeight, x: Float32Array, nTok: number, y: Float32Array): void {
    // Kernels read nTok*nIn and write nTok*nOut elements; longer buffers are fine (no views per call).
    this.kern.matmul(w.type, w.data, w.nOut, w.nIn, x, nTok, y);
  }

  /** RMSNorm (src/nn/norm.ts) in the native kernels when the kernel set has it (same bits), else in TypeScript. */
  private norm(x: Float32Array, w: Float32Array | null, y: Float32Array, rows: number, n: number, eps: number, xOff = 0, yOff = 0): void {
    const k = this.kern;
    if (k.rmsNorm) k.rmsNorm(x, w, y, rows, n, eps, xOff, yOff);
    else rmsNorm(x, w, y, rows, n, eps, xOff, yOff);
  }

  /**
   * Matmuls sharing the input x (q/k/v, gate/up): one fused native call for the weights of a common
   * type when the kernel set has `matmulMulti` (same results, one activation conversion and one
   * pool job), else one call each.
   */
  private mm3(a: MatWeight, b: MatWeight, c: MatWeight | null, x: Float32Array, nTok: number, ya: Float32Array, yb: Float32Array, yc: Float32Array | null): void {
    if (this.kern.matmulMulti && a.type === b.type && a.nIn === b.nIn) {
      const withC = c !== null && yc !== null && c.type === a.type && c.nIn === a.nIn;
      this.kern.matmulMulti(a.type, a.nIn, x, nTok, a.data, a.nOut, ya, b.data, b.nOut, yb, withC ? c.data : null, withC ? c.nOut : 0, withC ? yc : null);
      if (c && yc && !withC) this.mm(c, x, nTok, yc);
      return;
    }
    this.mm(a, x, nTok, ya);
    this.mm(b, x, nTok, yb);
    if (c && yc) this.mm(c, x, nTok, yc);
  }

  /**
   * Evaluates inputs [s, s+m) — token ids, or embedding rows (float32 [n, d]) — at positions nPast…;
   * writes logits of every input (all) or the last one.
   */
  private ubatch(tokens: ArrayLike<number> | null, embd: Float32Array | null, nonCausal: boolean, s: number, m: number, logits: Float32Array | null, all: boolean): void {
    const c = this.config;
    const w = this.weights;
    if (!this.scratch || this.scratch.n < m) {
      for (const a of this.scratch?.floats() ?? []) this.kern.freeF32?.(a);
      this.scratch = new Scratch(Math.min(MAX_UBATCH, Math.max(m, 16)), c, this.alloc);
    }
    const S = this.scratch;
    const d = c.nEmbd;
    const pos0 = this.cache.length;

    if (tokens) {
      for (let i = 0; i < m; i++) S.ids[i] = tokens[s + i]!;
      this.kern.getRows(w.tokenEmbd.type, w.tokenEmbd.data, d, S.ids.subarray(0, m), S.x);
    } else {
      // Embeddings input (image/audio chunks): used as given. llama.cpp scales only token inputs
      // (src/models/gemma3.cpp: ggml_scale(inpL, ubatch.token ? sqrtf(n_embd) : 1.0f)).
      S.x.set(embd!.subarray(s * d, (s + m) * d));
    }
    if (tokens && c.embedScale) {
      const sc = Math.fround(Math.sqrt(d));
      for (let i = 0; i < m * d; i++) S.x[i] = S.x[i]! * sc;
    }

    for (let il = 0; il < c.nLayer; il++) {
      this.curLayer = il;
      const L = w.layers[il]!;
      const local = this.isLocalLayer(il);
      const rope = local ? this.ropeLocal : this.ropeGlobal;
      this.norm(S.x, L.attnNorm, S.h, m, d, c.rmsEps);
      this.mm3(L.wq, L.wk, L.wv, S.h, m, S.q, S.k, S.v);
      if (L.bq) addBias(S.q, L.bq, m);
      if (L.bk) addBias(S.k, L.bk, m);
      if (L.bv) addBias(S.v, L.bv, m);
      if (L.qNorm) this.norm(S.q, L.qNorm, S.q, m * c.nHead, c.headDimK, c.rmsEps);
      if (L.kNorm) this.norm(S.k, L.kNorm, S.k, m * c.nHeadKv, c.headDimK, c.rmsEps);
      this.kern.rope(S.q, m, c.nHead, c.headDimK, pos0, rope);
      this.kern.rope(S.k, m, c.nHeadKv, c.headDimK, pos0, rope);
      if (c.scaleQ) {
        // gemma3: Q is scaled (ggml_scale) and the softmax then uses kq_scale = 1.
        const qs = Math.fround(c.attnScale);
        const nq = m * c.nHead * c.headDimK;
        for (let i = 0; i < nq; i++) S.q[i] = S.q[i]! * qs;
      }
      this.cache.store(il, pos0, S.k, S.v, m);
      const A = this.attnShape;
      A.nTok = m;
      A.pos0 = pos0;
      A.window = local ? c.slidingWindow : 0;
      if (nonCausal) this.attendAll(pos0, m);
      else this.kern.attention(S.q, this.cache.k[il]!, this.cache.v[il]!, S.att, A);
      this.mm(L.wo, S.att, m, S.o);
      if (L.postAttnNorm) this.norm(S.o, L.postAttnNorm, S.o, m, d, c.rmsEps);
      for (let i = 0; i < m * d; i++) S.x[i] = S.o[i]! + S.x[i]!;

      this.norm(S.x, L.ffnNorm, S.h, m, d, c.rmsEps);
      this.mm3(L.wGate, L.wUp, null, S.h, m, S.g, S.u, null);
      // SwiGLU / GeGLU in the native kernels (ggml_vec_swiglu_f32's ggml_v_expf; ggml_vec_geglu_f32's
      // F16 GELU table), bit-identical to llama.cpp.
      const nf = m * c.nFF;
      if (c.activation === 'silu') this.kern.swiglu(S.g, S.u, S.g, nf);
      else this.kern.geglu(S.g, S.u, S.g, nf);
      this.mm(L.wDown, S.g, m, S.o);
      if (L.postFfnNorm) this.norm(S.o, L.postFfnNorm, S.o, m, d, c.rmsEps);
      for (let i = 0; i < m * d; i++) S.x[i] = S.o[i]! + S.x[i]!;
    }
    this.cache.length = pos0 + m;

    if (!logits) return;
    const first = all ? 0 : m - 1;
    const rows = m - first;
    this.norm(S.x, w.outputNorm, S.h, rows, d, c.rmsEps, first * d, 0);
    this.mm(w.output, S.h, rows, logits);
    if (c.finalLogitSoftcap > 0) {
      const cap = c.finalLogitSoftcap;
      for (let i = 0; i < rows * c.nVocab; i++) logits[i] = Math.tanh(logits[i]! / cap) * cap;
    }
  }
}

/** The native kernel's RoPE parameters (ggml mode ids: norm 0, neox 2). */
function toNativeRope(p: RopeParams): NativeRopeParams {
  return {
    mode: p.type === 'neox' ? 2 : 0, nDims: p.nDims, freqBase: p.freqBase, freqScale: p.freqScale, extFactor: p.extFactor,
    attnFactor: p.attnFactor, betaFast: p.betaFast, betaSlow: p.betaSlow, nCtxOrig: p.nCtxOrig, freqFactors: p.freqFactors,
  };
}

function addBias(y: Float32Array, b: Float32Array, rows: number): void {
  const n = b.length;
  for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) y[r * n + i] = y[r * n + i]! + b[i]!;
}
