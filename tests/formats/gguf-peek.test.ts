/**
 * peekGGUFMetadata (reads only the file head) against the full parser, on the real SmolLM2 GGUF
 * (written by llama.cpp's converter) and on hostile heads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openGGUF, peekGGUFMetadata, GGUFValueType as T } from '../../src/formats/gguf/reader.js';
import { serializeGGUF } from '../../src/formats/gguf/writer.js';
import { ModelFormatError } from '../../src/core/errors.js';
import { repoRoot } from '../helpers/paths.js';

const SMOL = join(repoRoot(), '.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf');

test('peekGGUFMetadata equals the full parse for keys in the head; a key past the window is undefined', { skip: !existsSync(SMOL) && 'SmolLM2 fixture missing' }, () => {
  const full = openGGUF(SMOL);
  assert.equal(peekGGUFMetadata(SMOL, 'general.architecture'), 'llama');
  assert.equal(peekGGUFMetadata(SMOL, 'general.architecture'), full.metadata.get('general.architecture'));
  // The token list (49152 strings) is far larger than 64 KiB: keys behind it are not in the default window…
  const keys = [...full.metadata.keys()];
  const after = keys[keys.indexOf('tokenizer.ggml.tokens') + 1]!;
  assert.equal(peekGGUFMetadata(SMOL, after), undefined);
  // …and are found with a window holding them, equal to the full parse.
  assert.deepEqual(peekGGUFMetadata(SMOL, after, 8 << 20), full.metadata.get(after));
  assert.equal(peekGGUFMetadata(SMOL, 'no.such.key', 8 << 20), undefined);
});

test('peekGGUFMetadata: not GGUF, truncated entry and a hostile count give typed errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sf-peek-'));
  const txt = join(dir, 'a.txt');
  writeFileSync(txt, 'hello world, not a model');
  assert.throws(() => peekGGUFMetadata(txt, 'general.architecture'), (e: unknown) => e instanceof ModelFormatError && e.code === 'GGUF_BAD_MAGIC');
  const bytes = serializeGGUF({ metadata: [{ key: 'a', type: T.STRING, value: 'x'.repeat(100) }, { key: 'general.architecture', type: T.STRING, value: 'llama' }], tensors: [] });
  const whole = join(dir, 'ok.gguf');
  writeFileSync(whole, bytes);
  assert.equal(peekGGUFMetadata(whole, 'general.architecture'), 'llama');
  const cut = join(dir, 'cut.gguf');
  writeFileSync(cut, bytes.subarray(0, 60));
  assert.throws(() => peekGGUFMetadata(cut, 'general.architecture'), (e: unknown) => e instanceof ModelFormatError && e.code === 'GGUF_TRUNCATED');
  const hostile = Uint8Array.from(bytes);
  new DataView(hostile.buffer).setBigUint64(16, 0xffffffffffffn, true); // n_kv
  const h = join(dir, 'hostile.gguf');
  writeFileSync(h, hostile);
  assert.equal(peekGGUFMetadata(h, 'general.architecture'), 'llama');
  assert.throws(() => peekGGUFMetadata(h, 'zzz'), (e: unknown) => e instanceof ModelFormatError && e.code === 'GGUF_TRUNCATED');
  assert.throws(() => peekGGUFMetadata(join(dir, 'missing.gguf'), 'k'), (e: unknown) => e instanceof ModelFormatError && e.code === 'FILE_READ_FAILED');
});
