/**
 * The WASM backend's changing-operand matmul (`matmulF32`, src/backends/wasm/index.ts) and the
 * vision encoder on it (src/models/vision/kernels.ts `wasmVisionKernels`):
 * - `matmulF32` gives the native scalar F32 `matmul`'s bits (native/ C, the WASM backend's
 *   contract) for plain arrays, linear-memory arrays and an output overlapping the operand;
 * - it leaves no copy behind: thousands of calls with fresh operands in one synchronous loop
 *   (where no finalizer can run) do not grow linear memory — the old path (`matmul` with a new
 *   weight array per call) grows it by the operands' total size, which the test also shows;
 * - a Uint8Array view of linear memory passed to `matmul` as a weight is read in place, not
 *   cached (its new contents are used on the next call);
 * - encoding tiles of the random SmolVLM checkpoint on wasm does not grow linear memory after the
 *   first tile and returns plain (unshared) arrays.
 * Skipped with a message when wasm/synflux.wasm or the native addon is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GGMLType } from '../../src/core/ggml-type.js';
import { native, nativeAvailable } from '../../src/backends/cpu/native.js';
import { wasmAvailable, wasmKernels, wasmModulePath } from '../../src/backends/wasm/index.js';
import { gaussian, withScalarPath } from './helpers.js';

const skip = !wasmAvailable()
  ? `${wasmModulePath()} is missing: run scripts/build-wasm.sh (needs clang and lld)`
  : !nativeAvailable()
    ? 'native addon not built (reference for the wasm tests)'
    : false;

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

const bytesOf = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The native scalar-path F32 matmul `y = x · aᵀ`. */
function ref(a: Float32Array, nOut: number, nIn: number, x: Float32Array, nTok: number): Float32Array {
  const y = new Float32Array(nTok * nOut);
  withScalarPath(() => native().matmul(GGMLType.F32, new Uint8Array(bytesOf(a)), nOut, nIn, x, nTok, y));
  return y;
}

test('wasm matmulF32 = native scalar F32 matmul bit for bit (plain, in place, overlapping output); bad sizes are RangeErrors', { skip }, async () => {
  const w = await wasmKernels();
  for (const [nOut, nIn, nTok] of [[64, 64, 64], [37, 100, 5], [64, 130, 1]] as const) {
    const a = gaussian(nOut * nIn, nOut + nIn), x = gaussian(nTok * nIn, 3 + nTok);
    const want = ref(a, nOut, nIn, x, nTok);
    const y = new Float32Array(nTok * nOut).fill(NaN);
    w.matmulF32(a, nOut, nIn, x, nTok, y);
    assert.ok(bitsEqual(y, want), `plain ${nOut}x${nIn} nTok ${nTok}`);
    const al = w.allocF32(a.length), xl = w.allocF32(x.length), yl = w.allocF32(y.length);
    al.set(a);
    xl.set(x);
    w.matmulF32(al, nOut, nIn, xl, nTok, yl);
    assert.ok(bitsEqual(yl, want), `in place ${nOut}x${nIn} nTok ${nTok}`);
    // output overlapping the operand a: computed from the unmodified a, then copied
    const both = w.allocF32(a.length + y.length);
    both.set(a);
    w.matmulF32(both.subarray(0, a.length), nOut, nIn, xl, nTok, both.subarray(a.length - 7, a.length - 7 + y.length));
    assert.ok(bitsEqual(both.subarray(a.length - 7, a.length - 7 + y.length), want), `output overlapping a ${nOut}x${nIn}`);
    for (const b of [al, xl, yl, both]) w.freeF32(b);
  }
  const code = { name: 'RangeError', code: 'ERR_SYNFLUX_ARG' };
  assert.throws(() => w.matmulF32(new Float32Array(10), 4, 4, new Float32Array(4), 1, new Float32Array(4)), code);
  assert.throws(() => w.matmulF32(new Float32Array(16), 4, 4, new Float32Array(3), 1, new Float32Array(4)), code);
  assert.throws(() => w.matmulF32(new Float32Array(16), 4, 4, new Float32Array(4), 1, new Float32Array(3)), code);
  assert.throws(() => w.matmulF32(new Float32Array(16), -1, 4, new Float32Array(4), 1, new Float32Array(4)), code);
});

test('wasm matmulF32 leaves no copy behind; a linear-memory weight view is read in place, not cached', { skip }, async () => {
  const w = await wasmKernels();
  const nOut = 256, nIn = 256, nTok = 4, calls = 200; // 200 operands of 256 KiB: 50 MiB if each were kept
  const x = gaussian(nTok * nIn, 1), y = new Float32Array(nTok * nOut);
  const fresh = (i: number): Float32Array => new Float32Array(nOut * nIn).fill(i % 7);
  w.matmulF32(fresh(0), nOut, nIn, x, nTok, y); // first call sizes the scratch region
  const before = w.memoryBytes();
  for (let i = 1; i < calls; i++) w.matmulF32(fresh(i), nOut, nIn, x, nTok, y);
  assert.equal(w.memoryBytes(), before, 'matmulF32 with fresh operands grew linear memory');
  // the old way, a new weight array per call: each is copied and kept until its finalizer runs
  // (never inside this synchronous loop), so memory grows — the check above can fail
  for (let i = 0; i < calls; i++) w.matmul(GGMLType.F32, bytesOf(fresh(i)), nOut, nIn, x, nTok, y);
  assert.ok(w.memoryBytes() >= before + 0.5 * calls * nOut * nIn * 4, 'matmul caches every new weight array');

  // a view of linear memory as a matmul weight: changed contents are used (not a cached copy)
  const a = w.allocF32(64 * 64), xs = gaussian(3 * 64, 2), ys = new Float32Array(3 * 64);
  a.set(gaussian(a.length, 3));
  w.matmul(GGMLType.F32, bytesOf(a), 64, 64, xs, 3, ys);
  assert.ok(bitsEqual(ys, ref(a, 64, 64, xs, 3)), 'first contents');
  a.set(gaussian(a.length, 4));
  w.matmul(GGMLType.F32, bytesOf(a), 64, 64, xs, 3, ys);
  assert.ok(bitsEqual(ys, ref(a, 64, 64, xs, 3)), 'changed contents of a linear-memory weight');
  w.freeF32(a);
});

test('vision encoder on wasm: activations in linear memory, no growth after the first tile, plain results equal to a second run', { skip }, async () => {
  const { ensureVlmCheckpoint } = await import('../vision/vlm-fixtures.js');
  const { openGGUF } = await import('../../src/formats/gguf/reader.js');
  const { visionConfigFromGGUF } = await import('../../src/models/vision/config.js');
  const { visionWeightsFromGGUF } = await import('../../src/models/vision/weights.js');
  const { loadVisionModel } = await import('../../src/models/vision/index.js');
  const { encodeViT } = await import('../../src/models/vision/encoder.js');
  const { wasmVisionKernels } = await import('../../src/models/vision/kernels.js');
  const dir = await ensureVlmCheckpoint('smolvlm');
  const f = openGGUF(join(dir, 'mmproj.gguf'));
  const cfg = visionConfigFromGGUF(f);
  const wts = visionWeightsFromGGUF(f, cfg);
  const model = await loadVisionModel(join(dir, 'mmproj.gguf'), { device: 'cpu' });
  const pre = await model.preprocess(new Uint8Array(readFileSync(join(dir, 'image.png'))));
  const k = await wasmVisionKernels();
  const w = await wasmKernels();
  // alloc hands out linear memory (views on the backend's shared buffer)
  const probe = k.alloc!(16);
  assert.ok(probe.buffer instanceof SharedArrayBuffer, 'wasm provider alloc: a view of (shared) linear memory');
  k.free!(probe);
  const first = encodeViT(cfg, wts, pre.tiles[0]!, k);
  const before = w.memoryBytes();
  const outs: Float32Array[] = [];
  for (let r = 0; r < 3; r++) for (const t of pre.tiles) outs.push(encodeViT(cfg, wts, t, k));
  assert.equal(w.memoryBytes(), before, 'encoding more tiles grew linear memory');
  for (const o of outs) assert.ok(!(o.buffer instanceof SharedArrayBuffer), 'result must be a plain array');
  assert.ok(bitsEqual(outs[0]!, first), 'same tile, same bits after the buffers were reused');
  assert.ok(bitsEqual(outs[pre.tiles.length]!, outs[0]!), 'second round = first round');
});
