import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StopStringMatcher } from '../../src/generation/stopping.js';
import { Utf8Stream } from '../../src/generation/utf8-stream.js';

function feed(m: StopStringMatcher, chunks: string[]): { emitted: string[]; stop?: string } {
  const emitted: string[] = [];
  for (const c of chunks) {
    const r = m.push(c);
    emitted.push(r.emit);
    if (r.stop) return { emitted, stop: r.stop };
  }
  emitted.push(m.flush());
  return { emitted };
}

test('stop string split across chunks: text before it is emitted, it is not, partial prefixes are held', () => {
  const r = feed(new StopStringMatcher(['</end>']), ['Hello ', 'wor', 'ld</', 'en', 'd> trailing']);
  assert.deepEqual(r.emitted, ['Hello ', 'wor', 'ld', '', '']);
  assert.equal(r.stop, '</end>');
});

test('a held prefix that stops matching is released', () => {
  const r = feed(new StopStringMatcher(['STOP']), ['a S', 'T', 'x', 'y']);
  assert.deepEqual(r.emitted, ['a ', '', 'STx', 'y', '']);
  assert.equal(r.stop, undefined);
});

test('held tail is flushed at the end when no stop string completes', () => {
  const m = new StopStringMatcher(['STOP']);
  assert.equal(m.push('abcST').emit, 'abc');
  assert.equal(m.held, 'ST');
  assert.equal(m.flush(), 'ST');
});

test('earliest stop wins; then the longer at the same position; nothing after a stop', () => {
  const m = new StopStringMatcher(['lo', 'll', 'hello']);
  const r = m.push('xhello');
  assert.equal(r.emit, 'x');
  assert.equal(r.stop, 'hello');
  assert.deepEqual(m.push('more'), { emit: '' });
  assert.equal(m.flush(), '');
  const n = new StopStringMatcher(['b', 'ab']);
  assert.deepEqual(n.push('cab'), { emit: 'c', stop: 'ab' });
});

test('stop string inside one chunk, and no stops configured', () => {
  assert.deepEqual(new StopStringMatcher(['\n\n']).push('one\n\ntwo'), { emit: 'one', stop: '\n\n' });
  assert.deepEqual(new StopStringMatcher([]).push('abc'), { emit: 'abc' });
  assert.deepEqual(new StopStringMatcher(['']).push('abc'), { emit: 'abc' });
});

test('utf8 stream emits a multi-byte char only when complete', () => {
  const bytes = new TextEncoder().encode('a€😀é');
  const s = new Utf8Stream();
  const out = Array.from(bytes, (b) => s.push(new Uint8Array([b])));
  // a | € (3 bytes) | 😀 (4 bytes) | é (2 bytes)
  assert.deepEqual(out, ['a', '', '', '€', '', '', '', '😀', '', 'é']);
  assert.equal(s.flush(), '');
});

test('utf8 stream: dangling partial char becomes U+FFFD on flush; BOM kept; invalid byte → U+FFFD', () => {
  const s = new Utf8Stream();
  assert.equal(s.push(new Uint8Array([0x68, 0xe2, 0x82])), 'h');
  assert.equal(s.flush(), '\ufffd');
  assert.equal(s.push(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])), '\ufeffA');
  assert.equal(s.push(new Uint8Array([0xff, 0x42])), '\ufffdB');
  s.push(new Uint8Array([0xe2]));
  s.reset();
  assert.equal(s.push(new Uint8Array([0x43])), 'C');
});
