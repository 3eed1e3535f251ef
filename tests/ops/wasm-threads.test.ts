/**
 * Multi-threaded WASM backend (wasm/pool.c, src/backends/wasm/threads.ts): outputs with 1, 2 and 3
 * threads are bit-identical to each other, to the single-threaded instance on unshared memory (the
 * fallback of browsers without SharedArrayBuffer) and, for matmul, to the native addon's scalar C
 * (the reference: same C source, one float order); a full SmolLM2 forward gives the same logits at
 * every thread count; workers stop on close() and never keep a process alive.
 * Skipped with a message when wasm/synflux.wasm or the native addon is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GGMLType, rowBytes, typeName } from '../../src/core/ggml-type.js';
import { native, nativeAvailable } from '../../src/backends/cpu/native.js';
import { unshareMemoryImport } from '../../src/backends/wasm/threads.js';
import { closeWasmKernels, wasmAvailable, wasmKernels, wasmModulePath, type WasmKernels } from '../../src/backends/wasm/index.js';
import { gaussian, randomBlocks, ROOT, withScalarPath } from './helpers.js';

const skip = !wasmAvailable()
  ? `${wasmModulePath()} is missing: run scripts/build-wasm.sh (needs clang and lld)`
  : !nativeAvailable()
    ? 'native addon not built (reference for the wasm tests)'
    : false;

/** Same bits, or both NaN (NaN payloads are not specified by WebAssembly). */
function sameBits(a: Float32Array, b: Float32Array): string | null {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) {
    if (x[i] === y[i] || (Number.isNaN(a[i]) && Number.isNaN(b[i]))) continue;
    return `[${i}] ${a[i]} vs ${b[i]}`;
  }
  return null;
}

/** Waits until the pool's workers have had time to instantiate (they join jobs as they come; results never depend on it). */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 200));

test('wasm matmul / matmulMulti: 1, 2, 3 threads and the unshared instance = native scalar, every weight type', { skip, timeout: 600_000 }, async (t) => {
  const w = await wasmKernels();
  const single = await wasmKernels({ shared: false });
  const k = native();
  assert.equal(w.shared, true);
  assert.equal(single.shared, false);
  assert.equal(single.setThreads(4), 1, 'no workers without shared memory');
  t.diagnostic(`weight types: ${w.weightTypes().map(typeName).join(' ')}`);
  // [nOut, nIn, nTok]: decode and prefill shapes, row counts that are not multiples of 4 (the
  // one-row tail) and a matrix above the sequential-row threshold (set to 0 below as well)
  const shapes = [[37, 512, 1], [203, 256, 1], [16, 768, 5], [61, 256, 33]] as const;
  for (const type of w.weightTypes()) {
    for (const [nOut, nIn, nTok] of shapes) {
      const wq = type === GGMLType.F32 ? new Uint8Array(gaussian(nOut * nIn, 3 + type).buffer) : randomBlocks(type, nOut * nIn, 11 + type + nOut);
      const x = gaussian(nTok * nIn, 7 + nTok);
      const ref = new Float32Array(nTok * nOut);
      withScalarPath(() => k.matmul(type, wq, nOut, nIn, x, nTok, ref));
      const s = new Float32Array(nTok * nOut).fill(NaN);
      single.matmul(type, wq, nOut, nIn, x, nTok, s);
      assert.equal(sameBits(s, ref), null, `${typeName(type)} ${nOut}x${nIn} nTok=${nTok}: unshared instance vs native scalar`);
      for (const th of [1, 2, 3]) {
        w.setThreads(th);
        if (th > 1) await settle();
        for (const seqBytes of [4 << 20, 0]) {
          w.tune({ seqBytes });
          const y = new Float32Array(nTok * nOut).fill(NaN);
          w.matmul(type, wq, nOut, nIn, x, nTok, y);
          assert.equal(sameBits(y, ref), null, `${typeName(type)} ${nOut}x${nIn} nTok=${nTok} threads=${th} seqBytes=${seqBytes}`);
        }
      }
      w.tune({ seqBytes: 4 << 20 });
    }
    // matmulMulti: three weights sharing X, each equal to its own matmul
    if (type === GGMLType.F32) continue;
    const nIn = 256, nTok = 3, outs = [40, 13, 8];
    const ws = outs.map((n, i) => randomBlocks(type, n * nIn, 100 + i));
    const x = gaussian(nTok * nIn, 5);
    const ys = outs.map((n) => new Float32Array(nTok * n));
    w.setThreads(2);
    w.matmulMulti(type, nIn, x, nTok, ws[0]!, outs[0]!, ys[0]!, ws[1]!, outs[1]!, ys[1]!, ws[2]!, outs[2]!, ys[2]!);
    for (let i = 0; i < 3; i++) {
      const one = new Float32Array(nTok * outs[i]!);
      withScalarPath(() => k.matmul(type, ws[i]!, outs[i]!, nIn, x, nTok, one));
      assert.equal(sameBits(ys[i]!, one), null, `${typeName(type)} matmulMulti part ${i}`);
    }
  }
  // raw random bytes: every fp16 scale pattern (subnormal, Inf, NaN) through the vector fp16 conversion of the 4-row kernels
  for (const type of [GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q8_0]) {
    const nOut = 64, nIn = 512, nTok = 2;
    const wq = new Uint8Array(rowBytes(type, nIn) * nOut);
    const u = new Uint32Array(wq.buffer);
    let seed = 99 + type;
    for (let i = 0; i < u.length; i++) u[i] = seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const x = gaussian(nTok * nIn, 8);
    const ref = new Float32Array(nTok * nOut);
    withScalarPath(() => k.matmul(type, wq, nOut, nIn, x, nTok, ref));
    w.setThreads(2);
    for (const seqBytes of [4 << 20, 0]) {
      w.tune({ seqBytes });
      const y = new Float32Array(nTok * nOut);
      w.matmul(type, wq, nOut, nIn, x, nTok, y);
      assert.equal(sameBits(y, ref), null, `${typeName(type)} raw bytes, seqBytes=${seqBytes}`);
    }
    w.tune({ seqBytes: 4 << 20 });
  }
  assert.throws(() => w.matmulMulti(GGMLType.Q4_1, 32, new Float32Array(32), 1, new Uint8Array(10), 4, new Float32Array(4), new Uint8Array(80), 4, new Float32Array(4)), RangeError);
});

test('wasm attention and GLU: the same bits at 1, 2 and 3 threads, and as native scalar on extreme inputs', { skip, timeout: 120_000 }, async () => {
  const w = await wasmKernels();
  const nHead = 9, nHeadKv = 3, dk = 64, dv = 64, nCtx = 512;
  for (const [nTok, pos0] of [[1, 200], [40, 0]] as const) {
    const used = pos0 + nTok;
    const q = gaussian(nTok * nHead * dk, 1);
    const kc = new Float32Array(nCtx * nHeadKv * dk);
    kc.set(gaussian(used * nHeadKv * dk, 2));
    const vt = new Float32Array(nCtx * nHeadKv * dv);
    const vv = gaussian(nHeadKv * dv * nCtx, 3);
    for (let r = 0; r < nHeadKv * dv; r++) vt.set(vv.subarray(r * nCtx, r * nCtx + used), r * nCtx);
    const shape = { nTok, pos0, nHead, nHeadKv, headDimK: dk, headDimV: dv, nCtx, scale: 1 / 8, window: 0 };
    const outs = [1, 2, 3].map((th) => {
      w.setThreads(th);
      const o = new Float32Array(nTok * nHead * dv);
      w.attention(q, kc, vt, o, shape);
      return o;
    });
    assert.equal(sameBits(outs[1]!, outs[0]!), null, `attention nTok=${nTok} 2 threads`);
    assert.equal(sameBits(outs[2]!, outs[0]!), null, `attention nTok=${nTok} 3 threads`);
  }
  // scores spread over hundreds (exp underflow to subnormal/zero inside ggml_v_expf): vs native scalar
  {
    const nTok = 3, pos0 = 70, used = pos0 + nTok;
    const q = gaussian(nTok * nHead * dk, 11, 6);
    const kc = new Float32Array(nCtx * nHeadKv * dk);
    kc.set(gaussian(used * nHeadKv * dk, 12, 6));
    const vt = new Float32Array(nCtx * nHeadKv * dv).fill(0);
    const vv = gaussian(nHeadKv * dv * nCtx, 13);
    for (let r = 0; r < nHeadKv * dv; r++) vt.set(vv.subarray(r * nCtx, r * nCtx + used), r * nCtx);
    const shape = { nTok, pos0, nHead, nHeadKv, headDimK: dk, headDimV: dv, nCtx, scale: 1, window: 0 };
    const a = new Float32Array(nTok * nHead * dv), b = new Float32Array(nTok * nHead * dv);
    w.setThreads(2);
    w.attention(q, kc, vt, a, shape);
    withScalarPath(() => native().attention(q, kc, vt, b, shape));
    assert.equal(sameBits(a, b), null, 'attention with wide scores vs native scalar');
  }
  // products that round to zero (q·k of tiny values, V of the smallest negative subnormal times a
  // probability): fmaf keeps the product's sign (-0), which the first-block multiply shortcut of
  // wasm/sf_attn_simd128.c must reproduce (decode and prefill, one and two blocks of keys)
  for (const [nTok, pos0] of [[1, 63], [1, 127], [2, 62]] as const) { // all keys of the last 64-block visible
    const used = pos0 + nTok;
    const q = gaussian(nTok * nHead * dk, 21).map((x) => x * 1e-25);
    const kc = new Float32Array(nCtx * nHeadKv * dk);
    kc.set(gaussian(used * nHeadKv * dk, 22).map((x) => x * 1e-25));
    const vt = new Float32Array(nCtx * nHeadKv * dv);
    for (let r = 0; r < nHeadKv * dv; r++) vt.fill(r % 2 ? -1.4e-45 : 3e-45, r * nCtx, r * nCtx + used);
    const shape = { nTok, pos0, nHead, nHeadKv, headDimK: dk, headDimV: dv, nCtx, scale: 1 / 8, window: 0 };
    const a = new Float32Array(nTok * nHead * dv), b = new Float32Array(nTok * nHead * dv);
    w.attention(q, kc, vt, a, shape);
    withScalarPath(() => native().attention(q, kc, vt, b, shape));
    assert.ok(b.some((x) => Object.is(x, -0)), 'the reference has -0 outputs');
    assert.equal(sameBits(a, b), null, `attention nTok=${nTok} pos0=${pos0} with underflowing products vs native scalar`);
  }
  // SwiGLU over [-300, 300] (exp overflow/underflow lanes) vs native scalar
  {
    const n = 4096;
    const g = Float32Array.from({ length: n }, (_, i) => (i - n / 2) * (300 / (n / 2)));
    const u = gaussian(n, 14);
    const a = new Float32Array(n), b = new Float32Array(n);
    w.swiglu(g, u, a, n);
    withScalarPath(() => native().swiglu(g, u, b, n));
    assert.equal(sameBits(a, b), null, 'swiglu wide range vs native scalar');
  }
  // 40000: above the 2×4096 single-chunk limit of sf_attn.c's element-wise jobs; 1543 (a decoded
  // token's n_ff-sized GLU with a scalar tail): split over the pool by wasm/glue.c
  for (const n of [40000, 1543]) {
    const g = gaussian(n, 4, 4), u = gaussian(n, 5);
    for (const op of ['swiglu', 'geglu'] as const) {
      const outs = [1, 2, 3].map((th) => {
        w.setThreads(th);
        const o = new Float32Array(n);
        w[op](g, u, o, n);
        return o;
      });
      assert.equal(sameBits(outs[1]!, outs[0]!), null, `${op} n=${n} 2 threads`);
      assert.equal(sameBits(outs[2]!, outs[0]!), null, `${op} n=${n} 3 threads`);
      const ref = new Float32Array(n);
      withScalarPath(() => native()[op](g, u, ref, n));
      assert.equal(sameBits(outs[0]!, ref), null, `${op} n=${n} vs native scalar`);
    }
  }
});

const SMOLLM2 = join(ROOT, '.cache', 'models', 'SmolLM2-135M-Instruct.Q4_1.gguf');

test('SmolLM2 forward (prefill + 3 decode steps): logits identical at 1, 2 and 3 wasm threads', { skip: skip || (!existsSync(SMOLLM2) && `${SMOLLM2} missing (npm run fixtures)`), timeout: 600_000 }, async () => {
  const { loadModel } = await import('../../src/models/load.js');
  const runs: Float32Array[][] = [];
  for (const threads of [1, 2, 3]) {
    const m = await loadModel(SMOLLM2, { backend: 'wasm', threads, contextSize: 128 });
    try {
      await settle();
      const prompt = m.tokenizer.encode('The capital of France is', { addSpecial: true });
      const steps = [m.forward(prompt).slice()];
      for (const tk of [4, 330, 1345]) steps.push(m.forward([tk]).slice());
      runs.push(steps);
    } finally {
      m.dispose();
    }
  }
  for (let th = 1; th < runs.length; th++)
    for (let s = 0; s < runs[0]!.length; s++) assert.equal(sameBits(runs[th]![s]!, runs[0]![s]!), null, `${th + 1} threads, step ${s}`);
});

test('wasm workers: close() stops them; a process that never calls it still exits', { skip, timeout: 120_000 }, async () => {
  const w: WasmKernels = await wasmKernels();
  assert.equal(w.setThreads(3), 3);
  await settle();
  const y = new Float32Array(64);
  w.matmul(GGMLType.Q8_0, randomBlocks(GGMLType.Q8_0, 64 * 256, 1), 64, 256, gaussian(256, 2), 1, y);
  // the workers do take part: a large matmul, repeated until a worker has joined one (≤ 20 s on a loaded machine)
  const big = randomBlocks(GGMLType.Q8_0, 8192 * 512, 3), xb = gaussian(512, 4), yb = new Float32Array(8192);
  const joins0 = w.workerJoins();
  for (const t0 = Date.now(); w.workerJoins() === joins0 && Date.now() - t0 < 20_000; await new Promise((r) => setTimeout(r, 10)))
    w.matmul(GGMLType.Q8_0, big, 8192, 512, xb, 1, yb);
  assert.ok(w.workerJoins() > joins0, 'no worker joined a job');
  await closeWasmKernels();
  assert.equal(w.threads(), 1);
  // usable again after close
  assert.equal(w.setThreads(2), 2);
  const y2 = new Float32Array(64);
  w.matmul(GGMLType.Q8_0, randomBlocks(GGMLType.Q8_0, 64 * 256, 1), 64, 256, gaussian(256, 2), 1, y2);
  assert.equal(sameBits(y2, y), null);
  await closeWasmKernels();

  // a child that starts 3 threads, runs a matmul and returns without close(): must exit by itself
  const mod = new URL('../../src/backends/wasm/index.js', import.meta.url).href;
  const code = `const { wasmKernels } = await import(${JSON.stringify(mod)});
const w = await wasmKernels(); w.setThreads(3); await new Promise((r) => setTimeout(r, 300));
const y = new Float32Array(8); w.matmul(8, new Uint8Array(34 * 8 * 8), 8, 256, new Float32Array(256), 1, y);
console.log('threads', w.threads());`;
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--test'));
  const r = spawnSync(process.execPath, [...execArgv, '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000, cwd: fileURLToPath(new URL('.', import.meta.url)) });
  assert.equal(r.error, undefined, `child did not exit: ${r.error?.message}`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /threads 3/);
});

test('unshareMemoryImport rewrites only the shared memory import', { skip }, async () => {
  const { readFileSync } = await import('node:fs');
  const bytes = new Uint8Array(readFileSync(wasmModulePath()));
  const out = unshareMemoryImport(bytes);
  assert.equal(out.length, bytes.length);
  let diff = 0;
  for (let i = 0; i < bytes.length; i++) if (out[i] !== bytes[i]) diff++;
  assert.equal(diff, 1, 'one flag byte');
  assert.deepEqual(unshareMemoryImport(out), out, 'idempotent');
  assert.throws(() => unshareMemoryImport(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), RangeError);
});
