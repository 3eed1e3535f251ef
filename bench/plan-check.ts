/**
 * `npm run plan-check -- [--suite matmul|ocr-lm|vlm] [--items 20] [--profile FILE] [--max-candidates 18]
 *   [--gen-tokens 16] [--rounds 1] [--kill DEVICE@K] [--json] [--write-calibration FILE]
 *   [--vlm DIR | --vlm-preset smolvlm-256m-proportioned] [--only BRICK=DEV,BRICK=DEV …]
 *   [--devices cpu,wasm,onnx,webgpu] [--warmup 3] [--ocr-images page.png,imageTextN.png,imageTextR.png] [--skip-pipelined]`
 *
 * Checks the placement planner against measurements: for a brick chain it plans every candidate
 * placement from the device profiles (src/bricks/planner.ts), then runs each placement over a
 * stream of `items` inputs twice — sequentially (one query at a time: measured ms per query vs
 * the predicted end-to-end latency) and pipelined (src/bricks/executor.ts: measured ms per item vs
 * the predicted stream time) — and prints the predicted-vs-measured table, whether the planner's
 * pick is within 10% of the measured fastest, and the pipelining speed-up.
 *
 * Suites:
 * - `matmul`: three real matmul-chain bricks (src/bricks/matmul-brick.ts) — `enc` (4×F32 1024²),
 *   `proj` (F16 1024²) and `dec` (8×Q4_1 1024²), 32 tokens — on cpu (native, worker, 1 thread),
 *   wasm (worker) and onnx (ORT, 1 intra-op thread): 3 × 3 × 2 = 18 placements.
 * - `ocr-lm`: image decode → PP-OCRv4 det → rec (ONNX Runtime, src/models/ocr via the pipeline
 *   registry) → SmolLM2-135M-Instruct Q4_1 (worker-hosted LM brick on cpu or wasm; and on webgpu —
 *   src/backends/webgpu/lm-brick.ts, headless Chromium — when the profile has a `webgpu` device),
 *   over the OCR fixture images (`node scripts/fetch-fixtures.mjs ocr-images smollm2`). The opaque ONNX bricks
 *   and the host steps are calibrated first (their mean measured ms in a sequential run), so
 *   the comparison checks the LM cost model, the transfers and the composition.
 * - `vlm`: the SmolVLM-style random checkpoint (`--vlm DIR`, default .cache/vlm/smolvlm: model.gguf,
 *   mmproj.gguf, image.png, image2.png from scripts/reference/make-random-vlm.py): vision encoder +
 *   projector (worker-hosted, cpu or wasm) → LM fed the image embeddings (cpu or wasm): 4
 *   placements. The vision brick is priced per image from its header (tiles, decode/resize/normalize
 *   work, file size for the hop), the LM at the prompt positions observed in a first sequential run
 *   and the chunked prefill of the SmolVLM layout (2·tiles + 1 forwards). `--vlm-preset
 *   smolvlm-256m-proportioned` uses (and writes once, into .cache/vlm/<preset>) a checkpoint whose
 *   vision tower is scaled down from SmolVLM-256M's shape so that, as there, it outweighs the LM's
 *   prefill (make-random-vlm.py PRESETS: 128-px tiles, width 192, 4 blocks; same LM); the default
 *   tower of the golden fixture is tiny next to its LM, which leaves pipelining little to overlap.
 *
 * `--kill DEVICE@K` then runs the picked placement pipelined with DEVICE failing after K brick runs
 * (src/bricks/fault.ts) and the planner as re-planner, and compares the outputs with an unfailed run.
 *
 * The profile is read from `--profile` or the default cache path; when none exists one is measured
 * first (about 20 s). `--devices` keeps only those devices of the profile (default: all of them),
 * e.g. `--devices cpu,wasm,onnx` to leave webgpu out. `--warmup N` (default 3) untimed runs of the
 * first item before each measured stream; SwiftShader's WebGPU takes ~1 s per prompt token, so
 * webgpu checks want small runs (`--items 2 --gen-tokens 4 --warmup 1`), short OCR prompts
 * (`--ocr-images` picks the images of .cache/ocr-images the ocr-lm stream cycles through) and may
 * skip the pipelined measurement (`--skip-pipelined`: its columns print as –).
 * Figures from a shared machine are noisy: note the load when quoting them.
 */
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/core/package-root.js';
import { plan, parsePlace, type PlanBrick, type Candidate } from '../src/bricks/planner.js';
import { PipelineExecutor, plannerReplan, type StageSpec } from '../src/bricks/executor.js';
import { failAfter } from '../src/bricks/fault.js';
import type { BrickCost, PortValue } from '../src/bricks/brick.js';
import { createMatmulChainBrick, matmulChainCost, type MatmulChainSpec } from '../src/bricks/matmul-brick.js';
import { createLmBrick, lmCost, lmShapeFromGGUF, type LmBrickSpec } from '../src/bricks/lm-brick.js';
import { measureProfiles, randomFloats } from '../src/bricks/profile.js';
import { defaultProfilePath, loadProfileSet, saveProfileSet, type ProfileSet } from '../src/bricks/profile-schema.js';
import type { PortValues } from '../src/bricks/brick.js';

const { values } = parseArgs({
  options: {
    suite: { type: 'string', default: 'matmul' }, items: { type: 'string', default: '20' }, profile: { type: 'string' },
    'max-candidates': { type: 'string', default: '18' }, 'gen-tokens': { type: 'string', default: '16' }, json: { type: 'boolean' },
    'write-calibration': { type: 'string' }, rounds: { type: 'string', default: '1' }, kill: { type: 'string' }, vlm: { type: 'string' },
    'vlm-preset': { type: 'string' }, only: { type: 'string', multiple: true }, devices: { type: 'string' }, warmup: { type: 'string', default: '3' },
    'ocr-images': { type: 'string' }, 'skip-pipelined': { type: 'boolean' },
  },
});
const root = packageRoot();
const N = Number(values.items);
const log = (l: string): void => void process.stderr.write(l + '\n');

/** A brick chain to check: executor stages, planner bricks, inputs, and bricks to calibrate. */
interface Suite {
  stages: StageSpec[];
  planBricks: PlanBrick[];
  inputs: PortValues[];
  /** Bricks whose time is measured, not modelled (opaque ONNX graphs, host steps): name → device. */
  calibrate: Record<string, string>;
  /** Placement used for the calibration run. */
  basePlacement: Record<string, string>;
  /** Re-prices modelled bricks from what the calibration run observed (e.g. the real prompt lengths). */
  recost?: (observed: { promptTokens: number[]; tiles: number[] }) => PlanBrick[];
}

function matmulSuite(): Suite {
  const D = 1024, T = 32;
  const specs: MatmulChainSpec[] = [
    { kind: 'matmul-chain', name: 'enc', layers: Array.from({ length: 4 }, (_, i) => ({ nOut: D, nIn: D, dtype: 'F32', seed: 1 + i })) },
    { kind: 'matmul-chain', name: 'proj', layers: [{ nOut: D, nIn: D, dtype: 'F16', seed: 10 }] },
    { kind: 'matmul-chain', name: 'dec', layers: Array.from({ length: 8 }, (_, i) => ({ nOut: D, nIn: D, dtype: 'Q4_1', seed: 20 + i })) },
  ];
  const devs: Record<string, string[]> = { enc: ['cpu', 'wasm', 'onnx'], proj: ['cpu', 'wasm', 'onnx'], dec: ['cpu', 'wasm'] };
  return {
    stages: specs.map((s) => ({ name: s.name, devices: devs[s.name]!, create: (d) => createMatmulChainBrick(s, d, { threads: 1 }) })),
    planBricks: specs.map((s) => ({ name: s.name, devices: devs[s.name]!, cost: matmulChainCost(s, T), inputBytes: T * D * 4 })),
    inputs: Array.from({ length: N }, (_, i) => ({ x: { kind: 'tensor', dtype: 'f32', data: randomFloats(T * D, 1000 + i), shape: [T, D] } })),
    calibrate: {},
    basePlacement: { enc: 'cpu', proj: 'cpu', dec: 'cpu' },
  };
}

async function ocrLmSuite(ps: ProfileSet): Promise<Suite> {
  const { brickType } = await import('../src/pipelines/registry.js');
  const { openGGUF } = await import('../src/formats/gguf/reader.js');
  const model = join(root, '.cache', 'models', 'SmolLM2-135M-Instruct.Q4_1.gguf');
  const images = (values['ocr-images']?.split(',') ?? ['page.png', 'imageTextN.png', 'imageTextR.png']).map((f) => join(root, '.cache', 'ocr-images', f.trim()));
  for (const f of [model, ...images]) if (!existsSync(f)) throw new Error(`${f} missing: run node scripts/fetch-fixtures.mjs smollm2 ocr-images`);
  const gen = Number(values['gen-tokens']);
  const template = 'Text in the image:\n{text}\n\nQuestion: {question}';
  const lm: LmBrickSpec = { kind: 'lm', name: 'lm', model, maxTokens: gen, template, chat: true, contextSize: 1024 };
  // webgpu (the decoder in a headless Chromium page) when the profile measured it
  const lmDevs = ['cpu', 'wasm', ...(ps.devices.webgpu ? ['webgpu'] : [])].filter((d) => ps.devices[d]);
  const createLm = async (d: string) => (d === 'webgpu'
    ? (await import('../src/backends/webgpu/lm-brick.js')).createWebGPULmBrick(lm)
    : createLmBrick(lm, d, { threads: 1 }));
  const reg = (type: string, name: string, options: Record<string, unknown> = {}): StageSpec => ({
    name, devices: [...brickType(type)!.devices],
    create: (device) => brickType(type)!.create({ name, device, options, log }),
  });
  const stages: StageSpec[] = [
    reg('image.decode', 'image'),
    reg('ocr.det', 'ocr-det', { threads: 1 }),
    reg('ocr.rec', 'ocr-rec', { threads: 1 }),
    { name: 'lm', devices: lmDevs, create: createLm },
  ];
  const shape = lmShapeFromGGUF(openGGUF(model));
  // Prompt length: template + OCR text ≈ measured in the calibration run (set below).
  const zero = { flops: 0, bytesMoved: 0, memoryBytes: 0, outputBytes: 0 };
  return {
    stages,
    planBricks: [
      { name: 'image', devices: ['cpu'], cost: zero },
      { name: 'ocr-det', devices: ['onnx'], cost: zero },
      { name: 'ocr-rec', devices: ['onnx'], cost: zero },
      { name: 'lm', devices: lmDevs, cost: lmCost(shape, 96, gen) },
    ],
    inputs: Array.from({ length: N }, (_, i) => ({
      path: { kind: 'text', text: images[i % images.length]! }, question: { kind: 'text', text: 'What does the text say?' },
    })),
    calibrate: { image: 'cpu', 'ocr-det': 'onnx', 'ocr-rec': 'onnx' },
    basePlacement: { image: 'cpu', 'ocr-det': 'onnx', 'ocr-rec': 'onnx', lm: 'cpu' },
    // The LM is priced at the mean prompt length the OCR text actually produced (cost ≈ linear in it).
    recost: ({ promptTokens }) => [
      { name: 'image', devices: ['cpu'], cost: zero },
      { name: 'ocr-det', devices: ['onnx'], cost: zero },
      { name: 'ocr-rec', devices: ['onnx'], cost: zero },
      { name: 'lm', devices: lmDevs, cost: lmCost(shape, Math.round(promptTokens.reduce((a, b) => a + b, 0) / promptTokens.length), gen) },
    ],
  };
}

/** Mean of brick costs (one per item kind of a stream): totals, ops and launches averaged, matmul counts divided. */
function meanCost(costs: readonly BrickCost[]): BrickCost {
  const k = costs.length;
  const ops: Record<string, number> = {};
  for (const c of costs) for (const [op, n] of Object.entries(c.ops ?? {})) ops[op] = (ops[op] ?? 0) + n / k;
  const avg = (f: (c: BrickCost) => number): number => costs.reduce((a, c) => a + f(c), 0) / k;
  return {
    flops: avg((c) => c.flops), bytesMoved: avg((c) => c.bytesMoved), memoryBytes: Math.max(...costs.map((c) => c.memoryBytes)),
    outputBytes: avg((c) => c.outputBytes), launches: avg((c) => c.launches ?? 0), ops,
    matmuls: costs.flatMap((c) => (c.matmuls ?? []).map((m) => ({ ...m, count: m.count / k }))),
  };
}

async function vlmSuite(): Promise<Suite> {
  const { openGGUF } = await import('../src/formats/gguf/reader.js');
  const { visionConfigFromGGUF } = await import('../src/models/vision/config.js');
  const { createVisionWorkerBrick } = await import('../src/bricks/vision-host.js');
  const { visionPlanBrick } = await import('../src/bricks/plan-bricks.js');
  const { readImageHeader } = await import('../src/preprocess/image.js');
  const { promptForwards } = await import('../src/bricks/lm-brick.js');
  const preset = values['vlm-preset'];
  const dir = values.vlm ?? join(root, '.cache', 'vlm', preset ?? 'smolvlm');
  if (preset && !existsSync(join(dir, 'mmproj.gguf'))) {
    // a random checkpoint with the preset's dims (scripts/reference/make-random-vlm.py PRESETS), written once
    const { execFileSync } = await import('node:child_process');
    log(`[plan-check] writing the ${preset} checkpoint into ${dir}`);
    execFileSync('python3', [join(root, 'scripts', 'reference', 'make-random-vlm.py'), '--family', 'smolvlm', '--preset', preset, '--out', dir, '--seed', '1',
      '--llama-cpp', join(root, '.cache', 'llama.cpp')], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const model = join(dir, 'model.gguf'), mmproj = join(dir, 'mmproj.gguf');
  const images = ['image.png', 'image2.png'].map((f) => join(dir, f));
  for (const f of [model, mmproj, ...images]) if (!existsSync(f)) throw new Error(`${f} missing: run scripts/reference/make-random-vlm.py (see tests/vision)`);
  const cfg = visionConfigFromGGUF(openGGUF(mmproj));
  const gen = Number(values['gen-tokens']);
  const lm: LmBrickSpec = { kind: 'lm', name: 'lm', model, maxTokens: gen, chat: false, contextSize: 2048, image: { projector: cfg.projector, nEmbdOut: cfg.nEmbdOut } };
  const stages: StageSpec[] = [
    { name: 'vision', devices: ['cpu', 'wasm'], create: (d) => createVisionWorkerBrick({ kind: 'vision', name: 'vision', mmproj }, d, { threads: 1 }) },
    { name: 'lm', devices: ['cpu', 'wasm'], create: (d) => createLmBrick(lm, d, { threads: 1 }) },
  ];
  const shape = lmShapeFromGGUF(openGGUF(model));
  const bytes = images.map((f) => new Uint8Array(readFileSync(f)));
  // Every item kind of the stream priced from its own header (size → tiles, host work; file size → hop), then averaged.
  const perImage = await Promise.all(bytes.map((b) => {
    const h = readImageHeader(b);
    return visionPlanBrick(mmproj, { image: { width: h.width, height: h.height, format: h.format, bytes: b.length } });
  }));
  const forwards = perImage.reduce((a, v) => a + promptForwards(v.projector, v.tiles), 0) / perImage.length;
  const vision: PlanBrick = {
    name: 'vision', devices: ['cpu', 'wasm'], cost: meanCost(perImage.map((v) => v.brick.cost)),
    inputBytes: perImage.reduce((a, v) => a + (v.brick.inputBytes ?? 0), 0) / perImage.length,
  };
  log(`[plan-check] vlm: tiles per image ${perImage.map((v) => v.tiles).join(', ')}, prompt forwards ${forwards}`);
  const price = (promptTokens: number): PlanBrick[] => [
    vision,
    { name: 'lm', devices: ['cpu', 'wasm'], cost: lmCost(shape, promptTokens, gen, 2048, { prefillForwards: forwards }) },
  ];
  return {
    stages,
    planBricks: price(64),
    inputs: Array.from({ length: N }, (_, i) => ({
      image: { kind: 'tensor', dtype: 'u8', data: bytes[i % bytes.length]!, shape: [bytes[i % bytes.length]!.length] },
      prompt: { kind: 'text', text: 'Describe the image.' },
    })),
    calibrate: {},
    basePlacement: { vision: 'cpu', lm: 'cpu' },
    // Priced at the prompt positions (text + image rows) the first sequential run observed (a
    // count of tokens, not a time: nothing measured there enters the prediction).
    recost: ({ promptTokens }) => price(Math.round(promptTokens.reduce((a, b) => a + b, 0) / promptTokens.length)),
  };
}

async function suite(name: string, ps: ProfileSet): Promise<Suite> {
  if (name === 'matmul') return matmulSuite();
  if (name === 'ocr-lm') return ocrLmSuite(ps);
  if (name === 'vlm') return vlmSuite();
  throw new Error(`unknown suite ${name} (matmul, ocr-lm, vlm)`);
}

async function profiles(): Promise<ProfileSet> {
  const path = values.profile ?? defaultProfilePath();
  let p: ProfileSet;
  if (existsSync(path)) p = loadProfileSet(path);
  else {
    log(`[plan-check] no profile at ${path}: measuring one`);
    p = await measureProfiles({ log: (l) => log(`[profile] ${l}`) });
    saveProfileSet(p, path);
  }
  return keepDevices(p, values.devices);
}

/** The profile set restricted to the comma-separated `list` (all devices when undefined). */
function keepDevices(p: ProfileSet, list: string | undefined): ProfileSet {
  if (list === undefined) return p;
  const keep = new Set(list.split(',').map((x) => x.trim()).filter(Boolean));
  const unknown = [...keep].filter((d) => !p.devices[d]);
  if (unknown.length) throw new Error(`--devices ${unknown.join(', ')}: not in the profile (devices: ${Object.keys(p.devices).join(', ')})`);
  return {
    ...p, devices: Object.fromEntries(Object.entries(p.devices).filter(([d]) => keep.has(d))),
    transfers: p.transfers.filter((t) => (t.from === 'host' || keep.has(t.from)) && (t.to === 'host' || keep.has(t.to))),
  };
}

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};
/** Untimed runs of the first item before a stream is measured (worker JIT tier-up takes a few items); `--warmup`. */
const WARMUP_RUNS = Number(values.warmup);
const mean = (a: number[]): number => a.reduce((x, y) => x + y, 0) / a.length;

/**
 * Runs the stream once. `msPerItem`: pipelined = wall time / items (throughput); sequential = the
 * mean over items of the item's end-to-end time (Σ of its brick runs, each including the hops
 * to and from its device; the gaps between items, where a loaded machine schedules others, are
 * not counted).
 */
async function measure(s: Suite, placement: Record<string, string>, mode: 'sequential' | 'pipelined'):
  Promise<{ msPerItem: number; wallPerItem: number; brickMs: Record<string, number[]>; promptTokens: number[]; tiles: number[] }> {
  const ex = new PipelineExecutor(s.stages, { placement, mode, depth: 2, log });
  try {
    const r = await ex.runAll(s.inputs, WARMUP_RUNS > 0 ? { warmup: s.inputs[0]!, warmupRuns: WARMUP_RUNS } : {});
    const brickMs: Record<string, number[]> = {};
    for (const it of r.results) for (const [k, v] of Object.entries(it.ms)) (brickMs[k] ??= []).push(v);
    const wallPerItem = r.wallMs / s.inputs.length;
    const perItem = r.results.map((it) => Object.values(it.ms).reduce((a, b) => a + b, 0));
    const promptTokens = r.results.flatMap((it) => {
      const v = it.outputs.prompt_tokens;
      return v && v.kind === 'tensor' ? [Number(v.data[0])] : [];
    });
    const tiles = r.results.flatMap((it) => {
      const g = it.outputs.grid;
      return g && g.kind === 'tensor' ? [Number(g.data[0]) * Number(g.data[1]) > 0 ? Number(g.data[0]) * Number(g.data[1]) + 1 : 1] : [];
    });
    return { msPerItem: mode === 'pipelined' ? wallPerItem : mean(perItem), wallPerItem, brickMs, promptTokens, tiles };
  } finally {
    await ex.dispose();
  }
}

function sameValue(a: PortValue | undefined, b: PortValue | undefined): string {
  if (!a || !b) return a === b ? 'equal' : 'missing';
  if (a.kind === 'text' && b.kind === 'text') return a.text === b.text ? 'equal' : `differs (${JSON.stringify(a.text.slice(0, 40))} vs ${JSON.stringify(b.text.slice(0, 40))})`;
  if ('data' in a && 'data' in b) {
    let d = 0;
    for (let i = 0; i < Math.max(a.data.length, b.data.length); i++) d = Math.max(d, Math.abs(Number(a.data[i] ?? NaN) - Number(b.data[i] ?? NaN)));
    return d === 0 ? 'equal' : `max abs diff ${d}`;
  }
  return 'different kinds';
}

/** Runs `placement` pipelined with `dev` failing after `k` runs; compares with an unfailed run. */
async function killCheck(s: Suite, bricks: PlanBrick[], ps: ProfileSet, placement: Record<string, string>, spec: string): Promise<string[]> {
  const [dev, kStr] = spec.split('@');
  const k = Number(kStr ?? 3);
  const ref = new PipelineExecutor(s.stages, { placement, mode: 'pipelined', log });
  const want = (await ref.runAll(s.inputs)).results;
  await ref.dispose();
  const lines: string[] = [];
  const stages = s.stages.map((st) => ({ ...st, create: async (d: string) => (d === dev ? failAfter(await st.create(d), k) : st.create(d)) }));
  const ex = new PipelineExecutor(stages, { placement, mode: 'pipelined', replan: plannerReplan(bricks, ps), log: (l) => { lines.push(l); log(l); } });
  const got = (await ex.runAll(s.inputs)).results;
  await ex.dispose();
  const out = [`kill ${dev} after ${k} runs: ${got.length}/${want.length} items completed; re-plan log: ${lines.join(' | ') || 'none'}`];
  const last = Object.keys(want[0]?.outputs ?? {});
  let equal = 0;
  for (let i = 0; i < want.length; i++) {
    const cmp = last.map((port) => sameValue(got[i]?.outputs[port], want[i]!.outputs[port]));
    if (cmp.every((c) => c === 'equal')) equal++;
    else out.push(`  item ${i} (devices ${JSON.stringify(got[i]?.devices)}): ${last.map((p, j) => `${p} ${cmp[j]}`).filter((x) => !x.endsWith('equal')).join('; ')}`);
  }
  out.push(`  items whose every output equals the unfailed run's: ${equal}/${want.length}`);
  return out;
}

async function main(): Promise<void> {
  const ps = await profiles();
  const s = await suite(values.suite!, ps);
  // Calibration run (sequential, base placement): measured ms of the opaque bricks.
  let bricks = s.planBricks;
  if (Object.keys(s.calibrate).length || s.recost) {
    const cal = await measure(s, s.basePlacement, 'sequential');
    const calibration: Record<string, Record<string, number>> = {};
    for (const [b, dev] of Object.entries(s.calibrate)) calibration[b] = { [dev]: mean(cal.brickMs[b]!) };
    if (s.recost) bricks = s.recost({ promptTokens: cal.promptTokens, tiles: cal.tiles });
    bricks = bricks.map((b) => (calibration[b.name] ? { ...b, calibratedMs: calibration[b.name]! } : b));
    if (cal.promptTokens.length) log(`[plan-check] prompt tokens per item: ${cal.promptTokens.join(' ')}`);
    log(`[plan-check] calibration (mean ms): ${JSON.stringify(calibration)}`);
    if (values['write-calibration']) writeFileSync(values['write-calibration'], JSON.stringify(calibration, null, 2) + '\n');
  }
  const p = plan(bricks, ps);
  // --only BRICK=DEV,BRICK=DEV (repeatable): measure just those placements (the pick check then
  // compares against the fastest of them)
  const only = (values.only ?? []).map((o) => parsePlace(o));
  const chosen = only.length ? p.candidates.filter((c) => only.some((o) => Object.entries(o).every(([b, d]) => c.placement[b] === d))) : p.candidates;
  const cands: Candidate[] = chosen.slice(0, Number(values['max-candidates']));
  const rows: { placement: string; predicted_ms: number; measured_ms: number; err_pct: number; predicted_stream_ms: number; pipelined_ms: number; sequential_wall_ms: number; speedup: number; brick: Record<string, [number, number]> }[] = [];
  // Rounds: every placement is measured once per round, round-robin, and the per-placement median
  // over rounds is kept, so slow drifts of a shared machine's load hit all placements alike.
  const rounds = Number(values.rounds);
  const meas: { seq: number[]; seqWall: number[]; pip: number[]; brick: Record<string, number[]> }[] = cands.map(() => ({ seq: [], seqWall: [], pip: [], brick: {} }));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < cands.length; i++) {
      const c = cands[i]!;
      const seq = await measure(s, c.placement, 'sequential');
      const pip = values['skip-pipelined'] ? { msPerItem: Number.NaN } : await measure(s, c.placement, 'pipelined');
      const m = meas[i]!;
      m.seq.push(seq.msPerItem);
      m.seqWall.push(seq.wallPerItem);
      m.pip.push(pip.msPerItem);
      for (const b of bricks) (m.brick[b.name] ??= []).push(mean(seq.brickMs[b.name] ?? [0]));
      log(`[plan-check] round ${r + 1}/${rounds} ${bricks.map((b) => `${b.name}=${c.placement[b.name]}`).join(',')}: predicted ${c.predicted_ms.total!.toFixed(1)} ms, measured ${seq.msPerItem.toFixed(1)} ms, pipelined ${pip.msPerItem.toFixed(1)} ms/item`);
    }
  }
  cands.forEach((c, i) => {
    const m = meas[i]!;
    const measured = median(m.seq);
    const brick: Record<string, [number, number]> = {};
    for (const b of bricks) brick[b.name] = [c.predicted_ms[b.name]!, median(m.brick[b.name]!)];
    rows.push({
      placement: bricks.map((b) => `${b.name}=${c.placement[b.name]}`).join(','), predicted_ms: c.predicted_ms.total!, measured_ms: measured,
      err_pct: (100 * (c.predicted_ms.total! - measured)) / measured, predicted_stream_ms: c.stream_ms_per_item, pipelined_ms: median(m.pip),
      sequential_wall_ms: median(m.seqWall), speedup: median(m.seqWall) / median(m.pip), brick,
    });
  });
  const fastest = rows.reduce((a, b) => (b.measured_ms < a.measured_ms ? b : a));
  const pickName = bricks.map((b) => `${b.name}=${p.placement[b.name]}`).join(',');
  const pick = rows.find((r) => r.placement === pickName);
  if (values.json) {
    process.stdout.write(JSON.stringify({ suite: values.suite, items: N, pick: pickName, fastest: fastest.placement, rows }, null, 2) + '\n');
    return;
  }
  const out: string[] = [];
  out.push(`suite ${values.suite}, ${N} items, profile ${ps.created} (${ps.host.cpuModel}, ${ps.host.cpus} cpus); load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  out.push('');
  out.push('| placement | predicted ms/query | measured ms/query (sequential, mean) | error | sequential wall ms/item | predicted ms/item (pipelined) | measured ms/item (pipelined) | speed-up (seq wall / pipelined) |');
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const opt = (x: number, d: number, unit = ''): string => (Number.isFinite(x) ? `${x.toFixed(d)}${unit}` : '–');
  for (const r of rows) {
    out.push(`| ${r.placement}${r.placement === pickName ? ' **(pick)**' : ''} | ${r.predicted_ms.toFixed(1)} | ${r.measured_ms.toFixed(1)} | ${r.err_pct >= 0 ? '+' : ''}${r.err_pct.toFixed(0)}% | ${r.sequential_wall_ms.toFixed(1)} | ${r.predicted_stream_ms.toFixed(1)} | ${opt(r.pipelined_ms, 1)} | ${opt(r.speedup, 2, 'x')} |`);
  }
  out.push('');
  const within = rows.filter((r) => Math.abs(r.err_pct) <= 25).length;
  out.push(`predictions within 25%: ${within}/${rows.length}`);
  if (pick) out.push(`pick ${pickName}: ${pick.measured_ms.toFixed(1)} ms vs measured fastest ${fastest.placement}: ${fastest.measured_ms.toFixed(1)} ms (${(100 * (pick.measured_ms / fastest.measured_ms - 1)).toFixed(1)}% slower)`);
  if (values.kill) {
    out.push('');
    out.push(...(await killCheck(s, bricks, ps, p.placement, values.kill)));
  }
  out.push('');
  out.push('per-brick predicted / measured mean ms, per placement:');
  for (const r of rows) out.push(`  ${r.placement}: ${Object.entries(r.brick).map(([b, [pr, me]]) => `${b} ${pr.toFixed(1)}/${me.toFixed(1)}`).join('  ')}`);
  process.stdout.write(out.join('\n') + '\n');
}

main().then(() => process.exit(0), (e) => {
  process.stderr.write(`plan-check: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
