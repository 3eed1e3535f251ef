/**
 * The vision model as a {@link Brick} named `vision`: image bytes (a `tensor` port of dtype u8, the
 * encoded JPEG/PNG/WebP file) or one preprocessed tile (an `image` port, float32 `[3, S, S]`) in,
 * embeddings out (all tiles concatenated in LM order, float32 `[nTiles·tokensPerTile, nEmbdOut]`),
 * plus the tile grid (`grid`, int32 `[rows, cols]`, `[0, 0]` when not split).
 */
import type { Brick, BrickCost, PortValues, PortValue, EmbeddingsValue } from '../../bricks/brick.js';
import { RequestError } from '../../core/errors.js';
import { readImageHeader } from '../../preprocess/image.js';
import type { VisionConfig } from './config.js';
import type { VisionModel } from './index.js';

/**
 * FLOPs and bytes of one tile through encoder + projector (multiply-add = 2 FLOPs): patch matmul,
 * per block q/k/v/o (4·2·n·d²), attention scores and weighted sum (2·2·n²·d), MLP (2·2·n·d·ff),
 * projector matmuls. Bytes: every weight read once plus the activations written and read per block.
 */
export function visionTileCost(cfg: VisionConfig, weightBytes: number): BrickCost {
  const side = cfg.imageSize / cfg.patchSize;
  const nPatch = side * side;
  const n = nPatch + (cfg.projector === 'mlp' ? 1 : 0);
  const d = cfg.nEmbd, ff = cfg.nFf, L = cfg.nLayerRun;
  let flops = 2 * nPatch * 3 * cfg.patchSize ** 2 * d;
  flops += L * (8 * n * d * d + 4 * n * n * d + 4 * n * d * ff);
  const out = cfg.nEmbdOut;
  const nOut = cfg.projector === 'mlp' ? nPatch : (side / cfg.nMerge) ** 2;
  flops += cfg.projector === 'mlp' ? 2 * nPatch * d * out + 2 * nPatch * out * out : 2 * nOut * d * cfg.nMerge ** 2 * out;
  const act = 4 * (L * (8 * n * d + 2 * n * ff + n * n) + 3 * cfg.imageSize ** 2);
  const outputBytes = 4 * nOut * out;
  return { flops, bytesMoved: weightBytes + act + outputBytes, memoryBytes: weightBytes + 4 * (6 * n * d + n * ff + n * n), outputBytes };
}

function tilesFor(cfg: VisionConfig, width: number, height: number): number {
  if (cfg.projector !== 'idefics3') return 1;
  const S = cfg.imageSize;
  if (cfg.longestEdge > 0) {
    const L = cfg.longestEdge;
    const w = width >= height ? L : Math.trunc(L * (width / height)) + (Math.trunc(L * (width / height)) % 2);
    const h = width >= height ? Math.trunc(L / (width / height)) + (Math.trunc(L / (width / height)) % 2) : L;
    return Math.ceil(w / S) * Math.ceil(h / S) + 1;
  }
  return Math.max(1, Math.round(width / S)) * Math.max(1, Math.round(height / S)) + 1;
}

/**
 * Wraps a loaded {@link VisionModel} as the `vision` brick (device: the model's, `cpu` or `wasm`).
 * Inputs: `image` — a `tensor` u8 (encoded file bytes) or an `image` (one preprocessed tile).
 * Outputs: `embeddings` (float32 `[n, nEmbdOut]`), `grid` (int32 `[rows, cols]`).
 * `run` throws RequestError `BRICK_BAD_INPUT` on a missing/ill-typed input and ImageError on bad images.
 */
export function createVisionBrick(model: VisionModel): Brick {
  const cfg = model.config;
  return {
    name: 'vision',
    device: model.device,
    inputs: [{ name: 'image', kind: 'tensor', shape: ['n'] }],
    outputs: [
      { name: 'embeddings', kind: 'embeddings', shape: ['n', model.nEmbdOut] },
      { name: 'grid', kind: 'tensor', shape: [2] },
    ],
    async run(inputs: PortValues): Promise<Record<string, PortValue>> {
      const v = inputs.image;
      let tiles: EmbeddingsValue[];
      let grid = [0, 0];
      if (v?.kind === 'tensor' && v.dtype === 'u8') {
        const enc = await model.encode(v.data as Uint8Array);
        tiles = enc.tiles;
        if (enc.grid) grid = [enc.grid.rows, enc.grid.cols];
      } else if (v?.kind === 'image') {
        tiles = [model.encodeTile(v)];
      } else {
        throw new RequestError('BRICK_BAD_INPUT', `vision brick: input 'image' must be a u8 tensor (encoded image bytes) or an image tile, got ${v ? v.kind : 'nothing'}`);
      }
      const n = tiles.reduce((a, t) => a + t.shape[0], 0);
      const data = new Float32Array(n * model.nEmbdOut);
      let o = 0;
      for (const t of tiles) { data.set(t.data, o); o += t.data.length; }
      return {
        embeddings: { kind: 'embeddings', data, shape: [n, model.nEmbdOut] },
        grid: { kind: 'tensor', dtype: 'i32', data: Int32Array.from(grid), shape: [2] },
      };
    },
    cost(inputs: PortValues): BrickCost {
      const one = visionTileCost(cfg, model.weightBytes);
      const v = inputs.image;
      let nTiles = 1;
      if (v?.kind === 'tensor' && v.dtype === 'u8') {
        try {
          const h = readImageHeader(v.data as Uint8Array);
          nTiles = tilesFor(cfg, h.width, h.height);
        } catch { nTiles = 1; }
      }
      return {
        flops: one.flops * nTiles,
        bytesMoved: one.bytesMoved * nTiles,
        memoryBytes: one.memoryBytes,
        outputBytes: one.outputBytes * nTiles,
      };
    },
    dispose(): void {
      model.dispose();
    },
  };
}
