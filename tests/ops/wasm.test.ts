/**
 * WASM backend (wasm/synflux.wasm, src/backends/wasm/index.ts) against the native addon's scalar
 * path: every LayerKernels op on random inputs, then SmolLM2 end to end (greedy, wasm vs native).
 * The WASM build runs the same C as the native scalar path, and its SIMD128 dot products keep the
 * scalar float order, so matmul/getRows are expected bit-identical; rope/attention/GLU go through
 * wasm/libm.c (expf, sincosf, powf, tanhf evaluated in double) and may differ by an ulp.
 * Skipped with a message when wasm/synflux.wasm (scripts/build-wasm.sh) or the addon is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GGMLType, rowBytes, typeInfo, typeName } from '../../src/core/ggml-type.js';
import { native, nativeAvailable, type NativeRopeParams } from '../../src/backends/cpu/native.js';
import { wasmAvailable, wasmKernels, wasmModulePath } from '../../src/backends/wasm/index.js';
import { gaussian, randomBlocks, ROOT, withScalarPath } from './helpers.js';

const skip = !wasmAvailable()
  ? `${wasmModulePath()} is missing: run scripts/build-wasm.sh (needs clang and lld)`
  : !nativeAvailable()
    ? 'native addon not built (reference for the wasm tests)'
    : false;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}
function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}
function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

test('wasm matmul = native scalar matmul, bit for bit, for every weight type', { skip }, async (t) => {
  const w = await wasmKernels();
  const k = native();
  const types = w.weightTypes();
  t.diagnostic(`weight types: ${types.map(typeName).join(' ')}; SIMD128 dots: ${w.simdTypes().map(typeName).join(' ')}`);
  for (const type of types) {
    // 576 = 18 blocks of 32: the decode (one-token, row-sequential) kernels' tail after groups of four blocks
    const shapes: [number, number, number][] = [[37, 512, 1], [16, 768, 5], [9, 256, 33]];
    if (576 % typeInfo(type).blockSize === 0) shapes.push([13, 576, 1]);
    for (const [nOut, nIn, nTok] of shapes) {
      const w0 = gaussian(nOut * nIn, 11 + type);
      const wq = new Uint8Array(rowBytes(type, nIn) * nOut);
      k.quantize(type, w0, nOut * nIn, wq);
      const x = gaussian(nTok * nIn, 7 + nTok);
      const yw = new Float32Array(nTok * nOut).fill(NaN);
      const yn = new Float32Array(nTok * nOut);
      const ya = new Float32Array(nTok * nOut);
      w.matmul(type, wq, nOut, nIn, x, nTok, yw);
      withScalarPath(() => k.matmul(type, wq, nOut, nIn, x, nTok, yn));
      k.matmul(type, wq, nOut, nIn, x, nTok, ya);
      assert.ok(bitsEqual(yw, yn), `${typeName(type)} ${nOut}x${nIn} nTok=${nTok}: max abs diff vs scalar ${maxAbsDiff(yw, yn)}`);
      // vs the native default (SIMD) path only float order differs
      assert.ok(maxAbsDiff(yw, ya) <= 1e-4 * Math.max(1, maxAbs(ya)), `${typeName(type)}: vs native ${k.getPath()} ${maxAbsDiff(yw, ya)}`);
    }
  }
  assert.throws(() => w.matmul(GGMLType.Q4_1, new Uint8Array(10), 4, 32, new Float32Array(32), 1, new Float32Array(4)), RangeError);
});

test('wasm getRows = native getRows', { skip }, async () => {
  const w = await wasmKernels();
  const k = native();
  for (const type of w.weightTypes()) {
    const nIn = 512, nRows = 20;
    const wq = new Uint8Array(rowBytes(type, nIn) * nRows);
    k.quantize(type, gaussian(nIn * nRows, 3), nIn * nRows, wq);
    const ids = Int32Array.from([3, 0, 19, 3, 7]);
    const a = new Float32Array(ids.length * nIn), b = new Float32Array(ids.length * nIn);
    w.getRows(type, wq, nIn, ids, a);
    k.getRows(type, wq, nIn, ids, b);
    assert.ok(bitsEqual(a, b), typeName(type));
  }
  assert.throws(() => w.getRows(GGMLType.F32, new Uint8Array(64), 16, Int32Array.from([1]), new Float32Array(16)), RangeError);
});

test('wasm rope ≈ native scalar rope (norm, neox, YaRN, freq factors)', { skip }, async (t) => {
  const w = await wasmKernels();
  const k = native();
  const base: NativeRopeParams = { mode: 0, nDims: 64, freqBase: 10000, freqScale: 1, extFactor: 0, attnFactor: 1, betaFast: 32, betaSlow: 1, nCtxOrig: 4096, freqFactors: null };
  const cases: [string, NativeRopeParams, number][] = [
    ['norm', base, 0], ['neox', { ...base, mode: 2, freqBase: 1e6 }, 100],
    ['yarn', { ...base, mode: 2, nDims: 48, freqScale: 0.25, extFactor: 1, attnFactor: 1.1 }, 3000],
    ['freqs', { ...base, freqFactors: Float32Array.from({ length: 32 }, (_, i) => 1 + i / 8) }, 7],
  ];
  for (const [name, p, pos0] of cases) {
    const x = gaussian(5 * 3 * 64, 9);
    const a = x.slice(), b = x.slice();
    w.rope(a, 5, 3, 64, pos0, p);
    withScalarPath(() => k.rope(b, 5, 3, 64, pos0, p));
    const d = maxAbsDiff(a, b);
    t.diagnostic(`rope ${name}: max abs diff ${d.toExponential(2)}${bitsEqual(a, b) ? ' (bit-identical)' : ''}`);
    assert.ok(d <= 2e-6 * maxAbs(b), `rope ${name}: ${d}`);
  }
});

test('wasm attention ≈ native scalar attention (GQA, decode/prefill, sliding window)', { skip }, async (t) => {
  const w = await wasmKernels();
  const k = native();
  for (const [nTok, pos0, window, nCtx] of [[1, 0, 0, 64], [1, 300, 0, 512], [7, 20, 0, 300], [9, 130, 16, 256], [64, 0, 0, 512]] as const) {
    const nHead = 6, nHeadKv = 2, dk = 64, dv = 64;
    const used = pos0 + nTok;
    const q = gaussian(nTok * nHead * dk, 1);
    const kc = new Float32Array(nCtx * nHeadKv * dk);
    kc.set(gaussian(used * nHeadKv * dk, 2));
    const vt = new Float32Array(nCtx * nHeadKv * dv);
    const vv = gaussian(nHeadKv * dv * nCtx, 3);
    for (let r = 0; r < nHeadKv * dv; r++) vt.set(vv.subarray(r * nCtx, r * nCtx + used), r * nCtx);
    const shape = { nTok, pos0, nHead, nHeadKv, headDimK: dk, headDimV: dv, nCtx, scale: 1 / 8, window };
    const a = new Float32Array(nTok * nHead * dv), b = new Float32Array(nTok * nHead * dv);
    w.attention(q, kc, vt, a, shape);
    withScalarPath(() => k.attention(q, kc, vt, b, shape));
    const d = maxAbsDiff(a, b);
    t.diagnostic(`attention nTok=${nTok} pos0=${pos0} window=${window}: max abs diff ${d.toExponential(2)}${bitsEqual(a, b) ? ' (bit-identical)' : ''}`);
    assert.ok(d <= 1e-6 * Math.max(1, maxAbs(b)), `attention nTok=${nTok} pos0=${pos0}: ${d}`);
  }
});

test('wasm swiglu / geglu ≈ native', { skip }, async (t) => {
  const w = await wasmKernels();
  const k = native();
  const n = 1000;
  const g = gaussian(n, 4, 4), u = gaussian(n, 5);
  for (const op of ['swiglu', 'geglu'] as const) {
    const a = new Float32Array(n), b = new Float32Array(n);
    w[op](g, u, a, n);
    k[op](g, u, b, n);
    const d = maxAbsDiff(a, b);
    t.diagnostic(`${op}: max abs diff ${d.toExponential(2)}${bitsEqual(a, b) ? ' (bit-identical)' : ''}`);
    assert.ok(d <= 1e-6 * maxAbs(b), `${op}: ${d}`);
    // in place (out aliases g), as the transformer calls it
    const gi = g.slice();
    w[op](gi, u, gi, n);
    assert.ok(bitsEqual(gi, a));
  }
});

test('wasm allocF32 buffers are used in place and give the bits of plain arrays (aliasing and overlap included)', { skip }, async () => {
  const w = await wasmKernels();
  assert.equal(w.shared, true);
  const lin = (src: Float32Array): Float32Array => {
    const a = w.allocF32(src.length);
    a.set(src);
    return a;
  };
  // matmul / matmulMulti: x and y in linear memory (Q4_1: four-row SIMD kernel; Q6_K: one-row)
  for (const type of [GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q6_K]) {
    const nIn = 256, nTok = 3, n0 = 37, n1 = 8;
    const w0 = randomBlocks(type, n0 * nIn, 5 + type), w1 = randomBlocks(type, n1 * nIn, 9 + type);
    const x = gaussian(nTok * nIn, 21);
    const ref0 = new Float32Array(nTok * n0), ref1 = new Float32Array(nTok * n1);
    w.matmulMulti(type, nIn, x, nTok, w0, n0, ref0, w1, n1, ref1);
    const xl = lin(x), y0 = w.allocF32(nTok * n0), y1 = w.allocF32(nTok * n1);
    w.matmulMulti(type, nIn, xl, nTok, w0, n0, y0, w1, n1, y1);
    assert.ok(bitsEqual(y0, ref0) && bitsEqual(y1, ref1), `${typeName(type)} matmulMulti in place`);
    const y = w.allocF32(nTok * n0);
    w.matmul(type, w0, n0, nIn, xl, nTok, y);
    assert.ok(bitsEqual(y, ref0), `${typeName(type)} matmul in place`);
    // output overlapping the input: computed from the unmodified input, then copied
    const both = w.allocF32(nTok * nIn + nTok * n0);
    both.set(x);
    w.matmul(type, w0, n0, nIn, both.subarray(0, nTok * nIn), nTok, both.subarray(nTok * nIn - 5));
    assert.ok(bitsEqual(both.subarray(nTok * nIn - 5, nTok * nIn - 5 + nTok * n0), ref0), `${typeName(type)} matmul with overlapping output`);
    for (const a of [xl, y0, y1, y, both]) w.freeF32(a);
  }
  // attention on a KV cache and q/out in linear memory, decode and prefill
  const nHead = 4, nHeadKv = 2, dk = 64, dv = 64, nCtx = 200;
  const k = gaussian(nCtx * nHeadKv * dk, 31), vt = gaussian(nHeadKv * dv * nCtx, 32);
  const kl = lin(k), vl = lin(vt);
  for (const [nTok, pos0] of [[1, 150], [5, 70]] as const) {
    const q = gaussian(nTok * nHead * dk, 33 + nTok);
    const shape = { nTok, pos0, nHead, nHeadKv, headDimK: dk, headDimV: dv, nCtx, scale: 1 / 8, window: 0 };
    const ref = new Float32Array(nTok * nHead * dv);
    w.attention(q, k, vt, ref, shape);
    const out = w.allocF32(ref.length);
    w.attention(lin(q), kl, vl, out, shape);
    assert.ok(bitsEqual(out, ref), `attention nTok=${nTok} in place`);
  }
  // rope in place; swiglu with out aliasing g
  const rp: NativeRopeParams = { mode: 2, nDims: 64, freqBase: 10000, freqScale: 1, extFactor: 0, attnFactor: 1, betaFast: 32, betaSlow: 1, nCtxOrig: 4096, freqFactors: null };
  const x = gaussian(3 * 4 * 64, 41), xr = x.slice(), xl = lin(x);
  w.rope(xr, 3, 4, 64, 17, rp);
  w.rope(xl, 3, 4, 64, 17, rp);
  assert.ok(bitsEqual(xl, xr), 'rope in place');
  const g = gaussian(5000, 42), u = gaussian(5000, 43), gr = new Float32Array(5000);
  w.swiglu(g, u, gr, 5000);
  const gl = lin(g);
  w.swiglu(gl, lin(u), gl, 5000);
  assert.ok(bitsEqual(gl, gr), 'swiglu in place (out = g)');
  // freeF32 ignores arrays it did not allocate
  w.freeF32(new Float32Array(4));
});

const SMOLLM2 = join(ROOT, '.cache', 'models', 'SmolLM2-135M-Instruct.Q4_1.gguf');

test('SmolLM2 end to end: wasm backend vs native, 16 greedy tokens', { skip: skip || (!existsSync(SMOLLM2) && `${SMOLLM2} missing (npm run fixtures)`), timeout: 600_000 }, async (t) => {
  const { loadModel } = await import('../../src/models/load.js');
  const argmax = (l: Float32Array): number => {
    let best = 0;
    for (let i = 1; i < l.length; i++) if (l[i]! > l[best]!) best = i;
    return best;
  };
  const greedy = (m: Awaited<ReturnType<typeof loadModel>>, prompt: number[], n: number) => {
    m.truncate(0);
    let logits = m.forward(prompt);
    const all = [logits.slice()];
    const toks: number[] = [];
    for (let i = 0; i < n; i++) {
      const tk = argmax(logits);
      toks.push(tk);
      if (i + 1 < n) {
        logits = m.forward([tk]);
        all.push(logits.slice());
      }
    }
    return { toks, all };
  };
  const cpu = await loadModel(SMOLLM2, { threads: 2, contextSize: 256 });
  const wasm = await loadModel(SMOLLM2, { backend: 'wasm', contextSize: 256 });
  const k = native();
  try {
    const prompt = cpu.tokenizer.encode('The capital of France is', { addSpecial: true });
    const b = greedy(wasm, prompt, 16);
    const s = withScalarPath(() => greedy(cpu, prompt, 16));
    const a = greedy(cpu, prompt, 16);
    const diff = (x: Float32Array[], y: Float32Array[]): number => {
      let d = 0;
      for (let i = 0; i < Math.min(x.length, y.length); i++) d = Math.max(d, maxAbsDiff(x[i]!, y[i]!));
      return d;
    };
    const dS = diff(b.all, s.all), dA0 = maxAbsDiff(a.all[0]!, b.all[0]!);
    t.diagnostic(`native ${k.getPath()}: ${a.toks.join(' ')}`);
    t.diagnostic(`native scalar: ${s.toks.join(' ')}`);
    t.diagnostic(`wasm:          ${b.toks.join(' ')}`);
    t.diagnostic(`logits max abs diff wasm vs native scalar over 16 steps: ${dS}; wasm vs native ${k.getPath()}: first step ${dA0.toExponential(2)}, over 16 steps ${diff(a.all, b.all).toExponential(2)}`);
    // same C, same float order: identical to the native scalar path
    assert.deepEqual(b.toks, s.toks);
    assert.ok(dS <= 1e-3, `wasm vs native scalar logits differ by ${dS}`);
  } finally {
    cpu.dispose();
    wasm.dispose();
  }
});
