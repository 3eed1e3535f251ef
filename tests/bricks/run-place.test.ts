/**
 * `synflux run --model LM --mmproj MMPROJ --place vision=wasm|lm=wasm` on the random SmolVLM-style
 * checkpoint: the pins reach the loader (greedy text from the wasm vision projector; exact token
 * equality with the cpu projector is checked in-process on the native scalar path in
 * tests/bricks/vision-wasm.test.ts), and bad pins are typed errors with exit status 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cliCommand, repoRoot } from '../cli/root.js';
import { ensureVlmCheckpoint } from '../vision/vlm-fixtures.js';

const root = repoRoot(import.meta.url);

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const [node, pre] = cliCommand(root);
  return spawnSync(node, [...pre, 'run', ...args], { cwd: root, encoding: 'utf8' });
}

test('run --place vision=wasm / lm=wasm with --mmproj: generates; bad pins are BAD_PIN', async () => {
  const dir = await ensureVlmCheckpoint('smolvlm');
  const base = ['--model', join(dir, 'model.gguf'), '--mmproj', join(dir, 'mmproj.gguf'), '--image', join(dir, 'image.png'), '--prompt', 'Describe the image.',
    '--max-tokens', '4', '--temperature', '0', '--threads', '1', '--json'];
  for (const place of ['vision=wasm', 'vision=wasm,lm=wasm']) {
    const r = run([...base, '--place', place]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { token_ids: number[]; prompt_tokens: number };
    assert.equal(out.token_ids.length, 4, place);
    assert.ok(out.prompt_tokens > 45, 'five tiles of nine image rows are in the prompt');
  }
  for (const [place, msg] of [['vision=onnx', /cpu or wasm/], ['ocr=cpu', /bricks lm and vision/], ['vision', /BRICK=DEVICE/]] as const) {
    const r = run([...base, '--place', place]);
    assert.equal(r.status, 1, place);
    assert.match(r.stderr, /BAD_PIN/);
    assert.match(r.stderr, msg);
  }
  const noMmproj = run(['--model', join(dir, 'model.gguf'), '--prompt', 'x', '--max-tokens', '1', '--place', 'vision=wasm']);
  assert.equal(noMmproj.status, 1);
  assert.match(noMmproj.stderr, /needs --mmproj/);
  const clash = run([...base, '--place', 'lm=wasm', '--backend', 'cpu']);
  assert.equal(clash.status, 1);
  assert.match(clash.stderr, /contradicts --backend cpu/);
});
