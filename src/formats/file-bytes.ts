/**
 * Whole-file byte access for model containers. For now this reads the file into memory with
 * `fs.readFileSync`; the intent is to replace it with an mmap-backed view later, so callers must
 * treat the returned bytes as read-only.
 */
import { readFileSync } from 'node:fs';
import { ModelFormatError } from '../core/errors.js';

/**
 * Read a whole file as bytes.
 * @param path file system path.
 * @returns a `Uint8Array` over the entire file contents (treat as read-only).
 * @throws ModelFormatError (`FILE_READ_FAILED`) when the file cannot be read (missing, directory,
 *   permission denied, larger than Node's buffer limit); the OS error is attached as `cause`.
 */
export function readFileBytes(path: string): Uint8Array {
  try {
    const buf = readFileSync(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new ModelFormatError('FILE_READ_FAILED', `cannot read ${path}: ${msg}`, { cause: err });
  }
}
