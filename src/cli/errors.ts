/**
 * How the CLI reports errors: `error: <message> (<code>)` on stderr and exit status 1; a stack
 * trace only with SYNFLUX_DEBUG=1. SynfluxError subclasses carry the stable code; other errors
 * (bugs, system errors) print their message, and their `code` too when they have one (ENOENT…).
 */
import { SynfluxError } from '../core/errors.js';

/**
 * Formats an error for stderr (no trailing newline).
 * @param debug append the stack trace (and the cause's) when true.
 */
export function formatError(e: unknown, debug: boolean): string {
  let line: string;
  if (e instanceof SynfluxError) line = `error: ${e.message} (${e.code})`;
  else if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    line = `error: ${e.message}${typeof code === 'string' ? ` (${code})` : ''}`;
  } else line = `error: ${String(e)}`;
  if (debug && e instanceof Error && e.stack) {
    line += `\n${e.stack}`;
    if (e.cause instanceof Error && e.cause.stack) line += `\ncaused by: ${e.cause.stack}`;
  }
  return line;
}

/** Whether SYNFLUX_DEBUG asks for stack traces (`1` or `true`). */
export function debugEnabled(env: Record<string, string | undefined>): boolean {
  const v = env.SYNFLUX_DEBUG;
  return v === '1' || v === 'true';
}
