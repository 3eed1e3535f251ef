/**
 * Byte-level BPE (GPT-2 family: gpt-2, llama3, qwen2, smollm, starcoder, …) and SentencePiece-style
 * BPE over raw UTF-8 (Gemma 4).
 *
 * Algorithm (llama.cpp `llm_tokenizer_bpe_session`, itself following OpenAI GPT-2 `encoder.py`):
 * 1. the pre-tokenizer regex sequence cuts the text into words;
 * 2. each word's UTF-8 bytes are spelled with the GPT-2 byte characters (byte-level only);
 * 3. adjacent symbols are merged by ascending merge rank (`tokenizer.ggml.merges` order), ties
 *    broken leftmost first, using a priority queue over a doubly linked symbol list;
 * 4. each final symbol becomes its vocabulary id; a symbol missing from the vocabulary falls back to
 *    its single-byte tokens (`<0xXX>` for raw-UTF-8 BPE).
 * Word results are cached (the same word always tokenizes the same way).
 */
import { BaseTokenizer } from './base.js';
import { MinHeap } from './heap.js';
import { compilePattern, splitByRegexes, type PreTokenizerConfig } from './pretokenizer.js';
import { byteEncode, byteTokenText, codePointSpans, escapeWhitespace, utf8Encode } from './unicode.js';
import type { Vocab } from './vocab.js';

interface Bigram {
  rank: number;
  left: number;
  right: number;
  /** Combined length in UTF-16 units when queued; a different current length means stale. */
  size: number;
}

const bigramLess = (a: Bigram, b: Bigram) => a.rank < b.rank || (a.rank === b.rank && a.left < b.left);

/** Maximum number of cached words before the cache is cleared. */
const WORD_CACHE_LIMIT = 65536;

/** Key of a merge pair in the rank map: the two symbol texts joined by U+0000. */
function pairKey(left: string, right: string): string {
  return `${left}\u0000${right}`;
}

/**
 * Parse `tokenizer.ggml.merges` entries ("left right", split at the first space after position 0,
 * as llama.cpp does) into a pair → rank map.
 */
export function buildMergeRanks(merges: readonly (string | readonly [string, string])[]): Map<string, number> {
  const ranks = new Map<string, number>();
  for (let i = 0; i < merges.length; i++) {
    const m = merges[i]!;
    let key: string;
    if (typeof m === 'string') {
      const pos = m.indexOf(' ', 1);
      key = pos < 0 ? pairKey('', '') : pairKey(m.slice(0, pos), m.slice(pos + 1));
    } else {
      key = pairKey(m[0], m[1]);
    }
    if (!ranks.has(key)) ranks.set(key, i);
  }
  return ranks;
}

/** A BPE tokenizer (see module comment). */
export class BpeTokenizer extends BaseTokenizer {
  readonly kind = 'bpe' as const;
  private readonly regexes: RegExp[];
  private readonly cache = new Map<string, number[]>();
  private readonly heap = new MinHeap<Bigram>(bigramLess);

  /**
   * @param vocab vocabulary (kind `bpe`).
   * @param config pre-tokenizer configuration (regexes and flags).
   * @param ranks merge ranks from {@link buildMergeRanks}.
   * @param chatTemplate Jinja chat template, if any.
   * @throws TokenizerError `TOKENIZER_BAD_REGEX` if a pre-tokenizer regex does not compile.
   */
  constructor(
    vocab: Vocab,
    readonly config: PreTokenizerConfig,
    private readonly ranks: Map<string, number>,
    chatTemplate?: string,
  ) {
    super(vocab, config.name, config.cleanSpaces, chatTemplate);
    this.regexes = config.patterns.map(compilePattern);
  }

  /** Split text into pre-tokenizer words (before byte encoding); exposed for tests and debugging. */
  preTokenize(text: string): string[] {
    return splitByRegexes(this.config.escapeWhitespaces ? escapeWhitespace(text) : text, this.regexes);
  }

  protected encodeFragment(text: string, out: number[]): void {
    for (const w of this.preTokenize(text)) {
      const word = this.config.byteEncode ? byteEncode(w) : w;
      let ids = this.cache.get(word);
      if (ids === undefined) {
        ids = this.encodeWord(word);
        if (this.cache.size >= WORD_CACHE_LIMIT) this.cache.clear();
        this.cache.set(word, ids);
      }
      for (const id of ids) out.push(id);
    }
  }

  /** Merge one (byte-encoded) word into token ids. */
  private encodeWord(word: string): number[] {
    const vocab = this.vocab;
    const whole = vocab.textToId.get(word);
    if (whole !== undefined) {
      if (this.config.ignoreMerges) return [whole];
      // Gemma 4: a run of newlines that is a token is kept whole (llama.cpp PR #21343).
      if (this.config.name === 'gemma4' && /^\n+$/.test(word)) return [whole];
    }
    // Symbols: one per code point (byte-encoded words have one UTF-16 unit per byte).
    const { start, len } = codePointSpans(word);
    const count = start.length;
    const prev = new Int32Array(count);
    const next = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < count ? i + 1 : -1;
    }
    const heap = this.heap;
    heap.clear();
    const ranks = this.ranks;
    const addBigram = (l: number, r: number) => {
      if (l < 0 || r < 0) return;
      const rank = ranks.get(pairKey(word.substr(start[l]!, len[l]!), word.substr(start[r]!, len[r]!)));
      if (rank === undefined) return;
      heap.push({ rank, left: l, right: r, size: len[l]! + len[r]! });
    };
    for (let i = 1; i < count; i++) addBigram(i - 1, i);
    for (let b = heap.pop(); b !== undefined; b = heap.pop()) {
      const l = b.left;
      const r = b.right;
      if (len[l] === 0 || len[r] === 0 || len[l]! + len[r]! !== b.size) continue;
      len[l] = len[l]! + len[r]!;
      len[r] = 0;
      next[l] = next[r]!;
      if (next[r]! >= 0) prev[next[r]!] = l;
      addBigram(prev[l]!, l);
      addBigram(l, next[l]!);
    }
    const ids: number[] = [];
    for (let i = 0; i !== -1; i = next[i]!) {
      const sym = word.substr(start[i]!, len[i]!);
      const id = vocab.textToId.get(sym);
      if (id !== undefined) {
        ids.push(id);
        continue;
      }
      // Not in the vocabulary: emit the symbol's single-byte tokens that exist.
      for (const byte of utf8Encode(sym)) {
        const t = this.config.byteEncode ? (byte < 0x80 ? String.fromCharCode(byte) : undefined) : byteTokenText(byte);
        const bid = t === undefined ? undefined : vocab.textToId.get(t);
        if (bid !== undefined) ids.push(bid);
      }
    }
    return ids;
  }
}
