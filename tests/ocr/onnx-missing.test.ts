// Without onnxruntime-node (simulated by a module-resolution hook that refuses the package), the
// library still loads and validates pipelines, and creating an ONNX brick is a typed
// BackendError ONNX_RUNTIME_MISSING rather than a crash at import time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../helpers/paths.js';
import { NO_ONNX_RUNTIME } from '../helpers/no-onnx.js';


test('no onnxruntime-node: library loads, pipelines validate, OnnxBrick.create is ONNX_RUNTIME_MISSING', () => {
  const here = new URL('.', import.meta.url);
  const index = new URL('../../src/index.js', here).href;
  const script = `
    const sf = await import(${JSON.stringify(index)});
    const p = sf.loadPipelineFile(${JSON.stringify(join(repoRoot(), 'pipelines/ocr-qa.json'))});
    let code = 'none';
    try { await sf.OnnxBrick.create({ name: 'det', modelPath: ${JSON.stringify(join(repoRoot(), 'package.json'))} }); }
    catch (e) { code = e.name + ':' + e.code; }
    console.log(JSON.stringify({ order: p.order, code }));`;
  const tsx = pathToFileURL(join(repoRoot(), 'node_modules/tsx/dist/esm/index.mjs')).href;
  const r = spawnSync(process.execPath, ['--import', NO_ONNX_RUNTIME, '--import', tsx, '--input-type=module', '-e', script], { cwd: repoRoot(), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { order: string[]; code: string };
  assert.deepEqual(out.order, ['image', 'ocr-det', 'ocr-rec', 'prompt', 'lm']);
  assert.equal(out.code, 'BackendError:ONNX_RUNTIME_MISSING');
});
