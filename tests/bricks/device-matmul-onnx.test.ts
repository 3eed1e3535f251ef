/**
 * The `onnx` device of src/bricks/device-matmul.ts loads ONNX Runtime through the project's
 * loader (src/backends/onnx/runtime.ts):
 * - with onnxruntime-node installed, F32 and F16 matmuls prepared on `onnx` agree with the native
 *   addon's matmul of the same weights (ONNX Runtime's MLAS sums in another order: small
 *   relative error; F16 rounds x to half on the way in, as the native F16 path does);
 * - without it (simulated by a module-resolution hook that refuses the package, in a child
 *   process), preparing an `onnx` matmul is a typed BackendError `ONNX_RUNTIME_MISSING` and the
 *   `cpu` device still works.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../helpers/paths.js';
import { GGMLType } from '../../src/core/ggml-type.js';
import { native } from '../../src/backends/cpu/native.js';
import { prepareMatmul, quantizeWeights } from '../../src/bricks/device-matmul.js';
import { NO_ONNX_RUNTIME } from '../helpers/no-onnx.js';

function gaussian(n: number, seed: number): Float32Array {
  // xorshift32 + Box-Muller (deterministic inputs)
  let s = seed >>> 0 || 1;
  const u = (): number => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

test('onnx matmul device (F32, F16) agrees with the native matmul of the same weights', async () => {
  const nOut = 48, nIn = 64, nTok = 5;
  const w = gaussian(nOut * nIn, 3), x = gaussian(nTok * nIn, 4);
  for (const [dtype, type, tol] of [['F32', GGMLType.F32, 1e-6], ['F16', GGMLType.F16, 1e-3]] as const) {
    const m = await prepareMatmul('onnx', dtype, w, nOut, nIn);
    try {
      assert.equal(m.device, 'onnx');
      const got = await m.run(x, nTok);
      const want = new Float32Array(nTok * nOut);
      native().matmul(type, await quantizeWeights(dtype, w, nOut, nIn), nOut, nIn, x, nTok, want);
      const e = relErr(got, want);
      assert.ok(e < tol, `${dtype}: rel ${e}`);
      await assert.rejects(m.run(x, nTok + 1), { name: 'RequestError', code: 'BAD_SHAPE' });
    } finally {
      await m.dispose();
    }
  }
});


test('no onnxruntime-node: an onnx matmul is BackendError ONNX_RUNTIME_MISSING, cpu still runs', () => {
  const mod = new URL('../../src/bricks/device-matmul.js', import.meta.url).href;
  const script = `
    const { prepareMatmul } = await import(${JSON.stringify(mod)});
    const w = new Float32Array(32 * 32).fill(0.5);
    let code = 'none';
    try { await prepareMatmul('onnx', 'F32', w, 32, 32); } catch (e) { code = e.name + ':' + e.code; }
    const m = await prepareMatmul('cpu', 'F32', w, 32, 32);
    const y = await m.run(new Float32Array(32).fill(1), 1);
    console.log(JSON.stringify({ code, y0: y[0] }));`;
  const tsx = pathToFileURL(join(repoRoot(), 'node_modules/tsx/dist/esm/index.mjs')).href;
  const r = spawnSync(process.execPath, ['--import', NO_ONNX_RUNTIME, '--import', tsx, '--input-type=module', '-e', script], { cwd: repoRoot(), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { code: string; y0: number };
  assert.equal(out.code, 'BackendError:ONNX_RUNTIME_MISSING');
  assert.equal(out.y0, 16);
});
