/**
 * MobileNetV2 (nsfwjs 4.4.0) timing: one 224×224 image through the network (preprocessed input
 * given, so only the network is timed), SynFlux (C kernels, per thread count; the TypeScript
 * reference kernels, one run) vs TF.js 4.22.0's pure-JS CPU backend on the same input. Also the whole
 * user path (decode + preprocess + forward) for SynFlux. Median and best of `--reps` runs, ms,
 * after one warm-up run each. The two engines run alternately in the same process.
 *
 * Usage: npx tsx bench/mobilenetv2.ts [--reps 10] [--threads 1,2] [--image .cache/photos/chelsea.png] [--json]
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { native } from '../src/backends/cpu/native.js';
import { packageRoot } from '../src/core/package-root.js';
import { readTfjsModel } from '../src/formats/tfjs/model.js';
import { kerasToMobileNetV2 } from '../src/formats/tfjs/keras-mobilenetv2.js';
import { MobileNetV2 } from '../src/models/vision/mobilenetv2.js';
import { classifyImage } from '../src/models/vision/mobilenetv2-brick.js';
import { preprocessMobileNetV2 } from '../src/models/vision/mobilenetv2-preprocess.js';
import { decodeImage } from '../src/preprocess/image.js';

const argv = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : def;
};
const reps = Number(arg('--reps', '10'));
const threads = arg('--threads', '1,2').split(',').map(Number);
const root = packageRoot();
const { ensurePhotos } = (await import(pathToFileURL(join(root, 'scripts/fixtures/photos.mjs')).href)) as { ensurePhotos(): string };
const image = arg('--image', join(ensurePhotos(), 'chelsea.png'));
const modelDir = join(root, 'node_modules/nsfwjs/dist/models/mobilenet_v2');

/**
 * Median and best wall time of `reps` runs after one warm-up, ms, and the median process CPU time
 * (user + system, all threads summed), ms — less disturbed than wall time on a shared machine.
 */
function time(fn: () => void): { median_ms: number; best_ms: number; cpu_median_ms: number } {
  fn();
  const t: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  t.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  return { median_ms: r(t[Math.floor(t.length / 2)]!), best_ms: r(t[0]!), cpu_median_ms: r(cpu[Math.floor(cpu.length / 2)]!) };
}

const net = new MobileNetV2(kerasToMobileNetV2(readTfjsModel(join(modelDir, 'model.min.js'))));
const rgb = await decodeImage(image);
const x = preprocessMobileNetV2(rgb, 224, net.weights.config.mean, net.weights.config.std);

await tf.setBackend('cpu');
const req = createRequire(import.meta.url);
const json = req(join(modelDir, 'model.min.js')) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
const buf = Buffer.from(req(join(modelDir, 'group1-shard1of1.min.js')) as string, 'base64');
const tfModel = await tf.loadLayersModel({
  load: async () => ({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) }),
});
const input = tf.tensor4d(x, [1, 224, 224, 3]);

const rows: { engine: string; threads: number | string; median_ms: number; best_ms: number; cpu_median_ms?: number }[] = [];
const k = native();
for (const n of threads) {
  k.setThreads(n);
  rows.push({ engine: `SynFlux C kernels (sf_conv ${k.getPath() === 'scalar' ? 'portable' : k.getPath()} build)`, threads: n, ...time(() => net.forward(x)) });
  rows.push({ engine: 'TF.js 4.22 cpu backend (JS)', threads: 1, ...time(() => tf.tidy(() => (tfModel.predict(input) as tf.Tensor).dataSync())) });
}
k.setThreads(threads[threads.length - 1]!);
// The user path: decode (sharp) + preprocess + forward, per image.
const e2e: number[] = [];
for (let i = 0; i <= reps; i++) {
  const t0 = performance.now();
  await classifyImage(net, image);
  if (i > 0) e2e.push(performance.now() - t0);
}
e2e.sort((a, b) => a - b);
rows.push({ engine: 'SynFlux decode + preprocess + forward', threads: threads[threads.length - 1]!, median_ms: Math.round(e2e[e2e.length >> 1]! * 100) / 100, best_ms: Math.round(e2e[0]! * 100) / 100 });
const t0 = performance.now();
net.forward(x, { kernels: 'reference' });
rows.push({ engine: 'SynFlux TS reference kernels (1 run)', threads: 1, median_ms: Math.round((performance.now() - t0) * 100) / 100, best_ms: NaN });
const cost = net.cost();
const out = { image, input: '224x224x3 float32 (preprocessed)', reps, gflop_per_image: Math.round(cost.flops / 1e7) / 100, rows };
if (argv.includes('--json')) console.log(JSON.stringify(out));
else {
  console.log(`image ${image}; network only; ${out.gflop_per_image} GFLOP/image; median / best of ${reps}`);
  console.log('| engine | threads | median ms | best ms | median CPU ms |\n|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.engine} | ${r.threads} | ${r.median_ms} | ${r.best_ms} | ${r.cpu_median_ms ?? ''} |`);
}
