/**
 * Model-specific image preprocessing: RGB uint8 → normalised float32 tiles `[3, H, W]`, as
 * llama.cpp's mtmd does per projector (tools/mtmd/mtmd-image.cpp):
 * - fixed size (`mtmd_image_preprocessor_fixed_size`, `gemma3`): resize into image_size ×
 *   image_size with the projector's filter and padding (aspect kept, centred);
 * - LLaVA (`mlp`): Hugging Face's CLIPImageProcessor instead of llama.cpp's pad-to-square
 *   (llama.cpp follows the original LLaVA repo's `expand2square` in the mean colour; the HF
 *   definition, which this engine follows for LLaVA, resizes the shortest edge to image_size with
 *   Pillow's filter (`resample`, bicubic for LLaVA-1.5) — `int(S·long/short)` for the other side — and centre-crops S×S at
 *   ((h−S)//2, (w−S)//2)); identical for square inputs;
 * - Idefics3/SmolVLM (`mtmd_image_preprocessor_idefics3`): resize so the longest side is
 *   `longest_edge` (the other side truncated, then rounded up to even), resize again to whole
 *   multiples of image_size, cut row-major tiles, and resize the refined image to one
 *   image_size square overview ("global image"); Lanczos throughout;
 * then `x / 255` and `(x - mean) / std` per channel in float32 (clip-impl.h `from_u8`, `normalize`).
 */
import type { ImageValue } from '../bricks/brick.js';
import { crop, resizeInto, resizePillow, type PadStyle, type ResizeAlgo, type RgbImage } from './resize.js';

/** The preprocessing settings a vision model carries (a subset of VisionConfig). */
export interface VisionPreprocessConfig {
  readonly projector: string;
  readonly imageSize: number;
  readonly imageMean: readonly [number, number, number];
  readonly imageStd: readonly [number, number, number];
  readonly resizeAlgo: ResizeAlgo;
  readonly padStyle: PadStyle;
  readonly padColor: readonly [number, number, number];
  /** idefics3 longest edge (0 = llava-uhd-style sizing instead). */
  readonly longestEdge: number;
}

/** Preprocessed tiles in the order the LM consumes them, plus the tile grid when split. */
export interface PreprocessedImage {
  /** float32 `[3, S, S]` each; idefics3: tiles row-major, then the overview. */
  readonly tiles: ImageValue[];
  readonly grid?: { rows: number; cols: number };
}

/**
 * RGB uint8 → normalised float32 `[3, H, W]` (channels first): `((x / 255f) - mean_c) / std_c`,
 * each step rounded to float32 as in clip-impl.h.
 */
export function normalizeImage(img: RgbImage, mean: readonly number[], std: readonly number[]): ImageValue {
  const { width: w, height: h, data } = img;
  const out = new Float32Array(3 * w * h);
  const f = Math.fround;
  const m = mean.map(f), s = std.map(f);
  for (let c = 0; c < 3; c++) {
    const mc = m[c]!, sc = s[c]!, plane = c * w * h;
    for (let i = 0; i < w * h; i++) out[plane + i] = f(f(f(data[i * 3 + c]! / 255) - mc) / sc);
  }
  return { kind: 'image', data: out, shape: [3, h, w] };
}

/** Idefics3 refined size: the longest-edge resize of mtmd_image_preprocessor_idefics3. */
function idefics3Resized(w: number, h: number, longest: number): { w: number; h: number } {
  const ar = w / h;
  if (w >= h) {
    let nh = Math.trunc(longest / ar);
    nh += nh % 2;
    return { w: longest, h: Math.max(1, nh) };
  }
  let nw = Math.trunc(longest * ar);
  nw += nw % 2;
  return { w: Math.max(1, nw), h: longest };
}

/**
 * Preprocesses one decoded image for a vision model.
 * @returns tiles `[3, S, S]` (S = imageSize) in LM order and, for idefics3, the grid.
 * @throws RequestError `IMAGE_RESIZE_RANGE` when a resize target is outside 1..65536.
 */
export function preprocessImage(img: RgbImage, cfg: VisionPreprocessConfig): PreprocessedImage {
  const S = cfg.imageSize;
  const norm = (i: RgbImage): ImageValue => normalizeImage(i, cfg.imageMean, cfg.imageStd);
  if (cfg.projector === 'mlp') {
    const { width: w, height: h } = img;
    const [nw, nh] = w <= h ? [S, Math.trunc((S * h) / w)] : [Math.trunc((S * w) / h), S];
    const resized = nw === w && nh === h ? img : resizePillow(img, nw, nh, cfg.resizeAlgo);
    return { tiles: [norm(crop(resized, Math.floor((nw - S) / 2), Math.floor((nh - S) / 2), S, S))] };
  }
  if (cfg.projector !== 'idefics3') {
    return { tiles: [norm(resizeInto(img, S, S, cfg.resizeAlgo, cfg.padStyle, cfg.padColor))] };
  }
  let refined: RgbImage;
  let cols: number, rows: number;
  if (cfg.longestEdge > 0) {
    const r = idefics3Resized(img.width, img.height, cfg.longestEdge);
    cols = Math.ceil(r.w / S);
    rows = Math.ceil(r.h / S);
    const resized = resizeInto(img, r.w, r.h, cfg.resizeAlgo, 'none');
    refined = resizeInto(resized, cols * S, rows * S, cfg.resizeAlgo, 'none');
  } else {
    // calc_size_preserved_ratio with align = S and no pixel limits, then llava-uhd slice_image
    // (bicubic, refined PAD_CEIL; the overview is resized from the original)
    const rw = Math.max(S, Math.round(img.width / S) * S);
    const rh = Math.max(S, Math.round(img.height / S) * S);
    cols = Math.ceil(rw / S);
    rows = Math.ceil(rh / S);
    const overview = resizeInto(img, S, S, 'bicubic', 'none');
    refined = resizeInto(img, rw, rh, 'bicubic', 'ceil', [0, 0, 0]);
    const tiles: ImageValue[] = [];
    for (let y = 0; y < rows; y++) for (let x = 0; x < cols; x++) tiles.push(norm(crop(refined, x * S, y * S, S, S)));
    tiles.push(norm(overview));
    return { tiles, grid: { rows, cols } };
  }
  const overview = resizeInto(refined, S, S, cfg.resizeAlgo, 'none');
  const tiles: ImageValue[] = [];
  for (let y = 0; y < rows; y++) for (let x = 0; x < cols; x++) tiles.push(norm(crop(refined, x * S, y * S, S, S)));
  tiles.push(norm(overview));
  return { tiles, grid: { rows, cols } };
}


