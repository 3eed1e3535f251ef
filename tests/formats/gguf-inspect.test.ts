/** describeGGUF: summary of a hand-built file (expected values follow from the inputs). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGGUF, GGUFValueType as T } from '../../src/formats/gguf/reader.js';
import { serializeGGUF } from '../../src/formats/gguf/writer.js';
import { describeGGUF } from '../../src/formats/gguf/inspect.js';
import { GGMLType } from '../../src/core/ggml-type.js';

test('describeGGUF summarises metadata, arrays and tensors', () => {
  const tokens = Array.from({ length: 1000 }, (_, i) => `t${i}`);
  const g = parseGGUF(
    serializeGGUF({
      metadata: [
        { key: 'general.architecture', type: T.STRING, value: 'llama' },
        { key: 'general.name', type: T.STRING, value: 'Tiny' },
        { key: 'llama.block_count', type: T.UINT32, value: 2 },
        { key: 'big', type: T.UINT64, value: 2n ** 63n },
        { key: 'tokenizer.ggml.tokens', type: T.ARRAY, arrayType: T.STRING, value: tokens },
        { key: 'long', type: T.STRING, value: 'x'.repeat(1000) },
      ],
      tensors: [
        { name: 'a', dims: [32, 3], type: GGMLType.Q8_0, data: new Uint8Array(3 * 34) },
        { name: 'b', dims: [5], type: GGMLType.F32, data: new Uint8Array(20) },
        { name: 'c', dims: [64], type: GGMLType.Q8_0, data: new Uint8Array(68) },
      ],
    }),
    'tiny.gguf',
  );
  const d = describeGGUF(g);
  assert.equal(d.architecture, 'llama');
  assert.equal(d.name, 'Tiny');
  assert.equal(d.version, 3);
  assert.deepEqual(d.metadata['llama.block_count'], { type: 'UINT32', value: 2 });
  assert.deepEqual(d.metadata['big'], { type: 'UINT64', value: '9223372036854775808' });
  const tok = d.metadata['tokenizer.ggml.tokens'];
  assert.equal(tok.type, 'ARRAY<STRING>');
  assert.equal(tok.length, 1000);
  assert.ok(String(tok.value).length < 100, 'vocabulary must not be dumped');
  assert.ok(String(tok.value).startsWith('["t0", "t1"'));
  assert.ok(String(d.metadata['long'].value).length < 300);
  assert.equal(d.tensorCount, 3);
  assert.equal(d.tensorBytes, 102 + 20 + 68);
  assert.equal(d.parameters, 96 + 5 + 64);
  assert.deepEqual(d.byType, { Q8_0: { count: 2, bytes: 170 }, F32: { count: 1, bytes: 20 } });
  assert.deepEqual(d.tensors[0], { name: 'a', type: 'Q8_0', dims: [32, 3], bytes: 102, offset: g.dataOffset });
  assert.doesNotThrow(() => JSON.stringify(d));
});
