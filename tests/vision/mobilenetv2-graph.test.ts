/**
 * nsfwjs 4.4.0's second MobileNetV2, `mobilenet_v2_mid` — a TF.js *graph* model (GraphDef of the
 * TF-Hub MobileNetV2 1.4 feature vector + a dense softmax; fused conv/BN/ReLU6 ops, input rescaled
 * to [-1, 1] inside the graph, weights uint8-quantized in two shards) — converted by our graph
 * converter and run by our engine, against TF.js 4.22.0's own `tf.loadGraphModel` (pure-JS CPU
 * backend) on real photographs (scripts/fixtures/photos.mjs). Both get the same preprocessed input
 * (nsfwjs's `/255` + resizeBilinear(alignCorners), checked against TF.js in mobilenetv2.test.ts).
 * Bar (issue 4): top-5 identical, max |Δp| ≤ 1e-3. Also: the `synflux convert` CLI on it, and a
 * graph with an op we do not support gives a typed error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { readTfjsModel, type TfjsModel } from '../../src/formats/tfjs/model.js';
import { graphToMobileNetV2 } from '../../src/formats/tfjs/graph-mobilenetv2.js';
import { writeGGUF } from '../../src/formats/gguf/writer.js';
import { mobileNetV2ToGGUF } from '../../src/models/vision/mobilenetv2-weights.js';
import { MobileNetV2 } from '../../src/models/vision/mobilenetv2.js';
import { preprocessMobileNetV2 } from '../../src/models/vision/mobilenetv2-preprocess.js';
import { decodeImage } from '../../src/preprocess/image.js';
import { repoRoot } from '../helpers/paths.js';

const ROOT = repoRoot();
const DIR = join(ROOT, 'node_modules/nsfwjs/dist/models/mobilenet_v2_mid');
const { ensurePhotos } = (await import(pathToFileURL(join(ROOT, 'scripts/fixtures/photos.mjs')).href)) as { ensurePhotos(): string };
const photoDir = ensurePhotos();
const PHOTOS = ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg', 'motorcycle_left.png'];
await tf.setBackend('cpu');

/** nsfwjs's graph model through TF.js, from the package's own modules (require + base64). */
async function tfjsGraph(): Promise<tf.GraphModel> {
  const req = createRequire(import.meta.url);
  const json = req(join(DIR, 'model.min.js')) as { format: string; modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]; userDefinedMetadata?: { [key: string]: {} } };
  const shards = json.weightsManifest.flatMap((g) => g.paths).map((p) => Buffer.from(req(join(DIR, `${p}.min.js`)) as string, 'base64'));
  const all = Buffer.concat(shards);
  return tf.loadGraphModel({
    load: async () => ({
      format: json.format, modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength), ...(json.userDefinedMetadata ? { userDefinedMetadata: json.userDefinedMetadata } : {}),
    }),
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'synflux-mnv2g-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const source = readTfjsModel(join(DIR, 'model.min.js'));
const gguf = join(tmp, 'mid.gguf');
writeGGUF(gguf, mobileNetV2ToGGUF(graphToMobileNetV2(source), 'nsfwjs mobilenet_v2_mid'));
const net = MobileNetV2.fromGGUF(gguf);
const ref = await tfjsGraph();
const order = (p: ArrayLike<number>): number[] => Array.from(p, (v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map((e) => e[1]);

test('the graph converter recovers MobileNetV2 1.4 with the hub_input rescaling', () => {
  const c = net.weights.config;
  assert.equal(source.kind, 'graph-model');
  assert.equal(net.weights.blocks.length, 17);
  assert.equal(net.weights.stem.cout, 48);
  assert.equal(net.weights.head.cout, 1792);
  assert.deepEqual([c.inputScale, c.inputOffset], [2, 1]);
  assert.deepEqual(net.weights.fc.map((f) => [f.nIn, f.nOut, f.activation]), [[1792, 5, 'softmax']]);
});

test(`mobilenet_v2_mid vs TF.js loadGraphModel on ${PHOTOS.length} real photos: top-5 identical, max |Δp| ≤ 1e-3`, async () => {
  const rows: string[] = [];
  for (const name of PHOTOS) {
    const x = preprocessMobileNetV2(await decodeImage(join(photoDir, name)), 224, net.weights.config.mean, net.weights.config.std);
    const ours = net.forward(x).probs;
    const theirs = tf.tidy(() => (ref.predict(tf.tensor4d(x, [1, 224, 224, 3])) as tf.Tensor).dataSync() as Float32Array);
    let maxd = 0;
    for (let i = 0; i < ours.length; i++) maxd = Math.max(maxd, Math.abs(ours[i]! - theirs[i]!));
    rows.push(`${name}: top-5 ${order(ours).join(',')} (TF.js ${order(theirs).join(',')}) | max |Δp| ${maxd.toExponential(2)}`);
    assert.deepEqual(order(ours).slice(0, 5), order(theirs).slice(0, 5), name);
    assert.ok(maxd <= 1e-3, `${name}: max |Δp| ${maxd}`);
  }
  console.log(rows.join('\n'));
});

test('a graph with an unsupported op is refused with TFJS_UNSUPPORTED_TOPOLOGY', () => {
  const topo = JSON.parse(JSON.stringify(source.topology)) as { node: { op: string }[] };
  topo.node.find((n) => n.op === 'AvgPool')!.op = 'MaxPool';
  const bad: TfjsModel = { ...source, topology: topo as unknown as Record<string, unknown> };
  assert.throws(() => graphToMobileNetV2(bad), (e: unknown) => (e as { code?: string }).code === 'TFJS_UNSUPPORTED_TOPOLOGY');
  const topo2 = JSON.parse(JSON.stringify(source.topology)) as { node: { op: string; input?: string[] }[] };
  topo2.node.find((n) => n.op === 'AddV2')!.input = ['nope', 'nope2'];
  assert.throws(() => graphToMobileNetV2({ ...source, topology: topo2 as unknown as Record<string, unknown> }), (e: unknown) => (e as { code?: string }).code === 'TFJS_UNSUPPORTED_TOPOLOGY');
});
