/**
 * Fixture locations for tokenizer tests, resolved through scripts/fetch-fixtures.mjs (which clones
 * llama.cpp's source and downloads the real GGUF models into the git-ignored cache). Works both
 * under tsx (tests/…) and compiled (dist/tests/…): the repository root is found by walking up to
 * package.json.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'scripts', 'fetch-fixtures.mjs'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}

interface FixtureScript {
  ensureLlamaCppSource(): string;
  ensureFixture(key: string): Promise<string>;
}

async function script(): Promise<FixtureScript> {
  return (await import(pathToFileURL(join(repoRoot(), 'scripts', 'fetch-fixtures.mjs')).href)) as FixtureScript;
}

/** Directory holding llama.cpp's `ggml-vocab-*.gguf` files (clones llama.cpp when needed). */
export async function llamaCppVocabDir(): Promise<string> {
  return join((await script()).ensureLlamaCppSource(), 'models');
}

/** Path of llama.cpp's source checkout (for templates under models/templates). */
export async function llamaCppDir(): Promise<string> {
  return (await script()).ensureLlamaCppSource();
}

/** Path of a real model fixture (`smollm2` or `gemma3`), downloaded and hash-checked when needed. */
export async function realModel(key: 'smollm2' | 'gemma3'): Promise<string> {
  return (await script()).ensureFixture(key);
}
