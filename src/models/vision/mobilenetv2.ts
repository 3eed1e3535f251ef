/**
 * MobileNetV2 classifier forward pass (layout and references in mobilenetv2-weights.ts) on
 * channels-last float32 feature maps. Convolutions run in C (native/sf_conv.c) or, with
 * `kernels: 'reference'`, in the TypeScript reference (src/nn/conv.ts) — bit-identical.
 * An optional input transform `x * inputScale - inputOffset` (TF-Hub graphs) comes first. The rest follows TF.js's CPU kernels' arithmetic (tfjs-backend-cpu 4.22.0): residual add in
 * float32; average pool summed in float64 and divided by the window size; dense layers
 * accumulated in float64 (as its batchMatMul does in JS numbers) plus the bias; softmax
 * `exp(x - max) / sum` in float64.
 */
import { readFileSync } from 'node:fs';
import { ShapeError } from '../../core/errors.js';
import { parseGGUF } from '../../formats/gguf/reader.js';
import { conv2dNative, depthwiseConv2dNative } from '../../backends/cpu/conv-native.js';
import { conv2dRef, depthwiseConv2dRef, type Conv2DShape } from '../../nn/conv.js';
import { mobileNetV2FromGGUF, type ConvLayer, type MobileNetV2Weights, type Pads } from './mobilenetv2-weights.js';

/** Which convolution kernels run. */
export type ConvKernels = 'native' | 'reference';

/** Options of {@link MobileNetV2.forward}. */
export interface MobileNetV2ForwardOptions {
  /** Convolution kernels (default `native`). */
  readonly kernels?: ConvKernels;
  /**
   * Keep intermediate feature maps, by name: `stem`, `blk.{i}` (block outputs), `head`, `pool`,
   * `fc.{j}` (after its activation). Each is float32 HWC `[h, w, c]` (vectors: `[1, 1, n]`).
   */
  readonly capture?: boolean;
}

/** A feature map: float32 HWC. */
export interface FeatureMap {
  readonly data: Float32Array;
  readonly shape: readonly [number, number, number];
}

/** Output of {@link MobileNetV2.forward}. */
export interface MobileNetV2Output {
  /** Class probabilities (after the last layer's activation; softmax for nsfwjs), float32 `[classCount]`. */
  readonly probs: Float32Array;
  readonly features?: ReadonlyMap<string, FeatureMap>;
}

/** One class and its probability. */
export interface ClassScore {
  readonly index: number;
  readonly label: string;
  readonly probability: number;
}

/** A loaded MobileNetV2 classifier. */
export class MobileNetV2 {
  constructor(readonly weights: MobileNetV2Weights) {}

  /**
   * Loads a MobileNetV2 GGUF (as written by `synflux convert --from tfjs`).
   * @throws ModelFormatError / ShapeError from the GGUF reader and {@link mobileNetV2FromGGUF}
   */
  static fromGGUF(path: string): MobileNetV2 {
    return new MobileNetV2(mobileNetV2FromGGUF(parseGGUF(new Uint8Array(readFileSync(path)), path)));
  }

  /** Input side, pixels. */
  get imageSize(): number {
    return this.weights.config.imageSize;
  }

  /**
   * Runs the network on one preprocessed image.
   * @param input float32 `[S, S, 3]` HWC, normalized (see mobilenetv2-preprocess.ts)
   * @throws ShapeError when `input` is not `S*S*3` floats
   */
  forward(input: Float32Array, opts: MobileNetV2ForwardOptions = {}): MobileNetV2Output {
    const w = this.weights;
    const S = w.config.imageSize;
    if (input.length !== S * S * 3) throw new ShapeError('MNV2_BAD_INPUT', `input has ${input.length} floats, want ${S}×${S}×3`);
    const ref = opts.kernels === 'reference';
    const features = opts.capture ? new Map<string, FeatureMap>() : undefined;
    const keep = (name: string, data: Float32Array, h: number, wd: number, c: number): void => {
      features?.set(name, { data, shape: [h, wd, c] });
    };
    const relu = w.config.reluMax;
    const conv = (x: Float32Array, h: number, wd: number, l: ConvLayer, stride: number, pads: Pads, act: number) => {
      const s: Conv2DShape = { h, w: wd, cin: l.cin, cout: l.cout, kh: l.kh, kw: l.kw, strideH: stride, strideW: stride,
        padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3], actMax: act };
      const y = ref ? conv2dRef(x, l.weight, l.bias, s) : conv2dNative(x, l.weight, l.bias, s);
      return { y, h: Math.floor((h + pads[0] + pads[2] - l.kh) / stride) + 1, w: Math.floor((wd + pads[1] + pads[3] - l.kw) / stride) + 1 };
    };
    const NOPAD: Pads = [0, 0, 0, 0];

    let net = input;
    if (w.config.inputScale !== undefined) {
      // The graph's own input transform (TF-Hub `hub_input`: Mul then Sub, each in float32).
      const a = Math.fround(w.config.inputScale), b = Math.fround(w.config.inputOffset ?? 0);
      net = new Float32Array(input.length);
      for (let i = 0; i < input.length; i++) net[i] = Math.fround(input[i]! * a) - b;
    }
    let { y: x, h, w: wd } = conv(net, S, S, w.stem, w.config.stemStride, w.config.stemPads, relu);
    keep('stem', x, h, wd, w.stem.cout);
    let c = w.stem.cout;
    w.blocks.forEach((b, i) => {
      let t = x, th = h, tw = wd;
      if (b.expand) ({ y: t, h: th, w: tw } = conv(t, th, tw, b.expand, 1, NOPAD, relu));
      const d = b.depthwise;
      const ds: Conv2DShape = { h: th, w: tw, cin: d.c, cout: d.c, kh: d.kh, kw: d.kw, strideH: b.stride, strideW: b.stride,
        padTop: b.pads[0], padLeft: b.pads[1], padBottom: b.pads[2], padRight: b.pads[3], actMax: relu };
      t = ref ? depthwiseConv2dRef(t, d.weight, d.bias, ds) : depthwiseConv2dNative(t, d.weight, d.bias, ds);
      th = Math.floor((th + b.pads[0] + b.pads[2] - d.kh) / b.stride) + 1;
      tw = Math.floor((tw + b.pads[1] + b.pads[3] - d.kw) / b.stride) + 1;
      ({ y: t, h: th, w: tw } = conv(t, th, tw, b.project, 1, NOPAD, -1));
      if (b.residual) {
        if (t.length !== x.length) throw new ShapeError('MNV2_RESIDUAL_SHAPE', `blk.${i}: residual of different shapes`);
        for (let k = 0; k < t.length; k++) t[k] = t[k]! + x[k]!;
      }
      x = t; h = th; wd = tw; c = b.project.cout;
      keep(`blk.${i}`, x, h, wd, c);
    });
    ({ y: x, h, w: wd } = conv(x, h, wd, w.head, 1, NOPAD, relu));
    c = w.head.cout;
    keep('head', x, h, wd, c);

    // Average pool, window = stride = poolSize, 'valid'; then flatten in (h, w, c) order.
    const P = w.config.poolSize;
    const ph = Math.floor(h / P), pw = Math.floor(wd / P);
    if (ph < 1 || pw < 1) throw new ShapeError('MNV2_POOL_TOO_LARGE', `pool ${P} on a ${h}×${wd} map`);
    let v = new Float32Array(ph * pw * c);
    for (let py = 0; py < ph; py++)
      for (let px = 0; px < pw; px++)
        for (let ch = 0; ch < c; ch++) {
          let sum = 0;
          for (let yy = 0; yy < P; yy++) for (let xx = 0; xx < P; xx++) sum += x[((py * P + yy) * wd + px * P + xx) * c + ch]!;
          v[(py * pw + px) * c + ch] = sum / (P * P);
        }
    keep('pool', v, ph, pw, c);

    w.fc.forEach((f, j) => {
      if (v.length !== f.nIn) throw new ShapeError('MNV2_FC_SHAPE', `fc.${j} takes ${f.nIn} inputs, gets ${v.length}`);
      const out = new Float32Array(f.nOut);
      for (let o = 0; o < f.nOut; o++) {
        let sum = 0;
        const row = o * f.nIn;
        for (let i = 0; i < f.nIn; i++) sum += v[i]! * f.weight[row + i]!;
        out[o] = Math.fround(sum) + f.bias[o]!;
      }
      if (f.activation === 'relu') for (let o = 0; o < f.nOut; o++) out[o] = Math.max(0, out[o]!);
      else if (f.activation === 'softmax') softmaxInPlace(out);
      v = out;
      keep(`fc.${j}`, v, 1, 1, f.nOut);
    });
    return { probs: v, ...(features ? { features } : {}) };
  }

  /**
   * The `k` most probable classes, best first (ties: lower index first).
   * @param probs output of {@link forward}
   */
  topK(probs: Float32Array, k = 5): ClassScore[] {
    const labels = this.weights.config.labels;
    return [...probs]
      .map((p, index) => ({ index, label: labels?.[index] ?? `class_${index}`, probability: p }))
      .sort((a, b) => b.probability - a.probability || a.index - b.index)
      .slice(0, Math.max(0, k));
  }

  /**
   * Multiply-adds of one forward pass ×2 (FLOPs) and the bytes of its weights and activations.
   * @returns `{ flops, weightBytes, activationBytes }` — activationBytes: every feature map
   *   written once and read once (float32), bytes
   */
  cost(): { flops: number; weightBytes: number; activationBytes: number } {
    const w = this.weights;
    let flops = 0, act = 0, weights = 0;
    let h = w.config.imageSize, wd = h;
    const convCost = (l: ConvLayer, oh: number, ow: number): void => {
      flops += 2 * oh * ow * l.cout * l.cin * l.kh * l.kw;
      weights += (l.weight.length + l.bias.length) * 4;
      act += oh * ow * l.cout * 4 * 2;
    };
    act += h * wd * 3 * 4;
    h = Math.floor((h + w.config.stemPads[0] + w.config.stemPads[2] - w.stem.kh) / w.config.stemStride) + 1;
    wd = Math.floor((wd + w.config.stemPads[1] + w.config.stemPads[3] - w.stem.kw) / w.config.stemStride) + 1;
    convCost(w.stem, h, wd);
    for (const b of w.blocks) {
      if (b.expand) convCost(b.expand, h, wd);
      const d = b.depthwise;
      h = Math.floor((h + b.pads[0] + b.pads[2] - d.kh) / b.stride) + 1;
      wd = Math.floor((wd + b.pads[1] + b.pads[3] - d.kw) / b.stride) + 1;
      flops += 2 * h * wd * d.c * d.kh * d.kw;
      weights += (d.weight.length + d.bias.length) * 4;
      act += h * wd * d.c * 4 * 2;
      convCost(b.project, h, wd);
      if (b.residual) flops += h * wd * b.project.cout;
    }
    convCost(w.head, h, wd);
    for (const f of w.fc) {
      flops += 2 * f.nIn * f.nOut;
      weights += (f.weight.length + f.bias.length) * 4;
    }
    return { flops, weightBytes: weights, activationBytes: act };
  }
}

/** Softmax in float64, stored as float32 (tfjs-backend-cpu Softmax: exp(x - max) / sum). */
export function softmaxInPlace(x: Float32Array): void {
  let m = -Infinity;
  for (const v of x) m = Math.max(m, v);
  const e = Array.from(x, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  for (let i = 0; i < x.length; i++) x[i] = e[i]! / s;
}
