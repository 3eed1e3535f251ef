/**
 * Multi-turn chat over one model with KV-cache reuse: each turn renders the whole conversation
 * with the chat template, and only the suffix after the longest common prefix with the tokens
 * already in the cache is prefilled (llama.cpp server's `cache_prompt` behaviour).
 */
import type { CausalLM } from '../models/causal-lm.js';
import { generate, type ChatMessage, type GenerateEvent, type GenerateRequest, type PromptCache } from './generate.js';

/** Options of one chat turn: a generation request minus what the session supplies. */
export type ChatTurnOptions = Omit<GenerateRequest, 'prompt' | 'messages' | 'chat' | 'cache'>;

/** A conversation with one model. Not safe for concurrent turns (the KV cache is shared). */
export class ChatSession {
  /** The model whose KV cache this session owns while a turn runs. */
  readonly model: CausalLM;
  /** Conversation so far (system prompt first when given). */
  readonly messages: ChatMessage[] = [];
  /** Token ids held in the model's KV cache. */
  readonly cache: PromptCache = { tokens: [] };
  private readonly system?: string;

  /** @param system optional system prompt, kept across {@link reset}. */
  constructor(model: CausalLM, options: { system?: string } = {}) {
    this.model = model;
    if (options.system !== undefined) this.system = options.system;
    this.reset();
  }

  /** Forgets the conversation (keeping the system prompt) and clears the KV cache. */
  reset(): void {
    this.messages.length = 0;
    if (this.system !== undefined) this.messages.push({ role: 'system', content: this.system });
    this.model.truncate(0);
    this.cache.tokens.length = 0;
  }

  /**
   * Adds a user message and streams the assistant's reply (events as {@link generate}). When the
   * turn finishes, the reply text is appended to {@link messages}; on an error or abort before
   * `done` the user message is removed again.
   * @throws as {@link generate}.
   */
  async *send(content: string, options: ChatTurnOptions = {}): AsyncGenerator<GenerateEvent> {
    this.messages.push({ role: 'user', content });
    let completed = false;
    try {
      for await (const ev of generate(this.model, { ...options, messages: [...this.messages], cache: this.cache })) {
        if (ev.type === 'done') {
          this.messages.push({ role: 'assistant', content: ev.text });
          completed = true;
        }
        yield ev;
      }
    } finally {
      if (!completed) this.messages.pop();
    }
  }
}
