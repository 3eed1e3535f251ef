/**
 * SentencePiece-style tokenizer over a scored vocabulary (GGUF `tokenizer.ggml.model = "llama"`:
 * Llama 1/2, Mistral v1, Phi-3, Gemma 1–3, …).
 *
 * Algorithm (llama.cpp `llm_tokenizer_spm_session`, after SentencePiece's BPE model):
 * spaces become `▁` (and a leading `▁` is added when `add_space_prefix` and the fragment starts the
 * input or follows a special token); the text starts as one symbol per code point; the adjacent pair
 * whose concatenation is a vocabulary token with the highest score is merged first (ties: leftmost),
 * until no pair forms a token; a final symbol that is not a token is emitted as byte tokens
 * `<0xXX>` (byte fallback).
 */
import { TokenizerError } from '../core/errors.js';
import { BaseTokenizer } from './base.js';
import { MinHeap } from './heap.js';
import { codePointSpans, escapeWhitespace, utf8Encode } from './unicode.js';
import type { Vocab } from './vocab.js';

interface Bigram {
  score: number;
  left: number;
  right: number;
  size: number;
}

const bigramFirst = (a: Bigram, b: Bigram) => a.score > b.score || (a.score === b.score && a.left < b.left);

/** A SentencePiece-style tokenizer (see module comment). */
export class SpmTokenizer extends BaseTokenizer {
  readonly kind = 'spm' as const;
  private readonly heap = new MinHeap<Bigram>(bigramFirst);

  /**
   * @param vocab vocabulary (kind `spm`) with scores.
   * @param chatTemplate Jinja chat template, if any.
   */
  constructor(vocab: Vocab, chatTemplate?: string) {
    super(vocab, 'default', false, chatTemplate);
  }

  protected encodeFragment(fragment: string, out: number[], prevSpecial: boolean): void {
    const text = escapeWhitespace(this.vocab.addSpacePrefix && prevSpecial ? ` ${fragment}` : fragment);
    const vocab = this.vocab;
    const { start, len } = codePointSpans(text);
    const count = start.length;
    if (count === 0) return;
    const prev = new Int32Array(count);
    const next = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < count ? i + 1 : -1;
    }
    const heap = this.heap;
    heap.clear();
    const addBigram = (l: number, r: number) => {
      if (l < 0 || r < 0) return;
      const size = len[l]! + len[r]!;
      const id = vocab.textToId.get(text.substr(start[l]!, size));
      if (id === undefined) return;
      heap.push({ score: vocab.scores[id]!, left: l, right: r, size });
    };
    for (let i = 1; i < count; i++) addBigram(i - 1, i);
    for (let b = heap.pop(); b !== undefined; b = heap.pop()) {
      const l = b.left;
      const r = b.right;
      if (len[l] === 0 || len[r] === 0 || len[l]! + len[r]! !== b.size) continue;
      len[l] = b.size;
      len[r] = 0;
      next[l] = next[r]!;
      if (next[r]! >= 0) prev[next[r]!] = l;
      addBigram(prev[l]!, l);
      addBigram(l, next[l]!);
    }
    // Every merged symbol is a token (pairs are queued only when they are); single code points
    // missing from the vocabulary fall back to byte tokens.
    for (let i = 0; i !== -1; i = next[i]!) {
      const sym = text.substr(start[i]!, len[i]!);
      const id = vocab.textToId.get(sym);
      if (id !== undefined) {
        out.push(id);
        continue;
      }
      for (const byte of utf8Encode(sym)) {
        const bid = vocab.byteToToken(byte);
        if (bid >= 0) out.push(bid);
        else if (vocab.special.unk >= 0) out.push(vocab.special.unk);
        else throw new TokenizerError('TOKENIZER_NO_BYTE_TOKEN', `no token for byte 0x${byte.toString(16)} and no unknown token`);
      }
    }
  }
}
