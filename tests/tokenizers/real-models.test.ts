/**
 * Tokenizer parity with llama.cpp (node-llama-cpp, vocabulary-only load) on the two real models:
 * SmolLM2-135M-Instruct (byte-level BPE, pre "smollm") and Gemma 3 270M (SentencePiece-style,
 * 262k tokens). Encode with/without special parsing and BOS, decode with/without special
 * rendering, special ids, EOG flags and token pieces. Also: missing/unsupported vocabulary errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openGGUF } from '../../src/formats/gguf/reader.js';
import { TokenizerError } from '../../src/core/errors.js';
import { tokenizerFromGGUF, type Tokenizer } from '../../src/tokenizers/index.js';
import { fixedCorpus, randomCorpus } from './corpus.js';
import { realModel } from './fixtures.js';
import { compareOnCorpus, comparePieces, compareVocabFacts, loadLlamaVocab } from './parity.js';

for (const key of ['smollm2', 'gemma3'] as const) {
  test(`real model ${key}: tokenizer matches llama.cpp`, { timeout: 600_000 }, async (t) => {
    const path = await realModel(key);
    const meta = openGGUF(path).metadata as Map<string, unknown>;
    const ours: Tokenizer = tokenizerFromGGUF(meta);
    const ref = await loadLlamaVocab(path);
    try {
      assert.equal(ours.kind, key === 'smollm2' ? 'bpe' : 'spm');
      assert.deepEqual(compareVocabFacts(ours, ref), []);
      const specials = key === 'smollm2' ? ['<|im_start|>', '<|im_end|>', '<|endoftext|>'] : ['<start_of_turn>', '<end_of_turn>', '<bos>'];
      const texts = [...fixedCorpus(specials), ...randomCorpus(300, key === 'smollm2' ? 7 : 11)];
      const long = texts.join('\n');
      const t0 = performance.now();
      const longIds = ours.encode(long, { parseSpecial: true });
      const ms = performance.now() - t0;
      t.diagnostic(`${key}: ${long.length} chars → ${longIds.length} tokens in ${ms.toFixed(1)} ms (first call)`);
      const report = compareOnCorpus(ours, ref, [...texts, long]);
      t.diagnostic(`${key}: ${report.checks - report.failures.length}/${report.checks} encode/decode checks match llama.cpp`);
      assert.deepEqual(report.failures, []);
      const specialIds = [ours.bos, ours.eos, ours.eot].filter((id) => id >= 0);
      assert.deepEqual(comparePieces(ours, ref, key === 'smollm2' ? 7 : 97, specialIds), []);
    } finally {
      await ref.dispose();
    }
  });
}

test('real model smollm2: special tokens and chat text', async () => {
  const ours = tokenizerFromGGUF(openGGUF(await realModel('smollm2')).metadata as Map<string, unknown>);
  const imStart = ours.encode('<|im_start|>', { addSpecial: false, parseSpecial: true });
  assert.deepEqual(imStart, [1]);
  assert.notDeepEqual(ours.encode('<|im_start|>', { addSpecial: false }), [1], 'without parseSpecial the text is plain');
  assert.ok(ours.isEog(2), '<|im_end|> ends generation');
  assert.ok(ours.isEog(0), '<|endoftext|> ends generation');
  assert.ok(!ours.isEog(1));
  assert.equal(ours.eot, 2, 'EOT is the end-of-turn token <|im_end|>');
  const hello = ours.encode('Hello', { addSpecial: false });
  assert.equal(hello.length, 1);
  assert.equal(ours.tokenText(hello[0]!), 'Hello');
  assert.equal(ours.decode([1, ...hello, 2]), 'Hello', 'control tokens are not rendered by default');
  assert.equal(ours.decode([1, ...hello, 2], { renderSpecial: true }), '<|im_start|>Hello<|im_end|>');
  assert.deepEqual(Array.from(ours.tokenBytes(2)), []);
  assert.deepEqual(Array.from(ours.tokenBytes(2, true)), Array.from(Buffer.from('<|im_end|>')));
});

test('GGUF token texts keep a leading U+FEFF (Gemma 3 has a BOM token)', async () => {
  // A UTF-8 decoder that strips the BOM turns token "\uFEFF" into "" and "\uFEFF<?" into a duplicate
  // of "<?", which breaks tokenization of those texts (src/formats/gguf/reader.ts must decode
  // strings with TextDecoder's ignoreBOM: true).
  const tokens = openGGUF(await realModel('gemma3')).metadata.get('tokenizer.ggml.tokens') as string[];
  assert.equal(tokens.filter((t) => t === '').length, 0, 'GGUF reader stripped a byte-order mark from a token text');
  assert.ok(tokens.includes('\uFEFF'));
});

test('tokenizerFromGGUF: missing vocabulary and unsupported models throw TokenizerError', () => {
  const err = (code: string) => (e: unknown) => e instanceof TokenizerError && e.code === code;
  assert.throws(() => tokenizerFromGGUF(new Map()), err('TOKENIZER_NO_VOCAB'));
  assert.throws(() => tokenizerFromGGUF(new Map<string, unknown>([['tokenizer.ggml.model', 'gpt2']])), err('TOKENIZER_NO_VOCAB'));
  const tokens = ['a', 'b', 'ab'];
  assert.throws(
    () => tokenizerFromGGUF(new Map<string, unknown>([['tokenizer.ggml.model', 'rwkv'], ['tokenizer.ggml.tokens', tokens]])),
    err('TOKENIZER_UNSUPPORTED'),
  );
  assert.throws(
    () => tokenizerFromGGUF(new Map<string, unknown>([['tokenizer.ggml.model', 'gpt2'], ['tokenizer.ggml.pre', 'no-such-pre'], ['tokenizer.ggml.tokens', tokens], ['tokenizer.ggml.merges', ['a b']]])),
    err('TOKENIZER_UNSUPPORTED'),
  );
  assert.throws(
    () => tokenizerFromGGUF(new Map<string, unknown>([['tokenizer.ggml.model', 'gpt2'], ['tokenizer.ggml.tokens', tokens]])),
    err('TOKENIZER_NO_MERGES'),
  );
});
