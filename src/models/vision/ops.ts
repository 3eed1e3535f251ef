/**
 * Float32 building blocks of the vision encoder and projectors, written after ggml-cpu's CPU
 * kernels that llama.cpp's clip graph uses (ggml-cpu/ops.cpp, vec.h):
 * LayerNorm (`ggml_norm`: mean and centred variance summed in double, scale 1/sqrtf(var + eps)),
 * RMSNorm (`ggml_rms_norm`), GELU/QuickGELU through ggml's F16 lookup tables (`GGML_GELU_FP16`,
 * `GGML_GELU_QUICK_FP16`), erf GELU, bias add, row softmax, non-causal multi-head attention
 * (kq by matmul, `ggml_soft_max_ext` with scale, kqv by matmul). The matmuls, the softmax and the
 * threaded GELU come from a kernel provider (src/models/vision/kernels.ts: the native addon or the
 * WASM backend); the argument defaults to the native one.
 */
import { ShapeError } from '../../core/errors.js';
import { f16BitsToF32, f32ToF16Bits } from '../../core/f16.js';
import { geluF16Table } from '../../nn/activations.js';
import type { MatWeight } from '../weights.js';
import type { VisionActivation } from './config.js';
import { allocActivations, nativeVisionKernels, softmaxRowsTs, type VisionKernels } from './kernels.js';

const fr = Math.fround;

/** `y[nTok, w.nOut] = x[nTok, w.nIn] · Wᵀ (+ bias)`; float32 row-major, products by `k.matmul`. */
export function linear(w: MatWeight, b: Float32Array | null, x: Float32Array, nTok: number, y: Float32Array, k: VisionKernels = nativeVisionKernels()): void {
  k.matmul(w.type, w.data, w.nOut, w.nIn, x, nTok, y);
  if (b) addBias(y, b, nTok, w.nOut);
}

/** `y[r, :] += b` for r < rows (float32). */
export function addBias(y: Float32Array, b: Float32Array, rows: number, n: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    for (let i = 0; i < n; i++) y[o + i] = fr(y[o + i]! + b[i]!);
  }
}

/**
 * LayerNorm over rows of `n`: `y = (x - mean) / sqrt(var + eps) * w + b` (ggml_norm then mul/add).
 * `x` float32 `[rows, n]`, `y` may alias `x`.
 */
export function layerNorm(x: Float32Array, w: Float32Array | null, b: Float32Array | null, y: Float32Array, rows: number, n: number, eps: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += x[o + i]!;
    const mean = fr(fr(sum) / n);
    let v = 0;
    for (let i = 0; i < n; i++) {
      const c = fr(x[o + i]! - mean);
      y[o + i] = c;
      v += c * c;
    }
    const variance = fr(fr(v) / n);
    const scale = fr(1 / fr(Math.sqrt(fr(variance + eps))));
    for (let i = 0; i < n; i++) {
      let t = fr(y[o + i]! * scale);
      if (w) t = fr(t * w[i]!);
      if (b) t = fr(t + b[i]!);
      y[o + i] = t;
    }
  }
}


let ones: Float32Array | null = null; // u = 1 for the GeGLU-as-GELU call (read only)
let quickTab: Float32Array | null = null;

function quick16(): Float32Array {
  if (!quickTab) {
    quickTab = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const x = f16BitsToF32(h);
      quickTab[h] = f16BitsToF32(f32ToF16Bits(fr(x * fr(1 / fr(1 + fr(Math.exp(fr(-1.702 * x))))))));
    }
  }
  return quickTab;
}

/** erf by Abramowitz–Stegun 7.1.26 is too coarse; this is W. J. Cody's rational erf in double. */
function erf(x: number): number {
  // series/continued fraction accurate to ~1e-15, enough for a float32 result
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series
    let sum = ax, term = ax;
    const x2 = ax * ax;
    for (let k = 1; k < 80; k++) {
      term *= -x2 / k;
      const add = term / (2 * k + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    const r = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -r : r;
  }
  // continued fraction for erfc
  let f = 0;
  for (let k = 60; k >= 1; k--) f = (k / 2) / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return x < 0 ? erfc - 1 : 1 - erfc;
}

/**
 * Element-wise activation in place on `x[0..n)`:
 * `gelu` tanh-GELU via ggml's F16 table (saturating below -10 / above 10), `gelu_quick`
 * x·σ(1.702x) via ggml's F16 table, `gelu_erf` 0.5x(1 + erf(x/√2)), `silu` x·σ(x).
 * Large `gelu` runs (≥ 4096 elements) go through `k.geglu` with u = 1 (same F16 table, same bits).
 */
export function activate(kind: VisionActivation, x: Float32Array, n: number, k: VisionKernels = nativeVisionKernels()): void {
  if (kind === 'gelu' && n >= 4096) {
    // GeGLU (bit-identical to ggml_vec_geglu_f32, same F16 table) with u = 1 is this GELU, threaded on cpu
    if (!ones || ones.length < n) ones = new Float32Array(Math.max(n, 2 * (ones?.length ?? 0))).fill(1);
    k.geglu(x, ones, x, n);
    return;
  }
  if (kind === 'gelu') {
    const t = geluF16Table();
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      x[i] = v <= -10 ? 0 : v >= 10 ? v : t[f32ToF16Bits(v)]!;
    }
  } else if (kind === 'gelu_quick') {
    const t = quick16();
    for (let i = 0; i < n; i++) x[i] = t[f32ToF16Bits(x[i]!)]!;
  } else if (kind === 'gelu_erf') {
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      x[i] = fr(fr(0.5 * v) * fr(1 + fr(erf(fr(v * Math.SQRT1_2)))));
    }
  } else {
    for (let i = 0; i < n; i++) x[i] = fr(x[i]! / fr(1 + fr(Math.exp(-x[i]!))));
  }
}

/**
 * Caller-owned buffers of an {@link AttentionScratch} (float32): `qh`, `kh`, `oh` `[nTok, headDim]`,
 * `vt` `[headDim, nTok]`, `s` `[nTok, nTok]` (e.g. views of the encoder's token arena,
 * src/models/vision/encoder.ts `visionArena`). {@link attention} overwrites every element it reads,
 * so their previous contents do not matter.
 */
export interface AttentionScratchViews {
  qh: Float32Array; kh: Float32Array; vt: Float32Array; s: Float32Array; oh: Float32Array;
}

/**
 * Scratch buffers for {@link attention}, sized for nTok tokens and head width headDim (float32:
 * q, k, vᵀ and output per head `[nTok, headDim]`, scores `[nTok, nTok]`). Given `views`, it uses
 * them (owned by the caller: {@link release} leaves them alone); else, with a provider `k`, they
 * come from its `alloc` when it has one (wasm: linear memory, read in place by the kernels) and
 * {@link release} hands them back.
 * @throws ShapeError `VISION_BAD_SCRATCH` when a view is shorter than its shape.
 */
export class AttentionScratch {
  readonly qh: Float32Array; readonly kh: Float32Array; readonly vt: Float32Array;
  readonly s: Float32Array; readonly oh: Float32Array;
  private readonly owned: boolean;
  constructor(readonly nTok: number, headDim: number, private readonly k?: VisionKernels, views?: AttentionScratchViews) {
    const a = (n: number): Float32Array => (k ? allocActivations(k, n) : new Float32Array(n));
    const v = (name: keyof AttentionScratchViews, n: number): Float32Array => {
      const b = views![name];
      if (b.length < n) throw new ShapeError('VISION_BAD_SCRATCH', `attention scratch ${name}: ${b.length} floats, ${n} needed`);
      return b;
    };
    const get = views ? v : (_: keyof AttentionScratchViews, n: number) => a(n);
    this.owned = !views;
    this.qh = get('qh', nTok * headDim);
    this.kh = get('kh', nTok * headDim);
    this.vt = get('vt', nTok * headDim);
    this.s = get('s', nTok * nTok);
    this.oh = get('oh', nTok * headDim);
  }

  /** Frees buffers it allocated through the provider's `free` (no-op without one, or for caller views); the scratch must not be used afterwards. */
  release(): void {
    if (this.owned && this.k?.free) for (const b of [this.qh, this.kh, this.vt, this.s, this.oh]) this.k.free(b);
  }
}

/**
 * Non-causal multi-head self-attention (clip.cpp `build_attn`, non-flash path):
 * per head, `S = (Q Kᵀ)`, `P = softmax(scale·S)` by rows, `O = P V`.
 * `q`, `k`, `v`, `out` float32 `[nTok, nHead·headDim]` (heads side by side in a row). The two
 * products per head use `kern.matmulDynamic` (their left operand changes per head).
 */
export function attention(q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, nTok: number, nHead: number,
  headDim: number, scale: number, sc: AttentionScratch, kern: VisionKernels = nativeVisionKernels()): void {
  const d = nHead * headDim;
  const { qh, kh, vt, s, oh } = sc;
  for (let h = 0; h < nHead; h++) {
    const off = h * headDim;
    for (let t = 0; t < nTok; t++) {
      const src = t * d + off, dst = t * headDim;
      for (let i = 0; i < headDim; i++) {
        qh[dst + i] = q[src + i]!;
        kh[dst + i] = k[src + i]!;
        vt[i * nTok + t] = v[src + i]!;
      }
    }
    kern.matmulDynamic(kh, nTok, headDim, qh, nTok, s); // s[nTok(q), nTok(k)]
    kern.softmaxRows(s, nTok, nTok, scale);
    kern.matmulDynamic(vt, headDim, nTok, s, nTok, oh); // oh[nTok, headDim]
    for (let t = 0; t < nTok; t++) out.set(oh.subarray(t * headDim, (t + 1) * headDim), t * d + off);
  }
}

/** The TypeScript row softmax (src/models/vision/kernels.ts `softmaxRowsTs`), the reference of the native one. */
export const softmaxRows = softmaxRowsTs;
