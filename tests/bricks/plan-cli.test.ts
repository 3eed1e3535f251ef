/**
 * `synflux plan` end to end on the real SmolLM2-135M Q4_1 fixture with a synthetic profile in which
 * every dtype runs at a flat 10 GFLOP/s on `cpu` and 5 GFLOP/s on `wasm` (memory and transfers
 * free, no launch overhead), so the LM brick's predicted time is its arithmetic / rate:
 *   matmul FLOPs of a query = 2·Σ_blocks(nOut·nIn)·(P + G) + 2·(vocab·d)·(1 + G)   (logits of the
 *   last prompt token and of every generated one), plus attention 2·(dK+dV)·nHead·nLayer per
 *   query/key pair, priced by the profile's per-unit attention figure set to the same rate (opNs).
 * The expected numbers are computed here from the tensor table read by node-llama-cpp's own GGUF
 * parser (not ours). Also: `--place`, the JSON shape, and typed errors for bad flags.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliCommand, repoRoot } from '../cli/root.js';
import { PROFILE_SCHEMA, PROFILE_VERSION, type ProfileSet } from '../../src/bricks/profile-schema.js';

const root = repoRoot(import.meta.url);
const model = join(root, '.cache', 'models', 'SmolLM2-135M-Instruct.Q4_1.gguf');

function flat(g: number): ProfileSet['devices'][string] {
  const matmul = ['F32', 'F16', 'Q8_0', 'Q4_1', 'Q4_K'].flatMap((dtype) => [1, 64].map((nTok) => ({ dtype, nOut: 512, nIn: 512, nTok, ms: 1, gflops: g })));
  // attention is priced per unit (query·key pair × head × (dK + dV) = 2 FLOPs): 2 FLOPs at g GFLOP/s; no other op figures
  return { kind: 'cpu', description: 'flat', threads: 1, matmul, memGBs: 1e9, launchUs: 0, opNs: { attention: 2 / g } };
}

function profileFile(): string {
  const p: ProfileSet = {
    schema: PROFILE_SCHEMA, version: PROFILE_VERSION, created: 'test', host: { cpus: 2, cpuModel: 'synthetic', node: 'v20' },
    devices: { cpu: flat(10), wasm: flat(5) }, transfers: [],
  };
  const dir = mkdtempSync(join(tmpdir(), 'synflux-plan-'));
  writeFileSync(join(dir, 'p.json'), JSON.stringify(p));
  return join(dir, 'p.json');
}

function plan(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const [node, pre] = cliCommand(root);
  return spawnSync(node, [...pre, 'plan', ...args], { cwd: root, encoding: 'utf8' });
}

test('synflux plan --model --json: placement, per-brick ms from the GGUF arithmetic, candidates', async () => {
  const { readGgufFileInfo } = await import('node-llama-cpp');
  const info = await readGgufFileInfo(model);
  const md = (info.metadata as unknown as { llama: { block_count: number; embedding_length: number; attention: { head_count: number; head_count_kv: number } } }).llama;
  let blockParams = 0;
  let vocabD = 0;
  for (const t of info.fullTensorInfo ?? []) {
    const dims = t.dimensions.map(Number);
    if (/^blk\.\d+\.(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\.weight$/.test(t.name)) blockParams += dims[0]! * dims[1]!;
    if (t.name === 'token_embd.weight') vocabD = dims[0]! * dims[1]!;
  }
  const P = 40, G = 8;
  const headDim = md.embedding_length / md.attention.head_count;
  const pair = 2 * (2 * headDim) * md.attention.head_count * md.block_count;
  let attn = (pair * P * (P + 1)) / 2;
  for (let i = 0; i < G; i++) attn += pair * (P + i + 1);
  const flops = 2 * blockParams * (P + G) + 2 * vocabD * (1 + G) + attn;
  const prof = profileFile();
  const r = plan(['--model', model, '--profile', prof, '--prompt-tokens', String(P), '--gen-tokens', String(G), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { placement: Record<string, string>; predicted_ms: Record<string, number>; memory_bytes: Record<string, number>; energy_j: number | null; candidates: { placement: Record<string, string>; predicted_ms: Record<string, number> }[] };
  assert.deepEqual(out.placement, { lm: 'cpu' });
  const want = flops / 10e6; // ms at 10 GFLOP/s
  assert.ok(Math.abs(out.predicted_ms.lm! - want) / want < 1e-9, `lm ${out.predicted_ms.lm} ms, expected ${want}`);
  assert.equal(out.candidates.length, 2);
  const wasm = out.candidates.find((c) => c.placement.lm === 'wasm')!;
  assert.ok(Math.abs(wasm.predicted_ms.lm! - 2 * want) / want < 1e-9);
  assert.ok(out.memory_bytes.cpu! > 90e6, 'weights + KV cache');
  assert.equal(out.energy_j, null);

  const pinned = plan(['--model', model, '--profile', prof, '--place', 'lm=wasm', '--json']);
  assert.equal(pinned.status, 0, pinned.stderr);
  assert.deepEqual(JSON.parse(pinned.stdout).placement, { lm: 'wasm' });
  const human = plan(['--model', model, '--profile', prof]);
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout, /lm +→ cpu/);
});

test('synflux plan: typed errors for bad flags', () => {
  const prof = profileFile();
  const cases: [string[], RegExp][] = [
    [['--model', model, '--profile', prof, '--place', 'vision=cpu'], /BAD_PIN/],
    [['--model', model, '--profile', prof, '--place', 'lm=gpu'], /BAD_PIN/],
    [['--model', model, '--profile', prof, '--objective', 'energy'], /NO_POWER/],
    [['--model', model, '--profile', prof, '--objective', 'fast'], /BAD_OPTION/],
    [['--model', model, '--profile', join(tmpdir(), 'no-such-profile.json')], /PROFILE_NOT_FOUND/],
    [['--profile', prof], /BAD_OPTION/],
    [['--model', join(tmpdir(), 'missing.gguf'), '--profile', prof], /MODEL_NOT_FOUND/],
  ];
  for (const [args, re] of cases) {
    const r = plan(args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, re, args.join(' '));
  }
});
