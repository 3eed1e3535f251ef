/**
 * Planner and cost model on a synthetic two-device profile whose figures make every prediction
 * computable by hand (the expected numbers below are derived in the comments, not copied from a
 * run):
 *
 * Device A: F32 matmul 1000×1000 at 2 GFLOP/s (nTok 1) and 20 GFLOP/s (nTok 64); 10 GB/s; power 1 W idle / 11 W busy.
 * Device B: same size at 4 GFLOP/s (nTok 1) and 10 GFLOP/s (nTok 64); 10 GB/s; power 0.5 W idle / 3 W busy.
 * Transfers A↔B: 1 ms + 1 MB/s; same device and host paths: free.
 *
 * Brick P ("prefill"): one 1000×1000 F32 matmul on 64 tokens = 1.28e8 FLOPs → A 6.4 ms, B 12.8 ms; output 1000 bytes.
 * Brick D ("decode"): ten 1000×1000 F32 matmuls on 1 token = 2e7 FLOPs → A 10 ms, B 5 ms.
 * Placements (P, D): AA 16.4 ms, AB 6.4 + (1 + 1) + 5 = 13.4 ms, BA 12.8 + 2 + 10 = 24.8 ms, BB 17.8 ms.
 * Energy (J) = Σ_dev busyW·busy + idleW·(total − busy), /1000:
 *   AA (11·16.4 + 0.5·16.4)/1000 = 0.1886; AB (11·6.4 + 1·7 + 3·5 + 0.5·8.4)/1000 = 0.0966;
 *   BA (11·10 + 1·14.8 + 3·12.8 + 0.5·12)/1000 = 0.1692; BB (1·17.8 + 3·17.8)/1000 = 0.0712.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, evaluate, parsePlace, type PlanBrick } from '../../src/bricks/planner.js';
import { matmulGflops, brickMs } from '../../src/bricks/cost-model.js';
import { PROFILE_SCHEMA, PROFILE_VERSION, validateProfileSet, mergePower, type ProfileSet } from '../../src/bricks/profile-schema.js';
import { RequestError, BackendError } from '../../src/core/errors.js';
import { plannerReplan } from '../../src/bricks/executor.js';

function profiles(): ProfileSet {
  const pt = (nTok: number, gflops: number) => ({ dtype: 'F32', nOut: 1000, nIn: 1000, nTok, ms: (2e6 * nTok) / (gflops * 1e6), gflops });
  return {
    schema: PROFILE_SCHEMA, version: PROFILE_VERSION, created: 'test', host: { cpus: 2, cpuModel: 'synthetic', node: 'v20' },
    devices: {
      A: { kind: 'cpu', description: 'A', threads: 1, matmul: [pt(1, 2), pt(64, 20)], memGBs: 10, launchUs: 0, power: { idleW: 1, busyW: 11 } },
      B: { kind: 'npu', description: 'B', threads: 1, matmul: [pt(1, 4), pt(64, 10)], memGBs: 10, launchUs: 0, power: { idleW: 0.5, busyW: 3 } },
    },
    transfers: [
      { from: 'A', to: 'B', fixedMs: 1, bytesPerSec: 1e6 },
      { from: 'B', to: 'A', fixedMs: 1, bytesPerSec: 1e6 },
      { from: 'A', to: 'A', fixedMs: 0, bytesPerSec: 1e15 },
      { from: 'B', to: 'B', fixedMs: 0, bytesPerSec: 1e15 },
    ],
  };
}

const W = 4e6; // F32 1000×1000 weight bytes
const bricks: PlanBrick[] = [
  {
    name: 'P',
    cost: { flops: 1.28e8, bytesMoved: W + 64 * 2000 * 4, memoryBytes: 5e6, outputBytes: 1000, matmuls: [{ dtype: 'F32', nOut: 1000, nIn: 1000, nTok: 64, count: 1 }] },
  },
  {
    name: 'D',
    cost: { flops: 2e7, bytesMoved: 10 * (W + 2000 * 4), memoryBytes: 5e6, outputBytes: 0, matmuls: [{ dtype: 'F32', nOut: 1000, nIn: 1000, nTok: 1, count: 10 }] },
  },
];

const close = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} ≉ ${b}`);

test('cost model: per-brick ms from the measured points', () => {
  const ps = profiles();
  close(brickMs(ps.devices.A!, bricks[0]!.cost)!, 6.4);
  close(brickMs(ps.devices.B!, bricks[0]!.cost)!, 12.8);
  close(brickMs(ps.devices.A!, bricks[1]!.cost)!, 10);
  close(brickMs(ps.devices.B!, bricks[1]!.cost)!, 5);
  // nTok 8 lies halfway between 1 and 64 in log space: 2 + 0.5·(20 − 2) = 11 GFLOP/s.
  close(matmulGflops(ps.devices.A!, 'F32', 1000, 1000, 8)!, 11);
  // Beyond the measured range the figures are clamped.
  close(matmulGflops(ps.devices.A!, 'F32', 1000, 1000, 512)!, 20);
  // Q4_0 has no figures and no fallback measured here (F16 → F32 exists, Q4_0 → Q4_1/Q8_0 do not).
  assert.equal(matmulGflops(ps.devices.A!, 'Q4_0', 1000, 1000, 1), null);
  close(matmulGflops(ps.devices.A!, 'F16', 1000, 1000, 1)!, 2);
  // Roofline for a brick without matmuls: max(1e7 / 20e9 s, 1e8 / 10e9 s) = 10 ms; 100 launches × 10 µs add 1 ms.
  const d = { ...ps.devices.A!, launchUs: 10 };
  close(brickMs(d, { flops: 1e7, bytesMoved: 1e8, memoryBytes: 0, outputBytes: 0, launches: 100 })!, 11);
});

test('planner: latency objective picks AB (13.4 ms) and reports all four candidates', () => {
  const p = plan(bricks, profiles());
  assert.deepEqual(p.placement, { P: 'A', D: 'B' });
  close(p.predicted_ms.total!, 13.4);
  close(p.predicted_ms.P!, 6.4);
  close(p.predicted_ms.D!, 5);
  close(p.transfer_ms, 2);
  close(p.energy_j!, 0.0966);
  assert.deepEqual(p.memory_bytes, { A: 5e6, B: 5e6 });
  assert.equal(p.candidates.length, 4);
  const totals = Object.fromEntries(p.candidates.map((c) => [c.placement.P! + c.placement.D!, c.predicted_ms.total!]));
  close(totals.AA!, 16.4);
  close(totals.AB!, 13.4);
  close(totals.BA!, 24.8);
  close(totals.BB!, 17.8);
  // Pipelined stream: AB's busiest device is A (6.4 ms per item); AA serializes both bricks on A.
  close(p.stream_ms_per_item, 6.4);
  close(p.candidates.find((c) => c.placement.P === 'A' && c.placement.D === 'A')!.stream_ms_per_item, 16.4);
});

test('planner: energy objective picks BB (0.0712 J)', () => {
  const p = plan(bricks, profiles(), { objective: 'energy' });
  assert.deepEqual(p.placement, { P: 'B', D: 'B' });
  close(p.energy_j!, 0.0712);
  const e = Object.fromEntries(p.candidates.map((c) => [c.placement.P! + c.placement.D!, c.energy_j!]));
  close(e.AA!, 0.1886);
  close(e.BA!, 0.1692);
});

test('planner: pins, exclusions and budgets', () => {
  const ps = profiles();
  // Pin P to B: BA 24.8 vs BB 17.8.
  assert.deepEqual(plan(bricks, ps, { pins: { P: 'B' } }).placement, { P: 'B', D: 'B' });
  assert.equal(plan(bricks, ps, { pins: { P: 'B' } }).candidates.length, 2);
  // Exclude A: only BB.
  assert.deepEqual(plan(bricks, ps, { exclude: ['A'] }).placement, { P: 'B', D: 'B' });
  // Memory budget 6e6 on B makes BB (1e7 bytes on B) infeasible; energy then prefers AB (0.0966).
  const m = plan(bricks, ps, { objective: 'energy', memoryBudget: { B: 6e6 } });
  assert.deepEqual(m.placement, { P: 'A', D: 'B' });
  assert.equal(m.candidates.find((c) => c.placement.P === 'B' && c.placement.D === 'B')!.feasible, false);
  // Latency under a 0.09 J budget: only BB (0.0712 J) qualifies.
  assert.deepEqual(plan(bricks, ps, { energyBudgetJ: 0.09 }).placement, { P: 'B', D: 'B' });
  assert.throws(() => plan(bricks, ps, { energyBudgetJ: 0.01 }), (e: unknown) => e instanceof RequestError && e.code === 'NO_FEASIBLE_PLACEMENT');
  assert.throws(() => plan(bricks, ps, { pins: { X: 'A' } }), (e: unknown) => e instanceof RequestError && e.code === 'BAD_PIN');
  assert.throws(() => plan(bricks, ps, { pins: { P: 'gpu' } }), (e: unknown) => e instanceof RequestError && e.code === 'BAD_PIN');
  assert.throws(() => plan(bricks, ps, { exclude: ['A', 'B'] }), (e: unknown) => e instanceof RequestError && e.code === 'UNPLACEABLE');
  // A brick whose dtype no device measured cannot be placed.
  const q: PlanBrick = { name: 'Q', cost: { flops: 1, bytesMoved: 1, memoryBytes: 0, outputBytes: 0, matmuls: [{ dtype: 'Q4_0', nOut: 32, nIn: 32, nTok: 1, count: 1 }] } };
  assert.throws(() => plan([q], ps), (e: unknown) => e instanceof RequestError && e.code === 'UNPLACEABLE');
  // …unless it was calibrated on a device.
  assert.deepEqual(plan([{ ...q, calibratedMs: { B: 3 } }], ps).placement, { Q: 'B' });
});

test('planner: energy objective without power figures is a typed error; evaluate matches plan', () => {
  const ps = profiles();
  delete ps.devices.A!.power;
  delete ps.devices.B!.power;
  assert.throws(() => plan(bricks, ps, { objective: 'energy' }), (e: unknown) => e instanceof RequestError && e.code === 'NO_POWER');
  const c = evaluate(bricks, ps, { P: 'B', D: 'A' });
  close(c.predicted_ms.total!, 24.8);
  assert.equal(c.energy_j, null);
  // Power merged from a config object.
  mergePower(ps, { A: { idleW: 1, busyW: 11 }, B: { idleW: 0.5, busyW: 3 } });
  close(plan(bricks, ps, { objective: 'energy' }).energy_j!, 0.0712);
  assert.throws(() => mergePower(ps, { A: { idleW: -1, busyW: 2 } }), (e: unknown) => e instanceof RequestError && e.code === 'BAD_POWER_CONFIG');
});

test('parsePlace and profile validation', () => {
  assert.deepEqual(parsePlace('vision=cpu, lm=wasm'), { vision: 'cpu', lm: 'wasm' });
  assert.deepEqual(parsePlace(undefined), {});
  assert.throws(() => parsePlace('vision'), (e: unknown) => e instanceof RequestError && e.code === 'BAD_PIN');
  const ps = profiles();
  assert.equal(validateProfileSet(JSON.parse(JSON.stringify(ps))).devices.A!.memGBs, 10);
  assert.throws(() => validateProfileSet({ ...ps, version: 99 }), (e: unknown) => e instanceof RequestError && e.code === 'BAD_PROFILE');
  assert.throws(() => validateProfileSet({ ...ps, schema: 'x' }), (e: unknown) => e instanceof RequestError && e.code === 'BAD_PROFILE');
  const bad = profiles();
  bad.devices.A!.matmul[0]!.gflops = 0;
  assert.throws(() => validateProfileSet(bad), (e: unknown) => e instanceof RequestError && e.code === 'BAD_PROFILE');
});

test('plannerReplan: healthy bricks stay pinned, bricks on excluded devices move to the best remaining', () => {
  const ps = profiles();
  const replan = plannerReplan(bricks, ps);
  // From AB, losing B: D must move to A; P stays on A (pinned) → AA.
  assert.deepEqual(replan(new Set(['B']), { P: 'A', D: 'B' }), { P: 'A', D: 'A' });
  // From AB, losing A: P moves to B → BB.
  assert.deepEqual(replan(new Set(['A']), { P: 'A', D: 'B' }), { P: 'B', D: 'B' });
  assert.throws(() => replan(new Set(['A', 'B']), { P: 'A', D: 'B' }), (e: unknown) => e instanceof BackendError && e.code === 'NO_DEVICE_LEFT');
});
