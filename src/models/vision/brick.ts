/**
 * The vision model as a {@link Brick} named `vision`: image bytes (a `tensor` port of dtype u8, the
 * encoded JPEG/PNG/WebP file) or one preprocessed tile (an `image` port, float32 `[3, S, S]`) in,
 * embeddings out (all tiles concatenated in LM order, float32 `[nTiles·tokensPerTile, nEmbdOut]`),
 * plus the tile grid (`grid`, int32 `[rows, cols]`, `[0, 0]` when not split).
 */
import type { Brick, BrickCost, PortValues, PortValue, EmbeddingsValue } from '../../bricks/brick.js';
import { RequestError } from '../../core/errors.js';
import { readImageHeader } from '../../preprocess/image.js';
import { preprocessWork } from '../../preprocess/work.js';
import { visionImageCost, visionTileCost } from './cost.js';
import type { VisionModel } from './index.js';

export { visionTileCost };

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
      const v = inputs.image;
      if (v?.kind === 'tensor' && v.dtype === 'u8') {
        try {
          const h = readImageHeader(v.data as Uint8Array);
          return visionImageCost(cfg, model.weightBytes, model.dtypes, preprocessWork(cfg, h.width, h.height, h.format));
        } catch { /* unreadable header: priced as one tile below */ }
      }
      return visionTileCost(cfg, model.weightBytes, model.dtypes);
    },
    dispose(): void {
      model.dispose();
    },
  };
}
