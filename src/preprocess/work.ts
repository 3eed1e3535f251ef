/**
 * How much host work preprocessing one image costs, counted from sizes alone (no pixels touched),
 * for the placement planner's cost model (src/bricks/cost-model.ts `ops`, priced by the profile's
 * `hostOps.opNs`, src/bricks/profile-schema.ts):
 * - `decode`: pixels decoded (sharp, src/preprocess/image.ts), by format, plus one call;
 * - `resizeH` / `resizeV`: filter taps of src/preprocess/resize.ts's two-pass Pillow resampler — the
 *   horizontal pass reads Σₓ count(x) taps per input row, the vertical pass Σ_y count(y) per output
 *   column (count = the filter window clipped to the image, Pillow's `precompute_coeffs` bounds);
 *   the passes are counted apart because their inner loops differ (int32 sums of 3 channels vs a
 *   float64 accumulator row);
 * - `resizePasses`: passes run (a pass has a fixed cost: coefficients, buffers);
 * - `normalize`: output pixels turned into float32 CHW (src/preprocess/vision.ts normalizeImage).
 *
 * The resize sequence mirrors src/preprocess/vision.ts `preprocessImage` (llama.cpp mtmd's
 * preprocessors); tests/bricks/cost-model.test.ts checks the tile count against it.
 */
import type { ImageFormat } from './image.js';
import type { PadStyle, ResizeAlgo } from './resize.js';
import type { VisionPreprocessConfig } from './vision.js';

/** Host work of one image. */
export interface PreprocessWork {
  /** Decoded pixels (width × height). */
  readonly decodePixels: number;
  readonly format: ImageFormat;
  /** Filter taps (each over 3 channels) of every resize's horizontal / vertical pass. */
  readonly resizeTapsH: number;
  readonly resizeTapsV: number;
  /** Resize passes run (each direction whose size changes, per resize), each with a fixed cost. */
  readonly resizePasses: number;
  /** Pixels normalized into float32 tiles. */
  readonly normalizePixels: number;
  /** Tiles handed to the encoder (idefics3: rows·cols + 1 overview; else 1). */
  readonly tiles: number;
  /** Idefics3 grid (absent when the image is not split). */
  readonly grid?: { rows: number; cols: number };
}

function support(algo: ResizeAlgo): number {
  return algo === 'bilinear' ? 1 : algo === 'bicubic' ? 2 : 3;
}

/** Σ over output positions of the clipped filter window (Pillow precompute_coeffs bounds). */
function windowSum(algo: ResizeAlgo, inSize: number, outSize: number): number {
  const scale = inSize / outSize;
  const sup = support(algo) * (scale < 1 ? 1 : scale);
  let n = 0;
  for (let x = 0; x < outSize; x++) {
    const c = (x + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(c - sup + 0.5));
    const hi = Math.min(inSize, Math.trunc(c + sup + 0.5));
    n += Math.max(0, hi - lo);
  }
  return n;
}

/**
 * Taps of `resizePillow(img inW×inH → outW×outH)`: `[horizontal, vertical]`, horizontal pass (when
 * the width changes) `inH · Σ windows(x)`, vertical pass (when the height changes) `outW · Σ windows(y)`.
 */
export function resizeTapsHV(inW: number, inH: number, outW: number, outH: number, algo: ResizeAlgo): [number, number] {
  return [outW !== inW ? inH * windowSum(algo, inW, outW) : 0, outH !== inH ? outW * windowSum(algo, inH, outH) : 0];
}

/** Both passes' taps of `resizePillow` (see {@link resizeTapsHV}). */
export function resizeTaps(inW: number, inH: number, outW: number, outH: number, algo: ResizeAlgo): number {
  const [h, v] = resizeTapsHV(inW, inH, outW, outH, algo);
  return h + v;
}

/** Taps of resize.ts `resizeInto` (box fit with padding, or a stretch for `none`), `[h, v]`. */
function resizeIntoTaps(inW: number, inH: number, w: number, h: number, algo: ResizeAlgo, pad: PadStyle): [number, number] {
  if (w === inW && h === inH) return [0, 0];
  if (pad === 'none') return resizeTapsHV(inW, inH, w, h, algo);
  const f = Math.fround;
  const scale = Math.min(f(w / inW), f(h / inH));
  const rnd = pad === 'nearest' ? Math.round : Math.ceil;
  const nw = Math.min(Math.trunc(rnd(f(inW * scale))), w);
  const nh = Math.min(Math.trunc(rnd(f(inH * scale))), h);
  return resizeTapsHV(inW, inH, nw, nh, algo);
}

const sum = (...t: [number, number][]): { resizeTapsH: number; resizeTapsV: number; resizePasses: number } => ({
  resizeTapsH: t.reduce((a, x) => a + x[0], 0), resizeTapsV: t.reduce((a, x) => a + x[1], 0),
  resizePasses: t.reduce((a, x) => a + (x[0] > 0 ? 1 : 0) + (x[1] > 0 ? 1 : 0), 0),
});

/**
 * Host work of preprocessing a `width`×`height` image of `format` for a vision model with
 * preprocessing config `cfg` (the branches of preprocessImage: LLaVA shortest-edge resize + crop,
 * fixed-size box resize, Idefics3 longest-edge resize + refine + tiles + overview, or llava-uhd
 * slicing when `longestEdge` is 0).
 */
export function preprocessWork(cfg: VisionPreprocessConfig, width: number, height: number, format: ImageFormat = 'png'): PreprocessWork {
  const S = cfg.imageSize;
  const base = { decodePixels: width * height, format };
  if (cfg.projector === 'mlp') {
    const [nw, nh] = width <= height ? [S, Math.trunc((S * height) / width)] : [Math.trunc((S * width) / height), S];
    const taps = nw === width && nh === height ? sum() : sum(resizeTapsHV(width, height, nw, nh, cfg.resizeAlgo));
    return { ...base, ...taps, normalizePixels: S * S, tiles: 1 };
  }
  if (cfg.projector !== 'idefics3') {
    return { ...base, ...sum(resizeIntoTaps(width, height, S, S, cfg.resizeAlgo, cfg.padStyle)), normalizePixels: S * S, tiles: 1 };
  }
  let taps: ReturnType<typeof sum>, rows: number, cols: number;
  if (cfg.longestEdge > 0) {
    const L = cfg.longestEdge;
    const ar = width / height;
    let rw: number, rh: number;
    if (width >= height) {
      rw = L;
      rh = Math.trunc(L / ar);
      rh = Math.max(1, rh + (rh % 2));
    } else {
      rh = L;
      rw = Math.trunc(L * ar);
      rw = Math.max(1, rw + (rw % 2));
    }
    cols = Math.ceil(rw / S);
    rows = Math.ceil(rh / S);
    taps = sum(resizeIntoTaps(width, height, rw, rh, cfg.resizeAlgo, 'none'), resizeIntoTaps(rw, rh, cols * S, rows * S, cfg.resizeAlgo, 'none'),
      resizeIntoTaps(cols * S, rows * S, S, S, cfg.resizeAlgo, 'none'));
  } else {
    const rw = Math.max(S, Math.round(width / S) * S);
    const rh = Math.max(S, Math.round(height / S) * S);
    cols = Math.ceil(rw / S);
    rows = Math.ceil(rh / S);
    taps = sum(resizeIntoTaps(width, height, S, S, 'bicubic', 'none'), resizeIntoTaps(width, height, rw, rh, 'bicubic', 'ceil'));
  }
  const tiles = rows * cols + 1;
  return { ...base, ...taps, normalizePixels: tiles * S * S, tiles, grid: { rows, cols } };
}
