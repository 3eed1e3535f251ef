/**
 * Native matmul Y = X·Wᵀ for every weight type on every kernel path this CPU supports, against:
 *  (1) a float64 reference built from the dequantized weights and the quantized-then-dequantized
 *      activations (only float summation order may differ: tight bound relative to Σ|w·x|);
 *  (2) plain float64 X·W₀ᵀ with the original float weights (normalized error bound per type).
 * Also: multithreaded == single-threaded bit for bit, and a timing print (not an assertion).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GGMLType, rowBytes, typeName } from '../../src/core/ggml-type.js';
import { native, type KernelPath } from '../../src/backends/cpu/native.js';
import { gaussian, halfToFloat } from './helpers.js';

const k = native();
const TYPES = [GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q5_1, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K];
/** Bound on ||Y - X·W₀ᵀ|| / ||X·W₀ᵀ|| for gaussian data (about 2× the measured error). */
const LOOSE: Record<number, number> = {
  [GGMLType.F32]: 1e-6, [GGMLType.F16]: 1e-3, [GGMLType.BF16]: 8e-3, [GGMLType.Q8_0]: 1.5e-2,
  [GGMLType.Q4_0]: 0.2, [GGMLType.Q4_1]: 0.2, [GGMLType.Q5_0]: 0.1, [GGMLType.Q5_1]: 0.1, [GGMLType.Q4_K]: 0.12, [GGMLType.Q5_K]: 0.06, [GGMLType.Q6_K]: 0.04,
};
const PATHS = k.kernelInfo().paths;

interface Case { type: number; w0: Float32Array; w: Uint8Array; wd: Float32Array; nOut: number; nIn: number }

function makeCase(type: number, nOut: number, nIn: number, seed: number): Case {
  const w0 = gaussian(nOut * nIn, seed);
  const w = new Uint8Array(rowBytes(type, nIn) * nOut);
  k.quantize(type, w0, nOut * nIn, w);
  const wd = new Float32Array(nOut * nIn);
  k.dequantize(type, w, nOut * nIn, wd);
  return { type, w0, w, wd, nOut, nIn };
}

/** Float64 reference from dequantized weights and activations as matmul quantizes them. */
function tightRef(c: Case, x: Float32Array, nTok: number): { ref: Float64Array; mag: Float64Array } {
  const { nOut, nIn } = c;
  const act = k.activationType(c.type);
  const xa = new Uint8Array(k.rowSize(act, nIn));
  const xq = new Float32Array(nTok * nIn);
  // Q4_1/Q5_1 only: m·(s − Σ dequantized activations), the s field being rounded to fp16
  const q41fix = new Float64Array(nTok * nOut);
  const mOff = c.type === GGMLType.Q4_1 || c.type === GGMLType.Q5_1 ? 2 : -1;
  for (let t = 0; t < nTok; t++) {
    k.quantizeActivation(c.type, x.subarray(t * nIn, (t + 1) * nIn), nIn, xa);
    k.dequantize(act, xa, nIn, xq.subarray(t * nIn, (t + 1) * nIn));
    if (mOff >= 0) {
      const av = new DataView(xa.buffer), wv = new DataView(c.w.buffer);
      for (let o = 0; o < nOut; o++) {
        let fix = 0;
        for (let b = 0; b < nIn / 32; b++) {
          const m = halfToFloat(wv.getUint16(o * rowBytes(c.type, nIn) + b * rowBytes(c.type, 32) + mOff, true));
          const s = halfToFloat(av.getUint16(b * 36 + 2, true));
          let sx = 0;
          for (let j = 0; j < 32; j++) sx += xq[t * nIn + b * 32 + j]!;
          fix += m * (s - sx);
        }
        q41fix[t * nOut + o] = fix;
      }
    }
  }
  const ref = new Float64Array(nTok * nOut), mag = new Float64Array(nTok * nOut);
  for (let t = 0; t < nTok; t++)
    for (let o = 0; o < nOut; o++) {
      let s = 0, a = 0;
      for (let j = 0; j < nIn; j++) {
        const p = c.wd[o * nIn + j]! * xq[t * nIn + j]!;
        s += p;
        a += Math.abs(p);
      }
      ref[t * nOut + o] = s + q41fix[t * nOut + o]!;
      mag[t * nOut + o] = a;
    }
  return { ref, mag };
}

function plainRef(c: Case, x: Float32Array, nTok: number): Float64Array {
  const out = new Float64Array(nTok * c.nOut);
  for (let t = 0; t < nTok; t++)
    for (let o = 0; o < c.nOut; o++) {
      let s = 0;
      for (let j = 0; j < c.nIn; j++) s += c.w0[o * c.nIn + j]! * x[t * c.nIn + j]!;
      out[t * c.nOut + o] = s;
    }
  return out;
}

test('matmul matches the dequantized float64 reference on every path', async (t) => {
  const nIn = 512, nOut = 37;
  for (const path of PATHS) {
    k.setPath(path);
    await t.test(`path ${path}`, () => {
      for (const type of TYPES) {
        const c = makeCase(type, nOut, nIn, 100 + type);
        for (const nTok of [1, 5, 40]) {
          const x = gaussian(nTok * nIn, 7 * nTok + type);
          const y = new Float32Array(nTok * nOut).fill(NaN);
          k.matmul(type, c.w, nOut, nIn, x, nTok, y);
          const { ref, mag } = tightRef(c, x, nTok);
          for (let i = 0; i < y.length; i++) {
            const err = Math.abs(y[i]! - ref[i]!);
            assert.ok(err <= 2e-5 * mag[i]! + 1e-30, `${path} ${typeName(type)} nTok=${nTok} y[${i}] = ${y[i]} ref ${ref[i]} (err ${err}, Σ|wx| ${mag[i]})`);
          }
          const plain = plainRef(c, x, nTok);
          let num = 0, den = 0;
          for (let i = 0; i < y.length; i++) {
            num += (y[i]! - plain[i]!) ** 2;
            den += plain[i]! ** 2;
          }
          const rel = Math.sqrt(num / den);
          assert.ok(rel < LOOSE[type]!, `${path} ${typeName(type)} nTok=${nTok}: normalized error vs float weights ${rel} >= ${LOOSE[type]}`);
        }
      }
    });
  }
  k.setPath('auto');
});

test('a token\'s result does not depend on the batch it is in (every path)', () => {
  const nIn = 512, nOut = 19, nTok = 45;
  for (const path of PATHS) {
    k.setPath(path);
    for (const type of TYPES) {
      const c = makeCase(type, nOut, nIn, 50 + type);
      const x = gaussian(nTok * nIn, 60 + type);
      const all = new Float32Array(nTok * nOut);
      k.matmul(type, c.w, nOut, nIn, x, nTok, all);
      for (const t of [0, 3, 4, 33, 44]) {
        const one = new Float32Array(nOut);
        k.matmul(type, c.w, nOut, nIn, x.subarray(t * nIn, (t + 1) * nIn), 1, one);
        assert.deepEqual(one, all.subarray(t * nOut, (t + 1) * nOut), `${path} ${typeName(type)} token ${t}`);
      }
    }
  }
  k.setPath('auto');
});

test('kernel paths: auto picks the best; each path reports its kernels', () => {
  const info = k.kernelInfo();
  assert.ok(info.paths.includes('scalar'));
  assert.equal(k.setPath('auto'), info.paths[info.paths.length - 1]);
  const feats = k.cpuFeatures();
  if (feats.includes('avx2') && feats.includes('fma') && feats.includes('f16c')) assert.ok(info.paths.includes('avx2'));
  for (const p of info.paths) {
    k.setPath(p as KernelPath);
    const dot = k.kernelInfo().dot;
    for (const type of TYPES) assert.ok(dot[typeName(type)], `${p}: no kernel for ${typeName(type)}`);
  }
  k.setPath('auto');
});

test('multithreaded matmul equals single-threaded bit for bit', () => {
  const before = k.getThreads();
  const nIn = 768, nOut = 301;
  for (const type of TYPES) {
    const c = makeCase(type, nOut, nIn, 5 + type);
    for (const nTok of [1, 3, 70]) {
      const x = gaussian(nTok * nIn, 11 + nTok);
      const results = [1, 2, 3].map((n) => {
        assert.equal(k.setThreads(n), n);
        const y = new Float32Array(nTok * nOut);
        k.matmul(type, c.w, nOut, nIn, x, nTok, y);
        return y;
      });
      assert.deepEqual(results[1], results[0], `${typeName(type)} nTok=${nTok}: 2 threads differ`);
      assert.deepEqual(results[2], results[0], `${typeName(type)} nTok=${nTok}: 3 threads differ`);
    }
  }
  // stress the pool's job hand-off: many tiny jobs back to back must all match
  const c = makeCase(GGMLType.Q4_0, 64, 256, 9);
  const x = gaussian(2 * 256, 3);
  k.setThreads(1);
  const want = new Float32Array(2 * 64);
  k.matmul(GGMLType.Q4_0, c.w, 64, 256, x, 2, want);
  k.setThreads(2);
  const got = new Float32Array(2 * 64);
  for (let i = 0; i < 3000; i++) {
    got.fill(NaN);
    k.matmul(GGMLType.Q4_0, c.w, 64, 256, x, 2, got);
    if (got.some((v, j) => v !== want[j])) assert.fail(`iteration ${i}: 2-thread result differs`);
  }
  k.setThreads(before);
});

test('timing (informational): Q4_1 matvec 576x1536 and 64-token matmul', (t) => {
  const before = k.getThreads();
  const time = (f: () => void, minMs = 150): number => {
    f();
    let iters = 0;
    const t0 = process.hrtime.bigint();
    let el = 0;
    do {
      f();
      iters++;
      el = Number(process.hrtime.bigint() - t0) / 1e6;
    } while (el < minMs);
    return (el / iters) * 1000; // µs per call
  };
  const lines: string[] = [];
  for (const [nOut, nIn] of [[576, 1536], [1536, 576]] as const) {
    const c = makeCase(GGMLType.Q4_1, nOut, nIn, 3);
    for (const nTok of [1, 64]) {
      const x = gaussian(nTok * nIn, 1);
      const y = new Float32Array(nTok * nOut);
      for (const path of PATHS) {
        k.setPath(path);
        const us = [1, 2].map((n) => (k.setThreads(n), time(() => k.matmul(GGMLType.Q4_1, c.w, nOut, nIn, x, nTok, y))));
        const gflops = (2 * nOut * nIn * nTok) / (us[1]! * 1e3);
        lines.push(`Q4_1 W[${nOut}x${nIn}] nTok=${nTok} ${path}: 1 thread ${us[0]!.toFixed(1)} µs, 2 threads ${us[1]!.toFixed(1)} µs (${gflops.toFixed(1)} GFLOP/s)`);
      }
    }
  }
  k.setPath('auto');
  k.setThreads(before);
  for (const l of lines) {
    t.diagnostic(l);
    console.log(l);
  }
});
