/**
 * `synflux inspect --json` on the real fixtures, checked against node-llama-cpp's own GGUF
 * parser (`readGgufFileInfo`, the metadata behind `LlamaModel.fileInfo`): architecture,
 * hyperparameters, tokenizer ids and every tensor's name, ggml type and dims.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cliCommand, repoRoot } from './root.js';

const root = repoRoot(import.meta.url);
const FIXTURES = ['SmolLM2-135M-Instruct.Q4_1.gguf', 'gemma-3-270m-q4_k_m.gguf'];

interface Report {
  version: number;
  architecture: string;
  tensorCount: number;
  hyperparameters: Record<string, string | number | boolean>;
  tokenizer: { model: string; pre: string; vocabSize?: number; bos?: number; eos?: number; error?: string };
  tensors: { name: string; type: string; dims: number[]; bytes: number }[];
}

function inspectJson(path: string): Report {
  const [node, args] = cliCommand(root);
  const r = spawnSync(node, [...args, 'inspect', path, '--json'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Report; // stdout must be exactly one JSON document
}

/** Flattens node-llama-cpp's nested architecture metadata ({attention: {head_count}}) to dotted keys. */
function flatten(o: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(o)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, `${prefix}${k}.`, out);
    else out[`${prefix}${k}`] = v;
  }
  return out;
}

for (const name of FIXTURES) {
  const path = join(root, '.cache/models', name);
  test(`inspect --json matches node-llama-cpp on ${name}`, async (t) => {
    if (!existsSync(join(root, 'src/formats/gguf/inspect.ts'))) return t.skip('src/formats/gguf/inspect.ts does not exist yet');
    if (!existsSync(path)) return t.skip(`fixture ${name} not fetched (node scripts/fetch-fixtures.mjs)`);
    const { readGgufFileInfo, GgmlType } = await import('node-llama-cpp');
    const ref = await readGgufFileInfo(path, { readTensorInfo: true });
    const meta = ref.metadata as unknown as Record<string, Record<string, unknown>>;
    const arch = (meta.general as { architecture: string }).architecture;
    const rep = inspectJson(path);

    assert.equal(rep.version, ref.version);
    assert.equal(rep.architecture, arch);
    assert.equal(rep.tensorCount, Number(ref.totalTensorCount));
    // Every numeric/bool/string hyperparameter node-llama-cpp reads for the architecture.
    const hp = flatten(meta[arch]!);
    assert.ok(Object.keys(hp).length >= 6);
    for (const key of ['block_count', 'embedding_length', 'context_length', 'feed_forward_length', 'attention.head_count']) {
      assert.ok(key in hp, `node-llama-cpp lacks ${key}`);
    }
    for (const [k, v] of Object.entries(hp)) {
      if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') assert.equal(rep.hyperparameters[k], v, k);
    }
    // Tokenizer.
    const tok = flatten(meta.tokenizer!);
    assert.equal(rep.tokenizer.model, tok['ggml.model']);
    assert.equal(rep.tokenizer.pre, tok['ggml.pre'] ?? null);
    if (rep.tokenizer.error === undefined) {
      assert.equal(rep.tokenizer.vocabSize, (tok['ggml.tokens'] as unknown[]).length);
      assert.equal(rep.tokenizer.bos, tok['ggml.bos_token_id']);
      assert.equal(rep.tokenizer.eos, tok['ggml.eos_token_id']);
    }
    // Tensor table: same names in the same order, same ggml types and dims.
    const tensors = ref.fullTensorInfo ?? ref.tensorInfo ?? [];
    assert.equal(rep.tensors.length, tensors.length);
    tensors.forEach((x, i) => {
      const mine = rep.tensors[i]!;
      assert.equal(mine.name, x.name);
      assert.equal(mine.type, GgmlType[x.ggmlType], x.name);
      assert.deepEqual(mine.dims, x.dimensions.map(Number), x.name);
      assert.ok(mine.bytes > 0);
    });
  });
}

test('inspect (text) prints the sections; a non-GGUF file fails with a typed error', (t) => {
  const path = join(root, '.cache/models', FIXTURES[0]!);
  if (!existsSync(join(root, 'src/formats/gguf/inspect.ts'))) return t.skip('src/formats/gguf/inspect.ts does not exist yet');
  const [node, args] = cliCommand(root);
  if (existsSync(path)) {
    const r = spawnSync(node, [...args, 'inspect', path], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^architecture\s+llama$/m);
    assert.match(r.stdout, /^\s+block_count\s+30$/m);
    assert.match(r.stdout, /^\s+vocab\s+49152$/m);
    assert.match(r.stdout, /^\s+token_embd\.weight\s+Q8_0\s+\[576, 49152\]\s+30081024$/m);
  }
  const bad = spawnSync(node, [...args, 'inspect', join(root, 'package.json')], { cwd: root, encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /^error: .+ \([A-Z_]+\)$/m);
});
