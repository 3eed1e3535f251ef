/**
 * Parity with llama.cpp itself (node-llama-cpp's prebuilt binary, vocabulary-only loads) on every
 * supported `ggml-vocab-*.gguf` of the llama.cpp checkout, over a corpus much larger than the
 * `.inp` cases: fixed edge cases plus seeded random strings mixing scripts, whitespace kinds,
 * contractions, digits, emoji and combining marks. Checks encode (plain, parse-special, with
 * BOS/EOS), decode (with and without special rendering), special ids, EOG flags and pieces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openGGUF } from '../../src/formats/gguf/reader.js';
import { tokenizerFromGGUF } from '../../src/tokenizers/index.js';
import { fixedCorpus, randomCorpus } from './corpus.js';
import { llamaCppVocabDir } from './fixtures.js';
import { compareOnCorpus, comparePieces, compareVocabFacts, loadLlamaVocab } from './parity.js';

const VOCABS = [
  'command-r', 'deepseek-coder', 'deepseek-llm', 'falcon', 'gemma-4', 'gpt-2', 'llama-bpe', 'llama-spm', 'mpt', 'phi-3',
  'qwen2', 'qwen35', 'refact', 'starcoder',
];

test('parity with llama.cpp on the ggml-vocab files', { timeout: 900_000 }, async (t) => {
  const dir = await llamaCppVocabDir();
  for (const [i, name] of VOCABS.entries()) {
    await t.test(name, async () => {
      const path = join(dir, `ggml-vocab-${name}.gguf`);
      const ours = tokenizerFromGGUF(openGGUF(path).metadata as Map<string, unknown>);
      const ref = await loadLlamaVocab(path);
      try {
        const specials = [ours.bos, ours.eos, ours.eot].filter((id) => id >= 0).map((id) => ours.tokenText(id));
        const texts = [...fixedCorpus(specials), ...randomCorpus(250, 100 + i)];
        texts.push(texts.join('\n'));
        assert.deepEqual(compareVocabFacts(ours, ref), []);
        const report = compareOnCorpus(ours, ref, texts);
        t.diagnostic(`${name}: ${report.checks - report.failures.length}/${report.checks} checks match llama.cpp`);
        assert.deepEqual(report.failures, []);
        assert.deepEqual(comparePieces(ours, ref, 31), []);
      } finally {
        await ref.dispose();
      }
    });
  }
});
