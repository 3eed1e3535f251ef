/**
 * TF.js reader: weight decoding against tfjs-core's own `tf.io.decodeWeights` (uint8 affine,
 * uint16, float16, float32, int32), the literal parser on nsfwjs's real bundles vs `require` of
 * the same files, model.json + .bin folders, and typed errors for bad inputs (truncated or
 * hostile JSON/bundles, missing shards, wrong sizes, unsupported topologies), plus the
 * MobileNetV2 GGUF loader's checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ModelFormatError, ShapeError } from '../../src/core/errors.js';
import { decodeTfjsWeights, type TfjsWeightSpec } from '../../src/formats/tfjs/decode-weights.js';
import { bundleExportLiteral, parseJsLiteral } from '../../src/formats/tfjs/js-literal.js';
import { readTfjsModel } from '../../src/formats/tfjs/model.js';
import { kerasToMobileNetV2 } from '../../src/formats/tfjs/keras-mobilenetv2.js';
import { serializeGGUF } from '../../src/formats/gguf/writer.js';
import { parseGGUF } from '../../src/formats/gguf/reader.js';
import { mobileNetV2FromGGUF, mobileNetV2ToGGUF } from '../../src/models/vision/mobilenetv2-weights.js';
import { repoRoot } from '../helpers/paths.js';
import { rng } from '../ops/helpers.js';

const MODEL_DIR = join(repoRoot(), 'node_modules/nsfwjs/dist/models/mobilenet_v2');
const code = (c: string) => (e: unknown) => e instanceof Error && (e as { code?: string }).code === c;
const tmp = mkdtempSync(join(tmpdir(), 'synflux-tfjs-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('decodeTfjsWeights equals tf.io.decodeWeights for every storage type', async () => {
  const r = rng(5);
  const specs: TfjsWeightSpec[] = [
    { name: 'u8', shape: [3, 5], dtype: 'float32', quantization: { dtype: 'uint8', min: -0.8733, scale: 0.0066667 } },
    { name: 'u16', shape: [7], dtype: 'float32', quantization: { dtype: 'uint16', min: 1.25, scale: 3.1e-5 } },
    { name: 'f16', shape: [2, 4], dtype: 'float32', quantization: { dtype: 'float16' } },
    { name: 'f32', shape: [6], dtype: 'float32' },
    { name: 'i32', shape: [3], dtype: 'int32' },
    { name: 'i32q', shape: [4], dtype: 'int32', quantization: { dtype: 'uint8', min: -3, scale: 0.5 } },
  ];
  const sizes = [15, 14, 16, 24, 12, 4];
  const bytes = new Uint8Array(sizes.reduce((a, b) => a + b, 0)).map(() => Math.floor(r() * 256));
  // Keep float16/float32 payloads finite: a NaN would be NaN in both but fail deepEqual.
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < 8; i++) dv.setUint16(29 + 2 * i, dv.getUint16(29 + 2 * i, true) & 0x7bff, true);
  for (let i = 0; i < 6; i++) dv.setFloat32(45 + 4 * i, r() * 10 - 5, true);
  const ours = decodeTfjsWeights(bytes, specs);
  const theirs = tf.io.decodeWeights(bytes.buffer.slice(0), specs as tf.io.WeightsManifestEntry[]);
  for (const s of specs) assert.deepEqual(Array.from(ours.get(s.name)!.data), Array.from(await theirs[s.name]!.data()), s.name);
  assert.throws(() => decodeTfjsWeights(bytes.subarray(1), specs), code('TFJS_WEIGHTS_TRUNCATED'));
  assert.throws(() => decodeTfjsWeights(new Uint8Array(bytes.length + 1), specs), code('TFJS_WEIGHTS_TRAILING'));
  assert.throws(() => decodeTfjsWeights(bytes, [{ name: 'x', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8' } }]), code('TFJS_BAD_MANIFEST'));
  assert.throws(() => decodeTfjsWeights(bytes, [{ name: 'x', shape: [2], dtype: 'float32', quantization: { dtype: 'int4', min: 0, scale: 1 } }]), code('TFJS_BAD_MANIFEST'));
  assert.throws(() => decodeTfjsWeights(bytes, [{ name: 'x', shape: [-1], dtype: 'float32' }]), code('TFJS_BAD_MANIFEST'));
  assert.throws(() => decodeTfjsWeights(bytes, [{ name: 'x', shape: [1], dtype: 'string' }]), code('TFJS_BAD_MANIFEST'));
});

test('the literal parser reads nsfwjs bundles exactly as require() evaluates them', () => {
  const req = createRequire(import.meta.url);
  for (const f of ['model.min.js', 'group1-shard1of1.min.js']) {
    const src = readFileSync(join(MODEL_DIR, f), 'utf8');
    assert.deepEqual(JSON.parse(JSON.stringify(bundleExportLiteral(src, f))), JSON.parse(JSON.stringify(req(join(MODEL_DIR, f)))), f);
  }
  assert.deepEqual(parseJsLiteral(`{a:!0,"b":[.5,-1e-3,'x\\n',null,void 0],c:{}}`).value, Object.assign(Object.create(null), { a: true, b: [0.5, -0.001, 'x\n', null, undefined], c: Object.create(null) }));
});

test('bad literals and bundles give ModelFormatError', () => {
  for (const bad of ['{a:1', '{a:f()}', '[1,,2]', '"abc', '{a:', '{a:`t`}', '{a:1e999}', '['.repeat(1000)]) {
    assert.throws(() => parseJsLiteral(bad), code('TFJS_BAD_LITERAL'), bad.slice(0, 20));
  }
  assert.throws(() => bundleExportLiteral('module.exports=require("x")', 'x.js'), code('TFJS_BAD_BUNDLE'));
  assert.throws(() => bundleExportLiteral('a.exports={};b.exports={}', 'x.js'), code('TFJS_BAD_BUNDLE'));
});

test('model.json + .bin shards read like the bundle; bad folders give typed errors', () => {
  const req = createRequire(import.meta.url);
  const json = req(join(MODEL_DIR, 'model.min.js')) as { modelTopology: unknown; weightsManifest: { paths: string[]; weights: unknown[] }[] };
  const bin = Buffer.from(req(join(MODEL_DIR, 'group1-shard1of1.min.js')) as string, 'base64');
  const dir = join(tmp, 'json');
  const write = (manifest: unknown, shards: Record<string, Uint8Array>, topology: unknown = json.modelTopology): string => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: topology, weightsManifest: manifest }));
    for (const [n, b] of Object.entries(shards)) writeFileSync(join(dir, n), b);
    return join(dir, 'model.json');
  };
  // Two shards, as the TF.js converter splits large models.
  const half = 1_000_000;
  const manifest2 = [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: json.weightsManifest[0]!.weights }];
  const p = write(manifest2, { 'group1-shard1of2.bin': bin.subarray(0, half), 'group1-shard2of2.bin': bin.subarray(half) });
  const a = readTfjsModel(p), b = readTfjsModel(join(MODEL_DIR, 'model.min.js'));
  assert.equal(a.kind, 'layers-model');
  assert.equal(a.weights.size, b.weights.size);
  for (const [k, v] of b.weights) assert.deepEqual(a.weights.get(k)!.data, v.data, k);
  assert.equal(readTfjsModel(dir).source, p, 'a folder resolves to its model.json');

  write(manifest2, { 'group1-shard1of2.bin': bin.subarray(0, half) });
  assert.throws(() => readTfjsModel(p), code('TFJS_FILE_MISSING'));
  write(manifest2, { 'group1-shard1of2.bin': bin.subarray(0, half), 'group1-shard2of2.bin': bin.subarray(half, bin.length - 10) });
  assert.throws(() => readTfjsModel(p), code('TFJS_WEIGHTS_TRUNCATED'));
  write([{ paths: ['../../etc/passwd'], weights: [] }], {});
  assert.throws(() => readTfjsModel(p), code('TFJS_BAD_MANIFEST'));
  write('nope', {});
  assert.throws(() => readTfjsModel(p), code('TFJS_BAD_MANIFEST'));
  writeFileSync(p, '{"modelTopology": {"model_config": ');
  assert.throws(() => readTfjsModel(p), code('TFJS_BAD_JSON'));
  writeFileSync(p, '{"weightsManifest": []}');
  assert.throws(() => readTfjsModel(p), code('TFJS_BAD_JSON'));
  assert.throws(() => readTfjsModel(join(tmp, 'missing.json')), code('TFJS_FILE_MISSING'));
  writeFileSync(join(tmp, 'bad.min.js'), 'module.exports={modelTopology:{model_config:{}},weightsManifest:[{paths:["s"],weights:[]}]}');
  writeFileSync(join(tmp, 's.min.js'), 'a.exports="@@@@"');
  assert.throws(() => readTfjsModel(join(tmp, 'bad.min.js')), code('TFJS_BAD_BUNDLE'));

  // A topology that is not a MobileNetV2 is refused by the converter with a typed error.
  const topo = JSON.parse(JSON.stringify(json.modelTopology)) as { model_config: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } } };
  const layers = topo.model_config.config.layers;
  const relu = layers.find((l) => l.class_name === 'ReLU')!;
  relu.config.max_value = null;
  write([{ paths: ['w.bin'], weights: json.weightsManifest[0]!.weights }], { 'w.bin': bin }, topo);
  assert.throws(() => kerasToMobileNetV2(readTfjsModel(p)), code('TFJS_UNSUPPORTED_TOPOLOGY'));
  relu.config.max_value = 6;
  layers.find((l) => l.class_name === 'DepthwiseConv2D')!.config.dilation_rate = [2, 2];
  write([{ paths: ['w.bin'], weights: json.weightsManifest[0]!.weights }], { 'w.bin': bin }, topo);
  assert.throws(() => kerasToMobileNetV2(readTfjsModel(p)), code('TFJS_UNSUPPORTED_TOPOLOGY'));
  const noKernel = (json.weightsManifest[0]!.weights as { name: string }[]).map((w) => (w.name === 'Conv1/kernel' ? { ...w, name: 'Conv1/other' } : w));
  write([{ paths: ['w.bin'], weights: noKernel }], { 'w.bin': bin });
  assert.throws(() => kerasToMobileNetV2(readTfjsModel(p)), code('TFJS_MISSING_WEIGHT'));
});

test('nsfwjs InceptionV3 (another architecture) is read, then refused by the MobileNetV2 converter with a typed error', () => {
  const m = readTfjsModel(join(repoRoot(), 'node_modules/nsfwjs/dist/models/inception_v3'));
  assert.equal(m.kind, 'layers-model');
  assert.throws(() => kerasToMobileNetV2(m), code('TFJS_UNSUPPORTED_TOPOLOGY'));
});

test('MobileNetV2 GGUF loader rejects missing tensors, wrong shapes and bad metadata', () => {
  const w = kerasToMobileNetV2(readTfjsModel(join(MODEL_DIR, 'model.min.js')));
  const spec = mobileNetV2ToGGUF(w, 'x');
  const load = (s: typeof spec) => mobileNetV2FromGGUF(parseGGUF(serializeGGUF(s)));
  assert.equal(load(spec).blocks.length, 17);
  assert.throws(() => load({ ...spec, tensors: spec.tensors.filter((t) => t.name !== 'blk.3.dw.weight') }), code('MNV2_MISSING_TENSOR'));
  assert.throws(() => load({ ...spec, tensors: spec.tensors.map((t) => (t.name === 'fc.0.weight' ? { ...t, dims: [t.dims[1]!, t.dims[0]!] } : t)) }), ShapeError);
  assert.throws(() => load({ ...spec, metadata: spec.metadata.filter((m) => m.key !== 'mobilenetv2.block.stride') }), ModelFormatError);
  assert.throws(() => load({ ...spec, metadata: spec.metadata.map((m) => (m.key === 'mobilenetv2.class_count' ? { ...m, value: 6 } : m)) }), code('MNV2_BAD_METADATA'));
  assert.throws(() => load({ ...spec, metadata: spec.metadata.map((m) => (m.key === 'general.architecture' ? { ...m, value: 'llama' } : m)) }), code('MNV2_BAD_METADATA'));
  assert.throws(() => load({ ...spec, metadata: spec.metadata.map((m) => (m.key === 'mobilenetv2.block.residual' ? { ...m, value: w.blocks.map(() => true) } : m)) }), code('MNV2_CHANNEL_MISMATCH'));
});
