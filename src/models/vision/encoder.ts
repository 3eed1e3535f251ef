/**
 * ViT encoder (CLIP / SigLIP): patch embedding (the stride-p convolution as one matmul over
 * im2col rows), optional class token, learned position embeddings, optional pre-LayerNorm,
 * pre-norm blocks `x += attn(LN1(x)); x += mlp(LN2(x))` with biased q/k/v/o and fc1/fc2, optional
 * post-LayerNorm. Follows llama.cpp clip.cpp `build_vit` / `build_inp` and the Hugging Face
 * definitions (modeling_clip.py, modeling_siglip.py, modeling_idefics3.py).
 *
 * Class token (CLIP / LLaVA): as in Hugging Face — prepended at position 0, patches at positions
 * 1..N, and dropped from the output ('default' feature select strategy). llama.cpp's
 * clip_graph_llava instead appends it after the patches, gives patch i position i and the class
 * token position N, and keeps rows 1..N (patch 0 dropped, class token kept); we do not follow
 * that (see tests/vision/llava.test.ts).
 */
import type { ImageValue } from '../../bricks/brick.js';
import { ShapeError } from '../../core/errors.js';
import type { VisionConfig } from './config.js';
import { allocActivations, type VisionKernels } from './kernels.js';
import { activate, addBias, attention, AttentionScratch, layerNorm, linear } from './ops.js';
import type { VisionWeights } from './weights.js';

/**
 * im2col: tile float32 `[3, H, W]` → rows `[nPatches, 3·p·p]`, patches row-major, each row
 * ordered (channel, ky, kx) like a conv kernel `[out, 3, p, p]`. `alloc` makes the zeroed rows
 * buffer (default: a plain Float32Array).
 */
export function im2col(tile: ImageValue, p: number, alloc: (n: number) => Float32Array = (n) => new Float32Array(n)): { rows: Float32Array; nx: number; ny: number } {
  const [c, h, w] = tile.shape;
  const nx = Math.floor(w / p), ny = Math.floor(h / p);
  const k = c * p * p;
  const rows = alloc(nx * ny * k);
  const src = tile.data;
  for (let py = 0; py < ny; py++) {
    for (let px = 0; px < nx; px++) {
      const base = (py * nx + px) * k;
      for (let ch = 0; ch < c; ch++) {
        for (let ky = 0; ky < p; ky++) {
          const s = ch * h * w + (py * p + ky) * w + px * p;
          rows.set(src.subarray(s, s + p), base + ch * p * p + ky * p);
        }
      }
    }
  }
  return { rows, nx, ny };
}

/**
 * Runs the encoder on one tile.
 * Activations (im2col rows, residual stream, q/k/v, attention and MLP buffers, attention scratch)
 * come from the provider's `alloc` when it has one (wasm: linear memory, used in place by every
 * kernel) and are freed through its `free` before returning; the result is always a plain array.
 * @param tile float32 `[3, S, S]` normalised, S = cfg.imageSize
 * @returns features float32 `[nPatches, nEmbd]` (class token removed), patches row-major
 * @param k kernel provider (src/models/vision/kernels.ts): the device the matmuls run on
 * @throws ShapeError `VISION_BAD_TILE` when the tile is not `[3, S, S]`; the provider's errors.
 */
export function encodeViT(cfg: VisionConfig, w: VisionWeights, tile: ImageValue, k: VisionKernels): Float32Array {
  const S = cfg.imageSize, p = cfg.patchSize, d = cfg.nEmbd;
  if (tile.shape[0] !== 3 || tile.shape[1] !== S || tile.shape[2] !== S || tile.data.length !== 3 * S * S) {
    throw new ShapeError('VISION_BAD_TILE', `vision tile must be [3, ${S}, ${S}], got [${tile.shape.join(', ')}]`);
  }
  const bufs: Float32Array[] = [];
  const alloc = (n: number): Float32Array => {
    const a = allocActivations(k, n);
    bufs.push(a);
    return a;
  };
  let sc: AttentionScratch | undefined;
  try {
    return encodeInto(cfg, w, tile, k, alloc, (nTok, hd) => (sc = new AttentionScratch(nTok, hd, k)));
  } finally {
    sc?.release();
    if (k.free) for (const b of bufs) k.free(b);
  }
}

/** The body of {@link encodeViT}, with its buffers from `alloc` and its attention scratch from `scratch`. */
function encodeInto(cfg: VisionConfig, w: VisionWeights, tile: ImageValue, k: VisionKernels, alloc: (n: number) => Float32Array,
  scratch: (nTok: number, headDim: number) => AttentionScratch): Float32Array {
  const p = cfg.patchSize, d = cfg.nEmbd;
  const { rows, nx, ny } = im2col(tile, p, alloc);
  const nPatch = nx * ny;
  const off = w.cls ? 1 : 0;
  const nTok = nPatch + off;
  const x = alloc(nTok * d);
  // patch embedding into rows off..; class token (HF position 0) into row 0
  linear(w.patch, w.patchB, rows, nPatch, x.subarray(off * d), k);
  if (w.cls) x.set(w.cls, 0);
  addBias(x, w.pos, 1, nTok * d); // positions [nTok, d] added element-wise
  if (w.preLnW) layerNorm(x, w.preLnW, w.preLnB, x, nTok, d, cfg.eps);

  const hd = d / cfg.nHead;
  const scale = Math.fround(1 / Math.sqrt(hd));
  const h = alloc(nTok * d);
  const q = alloc(nTok * d), kk = alloc(nTok * d), v = alloc(nTok * d);
  const att = alloc(nTok * d);
  const ff = alloc(nTok * cfg.nFf);
  const sc = scratch(nTok, hd);
  for (const l of w.layers) {
    layerNorm(x, l.ln1W, l.ln1B, h, nTok, d, cfg.eps);
    linear(l.q, l.qB, h, nTok, q, k);
    linear(l.k, l.kB, h, nTok, kk, k);
    linear(l.v, l.vB, h, nTok, v, k);
    attention(q, kk, v, att, nTok, cfg.nHead, hd, scale, sc, k);
    linear(l.o, l.oB, att, nTok, h, k);
    for (let i = 0; i < x.length; i++) x[i] = Math.fround(x[i]! + h[i]!);
    layerNorm(x, l.ln2W, l.ln2B, h, nTok, d, cfg.eps);
    linear(l.up, l.upB, h, nTok, ff, k);
    activate(cfg.act, ff, ff.length, k);
    linear(l.down, l.downB, ff, nTok, h, k);
    for (let i = 0; i < x.length; i++) x[i] = Math.fround(x[i]! + h[i]!);
  }
  if (w.postLnW) layerNorm(x, w.postLnW, w.postLnB, x, nTok, d, cfg.eps);
  // a plain copy when x came from the provider (it is freed on return), else x itself
  return off || k.alloc ? x.slice(off * d) : x;
}
