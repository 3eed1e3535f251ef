#!/usr/bin/env node
/**
 * The `synflux` executable. Parses argv with the commander program; an error from a command is
 * printed as `error: <message> (<code>)` on stderr with exit status 1 (stack traces only with
 * SYNFLUX_DEBUG=1).
 */
import { buildProgram } from './program.js';
import { debugEnabled, formatError } from './errors.js';
import { processIO } from './io.js';

const io = processIO();
try {
  await buildProgram(io).parseAsync(process.argv);
} catch (e) {
  io.stderr.write(`${formatError(e, debugEnabled(io.env))}\n`);
  process.exitCode = 1;
}
