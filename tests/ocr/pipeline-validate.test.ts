// Pipeline definitions: the shipped pipelines/ocr-qa.json validates (order, placement, --place
// overrides), and every kind of malformed definition is rejected with its PipelineError code.
// Also the runner on cpu-only bricks (image.decode + text.template) with a real image file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PipelineError } from '../../src/core/errors.js';
import { loadPipelineFile, parsePlacement, validatePipeline } from '../../src/pipelines/validate.js';
import { createPipeline } from '../../src/pipelines/runner.js';
import { repoRoot } from '../helpers/paths.js';

const shipped = (): Record<string, any> => JSON.parse(readFileSync(join(repoRoot(), 'pipelines/ocr-qa.json'), 'utf8'));

test('pipelines/ocr-qa.json validates: topological order and placement', () => {
  const p = loadPipelineFile(join(repoRoot(), 'pipelines/ocr-qa.json'));
  assert.deepEqual(p.order, ['image', 'ocr-det', 'ocr-rec', 'prompt', 'lm']);
  assert.deepEqual(p.placement, { image: 'cpu', 'ocr-det': 'onnx', 'ocr-rec': 'onnx', prompt: 'cpu', lm: 'cpu' });
  const q = validatePipeline(shipped(), parsePlacement(['lm=wasm']));
  assert.equal(q.placement.lm, 'wasm');
});

test('bricks listed out of order still run in dependency order', () => {
  const s = shipped();
  s.bricks = [...s.bricks].reverse();
  assert.deepEqual(validatePipeline(s).order, ['image', 'ocr-det', 'ocr-rec', 'prompt', 'lm']);
});

/** Applies `edit` to a copy of the shipped pipeline and expects `code`. */
function rejects(code: string, edit: (s: Record<string, any>) => unknown, place: Record<string, string> = {}): void {
  const s = shipped();
  const r = edit(s);
  assert.throws(() => validatePipeline(r === undefined ? s : r, place), (e: unknown) => {
    assert.ok(e instanceof PipelineError, `expected PipelineError, got ${e}`);
    assert.equal((e as PipelineError).code, code, (e as Error).message);
    return true;
  });
}

test('malformed pipelines give typed errors', () => {
  rejects('PIPELINE_BAD_FIELD', () => 42);
  rejects('PIPELINE_BAD_VERSION', (s) => { s.version = 2; });
  rejects('PIPELINE_BAD_FIELD', (s) => { s.bricks = []; });
  rejects('PIPELINE_BAD_FIELD', (s) => { s.bricks[1].name = 'ocr.det'; });
  rejects('PIPELINE_BAD_FIELD', (s) => { s.inputs.image.kind = 'file'; });
  rejects('PIPELINE_BAD_FIELD', (s) => { delete s.outputs; });
  rejects('PIPELINE_DUPLICATE_BRICK', (s) => { s.bricks[2].name = 'ocr-det'; });
  rejects('PIPELINE_UNKNOWN_TYPE', (s) => { s.bricks[1].type = 'ocr.detect'; });
  rejects('PIPELINE_BAD_OPTION', (s) => { s.bricks[1].options.boxThresh = 2; });
  rejects('PIPELINE_BAD_OPTION', (s) => { s.bricks[1].options.colour = 'red'; });
  rejects('PIPELINE_BAD_OPTION', (s) => { s.bricks[4].options.maxTokens = 1.5; });
  rejects('PIPELINE_BAD_PORT', (s) => { delete s.bricks[2].inputs.boxes; });
  rejects('PIPELINE_BAD_PORT', (s) => { s.bricks[2].inputs.mask = 'ocr-det.boxes'; });
  rejects('PIPELINE_BAD_REFERENCE', (s) => { s.bricks[2].inputs.boxes = 'ocr-dt.boxes'; });
  rejects('PIPELINE_BAD_REFERENCE', (s) => { s.bricks[2].inputs.boxes = 'ocr-det.polygons'; });
  rejects('PIPELINE_BAD_REFERENCE', (s) => { s.bricks[0].inputs.path = '$file'; });
  rejects('PIPELINE_BAD_REFERENCE', (s) => { s.bricks[0].inputs.path = 'image'; });
  rejects('PIPELINE_BAD_REFERENCE', (s) => { s.outputs.answer = 'lm.answer'; });
  rejects('PIPELINE_KIND_MISMATCH', (s) => { s.bricks[4].inputs.prompt = 'ocr-det.boxes'; });
  rejects('PIPELINE_CYCLE', (s) => { s.bricks[0].inputs.path = 'prompt.text'; });
  rejects('PIPELINE_CYCLE', (s) => { s.bricks[3].inputs.text = 'prompt.text'; });
  rejects('PIPELINE_BAD_PLACEMENT', (s) => { s.placement['ocr-det'] = 'webgpu'; });
  rejects('PIPELINE_BAD_PLACEMENT', (s) => { s.placement.vision = 'cpu'; });
  rejects('PIPELINE_BAD_PLACEMENT', () => undefined, { lm: 'onnx' });
  assert.throws(() => parsePlacement(['lm']), { code: 'PIPELINE_BAD_PLACEMENT' });
  assert.deepEqual(parsePlacement(['lm=wasm,ocr-det=onnx', 'prompt=cpu']), { lm: 'wasm', 'ocr-det': 'onnx', prompt: 'cpu' });
});

test('pipeline files: missing file and bad JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sf-pipe-'));
  assert.throws(() => loadPipelineFile(join(dir, 'none.json')), { code: 'PIPELINE_NOT_FOUND' });
  writeFileSync(join(dir, 'bad.json'), '{"version": 1, "bricks": [');
  assert.throws(() => loadPipelineFile(join(dir, 'bad.json')), { code: 'PIPELINE_BAD_JSON' });
});

test('runner executes a cpu-only graph and reports per-brick timings', async () => {
  const spec = {
    version: 1,
    name: 'size',
    inputs: { image: { kind: 'text' }, who: { kind: 'text' } },
    bricks: [
      { name: 'greet', type: 'text.template', inputs: { who: '$who' }, options: { template: 'Hello {who}, {who}!' } },
      { name: 'decode', type: 'image.decode', inputs: { path: '$image' } },
    ],
    outputs: { greeting: 'greet.text', pixels: 'decode.image' },
  };
  const loaded = await createPipeline(validatePipeline(spec));
  try {
    const img = join(repoRoot(), 'tests/fixtures/images/ocr-notice.png');
    const r = await loaded.run({ image: { kind: 'text', text: img }, who: { kind: 'text', text: 'Ada' } });
    assert.deepEqual(r.outputs.greeting, { kind: 'text', text: 'Hello Ada, Ada!' });
    const px = r.outputs.pixels!;
    assert.ok(px.kind === 'tensor' && px.dtype === 'u8');
    assert.deepEqual(px.shape, [256, 640, 3]);
    assert.deepEqual(Object.keys(r.timings.bricks).sort(), ['decode', 'greet']);
    assert.ok(r.timings.total_ms >= r.timings.bricks.decode!);
    await assert.rejects(loaded.run({ who: { kind: 'text', text: 'x' } }), { code: 'PIPELINE_INPUT_MISSING' });
    // A bad image is a typed error from the decode brick, not a crash.
    await assert.rejects(loaded.run({ image: { kind: 'text', text: join(repoRoot(), 'package.json') }, who: { kind: 'text', text: 'x' } }), { code: 'IMAGE_UNSUPPORTED_FORMAT' });
  } finally {
    loaded.dispose();
  }
});
