// Random-weight VLM checkpoints (scripts/reference/make-random-vlm.py, llama.cpp's gguf-py + numpy)
// generated on demand into .cache/vlm/<family>, and the golden files the reference scripts wrote
// once into tests/fixtures/vlm/<family>/ (llama.cpp mtmd embeddings and preprocessed pixels, or
// the PyTorch reference for LLaVA).
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fixturesModule, repoRoot } from '../helpers/paths.js';
import { ensurePythonDeps } from '../helpers/random-models.js';

const execFileP = promisify(execFile);

/** Families the generator writes. */
export const VLM_FAMILIES = ['smolvlm', 'llava', 'gemma3'] as const;
export type VlmFamily = (typeof VLM_FAMILIES)[number];

const pending = new Map<string, Promise<string>>();

/**
 * Folder of the random checkpoint of `family` (seed 1) under .cache/vlm/, generated first when
 * missing or stale (a `.stamp` records the generator's SHA-256 and the numpy version).
 */
export function ensureVlmCheckpoint(family: VlmFamily): Promise<string> {
  let p = pending.get(family);
  if (!p) {
    p = (async () => {
      const { CACHE, ensureLlamaCppSource } = await fixturesModule();
      const out = join(CACHE, 'vlm', family);
      const script = join(repoRoot(), 'scripts', 'reference', 'make-random-vlm.py');
      const llamaCpp = ensureLlamaCppSource();
      const numpy = await ensurePythonDeps();
      const stamp = JSON.stringify({ script: createHash('sha256').update(readFileSync(script)).digest('hex'), seed: 1, numpy });
      const stampPath = join(out, '.stamp');
      if (existsSync(join(out, 'mmproj.gguf')) && existsSync(stampPath) && readFileSync(stampPath, 'utf8') === stamp) return out;
      mkdirSync(out, { recursive: true });
      await execFileP('python3', [script, '--family', family, '--out', out, '--seed', '1', '--llama-cpp', llamaCpp], { maxBuffer: 16 << 20 });
      writeFileSync(stampPath, stamp);
      return out;
    })();
    pending.set(family, p);
    p.catch(() => pending.delete(family));
  }
  return p;
}

/** Float32 little-endian file → Float32Array. */
export function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}

/** Folder of the committed goldens of a family (may not exist). */
export function goldenDir(family: VlmFamily): string {
  return join(repoRoot(), 'tests', 'fixtures', 'vlm', family);
}

/** ‖a − b‖ / ‖b‖ and max |a − b| over two equal-length arrays. */
export function compare(a: ArrayLike<number>, b: ArrayLike<number>): { rel: number; maxAbs: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let d2 = 0, n2 = 0, maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    d2 += d * d;
    n2 += b[i]! * b[i]!;
    maxAbs = Math.max(maxAbs, Math.abs(d));
  }
  return { rel: Math.sqrt(d2 / n2), maxAbs };
}

/** Concatenates float32 arrays. */
export function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
