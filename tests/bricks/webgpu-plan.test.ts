/**
 * The `webgpu` device in the planner and in `synflux run --place` (no browser needed here; the
 * runs on WebGPU are in tests/webgpu/run-place.test.ts):
 * - lmCost counts the two RPC op classes (`forwardCall`: one per prefill forward and per decode
 *   step; `logitsOut`: nVocab floats returned per such call) and the WGSL attention's units
 *   (`attentionHead`: query rows × heads × layers; `attentionPair`: query·key pairs really visited
 *   × heads × layers, no KV padding); a profile without figures for them
 *   (cpu/wasm) prices them 0, so cpu predictions do not change;
 * - the LM plan brick of SmolLM2-135M Q4_1 offers webgpu (Q4_1/Q8_0/F32… have WGSL readers) only for a text
 *   prompt, and a model with a weight type without a WGSL reader (Q5_1) is refused;
 * - with a hand-written profile that has a `webgpu` device, the planner's webgpu prediction equals
 *   the same arithmetic at that device's rate plus (calls × ns per call + logits × ns per float),
 *   derived here by hand from the GGUF's vocabulary size, and the pick follows the figures;
 * - `--place` errors for webgpu are typed BAD_PIN (images, --backend clash, unreadable weight types).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lmCost, lmDevices, webgpuUnsupportedWeights, type LmShape } from '../../src/bricks/lm-brick.js';
import { lmPlanBrick, pipelinePlanBricks } from '../../src/bricks/plan-bricks.js';
import { plan } from '../../src/bricks/planner.js';
import { brickMs } from '../../src/bricks/cost-model.js';
import { PROFILE_SCHEMA, PROFILE_VERSION, type DeviceProfile, type ProfileSet } from '../../src/bricks/profile-schema.js';
import { openGGUF, parseGGUF, GGUFValueType } from '../../src/formats/gguf/reader.js';
import { serializeGGUF } from '../../src/formats/gguf/writer.js';
import { GGMLType, typeInfo } from '../../src/core/ggml-type.js';
import { fixturesModule } from '../helpers/paths.js';
import { cliCommand, repoRoot } from '../cli/root.js';

const root = repoRoot(import.meta.url);
const close = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} ≉ ${b}`);

/** Every dtype at a flat `g` GFLOP/s; attention at the same rate; extra op figures `opNs`. */
function flat(g: number, kind: DeviceProfile['kind'], opNs: Record<string, number> = {}): DeviceProfile {
  const matmul = ['F32', 'F16', 'Q8_0', 'Q4_1', 'Q4_K'].flatMap((dtype) => [1, 64].map((nTok) => ({ dtype, nOut: 512, nIn: 512, nTok, ms: 1, gflops: g })));
  return { kind, description: 'flat', threads: 1, matmul, memGBs: 1e9, launchUs: 0, opNs: { attention: 2 / g, ...opNs } };
}

function profiles(webgpu?: Record<string, number>): ProfileSet {
  return {
    schema: PROFILE_SCHEMA, version: PROFILE_VERSION, created: 'test', host: { cpus: 2, cpuModel: 'synthetic', node: 'v20' },
    devices: { cpu: flat(10, 'cpu'), wasm: flat(5, 'cpu'), ...(webgpu ? { webgpu: flat(20, 'gpu', webgpu) } : {}) }, transfers: [],
  };
}

test('lmCost: forwardCall = prefill forwards + decode steps, logitsOut = nVocab per call, attentionHead/attentionPair per row/pair and head; 0 ms without figures', () => {
  const s: LmShape = {
    nLayer: 2, nHead: 4, nHeadKv: 2, headDimK: 16, headDimV: 16, nVocab: 1000, nEmbd: 64, nFf: 128, weightBytes: 0,
    layerMatmuls: [{ dtype: 'F32', nOut: 64, nIn: 64, count: 2 }], outputMatmul: { dtype: 'F32', nOut: 1000, nIn: 64 },
  };
  const c = lmCost(s, 60, 4, 256, { prefillForwards: 3 });
  const [pre, dec] = c.phases!;
  assert.equal(pre!.ops!.forwardCall, 3);
  assert.equal(pre!.ops!.logitsOut, 3 * 1000);
  assert.equal(dec!.ops!.forwardCall, 4);
  assert.equal(dec!.ops!.logitsOut, 4 * 1000);
  assert.deepEqual([pre!.ops!.attentionHead, dec!.ops!.attentionHead], [60 * 4 * 2, 4 * 4 * 2]); // rows × heads × layers
  // query·key pairs (keys really visited, causal) × heads × layers: 60·61/2 in the prefill, 61 + 62 + 63 + 64 in decode
  assert.deepEqual([pre!.ops!.attentionPair, dec!.ops!.attentionPair], [1830 * 4 * 2, (61 + 62 + 63 + 64) * 4 * 2]);
  assert.equal(lmCost(s, 60, 0).phases!.length, 1, 'no decode phase without generated tokens');
  // A device without forwardCall/logitsOut figures prices them 0: adding figures adds exactly calls × ns + floats × ns.
  const base = flat(10, 'cpu');
  const rpc = { ...base, opNs: { ...base.opNs, forwardCall: 2e6, logitsOut: 0.5 } };
  close(brickMs(rpc, c)! - brickMs(base, c)!, (7 * 2e6 + 7 * 1000 * 0.5) / 1e6);
});

test('planner: the SmolLM2 LM brick considers webgpu when the profile has it; prediction and pick from its figures', async () => {
  const model = await (await fixturesModule()).ensureFixture('smollm2');
  const P = 40, G = 8;
  const b = await lmPlanBrick('lm', model, { promptTokens: P, genTokens: G });
  assert.deepEqual(b.devices, ['cpu', 'wasm', 'webgpu']);
  assert.deepEqual((await lmPlanBrick('lm', model, { promptTokens: P, genTokens: G, withImage: true })).devices, ['cpu', 'wasm']);
  const nVocab = (openGGUF(model).tensor('output.weight') ?? openGGUF(model).tensor('token_embd.weight'))!.dims[1]!;
  assert.equal(nVocab, 49152);

  // Without a webgpu profile nothing changes: two candidates, cpu's prediction as before.
  const old = plan([b], profiles());
  assert.equal(old.candidates.length, 2);
  const cpuMs = old.predicted_ms.lm!;

  // webgpu at twice cpu's rate, 5 ms per forward call, 0.01 ns per logit float: 1 prefill + 8 decode calls.
  const cheap = plan([b], profiles({ forwardCall: 5e6, logitsOut: 0.01 }));
  assert.equal(cheap.candidates.length, 3);
  const gpu = cheap.candidates.find((c) => c.placement.lm === 'webgpu')!;
  close(gpu.predicted_ms.lm!, cpuMs / 2 + ((1 + G) * 5e6 + (1 + G) * nVocab * 0.01) / 1e6);
  close(cheap.candidates.find((c) => c.placement.lm === 'cpu')!.predicted_ms.lm!, cpuMs);
  assert.deepEqual(cheap.placement, { lm: 'webgpu' });
  // One second per forward call (an RPC this slow) makes cpu the pick.
  const slow = plan([b], profiles({ forwardCall: 1e9, logitsOut: 0.01 }));
  assert.deepEqual(slow.placement, { lm: 'cpu' });
  // Pinned: webgpu even when slower.
  assert.deepEqual(plan([b], profiles({ forwardCall: 1e9 }), { pins: { lm: 'webgpu' } }).placement, { lm: 'webgpu' });

  // The OCR pipeline's llm.generate brick gets webgpu too.
  const { bricks } = await pipelinePlanBricks(join(root, 'pipelines', 'ocr-qa.json'), { promptTokens: P, genTokens: G });
  const lmBrick = bricks.find((x) => x.name === 'lm')!;
  assert.deepEqual(lmBrick.devices, ['cpu', 'wasm', 'webgpu']);
});

/** A tiny llama GGUF whose `blk.0.attn_q.weight` has type `qType` (zero blocks: only the table matters here). */
function tinyGGUF(qType: number): Uint8Array {
  const zeros = (type: number, dims: number[]): Uint8Array => {
    const t = typeInfo(type);
    return new Uint8Array((dims[0]! / t.blockSize) * t.typeSize * dims.slice(1).reduce((a, b) => a * b, 1));
  };
  const ten = (name: string, type: number, dims: number[]) => ({ name, type, dims, data: zeros(type, dims) });
  return serializeGGUF({
    metadata: [{ key: 'general.architecture', type: GGUFValueType.STRING, value: 'llama' }],
    tensors: [
      ten('token_embd.weight', GGMLType.F32, [32, 16]),
      ten('blk.0.attn_q.weight', qType, [32, 32]),
      ten('blk.0.ffn_up.weight', GGMLType.Q4_0, [32, 64]),
      ten('output.weight', GGMLType.Q8_0, [32, 16]),
    ],
  });
}

test('lmDevices: a weight type without a WGSL reader keeps the LM off webgpu', () => {
  const ok = parseGGUF(tinyGGUF(GGMLType.Q4_1), 'ok.gguf');
  assert.deepEqual(webgpuUnsupportedWeights(ok), []);
  assert.deepEqual(lmDevices(ok), ['cpu', 'wasm', 'webgpu']);
  assert.deepEqual(lmDevices(ok, { image: true }), ['cpu', 'wasm']);
  const bad = parseGGUF(tinyGGUF(GGMLType.Q5_1), 'bad.gguf');
  assert.deepEqual(webgpuUnsupportedWeights(bad), ['blk.0.attn_q.weight:Q5_1']);
  assert.deepEqual(lmDevices(bad), ['cpu', 'wasm']);
});

test('run --place: webgpu pins that cannot work are BAD_PIN (before any browser starts)', async () => {
  const model = await (await fixturesModule()).ensureFixture('smollm2');
  const dir = mkdtempSync(join(tmpdir(), 'synflux-webgpu-pin-'));
  const bad = join(dir, 'q5_1.gguf');
  writeFileSync(bad, tinyGGUF(GGMLType.Q5_1));
  const [node, pre] = cliCommand(root);
  const run = (args: string[]) => spawnSync(node, [...pre, 'run', '--prompt', 'x', '--max-tokens', '1', ...args], { cwd: root, encoding: 'utf8' });
  const cases: [string[], RegExp][] = [
    [['--model', model, '--mmproj', join(dir, 'mmproj.gguf'), '--place', 'vision=webgpu'], /vision=webgpu.*no images yet/],
    [['--model', model, '--mmproj', join(dir, 'mmproj.gguf'), '--place', 'lm=webgpu'], /lm=webgpu with --mmproj: the webgpu LM takes no images yet/],
    [['--model', model, '--place', 'lm=webgpu', '--backend', 'cpu'], /contradicts --backend cpu/],
    [['--model', model, '--place', 'lm=tpu'], /cpu, wasm or webgpu/],
    [['--model', bad, '--place', 'lm=webgpu'], /cannot read blk\.0\.attn_q\.weight:Q5_1/],
  ];
  for (const [args, re] of cases) {
    const r = run(args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, /BAD_PIN/, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
});
