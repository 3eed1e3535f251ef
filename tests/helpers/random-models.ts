// Random-weight F32 GGUF checkpoints (llama, qwen2, qwen3, gemma3) with real tokenizers, generated
// on demand into the git-ignored cache by scripts/reference/make-random-gguf.py (llama.cpp's gguf-py).
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { fixturesModule, repoRoot } from './paths.js';

const execFileP = promisify(execFile);

/** Architectures the random checkpoint generator writes. */
export const RANDOM_ARCHS = ['llama', 'qwen2', 'qwen3', 'gemma3'] as const;
/** One of {@link RANDOM_ARCHS}. */
export type RandomArch = (typeof RANDOM_ARCHS)[number];

/** Python packages the generator needs at runtime (gguf-py imports numpy and, through gguf.metadata, yaml). */
export const PYTHON_REQUIREMENTS = ['numpy==2.2.6', 'pyyaml==6.0.3'] as const;

let pythonReady: Promise<string> | undefined;

/**
 * Makes sure python3 can import numpy and yaml, installing the pinned versions with pip if not;
 * resolves to the numpy version in use.
 */
export function ensurePythonDeps(): Promise<string> {
  pythonReady ??= (async () => {
    const probe = async (): Promise<string | null> => {
      try {
        const { stdout } = await execFileP('python3', ['-c', 'import numpy, yaml; print(numpy.__version__)']);
        return stdout.trim();
      } catch { return null; }
    };
    const have = await probe();
    if (have) return have;
    process.stderr.write(`[random-models] pip install ${PYTHON_REQUIREMENTS.join(' ')}\n`);
    await execFileP('python3', ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', ...PYTHON_REQUIREMENTS]);
    const got = await probe();
    if (!got) throw new Error('numpy/yaml still not importable after pip install');
    return got;
  })();
  return pythonReady;
}

const pending = new Map<string, Promise<string>>();

/**
 * Path of the random checkpoint for `arch` (and `seed`, default 1) under .cache/random/, generating
 * it first when missing or stale. A `.stamp` file beside it records the generator script's SHA-256,
 * the seed and the numpy version, so editing the generator (or changing numpy) regenerates the
 * file. Needs the llama.cpp source (cloned from node-llama-cpp's bundle by ensureLlamaCppSource),
 * python3 and numpy/pyyaml (installed with pip when missing, see {@link PYTHON_REQUIREMENTS}).
 */
export function ensureRandomModel(arch: RandomArch, seed = 1): Promise<string> {
  if (!RANDOM_ARCHS.includes(arch)) throw new Error(`unknown random arch ${arch}`);
  const name = seed === 1 ? `${arch}.gguf` : `${arch}-seed${seed}.gguf`;
  let p = pending.get(name);
  if (!p) {
    p = (async () => {
      const { CACHE, ensureLlamaCppSource } = await fixturesModule();
      const out = join(CACHE, 'random', name);
      const SCRIPT = join(repoRoot(), 'scripts', 'reference', 'make-random-gguf.py');
      const llamaCpp = ensureLlamaCppSource();
      const numpy = await ensurePythonDeps();
      const scriptHash = createHash('sha256').update(readFileSync(SCRIPT)).digest('hex');
      const stamp = JSON.stringify({ script: scriptHash, seed, numpy });
      const stampPath = `${out}.stamp`;
      if (existsSync(out) && existsSync(stampPath) && readFileSync(stampPath, 'utf8') === stamp) return out;
      mkdirSync(dirname(out), { recursive: true });
      await execFileP('python3', [SCRIPT, '--arch', arch, '--out', out, '--seed', String(seed), '--llama-cpp', llamaCpp],
        { maxBuffer: 16 << 20 });
      writeFileSync(stampPath, stamp);
      return out;
    })();
    pending.set(name, p);
    p.catch(() => pending.delete(name));
  }
  return p;
}
