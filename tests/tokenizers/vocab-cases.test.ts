/**
 * llama.cpp's tokenizer reference cases: every `models/ggml-vocab-<name>.gguf` that has
 * `.inp`/`.out` files, encoded with add_special=false, parse_special=false (exactly what llama.cpp
 * `tests/test-tokenizer-0.cpp` checks). Every case of every supported vocab must match.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openGGUF } from '../../src/formats/gguf/reader.js';
import { tokenizerFromGGUF } from '../../src/tokenizers/index.js';
import { llamaCppVocabDir } from './fixtures.js';
import { listVocabFiles, readVocabCases } from './vocab-files.js';

/** Vocabs we implement (SPM, byte-level BPE with their pre-tokenizers, Gemma 4 BPE). */
const SUPPORTED = [
  'command-r', 'deepseek-coder', 'deepseek-llm', 'falcon', 'gemma-4', 'gpt-2', 'llama-bpe', 'llama-spm', 'mpt', 'phi-3',
  'qwen2', 'qwen35', 'refact', 'starcoder',
];
/** Vocabs with cases whose kind we do not implement (WordPiece). */
const UNSUPPORTED = ['bert-bge'];

test('ggml-vocab reference cases', { timeout: 600_000 }, async (t) => {
  const dir = await llamaCppVocabDir();
  const names = listVocabFiles(dir);
  for (const name of SUPPORTED) assert.ok(names.includes(name), `llama.cpp checkout lacks ggml-vocab-${name}.gguf cases`);
  const unknown = names.filter((n) => !SUPPORTED.includes(n) && !UNSUPPORTED.includes(n));
  assert.deepEqual(unknown, [], 'new vocab files: classify them as supported or not');

  for (const name of names) {
    await t.test(name, { skip: UNSUPPORTED.includes(name) ? 'WordPiece (bert) not implemented' : false }, () => {
      const path = join(dir, `ggml-vocab-${name}.gguf`);
      const tok = tokenizerFromGGUF(openGGUF(path).metadata as Map<string, unknown>);
      const cases = readVocabCases(`${path}.inp`, `${path}.out`);
      assert.ok(cases.length > 0);
      const failures: string[] = [];
      for (const c of cases) {
        const got = tok.encode(c.input, { addSpecial: false, parseSpecial: false });
        if (got.length !== c.expected.length || got.some((id, i) => id !== c.expected[i])) {
          failures.push(`${JSON.stringify(c.input)}: got [${got.join(' ')}] want [${c.expected.join(' ')}]`);
        }
      }
      t.diagnostic(`${name}: ${cases.length - failures.length}/${cases.length} cases pass`);
      assert.deepEqual(failures, [], `${name}: ${failures.length} of ${cases.length} cases differ`);
    });
  }
});
