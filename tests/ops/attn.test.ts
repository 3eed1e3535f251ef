/**
 * Native RoPE / attention / SwiGLU (native/sf_attn.c) against the portable TypeScript references
 * (src/nn/rope.ts, src/nn/attention.ts): within 1e-5 (the native kernels follow llama.cpp's
 * summation order and FMA contractions, the references plain float32 loops). Also: the scalar and
 * AVX-512 paths agree bit for bit, results do not depend on the thread count or on how the tokens
 * are split into micro-batches of ≥ 2, and arguments are validated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, type NativeRopeParams } from '../../src/backends/cpu/native.js';
import { applyRope, ropeCache, type RopeParams } from '../../src/nn/rope.js';
import { attention } from '../../src/nn/attention.js';
import { gaussian } from './helpers.js';
import { gatedActivation } from '../../src/nn/activations.js';
import { f16BitsToF32 } from '../../src/core/f16.js';

const k = native();

function maxAbs(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function ropeRef(p: RopeParams, x: Float32Array, nTok: number, nHeads: number, headDim: number, pos0: number): void {
  const cache = new Float32Array(p.nDims);
  for (let t = 0; t < nTok; t++) {
    ropeCache(p, pos0 + t, cache);
    applyRope(p, x, t * nHeads * headDim, nHeads, headDim, cache);
  }
}

const toNative = (p: RopeParams): NativeRopeParams => ({ ...p, mode: p.type === 'neox' ? 2 : 0 });

test('rope: native matches the TypeScript reference (norm, neox, partial, freq factors, YaRN)', () => {
  const base: RopeParams = { type: 'norm', nDims: 64, freqBase: 10000, freqScale: 1, freqFactors: null, extFactor: 0, attnFactor: 1, betaFast: 32, betaSlow: 1, nCtxOrig: 4096 };
  const cases: RopeParams[] = [
    base,
    { ...base, type: 'neox', freqBase: 1e6 },
    { ...base, nDims: 32 },
    { ...base, type: 'neox', freqFactors: Float32Array.from({ length: 32 }, (_, i) => 1 + i / 8) },
    { ...base, freqScale: 0.25, extFactor: 1, attnFactor: 1, nCtxOrig: 2048 },
  ];
  for (const [ci, p] of cases.entries()) {
    const nTok = 7, nHeads = 3, hd = 64, pos0 = 300;
    const x = gaussian(nTok * nHeads * hd, 11 + ci);
    const a = x.slice(), b = x.slice();
    ropeRef(p, a, nTok, nHeads, hd, pos0);
    k.rope(b, nTok, nHeads, hd, pos0, toNative(p));
    const d = maxAbs(a, b);
    assert.ok(d <= 1e-5 * 4, `case ${ci}: max abs diff ${d}`);
    if (p.nDims < hd) for (let t = 0; t < nTok * nHeads; t++) for (let i = p.nDims; i < hd; i++) assert.equal(b[t * hd + i], x[t * hd + i]);
  }
});

interface Shape { nHead: number; nHeadKv: number; dk: number; dv: number; nCtx: number; scale: number; window: number }

function randomCache(s: Shape, seed: number): { kc: Float32Array; vt: Float32Array; vRows: Float32Array } {
  const kc = gaussian(s.nCtx * s.nHeadKv * s.dk, seed);
  const vRows = gaussian(s.nCtx * s.nHeadKv * s.dv, seed + 1); // [nCtx, nKv*dv]
  const vDim = s.nHeadKv * s.dv;
  const vt = new Float32Array(vRows.length);
  for (let j = 0; j < s.nCtx; j++) for (let c = 0; c < vDim; c++) vt[c * s.nCtx + j] = vRows[j * vDim + c]!;
  return { kc, vt, vRows };
}

function nativeAttn(s: Shape, q: Float32Array, kc: Float32Array, vt: Float32Array, nTok: number, pos0: number): Float32Array {
  const out = new Float32Array(nTok * s.nHead * s.dv);
  k.attention(q, kc, vt, out, { nTok, pos0, nHead: s.nHead, nHeadKv: s.nHeadKv, headDimK: s.dk, headDimV: s.dv, nCtx: s.nCtx, scale: s.scale, window: s.window });
  return out;
}

const SHAPES: Shape[] = [
  { nHead: 9, nHeadKv: 3, dk: 64, dv: 64, nCtx: 512, scale: 0.125, window: 0 }, // SmolLM2
  { nHead: 4, nHeadKv: 1, dk: 256, dv: 256, nCtx: 1024, scale: 1, window: 40 }, // gemma3 local layer (small window)
  { nHead: 4, nHeadKv: 4, dk: 80, dv: 48, nCtx: 300, scale: 0.11, window: 0 }, // odd sizes: scalar leftovers, vec_dot kqv
];

test('attention: native matches the TypeScript reference (GQA, sliding window, odd head sizes)', () => {
  for (const [si, s] of SHAPES.entries()) {
    const { kc, vt } = randomCache(s, 100 + si);
    for (const [nTok, pos0] of [[1, 0], [1, 37], [5, 0], [20, 60], [3, 270]] as const) {
      if (pos0 + nTok > s.nCtx) continue;
      const q = gaussian(nTok * s.nHead * s.dk, 7 + nTok + pos0);
      const got = nativeAttn(s, q, kc, vt, nTok, pos0);
      const ref = new Float32Array(got.length);
      attention({ nHead: s.nHead, nHeadKv: s.nHeadKv, headDimK: s.dk, headDimV: s.dv, scale: Math.fround(s.scale), window: s.window }, q, kc, vt, ref, nTok, pos0, new Float32Array(s.nCtx));
      const d = maxAbs(got, ref);
      assert.ok(d <= 1e-5, `shape ${si} nTok ${nTok} pos0 ${pos0}: max abs diff ${d}`);
    }
  }
});

test('attention: bit-identical across kernel paths, thread counts and micro-batch splits of ≥ 2 tokens', () => {
  const s = SHAPES[0]!;
  const { kc, vt } = randomCache(s, 5);
  const nTok = 12, pos0 = 250; // crosses the n_kv padding boundary at 256
  const q = gaussian(nTok * s.nHead * s.dk, 9);
  const threads = k.getThreads();
  const path = k.getPath();
  try {
    const ref = nativeAttn(s, q, kc, vt, nTok, pos0);
    for (const p of k.kernelInfo().paths) {
      k.setPath(p);
      for (const n of [1, 3]) {
        k.setThreads(n);
        assert.deepEqual(nativeAttn(s, q, kc, vt, nTok, pos0), ref, `path ${p}, ${n} threads`);
      }
    }
    k.setPath(path);
    // split 12 = 5 + 7 (both use the same ≥ 2-token kqv kernel)
    const hd = s.nHead * s.dk, od = s.nHead * s.dv;
    const a = nativeAttn(s, q.subarray(0, 5 * hd), kc, vt, 5, pos0);
    const b = nativeAttn(s, q.subarray(5 * hd), kc, vt, 7, pos0 + 5);
    assert.deepEqual(a, ref.subarray(0, 5 * od));
    assert.deepEqual(b, ref.subarray(5 * od));
  } finally {
    k.setThreads(threads);
    k.setPath(path);
  }
});

test('swiglu: silu(g)·u within 1e-6 relative of float64; rope/attention validate their arguments', () => {
  const n = 1000 + 7;
  const g = gaussian(n, 1), u = gaussian(n, 2), out = new Float32Array(n);
  k.swiglu(g, u, out, n);
  for (let i = 0; i < n; i++) {
    const r = (g[i]! / (1 + Math.exp(-g[i]!))) * u[i]!;
    assert.ok(Math.abs(out[i]! - r) <= 1e-6 * Math.max(1, Math.abs(r)), `i=${i}`);
  }
  const s = SHAPES[0]!;
  const { kc, vt } = randomCache(s, 1);
  const q = new Float32Array(s.nHead * s.dk);
  const shape = { nTok: 1, pos0: 0, nHead: s.nHead, nHeadKv: s.nHeadKv, headDimK: s.dk, headDimV: s.dv, nCtx: s.nCtx, scale: 1, window: 0 };
  assert.throws(() => k.attention(q, kc, vt, new Float32Array(3), shape), RangeError);
  assert.throws(() => k.attention(q, kc, vt, new Float32Array(576), { ...shape, nHeadKv: 2 }), RangeError);
  assert.throws(() => k.attention(q, kc.subarray(1), vt, new Float32Array(576), shape), RangeError);
  assert.throws(() => k.rope(q, 1, s.nHead, s.dk, 0, { mode: 1 as 0, nDims: 64, freqBase: 1e4, freqScale: 1, extFactor: 0, attnFactor: 1, betaFast: 32, betaSlow: 1, nCtxOrig: 0, freqFactors: null }), RangeError);
  assert.throws(() => k.rope(q, 2, s.nHead, s.dk, 0, { mode: 0, nDims: 64, freqBase: 1e4, freqScale: 1, extFactor: 0, attnFactor: 1, betaFast: 32, betaSlow: 1, nCtxOrig: 0, freqFactors: null }), RangeError);
  assert.equal(k.attnNKv(512, 5), 256);
  assert.equal(k.attnNKv(512, 257), 512);
  assert.equal(k.attnNKv(100, 5), 100);
});

test('geglu: native F16-table GELU equals the TypeScript table for every F16 input, saturates at ±10', () => {
  // Every F16 value as the gate (the table's whole domain), with u = 1 and u random.
  const n = 65536 + 6;
  const g = new Float32Array(n), u1 = new Float32Array(n).fill(1), u = gaussian(n, 3);
  for (let h = 0; h < 65536; h++) g[h] = f16BitsToF32(h);
  g.set([-10, 10, -10.5, 12, 9.999, -9.999], 65536);
  for (const uu of [u1, u]) {
    const a = new Float32Array(n), b = new Float32Array(n);
    k.geglu(g, uu, a, n);
    gatedActivation('gelu', g, uu, b, n);
    for (let i = 0; i < n; i++) assert.ok(Object.is(a[i], b[i]) || (Number.isNaN(a[i]) && Number.isNaN(b[i])), `i=${i} g=${g[i]}: ${a[i]} vs ${b[i]}`);
  }
  const out = new Float32Array(2);
  k.geglu(new Float32Array([-10, 10]), new Float32Array([3, 3]), out, 2);
  assert.deepEqual([...out], [0, 30]);
  assert.throws(() => k.geglu(g, u, new Float32Array(3), n), RangeError);
});
