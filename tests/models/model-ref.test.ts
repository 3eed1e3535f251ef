/**
 * src/models/model-ref.ts: the one resolver of model references (paths and `fixture:NAME`) used by
 * the CLI, pipeline files and the planner.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { resolveModelRef } from '../../src/models/model-ref.js';
import { packageRoot } from '../../src/core/package-root.js';
import { RequestError } from '../../src/core/errors.js';

const notFound = (re: RegExp) => (e: unknown): boolean => e instanceof RequestError && e.code === 'MODEL_NOT_FOUND' && re.test(e.message);

test('a fixture reference resolves to its cached file (fetched by the test runner), without fetching', async () => {
  assert.equal(await resolveModelRef('fixture:smollm2'), join(packageRoot(), '.cache', 'models', 'SmolLM2-135M-Instruct.Q4_1.gguf'));
});

test('an unknown fixture and a missing file are MODEL_NOT_FOUND naming the cause', async () => {
  await assert.rejects(resolveModelRef('fixture:no-such-model'), notFound(/unknown fixture fixture:no-such-model .*known: .*smollm2/));
  await assert.rejects(resolveModelRef('/nonexistent/model.gguf', { source: '--model' }), notFound(/model file not found: \/nonexistent\/model\.gguf \(from --model\)/));
});

test('a relative path resolves against the working directory', async () => {
  const rel = join('.cache', 'models', 'SmolLM2-135M-Instruct.Q4_1.gguf');
  const prev = process.cwd();
  process.chdir(packageRoot());
  try {
    assert.equal(await resolveModelRef(rel), join(packageRoot(), rel));
  } finally {
    process.chdir(prev);
  }
});
