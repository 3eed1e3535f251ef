/**
 * `synflux inspect` on an mmproj GGUF shows the vision tower. The reference is the generator's own
 * manifest (scripts/reference/make-random-vlm.py writes dims, block counts and tokens per image
 * next to the files) and the mmproj's tensor list: projector, sizes, blocks and tokens per tile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliCommand } from '../cli/root.js';
import { repoRoot } from '../helpers/paths.js';
import { ensureVlmCheckpoint, VLM_FAMILIES } from './vlm-fixtures.js';

const root = repoRoot();

function inspect(path: string, json: boolean): string {
  const [node, args] = cliCommand(root);
  const r = spawnSync(node, [...args, 'inspect', path, ...(json ? ['--json'] : [])], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

for (const family of VLM_FAMILIES) {
  test(`inspect ${family} mmproj.gguf reports the vision tower`, async () => {
    const dir = await ensureVlmCheckpoint(family);
    const man = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { vision: Record<string, number | string | number[]> };
    const v = man.vision;
    const rep = JSON.parse(inspect(join(dir, 'mmproj.gguf'), true)) as { vision?: { config: Record<string, unknown>; tokensPerTile: number; blocksInFile: number } };
    assert.ok(rep.vision, 'no vision section');
    const c = rep.vision.config;
    assert.equal(c.projector, v.projector_type);
    assert.equal(c.imageSize, v.image_size);
    assert.equal(c.patchSize, v.patch_size);
    assert.equal(c.nEmbd, v.n_embd);
    assert.equal(c.nHead, v.n_head);
    assert.equal(rep.vision.blocksInFile, v.gguf_block_count);
    assert.equal(rep.vision.tokensPerTile, v.tokens_per_image);
    const text = inspect(join(dir, 'mmproj.gguf'), false);
    assert.match(text, /^vision tower$/m);
    assert.match(text, new RegExp(`projector\\s+${String(v.projector_type)}`));
    // a language model GGUF has no vision section
    const lm = JSON.parse(inspect(join(dir, 'model.gguf'), true)) as { vision?: unknown };
    assert.equal(lm.vision, undefined);
  });
}
