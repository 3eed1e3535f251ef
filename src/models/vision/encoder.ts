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
import { TokenArena, type ArenaAllocator, type ArenaViews } from '../../bricks/arena.js';
import type { VisionKernels } from './kernels.js';
import { activate, addBias, attention, AttentionScratch, layerNorm, linear } from './ops.js';
import type { VisionWeights } from './weights.js';

/**
 * im2col: tile float32 `[3, H, W]` → rows `[nPatches, 3·p·p]`, patches row-major, each row
 * ordered (channel, ky, kx) like a conv kernel `[out, 3, p, p]`. `alloc(n)` gives the rows buffer of
 * `n` floats (default: a plain Float32Array); every element of it is written, so it need not be
 * zeroed (the encoder passes an arena view holding a previous tile's rows).
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
 * Float32 elements per token of every encoder buffer, the layout of the tile arena
 * ({@link visionArena}); shapes per tile of `nTok` tokens (patches + class token):
 * `rows` im2col `[nPatch, 3·p²]` (sized for nTok rows), `x` residual stream, `h` LayerNorm /
 * projection output, `q`/`k`/`v` projections, `att` attention output — each `[nTok, d]`; `ff`
 * MLP hidden `[nTok, nFf]`; attention scratch per head (ops.ts {@link AttentionScratch}): `qh`,
 * `kh`, `oh` `[nTok, d/nHead]`, `vt` `[d/nHead, nTok]`, and the scores `s` `[nTok, nTok]` — nTok
 * floats per token, exact because every tile of a model has the same token count
 * ({@link visionTileTokens}) and the arena's limit is that count.
 */
export function visionArenaLayout(cfg: VisionConfig, nTok: number): Record<string, number> {
  const p = cfg.patchSize, d = cfg.nEmbd, hd = d / cfg.nHead;
  return { rows: 3 * p * p, x: d, h: d, q: d, k: d, v: d, att: d, ff: cfg.nFf, qh: hd, kh: hd, vt: hd, oh: hd, s: nTok };
}

/** Tokens of one tile: `(S/p)²` patches, plus 1 with a class token. */
export function visionTileTokens(cfg: VisionConfig, w: VisionWeights): number {
  const n = Math.floor(cfg.imageSize / cfg.patchSize);
  return n * n + (w.cls ? 1 : 0);
}

/**
 * The token arena of the encoder's activations (src/bricks/arena.ts; llama2.c's "allocate every
 * activation buffer once", ARCHITECTURE.md principle 3): one block of
 * `visionTileTokens × Σ visionArenaLayout` float32 (e.g. 1024 tokens × 9,728 floats ≈ 40 MB for a
 * 512-px, patch-16, d = 768 SigLIP), taken from the provider's `alloc` when it has one (wasm:
 * linear memory, so kernels use the views in place) and reused by every tile of every request;
 * `dispose()` frees it through the provider's `free`. Its limit is the tile's token count, so its
 * capacity is exactly that (no power-of-two rounding).
 */
export function visionArena(cfg: VisionConfig, w: VisionWeights, k: VisionKernels): TokenArena {
  const nTok = visionTileTokens(cfg, w);
  const alloc: ArenaAllocator | undefined = k.alloc ? { alloc: (n) => k.alloc!(n), ...(k.free ? { free: (a: Float32Array) => k.free!(a) } : {}) } : undefined;
  return new TokenArena(visionArenaLayout(cfg, nTok), nTok, alloc);
}

/**
 * Runs the encoder on one tile.
 * Activations (im2col rows, residual stream, q/k/v, attention and MLP buffers, attention scratch)
 * are views of `arena` ({@link visionArena}: allocated once, reused by every tile; their previous
 * contents never matter, as every element read is written first in this tile — im2col fills each
 * row, matmuls and LayerNorm overwrite their outputs, the residual stream is written by the patch
 * embedding and the class token before anything is added to it). Without an arena, a temporary
 * one is made and disposed before returning. The result is always a plain array (a copy).
 * @param tile float32 `[3, S, S]` normalised, S = cfg.imageSize
 * @param k kernel provider (src/models/vision/kernels.ts): the device the matmuls run on
 * @param arena this model's arena from {@link visionArena} with the same `cfg`, `w` and `k`
 * @returns features float32 `[nPatches, nEmbd]` (class token removed), patches row-major
 * @throws ShapeError `VISION_BAD_TILE` when the tile is not `[3, S, S]`; the provider's errors.
 */
export function encodeViT(cfg: VisionConfig, w: VisionWeights, tile: ImageValue, k: VisionKernels, arena?: TokenArena): Float32Array {
  const S = cfg.imageSize;
  if (tile.shape[0] !== 3 || tile.shape[1] !== S || tile.shape[2] !== S || tile.data.length !== 3 * S * S) {
    throw new ShapeError('VISION_BAD_TILE', `vision tile must be [3, ${S}, ${S}], got [${tile.shape.join(', ')}]`);
  }
  const own = arena ? null : visionArena(cfg, w, k);
  try {
    return encodeInto(cfg, w, tile, k, (arena ?? own!).acquire(visionTileTokens(cfg, w)));
  } finally {
    own?.dispose();
  }
}

/** The body of {@link encodeViT}, with its buffers from the arena views `b` ({@link visionArenaLayout}). */
function encodeInto(cfg: VisionConfig, w: VisionWeights, tile: ImageValue, k: VisionKernels, b: ArenaViews): Float32Array {
  const p = cfg.patchSize, d = cfg.nEmbd;
  // every row element is written (3 channels × p rows × p columns per patch)
  const { rows, nx, ny } = im2col(tile, p, (n) => b.rows!.subarray(0, n));
  const nPatch = nx * ny;
  const off = w.cls ? 1 : 0;
  const nTok = nPatch + off;
  const x = b.x!;
  // patch embedding into rows off.. (overwritten by the matmul); class token (HF position 0) into row 0
  linear(w.patch, w.patchB, rows, nPatch, x.subarray(off * d), k);
  if (w.cls) x.set(w.cls, 0);
  addBias(x, w.pos, 1, nTok * d); // positions [nTok, d] added element-wise
  if (w.preLnW) layerNorm(x, w.preLnW, w.preLnB, x, nTok, d, cfg.eps);

  const hd = d / cfg.nHead;
  const scale = Math.fround(1 / Math.sqrt(hd));
  const h = b.h!, q = b.q!, kk = b.k!, v = b.v!, att = b.att!, ff = b.ff!;
  const sc = new AttentionScratch(nTok, hd, k, { qh: b.qh!, kh: b.kh!, vt: b.vt!, s: b.s!, oh: b.oh! });
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
  // a plain copy: x is an arena view, overwritten by the next tile (and in linear memory on wasm)
  return x.slice(off * d);
}
