/**
 * Per-element costs for the profile's version-2 figures (src/bricks/profile-schema.ts `opNs`,
 * `hostOps.opNs`), measured by `synflux profile` next to the matmul points (src/bricks/profile.ts):
 *
 * - device kernels (cpu: native addon; wasm: wasm/synflux.wasm through `kernelsFor('wasm')`): the
 *   marginal cost per element at prompt-chunk sizes — `rope` (64 tokens × 16 heads × 64), `glu`
 *   (64 × 2048 SwiGLU outputs), `attention` / `attentionRow` (64 queries at positions 64..127, 8 heads,
 *   n_kv 256, dK = dV = 64 and 16: `attention` per pair × head × (dK + dV), `attentionRow` per query
 *   row × head × padded n_kv), `rmsNorm` (64 × 1024; the native kernel on cpu,
 *   nn/norm.ts on wasm, as the decoder calls them), `softmax` (256 × 256; native/sf_vit.c on cpu,
 *   the TypeScript reference on wasm, as src/models/vision/kernels.ts), `gelu` (GeGLU kernel, 65536
 *   elements) — and the fixed cost of a call, per decoder layer and forward: `forwardLayer`
 *   ({@link measureForwardOverhead});
 * - host JavaScript (the same on every device's thread): `decodeCall` + `decodePng`/`decodeJpeg`
 *   (sharp decode of a synthetic photo-like image at 96² and 512², least squares: ns per call and
 *   per pixel), `resizeH` / `resizeV` (Pillow-exact resampler, ns per 3-channel tap of one pass, over
 *   lanczos downscales and bicubic upscales at two sizes, taps counted by src/preprocess/work.ts;
 *   least squares, so the intercept is `resizePass`, the fixed ns of one pass), `normalize` (per pixel),
 *   `layerNorm`, `elementwise` (bias add), `softmaxTs` (per element; src/models/vision/ops.ts).
 *
 * Timing: src/bricks/profile.ts `timeMedian` (median of repeated calls after a warm-up).
 */
import sharp from 'sharp';
import { timeMedian, randomFloats } from './profile.js';
import type { HostProfile } from './profile-schema.js';

/** Per-element ns of a timed call. */
async function nsPer(units: number, fn: () => unknown, minMs: number): Promise<number> {
  return ((await timeMedian(fn, minMs)) * 1e6) / units;
}

/**
 * Kernel op figures of `device` (ns per unit, see the file header).
 * @throws BackendError when the device's kernels cannot start.
 */
export async function measureDeviceOps(device: 'cpu' | 'wasm', threads: number, minMs: number): Promise<Record<string, number>> {
  const { kernelsFor } = await import('../backends/kernels.js');
  const k = await kernelsFor(device);
  if (device === 'cpu') k.setThreads(threads);
  const out: Record<string, number> = {};
  // Marginal per-element costs at prompt-chunk sizes (64 tokens): the fixed per-call part is in
  // `forwardLayer` (measured below on a tiny decoder), so it is amortized away here.
  const nTok = 64, nHead = 16, hd = 64;
  const q = randomFloats(nTok * nHead * hd, 11);
  const rope = { mode: 0 as const, nDims: hd, nCtxOrig: 4096, freqBase: 10000, freqScale: 1, extFactor: 0, attnFactor: 1, betaFast: 32, betaSlow: 1, freqFactors: null };
  out.rope = await nsPer(q.length, () => k.rope(q, nTok, nHead, hd, 100, rope), minMs);
  const g = randomFloats(nTok * 2048, 12), u = randomFloats(nTok * 2048, 13), o = new Float32Array(nTok * 2048);
  out.glu = await nsPer(g.length, () => k.swiglu(g, u, o, g.length), minMs);
  const big = randomFloats(65536, 14), ones = new Float32Array(65536).fill(1), go = new Float32Array(65536);
  out.gelu = await nsPer(big.length, () => k.geglu(big, ones, go, big.length), minMs);
  // Attention costs per query·key pair and dimension (the dot products) plus, per query row and
  // head, a part proportional to the padded KV length n_kv (native/sf_attn.c sf_attn_n_kv: ≥ 256,
  // a multiple of 256; buffers, masking, softmax). Two head sizes with the same rows, heads and
  // n_kv separate them: t = attention · pairs·heads·(dK+dV) + attentionRow · rows·heads·n_kv.
  const aHead = 8, aKv = 8, nCtx = 256, pos0 = 64;
  let pairs = 0;
  for (let t = 0; t < nTok; t++) pairs += pos0 + t + 1;
  const attnMs = async (d: number): Promise<number> => {
    const aq = randomFloats(nTok * aHead * d, 15), ak = randomFloats(nCtx * aKv * d, 16), av = randomFloats(nCtx * aKv * d, 17);
    const ao = new Float32Array(nTok * aHead * d);
    const shape = { nTok, pos0, nHead: aHead, nHeadKv: aKv, headDimK: d, headDimV: d, nCtx, scale: 0.125, window: 0 };
    return timeMedian(() => k.attention(aq, ak, av, ao, shape), minMs);
  };
  const [tBig, tSmall] = [await attnMs(hd), await attnMs(16)];
  const uBig = pairs * aHead * 2 * hd, uSmall = pairs * aHead * 2 * 16, uRow = nTok * aHead * nCtx;
  const perPair = Math.max(0, ((tBig - tSmall) * 1e6) / (uBig - uSmall));
  out.attention = perPair;
  out.attentionRow = Math.max(0, (tSmall * 1e6 - perPair * uSmall) / uRow);
  const nx = randomFloats(64 * 1024, 18), nw = randomFloats(1024, 19, 1), ny = new Float32Array(64 * 1024);
  if (k.rmsNorm) {
    const rn = k.rmsNorm.bind(k);
    out.rmsNorm = await nsPer(nx.length, () => rn(nx, nw, ny, 64, 1024, 1e-5, 0, 0), minMs);
  } else {
    const { rmsNorm } = await import('../nn/norm.js');
    out.rmsNorm = await nsPer(nx.length, () => rmsNorm(nx, nw, ny, 64, 1024, 1e-5), minMs);
  }
  const { visionKernelsFor } = await import('../models/vision/kernels.js');
  const vk = await visionKernelsFor(device);
  const s = randomFloats(256 * 256, 20), s2 = new Float32Array(s.length);
  out.softmax = await nsPer(s.length, () => { s2.set(s); vk.softmaxRows(s2, 256, 256, 0.125); }, minMs);
  out.forwardLayer = await measureForwardOverhead(device, minMs);
  return out;
}

/**
 * Per-layer overhead of one decoder forward on `device` (ns per layer per forward call), measured
 * on a synthetic 4-layer llama-style decoder of width 32 (src/models/transformer.ts with random
 * F32 weights, vocabulary 32), where the arithmetic is negligible: what remains is what every
 * forward pays per layer whatever the model's size — the ≈ 14 kernel calls with their argument
 * checks and copies, the TypeScript glue between them (views, residual adds, norms). One-token
 * forwards at positions 0..31, the cache rewound between rounds.
 */
export async function measureForwardOverhead(device: 'cpu' | 'wasm', minMs: number): Promise<number> {
  const { kernelsFor } = await import('../backends/kernels.js');
  const { Transformer } = await import('../models/transformer.js');
  const { F32TensorSource } = await import('../models/weights.js');
  const { bindDecoderWeights } = await import('../models/load.js');
  const d = 32, nLayer = 4, nVocab = 32, nFF = 64, hd = 16;
  const config = {
    arch: 'llama', name: 'profile-synthetic', nVocab, nCtxTrain: 64, nEmbd: d, nLayer, nHead: 2, nHeadKv: 2, headDimK: hd, headDimV: hd, nFF,
    rmsEps: 1e-5, ropeType: 'norm' as const, ropeDim: hd, ropeFreqBase: 10000,
    ropeScaling: { type: 'none' as const, factor: 1, originalContext: 64, yarnBetaFast: 32, yarnBetaSlow: 1, yarnExtFactor: -1, yarnAttnFactor: 1 },
    slidingWindow: 0, swaPattern: 1, attnScale: 1 / Math.sqrt(hd), scaleQ: false, finalLogitSoftcap: 0, embedScale: false,
    activation: 'silu' as const, qkNorm: false, postNorms: false, qkvBias: false, tiedEmbeddings: true,
  };
  const t = new Map<string, { dims: number[]; data: Float32Array }>();
  let seed = 30;
  const add = (name: string, dims: number[]): void => void t.set(name, { dims, data: randomFloats(dims.reduce((a, b) => a * b, 1), seed++, 0.1) });
  add('token_embd.weight', [d, nVocab]);
  add('output_norm.weight', [d]);
  for (let i = 0; i < nLayer; i++) {
    const p = `blk.${i}.`;
    add(p + 'attn_norm.weight', [d]); add(p + 'ffn_norm.weight', [d]);
    add(p + 'attn_q.weight', [d, d]); add(p + 'attn_k.weight', [d, d]); add(p + 'attn_v.weight', [d, d]); add(p + 'attn_output.weight', [d, d]);
    add(p + 'ffn_gate.weight', [d, nFF]); add(p + 'ffn_up.weight', [d, nFF]); add(p + 'ffn_down.weight', [nFF, d]);
  }
  const k = await kernelsFor(device);
  const m = new Transformer(config, bindDecoderWeights(new F32TensorSource(t), config), null as never, { kernels: k, nCtx: 64 });
  const steps = 32;
  const ms = await timeMedian(() => {
    m.truncate(0);
    for (let i = 0; i < steps; i++) m.forward([i % nVocab]);
  }, minMs);
  m.dispose();
  return (ms * 1e6) / (steps * nLayer);
}

/** A smooth photo-like RGB test image (gradients + a little noise), `[h, w, 3]` bytes. */
function synthRgb(w: number, h: number): Uint8Array {
  const px = new Uint8Array(w * h * 3);
  let seed = 12345;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const n = (seed >>> 24) & 15;
    const i = (y * w + x) * 3;
    px[i] = (x * 255) / w + n;
    px[i + 1] = (y * 255) / h + n;
    px[i + 2] = 128 + 64 * Math.sin((x + y) / 17) + n;
  }
  return px;
}

/** Least-squares line through (x, y) points → [intercept, slope]. */
function fit(xs: readonly number[], ys: readonly number[]): [number, number] {
  const n = xs.length, mx = xs.reduce((a, b) => a + b, 0) / n, my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) { sxy += (xs[i]! - mx) * (ys[i]! - my); sxx += (xs[i]! - mx) ** 2; }
  const b = sxx > 0 ? sxy / sxx : 0;
  return [my - b * mx, b];
}

/** Host JavaScript figures (ns per unit, see the file header). */
export async function measureHostOps(minMs: number): Promise<HostProfile> {
  const { decodeImage } = await import('../preprocess/image.js');
  const { resizePillow } = await import('../preprocess/resize.js');
  const { resizeTapsHV } = await import('../preprocess/work.js');
  const { normalizeImage } = await import('../preprocess/vision.js');
  const { layerNorm, addBias, softmaxRows } = await import('../models/vision/ops.js');
  const opNs: Record<string, number> = {};
  const sizes = [96, 512];
  const calls: number[] = [];
  for (const fmt of ['png', 'jpeg'] as const) {
    const ms: number[] = [];
    for (const S of sizes) {
      const raw = sharp(Buffer.from(synthRgb(S, S)), { raw: { width: S, height: S, channels: 3 } });
      const file = new Uint8Array(await (fmt === 'png' ? raw.png() : raw.jpeg({ quality: 90 })).toBuffer());
      ms.push(await timeMedian(() => decodeImage(file), minMs));
    }
    const [a, b] = fit(sizes.map((S) => S * S), ms);
    opNs[fmt === 'png' ? 'decodePng' : 'decodeJpeg'] = Math.max(0, b * 1e6);
    calls.push(Math.max(0, a * 1e6));
  }
  opNs.decodeCall = calls.reduce((x, y) => x + y, 0) / calls.length;
  // one pass at a time: lanczos downscales and bicubic upscales of each direction at two sizes; a
  // line through (taps, ms) gives ns per tap and the fixed cost of one pass (coefficients, buffers)
  const passFixed: number[] = [];
  for (const dir of ['H', 'V'] as const) {
    const xs: number[] = [], ys: number[] = [];
    for (const [iw, ih, ow, oh, algo] of [[384, 256, 192, 256, 'lanczos'], [96, 96, 200, 96, 'bicubic'], [48, 32, 24, 32, 'lanczos'], [24, 24, 50, 24, 'bicubic']] as const) {
      const [a, b, c, d] = dir === 'H' ? [iw, ih, ow, oh] : [ih, iw, oh, ow];
      const img = { width: a, height: b, data: synthRgb(a, b) };
      const out = dir === 'H' ? [c, b] as const : [a, d] as const;
      ys.push(await timeMedian(() => resizePillow(img, out[0], out[1], algo), minMs));
      const t = resizeTapsHV(a, b, out[0], out[1], algo);
      xs.push(dir === 'H' ? t[0] : t[1]);
    }
    const [a, b] = fit(xs, ys);
    opNs[`resize${dir}`] = Math.max(0, b * 1e6);
    passFixed.push(Math.max(0, a * 1e6));
  }
  opNs.resizePass = passFixed.reduce((x, y) => x + y, 0) / passFixed.length;
  const img = { width: 256, height: 256, data: synthRgb(256, 256) };
  opNs.normalize = await nsPer(256 * 256, () => normalizeImage(img, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]), minMs);
  const x = randomFloats(64 * 256, 21), w = randomFloats(256, 22, 1), y = new Float32Array(64 * 256);
  opNs.layerNorm = await nsPer(x.length, () => layerNorm(x, w, w, y, 64, 256, 1e-6), minMs);
  opNs.elementwise = await nsPer(y.length, () => addBias(y, w, 64, 256), minMs);
  const s = randomFloats(64 * 64, 23);
  opNs.softmaxTs = await nsPer(s.length, () => softmaxRows(s.slice(), 64, 64, 0.125), minMs);
  return { opNs };
}
