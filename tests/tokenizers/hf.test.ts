/**
 * tokenizerFromHF: a Hugging Face tokenizer.json-shaped object built from the SmolLM2 GGUF
 * vocabulary (the layout of HuggingFaceTB/SmolLM2's own tokenizer.json: BPE model, Digits +
 * ByteLevel pre-tokenizers, control added_tokens) must encode and decode exactly like the GGUF
 * tokenizer on a varied corpus.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenizerError } from '../../src/core/errors.js';
import { openGGUF } from '../../src/formats/gguf/reader.js';
import { TokenType, tokenizerFromGGUF, tokenizerFromHF } from '../../src/tokenizers/index.js';
import { fixedCorpus, randomCorpus } from './corpus.js';
import { realModel } from './fixtures.js';

test('tokenizerFromHF matches tokenizerFromGGUF on SmolLM2', { timeout: 300_000 }, async () => {
  const meta = openGGUF(await realModel('smollm2')).metadata as Map<string, unknown>;
  const tokens = meta.get('tokenizer.ggml.tokens') as string[];
  const types = meta.get('tokenizer.ggml.token_type') as Int32Array;
  const merges = meta.get('tokenizer.ggml.merges') as string[];
  const vocab: Record<string, number> = {};
  const added: { id: number; content: string; special: boolean }[] = [];
  tokens.forEach((t, id) => {
    if (types[id] === TokenType.Control) added.push({ id, content: t, special: true });
    else vocab[t] = id;
  });
  const tokenizerJson = {
    version: '1.0',
    added_tokens: added,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Digits', individual_digits: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    // Half the merges as "a b" strings, half as pairs: both serde layouts occur in the wild.
    model: { type: 'BPE', vocab, merges: merges.map((m, i) => (i % 2 ? m : (m.split(' ') as [string, string]))) },
  };
  const config = {
    bos_token: '<|im_start|>',
    eos_token: '<|im_end|>',
    unk_token: '<|endoftext|>',
    clean_up_tokenization_spaces: false,
    chat_template: meta.get('tokenizer.chat_template'),
  };
  const hf = tokenizerFromHF(tokenizerJson, config);
  const gguf = tokenizerFromGGUF(meta);
  assert.equal(hf.vocabSize, gguf.vocabSize);
  assert.equal(hf.bos, gguf.bos);
  assert.equal(hf.eos, gguf.eos);
  assert.equal(hf.eot, gguf.eot);
  assert.equal(hf.addBos, gguf.addBos);
  assert.equal(hf.chatTemplate, gguf.chatTemplate);
  for (let id = 0; id < gguf.vocabSize; id += 101) assert.equal(hf.isEog(id), gguf.isEog(id));
  const texts = [...fixedCorpus(['<|im_start|>', '<|im_end|>', '<|endoftext|>']), ...randomCorpus(300, 3)];
  texts.push(texts.join('\n'));
  let n = 0;
  for (const text of texts) {
    for (const parseSpecial of [false, true]) {
      const a = hf.encode(text, { parseSpecial });
      assert.deepEqual(a, gguf.encode(text, { parseSpecial }), `encode(parseSpecial=${parseSpecial}) ${JSON.stringify(text)}`);
      assert.equal(hf.decode(a, { renderSpecial: parseSpecial }), gguf.decode(a, { renderSpecial: parseSpecial }));
      n++;
    }
  }
  assert.ok(n > 600);
});

test('tokenizerFromHF rejects what it cannot build', () => {
  const code = (c: string) => (e: unknown) => e instanceof TokenizerError && e.code === c;
  assert.throws(() => tokenizerFromHF({}), code('TOKENIZER_NO_VOCAB'));
  assert.throws(() => tokenizerFromHF({ model: { type: 'Unigram', vocab: {} } }), code('TOKENIZER_UNSUPPORTED'));
  assert.throws(
    () => tokenizerFromHF({ model: { type: 'BPE', vocab: { a: 0 }, merges: [] }, pre_tokenizer: { type: 'Metaspace' } }),
    code('TOKENIZER_UNSUPPORTED'),
  );
  assert.throws(() => tokenizerFromHF({ model: { type: 'BPE', vocab: { a: 0 }, merges: [] } }), code('TOKENIZER_UNSUPPORTED'), 'not byte-level');
});

test('tokenizerFromHF: a tiny byte-level BPE with a Split regex merges by rank', () => {
  // Byte chars: 'Ġ' is the GPT-2 spelling of ' '.
  const vocab = { h: 0, e: 1, l: 2, o: 3, 'Ġ': 4, he: 5, ll: 6, llo: 7, hello: 8, 'Ġhello': 9 };
  const tok = tokenizerFromHF({
    model: { type: 'BPE', vocab, merges: ['h e', 'l l', 'll o', 'he llo', 'Ġ hello'] },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" }, behavior: 'Isolated' },
        { type: 'ByteLevel', use_regex: false },
      ],
    },
  });
  assert.deepEqual(tok.encode('hello hello'), [8, 9]);
  assert.deepEqual(tok.encode('hell'), [5, 6]);
  assert.equal(tok.decode([8, 9]), 'hello hello');
});
