#!/usr/bin/env node
// The project's test command (`npm test`, also run by .ci/run): fetches fixtures, builds the
// native addon and the TypeScript, then runs every tests/**/*.test.ts file (compiled to dist/)
// with Node's built-in test runner. Extra arguments are passed to `node --test` as file filters.
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

run(process.execPath, ['scripts/fetch-fixtures.mjs', 'all']);
run(process.execPath, ['scripts/build-native.mjs']);
// Compiled tests of deleted sources must not linger in dist/.
rmSync(join(root, 'dist/tests'), { recursive: true, force: true });
run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);

function walk(dir) {
  const out = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const filters = process.argv.slice(2);
let files = walk(join(root, 'dist/tests')).map((f) => relative(root, f)).sort();
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
run(process.execPath, ['--test', '--test-concurrency=1', ...files]);
