/**
 * Test helpers: llama.cpp's `models/ggml-vocab-*.gguf` files and their `.inp`/`.out` reference
 * tokenizations (format of llama.cpp `tests/test-tokenizer-0.cpp`: inputs separated by a line
 * `__ggml_vocab_test__`, outputs one line of space-separated ids per input, encoded with
 * add_special=false, parse_special=false).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** One reference case: input text and expected ids. */
export interface VocabCase {
  input: string;
  expected: number[];
}

/** Parse a `.inp`/`.out` pair. */
export function readVocabCases(inpPath: string, outPath: string): VocabCase[] {
  const raw = readFileSync(inpPath, 'utf8');
  const sep = '\n__ggml_vocab_test__\n';
  const inputs: string[] = [];
  let pos = 0;
  while (pos < raw.length) {
    const next = raw.indexOf(sep, pos);
    if (next < 0) {
      inputs.push(raw.slice(pos));
      break;
    }
    inputs.push(raw.slice(pos, next));
    pos = next + sep.length;
  }
  const outputs = readFileSync(outPath, 'utf8').split('\n');
  if (outputs.length > 0 && outputs[outputs.length - 1] === '') outputs.pop();
  if (outputs.length !== inputs.length) throw new Error(`${inpPath}: ${inputs.length} inputs but ${outputs.length} outputs`);
  return inputs.map((input, i) => {
    const line = outputs[i]!.trim();
    return { input, expected: line.length === 0 ? [] : line.split(' ').map((s) => Number.parseInt(s, 10)) };
  });
}

/** Vocab names (`ggml-vocab-<name>.gguf`) in a models dir that have `.inp`/`.out` cases. */
export function listVocabFiles(modelsDir: string): string[] {
  if (!existsSync(modelsDir)) return [];
  return readdirSync(modelsDir)
    .filter((f) => f.startsWith('ggml-vocab-') && f.endsWith('.gguf') && existsSync(join(modelsDir, `${f}.inp`)) && existsSync(join(modelsDir, `${f}.out`)))
    .map((f) => f.slice('ggml-vocab-'.length, -'.gguf'.length))
    .sort();
}
