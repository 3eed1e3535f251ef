import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parseGenerationOptions, parseModelOptions, parseIntOption, parseNumberOption } from '../../src/cli/options.js';
import { formatError, debugEnabled } from '../../src/cli/errors.js';
import { parseChatInput } from '../../src/cli/chat.js';
import { runJson } from '../../src/cli/run.js';
import { RequestError, ModelFormatError } from '../../src/core/errors.js';
import { cliCommand, repoRoot } from './root.js';

const badOption = (re: RegExp) => (e: unknown) => e instanceof RequestError && e.code === 'BAD_OPTION' && re.test(e.message);

test('valid generation options are parsed to numbers; absent ones stay absent', () => {
  assert.deepEqual(parseGenerationOptions({}), {});
  assert.deepEqual(
    parseGenerationOptions({ maxTokens: '64', temperature: '0', topK: '1', topP: '0.9', minP: '0', repeatPenalty: '1.1', repeatLastN: '-1', seed: '42', stop: ['\n\n', 'User:'] }),
    { maxTokens: 64, temperature: 0, topK: 1, topP: 0.9, minP: 0, repeatPenalty: 1.1, repeatLastN: -1, seed: 42, stop: ['\n\n', 'User:'] },
  );
  assert.deepEqual(parseGenerationOptions({ maxTokens: '-1', seed: '-1', topP: '1', minP: '1' }), { maxTokens: -1, topP: 1, minP: 1 });
  assert.equal(parseGenerationOptions({ seed: '4294967295' }).seed, 4294967295);
});

test('out-of-range or malformed generation options throw RequestError naming the flag', () => {
  assert.throws(() => parseGenerationOptions({ maxTokens: '-5' }), badOption(/--max-tokens must be an integer ≥ -1/));
  assert.throws(() => parseGenerationOptions({ maxTokens: '12abc' }), badOption(/--max-tokens must be an integer/));
  assert.throws(() => parseGenerationOptions({ maxTokens: '1.5' }), badOption(/--max-tokens/));
  assert.throws(() => parseGenerationOptions({ topP: '1.5' }), badOption(/--top-p must be in \[0, 1\], got "1.5"/));
  assert.throws(() => parseGenerationOptions({ topP: '-0.1' }), badOption(/--top-p/));
  assert.throws(() => parseGenerationOptions({ minP: '2' }), badOption(/--min-p/));
  assert.throws(() => parseGenerationOptions({ topK: '-1' }), badOption(/--top-k/));
  assert.throws(() => parseGenerationOptions({ temperature: 'hot' }), badOption(/--temperature must be a number/));
  assert.throws(() => parseGenerationOptions({ temperature: 'Infinity' }), badOption(/--temperature/));
  assert.throws(() => parseGenerationOptions({ temperature: '' }), badOption(/--temperature/));
  assert.throws(() => parseGenerationOptions({ repeatPenalty: '0' }), badOption(/--repeat-penalty must be > 0/));
  assert.throws(() => parseGenerationOptions({ repeatLastN: '-2' }), badOption(/--repeat-last-n/));
  assert.throws(() => parseGenerationOptions({ seed: '4294967296' }), badOption(/--seed/));
  assert.throws(() => parseGenerationOptions({ seed: '-2' }), badOption(/--seed/));
  assert.throws(() => parseGenerationOptions({ stop: ['ok', ''] }), badOption(/--stop must not be empty/));
});

test('model options', () => {
  assert.deepEqual(parseModelOptions({}), {});
  assert.deepEqual(parseModelOptions({ model: 'm.gguf', threads: '4', ctxSize: '2048' }), { model: 'm.gguf', threads: 4, contextSize: 2048 });
  assert.throws(() => parseModelOptions({ threads: '0' }), badOption(/--threads/));
  assert.throws(() => parseModelOptions({ ctxSize: '-8' }), badOption(/--ctx-size/));
  assert.throws(() => parseModelOptions({ model: ' ' }), badOption(/--model/));
  assert.equal(parseIntOption('--n', ' +7 '), 7);
  assert.equal(parseNumberOption('--x', '1e-3'), 0.001);
});

test('errors are printed as "error: message (CODE)", stack only in debug', () => {
  const e = new ModelFormatError('GGUF_BAD_MAGIC', 'not a GGUF file');
  assert.equal(formatError(e, false), 'error: not a GGUF file (GGUF_BAD_MAGIC)');
  assert.match(formatError(e, true), /^error: not a GGUF file \(GGUF_BAD_MAGIC\)\n.*ModelFormatError/s);
  const sys = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
  assert.equal(formatError(sys, false), 'error: ENOENT: no such file (ENOENT)');
  assert.equal(formatError('boom', false), 'error: boom');
  assert.equal(debugEnabled({ SYNFLUX_DEBUG: '1' }), true);
  assert.equal(debugEnabled({}), false);
});

test('chat input lines', () => {
  assert.deepEqual(parseChatInput(' /exit '), { kind: 'exit' });
  assert.deepEqual(parseChatInput('/reset'), { kind: 'reset' });
  assert.deepEqual(parseChatInput('   '), { kind: 'empty' });
  assert.deepEqual(parseChatInput('/foo'), { kind: 'unknown', command: '/foo' });
  assert.deepEqual(parseChatInput('/usr/bin is a path'), { kind: 'message', text: '/usr/bin is a path' });
});

test('--json object shape', () => {
  const j = runJson({
    text: 'hi', tokens: [1, 2], promptTokens: 3, finishReason: 'eog', seed: 5,
    timings: { prefillMs: 10.12345, decodeMs: 20, sampleMs: 1, prefillTokS: 300, decodeTokS: 50, prefillTokens: 3, decodeTokens: 1 },
  }, 99.5);
  assert.deepEqual(j, {
    text: 'hi', tokens: 2, prompt_tokens: 3, token_ids: [1, 2], finish_reason: 'eog', seed: 5,
    timings: { load_ms: 99.5, prefill_ms: 10.123, decode_ms: 20, prefill_tok_s: 300, decode_tok_s: 50, total_ms: 130.623 },
  });
});

test('CLI process: a bad option exits 1 with "error: …" on stderr, nothing on stdout, no stack trace', () => {
  const root = repoRoot(import.meta.url);
  const [node, args] = cliCommand(root);
  const r = spawnSync(node, [...args, 'run', '--prompt', 'x', '--top-p', '2'], { cwd: root, encoding: 'utf8', env: { ...process.env, SYNFLUX_DEBUG: '' } });
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^error: --top-p must be in \[0, 1\], got "2" \(BAD_OPTION\)$/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const m = spawnSync(node, [...args, 'run', '--prompt', 'x', '--model', '/nonexistent/model.gguf'], { cwd: root, encoding: 'utf8' });
  assert.equal(m.status, 1);
  assert.match(m.stderr, /error: model file not found: \/nonexistent\/model.gguf \(from --model\) \(MODEL_NOT_FOUND\)/);
});
