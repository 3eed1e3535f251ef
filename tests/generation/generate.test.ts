import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generate, generateText, tokenizeRequest, type GenerateEvent, type ChatMessage } from '../../src/generation/generate.js';
import { RequestError } from '../../src/core/errors.js';
import { scriptedLM, noisyLM, fakeTokenizer, EOS, EOT, BOS, ASSISTANT } from './fakes.js';

const greedy = { temperature: 0 } as const;
const P = 'hi<|assistant|>'; // prompt ending in the marker after which the scripted fake speaks
const raw = { prompt: P, parseSpecial: true, ...greedy };

async function collect(it: AsyncGenerator<GenerateEvent>): Promise<GenerateEvent[]> {
  const out: GenerateEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}
function doneOf(evs: GenerateEvent[]) {
  const d = evs.at(-1)!;
  assert.equal(d.type, 'done');
  return d as Extract<GenerateEvent, { type: 'done' }>;
}
function streamed(evs: GenerateEvent[]): string {
  return evs.map((e) => (e.type === 'done' ? '' : e.text)).join('');
}

test('greedy generation until EOG: streamed text equals final text, EOG not included', async () => {
  const m = scriptedLM('Hello, world');
  const evs = await collect(generate(m, raw));
  const d = doneOf(evs);
  assert.equal(d.text, 'Hello, world');
  assert.equal(streamed(evs), d.text);
  assert.equal(d.finishReason, 'eog');
  assert.equal(d.tokens.length, 12);
  assert.ok(!d.tokens.includes(EOT));
  assert.equal(d.promptTokens, 1 + 2 + 1); // BOS h i <|assistant|>
  // Prefill once with the whole prompt, then one forward per generated token (the EOG is not forwarded).
  assert.equal(m.calls, 1 + 12);
  assert.equal(m.forwarded, 4 + 12);
  assert.equal(d.timings.prefillTokens, 4);
  assert.equal(d.timings.decodeTokens, 12);
  assert.ok(d.timings.prefillMs >= 0 && d.timings.decodeMs >= 0 && d.timings.decodeTokS >= 0);
});

test('EOS also ends generation (isEog)', async () => {
  const d = await generateText(scriptedLM('ab', { end: EOS }), raw);
  assert.equal(d.finishReason, 'eog');
  assert.equal(d.text, 'ab');
});

test('maxTokens caps generation with finishReason length; maxTokens 0 forwards nothing', async () => {
  const m = scriptedLM('abcdefgh');
  const d = await generateText(m, { ...raw, maxTokens: 3 });
  assert.equal(d.text, 'abc');
  assert.equal(d.finishReason, 'length');
  assert.equal(m.forwarded, 4 + 2); // the last sampled token is not forwarded
  const z = scriptedLM('abc');
  const d0 = await generateText(z, { ...raw, maxTokens: 0 });
  assert.equal(d0.text, '');
  assert.equal(d0.finishReason, 'length');
  assert.equal(z.forwarded, 0);
  await assert.rejects(generateText(z, { ...raw, maxTokens: -2 }), RequestError);
  await assert.rejects(generateText(z, { ...raw, maxTokens: 1.5 }), RequestError);
});

test('stop string across token boundaries: excluded from text, held while partial', async () => {
  const m = scriptedLM('Hello World. STOP here');
  const evs = await collect(generate(m, { ...raw, stop: ['STOP'] }));
  const d = doneOf(evs);
  assert.equal(d.text, 'Hello World. ');
  assert.equal(d.finishReason, 'stop');
  assert.equal(d.stopString, 'STOP');
  assert.equal(streamed(evs), 'Hello World. ');
  assert.equal(d.tokens.length, 'Hello World. STOP'.length);
  const texts = evs.filter((e) => e.type === 'token').map((e) => e.text);
  assert.deepEqual(texts.slice(-4), ['', '', '', '']); // S, T, O, P held then dropped
});

test('a held stop prefix is released at the end of generation', async () => {
  const evs = await collect(generate(scriptedLM('abc ST'), { ...raw, stop: ['STOP'] }));
  const d = doneOf(evs);
  assert.equal(d.text, 'abc ST');
  assert.equal(d.finishReason, 'eog');
  assert.equal(streamed(evs), 'abc ST');
  assert.deepEqual(evs.at(-2), { type: 'text', text: 'ST' });
});

test('UTF-8 characters split over byte tokens are emitted only when complete', async () => {
  const evs = await collect(generate(scriptedLM('é😀!'), raw));
  const texts = evs.filter((e) => e.type === 'token').map((e) => e.text);
  assert.deepEqual(texts, ['', 'é', '', '', '', '😀', '!']);
  assert.equal(doneOf(evs).text, 'é😀!');
});

test('a stop string containing a multi-byte char', async () => {
  const d = await generateText(scriptedLM('price: 5€ only'), { ...raw, stop: ['€'] });
  assert.equal(d.text, 'price: 5');
  assert.equal(d.finishReason, 'stop');
});

test('context overflow: prompt alone too long → RequestError; generation capped at the context end', async () => {
  const long = scriptedLM('x', { nCtx: 8 });
  await assert.rejects(generateText(long, { prompt: 'this prompt is too long', ...greedy }),
    (e: unknown) => e instanceof RequestError && e.code === 'CONTEXT_OVERFLOW' && /context holds 8/.test(e.message));
  assert.equal(long.forwarded, 0);
  const m = scriptedLM('abcdefgh', { nCtx: 6 }); // prompt 4 tokens → positions 4, 5 free
  const d = await generateText(m, { ...raw, maxTokens: 100 });
  assert.equal(d.finishReason, 'length');
  assert.equal(d.text, 'abc'); // a, b forwarded into the last two slots; c sampled from the last logits
  assert.equal(m.nPast, 6);
});

test('abort: signal fired mid-stream ends with finishReason abort; pre-aborted does no work', async () => {
  const m = scriptedLM('abcdefghijklmnop');
  const ac = new AbortController();
  const evs: GenerateEvent[] = [];
  for await (const e of generate(m, { ...raw, signal: ac.signal })) {
    evs.push(e);
    if (e.type === 'token' && e.text === 'c') ac.abort();
  }
  const d = doneOf(evs);
  assert.equal(d.finishReason, 'abort');
  assert.equal(d.text, 'abc');
  const ac2 = new AbortController();
  ac2.abort();
  const m2 = scriptedLM('abc');
  const d2 = await generateText(m2, { ...raw, signal: ac2.signal });
  assert.equal(d2.finishReason, 'abort');
  assert.equal(m2.forwarded, 0);
});

test('abort from a timer fires between tokens (the loop yields to the event loop)', async () => {
  const m = noisyLM();
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 20);
  const d = await generateText(m, { prompt: 'go', maxTokens: -1, signal: ac.signal, seed: 1 });
  assert.equal(d.finishReason, 'abort');
  assert.ok(d.tokens.length > 0 && d.tokens.length < 500);
});

test('seed reproducibility through the loop; different seeds differ; seed is reported', async () => {
  const opts = { prompt: 'go', maxTokens: 40, temperature: 1, topK: 0, topP: 1, minP: 0 };
  const a = await generateText(noisyLM(), { ...opts, seed: 7 });
  const b = await generateText(noisyLM(), { ...opts, seed: 7 });
  const c = await generateText(noisyLM(), { ...opts, seed: 8 });
  assert.deepEqual(a.tokens, b.tokens);
  assert.notDeepEqual(a.tokens, c.tokens);
  assert.equal(a.seed, 7);
  const r = await generateText(noisyLM(), { ...opts, maxTokens: 2 });
  assert.ok(Number.isInteger(r.seed));
});

test('without a cache the KV cache is cleared before each request', async () => {
  const m = scriptedLM('ok');
  await generateText(m, raw);
  await generateText(m, raw);
  assert.deepEqual(m.truncations, [0, 0]);
  assert.equal(m.forwarded, 2 * (4 + 2));
});

test('tokenizeRequest: raw vs parseSpecial, chat formatting strips a template BOS, argument errors', async () => {
  const tok = fakeTokenizer();
  assert.deepEqual(await tokenizeRequest(tok, { prompt: '<|assistant|>' }), [BOS, ...new TextEncoder().encode('<|assistant|>')]);
  assert.deepEqual(await tokenizeRequest(tok, { prompt: '<|assistant|>', parseSpecial: true }), [BOS, ASSISTANT]);
  const fmt = (ms: readonly ChatMessage[]) => '<s>' + ms.map((m) => `<|${m.role}|>${m.content}<|end|>`).join('') + '<|assistant|>';
  const ids = await tokenizeRequest(tok, { prompt: 'yo', chat: true, chatFormatter: fmt });
  assert.deepEqual(ids.slice(0, 2), [BOS, 260]); // exactly one BOS
  assert.equal(ids.filter((x) => x === BOS).length, 1);
  assert.equal(ids.at(-1), ASSISTANT);
  await assert.rejects(tokenizeRequest(tok, {}), RequestError);
  await assert.rejects(tokenizeRequest(tok, { prompt: 'a', messages: [] }), RequestError);
  await assert.rejects(tokenizeRequest(fakeTokenizer({ addBos: false }), { prompt: '' }), (e: unknown) => e instanceof RequestError && e.code === 'EMPTY_PROMPT');
});
