/**
 * CTC greedy decoding for PP-OCR recognizers, as PaddleOCR's ppocr/postprocess/rec_postprocess.py
 * `CTCLabelDecode` (BaseRecLabelDecode with use_space_char=True): the class list is
 * `['blank'] + dictionary lines + [' ']`; per time step take the arg-max class; drop repeats of
 * the previous step's class and the blank (class 0); the confidence is the mean arg-max
 * probability of the kept steps (0 for an empty string).
 */
import { readFileSync } from 'node:fs';
import { ModelFormatError } from '../../core/errors.js';

/** A CTC alphabet: `chars[k]` is the text of class k (`chars[0]` is the blank). */
export interface CtcAlphabet {
  readonly chars: readonly string[];
}

/**
 * Builds the alphabet from a PaddleOCR character dictionary (one character per line, e.g.
 * ppocr_keys_v1.txt: 6,623 lines → 6,625 classes with blank and space).
 * @throws ModelFormatError (`OCR_DICT_EMPTY`) when the dictionary has no entries.
 */
export function alphabetFromDictionary(text: string, useSpaceChar = true): CtcAlphabet {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new ModelFormatError('OCR_DICT_EMPTY', 'OCR character dictionary is empty');
  return { chars: ['blank', ...lines, ...(useSpaceChar ? [' '] : [])] };
}

/**
 * Reads a dictionary file (see {@link alphabetFromDictionary}).
 * @throws ModelFormatError (`OCR_DICT_NOT_FOUND`) when the file cannot be read; `OCR_DICT_EMPTY`.
 */
export function loadAlphabet(path: string, useSpaceChar = true): CtcAlphabet {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ModelFormatError('OCR_DICT_NOT_FOUND', `OCR character dictionary not readable: ${path}`, { cause: e });
  }
  return alphabetFromDictionary(text, useSpaceChar);
}

/** One decoded text line. */
export interface CtcResult {
  readonly text: string;
  /** Mean probability of the kept characters, in [0, 1]. */
  readonly score: number;
}

/**
 * Greedy CTC decode of one sequence.
 * @param probs class probabilities float32 `[steps, classes]` (row-major), as the recognizer's
 *   softmax output for one image.
 * @param steps time steps; `probs.length` must equal `steps · alphabet.chars.length`.
 * @throws ModelFormatError (`OCR_CLASSES_MISMATCH`) when the sizes disagree with the alphabet.
 */
export function ctcGreedyDecode(probs: Float32Array, steps: number, alphabet: CtcAlphabet): CtcResult {
  const nc = alphabet.chars.length;
  if (probs.length !== steps * nc) {
    throw new ModelFormatError('OCR_CLASSES_MISMATCH', `recognizer output has ${probs.length} values, expected ${steps} steps × ${nc} classes`);
  }
  let text = '';
  let sum = 0, kept = 0, prev = -1;
  for (let t = 0; t < steps; t++) {
    let best = 0, bp = probs[t * nc]!;
    for (let k = 1; k < nc; k++) {
      const v = probs[t * nc + k]!;
      if (v > bp) { bp = v; best = k; }
    }
    if (best !== 0 && best !== prev) {
      text += alphabet.chars[best]!;
      sum += bp;
      kept++;
    }
    prev = best;
  }
  return { text, score: kept > 0 ? sum / kept : 0 };
}
