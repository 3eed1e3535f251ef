/**
 * Pipelined executor with real compute bricks: matmul chains on the native addon (worker thread),
 * on wasm/synflux.wasm (worker thread) and as generated ONNX MatMul graphs run by onnxruntime-node.
 *
 * - Ordering: pipelined results come out in input order and equal the sequential run's outputs
 *   bit for bit (same devices, deterministic kernels).
 * - Reference: the ONNX stage (ONNX Runtime's MatMul, an implementation nobody here wrote) agrees
 *   with the native F32 matmul of the same weights to 1e-5 of the output's largest magnitude
 *   (float32 sums of 256 products in different orders).
 * - Backpressure: with depth-1 queues the source is never more than stages + (stages + 1)·depth
 *   items ahead of the consumer (an unbounded pipeline would pull the whole stream at once).
 * - Cancellation: aborting mid-stream ends it with RequestError ABORTED without pulling the rest.
 * - Offloading: a cpu brick that fails after 3 runs (src/bricks/fault.ts) is moved to wasm with one
 *   log line and the stream's outputs equal the unfailed run's bit for bit (cpu forced to the
 *   scalar kernels, which wasm reproduces exactly — README "WASM backend"); a missing device and a
 *   memory budget re-plan at start; no device left is a typed error.
 * - Pipelining speed-up is measured and printed, never asserted (shared 2-core machine).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineExecutor, type StageSpec } from '../../src/bricks/executor.js';
import { createMatmulChainBrick, type MatmulChainSpec, type HostOptions } from '../../src/bricks/matmul-brick.js';
import { failAfter } from '../../src/bricks/fault.js';
import { randomFloats } from '../../src/bricks/profile.js';
import { BackendError, RequestError } from '../../src/core/errors.js';
import { native } from '../../src/backends/cpu/native.js';
import type { PortValues, TensorValue } from '../../src/bricks/brick.js';

const D = 256;
const chain = (name: string, dtype: string, layers: number, seed: number): MatmulChainSpec => ({
  kind: 'matmul-chain', name, layers: Array.from({ length: layers }, (_, i) => ({ nOut: D, nIn: D, dtype, seed: seed + i })),
});

function stage(spec: MatmulChainSpec, devices: string[], opts: HostOptions = {}, wrap?: (dev: string, b: import('../../src/bricks/brick.js').Brick) => import('../../src/bricks/brick.js').Brick): StageSpec {
  return {
    name: spec.name, devices,
    create: async (dev) => {
      if (dev === 'gpu-missing') throw new BackendError('BACKEND_UNAVAILABLE', 'no such device here');
      const b = await createMatmulChainBrick(spec, dev, opts);
      return wrap ? wrap(dev, b) : b;
    },
    memoryBytes: 1 << 20,
  };
}

function inputs(n: number, nTok = 16): PortValues[] {
  return Array.from({ length: n }, (_, i) => ({ x: { kind: 'tensor', dtype: 'f32', data: randomFloats((nTok + (i % 3)) * D, 100 + i), shape: [nTok + (i % 3), D] } }));
}

const data = (r: { outputs: Record<string, unknown> }): Float32Array => (r.outputs.x as TensorValue).data as Float32Array;
const logs: string[] = [];
const log = (l: string): void => {
  logs.push(l);
  console.log(`# ${l}`);
};
const open: PipelineExecutor[] = [];
after(async () => {
  for (const e of open) await e.dispose();
});

test('pipelined results are in order and equal the sequential run (cpu → wasm → onnx)', async () => {
  const stages = [stage(chain('a', 'Q8_0', 2, 1), ['cpu']), stage(chain('b', 'Q4_1', 1, 10), ['wasm']), stage(chain('c', 'F32', 1, 20), ['onnx'])];
  const placement = { a: 'cpu', b: 'wasm', c: 'onnx' };
  const seq = new PipelineExecutor(stages, { placement, mode: 'sequential', log });
  const pip = new PipelineExecutor(stages, { placement, mode: 'pipelined', depth: 2, log });
  open.push(seq, pip);
  const ins = inputs(9);
  const s = await seq.runAll(ins, { warmup: ins[0]! });
  const p = await pip.runAll(ins, { warmup: ins[0]! });
  assert.deepEqual(p.results.map((r) => r.index), [...Array(9).keys()]);
  for (let i = 0; i < 9; i++) {
    assert.deepEqual(data(p.results[i]!), data(s.results[i]!), `item ${i}`);
    assert.deepEqual(p.results[i]!.devices, placement);
    assert.equal((p.results[i]!.outputs.x as TensorValue).shape[0], 16 + (i % 3));
  }
  // ONNX Runtime's MatMul vs the native F32 matmul of the same weights (stage c alone).
  const w = randomFloats(D * D, 20, 1 / Math.sqrt(D));
  const onlyC = new PipelineExecutor([stage(chain('c', 'F32', 1, 20), ['onnx'])], { placement: { c: 'onnx' }, log });
  open.push(onlyC);
  const x = inputs(1)[0]!;
  const viaOrt = data((await onlyC.runAll([x])).results[0]!);
  const xin = (x.x as TensorValue);
  const viaNative = new Float32Array(xin.shape[0]! * D);
  native().matmul(0, new Uint8Array(w.buffer), D, D, xin.data as Float32Array, xin.shape[0]!, viaNative);
  let maxDiff = 0, maxRef = 0;
  for (let i = 0; i < viaNative.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(viaOrt[i]! - viaNative[i]!));
    maxRef = Math.max(maxRef, Math.abs(viaNative[i]!));
  }
  assert.ok(maxDiff <= 1e-5 * maxRef, `ORT vs native F32 matmul: max abs diff ${maxDiff}, max |y| ${maxRef}`);
  console.log(`# sequential ${s.wallMs.toFixed(1)} ms, pipelined ${p.wallMs.toFixed(1)} ms (${(s.wallMs / p.wallMs).toFixed(2)}x; measured, not asserted); brick ms ${JSON.stringify(s.brickMs)}`);
});

test('backpressure bounds the items in flight; queues never exceed their depth', async () => {
  // Fast first stage (cpu, 1 layer F16), slow second stage (wasm, 6 layers F32).
  const stages = [stage(chain('fast', 'F16', 1, 30), ['cpu']), stage(chain('slow', 'F32', 6, 40), ['wasm'])];
  const depth = 1;
  const ex = new PipelineExecutor(stages, { placement: { fast: 'cpu', slow: 'wasm' }, depth, log });
  open.push(ex);
  const all = inputs(12, 32);
  let pulled = 0, yielded = 0, maxAhead = 0;
  function* source(): Generator<PortValues> {
    for (const v of all) {
      pulled++;
      maxAhead = Math.max(maxAhead, pulled - yielded);
      yield v;
    }
  }
  for await (const _r of ex.stream(source())) yielded++;
  assert.equal(yielded, 12);
  const bound = stages.length + (stages.length + 1) * depth;
  assert.ok(maxAhead <= bound, `source ran ${maxAhead} items ahead, bound ${bound}`);
  for (const hw of ex.queueHighWater) assert.ok(hw <= depth, `queue high water ${hw} > depth ${depth}`);
  console.log(`# backpressure: max ${maxAhead} items ahead (bound ${bound}), queue high water ${ex.queueHighWater.join(',')}`);
});

test('cancellation ends the stream with ABORTED and stops pulling inputs', async () => {
  const stages = [stage(chain('a', 'Q8_0', 2, 1), ['cpu']), stage(chain('b', 'Q4_1', 2, 10), ['wasm'])];
  const ctl = new AbortController();
  const ex = new PipelineExecutor(stages, { placement: { a: 'cpu', b: 'wasm' }, depth: 1, signal: ctl.signal, log });
  open.push(ex);
  let pulled = 0;
  function* source(): Generator<PortValues> {
    for (const v of inputs(50)) {
      pulled++;
      yield v;
    }
  }
  let got = 0;
  await assert.rejects(async () => {
    for await (const _r of ex.stream(source())) {
      if (++got === 2) ctl.abort();
    }
  }, (e: unknown) => e instanceof RequestError && e.code === 'ABORTED');
  assert.ok(pulled < 50, `pulled ${pulled} of 50 inputs after abort`);
  // The executor still works for a new stream once the signal is not involved.
  const ex2 = new PipelineExecutor(stages, { placement: { a: 'cpu', b: 'wasm' }, log });
  open.push(ex2);
  assert.equal((await ex2.runAll(inputs(2))).results.length, 2);
});

test('a device failing mid-stream is re-planned and the outputs stay correct', async () => {
  const opts: HostOptions = { kernelPath: 'scalar' };
  const spec = chain('vision', 'Q8_0', 2, 50);
  const lmSpec = chain('lm', 'Q4_1', 1, 60);
  const ins = inputs(8);
  // Reference: the unfailed run, vision on cpu (scalar kernels) throughout.
  const ref = new PipelineExecutor([stage(spec, ['cpu'], opts), stage(lmSpec, ['wasm'])], { placement: { vision: 'cpu', lm: 'wasm' }, log });
  open.push(ref);
  const want = (await ref.runAll(ins)).results.map(data);
  // Faulty: the cpu device dies after 3 runs; vision may fall back to wasm.
  const mine: string[] = [];
  const faulty = new PipelineExecutor(
    [stage(spec, ['cpu', 'wasm'], opts, (dev, b) => (dev === 'cpu' ? failAfter(b, 3) : b)), stage(lmSpec, ['wasm'])],
    { placement: { vision: 'cpu', lm: 'wasm' }, log: (l) => mine.push(l) },
  );
  open.push(faulty);
  const got = await faulty.runAll(ins);
  assert.equal(got.results.length, 8);
  assert.deepEqual(mine.length, 1, mine.join('\n'));
  assert.match(mine[0]!, /^\[synflux\] re-planned: vision cpu→wasm \(cpu failed: DEVICE_FAILED: .*\)$/);
  assert.deepEqual(faulty.replans.map((r) => [r.brick, r.from, r.to]), [['vision', 'cpu', 'wasm']]);
  assert.deepEqual(got.results.map((r) => r.devices.vision), ['cpu', 'cpu', 'cpu', 'wasm', 'wasm', 'wasm', 'wasm', 'wasm']);
  for (let i = 0; i < 8; i++) assert.deepEqual(data(got.results[i]!), want[i], `item ${i}`);
  assert.deepEqual(faulty.currentPlacement, { vision: 'wasm', lm: 'wasm' });
});

test('missing device and memory budget re-plan at start; no device left is a typed error', async () => {
  const lines: string[] = [];
  const ex = new PipelineExecutor([stage(chain('v', 'F32', 1, 70), ['gpu-missing', 'onnx'])], { placement: { v: 'gpu-missing' }, log: (l) => lines.push(l) });
  open.push(ex);
  const r = await ex.runAll(inputs(2));
  assert.equal(r.results[1]!.devices.v, 'onnx');
  assert.match(lines[0]!, /^\[synflux\] re-planned: v gpu-missing→onnx \(gpu-missing unavailable: no such device here\)$/);

  const lines2: string[] = [];
  const ex2 = new PipelineExecutor([stage(chain('v', 'F32', 1, 70), ['cpu', 'wasm'])], { placement: { v: 'cpu' }, memoryBudget: { cpu: 1000 }, log: (l) => lines2.push(l) });
  open.push(ex2);
  assert.equal((await ex2.runAll(inputs(1))).results[0]!.devices.v, 'wasm');
  assert.match(lines2[0]!, /re-planned: v cpu→wasm \(cpu unavailable: memory budget exceeded on cpu: 1048576 > 1000 bytes\)/);

  const ex3 = new PipelineExecutor([stage(chain('v', 'F32', 1, 70), ['gpu-missing'])], { placement: { v: 'gpu-missing' }, log });
  open.push(ex3);
  await assert.rejects(ex3.runAll(inputs(1)), (e: unknown) => e instanceof BackendError && e.code === 'NO_DEVICE_LEFT');
  // Bad input is not offloaded: it ends the stream with the brick's RequestError.
  const ex4 = new PipelineExecutor([stage(chain('v', 'F32', 1, 70), ['cpu', 'wasm'])], { placement: { v: 'cpu' }, log });
  open.push(ex4);
  await assert.rejects(ex4.runAll([{ x: { kind: 'text', text: 'not a tensor' } }]), (e: unknown) => e instanceof RequestError && e.code === 'BAD_INPUT');
  assert.deepEqual(ex4.replans, []);
});
