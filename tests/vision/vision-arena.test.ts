/**
 * The vision encoder's token arena (src/models/vision/encoder.ts `visionArena`, src/bricks/arena.ts):
 * one model encodes several images with different tile counts in a row, on cpu and wasm, reusing
 * one activation block; every image's embeddings must equal, bit for bit, those of a model loaded
 * fresh for that image (whose arena starts zeroed), so no stale arena contents leak into a later
 * tile. The arena allocates once (on the first tile) and is freed by dispose; results are plain
 * arrays, never views of the arena / wasm linear memory. The checkpoints are the random SmolVLM
 * (no class token) and LLaVA (class token) ones of scripts/reference/make-random-vlm.py, whose
 * embeddings tests/vision/vlm-embeddings.test.ts checks against llama.cpp / PyTorch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { ensureVlmCheckpoint, type VlmFamily } from './vlm-fixtures.js';
import { loadVisionModel, type EncodedImage } from '../../src/models/vision/index.js';
import type { VisionDevice } from '../../src/models/vision/kernels.js';
import { TokenArena } from '../../src/bricks/arena.js';

/** A deterministic noisy RGB PNG of `w × h` pixels (another size → another tile count). */
async function noisePng(w: number, h: number, seed: number): Promise<Uint8Array> {
  const px = Buffer.alloc(w * h * 3);
  let s = seed >>> 0;
  for (let i = 0; i < px.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    px[i] = s >>> 24;
  }
  return new Uint8Array(await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer());
}

const bits = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function assertSame(got: EncodedImage, want: EncodedImage, what: string): void {
  assert.equal(got.tiles.length, want.tiles.length, `${what}: tile count`);
  got.tiles.forEach((t, i) => {
    assert.deepEqual(t.shape, want.tiles[i]!.shape);
    assert.ok(bits(t.data).equals(bits(want.tiles[i]!.data)), `${what}: tile ${i} differs from a fresh model's`);
    assert.ok(t.data.buffer instanceof ArrayBuffer && !(t.data.buffer instanceof SharedArrayBuffer), `${what}: tile ${i} is not a plain array`);
  });
}

for (const family of ['smolvlm', 'llava'] as VlmFamily[]) {
  for (const device of ['cpu', 'wasm'] as VisionDevice[]) {
    test(`vision arena (${family}, ${device}): one block across tiles and requests, results equal a fresh model's per image`, async () => {
      const dir = await ensureVlmCheckpoint(family);
      const mmproj = join(dir, 'mmproj.gguf');
      const images = [
        new Uint8Array(readFileSync(join(dir, 'image.png'))),
        await noisePng(60, 300, 7),
        new Uint8Array(readFileSync(join(dir, 'image2.png'))),
        await noisePng(300, 60, 11),
        new Uint8Array(readFileSync(join(dir, 'image.png'))),
      ];
      const m = await loadVisionModel(mmproj, { device, threads: 1 });
      assert.equal(m.arenaAllocations, 0);
      assert.equal(m.arenaBytes, 0);
      const counts: number[] = [];
      for (const [i, img] of images.entries()) {
        const got = await m.encode(img);
        counts.push(got.tiles.length);
        assert.equal(m.arenaAllocations, 1, `request ${i}: the arena allocated again`);
        const fresh = await loadVisionModel(mmproj, { device, threads: 1 });
        try {
          assertSame(got, await fresh.encode(img), `${family} ${device} image ${i}`);
        } finally {
          fresh.dispose();
        }
      }
      console.log(`# ${family} ${device}: tiles per image ${counts.join(', ')}, arena ${m.arenaBytes} bytes, ${m.arenaAllocations} allocation`);
      if (family === 'smolvlm') assert.ok(new Set(counts).size > 1, `images should have different tile counts, got ${counts}`);
      assert.ok(m.arenaBytes > 0);
      m.dispose();
      assert.equal(m.arenaBytes, 0);
    });
  }
}

test('token arena with a block allocator: growth frees the old block, dispose frees the last one, acquire after dispose allocates again', () => {
  const live = new Set<Float32Array>();
  const freed: Float32Array[] = [];
  const a = new TokenArena({ h: 3, o: 2 }, 64, {
    alloc: (n) => { const b = new Float32Array(n); live.add(b); return b; },
    free: (b) => { assert.ok(live.delete(b), 'free of a block the allocator did not hand out (or twice)'); freed.push(b); },
  });
  a.acquire(3);
  assert.equal(a.bytes, 4 * 5 * 4);
  a.acquire(4);
  assert.equal(a.allocations, 1);
  a.acquire(5);
  assert.equal(a.allocations, 2);
  assert.equal(freed.length, 1);
  assert.equal(live.size, 1);
  a.dispose();
  assert.equal(live.size, 0);
  assert.equal(a.bytes, 0);
  assert.equal(a.capacity, 0);
  a.dispose(); // idempotent
  assert.equal(a.acquire(2).h!.length, 6);
  assert.equal(a.allocations, 3);
  // the capacity never exceeds maxTokens (exact-size arenas)
  const exact = new TokenArena({ h: 1 }, 5, { alloc: (n) => new Float32Array(n) });
  exact.acquire(5);
  assert.equal(exact.capacity, 5);
});
