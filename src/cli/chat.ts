/**
 * `synflux chat`: interactive multi-turn chat on a terminal, or one user turn per line of piped
 * stdin. The chat template is applied every turn and the KV cache is reused through a
 * {@link ChatSession}, so each turn prefills only the new suffix. `/reset` clears the
 * conversation, `/exit` (or end of input) quits; Ctrl-C stops the current reply, and quits at
 * the prompt.
 */
import { createInterface } from 'node:readline';
import { SynfluxError } from '../core/errors.js';
import { ChatSession } from '../generation/chat-session.js';
import { formatError } from './errors.js';
import { log, type CliIO } from './io.js';
import { loadCliModel } from './model.js';
import { parseGenerationOptions, parseModelOptions, type RawGenerationOptions, type RawModelOptions } from './options.js';
import { timingSummary } from './run.js';

/** Raw options of `synflux chat`. */
export interface RawChatOptions extends RawGenerationOptions, RawModelOptions {
  system?: string;
  /** Print per-turn timings on stderr (default: on a terminal only). */
  verbose?: boolean;
}

/** What a line of input asks for. */
export type ChatInput = { kind: 'exit' } | { kind: 'reset' } | { kind: 'empty' } | { kind: 'message'; text: string } | { kind: 'unknown'; command: string };

/** Classifies one input line: `/exit` (or `/quit`), `/reset`, blank, an unknown `/command`, or a message. */
export function parseChatInput(line: string): ChatInput {
  const t = line.trim();
  if (t === '') return { kind: 'empty' };
  if (t === '/exit' || t === '/quit') return { kind: 'exit' };
  if (t === '/reset') return { kind: 'reset' };
  if (/^\/[a-z]+$/.test(t)) return { kind: 'unknown', command: t };
  return { kind: 'message', text: line };
}

/**
 * Runs `synflux chat` until `/exit` or the end of input. A request error in one turn (e.g. the
 * conversation no longer fits the context) is printed and the session continues.
 * @throws RequestError on bad options; model loading errors and non-request errors propagate.
 */
export async function chatCommand(raw: RawChatOptions, io: CliIO): Promise<void> {
  const gen = parseGenerationOptions(raw);
  if (gen.maxTokens === undefined) gen.maxTokens = -1; // a reply ends at EOG (or the context end), as in llama.cpp's chat
  const modelOpts = parseModelOptions(raw);
  const interactive = io.stdin.isTTY === true;
  const verbose = raw.verbose ?? interactive;
  const { model } = await loadCliModel(modelOpts, io);
  const session = new ChatSession(model, raw.system !== undefined ? { system: raw.system } : {});
  const rl = createInterface({ input: io.stdin, ...(interactive ? { output: io.stdout, terminal: true } : { terminal: false }) });
  let current: AbortController | undefined;
  const onInterrupt = (): void => {
    if (current) current.abort();
    else rl.close();
  };
  rl.on('SIGINT', onInterrupt);
  process.on('SIGINT', onInterrupt);
  if (interactive) log(io, 'chat ready: /reset clears the conversation, /exit quits, Ctrl-C stops a reply');
  try {
    rl.setPrompt('> ');
    if (interactive) rl.prompt();
    for await (const line of rl) {
      const input = parseChatInput(line);
      if (input.kind === 'exit') break;
      if (input.kind === 'reset') {
        session.reset();
        log(io, 'conversation cleared');
      } else if (input.kind === 'unknown') {
        log(io, `unknown command ${input.command} (try /reset or /exit)`);
      } else if (input.kind === 'message') {
        current = new AbortController();
        try {
          for await (const ev of session.send(input.text, { ...gen, signal: current.signal })) {
            if (ev.type !== 'done') io.stdout.write(ev.text);
            else {
              io.stdout.write('\n');
              if (verbose) log(io, timingSummary(ev));
            }
          }
        } catch (e) {
          if (!(e instanceof SynfluxError) || !/^(CONTEXT_OVERFLOW|EMPTY_PROMPT|BAD_REQUEST)$/.test(e.code)) throw e;
          io.stderr.write(`${formatError(e, false)}\n`);
          if (e.code === 'CONTEXT_OVERFLOW') log(io, 'the conversation no longer fits the context: /reset to start over');
        } finally {
          current = undefined;
        }
      }
      if (interactive) rl.prompt();
    }
  } finally {
    rl.removeListener('SIGINT', onInterrupt);
    process.removeListener('SIGINT', onInterrupt);
    rl.close();
    model.dispose();
  }
}
