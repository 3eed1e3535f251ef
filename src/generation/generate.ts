/**
 * The generation loop: tokenize (optionally through the chat template) → prefill in one forward
 * call → sample / decode token by token, streaming UTF-8- and stop-string-aware text.
 *
 * Defaults follow llama.cpp (common/common.h `common_params_sampling`; see
 * {@link DEFAULT_SAMPLING}) except `maxTokens` (128 here; llama.cpp's n_predict -1 is "until the
 * context ends", available here as `maxTokens: -1`).
 */
import type { CausalLM } from '../models/causal-lm.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { RequestError } from '../core/errors.js';
import { Sampler, type SamplingOptions } from './samplers.js';
import { StopStringMatcher, type FinishReason } from './stopping.js';
import { Utf8Stream } from './utf8-stream.js';
import { renderChatPrompt, type ChatFormatter, type ChatMessage } from './chat-format.js';
import type { ImageEncoder } from '../multimodal/chunks.js';
import { evalChunks, prepareMultimodalPrompt, type MultimodalPrompt } from '../multimodal/prompt.js';

export type { FinishReason } from './stopping.js';
export type { ChatMessage, ChatFormatter } from './chat-format.js';

/**
 * Token ids currently held in a model's KV cache, positions [0, tokens.length). A request given
 * a cache reuses its longest common prefix with the new prompt and prefills only the rest
 * (multi-turn chat); the loop keeps `tokens` equal to what the cache holds.
 */
export interface PromptCache {
  tokens: number[];
}

/** One generation request. Sampling fields default to llama.cpp's defaults (see {@link SamplingOptions}). */
export interface GenerateRequest extends SamplingOptions {
  /** Raw prompt text (or, with `chat`, the single user message). */
  prompt?: string;
  /** Conversation to render with the chat template (implies `chat`). */
  messages?: ChatMessage[];
  /** Render `prompt` as one user turn with the chat template and `add_generation_prompt`. */
  chat?: boolean;
  /** Tokens to generate; -1 = until the context ends. Default 128. */
  maxTokens?: number;
  /** Stop strings: generation ends when the text contains one; it is not part of the output. */
  stop?: string[];
  /** Ends generation early with finishReason `abort`. */
  signal?: AbortSignal;
  /** Keep the KV cache between requests (reuse the common prefix). Without it the cache is cleared first. */
  cache?: PromptCache;
  /** Recognise special-token texts in a raw `prompt` (llama.cpp parse_special). Default false; templated chat text is always parsed. */
  parseSpecial?: boolean;
  /** Renders messages to text; default: the tokenizer's `chat_template` via @huggingface/jinja. */
  chatFormatter?: ChatFormatter;
  /**
   * Images (paths or encoded JPEG/PNG/WebP bytes). The prompt's `<__media__>` markers say where each
   * goes; without markers the images come before the text, as in llama.cpp's mtmd. Needs a vision
   * model: `vision`, or the one `loadModel(path, { mmproj })` attached to the model.
   */
  images?: readonly (Uint8Array | string)[];
  /** Vision encoder for `images` (default: the model's own `vision`). */
  vision?: ImageEncoder;
}

/** Wall-clock timings of one request. */
export interface GenerateTimings {
  /** Time in the prefill forward call (ms). */
  prefillMs: number;
  /** Time in single-token (decode) forward calls (ms). */
  decodeMs: number;
  /** Time in the sampler (ms). */
  sampleMs: number;
  /** Prefilled tokens per second (tokens actually evaluated, i.e. after cache reuse). */
  prefillTokS: number;
  /** Decode forward calls per second. */
  decodeTokS: number;
  /** Tokens evaluated by the prefill call. */
  prefillTokens: number;
  /** Decode forward calls. */
  decodeTokens: number;
  /** Time encoding images with the vision model (ms; 0 without images). */
  imageEncodeMs?: number;
}

/** Outcome of a request (also the payload of the final `done` event). */
export interface GenerateResult {
  /** Generated text, without the stop string and without end-of-generation tokens. */
  text: string;
  /** Generated token ids (the EOG token, when generation ended on one, is not included). */
  tokens: number[];
  /** Prompt length in tokens. */
  promptTokens: number;
  finishReason: FinishReason;
  /** The stop string that ended generation, when finishReason is `stop`. */
  stopString?: string;
  /** The sampling seed used (reproduce a run by passing it back). */
  seed: number;
  timings: GenerateTimings;
}

/** A streamed event: one per generated token, then one `done`. */
export type GenerateEvent =
  | { type: 'token'; id: number; /** Newly releasable text ('' while held back). */ text: string }
  /** Text released at the end without a new token (a tail held back as a possible stop-string start). */
  | { type: 'text'; text: string }
  | ({ type: 'done' } & GenerateResult);

/**
 * Tokenizes a request's prompt: chat messages through the template (then add_special and
 * parse_special, with a template-rendered leading BOS text removed when the tokenizer adds BOS
 * itself, as llama.cpp common/chat.cpp does), or raw text with add_special.
 * @returns int32 token ids (a promise: the template engine is loaded lazily).
 * @throws RequestError when neither or both of prompt/messages are given, or the result is empty.
 */
export async function tokenizeRequest(tokenizer: Tokenizer, req: GenerateRequest): Promise<number[]> {
  if (req.prompt !== undefined && req.messages !== undefined) {
    throw new RequestError('BAD_REQUEST', 'give either prompt or messages, not both');
  }
  if (req.prompt === undefined && req.messages === undefined) {
    throw new RequestError('BAD_REQUEST', 'a prompt or messages is required');
  }
  let ids: number[];
  if (req.messages !== undefined || req.chat) {
    const messages = req.messages ?? [{ role: 'user', content: req.prompt! }];
    const text = await renderChatPrompt(tokenizer, messages, req.chatFormatter);
    ids = tokenizer.encode(text, { addSpecial: true, parseSpecial: true });
  } else {
    ids = tokenizer.encode(req.prompt!, { addSpecial: true, parseSpecial: req.parseSpecial ?? false });
  }
  if (ids.length === 0) throw new RequestError('EMPTY_PROMPT', 'the prompt is empty after tokenization');
  return ids;
}

/**
 * Encodes a request's images and builds its multimodal chunks (src/multimodal/prompt.ts).
 * @throws RequestError (`NO_VISION_MODEL`) when neither the request nor the model has a vision encoder.
 */
async function prepareImages(model: CausalLM, request: GenerateRequest): Promise<MultimodalPrompt> {
  const vision = request.vision ?? (model as CausalLM & { vision?: ImageEncoder }).vision;
  if (!vision) {
    throw new RequestError('NO_VISION_MODEL', 'images were given but the model has no vision encoder (load it with an mmproj file)');
  }
  return prepareMultimodalPrompt(model.tokenizer, model.config.nEmbd, vision, { ...request, images: request.images ?? [] });
}

/** Length of the common prefix of two id sequences. */
export function commonPrefixLength(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * A language model whose forward pass may be asynchronous: a {@link CausalLM} running elsewhere
 * (the `webgpu` device's page model, src/backends/webgpu/remote-lm.ts, adapted by
 * src/pipelines/bricks/llm-generate-webgpu.ts). Token ids in, float32 logits `[nVocab]` of the last
 * token out; `truncate(n)` keeps positions [0, n) of its KV cache. Image prompts need a
 * {@link CausalLM} (they run embeddings through `forwardEmbeddings`).
 */
export interface AsyncCausalLM {
  readonly config: CausalLM['config'];
  readonly tokenizer: Tokenizer;
  /** Context size (tokens). */
  readonly nCtx: number;
  /** Tokens held in the KV cache. */
  readonly nPast: number;
  forward(tokens: ArrayLike<number>): Float32Array | Promise<Float32Array>;
  truncate(n: number): void | Promise<void>;
}

/** True for an in-process model (the images path needs its embeddings forward). */
function isCausalLM(m: CausalLM | AsyncCausalLM): m is CausalLM {
  return typeof (m as CausalLM).dispose === 'function';
}

/**
 * Generates text from a model, streaming one `token` event per sampled token and a final
 * `done` event.
 *
 * The prompt must fit in the context (nPrompt ≤ nCtx); generation is capped so that every
 * token that needs a forward pass fits: at most nCtx − nPrompt + 1 tokens (the last sampled
 * token is never forwarded), finishReason `length` when the cap or `maxTokens` is reached.
 *
 * The model's `forward` / `truncate` are awaited, so the same loop drives an in-process
 * {@link CausalLM} and a model on another device ({@link AsyncCausalLM}).
 *
 * @throws RequestError on invalid options, an empty prompt or a prompt longer than the context,
 *   `UNSUPPORTED_OPTION` for images with an {@link AsyncCausalLM}; errors of `model.forward` propagate.
 */
export async function* generate(model: CausalLM | AsyncCausalLM, request: GenerateRequest): AsyncGenerator<GenerateEvent> {
  const tok = model.tokenizer;
  const maxTokens = request.maxTokens ?? 128;
  if (!Number.isInteger(maxTokens) || maxTokens < -1) {
    throw new RequestError('BAD_SAMPLING_OPTION', `maxTokens must be an integer ≥ -1, got ${maxTokens}`);
  }
  const sampler = new Sampler(model.config.nVocab, request, model.nCtx);
  const hasImages = request.images !== undefined && request.images.length > 0;
  if (hasImages && !isCausalLM(model)) throw new RequestError('UNSUPPORTED_OPTION', 'this model takes no images (run the LM on cpu or wasm for a vision prompt)');
  const mm = hasImages ? await prepareImages(model as CausalLM, request) : null;
  // With images, `prompt` holds the text tokens only (penalty window); positions count the image rows too.
  const prompt = mm ? mm.textTokens : await tokenizeRequest(tok, request);
  const nPrompt = mm ? mm.nPositions : prompt.length;
  const nCtx = model.nCtx;
  if (nPrompt > nCtx) {
    throw new RequestError(
      'CONTEXT_OVERFLOW',
      `the prompt is ${nPrompt} tokens but the context holds ${nCtx}; shorten the prompt or raise the context size`,
    );
  }
  const budget = nCtx - nPrompt + 1;
  const maxGen = maxTokens === -1 ? budget : Math.min(maxTokens, budget);

  const timings: GenerateTimings = {
    prefillMs: 0, decodeMs: 0, sampleMs: 0, prefillTokS: 0, decodeTokS: 0, prefillTokens: 0, decodeTokens: 0,
  };
  const tokens: number[] = [];
  let text = '';
  let finishReason: FinishReason = 'length';
  let stopString: string | undefined;
  const done = (): GenerateEvent => {
    timings.prefillTokS = timings.prefillMs > 0 ? (timings.prefillTokens * 1000) / timings.prefillMs : 0;
    timings.decodeTokS = timings.decodeMs > 0 ? (timings.decodeTokens * 1000) / timings.decodeMs : 0;
    return {
      type: 'done', text, tokens, promptTokens: nPrompt, finishReason, seed: sampler.seed, timings,
      ...(stopString !== undefined ? { stopString } : {}),
    };
  };

  if (request.signal?.aborted) {
    finishReason = 'abort';
    yield done();
    return;
  }
  if (maxGen === 0) {
    yield done();
    return;
  }

  // KV cache: reuse the common prefix with the tracked cache contents, or start empty.
  const cache = request.cache ?? { tokens: [] };
  if (!request.cache || model.nPast !== cache.tokens.length) cache.tokens.length = 0;
  let t: number;
  let logits: Float32Array;
  if (mm) {
    // Image positions cannot be described by token ids: no prefix reuse, and the tracked cache stays
    // empty so that the next request (nPast ≠ 0) starts afresh.
    const lm = model as CausalLM;
    lm.truncate(0);
    cache.tokens.length = 0;
    timings.imageEncodeMs = mm.encodeMs;
    t = performance.now();
    logits = evalChunks(lm, mm.chunks);
    timings.prefillMs = performance.now() - t;
    timings.prefillTokens = mm.nPositions;
  } else {
    // At least one token must be evaluated to get logits for the next one.
    const keep = Math.min(commonPrefixLength(cache.tokens, prompt), prompt.length - 1);
    await model.truncate(keep);
    cache.tokens.length = keep;
    const suffix = prompt.slice(keep);
    t = performance.now();
    logits = await model.forward(suffix);
    timings.prefillMs = performance.now() - t;
    timings.prefillTokens = suffix.length;
    for (const id of suffix) cache.tokens.push(id);
  }
  // Prompt tokens enter the penalty window too, as in llama.cpp's llama-cli and server.
  for (const id of prompt) sampler.accept(id);

  const utf8 = new Utf8Stream();
  const stops = new StopStringMatcher(request.stop ?? []);
  for (;;) {
    if (request.signal?.aborted) {
      finishReason = 'abort';
      break;
    }
    t = performance.now();
    const id = sampler.sample(logits);
    sampler.accept(id);
    timings.sampleMs += performance.now() - t;
    if (tok.isEog(id)) {
      finishReason = 'eog';
      break;
    }
    tokens.push(id);
    const r = stops.push(utf8.push(tok.tokenBytes(id)));
    text += r.emit;
    yield { type: 'token', id, text: r.emit };
    if (r.stop !== undefined) {
      finishReason = 'stop';
      stopString = r.stop;
      break;
    }
    if (tokens.length >= maxGen) {
      finishReason = 'length';
      break;
    }
    await yieldToEventLoop(); // lets abort signals and timers fire between tokens
    if (request.signal?.aborted) {
      finishReason = 'abort';
      break;
    }
    t = performance.now();
    logits = await model.forward([id]);
    timings.decodeMs += performance.now() - t;
    timings.decodeTokens++;
    if (!mm) cache.tokens.push(id);
  }
  if (finishReason !== 'stop') {
    // Text held back as a possible stop-string start (or a dangling partial character) is output.
    const tail = stops.push(utf8.flush()).emit + stops.flush();
    text += tail;
    if (tail) yield { type: 'text', text: tail };
  }
  yield done();
}

/**
 * Runs {@link generate} to completion.
 * @returns the `done` event's payload.
 * @throws as {@link generate}.
 */
export async function generateText(model: CausalLM | AsyncCausalLM, request: GenerateRequest): Promise<GenerateResult> {
  for await (const ev of generate(model, request)) {
    if (ev.type === 'done') {
      const { type: _type, ...result } = ev;
      return result;
    }
  }
  throw new Error('unreachable: generate ended without a done event');
}
