/**
 * MobileNetV2 from nsfwjs 4.4.0 in our engine vs TF.js's own outputs on real photographs.
 *
 * Reference: @tensorflow/tfjs 4.22.0 (pure-JS CPU backend) loading nsfwjs's model exactly as nsfwjs
 * does: its `model.min.js` / `group1-shard1of1.min.js` modules are `require`d (the package's own
 * code, not our reader), the base64 weights decoded with Buffer, and the artifacts handed to
 * `tf.loadLayersModel` through an IOHandler. TF.js then dequantizes the uint8 weights and runs its
 * own conv/batch-norm/ReLU6/pool/dense kernels. Ours: our TF.js reader + converter (BN folded) →
 * GGUF → our C kernels.
 *
 * Photos: 7 real photographs from the scikit-image 0.26.0 wheel (scripts/fixtures/photos.mjs,
 * SHA-256 pinned). Both engines get the same preprocessed float tensor (our preprocessing, which is
 * also checked against tf.image.resizeBilinear on the same decoded pixels), so the comparison
 * isolates the network. Bar (issue 4): top-5 classes identical, max |Δp| ≤ 1e-3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { readTfjsModel } from '../../src/formats/tfjs/model.js';
import { kerasToMobileNetV2 } from '../../src/formats/tfjs/keras-mobilenetv2.js';
import { nsfwjsLabelsFor } from '../../src/formats/tfjs/nsfwjs-labels.js';
import { writeGGUF } from '../../src/formats/gguf/writer.js';
import { mobileNetV2ToGGUF } from '../../src/models/vision/mobilenetv2-weights.js';
import { MobileNetV2 } from '../../src/models/vision/mobilenetv2.js';
import { normalizeRgb, preprocessMobileNetV2 } from '../../src/models/vision/mobilenetv2-preprocess.js';
import { decodeImage } from '../../src/preprocess/image.js';
import { repoRoot } from '../helpers/paths.js';

const ROOT = repoRoot();
const MODEL_DIR = join(ROOT, 'node_modules/nsfwjs/dist/models/mobilenet_v2');
const { ensurePhotos, PHOTOS } = (await import(pathToFileURL(join(ROOT, 'scripts/fixtures/photos.mjs')).href)) as {
  ensurePhotos(): string;
  PHOTOS: Record<string, string>;
};
const photoDir = ensurePhotos();
const PHOTO_NAMES = Object.keys(PHOTOS);

await tf.setBackend('cpu');

/** nsfwjs's model through TF.js, loaded from the package's own modules. */
async function tfjsModel(): Promise<tf.LayersModel> {
  const req = createRequire(import.meta.url);
  const json = req(join(MODEL_DIR, 'model.min.js')) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
  const b64 = req(join(MODEL_DIR, 'group1-shard1of1.min.js')) as string;
  const buf = Buffer.from(b64, 'base64');
  const weightData = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return tf.loadLayersModel({
    load: async () => ({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData }),
  });
}

const ref = await tfjsModel();
const labels = nsfwjsLabelsFor(join(MODEL_DIR, 'model.min.js'));
const weights = kerasToMobileNetV2(readTfjsModel(join(MODEL_DIR, 'model.min.js')), labels ? { labels } : {});
const tmp = mkdtempSync(join(tmpdir(), 'synflux-mnv2-'));
const ggufPath = join(tmp, 'mobilenetv2.gguf');
writeGGUF(ggufPath, mobileNetV2ToGGUF(weights, 'nsfwjs mobilenet_v2', 'f32'));
const net = MobileNetV2.fromGGUF(ggufPath);
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** Decoded photo (sharp via src/preprocess/image.ts) and our preprocessed input. */
const inputs = new Map<string, { rgb: Awaited<ReturnType<typeof decodeImage>>; x: Float32Array }>();
for (const name of PHOTO_NAMES) {
  const rgb = await decodeImage(join(photoDir, name));
  inputs.set(name, { rgb, x: preprocessMobileNetV2(rgb, 224, net.weights.config.mean, net.weights.config.std) });
}

const order = (p: ArrayLike<number>): number[] => Array.from(p, (v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map((e) => e[1]);

test('nsfwjs labels come from the package (Drawing, Hentai, Neutral, Porn, Sexy)', () => {
  assert.deepEqual(labels, ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy']);
  assert.deepEqual(net.weights.config.labels, labels);
  assert.equal(net.weights.blocks.length, 17);
});

test('our preprocessing equals nsfwjs\'s TF.js ops bit for bit (div 255, resizeBilinear alignCorners) on the decoded photos', () => {
  for (const name of PHOTO_NAMES) {
    const { rgb, x } = inputs.get(name)!;
    const theirs = tf.tidy(() => {
      const img = tf.tensor3d(rgb.data, [rgb.height, rgb.width, 3], 'int32');
      const normalized = img.toFloat().div(tf.scalar(255));
      return tf.image.resizeBilinear(normalized as tf.Tensor3D, [224, 224], true).dataSync() as Float32Array;
    });
    assert.equal(theirs.length, x.length);
    // Same float operations as tfjs-backend-cpu's Div and ResizeBilinear: bit-identical.
    for (let i = 0; i < x.length; i++) if (x[i] !== theirs[i]) assert.fail(`${name}: preprocessed element ${i}: ${x[i]} != ${theirs[i]}`);
  }
  // A 224×224 image is not resized (nsfwjs skips resizeBilinear), only normalized.
  const sq = { width: 224, height: 224, data: new Uint8Array(224 * 224 * 3).map((_, i) => (i * 7) & 255) };
  assert.deepEqual(preprocessMobileNetV2(sq, 224, [0, 0, 0], [255, 255, 255]), normalizeRgb(sq, [0, 0, 0], [255, 255, 255]));
});

test(`MobileNetV2 vs TF.js on ${PHOTO_NAMES.length} real photos: top-5 identical, max |Δp| ≤ 1e-3`, () => {
  const rows: string[] = [];
  for (const name of PHOTO_NAMES) {
    const { x } = inputs.get(name)!;
    const ours = net.forward(x).probs;
    const theirs = tf.tidy(() => (ref.predict(tf.tensor4d(x, [1, 224, 224, 3])) as tf.Tensor).dataSync() as Float32Array);
    assert.equal(ours.length, theirs.length);
    let maxd = 0;
    for (let i = 0; i < ours.length; i++) maxd = Math.max(maxd, Math.abs(ours[i]! - theirs[i]!));
    const top = (p: ArrayLike<number>) => order(p).slice(0, 5);
    rows.push(`${name}: ours ${net.topK(ours).map((c) => `${c.label} ${c.probability.toFixed(5)}`).join(', ')} | max |Δp| ${maxd.toExponential(2)}`);
    assert.deepEqual(top(ours), top(theirs), `${name}: top-5 differs (ours ${Array.from(ours)}, TF.js ${Array.from(theirs)})`);
    assert.ok(maxd <= 1e-3, `${name}: max |Δp| ${maxd}`);
  }
  console.log(rows.join('\n'));
});

test('intermediate feature maps agree with TF.js layer outputs (astronaut.png)', () => {
  const { x } = inputs.get('astronaut.png')!;
  const ours = net.forward(x, { capture: true }).features!;
  // Our capture point → the Keras layer whose output it is.
  const pairs: [string, string][] = [
    ['stem', 'Conv1_relu'], ['blk.0', 'expanded_conv_project_BN'], ['blk.2', 'block_2_add'], ['blk.6', 'block_6_project_BN'],
    ['blk.12', 'block_12_add'], ['blk.16', 'block_16_project_BN'], ['head', 'out_relu'], ['pool', 'average_pooling2d_1'], ['fc.0', 'dense_1'], ['fc.1', 'dense_2'],
  ];
  const probe = tf.model({ inputs: ref.inputs, outputs: pairs.map(([, l]) => ref.getLayer(l).output as tf.SymbolicTensor) });
  const outs = tf.tidy(() => (probe.predict(tf.tensor4d(x, [1, 224, 224, 3])) as tf.Tensor[]).map((t) => ({ shape: t.shape, data: t.dataSync() as Float32Array })));
  pairs.forEach(([mine, layer], i) => {
    const f = ours.get(mine)!;
    const t = outs[i]!;
    assert.equal(f.data.length, t.data.length, `${mine}/${layer}: size`);
    let maxd = 0, scale = 0;
    for (let k = 0; k < f.data.length; k++) {
      maxd = Math.max(maxd, Math.abs(f.data[k]! - t.data[k]!));
      scale = Math.max(scale, Math.abs(t.data[k]!));
    }
    assert.ok(maxd <= 1e-4 * Math.max(scale, 1), `${mine} vs ${layer}: max |Δ| ${maxd} (max |x| ${scale})`);
  });
});

test('the TypeScript reference kernels give the same bits as the C kernels (chelsea.png)', () => {
  const { x } = inputs.get('chelsea.png')!;
  const a = net.forward(x).probs, b = net.forward(x, { kernels: 'reference' }).probs;
  assert.deepEqual(Array.from(a), Array.from(b));
});

test('GGUF round trip: in-memory converted weights and the loaded GGUF give identical outputs; F16 GGUF stays within the bar', () => {
  const direct = new MobileNetV2(weights);
  const { x } = inputs.get('coffee.png')!;
  assert.deepEqual(Array.from(direct.forward(x).probs), Array.from(net.forward(x).probs));
  const f16Path = join(tmp, 'mobilenetv2-f16.gguf');
  writeGGUF(f16Path, mobileNetV2ToGGUF(weights, 'nsfwjs mobilenet_v2', 'f16'));
  const half = MobileNetV2.fromGGUF(f16Path);
  const theirs = tf.tidy(() => (ref.predict(tf.tensor4d(x, [1, 224, 224, 3])) as tf.Tensor).dataSync() as Float32Array);
  const p = half.forward(x).probs;
  assert.deepEqual(order(p), order(theirs));
  for (let i = 0; i < p.length; i++) assert.ok(Math.abs(p[i]! - theirs[i]!) <= 5e-3, `F16 class ${i}: ${p[i]} vs ${theirs[i]}`);
});
