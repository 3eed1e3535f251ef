/**
 * The native addon's argument validation (bad calls throw JS errors, never crash), mmap, thread
 * settings, and the CPU backend / registry over it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GGMLType, rowBytes } from '../../src/core/ggml-type.js';
import { native } from '../../src/backends/cpu/native.js';
import { CpuBackend, CpuBuffer } from '../../src/backends/cpu/cpu-backend.js';
import { getBackend, listBackends } from '../../src/backends/registry.js';
import { BackendError } from '../../src/core/errors.js';
import { gaussian } from './helpers.js';

const k = native();
const nIn = 64, nOut = 3, nTok = 2;
const w = new Uint8Array(rowBytes(GGMLType.Q4_0, nIn) * nOut);
const x = new Float32Array(nTok * nIn);
const y = new Float32Array(nTok * nOut);
const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

test('matmul rejects bad arguments with clear errors', () => {
  const Q = GGMLType.Q4_0;
  k.matmul(Q, w, nOut, nIn, x, nTok, y); // the valid call works
  assert.throws(() => k.matmul(99, w, nOut, nIn, x, nTok, y), /ggml type 99 is not supported/);
  assert.throws(() => k.matmul(GGMLType.Q2_K, w, nOut, nIn, x, nTok, y), code('ERR_SYNFLUX_TYPE'));
  assert.throws(() => k.matmul(GGMLType.Q8_1, w, nOut, nIn, x, nTok, y), /not supported as a weight type/);
  assert.throws(() => k.matmul(Q, w.subarray(1), nOut, nIn, x, nTok, y), /w has 107 bytes, need nOut\*rowSize\(Q4_0, 64\) = 108/);
  assert.throws(() => k.matmul(Q, w, nOut, nIn, x.subarray(1), nTok, y), /x has 127 floats/);
  assert.throws(() => k.matmul(Q, w, nOut, nIn, x, nTok, y.subarray(1)), /y has 5 floats/);
  assert.throws(() => k.matmul(Q, w, nOut, 48, x, nTok, y), /not a multiple of Q4_0's block size 32/);
  assert.throws(() => k.matmul(Q, w, nOut, 0, x, nTok, y), /nIn must be > 0/);
  assert.throws(() => k.matmul(Q, w, -1, nIn, x, nTok, y), RangeError);
  assert.throws(() => k.matmul(Q, w, 1.5, nIn, x, nTok, y), /nOut must be an integer/);
  assert.throws(() => k.matmul(Q, w, nOut, nIn, new Float64Array(128) as never, nTok, y), /x must be a Float32Array/);
  assert.throws(() => k.matmul(Q, [1, 2] as never, nOut, nIn, x, nTok, y), /w must be a TypedArray/);
  assert.throws(() => k.matmul(Q, w, '3' as never, nIn, x, nTok, y), TypeError);
  assert.throws(() => (k.matmul as (...a: unknown[]) => void)(Q, w, nOut), /expected 7 arguments, got 3/);
  assert.throws(() => k.matmul(Q, w, 2 ** 50, nIn, x, nTok, y), RangeError);
  // zero rows / tokens are valid no-ops
  k.matmul(Q, w, 0, nIn, x, nTok, new Float32Array(0));
  k.matmul(Q, w, nOut, nIn, x, 0, new Float32Array(0));
});

test('getRows / dequantize / quantize reject bad arguments', () => {
  const out = new Float32Array(2 * nIn);
  assert.throws(() => k.getRows(GGMLType.Q4_0, w, nIn, Int32Array.from([0, 3]), out), /ids\[1\] = 3 is out of range \[0, 3\)/);
  assert.throws(() => k.getRows(GGMLType.Q4_0, w, nIn, Int32Array.from([-1]), out), /out of range/);
  assert.throws(() => k.getRows(GGMLType.Q4_0, w, nIn, new Uint32Array(1) as never, out), /ids must be a Int32Array/);
  assert.throws(() => k.getRows(GGMLType.Q4_0, w, nIn, Int32Array.from([0, 1, 2]), out), /out has 128 floats/);
  assert.throws(() => k.dequantize(GGMLType.Q4_K, new Uint8Array(143), 256, new Float32Array(256)), /src has 143 bytes, need 144/);
  assert.throws(() => k.dequantize(GGMLType.Q4_K, new Uint8Array(144), 256, new Float32Array(255)), /out has 255 floats/);
  assert.throws(() => k.quantize(GGMLType.Q6_K, new Float32Array(256), 256, new Uint8Array(209)), /out has 209 bytes, need 210/);
  assert.throws(() => k.quantize(GGMLType.Q6_K, new Float32Array(255), 256, new Uint8Array(210)), /src has 255 floats/);
  assert.throws(() => k.quantize(GGMLType.Q4_0, new Float32Array(16), 16, new Uint8Array(18)), /multiple of Q4_0's block size/);
  assert.throws(() => k.quantizeActivation(GGMLType.Q8_K, new Float32Array(256), 256, new Uint8Array(292)), /weight type/);
  assert.throws(() => k.setThreads(0), RangeError);
  assert.throws(() => k.setPath('sve' as never), /unknown path 'sve'/);
  assert.throws(() => k.setPath(3 as never), TypeError);
});

test('setPath reports unsupported paths; setThreads resizes the pool', () => {
  for (const p of ['scalar', 'avx2', 'avx512', 'neon'] as const) {
    if (k.kernelInfo().paths.includes(p)) assert.equal(k.setPath(p), p);
    else assert.throws(() => k.setPath(p), code('ERR_SYNFLUX_PATH'));
  }
  k.setPath('auto');
  const before = k.getThreads();
  assert.equal(k.setThreads(3), 3);
  assert.equal(k.getThreads(), 3);
  assert.equal(k.setThreads(before), before);
  assert.ok(Array.isArray(k.cpuFeatures()));
});

test('mmap maps a file zero-copy and reports errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synflux-mmap-'));
  try {
    const file = join(dir, 'w.bin');
    const data = Uint8Array.from({ length: 10000 }, (_, i) => (i * 7) & 255);
    writeFileSync(file, data);
    const ab = k.mmap(file);
    assert.equal(ab.byteLength, data.length);
    assert.deepEqual(new Uint8Array(ab), data);
    // writes stay private (copy-on-write): the file is unchanged
    new Uint8Array(ab)[0] = 255;
    assert.equal(new Uint8Array(native().mmap(file))[0], 0);
    writeFileSync(join(dir, 'empty'), '');
    assert.equal(k.mmap(join(dir, 'empty')).byteLength, 0);
    assert.throws(() => k.mmap(join(dir, 'missing')), (e: unknown) => (e as { code?: string }).code === 'ENOENT' && /cannot open/.test(String(e)));
    assert.throws(() => k.mmap(dir), /not a regular file/);
    assert.throws(() => k.mmap(42 as never), /path must be a string/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CPU backend runs matmul through buffers; registry serves it', () => {
  const b = getBackend('cpu') as CpuBackend;
  assert.ok(listBackends().includes('cpu'));
  assert.equal(b.device.kind, 'cpu');
  assert.ok(b.supportsOp('matmul', [GGMLType.Q4_K]));
  assert.ok(!b.supportsOp('matmul', [GGMLType.Q2_K]));
  assert.ok(b.supportsOp('quantize', [GGMLType.Q8_K]));
  const W0 = gaussian(nOut * nIn, 1), X = gaussian(nTok * nIn, 2);
  const wq = new Uint8Array(rowBytes(GGMLType.Q8_0, nIn) * nOut);
  k.quantize(GGMLType.Q8_0, W0, W0.length, wq);
  const wb = b.wrap(wq);
  const xb = b.allocate(X.byteLength);
  b.upload(xb, X);
  const yb = b.allocate(nTok * nOut * 4);
  b.run('matmul', [wb, xb], [yb], { type: GGMLType.Q8_0, nOut, nIn, nTok });
  const direct = new Float32Array(nTok * nOut);
  k.matmul(GGMLType.Q8_0, wq, nOut, nIn, X, nTok, direct);
  assert.deepEqual(new Float32Array(b.download(yb).buffer), direct);
  assert.throws(() => b.run('matmul', [wb, xb], [yb], { type: GGMLType.Q2_K, nOut, nIn, nTok }), BackendError);
  assert.throws(() => b.run('matmul', [wb, xb], [yb], { type: GGMLType.Q8_0, nOut, nIn }), /'nTok' is missing/);
  assert.throws(() => b.upload(xb, new Uint8Array(X.byteLength + 1)), RangeError);
  b.free(yb);
  assert.ok(yb instanceof CpuBuffer);
  assert.throws(() => b.download(yb), /used after free/);
  assert.throws(() => getBackend('tpu'), /no backend named 'tpu'/);
});
