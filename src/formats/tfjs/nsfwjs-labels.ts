/**
 * Class labels of an nsfwjs model. TF.js model files carry no labels; nsfwjs keeps them in its
 * package code (`dist/cjs/nsfw_classes.js`: `exports.NSFW_CLASSES = { 0: 'Drawing', … }`). When a
 * model file lies inside an installed nsfwjs package, this finds that file and reads the object
 * literal (parsed, never executed).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ModelFormatError } from '../../core/errors.js';
import { parseJsLiteral } from './js-literal.js';

/**
 * Labels of the nsfwjs package holding `modelPath`, in class-index order, or undefined when the
 * file is not inside an nsfwjs package.
 * @throws ModelFormatError `TFJS_BAD_LABELS` when the package's label file is malformed
 */
export function nsfwjsLabelsFor(modelPath: string): string[] | undefined {
  let dir = dirname(resolve(modelPath));
  for (let i = 0; i < 8 && dir !== dirname(dir); i++, dir = dirname(dir)) {
    const pj = join(dir, 'package.json');
    if (!existsSync(pj)) continue;
    let name: unknown;
    try {
      name = (JSON.parse(readFileSync(pj, 'utf8')) as { name?: unknown }).name;
    } catch {
      continue;
    }
    if (name !== 'nsfwjs') continue;
    const file = join(dir, 'dist', 'cjs', 'nsfw_classes.js');
    if (!existsSync(file)) return undefined;
    const src = readFileSync(file, 'utf8');
    const m = /NSFW_CLASSES\s*=\s*(?=\{)/.exec(src);
    if (!m) throw new ModelFormatError('TFJS_BAD_LABELS', `${file}: no NSFW_CLASSES object`);
    const obj = parseJsLiteral(src, m.index + m[0].length, file).value;
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new ModelFormatError('TFJS_BAD_LABELS', `${file}: NSFW_CLASSES is not an object`);
    const entries = Object.entries(obj);
    const labels: string[] = [];
    for (const [k, v] of entries) {
      const idx = Number(k);
      if (!Number.isInteger(idx) || idx < 0 || idx >= entries.length || typeof v !== 'string') throw new ModelFormatError('TFJS_BAD_LABELS', `${file}: bad entry ${k}`);
      labels[idx] = v;
    }
    if (labels.length !== entries.length || labels.some((l) => l === undefined)) throw new ModelFormatError('TFJS_BAD_LABELS', `${file}: class indices are not 0..n-1`);
    return labels;
  }
  return undefined;
}
