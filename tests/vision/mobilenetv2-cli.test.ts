/**
 * The MobileNetV2 user path end to end: `synflux convert --from tfjs` on nsfwjs's real bundle,
 * `synflux run --model … --image … --json` (a separate process, as a user runs it), the
 * `mobilenetv2` brick — all equal to the library forward pass, which tests/vision/mobilenetv2.test.ts
 * checks against TF.js. Bad images give typed errors through the brick and the CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cliCommand, repoRoot } from '../cli/root.js';
import { MobileNetV2 } from '../../src/models/vision/mobilenetv2.js';
import { createMobileNetV2Brick } from '../../src/models/vision/mobilenetv2-brick.js';
import { preprocessMobileNetV2 } from '../../src/models/vision/mobilenetv2-preprocess.js';
import { decodeImage } from '../../src/preprocess/image.js';
import { RequestError, ShapeError } from '../../src/core/errors.js';

const root = repoRoot(import.meta.url);
const { ensurePhotos } = (await import(pathToFileURL(join(root, 'scripts/fixtures/photos.mjs')).href)) as { ensurePhotos(): string };
const photos = ensurePhotos();
const tmp = mkdtempSync(join(tmpdir(), 'synflux-mnv2-cli-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const gguf = join(tmp, 'mobilenetv2.gguf');
const [node, prefix] = cliCommand(root);
const cli = (...args: string[]) => spawnSync(node, [...prefix, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 16 << 20 });
const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

test('synflux convert --from tfjs writes a mobilenetv2 GGUF with the nsfwjs labels', () => {
  const r = cli('convert', '--from', 'tfjs', join(root, 'node_modules/nsfwjs/dist/models/mobilenet_v2/model.min.js'), '--out', gguf, '--json');
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { architecture: string; blocks: number; classes: number; labels: string[] };
  assert.equal(s.architecture, 'mobilenetv2');
  assert.equal(s.blocks, 17);
  assert.deepEqual(s.labels, ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy']);
  const bad = cli('convert', '--from', 'onnx', 'x', '--out', join(tmp, 'x.gguf'));
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /BAD_OPTION/);
});

test('synflux run --model mobilenetv2.gguf --image: top-5 and probabilities equal the library forward pass', async () => {
  const files = ['chelsea.png', 'rocket.jpg'].map((f) => join(photos, f));
  const r = cli('run', '--model', gguf, '--image', ...files, '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { images: { path: string; top: { label: string; probability: number }[]; probs: number[] }[] };
  const net = MobileNetV2.fromGGUF(gguf);
  for (const [i, f] of files.entries()) {
    const x = preprocessMobileNetV2(await decodeImage(f), 224, net.weights.config.mean, net.weights.config.std);
    const probs = net.forward(x).probs;
    assert.deepEqual(out.images[i]!.probs, Array.from(probs), f);
    assert.deepEqual(out.images[i]!.top.map((c) => c.label), net.topK(probs).map((c) => c.label));
    assert.equal(out.images[i]!.top.length, 5);
  }
  const text = cli('run', '--model', gguf, '--image', files[0]!);
  assert.equal(text.status, 0, text.stderr);
  assert.equal(text.stdout.trim().split('\n').length, 5);
  assert.match(text.stdout, /^Neutral\t0\.9/);
});

test('the mobilenetv2 brick: encoded bytes and a [3,S,S] image give the library result; cost is sane', async () => {
  const net = MobileNetV2.fromGGUF(gguf);
  const brick = createMobileNetV2Brick(net);
  assert.equal(brick.name, 'mobilenetv2');
  assert.equal(brick.device, 'cpu');
  const file = join(photos, 'coffee.png');
  const x = preprocessMobileNetV2(await decodeImage(file), 224, net.weights.config.mean, net.weights.config.std);
  const want = Array.from(net.forward(x).probs);
  const a = await brick.run({ image: { kind: 'tensor', dtype: 'u8', data: new Uint8Array(readFileSync(file)), shape: [0] } });
  assert.deepEqual(Array.from((a.probs as { data: Float32Array }).data), want);
  assert.deepEqual(a.label, { kind: 'text', text: 'Neutral' });
  const chw = new Float32Array(3 * 224 * 224);
  for (let i = 0; i < 224 * 224; i++) for (let c = 0; c < 3; c++) chw[c * 224 * 224 + i] = x[i * 3 + c]!;
  const b = await brick.run({ image: { kind: 'image', data: chw, shape: [3, 224, 224] } });
  assert.deepEqual(Array.from((b.probs as { data: Float32Array }).data), want);
  const cost = brick.cost!({});
  // MobileNetV2 1.0/224 is ~300 M multiply-adds (Sandler et al. 2018, Table 3) + this head.
  assert.ok(cost.flops > 5.5e8 && cost.flops < 6.5e8, `flops ${cost.flops}`);
  assert.ok(cost.memoryBytes > 10e6 && cost.outputBytes === 20);
  await assert.rejects(brick.run({}), RequestError);
  await assert.rejects(brick.run({ image: { kind: 'image', data: new Float32Array(3 * 8 * 8), shape: [3, 8, 8] } }), ShapeError);
});

test('bad images give typed errors (truncated, empty, unsupported format, over the pixel limit)', async () => {
  const net = MobileNetV2.fromGGUF(gguf);
  const jpg = new Uint8Array(readFileSync(join(photos, 'rocket.jpg')));
  const brick = createMobileNetV2Brick(net, { maxPixels: 100_000 });
  const run = (data: Uint8Array) => brick.run({ image: { kind: 'tensor', dtype: 'u8', data, shape: [data.length] } });
  await assert.rejects(run(jpg.subarray(0, 100)), code('IMAGE_TRUNCATED'));
  await assert.rejects(run(new Uint8Array(0)), code('IMAGE_EMPTY'));
  await assert.rejects(run(new TextEncoder().encode('GIF89a not really')), code('IMAGE_UNSUPPORTED_FORMAT'));
  await assert.rejects(run(jpg), code('IMAGE_TOO_LARGE')); // 640×427 > 100,000 px
  const half = join(tmp, 'half.jpg');
  writeFileSync(half, jpg.subarray(0, jpg.length >> 1));
  const r = cli('run', '--model', gguf, '--image', half);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /IMAGE_/);
  assert.equal(r.stdout, '');
});
