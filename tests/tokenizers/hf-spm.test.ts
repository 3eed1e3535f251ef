/**
 * tokenizerFromHF on SentencePiece-style tokenizer.json files must tokenize exactly like llama.cpp's
 * SPM tokenizer on the GGUF vocabulary they were made from.
 *
 * Reference pair: the random Gemma-3-style checkpoint of scripts/reference/make-random-vlm.py
 * (.cache/vlm/gemma3): model.gguf carries llama.cpp's models/ggml-vocab-llama-spm.gguf (the Llama-2
 * SentencePiece vocab: scores, token types, <0xNN> byte tokens) plus three CONTROL image tokens, and
 * hf/tokenizer.json is that vocab in the layout `tokenizers` gives Llama-2 (BPE + byte_fallback,
 * merges from transformers' generate_merges over the scores, Prepend/Replace normalizer). The GGUF
 * side is the tokenizer whose ids are checked against llama.cpp itself in llama-parity.test.ts.
 * A second case rebuilds the same vocab as a `Unigram` tokenizer.json (vocab with scores, Metaspace).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TokenizerError } from '../../src/core/errors.js';
import { openGGUF } from '../../src/formats/gguf/reader.js';
import { TokenType, tokenizerFromGGUF, tokenizerFromHF, type Tokenizer } from '../../src/tokenizers/index.js';
import { ensureVlmCheckpoint } from '../vision/vlm-fixtures.js';
import { fixedCorpus, randomCorpus } from './corpus.js';

const SPECIALS = ['<s>', '</s>', '<unk>', '<start_of_image>', '<end_of_image>', '<image_soft_token>'];

function corpus(): string[] {
  const texts = [
    ...fixedCorpus(SPECIALS),
    ...randomCorpus(300, 7),
    // Special tokens glued to text and spaces, around which llama.cpp adds (or not) the space prefix.
    '<start_of_image><image_soft_token><image_soft_token><end_of_image> Describe it.',
    '<s> leading space after BOS text</s>',
    'Text<start_of_image>x<end_of_image>  two spaces',
    ' ',
    '  leading two spaces',
    '\u{10FFFF}\u{E000}\u0000 private use and NUL',
  ];
  texts.push(texts.join('\n'));
  return texts;
}

async function pair(): Promise<{ gguf: Tokenizer; meta: Map<string, unknown>; dir: string }> {
  const dir = await ensureVlmCheckpoint('gemma3');
  const meta = openGGUF(join(dir, 'model.gguf')).metadata as Map<string, unknown>;
  return { gguf: tokenizerFromGGUF(meta), meta, dir };
}

/** Encodes the corpus both ways (special parsing off and on), compares ids and decoded text; returns counts. */
function compareOnCorpus(hf: Tokenizer, gguf: Tokenizer): { n: number; byteTokens: number } {
  assert.equal(hf.kind, 'spm');
  assert.equal(hf.vocabSize, gguf.vocabSize);
  assert.equal(hf.bos, gguf.bos);
  assert.equal(hf.eos, gguf.eos);
  assert.equal(hf.eot, gguf.eot);
  assert.equal(hf.addBos, gguf.addBos);
  assert.equal(hf.addEos, gguf.addEos);
  for (let id = 0; id < gguf.vocabSize; id += 97) assert.equal(hf.isEog(id), gguf.isEog(id));
  let n = 0;
  let byteTokens = 0;
  for (const text of corpus()) {
    for (const parseSpecial of [false, true]) {
      const want = gguf.encode(text, { parseSpecial });
      const got = hf.encode(text, { parseSpecial });
      assert.deepEqual(got, want, `encode(parseSpecial=${parseSpecial}) ${JSON.stringify(text.slice(0, 80))}`);
      assert.equal(hf.decode(got, { renderSpecial: parseSpecial }), gguf.decode(want, { renderSpecial: parseSpecial }));
      for (const id of want) if (gguf.tokenType(id) === TokenType.Byte) byteTokens++;
      n++;
    }
  }
  return { n, byteTokens };
}

test('tokenizer.json (Llama-2 layout: BPE + byte_fallback) matches the GGUF SPM tokenizer', { timeout: 300_000 }, async () => {
  const { gguf, dir } = await pair();
  const tj = JSON.parse(readFileSync(join(dir, 'hf', 'tokenizer.json'), 'utf8')) as { model: { type: string; byte_fallback: boolean } };
  assert.equal(tj.model.type, 'BPE');
  assert.equal(tj.model.byte_fallback, true);
  const cfg = JSON.parse(readFileSync(join(dir, 'hf', 'tokenizer_config.json'), 'utf8')) as object;
  const hf = tokenizerFromHF(tj, cfg);
  const { n, byteTokens } = compareOnCorpus(hf, gguf);
  assert.ok(n > 600, `${n} encodings`);
  assert.ok(byteTokens > 0, 'the corpus must exercise byte fallback');
  // Special tokens are recognised as one id each (parse_special) and stay text otherwise.
  const ids = hf.encode('<start_of_image>hi', { parseSpecial: true });
  assert.equal(ids[1], 32000);
  assert.ok(!hf.encode('<start_of_image>hi').includes(32000));
  // Without tokenizer_config.json, BOS insertion comes from the TemplateProcessing post-processor.
  const bare = tokenizerFromHF(tj);
  assert.equal(bare.addBos, true);
  assert.deepEqual(bare.encode(' Hello world'), gguf.encode(' Hello world'));
});

test('tokenizer.json (Unigram vocab with scores + Metaspace) matches the GGUF SPM tokenizer', { timeout: 300_000 }, async () => {
  const { gguf, meta } = await pair();
  const tokens = meta.get('tokenizer.ggml.tokens') as string[];
  const scores = meta.get('tokenizer.ggml.scores') as Float32Array;
  const types = meta.get('tokenizer.ggml.token_type') as Int32Array;
  const tj = {
    version: '1.0',
    added_tokens: tokens.flatMap((content, id) => (types[id] === TokenType.Control || types[id] === TokenType.Unknown ? [{ id, content, special: true }] : [])),
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: false },
    decoder: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: false },
    model: { type: 'Unigram', unk_id: 0, byte_fallback: true, vocab: tokens.map((t, id) => [t, scores[id]!]) },
  };
  const hf = tokenizerFromHF(tj, { bos_token: '<s>', eos_token: '</s>', add_bos_token: true, add_eos_token: false });
  const { n } = compareOnCorpus(hf, gguf);
  assert.ok(n > 600);
});

test('SentencePiece-style tokenizer.json variants that cannot be mapped get a TokenizerError', () => {
  const code = (c: string) => (e: unknown) => e instanceof TokenizerError && e.code === c;
  const bpe = { type: 'BPE', byte_fallback: true, vocab: { '<unk>': 0, '\u2581': 1, a: 2, '\u2581a': 3 }, merges: ['\u2581 a'] };
  const replace = { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' };
  // A working minimal file first, so the rejections below are about the one changed field.
  const ok = tokenizerFromHF({ model: bpe, normalizer: replace });
  assert.deepEqual(ok.encode(' a a', { addSpecial: false }), [3, 3]);
  assert.throws(() => tokenizerFromHF({ model: bpe, normalizer: { type: 'NFKC' } }), code('TOKENIZER_UNSUPPORTED'));
  assert.throws(() => tokenizerFromHF({ model: bpe, normalizer: null }), code('TOKENIZER_UNSUPPORTED'), 'no ▁ escaping');
  assert.throws(() => tokenizerFromHF({ model: bpe, normalizer: { ...replace, content: '_' } }), code('TOKENIZER_UNSUPPORTED'));
  assert.throws(() => tokenizerFromHF({ model: bpe, normalizer: replace, pre_tokenizer: { type: 'Whitespace' } }), code('TOKENIZER_UNSUPPORTED'));
  assert.throws(() => tokenizerFromHF({ model: bpe, normalizer: replace, decoder: { type: 'WordPiece' } }), code('TOKENIZER_UNSUPPORTED'));
  assert.throws(() => tokenizerFromHF({ model: { ...bpe, merges: ['a b c'] }, normalizer: replace }), code('TOKENIZER_BAD_METADATA'));
  assert.throws(() => tokenizerFromHF({ model: { ...bpe, vocab: { a: -1 } }, normalizer: replace }), code('TOKENIZER_BAD_METADATA'));
  assert.throws(() => tokenizerFromHF({ model: { ...bpe, vocab: {} }, normalizer: replace }), code('TOKENIZER_NO_VOCAB'));
  assert.throws(() => tokenizerFromHF({ model: { type: 'Unigram', vocab: [['a', 'x']] }, normalizer: replace }), code('TOKENIZER_BAD_METADATA'));
  assert.throws(() => tokenizerFromHF({ model: { type: 'WordPiece', vocab: { a: 0 } } }), code('TOKENIZER_UNSUPPORTED'));
});
