/**
 * applyChatTemplate on real templates: SmolLM2's GGUF template (ChatML with a default system
 * turn) and the Gemma turn format. The Gemma 3 270M GGUF carries no template, so the Gemma check
 * uses google/gemma-2-2b-it's template from llama.cpp's models/templates (same
 * `<start_of_turn>role … <end_of_turn>` format). Expected strings are written out from the template
 * texts; the rendered prompt must also tokenize to the model's turn tokens.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TokenizerError } from '../../src/core/errors.js';
import { openGGUF } from '../../src/formats/gguf/reader.js';
import { applyChatTemplate, tokenizerFromGGUF } from '../../src/tokenizers/index.js';
import { llamaCppDir, realModel } from './fixtures.js';

const conversation = [
  { role: 'user', content: 'Hi!' },
  { role: 'assistant', content: 'Hello, how can I help?' },
  { role: 'user', content: 'What is 2+2?' },
];

test('SmolLM2 template renders ChatML with its default system prompt', async () => {
  const tok = tokenizerFromGGUF(openGGUF(await realModel('smollm2')).metadata as Map<string, unknown>);
  const tmpl = tok.chatTemplate;
  assert.ok(tmpl);
  const system = '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n';
  const body =
    '<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\nHello, how can I help?<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n';
  assert.equal(applyChatTemplate(tmpl, conversation, { addGenerationPrompt: true }), `${system}${body}<|im_start|>assistant\n`);
  assert.equal(applyChatTemplate(tmpl, conversation, {}), system + body);
  const withSystem = [{ role: 'system', content: 'Be terse.' }, conversation[0]!];
  assert.equal(
    applyChatTemplate(tmpl, withSystem, { addGenerationPrompt: true }),
    '<|im_start|>system\nBe terse.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n',
  );
  // The rendered prompt tokenizes to the control tokens when special tokens are parsed.
  const ids = tok.encode(applyChatTemplate(tmpl, withSystem, { addGenerationPrompt: true }), { parseSpecial: true });
  const imStart = tok.encode('<|im_start|>', { addSpecial: false, parseSpecial: true })[0]!;
  const imEnd = tok.encode('<|im_end|>', { addSpecial: false, parseSpecial: true })[0]!;
  assert.equal(ids.filter((id) => id === imStart).length, 3);
  assert.equal(ids.filter((id) => id === imEnd).length, 2);
  assert.ok(tok.isEog(imEnd));
});

test('Gemma template renders <start_of_turn> turns and rejects a system role', async () => {
  const tmpl = readFileSync(join(await llamaCppDir(), 'models', 'templates', 'google-gemma-2-2b-it.jinja'), 'utf8');
  const out = applyChatTemplate(tmpl, conversation, { addGenerationPrompt: true, bosToken: '<bos>' });
  assert.equal(
    out,
    '<bos><start_of_turn>user\nHi!<end_of_turn>\n<start_of_turn>model\nHello, how can I help?<end_of_turn>\n' +
      '<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n',
  );
  assert.throws(
    () => applyChatTemplate(tmpl, [{ role: 'system', content: 'x' }], {}),
    (e: unknown) => e instanceof TokenizerError && e.code === 'CHAT_TEMPLATE_RENDER' && /System role not supported/.test(e.message),
  );
  const tok = tokenizerFromGGUF(openGGUF(await realModel('gemma3')).metadata as Map<string, unknown>);
  const ids = tok.encode(out, { addSpecial: false, parseSpecial: true });
  assert.equal(ids[0], tok.bos);
  const endOfTurn = tok.encode('<end_of_turn>', { addSpecial: false, parseSpecial: true });
  assert.deepEqual(endOfTurn, [tok.eot]);
  assert.equal(ids.filter((id) => id === tok.eot).length, 3);
  assert.ok(tok.isEog(tok.eot));
});

test('applyChatTemplate reports parse errors as TokenizerError', () => {
  assert.throws(() => applyChatTemplate('{% for %}', [], {}), (e: unknown) => e instanceof TokenizerError && e.code === 'CHAT_TEMPLATE_PARSE');
});
