/**
 * Test helper: run python3 with llama.cpp's gguf-py on the path, to cross-check our GGUF code
 * against llama.cpp's own reader/writer. Tests skip when python3 or numpy is unavailable.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { repoRoot } from '../helpers/paths.js';
import { join } from 'node:path';

/** llama.cpp checkout used as the reference (read-only). */
export const LLAMA_CPP = join(repoRoot(), '.cache/llama.cpp');
const GGUF_PY = `${LLAMA_CPP}/gguf-py`;

/** Run `code` with python3 (gguf-py importable); returns stdout, throws with stderr on failure. */
export function runPython(code: string, args: string[] = []): string {
  const r = spawnSync('python3', ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(GGUF_PY)})\n${code}`, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`python3 failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

let cached: string | false | undefined;
/** `false` when python3 + numpy + gguf-py import fine, else a skip message. */
export function pythonGGUFSkip(): string | false {
  if (cached !== undefined) return cached;
  if (!existsSync(GGUF_PY)) return (cached = `llama.cpp gguf-py not found at ${GGUF_PY}`);
  try {
    runPython('import numpy\nimport gguf');
    cached = false;
  } catch (e) {
    cached = `python3 with numpy + gguf-py unavailable: ${(e as Error).message.split('\n').slice(0, 3).join(' ')}`;
  }
  return cached;
}

const modCache = new Map<string, string | false>();
/** `false` when python3 can import every module in `mods`, else a skip message naming them. */
export function pythonModulesSkip(...mods: string[]): string | false {
  const key = mods.join(',');
  const hit = modCache.get(key);
  if (hit !== undefined) return hit;
  let res: string | false = false;
  try {
    runPython(mods.map((m) => `import ${m}`).join('\n'));
  } catch (e) {
    res = `python3 modules [${key}] unavailable (pip install ${mods.join(' ')}): ${(e as Error).message.split('\n').slice(-2).join(' ')}`;
  }
  modCache.set(key, res);
  return res;
}
