import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatSession } from '../../src/generation/chat-session.js';
import { generateText, type ChatMessage, type GenerateEvent } from '../../src/generation/generate.js';
import { scriptedLM } from './fakes.js';

const fmt = (ms: readonly ChatMessage[]) => ms.map((m) => `<|${m.role}|>${m.content}<|end|>`).join('') + '<|assistant|>';
const opts = { temperature: 0, chatFormatter: fmt } as const;

async function reply(s: ChatSession, text: string, o: object = opts) {
  let done: Extract<GenerateEvent, { type: 'done' }> | undefined;
  for await (const e of s.send(text, o)) if (e.type === 'done') done = e;
  return done!;
}

test('multi-turn chat prefills only the suffix after the cached common prefix', async () => {
  const m = scriptedLM('ok');
  const s = new ChatSession(m, { system: 'be brief' });
  const t1 = await reply(s, 'hello');
  assert.equal(t1.text, 'ok');
  const p1 = t1.promptTokens;
  assert.equal(t1.timings.prefillTokens, p1);
  assert.equal(s.cache.tokens.length, p1 + 2); // prompt + "o", "k" (the EOT was sampled, not forwarded)
  assert.deepEqual(s.messages.map((x) => x.role), ['system', 'user', 'assistant']);

  const before = m.forwarded;
  const t2 = await reply(s, 'again');
  assert.equal(t2.text, 'ok');
  // Turn-2 prompt = turn-1 prompt + "ok" + <|end|> + <|user|>again<|end|> + <|assistant|>.
  const newSuffix = 1 + 1 + 5 + 1 + 1;
  assert.equal(t2.promptTokens, p1 + 2 + newSuffix);
  assert.equal(t2.timings.prefillTokens, newSuffix);
  assert.equal(m.forwarded - before, newSuffix + 2);
  assert.deepEqual(m.history, s.cache.tokens);
});

test('reset clears the cache and the conversation (system prompt kept)', async () => {
  const m = scriptedLM('ok');
  const s = new ChatSession(m, { system: 'sys' });
  const t1 = await reply(s, 'hello');
  s.reset();
  assert.deepEqual(s.messages, [{ role: 'system', content: 'sys' }]);
  assert.equal(m.nPast, 0);
  const t2 = await reply(s, 'hello');
  assert.equal(t2.timings.prefillTokens, t1.promptTokens);
});

test('a cache out of sync with the model (someone else used it) is discarded', async () => {
  const m = scriptedLM('ok');
  const s = new ChatSession(m);
  await reply(s, 'hello');
  await generateText(m, { prompt: 'other<|assistant|>', parseSpecial: true, temperature: 0 }); // clears and refills
  const t = await reply(s, 'again');
  assert.equal(t.timings.prefillTokens, t.promptTokens);
  assert.deepEqual(m.history, s.cache.tokens);
});

test('an identical prompt still evaluates one token to get logits', async () => {
  const m = scriptedLM('ok');
  const cache = { tokens: [] as number[] };
  const r1 = await generateText(m, { prompt: 'x<|assistant|>', parseSpecial: true, temperature: 0, cache, maxTokens: 1 });
  assert.equal(r1.text, 'o');
  const r2 = await generateText(m, { prompt: 'x<|assistant|>', parseSpecial: true, temperature: 0, cache, maxTokens: 1 });
  assert.equal(r2.text, 'o');
  assert.equal(r2.timings.prefillTokens, 1);
});

test('a failed turn removes the user message', async () => {
  const m = scriptedLM('ok', { nCtx: 4 });
  const s = new ChatSession(m);
  await assert.rejects(reply(s, 'a message far too long for four tokens'));
  assert.deepEqual(s.messages, []);
});
