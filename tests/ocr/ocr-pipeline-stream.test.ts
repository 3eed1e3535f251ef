// `synflux run --pipeline pipelines/ocr-qa.json --image A --image B --json` streams the images
// through the pipelined executor (PP-OCRv4 on ONNX Runtime, SmolLM2-135M-Instruct greedy on the
// CPU kernels): one JSON line per image, in order, whose answers and OCR text equal two
// single-image runs of the same CLI (every brick on the main thread), then a summary line. By
// default a stream hosts the language model in a worker thread (so it overlaps OCR on the main
// thread); `--sequential` and `--worker none` (all on the main thread) give the same answers.
// (Speed is printed by the summary line, never asserted.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cliCommand } from '../cli/root.js';
import { fixturesModule, repoRoot } from '../helpers/paths.js';

let images: string[] = [];

test.before(async () => {
  await (await fixturesModule()).ensureFixture('smollm2');
  const mod = (await import(pathToFileURL(join(repoRoot(), 'scripts/fixtures/ocr-images.mjs')).href)) as { ensureOcrImages(): string };
  images = [join(repoRoot(), 'tests/fixtures/images/ocr-notice.png'), join(mod.ensureOcrImages(), 'imageTextN.png')];
});

interface ItemJson { index?: number; image?: string; answer: string; ocr_text: string; placement: Record<string, string>; timings: { total_ms: number; bricks: Record<string, number> } }

test('run --pipeline with two --image: per-item JSON lines equal two single-image runs; --sequential and --worker none agree', () => {
  const root = repoRoot();
  const [node, args] = cliCommand(root);
  const run = (...extra: string[]) => {
    const r = spawnSync(node, [...args, 'run', '--pipeline', 'pipelines/ocr-qa.json', '--prompt', 'What is this about?', '--max-tokens', '6', '--threads', '1', '--json', ...extra], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr);
    return { lines: r.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown), stderr: r.stderr };
  };
  const single = images.map((img) => run('--image', img).lines);
  for (const s of single) {
    assert.equal(s.length, 1);
    assert.equal((s[0] as ItemJson).index, undefined, 'one image keeps the single-run JSON (no index)');
  }
  for (const mode of [[], ['--sequential'], ['--worker', 'none']]) {
    const { lines, stderr } = run(...images.flatMap((i) => ['--image', i]), ...mode);
    assert.equal(lines.length, images.length + 1, stderr);
    const items = lines.slice(0, images.length) as ItemJson[];
    items.forEach((it, i) => {
      const one = single[i]![0] as ItemJson;
      assert.equal(it.index, i);
      assert.equal(it.image, images[i]);
      assert.equal(it.answer, one.answer, `image ${i}: streamed answer differs from a single run`);
      assert.equal(it.ocr_text, one.ocr_text);
      assert.deepEqual(it.placement, one.placement);
      assert.deepEqual(Object.keys(it.timings.bricks), ['image', 'ocr-det', 'ocr-rec', 'prompt', 'lm']);
    });
    assert.ok(items[0]!.ocr_text.includes('Saturday:10:00'), items[0]!.ocr_text);
    const summary = (lines[images.length] as { summary: { items: number; wall_ms: number; ms_per_item: number; mode: string; depth: number; workers: string[] } }).summary;
    assert.equal(summary.items, images.length);
    assert.equal(summary.mode, mode[0] === '--sequential' ? 'sequential' : 'pipelined');
    assert.equal(summary.depth, 2);
    assert.deepEqual(summary.workers, mode[0] === '--worker' ? [] : ['lm']);
    assert.ok(summary.wall_ms > 0 && summary.ms_per_item > 0);
    console.log(`# ${mode.join(' ') || 'pipelined'}: ${summary.ms_per_item.toFixed(0)} ms/item over ${summary.items} items (not asserted)`);
  }
});
