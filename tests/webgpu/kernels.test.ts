/**
 * Every WebGPU kernel (src/backends/webgpu/kernels) against the CPU reference, run in headless
 * Chromium (SwiftShader's WebGPU adapter here; a real GPU where Chromium finds one):
 * - matmul (matvec, row-per-invocation matvec and tiled kernels) for F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q5_K, Q6_K weights
 *   quantized by ggml's reference quantizer (native `quantize`), against X·dequantize(W)ᵀ in float64
 *   with the weights dequantized by the native kernels (bound 1e-5 of the output range: both sides
 *   use the same f32 weights, only the summation differs), and against ggml's own CPU matmul
 *   (native `matmul`, which rounds X to Q8 first: bound 2e-2);
 * - get_rows against native `getRows`; rms_norm, rope and attention against src/nn (ggml's
 *   formulas); softmax, add/mul/scale/silu/gelu against float64; swiglu/geglu against the native
 *   kernels (geglu rounds through F16 as ggml's GELU table does).
 * Normalized error = max |gpu − ref| / max |ref|. Figures are printed as test diagnostics.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { native } from '../../src/backends/cpu/native.js';
import { GGMLType, typeInfo } from '../../src/core/ggml-type.js';
import { rmsNorm } from '../../src/nn/norm.js';
import { applyRope, type RopeParams } from '../../src/nn/rope.js';
import { attention } from '../../src/nn/attention.js';
import { geluF32 } from '../../src/nn/activations.js';
import { ropeTable } from '../../src/backends/webgpu/kernels/rope.js';
import { BackendError } from '../../src/core/errors.js';
import { gaussian } from '../ops/helpers.js';
import { SKIP, gpuOp, relErr, closePage, page } from './page.js';

after(closePage);
const k = native();

function quantized(type: number, nOut: number, nIn: number, seed: number): { bytes: Uint8Array; deq: Float32Array } {
  const w = gaussian(nOut * nIn, seed, 0.5);
  const ti = typeInfo(type);
  const bytes = new Uint8Array((nOut * nIn / ti.blockSize) * ti.typeSize);
  if (type === GGMLType.F32) bytes.set(new Uint8Array(w.buffer));
  else k.quantize(type, w, w.length, bytes);
  const deq = new Float32Array(nOut * nIn);
  k.dequantize(type, bytes, nOut * nIn, deq);
  return { bytes, deq };
}

function matmulRef(deq: Float32Array, x: Float32Array, nOut: number, nIn: number, nTok: number): Float32Array {
  const y = new Float32Array(nTok * nOut);
  for (let t = 0; t < nTok; t++) {
    for (let o = 0; o < nOut; o++) {
      let s = 0;
      for (let i = 0; i < nIn; i++) s += x[t * nIn + i]! * deq[o * nIn + i]!;
      y[t * nOut + o] = s;
    }
  }
  return y;
}

const TYPES = [GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q8_0, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K];

test('matmul: every weight type, matvec (workgroup and row-per-invocation) and tiled, vs dequantize+f64 and vs ggml CPU matmul', { skip: SKIP }, async (t) => {
  const nIn = 512, nOut = 100;
  for (const type of TYPES) {
    const name = typeInfo(type).name;
    const { bytes, deq } = quantized(type, nOut, nIn, 10 + type);
    for (const [nTok, kernel] of [[1, 'matvec'], [3, 'matvec'], [1, 'rows'], [5, 'rows'], [37, 'rows'], [1, 'tiled'], [37, 'tiled']] as const) {
      const x = gaussian(nTok * nIn, 100 + nTok);
      const y = await gpuOp({ op: 'matmul', w: bytes, x, type, nIn, nOut, nTok, kernel });
      const ref = matmulRef(deq, x, nOut, nIn, nTok);
      const ggml = new Float32Array(nTok * nOut);
      k.matmul(type, bytes, nOut, nIn, x, nTok, ggml);
      const e = relErr(y, ref), eg = relErr(y, ggml);
      t.diagnostic(`matmul ${name} ${kernel} nTok=${nTok}: err vs dequant-f64 ${e.toExponential(2)}, vs ggml CPU ${eg.toExponential(2)}`);
      assert.ok(e < 1e-5, `${name} ${kernel} nTok=${nTok}: ${e} vs dequantized reference`);
      assert.ok(eg < 2e-2, `${name} ${kernel} nTok=${nTok}: ${eg} vs ggml matmul`);
    }
  }
});

test('get_rows: every weight type vs native getRows', { skip: SKIP }, async (t) => {
  const nIn = 256, nRows = 40;
  const ids = new Int32Array([0, 39, 7, 7, 22]);
  for (const type of TYPES) {
    const { bytes } = quantized(type, nRows, nIn, 50 + type);
    const ref = new Float32Array(ids.length * nIn);
    k.getRows(type, bytes, nIn, ids, ref);
    const y = await gpuOp({ op: 'get_rows', w: bytes, ids, type, nIn });
    const e = relErr(y, ref);
    t.diagnostic(`get_rows ${typeInfo(type).name}: ${e.toExponential(2)}`);
    assert.ok(e < 1e-6, `${typeInfo(type).name}: ${e}`);
  }
});

test('rms_norm: with/without weight, in place, vs src/nn/norm.ts', { skip: SKIP }, async (t) => {
  for (const [n, rows, withW, inplace] of [[576, 5, true, false], [64, 30, true, true], [1000, 2, false, false]] as const) {
    const x = gaussian(n * rows, n + rows, 3);
    const w = withW ? gaussian(n, 7) : null;
    const ref = new Float32Array(n * rows);
    rmsNorm(x, w, ref, rows, n, 1e-5);
    const y = await gpuOp({ op: 'rms_norm', x, w, n, rows, eps: 1e-5, inplace });
    const e = relErr(y, ref);
    t.diagnostic(`rms_norm n=${n} rows=${rows} w=${withW} inplace=${inplace}: ${e.toExponential(2)}`);
    assert.ok(e < 1e-5, `${e}`);
  }
});

test('rope: norm and neox modes, partial rotation, vs src/nn/rope.ts', { skip: SKIP }, async (t) => {
  const base: RopeParams = { type: 'norm', nDims: 64, freqBase: 10000, freqScale: 1, freqFactors: null, extFactor: 0, attnFactor: 1, betaFast: 32, betaSlow: 1, nCtxOrig: 4096 };
  const cases: Array<[RopeParams, number, number, number, number]> = [
    [base, 64, 9, 4, 17],
    [{ ...base, type: 'neox', freqBase: 1e6 }, 256, 4, 3, 500],
    [{ ...base, type: 'neox', nDims: 32 }, 64, 2, 5, 0],
    [{ ...base, nDims: 48, freqScale: 0.25 }, 64, 3, 2, 1000],
  ];
  for (const [p, headDim, nHeads, nTok, pos0] of cases) {
    const x = gaussian(nTok * nHeads * headDim, headDim + nTok);
    const table = ropeTable(p, pos0, nTok);
    const ref = x.slice();
    for (let tk = 0; tk < nTok; tk++) applyRope(p, ref, tk * nHeads * headDim, nHeads, headDim, table.subarray(tk * p.nDims, (tk + 1) * p.nDims));
    const y = await gpuOp({ op: 'rope', x, table, nTok, nHeads, headDim, nDims: p.nDims, mode: p.type });
    const e = relErr(y, ref);
    t.diagnostic(`rope ${p.type} nDims=${p.nDims}/${headDim} pos0=${pos0}: ${e.toExponential(2)}`);
    assert.ok(e < 1e-6, `${e}`);
  }
});

test('softmax: rows vs float64', { skip: SKIP }, async (t) => {
  for (const [n, rows, scale] of [[7, 3, 1], [1000, 4, 0.125], [49152, 1, 1]] as const) {
    const x = gaussian(n * rows, n, 4);
    const ref = new Float64Array(n * rows);
    for (let r = 0; r < rows; r++) {
      let m = -Infinity, s = 0;
      for (let i = 0; i < n; i++) m = Math.max(m, x[r * n + i]! * scale);
      for (let i = 0; i < n; i++) s += ref[r * n + i] = Math.exp(x[r * n + i]! * scale - m);
      for (let i = 0; i < n; i++) ref[r * n + i]! /= s;
    }
    const y = await gpuOp({ op: 'softmax', x, n, rows, scale });
    const e = relErr(y, ref);
    t.diagnostic(`softmax n=${n} rows=${rows}: ${e.toExponential(2)}`);
    assert.ok(e < 1e-5, `${e}`);
  }
});

test('attention: causal MHA/GQA/MQA, sliding window, decode and prefill, vs src/nn/attention.ts', { skip: SKIP }, async (t) => {
  const cases = [
    { nTok: 5, pos0: 70, nHead: 4, nHeadKv: 2, dk: 64, dv: 64, window: 0 },
    { nTok: 1, pos0: 130, nHead: 9, nHeadKv: 3, dk: 64, dv: 64, window: 0 },
    { nTok: 20, pos0: 10, nHead: 4, nHeadKv: 1, dk: 256, dv: 256, window: 0 },
    { nTok: 6, pos0: 40, nHead: 4, nHeadKv: 4, dk: 32, dv: 48, window: 16 },
    { nTok: 70, pos0: 0, nHead: 2, nHeadKv: 1, dk: 64, dv: 64, window: 24 },
  ];
  for (const c of cases) {
    const nCtx = c.pos0 + c.nTok;
    const q = gaussian(c.nTok * c.nHead * c.dk, c.dk + c.nTok);
    const kc = gaussian(nCtx * c.nHeadKv * c.dk, 3);
    const v = gaussian(nCtx * c.nHeadKv * c.dv, 4);
    const vT = new Float32Array(v.length);
    const vs = c.nHeadKv * c.dv;
    for (let j = 0; j < nCtx; j++) for (let i = 0; i < vs; i++) vT[i * nCtx + j] = v[j * vs + i]!;
    const scale = 1 / Math.sqrt(c.dk);
    const ref = new Float32Array(c.nTok * c.nHead * c.dv);
    attention({ nHead: c.nHead, nHeadKv: c.nHeadKv, headDimK: c.dk, headDimV: c.dv, scale, window: c.window }, q, kc, vT, ref, c.nTok, c.pos0, new Float32Array(nCtx));
    const y = await gpuOp({ op: 'attention', q, k: kc, v, ...c, scale });
    const e = relErr(y, ref);
    t.diagnostic(`attention nTok=${c.nTok} pos0=${c.pos0} heads=${c.nHead}/${c.nHeadKv} dk=${c.dk} dv=${c.dv} window=${c.window}: ${e.toExponential(2)}`);
    assert.ok(e < 1e-5, `${e}`);
  }
});

test('elementwise: add/mul broadcast, scale, silu, gelu vs float64; swiglu/geglu vs native', { skip: SKIP }, async (t) => {
  const n = 3000;
  const a = gaussian(n, 1, 4), b = gaussian(n, 2, 2), row = gaussian(100, 3);
  const f64 = (f: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => f(i));
  const silu = (x: number) => x / (1 + Math.exp(-x));
  const swi = new Float32Array(n), geg = new Float32Array(n);
  k.swiglu(a, b, swi, n);
  k.geglu(a, b, geg, n);
  const cases: Array<[string, Promise<Float32Array>, ArrayLike<number>, number]> = [
    ['add (broadcast 100)', gpuOp({ op: 'add', a, b: row, n, bn: 100 }), f64((i) => a[i]! + row[i % 100]!), 1e-6],
    ['mul (in place)', gpuOp({ op: 'mul', a, b, n, inplace: true }), f64((i) => a[i]! * b[i]!), 1e-6],
    ['scale', gpuOp({ op: 'scale', a, b: null, n, s: 0.37 }), f64((i) => a[i]! * 0.37), 1e-6],
    ['silu', gpuOp({ op: 'silu', a, b: null, n }), f64((i) => silu(a[i]!)), 1e-5],
    ['gelu', gpuOp({ op: 'gelu', a, b: null, n }), f64((i) => geluF32(a[i]!)), 1e-5],
    ['swiglu vs native', gpuOp({ op: 'swiglu', a, b, n }), swi, 1e-5],
    ['geglu vs native (F16 table)', gpuOp({ op: 'geglu', a, b, n }), geg, 1e-5],
    ['copy', gpuOp({ op: 'copy', a, b: null, n }), a, 0],
  ];
  for (const [name, p, ref, bound] of cases) {
    const e = relErr(await p, ref);
    t.diagnostic(`${name}: ${e.toExponential(2)}`);
    assert.ok(e <= bound, `${name}: ${e} > ${bound}`);
  }
});

test('bad input: unsupported weight type and bad shapes raise BackendError with a code', { skip: SKIP }, async () => {
  const x = new Float32Array(256);
  await assert.rejects(gpuOp({ op: 'matmul', w: new Uint8Array(110), x, type: GGMLType.Q3_K, nIn: 256, nOut: 1, nTok: 1 }),
    (e: unknown) => e instanceof BackendError && e.code === 'WEBGPU_UNSUPPORTED_TYPE');
  await assert.rejects(gpuOp({ op: 'matmul', w: new Uint8Array(18 * 8), x, type: GGMLType.Q4_0, nIn: 256, nOut: 4, nTok: 1 }),
    (e: unknown) => e instanceof BackendError && e.code === 'WEBGPU_BAD_SHAPE');
  await assert.rejects(gpuOp({ op: 'get_rows', w: new Uint8Array(34 * 8), ids: new Int32Array([0, 8]), type: GGMLType.Q8_0, nIn: 32 }),
    (e: unknown) => e instanceof BackendError && e.code === 'WEBGPU_BAD_SHAPE');
  await assert.rejects(gpuOp({ op: 'attention', q: x, k: x, v: x, nTok: 1, pos0: 0, nHead: 3, nHeadKv: 2, dk: 64, dv: 64, scale: 1, window: 0 }),
    (e: unknown) => e instanceof BackendError && e.code === 'WEBGPU_BAD_SHAPE');
});

test('a WGSL compile error surfaces as BackendError WEBGPU_VALIDATION from flush (no hang, device stays usable)', { skip: SKIP }, async () => {
  const host = await page();
  const r = await host.evaluate(async (mod: string) => {
    const m = await import(mod);
    const dev = await m.WebGPUDevice.create();
    const buf = dev.createBuffer(16);
    dev.dispatch({ name: 'broken', code: '@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }' }, [], new m.Params(), [1]);
    let code = 'none';
    try {
      await dev.flush();
    } catch (e) {
      code = (e as { code?: string }).code ?? String(e);
    }
    m.elementwise(dev, 'scale', buf, null, buf, { n: 4, s: 2 });
    await dev.flush();
    return code;
  }, '/dist/src/backends/webgpu/index.js');
  assert.equal(r, 'WEBGPU_VALIDATION');
});

