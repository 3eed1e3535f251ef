/**
 * Multimodal requests: text (raw or chat) + images → chunks → one prefill through the language
 * model. Follows llama.cpp's `llama-mtmd-cli` (tools/mtmd/mtmd-cli.cpp `eval_message`): when the
 * prompt has no media marker, one marker per image is put before the text (before the user
 * message's content in chat mode); the chat template is rendered around the markers; the text is
 * split at the markers (tools/mtmd/mtmd.cpp) and the chunks are evaluated in order
 * (tools/mtmd/mtmd-helper.cpp `mtmd_helper_eval_chunks`): text chunks as token batches, image
 * chunks as embedding batches, non-causal where the projector asks for it.
 */
import type { CausalLM } from '../models/causal-lm.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { RequestError } from '../core/errors.js';
import { renderChatPrompt, type ChatFormatter, type ChatMessage } from '../generation/chat-format.js';
import { MEDIA_MARKER, buildChunks, chunkPositions, imageLayout, type ImageEncoder, type InputChunk } from './chunks.js';

/** The multimodal part of a generation request. */
export interface MultimodalRequest {
  /** Raw prompt text (or, with `chat`, the single user message). May hold `<__media__>` markers. */
  prompt?: string;
  /** Conversation (implies chat); markers may appear in any message's content. */
  messages?: ChatMessage[];
  chat?: boolean;
  /** Images (file paths or encoded JPEG/PNG/WebP bytes), one per marker, in order. */
  images: readonly (Uint8Array | string)[];
  chatFormatter?: ChatFormatter;
}

/** A prepared multimodal prompt. */
export interface MultimodalPrompt {
  readonly chunks: InputChunk[];
  /** LM positions the prompt occupies (text tokens + image embedding rows). */
  readonly nPositions: number;
  /** The text tokens, in order (for repetition penalties). */
  readonly textTokens: number[];
  /** Time spent encoding images (ms). */
  readonly encodeMs: number;
}

/** Puts `n` markers before `text` unless it already holds one (mtmd-cli, llama.cpp PR 17616). */
function withMarkers(text: string, n: number): string {
  return text.includes(MEDIA_MARKER) ? text : MEDIA_MARKER.repeat(n) + text;
}

/**
 * Renders the request to text with media markers (chat template or raw) and encodes the images.
 * @throws RequestError on a request without prompt/messages, a marker/image count mismatch, an
 *   unsupported projector or an embedding width that is not the LM's n_embd; ImageError from the
 *   vision model for bad images.
 */
export async function prepareMultimodalPrompt(tok: Tokenizer, nEmbd: number, vision: ImageEncoder, req: MultimodalRequest): Promise<MultimodalPrompt> {
  if ((req.prompt === undefined) === (req.messages === undefined)) {
    throw new RequestError('BAD_REQUEST', 'give either prompt or messages (exactly one)');
  }
  if (vision.nEmbdOut !== nEmbd) {
    throw new RequestError('EMBEDDING_WIDTH_MISMATCH', `the vision model outputs ${vision.nEmbdOut}-wide embeddings but the language model's n_embd is ${nEmbd} (wrong mmproj?)`);
  }
  const layout = imageLayout(vision.projector);
  const n = req.images.length;
  let text: string;
  if (req.messages !== undefined || req.chat) {
    const msgs = (req.messages ?? [{ role: 'user', content: req.prompt! }]).map((m) => ({ ...m }));
    if (!msgs.some((m) => m.content.includes(MEDIA_MARKER))) {
      const last = [...msgs].reverse().find((m) => m.role === 'user') ?? msgs[msgs.length - 1]!;
      last.content = withMarkers(last.content, n);
    }
    text = await renderChatPrompt(tok, msgs, req.chatFormatter);
  } else {
    text = withMarkers(req.prompt!, n);
  }
  const t0 = performance.now();
  const encoded = [];
  for (const img of req.images) encoded.push(await vision.encode(img));
  const encodeMs = performance.now() - t0;
  const chunks = buildChunks(tok, text, encoded, layout, nEmbd);
  const textTokens: number[] = [];
  for (const c of chunks) if (c.type === 'text') textTokens.push(...c.tokens);
  return { chunks, nPositions: chunkPositions(chunks), textTokens, encodeMs };
}

/**
 * Evaluates chunks in order from the model's current position (mtmd_helper_eval_chunks).
 * @returns logits float32 [nVocab] of the last position (the model's buffer: copy to keep).
 * @throws RequestError (`NO_EMBEDDINGS_INPUT`) when the model cannot take embeddings; errors of
 *   `forward` / `forwardEmbeddings` (context overflow, …) propagate.
 */
export function evalChunks(model: CausalLM, chunks: readonly InputChunk[]): Float32Array {
  if (chunks.length === 0) throw new RequestError('EMPTY_PROMPT', 'the multimodal prompt is empty');
  let logits: Float32Array | null = null;
  for (const c of chunks) {
    if (c.type === 'text') {
      logits = model.forward(c.tokens);
    } else {
      if (!model.forwardEmbeddings) throw new RequestError('NO_EMBEDDINGS_INPUT', 'this language model cannot take embedding input');
      logits = model.forwardEmbeddings(c.embd.data, c.embd.shape[0], { nonCausal: c.nonCausal });
    }
  }
  return logits!;
}
