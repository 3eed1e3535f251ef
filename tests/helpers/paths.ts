// Repository paths that work both from the TypeScript sources (tsx) and from the compiled tests in
// dist/ (the test runner runs dist/tests/**), plus typed access to scripts/fetch-fixtures.mjs.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let root: string | undefined;

/** Absolute path of the repository root (the folder whose package.json is named "synflux"). */
export function repoRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (dir !== dirname(dir)) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && JSON.parse(readFileSync(pj, 'utf8')).name === 'synflux') return (root = dir);
    dir = dirname(dir);
  }
  throw new Error('repository root (package.json "synflux") not found');
}

/** The exports of scripts/fetch-fixtures.mjs. */
export interface FixturesModule {
  /** The git-ignored cache folder (SYNFLUX_CACHE or <root>/.cache). */
  CACHE: string;
  /** Clones llama.cpp's source from node-llama-cpp's bundle into the cache if needed; returns its path. */
  ensureLlamaCppSource(): string;
  /** Downloads/verifies a model fixture ('smollm2' | 'gemma3' | 'llamacpp'); returns its path. */
  ensureFixture(key: string): Promise<string>;
}

let fixtures: Promise<FixturesModule> | undefined;

/** Loads scripts/fetch-fixtures.mjs from the repository root (not bundled into dist/). */
export function fixturesModule(): Promise<FixturesModule> {
  fixtures ??= import(pathToFileURL(join(repoRoot(), 'scripts', 'fetch-fixtures.mjs')).href) as Promise<FixturesModule>;
  return fixtures;
}
