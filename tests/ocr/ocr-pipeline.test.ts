// The shipped pipeline pipelines/ocr-qa.json end to end: image → PP-OCRv4 det → rec (ONNX
// Runtime) → prompt template → SmolLM2-135M-Instruct (SynFlux, greedy), through the library and
// through `synflux run --pipeline … --json`. The answer must use text read from the image (a time
// printed only in the image), and the OCR text must match the printed text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadPipelineFile } from '../../src/pipelines/validate.js';
import { createPipeline } from '../../src/pipelines/runner.js';
import { cliCommand } from '../cli/root.js';
import { fixturesModule, repoRoot } from '../helpers/paths.js';
import { cer, EXPECTED_TEXT } from './expected-text.js';

const NOTICE = (): string => join(repoRoot(), 'tests/fixtures/images/ocr-notice.png');

test.before(async () => {
  await (await fixturesModule()).ensureFixture('smollm2');
});

test('ocr-qa pipeline (library): the answer quotes the opening time read from the screenshot', async () => {
  const p = loadPipelineFile(join(repoRoot(), 'pipelines/ocr-qa.json'));
  const loaded = await createPipeline(p, { overrides: { lm: { threads: 2 } } });
  try {
    const r = await loaded.run({
      image: { kind: 'text', text: NOTICE() },
      prompt: { kind: 'text', text: 'What time does the library open on Saturday?' },
    });
    const ocr = r.outputs.ocr_text!, answer = r.outputs.answer!, prompt = r.outputs.prompt!;
    assert.ok(ocr.kind === 'text' && answer.kind === 'text' && prompt.kind === 'text');
    assert.ok(cer(ocr.text, EXPECTED_TEXT['ocr-notice.png']!.join('\n')) <= 0.02, ocr.text);
    assert.ok(prompt.text.startsWith('Text in the image:\n') && prompt.text.endsWith('\n\nQuestion: What time does the library open on Saturday?'));
    console.log(`# answer: ${JSON.stringify(answer.text)}`);
    assert.match(answer.text, /10:00/, `the answer should use the time printed in the image: ${answer.text}`);
    assert.deepEqual(Object.keys(r.timings.bricks), ['image', 'ocr-det', 'ocr-rec', 'prompt', 'lm']);
  } finally {
    loaded.dispose();
  }
});

test('synflux run --pipeline --json: answer, OCR text, per-brick timings; --place and bad images are typed errors', () => {
  const root = repoRoot();
  const [node, args] = cliCommand(root);
  const run = (...extra: string[]) => spawnSync(node, [...args, 'run', '--pipeline', 'pipelines/ocr-qa.json', ...extra], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const r = run('--image', NOTICE(), '--prompt', 'When is the library closed?', '--json', '--max-tokens', '24');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { answer: string; ocr_text: string; placement: Record<string, string>; timings: { total_ms: number; bricks: Record<string, number> } };
  assert.ok(j.ocr_text.includes('Saturday:10:00'), j.ocr_text);
  assert.equal(typeof j.answer, 'string');
  assert.ok(j.answer.length > 0);
  assert.deepEqual(j.placement, { image: 'cpu', 'ocr-det': 'onnx', 'ocr-rec': 'onnx', prompt: 'cpu', lm: 'cpu' });
  assert.deepEqual(Object.keys(j.timings.bricks).sort(), ['image', 'lm', 'ocr-det', 'ocr-rec', 'prompt']);
  const sum = Object.values(j.timings.bricks).reduce((a, b) => a + b, 0);
  assert.ok(j.timings.total_ms >= sum - 1 && j.timings.total_ms > 0);

  const bad = run('--image', join(root, 'package.json'), '--prompt', 'x');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /IMAGE_UNSUPPORTED_FORMAT/);
  const place = run('--image', NOTICE(), '--prompt', 'x', '--place', 'ocr-det=webgpu');
  assert.equal(place.status, 1);
  assert.match(place.stderr, /PIPELINE_BAD_PLACEMENT/);
});
