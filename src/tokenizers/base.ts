/**
 * Shared encode/decode driver of the tokenizers: special-token partitioning, BOS/EOS, piece
 * concatenation and llama.cpp's detokenizer clean-up. Subclasses only tokenize plain text
 * fragments.
 *
 * Source: llama.cpp `src/llama-vocab.cpp` — `tokenizer_st_partition`, `llama_vocab::impl::tokenize`
 * (SPM/BPE branches) and `llama_vocab::impl::detokenize` (leading-space removal, `clean_spaces`).
 */
import { TokenizerError } from '../core/errors.js';
import type { EncodeOptions, Tokenizer, TokenType } from './tokenizer.js';
import { isAsciiSpace, toWellFormed, utf8Decode } from './unicode.js';
import { SpecialMatcher } from './special-matcher.js';
import { Attr, type Vocab } from './vocab.js';

/** A piece of input after special-token partitioning: raw text, or a special token id. */
export type Fragment = string | number;

/** Common base of {@link Tokenizer} implementations over a {@link Vocab}. */
export abstract class BaseTokenizer implements Tokenizer {
  abstract readonly kind: 'bpe' | 'spm';
  readonly pre: string;
  readonly vocabSize: number;
  readonly bos: number;
  readonly eos: number;
  readonly eot: number;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly chatTemplate?: string;
  private matcher?: SpecialMatcher;

  /**
   * @param vocab the vocabulary.
   * @param pre pre-tokenizer name reported by {@link Tokenizer.pre}.
   * @param cleanSpaces apply llama.cpp's `clean_spaces` passes in {@link decode}.
   * @param chatTemplate Jinja chat template, if the model has one.
   */
  protected constructor(
    readonly vocab: Vocab,
    pre: string,
    private readonly cleanSpaces: boolean,
    chatTemplate?: string,
  ) {
    this.pre = pre;
    this.vocabSize = vocab.size;
    this.bos = vocab.special.bos;
    this.eos = vocab.special.eos;
    this.eot = vocab.special.eot;
    this.addBos = vocab.addBos;
    this.addEos = vocab.addEos;
    if (chatTemplate !== undefined) this.chatTemplate = chatTemplate;
  }

  /**
   * Tokenize one raw-text fragment, appending ids to `out`.
   * @param prevSpecial the fragment follows a special token or starts the input (SPM space prefix).
   */
  protected abstract encodeFragment(text: string, out: number[], prevSpecial: boolean): void;

  /** {@inheritDoc Tokenizer.encode} */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const addSpecial = options.addSpecial ?? true;
    const parseSpecial = options.parseSpecial ?? false;
    const out: number[] = [];
    if (addSpecial && this.addBos) {
      if (this.bos < 0) throw new TokenizerError('TOKENIZER_NO_BOS', 'the model asks for a BOS token but has none');
      out.push(this.bos);
    }
    const fragments = text.length > 0 ? this.partition(toWellFormed(text), parseSpecial) : [];
    let prevSpecial = true;
    for (const f of fragments) {
      if (typeof f === 'number') {
        out.push(f);
        prevSpecial = true;
      } else {
        this.encodeFragment(f, out, prevSpecial);
        prevSpecial = false;
      }
    }
    if (addSpecial && this.addEos) {
      if (this.eos < 0) throw new TokenizerError('TOKENIZER_NO_EOS', 'the model asks for an EOS token but has none');
      out.push(this.eos);
    }
    return out;
  }

  /**
   * Cut special-token texts out of the input (llama.cpp `tokenizer_st_partition`): tokens are tried
   * longest first; control and unknown tokens only when `parseSpecial`, user-defined tokens always.
   * LSTRIP/RSTRIP attributes eat ASCII whitespace to the left/right of a match.
   */
  partition(text: string, parseSpecial: boolean): Fragment[] {
    const vocab = this.vocab;
    // Only tokens that occur somewhere in the input can split it (fragments are substrings).
    this.matcher ??= new SpecialMatcher(vocab.specialTokens.map((id) => [id, vocab.texts[id]!] as const));
    const present = this.matcher.present(text);
    if (present.size === 0) return [text];

    let frags: Fragment[] = [text];
    for (const id of vocab.specialTokens) {
      if (!present.has(id)) continue;
      const attr = vocab.attrs[id]!;
      if (!parseSpecial && attr & (Attr.CONTROL | Attr.UNKNOWN)) continue;
      const tok = vocab.texts[id]!;
      const next: Fragment[] = [];
      let changed = false;
      for (const f of frags) {
        if (typeof f === 'number' || !f.includes(tok)) {
          next.push(f);
          continue;
        }
        changed = true;
        let pos = 0;
        const end = f.length;
        for (;;) {
          const m = f.indexOf(tok, pos);
          if (m < 0) {
            if (pos < end) next.push(f.slice(pos));
            break;
          }
          let leftEnd = m;
          if (attr & Attr.LSTRIP) while (leftEnd > pos && isAsciiSpace(f.charCodeAt(leftEnd - 1))) leftEnd--;
          if (leftEnd > pos) next.push(f.slice(pos, leftEnd));
          next.push(id);
          pos = m + tok.length;
          if (attr & Attr.RSTRIP) while (pos < end && isAsciiSpace(f.charCodeAt(pos))) pos++;
          if (pos >= end) break;
        }
      }
      if (changed) frags = next;
    }
    return frags;
  }

  /**
   * {@inheritDoc Tokenizer.decode}
   * Same bytes as llama.cpp `llama_detokenize(remove_special=false, unparse_special=renderSpecial)`,
   * decoded as UTF-8 with U+FFFD for invalid sequences.
   */
  decode(ids: ArrayLike<number>, options: { renderSpecial?: boolean } = {}): string {
    const special = options.renderSpecial ?? false;
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      let p = this.vocab.piece(ids[i]!, special);
      // SPM: the dummy-prefix space of the first token is removed.
      if (i === 0 && this.vocab.addSpacePrefix && p.length > 0 && p[0] === 0x20) p = p.subarray(1);
      parts.push(p);
      total += p.length;
    }
    let bytes: Uint8Array = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      bytes.set(p, o);
      o += p.length;
    }
    if (this.cleanSpaces) bytes = cleanSpaces(bytes);
    return utf8Decode(bytes);
  }

  /** {@inheritDoc Tokenizer.tokenBytes} */
  tokenBytes(id: number, renderSpecial = false): Uint8Array {
    return this.vocab.piece(id, renderSpecial).slice();
  }

  /** {@inheritDoc Tokenizer.tokenText} */
  tokenText(id: number): string {
    if (!this.vocab.has(id)) throw new TokenizerError('TOKENIZER_BAD_ID', `token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
    return this.vocab.texts[id]!;
  }

  /** {@inheritDoc Tokenizer.tokenType} */
  tokenType(id: number): TokenType {
    if (!this.vocab.has(id)) throw new TokenizerError('TOKENIZER_BAD_ID', `token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
    return this.vocab.tokenType(id);
  }

  /** {@inheritDoc Tokenizer.isEog} */
  isEog(id: number): boolean {
    return this.vocab.eogIds.has(id);
  }

  /** Id of an exact vocabulary text (e.g. `<|im_end|>`), or -1. */
  tokenId(text: string): number {
    return this.vocab.idOf(text);
  }
}

const SP = 0x20;
const APOS = 0x27;

/**
 * llama.cpp's detokenizer clean-up (HF `clean_up_tokenization`), on bytes, in three passes:
 * drop a space before `? ! . ,`; turn ` ' ` into `'`; drop the space before `'s`, `'m`, `'re`, `'ve`.
 */
export function cleanSpaces(src: Uint8Array): Uint8Array {
  const t = src.slice();
  let total = t.length;
  // Pass 1: " ?", " !", " .", " ,"
  {
    const n = total;
    total = n ? 1 : 0;
    for (let i = 1; i < n; i++) {
      const x = t[i]!;
      if (t[i - 1] === SP && (x === 0x3f || x === 0x21 || x === 0x2e || x === 0x2c)) total--;
      t[total++] = x;
    }
  }
  // Pass 2: a lone apostrophe between spaces loses both spaces.
  {
    const n = total;
    total = n ? 1 : 0;
    for (let i = 1; i < n; i++) {
      const x = t[i]!;
      if (x === APOS && i + 1 < n && t[i - 1] === SP && t[i + 1] === SP) {
        total--;
        t[++i] = 0;
      }
      t[total++] = x;
    }
  }
  // Pass 3: contractions " 's", " 'm", " 're", " 've".
  {
    const n = total;
    total = n ? 1 : 0;
    for (let i = 1; i < n; i++) {
      const x = t[i]!;
      if (t[i - 1] === SP && x === APOS && i + 1 < n) {
        const x1 = t[i + 1]!;
        if (x1 === 0x73 || x1 === 0x6d) total--; // 's 'm
        else if (x1 !== 0x74 && x1 !== 0x64 && i + 2 < n) {
          const x2 = t[i + 2]!;
          if ((x1 === 0x72 && x2 === 0x65) || (x1 === 0x76 && x2 === 0x65)) total--; // 're 've
        }
      }
      t[total++] = x;
    }
  }
  return t.subarray(0, total);
}
