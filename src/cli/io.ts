/**
 * The streams a CLI command talks through, injectable so commands can be driven from tests.
 * stdout carries only payload (generated text or JSON); everything else goes to stderr.
 */
import type { Readable, Writable } from 'node:stream';

/** A writable stream that may be a terminal. */
export type OutStream = Writable & { isTTY?: boolean };

/** Standard streams of a command. */
export interface CliIO {
  stdin: Readable & { isTTY?: boolean };
  stdout: OutStream;
  stderr: OutStream;
  /** Environment variables (SYNFLUX_MODEL, SYNFLUX_DEBUG). */
  env: Record<string, string | undefined>;
}

/** The process's own streams and environment. */
export function processIO(): CliIO {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** Writes one `[synflux] …` log line to stderr. */
export function log(io: CliIO, message: string): void {
  io.stderr.write(`[synflux] ${message}\n`);
}

/** Formats a byte count with binary units (B, KiB, MiB, GiB), one decimal. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${n.toFixed(1)} ${units[u]}`;
}
