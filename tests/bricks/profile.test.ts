/**
 * Device profiling pieces: the generated ONNX MatMul model run by ONNX Runtime (the reference
 * here) against the native addon's F32/F16 matmul on the same weights; a quick profile of all
 * three devices (tiny sizes; the figures themselves are machine-dependent and not asserted) is a
 * valid, loadable schema-v2 file with per-element op figures for cpu/wasm and the host; the token arena reuses its block; the bounded queue's errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { matmulOnnxModel } from '../../src/bricks/onnx-matmul.js';
import { measureProfiles, randomFloats } from '../../src/bricks/profile.js';
import { loadProfileSet, saveProfileSet, PROFILE_VERSION } from '../../src/bricks/profile-schema.js';
import { TokenArena } from '../../src/bricks/arena.js';
import { BoundedQueue, END } from '../../src/bricks/queue.js';
import { native } from '../../src/backends/cpu/native.js';
import { f32ToF16Bits, f16BitsToF32 } from '../../src/core/f16.js';
import { RequestError } from '../../src/core/errors.js';

test('ONNX MatMul model (our protobuf writer) run by ONNX Runtime equals the native matmul', async () => {
  const nOut = 48, nIn = 64, nTok = 5;
  const w = randomFloats(nOut * nIn, 3, 0.2);
  const x = randomFloats(nTok * nIn, 4);
  const want = new Float32Array(nTok * nOut);
  native().matmul(0, new Uint8Array(w.buffer), nOut, nIn, x, nTok, want);
  const s = await ort.InferenceSession.create(matmulOnnxModel(w, nOut, nIn), { intraOpNumThreads: 1 });
  const y = (await s.run({ X: new ort.Tensor('float32', x, [nTok, nIn]) })).Y!;
  assert.deepEqual(y.dims, [nTok, nOut]);
  const got = y.data as Float32Array;
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-5 * (1 + Math.abs(want[i]!)), `y[${i}] ${got[i]} vs ${want[i]}`);
  await s.release();

  // F16: weights and inputs rounded to half; ORT accumulates and rounds the output to half.
  const wh = new Uint16Array(w.length).map((_, i) => f32ToF16Bits(w[i]!));
  const want16 = new Float32Array(nTok * nOut);
  const xr = x.map((v) => f16BitsToF32(f32ToF16Bits(v)));
  native().matmul(1, new Uint8Array(wh.buffer), nOut, nIn, xr, nTok, want16);
  const s16 = await ort.InferenceSession.create(matmulOnnxModel(w, nOut, nIn, { dtype: 'f16' }), { intraOpNumThreads: 1 });
  const y16 = (await s16.run({ X: new ort.Tensor('float16', new Uint16Array(xr.length).map((_, i) => f32ToF16Bits(xr[i]!)), [nTok, nIn]) })).Y!;
  const g16 = y16.data as Uint16Array;
  for (let i = 0; i < want16.length; i++) {
    assert.ok(Math.abs(f16BitsToF32(g16[i]!) - want16[i]!) <= 2e-3 * (1 + Math.abs(want16[i]!)), `f16 y[${i}]`);
  }
  await s16.release();
  assert.throws(() => matmulOnnxModel(w, nOut, nIn + 1), (e: unknown) => e instanceof RequestError && e.code === 'ONNX_WRITE');
  assert.throws(() => matmulOnnxModel(w, 0, nIn), (e: unknown) => e instanceof RequestError && e.code === 'ONNX_WRITE');
});

test('a quick profile of cpu, wasm and onnx is a valid schema-v2 file', async () => {
  const lines: string[] = [];
  const p = await measureProfiles({
    devices: ['cpu', 'wasm', 'onnx'], dtypes: ['F32', 'Q8_0', 'Q4_K'], sizes: [[256, 256]], nToks: [1, 8], minMs: 5, log: (l) => lines.push(l),
  });
  assert.equal(p.version, PROFILE_VERSION);
  assert.deepEqual(Object.keys(p.devices), ['cpu', 'wasm', 'onnx']);
  assert.equal(p.devices.cpu!.matmul.length, 6 + 1); // 3 dtypes × 1 size × 2 token counts + the F32 vision GEMM at nTok 8
  assert.equal(p.devices.wasm!.matmul.length, 6);
  assert.equal(p.devices.onnx!.matmul.length, 2); // ONNX: F32 only of these
  for (const d of Object.values(p.devices)) for (const m of d.matmul) assert.ok(m.gflops > 0 && m.ms > 0);
  // host→D, D→host and every D→E pair.
  assert.equal(p.transfers.length, 3 * 2 + 9);
  for (const d of ['cpu', 'wasm']) for (const op of ['rope', 'glu', 'attentionRow', 'rmsNorm', 'softmax', 'gelu', 'forwardLayer']) assert.ok(p.devices[d]!.opNs![op]! > 0, `${d} ${op}`);
  // the per-pair part is what a 4× larger head dim adds; on cpu it can be lost in the per-row part (then 0)
  for (const d of ['cpu', 'wasm']) assert.ok(p.devices[d]!.opNs!.attention! >= 0, `${d} attention`);
  assert.equal(p.devices.onnx!.opNs, undefined);
  assert.ok(p.devices.cpu!.matmul.some((m) => m.dtype === 'F32.gemm' && m.nTok === 8), 'cpu: the vision GEMM measured at the batched token count');
  for (const op of ['decodeCall', 'decodePng', 'decodeJpeg', 'resizeH', 'resizeV', 'normalize', 'layerNorm', 'elementwise', 'softmaxTs']) {
    assert.ok(p.hostOps!.opNs[op]! >= 0 && Number.isFinite(p.hostOps!.opNs[op]!), op);
  }
  const dir = mkdtempSync(join(tmpdir(), 'synflux-prof-'));
  saveProfileSet(p, join(dir, 'p.json'));
  assert.deepEqual(loadProfileSet(join(dir, 'p.json')), p);
  writeFileSync(join(dir, 'bad.json'), '{');
  assert.throws(() => loadProfileSet(join(dir, 'bad.json')), (e: unknown) => e instanceof RequestError && e.code === 'BAD_PROFILE');
  assert.throws(() => loadProfileSet(join(dir, 'missing.json')), (e: unknown) => e instanceof RequestError && e.code === 'PROFILE_NOT_FOUND');
  assert.ok(lines.some((l) => l.startsWith('wasm matmul Q4_K 256x256 nTok=8')));
});

test('token arena: one block reused while requests fit, grows to the next power of two', () => {
  const a = new TokenArena({ h: 8, o: 3 });
  const v1 = a.acquire(5);
  assert.equal(v1.h!.length, 40);
  assert.equal(v1.o!.length, 15);
  assert.equal(a.capacity, 8);
  assert.equal(a.allocations, 1);
  a.acquire(8);
  a.acquire(1);
  assert.equal(a.allocations, 1);
  assert.equal(a.bytes, 8 * 11 * 4);
  const v2 = a.acquire(9);
  assert.equal(a.capacity, 16);
  assert.equal(a.allocations, 2);
  // Views of different buffers never overlap.
  v2.h!.fill(1);
  v2.o!.fill(2);
  assert.ok(v2.h!.every((x) => x === 1));
  assert.throws(() => a.acquire(0), (e: unknown) => e instanceof RequestError && e.code === 'BAD_TOKENS');
  assert.throws(() => new TokenArena({ h: 1 }, 4).acquire(5), (e: unknown) => e instanceof RequestError && e.code === 'ARENA_TOO_LARGE');
});

test('bounded queue: FIFO, capacity, close and fail', async () => {
  assert.throws(() => new BoundedQueue(0), RangeError);
  const q = new BoundedQueue<number>(2);
  await q.put(1);
  await q.put(2);
  let third = false;
  const p3 = q.put(3).then(() => (third = true));
  await Promise.resolve();
  assert.equal(third, false); // full: put waits
  assert.equal(await q.take(), 1);
  await p3;
  assert.equal(third, true);
  q.close();
  assert.deepEqual([await q.take(), await q.take(), await q.take()], [2, 3, END]);
  const q2 = new BoundedQueue<number>(1);
  const waiting = q2.take();
  q2.fail(new Error('boom'));
  await assert.rejects(waiting, /boom/);
  await assert.rejects(q2.put(1), /boom/);
});
