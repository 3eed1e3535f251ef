/**
 * Chat templates: render a conversation to the prompt text a model was trained on, using the Jinja
 * template stored in GGUF `tokenizer.chat_template` (or tokenizer_config.json `chat_template`).
 *
 * Engine: `@huggingface/jinja` (the JavaScript Jinja subset that transformers.js uses). Variables
 * follow Hugging Face `apply_chat_template`: `messages`, `add_generation_prompt`, `bos_token`,
 * `eos_token`; the engine's built-in `raise_exception(msg)` throws (reported as TokenizerError).
 */
import { Template } from '@huggingface/jinja';
import { TokenizerError } from '../core/errors.js';

/** One chat message. `role` is usually `system`, `user` or `assistant`. */
export interface ChatMessage {
  role: string;
  content: string;
}

/** Options of {@link applyChatTemplate}. */
export interface ChatTemplateOptions {
  /** End with the opening of an assistant turn (HF `add_generation_prompt`). Default false. */
  addGenerationPrompt?: boolean;
  /** Text of the BOS token, exposed to the template as `bos_token` (default ''). */
  bosToken?: string;
  /** Text of the EOS token, exposed to the template as `eos_token` (default ''). */
  eosToken?: string;
  /** Extra template variables (e.g. `tools`, `date_string`). */
  extra?: Record<string, unknown>;
}

const compiled = new Map<string, Template>();
const CACHE_LIMIT = 16;

function compile(template: string): Template {
  let t = compiled.get(template);
  if (t === undefined) {
    try {
      t = new Template(template);
    } catch (e) {
      throw new TokenizerError('CHAT_TEMPLATE_PARSE', `cannot parse chat template: ${(e as Error).message}`, { cause: e });
    }
    if (compiled.size >= CACHE_LIMIT) compiled.delete(compiled.keys().next().value!);
    compiled.set(template, t);
  }
  return t;
}

/**
 * Render messages with a Jinja chat template.
 * @param template Jinja source (e.g. `tokenizer.chatTemplate`).
 * @param messages conversation, oldest first.
 * @param opts generation prompt flag and BOS/EOS texts.
 * @returns the prompt text (special-token texts included literally: encode it with `parseSpecial`).
 * @throws TokenizerError `CHAT_TEMPLATE_PARSE` for a template that does not parse,
 *   `CHAT_TEMPLATE_RENDER` when rendering fails (including the template's own `raise_exception`).
 */
export function applyChatTemplate(template: string, messages: ChatMessage[], opts: ChatTemplateOptions = {}): string {
  const t = compile(template);
  try {
    return t.render({
      ...opts.extra,
      messages,
      add_generation_prompt: opts.addGenerationPrompt ?? false,
      bos_token: opts.bosToken ?? '',
      eos_token: opts.eosToken ?? '',
    });
  } catch (e) {
    throw new TokenizerError('CHAT_TEMPLATE_RENDER', `cannot render chat template: ${(e as Error).message}`, { cause: e });
  }
}
