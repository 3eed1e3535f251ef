/**
 * `quantizeModel` (synflux quantize) against llama.cpp's own quantizer, per tensor: same target
 * type and the same bytes.
 *
 * 1. Direct: runs .cache/llama.cpp/build/bin/llama-quantize (built by
 *    scripts/reference/build-llama-cpp.sh; CI does NOT build it, so there this test skips and says
 *    so) on two synthetic F32 llama checkpoints (tests/quant/synthetic-model.ts: rows of 256 so the
 *    K-quant mixes apply, and rows of 96 so the fallbacks apply) for every supported type, and on
 *    SmolLM2-135M Q4_1 (requantized to Q8_0 and Q4_K_M, --allow-requantize).
 * 2. Golden (runs in CI): the per-tensor types and SHA-256 prefixes llama-quantize produced for the
 *    synthetic checkpoints, recorded by scripts/reference/make-quant-golden.sh (which runs test 1
 *    with SYNFLUX_UPDATE_QUANT_GOLDEN=1) into tests/quant/golden/llama-quantize.json.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { typeName } from '../../src/core/ggml-type.js';
import { openGGUF } from '../../src/formats/gguf/reader.js';
import { quantizeModel } from '../../src/quant/quantize-model.js';
import type { QuantFtypeName } from '../../src/quant/tensor-type.js';
import { repoRoot } from '../helpers/paths.js';
import { NARROW, WIDE, writeSyntheticModel, type SyntheticSpec } from './synthetic-model.js';

const TYPES: QuantFtypeName[] = ['Q8_0', 'Q4_0', 'Q4_1', 'Q4_K_M', 'Q5_K_M', 'Q6_K', 'F16'];
const MODELS: [string, SyntheticSpec][] = [['wide', WIDE], ['narrow', NARROW]];
const LLAMA_QUANTIZE = join(repoRoot(), '.cache', 'llama.cpp', 'build', 'bin', 'llama-quantize');
const GOLDEN = join(repoRoot(), 'tests', 'quant', 'golden', 'llama-quantize.json');
const SMOLLM2 = join(repoRoot(), '.cache', 'models', 'SmolLM2-135M-Instruct.Q4_1.gguf');

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'synflux-quant-'));
  for (const [name, spec] of MODELS) writeSyntheticModel(join(dir, `${name}.gguf`), spec);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** "name TYPE sha256[0:16]" per tensor, in file order. */
function summary(path: string): string[] {
  const f = openGGUF(path);
  return f.tensors.map((t) => `${t.name} ${typeName(t.type)} ${createHash('sha256').update(f.tensorData(t)).digest('hex').slice(0, 16)}`);
}

/** Asserts same tensor names, types and bytes (ours vs llama-quantize's file). */
function assertSameTensors(ours: string, ref: string, label: string): void {
  const a = openGGUF(ours);
  const b = openGGUF(ref);
  assert.deepEqual(a.tensors.map((t) => t.name), b.tensors.map((t) => t.name), `${label}: tensor names/order`);
  for (const tb of b.tensors) {
    const ta = a.tensor(tb.name)!;
    assert.equal(typeName(ta.type), typeName(tb.type), `${label}: ${tb.name} type`);
    const x = a.tensorData(ta);
    const y = b.tensorData(tb);
    assert.equal(x.length, y.length, `${label}: ${tb.name} size`);
    const d = Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.length), Buffer.from(y.buffer, y.byteOffset, y.length));
    if (d !== 0) {
      let i = 0;
      while (x[i] === y[i]) i++;
      assert.fail(`${label}: ${tb.name} (${typeName(tb.type)}) bytes differ from byte ${i}`);
    }
  }
}

function runLlamaQuantize(src: string, out: string, type: string, requant: boolean): void {
  execFileSync(LLAMA_QUANTIZE, [...(requant ? ['--allow-requantize'] : []), src, out, type, '1'], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
}

test('same tensor types and bytes as llama-quantize (synthetic F32 checkpoints, every type)', (t) => {
  if (!existsSync(LLAMA_QUANTIZE)) {
    return t.skip(`llama-quantize not built (${LLAMA_QUANTIZE}); build it with scripts/reference/build-llama-cpp.sh. CI does not build it: there the golden test below covers this`);
  }
  const golden: Record<string, string[]> = {};
  for (const [name] of MODELS) {
    for (const type of TYPES) {
      const src = join(dir, `${name}.gguf`);
      const ref = join(dir, `${name}-ref-${type}.gguf`);
      const ours = join(dir, `${name}-ours-${type}.gguf`);
      runLlamaQuantize(src, ref, type, false);
      quantizeModel(src, ours, type);
      assertSameTensors(ours, ref, `${name} ${type}`);
      golden[`${name} ${type}`] = summary(ref);
    }
  }
  if (process.env.SYNFLUX_UPDATE_QUANT_GOLDEN === '1') writeFileSync(GOLDEN, `${JSON.stringify(golden, null, 0).replace(/\],"/g, '],\n"')}\n`);
});

test('same tensor types and bytes as llama-quantize requantizing SmolLM2-135M Q4_1 to Q8_0 and Q4_K_M', (t) => {
  if (!existsSync(LLAMA_QUANTIZE)) return t.skip(`llama-quantize not built (${LLAMA_QUANTIZE}); CI does not build it`);
  if (!existsSync(SMOLLM2)) return t.skip(`${SMOLLM2} missing (node scripts/fetch-fixtures.mjs smollm2)`);
  for (const type of ['Q8_0', 'Q4_K_M'] as const) {
    const ref = join(dir, `smollm2-ref-${type}.gguf`);
    const ours = join(dir, `smollm2-ours-${type}.gguf`);
    runLlamaQuantize(SMOLLM2, ref, type, true);
    quantizeModel(SMOLLM2, ours, type, { allowRequantize: true });
    assertSameTensors(ours, ref, `SmolLM2 ${type}`);
    rmSync(ref);
    rmSync(ours);
  }
});

test('per-tensor types and SHA-256 match the recorded llama-quantize golden (runs without llama-quantize)', () => {
  const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as Record<string, string[]>;
  for (const [name] of MODELS) {
    for (const type of TYPES) {
      const key = `${name} ${type}`;
      assert.ok(golden[key], `golden has no entry for ${key} (regenerate with scripts/reference/make-quant-golden.sh)`);
      const ours = join(dir, `${name}-golden-${type}.gguf`);
      quantizeModel(join(dir, `${name}.gguf`), ours, type);
      assert.deepEqual(summary(ours), golden[key], key);
      rmSync(ours);
    }
  }
});
