/**
 * Chat messages → prompt text. By default the model's own Jinja `tokenizer.chat_template` is
 * rendered (through src/tokenizers/chat-template.ts, @huggingface/jinja, loaded lazily so plain
 * completion never loads the template engine); models without a template fall back to ChatML,
 * as llama.cpp does (src/llama-chat.cpp, `LLM_CHAT_TEMPLATE_CHATML` default).
 */
import type { Tokenizer } from '../tokenizers/tokenizer.js';

/** One chat turn. `role` is usually `system`, `user` or `assistant`. */
export interface ChatMessage {
  role: string;
  content: string;
}

/** Renders a conversation to prompt text, ending with the assistant generation prompt. */
export type ChatFormatter = (messages: readonly ChatMessage[]) => string | Promise<string>;

/** ChatML, the fallback template (identical to the one llama.cpp applies for `chatml`). */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/**
 * Renders messages with `formatter` when given, else the tokenizer's chat template (ChatML when
 * it has none) with add_generation_prompt and the tokenizer's BOS/EOS texts.
 * @throws whatever the template engine throws on a broken template (TokenizerError expected).
 */
export async function renderChat(
  tokenizer: Tokenizer,
  messages: readonly ChatMessage[],
  formatter?: ChatFormatter,
): Promise<string> {
  if (formatter) return formatter(messages);
  const { applyChatTemplate } = await import('../tokenizers/chat-template.js');
  const text = (id: number): string => (id >= 0 ? tokenizer.tokenText(id) : '');
  return applyChatTemplate(tokenizer.chatTemplate ?? CHATML_TEMPLATE, [...messages], {
    addGenerationPrompt: true,
    bosToken: text(tokenizer.bos),
    eosToken: text(tokenizer.eos),
  });
}

/**
 * {@link renderChat}, then drops a template-rendered leading BOS text when the tokenizer adds BOS
 * itself (as llama.cpp common/chat.cpp does), so the prompt never starts with two BOS tokens.
 * @throws as {@link renderChat}.
 */
export async function renderChatPrompt(
  tokenizer: Tokenizer,
  messages: readonly ChatMessage[],
  formatter?: ChatFormatter,
): Promise<string> {
  const text = await renderChat(tokenizer, messages, formatter);
  const bosText = tokenizer.bos >= 0 ? tokenizer.tokenText(tokenizer.bos) : '';
  return tokenizer.addBos && bosText && text.startsWith(bosText) ? text.slice(bosText.length) : text;
}
