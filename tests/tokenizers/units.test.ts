/**
 * Unit checks of tokenizer building blocks: llama.cpp's detokenizer space clean-up, the
 * pre-tokenizer regex translation (llama.cpp's whitespace set), the GPT-2 byte table and the heap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanSpaces } from '../../src/tokenizers/base.js';
import { MinHeap } from '../../src/tokenizers/heap.js';
import { compilePattern, preTokenizerFor, splitByRegexes } from '../../src/tokenizers/pretokenizer.js';
import { byteEncode, byteToUnicode, unicodeToByte } from '../../src/tokenizers/unicode.js';

const clean = (s: string) => new TextDecoder().decode(cleanSpaces(new TextEncoder().encode(s)));

test('cleanSpaces follows llama.cpp clean_spaces', () => {
  assert.equal(clean('Hello , world !'), 'Hello, world!');
  assert.equal(clean("it ' s"), "it's");
  assert.equal(clean("he 's here , we 're done , they 'll go , don 't"), "he's here, we're done, they 'll go, don 't");
  assert.equal(clean(''), '');
});

test('pre-tokenizer regexes use the Unicode White_Space set like llama.cpp', () => {
  const gpt2 = preTokenizerFor('gpt-2').patterns.map(compilePattern);
  // U+0085 is whitespace for llama.cpp (JS \s says no); U+FEFF is not (JS \s says yes).
  assert.deepEqual(splitByRegexes('a\u0085\u0085b', gpt2), ['a', '\u0085', '\u0085', 'b']);
  assert.deepEqual(splitByRegexes('a \ufeffb', gpt2), ['a', ' \ufeff', 'b']);
  assert.deepEqual(splitByRegexes("I'm 123 ok", preTokenizerFor('llama-bpe').patterns.map(compilePattern)), ['I', "'m", ' ', '123', ' ok']);
  assert.deepEqual(splitByRegexes('12345', preTokenizerFor('smollm').patterns.map(compilePattern)), ['1', '2', '3', '4', '5']);
  assert.throws(() => preTokenizerFor('nonexistent'));
});

test('GPT-2 byte table is a bijection onto printable characters', () => {
  const t = byteToUnicode();
  assert.equal(new Set(t).size, 256);
  for (let b = 0; b < 256; b++) assert.equal(unicodeToByte(t[b]!), b);
  assert.equal(t[0x20], '\u0120');
  assert.equal(byteEncode(' é'), '\u0120\u00c3\u00a9');
});

test('MinHeap pops in order', () => {
  const h = new MinHeap<number>((a, b) => a < b);
  for (const x of [5, 1, 4, 1, 9, 2, 6]) h.push(x);
  const out: number[] = [];
  for (let x = h.pop(); x !== undefined; x = h.pop()) out.push(x);
  assert.deepEqual(out, [1, 1, 2, 4, 5, 6, 9]);
});
