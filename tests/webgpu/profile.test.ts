/**
 * The `webgpu` device profile (src/backends/webgpu/profile.ts through src/bricks/profile.ts
 * `measureProfiles`): a small profile (F32 matmuls of the test decoder's output-head shape, short
 * timings) is a valid schema-v2 set with host↔webgpu transfers and a positive figure for every op
 * the LM cost prices on this device; and with it the LM cost model (src/bricks/lm-brick.ts
 * `lmCost`'s decode step, priced by src/bricks/cost-model.ts `brickMs`: forwardCall, forwardLayer
 * — fitted on synthetic decoders of 2, 4 and 6 layers —, logitsOut from the readback probe, the
 * attention figures, the output head from the profile's matmul point of its shape) predicts the
 * Node-side wall time of a one-token forward call of another synthetic decoder (5 layers, 8192
 * logits) within a factor of 2 — the reference being that decoder's
 * measured wall time through WebGPULM, so a wrong or missing term makes it fail. The figures
 * themselves are machine-dependent and not asserted. Skips without Chromium.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureProfiles } from '../../src/bricks/profile.js';
import { validateProfileSet } from '../../src/bricks/profile-schema.js';
import { matmulMs, brickMs } from '../../src/bricks/cost-model.js';
import { lmCost, lmShapeFromGGUF } from '../../src/bricks/lm-brick.js';
import { openGGUF } from '../../src/formats/gguf/reader.js';
import { writeSyntheticDecoder, timeForwardCalls, SYNTH_DECODER, nnls } from '../../src/backends/webgpu/profile.js';
import { WebGPULM } from '../../src/backends/webgpu/remote-lm.js';
import { BackendError } from '../../src/core/errors.js';
import { SKIP, page, closePage } from './page.js';

after(closePage);

test('nnls: exact fit, and a negative coefficient is dropped to 0', () => {
  const X = [[1, 1], [1, 2], [1, 3], [1, 4]];
  const [a, b] = nnls(X, [3, 5, 7, 9]);
  assert.ok(Math.abs(a! - 1) < 1e-9 && Math.abs(b! - 2) < 1e-9, `${a}, ${b}`);
  const [c, d] = nnls(X, [9, 7, 5, 3]); // y = 11 − 2x: slope negative → 0, intercept the mean
  assert.equal(d, 0);
  assert.ok(Math.abs(c! - 6) < 1e-9, `${c}`);
  const [e, f] = nnls(X, [3, 5, 7, 9], true);
  assert.ok(Math.abs(e! - 1) < 1e-9 && Math.abs(f! - 2) < 1e-9, `relative: ${e}, ${f}`);
});

test('webgpu profile: valid set, LM op figures, forward-call figures predict a third decoder', { skip: SKIP, timeout: 5 * 60_000 }, async (t) => {
  const lines: string[] = [];
  const p = validateProfileSet(JSON.parse(JSON.stringify(await measureProfiles({
    devices: ['webgpu'], dtypes: ['F32'], sizes: [[8192, 32]], nToks: [1, 8], minMs: 40, maxMs: 400, log: (l) => lines.push(l),
  }))));
  const d = p.devices.webgpu!;
  assert.deepEqual(Object.keys(p.devices), ['webgpu']);
  assert.equal(d.kind, 'gpu');
  assert.match(d.description, /adapter \S/);
  assert.equal(d.matmul.length, 2);
  for (const m of d.matmul) assert.ok(m.dtype === 'F32' && m.gflops > 0 && m.ms > 0, JSON.stringify(m));
  assert.ok(d.memGBs > 0 && d.launchUs > 0, `memGBs ${d.memGBs}, launchUs ${d.launchUs}`);
  const ops = d.opNs!;
  for (const op of ['rope', 'glu', 'rmsNorm', 'forwardLayer', 'forwardCall', 'logitsOut']) assert.ok(ops[op]! > 0, `${op} = ${ops[op]}\n${lines.join('\n')}`);
  // the WGSL attention's per-key cost is counted over the keys really visited (attentionPair), not the padded length
  assert.ok(ops.attention! + ops.attentionPair! > 0, `attention ${ops.attention}, attentionPair ${ops.attentionPair}`);
  assert.equal(ops.attentionRow, 0);
  assert.deepEqual(p.transfers.map((t) => `${t.from}>${t.to}`), ['host>webgpu', 'webgpu>host', 'webgpu>webgpu']);
  assert.ok(lines.some((l) => l.startsWith('webgpu matmul F32 8192x32 nTok=8')), lines.join('\n'));

  const dir = mkdtempSync(join(tmpdir(), 'synflux-webgpu-prof-test-'));
  const L = 5, V = 8192;
  const path = writeSyntheticDecoder(dir, L, V);
  const lm = await WebGPULM.load(path, { host: await page(), contextSize: SYNTH_DECODER.nCtx });
  try {
    // the timed calls cycle through positions 0…nCtx-1: price the decode step at the mean KV length
    const cost = lmCost(lmShapeFromGGUF(openGGUF(path)), SYNTH_DECODER.nCtx / 2, 1, SYNTH_DECODER.nCtx);
    const step = cost.phases!.find((ph) => ph.name === 'decode')!;
    assert.equal(step.ops!.forwardCall, 1);
    assert.equal(step.ops!.logitsOut, V);
    const predicted = brickMs(d, { ...cost, phases: [step] }, p.hostOps)!;
    const [measured] = await timeForwardCalls([lm], { minMs: 300, maxMs: 3000 });
    const head = matmulMs(d, { dtype: 'F32', nOut: V, nIn: SYNTH_DECODER.nEmbd, nTok: 1, count: 1 })!;
    const ratio = predicted / measured!;
    const msg = `third decoder (${L} layers, ${V} logits): predicted ${predicted.toFixed(2)} ms (output head ${head.toFixed(2)} ms), measured ${measured!.toFixed(2)} ms per forward call; forwardCall ${(ops.forwardCall! / 1e6).toFixed(2)} ms, forwardLayer ${(ops.forwardLayer! / 1e6).toFixed(3)} ms, logitsOut ${ops.logitsOut!.toFixed(1)} ns`;
    t.diagnostic(msg);
    assert.ok(ratio > 0.5 && ratio < 2, msg);
  } finally {
    await lm.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without --device, a webgpu that cannot start is skipped with one log line and the profile goes on', { timeout: 5 * 60_000 }, async () => {
  const saved = process.env.SYNFLUX_CHROMIUM;
  process.env.SYNFLUX_CHROMIUM = process.execPath; // exists, but is no browser: the launch fails
  try {
    const lines: string[] = [];
    const p = await measureProfiles({ dtypes: ['F32'], sizes: [[64, 64]], nToks: [1], minMs: 2, log: (l) => lines.push(l) });
    assert.deepEqual(Object.keys(p.devices), ['cpu', 'wasm', 'onnx']);
    const skipped = lines.filter((l) => l.startsWith('webgpu skipped: '));
    assert.equal(skipped.length, 1, lines.join('\n'));
    assert.ok(!p.transfers.some((x) => x.from === 'webgpu' || x.to === 'webgpu'));
    // named, it must start
    await assert.rejects(measureProfiles({ devices: ['webgpu'], minMs: 2 }), (e: unknown) => e instanceof BackendError && e.code.startsWith('WEBGPU_'));
  } finally {
    if (saved === undefined) delete process.env.SYNFLUX_CHROMIUM;
    else process.env.SYNFLUX_CHROMIUM = saved;
  }
});
