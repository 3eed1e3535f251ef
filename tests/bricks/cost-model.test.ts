/**
 * The planner's new cost terms on synthetic profiles (numbers chosen so every expected value is
 * hand-computable): per-element `ops` priced from the device's `opNs` before the host's
 * `hostOps.opNs`; preprocessing work from image sizes (src/preprocess/work.ts) against the real
 * preprocessing code's tile grid and a hand-derived Pillow filter-window count; the vision brick's
 * per-tile matmuls at the mmproj's stored dtypes; the LM's chunked prefill (one output-head matmul
 * per forward); profile schema v2 validation with v1 still read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { brickMs, opsMs } from '../../src/bricks/cost-model.js';
import { PROFILE_SCHEMA, validateProfileSet, type DeviceProfile, type ProfileSet } from '../../src/bricks/profile-schema.js';
import { preprocessWork, resizeTaps, resizeTapsHV } from '../../src/preprocess/work.js';
import { preprocessImage } from '../../src/preprocess/vision.js';
import { visionConfigFromGGUF } from '../../src/models/vision/config.js';
import { visionDtypesFromGGUF, visionImageCost, visionTileCost } from '../../src/models/vision/cost.js';
import { attnKvLength, lmCost, promptForwards, type LmShape } from '../../src/bricks/lm-brick.js';
import { openGGUF } from '../../src/formats/gguf/reader.js';
import { RequestError } from '../../src/core/errors.js';
import { ensureVlmCheckpoint } from '../vision/vlm-fixtures.js';

const close = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} ≉ ${b}`);

/** A device at `gflops` for every F32 matmul, 10 GB/s, no launch cost, with `opNs`. */
function device(gflops: number, opNs?: Record<string, number>): DeviceProfile {
  const pt = (nTok: number) => ({ dtype: 'F32', nOut: 1000, nIn: 1000, nTok, ms: (2e6 * nTok) / (gflops * 1e6), gflops });
  return { kind: 'cpu', description: 'synthetic', threads: 1, matmul: [pt(1), pt(64)], memGBs: 10, launchUs: 0, ...(opNs ? { opNs } : {}) };
}

function profileSet(): ProfileSet {
  return {
    schema: PROFILE_SCHEMA, version: 2, created: 'test', host: { cpus: 2, cpuModel: 'synthetic', node: 'v20' },
    devices: { A: device(10, { rope: 2 }), B: device(1) }, transfers: [], hostOps: { opNs: { rope: 100, resizeH: 5, decodeCall: 1e6 } },
  };
}

test('ops: device figures before host figures, unknown op classes cost 0; added to matmul and phase time', () => {
  const ps = profileSet();
  const ops = { rope: 1e6, resizeH: 2e6, decodeCall: 1, unknown: 1e9 };
  close(opsMs(ps.devices.A!, ps.hostOps, ops), 2 + 10 + 1); // rope 1e6·2 ns, resizeH 2e6·5 ns, one decode call 1 ms
  close(opsMs(ps.devices.B!, ps.hostOps, ops), 100 + 10 + 1); // B has no rope figure: the host's
  close(opsMs(ps.devices.B!, undefined, ops), 0); // version-1 profile: no figures
  // a brick: 2 GFLOP of matmul (0.2 s on A) + ops; flops outside matmuls 0
  const cost = { flops: 2e9, bytesMoved: 0, memoryBytes: 0, outputBytes: 0, matmuls: [{ dtype: 'F32', nOut: 1000, nIn: 1000, nTok: 1000, count: 1 }], ops };
  close(brickMs(ps.devices.A!, { ...cost, bytesMoved: 4e6 + 1000 * 2000 * 4 }, ps.hostOps)!, 200 + 13);
  // phases: brick-level ops added once, phase ops per phase
  const ph = { name: 'p', tokens: 1, flops: 0, bytesMoved: 0, ops: { rope: 1e6 } };
  close(brickMs(ps.devices.A!, { flops: 0, bytesMoved: 0, memoryBytes: 0, outputBytes: 0, ops: { decodeCall: 2 }, phases: [ph, ph] }, ps.hostOps)!, 2 + 2 * 2);
});

test('profile schema: v2 with opNs/hostOps validates, v1 is still read, bad figures are BAD_PROFILE', () => {
  const ps = profileSet();
  assert.equal(validateProfileSet(JSON.parse(JSON.stringify(ps))).hostOps!.opNs.resizeH, 5);
  const v1 = JSON.parse(JSON.stringify({ ...ps, version: 1, hostOps: undefined, devices: { A: device(10) } }));
  assert.equal(validateProfileSet(v1).version, 1);
  const bad = (p: unknown): void => assert.throws(() => validateProfileSet(p), (e: unknown) => e instanceof RequestError && e.code === 'BAD_PROFILE');
  bad({ ...ps, version: 3 });
  bad({ ...ps, devices: { A: { ...device(10), opNs: { rope: -1 } } } });
  bad({ ...ps, devices: { A: { ...device(10), opNs: { rope: 'fast' } } } });
  bad({ ...ps, hostOps: { opNs: { resizeH: Number.NaN } } });
  bad({ ...ps, hostOps: {} });
});

test('resize taps: Pillow windows counted by hand for a 2→4 bilinear upscale and a 4→2 downscale', () => {
  // bilinear 2→4 (scale 0.5, support 1): centres 0.25, 0.75, 1.25, 1.75 → windows [0,1) [0,2) [0,2) [1,2): 1+2+2+1 = 6 per row
  assert.deepEqual(resizeTapsHV(2, 3, 4, 3, 'bilinear'), [3 * 6, 0]);
  // height only: 6 per column, 2 columns
  assert.deepEqual(resizeTapsHV(2, 2, 2, 4, 'bilinear'), [0, 2 * 6]);
  // bilinear 4→2 (scale 2, support 2): centres 1, 3 → windows [0,3) [1,4): 3+3 = 6 per row, then 2 columns × 6
  assert.equal(resizeTaps(4, 4, 2, 2, 'bilinear'), 4 * 6 + 2 * 6);
  assert.equal(resizeTaps(7, 5, 7, 5, 'lanczos'), 0);
});

test('preprocessing work: the tile grid equals the preprocessing code\'s on SmolVLM-style sizes', async () => {
  const dir = await ensureVlmCheckpoint('smolvlm');
  const cfg = visionConfigFromGGUF(openGGUF(join(dir, 'mmproj.gguf')));
  for (const [w, h] of [[192, 192], [160, 96], [50, 300], [97, 31], [640, 480]] as const) {
    const img = { width: w, height: h, data: new Uint8Array(w * h * 3).fill(100) };
    const pre = preprocessImage(img, cfg);
    const work = preprocessWork(cfg, w, h, 'png');
    assert.equal(work.tiles, pre.tiles.length, `${w}x${h}`);
    assert.deepEqual(work.grid, pre.grid, `${w}x${h}`);
    assert.equal(work.normalizePixels, pre.tiles.length * cfg.imageSize ** 2);
    assert.equal(work.decodePixels, w * h);
    assert.ok(work.resizeTapsH + work.resizeTapsV > 0);
    // up to three resizes (longest edge, refine to the grid, overview; none when the size already
    // matches), each one or two passes
    assert.ok(work.resizePasses >= 1 && work.resizePasses <= 6, `${w}x${h}: ${work.resizePasses} passes`);
  }
});

test('vision cost: stored dtypes (patch kernel as F16), matmul FLOPs, tiles and host ops scale', async () => {
  const dir = await ensureVlmCheckpoint('smolvlm');
  const f = openGGUF(join(dir, 'mmproj.gguf'));
  const cfg = visionConfigFromGGUF(f);
  const dt = visionDtypesFromGGUF(f);
  assert.deepEqual(dt, { patch: 'F16', block: 'F32', projector: 'F32' });
  const tile = visionTileCost(cfg, 1000, dt);
  // 36 patches of 16×16×3 → 64: one F16 matmul of 2·36·768·64 FLOPs, batched (≥ 8 tokens): the GEMM figures
  assert.deepEqual(tile.matmuls![0], { dtype: 'F16.gemm', nOut: 64, nIn: 768, nTok: 36, count: 1 });
  // the projector's 9 tokens too; nothing below 8 tokens here
  assert.ok(tile.matmuls!.every((m) => m.dtype.endsWith('.gemm')));
  assert.equal(tile.flops, tile.matmuls!.reduce((a, m) => a + 2 * m.count * m.nOut * m.nIn * m.nTok, 0));
  assert.equal(tile.ops!.softmax, cfg.nHead * cfg.nLayerRun * 36 * 36);
  const work = preprocessWork(cfg, 192, 192, 'png');
  const img = visionImageCost(cfg, 1000, dt, work);
  assert.equal(img.flops, 5 * tile.flops);
  assert.equal(img.ops!.decodePng, 192 * 192);
  assert.equal(img.ops!.decodeCall, 1);
  assert.equal(img.ops!.resizeH, work.resizeTapsH);
  assert.equal(img.ops!.resizePass, work.resizePasses);
  assert.equal(img.ops!.layerNorm, 5 * tile.ops!.layerNorm!);
  // priced on a device 10× faster at matmuls: faster by less than 10× (the host work does not scale)
  const ps = profileSet();
  const a = brickMs(ps.devices.A!, img, ps.hostOps)!, b = brickMs(ps.devices.B!, img, ps.hostOps)!;
  assert.ok(b > a && b / a < 10);
});

test('LM cost: each prefill forward runs the output head once; decode ops per token', () => {
  const s: LmShape = {
    nLayer: 2, nHead: 4, nHeadKv: 2, headDimK: 16, headDimV: 16, nVocab: 1000, nEmbd: 64, nFf: 128, weightBytes: 0,
    layerMatmuls: [{ dtype: 'F32', nOut: 64, nIn: 64, count: 2 }], outputMatmul: { dtype: 'F32', nOut: 1000, nIn: 64 },
  };
  assert.equal(promptForwards('idefics3', 5), 11);
  assert.equal(promptForwards('gemma3', 1), 3);
  assert.equal(promptForwards(undefined, 0), 1);
  const one = lmCost(s, 60, 4, 256);
  const eleven = lmCost(s, 60, 4, 256, { prefillForwards: 11 });
  const head = (c: typeof one) => c.phases![0]!.matmuls!.find((m) => m.nOut === 1000)!;
  assert.equal(head(one).count, 1);
  assert.equal(head(eleven).count, 11);
  assert.equal(eleven.phases![0]!.ops!.forwardLayer, 11 * one.phases![0]!.ops!.forwardLayer!);
  assert.equal(one.phases![1]!.ops!.forwardLayer, 4 * 2); // 4 decode steps × 2 layers
  const layer = eleven.phases![0]!.matmuls!.find((m) => m.nOut === 64)!;
  assert.deepEqual([layer.nTok, layer.count], [6, 22]); // 60 tokens in 11 forwards of ≤ 6
  const dec = one.phases![1]!;
  assert.equal(dec.ops!.rope, 4 * (4 + 2) * 16 * 2);
  assert.equal(dec.ops!.glu, 4 * 128 * 2);
  assert.equal(dec.ops!.attention, 4 * 32 * 2 * (61 + 62 + 63 + 64));
  // per query row and head, the padded KV length (llama.cpp / sf_attn_n_kv: multiple of 256, ≥ 256, ≤ context)
  assert.deepEqual([attnKvLength(1024, 1), attnKvLength(1024, 256), attnKvLength(1024, 257), attnKvLength(300, 900), attnKvLength(128, 5)], [256, 256, 512, 300, 128]);
  assert.equal(dec.ops!.attentionRow, 4 * 4 * 2 * 256); // 4 steps × 4 heads × 2 layers, context 256
  assert.equal(eleven.phases![0]!.ops!.attentionRow, 60 * 4 * 2 * 256);
  const long = lmCost(s, 300, 0, 1024, { prefillForwards: 2 }); // chunks of 150: ends 150 (n_kv 256) and 300 (512)
  assert.equal(long.phases![0]!.ops!.attentionRow, (150 * 256 + 150 * 512) * 4 * 2);
  // more forwards cost more on a device with the same figures
  const ps = profileSet();
  assert.ok(brickMs(ps.devices.A!, eleven, ps.hostOps)! > brickMs(ps.devices.A!, one, ps.hostOps)!);
});
