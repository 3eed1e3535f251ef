/**
 * The vocabulary shared by every tokenizer kind: token texts, attributes, scores, special ids, the
 * end-of-generation set and the special-token list used to cut special tokens out of the input.
 *
 * Source of every rule here: llama.cpp `src/llama-vocab.cpp`, `llama_vocab::impl::load` (defaults
 * per vocab type, GGUF overrides, auto-detection of EOT/EOM/FIM/EOG tokens by text, the "unused"
 * marker, per-model lstrip/rstrip attributes) and `token_to_piece` (piece bytes of one token).
 */
import { TokenizerError } from '../core/errors.js';
import { TokenType } from './tokenizer.js';
import { byteToUnicode, byteTokenText, parseByteToken, unescapeWhitespace, unicodeToByte, utf8Encode } from './unicode.js';

/** Token attribute bits (llama.cpp `llama_token_attr`). */
export const Attr = {
  UNDEFINED: 0,
  UNKNOWN: 1 << 0,
  UNUSED: 1 << 1,
  NORMAL: 1 << 2,
  CONTROL: 1 << 3,
  USER_DEFINED: 1 << 4,
  BYTE: 1 << 5,
  NORMALIZED: 1 << 6,
  LSTRIP: 1 << 7,
  RSTRIP: 1 << 8,
  SINGLE_WORD: 1 << 9,
} as const;

/** Names of the special-token ids a vocabulary can carry (GGUF `tokenizer.ggml.<name>_token_id`). */
export type SpecialName =
  | 'bos' | 'eos' | 'eot' | 'eom' | 'unk' | 'sep' | 'pad' | 'mask'
  | 'fimPre' | 'fimSuf' | 'fimMid' | 'fimPad' | 'fimRep' | 'fimSep';

/** Tokenizer algorithm family. `bpe` covers byte-level BPE and SentencePiece-style BPE (Gemma 4). */
export type VocabKind = 'bpe' | 'spm';

/**
 * A format-neutral description of a vocabulary, produced from GGUF metadata or from a Hugging Face
 * tokenizer.json; {@link Vocab} applies llama.cpp's rules to it.
 */
export interface VocabSpec {
  kind: VocabKind;
  /** GGUF `tokenizer.ggml.model`: `gpt2` gets llama.cpp's BPE default ids (bos=eos=11), `gemma4` a forced BOS. */
  model?: string;
  /** Token texts, index = id. Empty texts become `[EMPTY_<id>]` as in llama.cpp. */
  tokens: readonly string[];
  /** `tokenizer.ggml.token_type` (llama.cpp `llama_token_type`, see {@link TokenType}); all Normal when absent. */
  types?: ArrayLike<number>;
  /** `tokenizer.ggml.scores` (SentencePiece log-probabilities); 0 when absent. */
  scores?: ArrayLike<number>;
  /** Special ids given by the source; ids out of range are ignored, as llama.cpp does. */
  ids?: Partial<Record<SpecialName, number>>;
  addBos?: boolean;
  addEos?: boolean;
  addSpacePrefix?: boolean;
  /** Default of addBos when the source says nothing (pre-tokenizer dependent for BPE). */
  addBosDefault?: boolean;
  /** `general.name`, used for llama.cpp's per-model attribute fixes (Phi-3 rstrip). */
  modelName?: string;
  /** `general.architecture`. */
  architecture?: string;
  /** Pre-tokenizer name (`tokenizer.ggml.pre`). */
  pre?: string;
}

// Candidate texts, in order of preference (first present wins; see the constructor).
const EOT_TEXTS = [
  '<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<end_of_utterance>', '<EOT>', '_<EOT>', '[EOT]', '<|endoftext|>',
  '<|end_of_text|>', '<｜end▁of▁sentence｜>',
];
const EOM_TEXTS = ['<|eom_id|>'];
const FIM_TEXTS: Record<'fimPre' | 'fimSuf' | 'fimMid' | 'fimPad' | 'fimRep' | 'fimSep', string[]> = {
  fimPre: ['<|fim_prefix|>', '<fim-prefix>', '<fim_prefix>', '<｜fim▁begin｜>', '<PRE>', '▁<PRE>', '<|code_prefix|>', '<|prefix|>'],
  fimSuf: ['<|fim_suffix|>', '<fim-suffix>', '<fim_suffix>', '<｜fim▁hole｜>', '<SUF>', '▁<SUF>', '<|code_suffix|>', '<|suffix|>'],
  fimMid: ['<|fim_middle|>', '<fim-middle>', '<fim_middle>', '<｜fim▁end｜>', '<MID>', '▁<MID>', '<|code_middle|>', '<|middle|>'],
  fimPad: ['<|fim_pad|>', '<fim-pad>', '<fim_pad>', '<PAD>', '[PAD]'],
  fimRep: ['<|fim_repo|>', '<|repo_name|>', '<fim-repo>', '<REPO>', '<reponame>'],
  fimSep: ['<|file_sep|>'],
};
const EOG_TEXTS = new Set([
  '<|eot_id|>', '<|im_end|>', '<|end|>', '<|return|>', '<|call|>', '<|flush|>', '<|calls|>', '<end_of_turn>', '<|endoftext|>',
  '</s>', '<|eom_id|>', '<EOT>', '_<EOT>', '[EOT]', '[EOS]', '<|end_of_text|>', '<end_of_utterance>', '<eos>', '<turn|>',
  '<|tool_response>', '<｜end▁of▁sentence｜>', '[e~[',
]);
const ALWAYS_RENDERED = new Set(['<|channel|>', '<|message|>', '<|start|>', '<|constrain|>']);

function typeToAttr(t: number): number {
  switch (t) {
    case TokenType.Unknown: return Attr.UNKNOWN;
    case TokenType.Unused: return Attr.UNUSED;
    case TokenType.Normal: return Attr.NORMAL;
    case TokenType.Control: return Attr.CONTROL;
    case TokenType.UserDefined: return Attr.USER_DEFINED;
    case TokenType.Byte: return Attr.BYTE;
    default: return Attr.UNDEFINED;
  }
}

/**
 * A loaded vocabulary with llama.cpp's derived state. Ids are int32 in `[0, size)`; -1 means "none".
 */
export class Vocab {
  readonly kind: VocabKind;
  readonly size: number;
  /** Token texts as stored (GPT-2 byte characters for byte-level BPE, `▁` for SentencePiece). */
  readonly texts: string[];
  /** Attribute bits per id ({@link Attr}). */
  readonly attrs: Uint16Array;
  /** Scores per id (SentencePiece merge priority). */
  readonly scores: Float32Array;
  /** Text → id (a later duplicate wins, as with llama.cpp's map assignment). */
  readonly textToId: Map<string, number>;
  readonly special: Record<SpecialName, number>;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly addSpacePrefix: boolean;
  /** End-of-generation ids (llama.cpp `special_eog_ids`). */
  readonly eogIds: ReadonlySet<number>;
  /** Control/user-defined/unknown ids, longest text first: the order special tokens are cut out. */
  readonly specialTokens: readonly number[];
  private readonly pieceCache: (Uint8Array | undefined)[];
  /** Whether piece decoding maps GPT-2 byte characters back to bytes (byte-level BPE). */
  private readonly byteDecode: boolean;

  /**
   * @param spec the vocabulary description.
   * @param byteDecode true for byte-level BPE (pieces go through the GPT-2 byte table).
   * @throws TokenizerError `TOKENIZER_NO_VOCAB` when `spec.tokens` is empty.
   */
  constructor(spec: VocabSpec, byteDecode: boolean) {
    const n = spec.tokens.length;
    if (n === 0) throw new TokenizerError('TOKENIZER_NO_VOCAB', 'the vocabulary has no tokens');
    this.kind = spec.kind;
    this.size = n;
    this.byteDecode = byteDecode;
    this.texts = new Array<string>(n);
    this.attrs = new Uint16Array(n);
    this.scores = new Float32Array(n);
    this.textToId = new Map();
    for (let i = 0; i < n; i++) {
      const t = spec.tokens[i]!;
      const text = t.length === 0 ? `[EMPTY_${i}]` : t;
      this.texts[i] = text;
      this.textToId.set(text, i);
      this.scores[i] = spec.scores ? Number(spec.scores[i] ?? 0) : 0;
      this.attrs[i] = spec.types ? typeToAttr(Number(spec.types[i])) : Attr.NORMAL;
    }
    this.pieceCache = new Array(n);

    // Defaults per vocab type (llama.cpp: SPM bos=1/eos=2/unk=0; byte BPE bos=eos=11; gemma4 none).
    const NONE = -1;
    const special: Record<SpecialName, number> = {
      bos: NONE, eos: NONE, eot: NONE, eom: NONE, unk: NONE, sep: NONE, pad: NONE, mask: NONE,
      fimPre: NONE, fimSuf: NONE, fimMid: NONE, fimPad: NONE, fimRep: NONE, fimSep: NONE,
    };
    if (spec.kind === 'spm') Object.assign(special, { bos: 1, eos: 2, unk: 0 });
    else if (spec.model === 'gpt2') Object.assign(special, { bos: 11, eos: 11 });
    for (const k of Object.keys(special) as SpecialName[]) {
      if (special[k] >= n) special[k] = NONE;
      const given = spec.ids?.[k];
      if (given !== undefined && Number.isInteger(given) && given >= 0 && given < n) special[k] = given;
    }
    this.special = special;

    let addBos = spec.addBos ?? (spec.kind === 'spm' ? true : spec.addBosDefault ?? false);
    if (spec.model === 'gemma4' && !addBos) addBos = true;
    this.addBos = addBos;
    this.addEos = spec.addEos ?? false;
    this.addSpacePrefix = spec.addSpacePrefix ?? spec.kind === 'spm';

    const attrs = this.attrs;
    const markControl = (id: number) => {
      attrs[id] = attrs[id]! | Attr.CONTROL;
    };
    // Auto-detect EOT/EOM/FIM by text when the source did not name them. llama.cpp takes the first
    // candidate met while walking an unordered hash map, so its pick among several candidates
    // depends on the C++ standard library (e.g. Llama 3 → <|eot_id|>, SmolLM2 → <|endoftext|> with
    // libstdc++). We take candidates in a fixed preference order, end-of-turn texts before
    // end-of-text ones. The EOG set below, which is what stops generation, does not depend on it.
    const detect = (k: SpecialName, candidates: readonly string[]) => {
      if (special[k] !== NONE) return;
      for (const t of candidates) {
        const id = this.textToId.get(t);
        if (id !== undefined) {
          special[k] = id;
          markControl(id);
          return;
        }
      }
    };
    detect('eot', EOT_TEXTS);
    detect('eom', EOM_TEXTS);
    for (const k of Object.keys(FIM_TEXTS) as (keyof typeof FIM_TEXTS)[]) detect(k, FIM_TEXTS[k]);
    // Control tokens whose text says "unused" are unused.
    for (let id = 0; id < n; id++) {
      if (attrs[id]! & Attr.CONTROL && this.texts[id]!.includes('unused')) attrs[id] = attrs[id]! | Attr.UNUSED;
    }
    // End-of-generation set.
    const eog = new Set<number>();
    for (const k of ['fimPad', 'fimRep', 'fimSep'] as const) if (special[k] !== NONE) eog.add(special[k]);
    for (let id = 0; id < n; id++) {
      if (EOG_TEXTS.has(this.texts[id]!)) {
        eog.add(id);
        markControl(id);
      }
    }
    for (let id = 0; id < n; id++) if (ALWAYS_RENDERED.has(this.texts[id]!)) attrs[id] = Attr.USER_DEFINED;
    for (const k of ['eos', 'eot', 'eom'] as const) if (special[k] !== NONE) eog.add(special[k]);
    // o200k_harmony / solar-open: "<|end|>" is not EOG when "<|return|>"+"<|call|>" (or "<|calls|>"+"<|flush|>") exist.
    const eogText = (t: string) => [...eog].find((id) => this.texts[id] === t);
    const endId = eogText('<|end|>');
    const hasCall = eogText('<|call|>') !== undefined || eogText('<|calls|>') !== undefined;
    if (endId !== undefined && hasCall && (eogText('<|return|>') !== undefined || eogText('<|flush|>') !== undefined)) {
      eog.delete(endId);
      attrs[endId] = Attr.USER_DEFINED;
    }
    // Gemma 4 / PaddleOCR: "</s>" is not EOG when "<|tool_response>" is.
    const sId = eogText('</s>');
    if (sId !== undefined && eogText('<|tool_response>') !== undefined) {
      eog.delete(sId);
      attrs[sId] = Attr.NORMAL;
    }
    this.eogIds = eog;

    const specials: number[] = [];
    for (let id = 0; id < n; id++) {
      if (attrs[id]! & (Attr.CONTROL | Attr.USER_DEFINED | Attr.UNKNOWN)) specials.push(id);
    }
    specials.sort((a, b) => this.texts[b]!.length - this.texts[a]!.length || a - b);
    this.specialTokens = specials;

    this.applyModelAttrs(spec, specials);
  }

  /** llama.cpp's per-model lstrip/rstrip fixes (attributes missing from GGUF files). */
  private applyModelAttrs(spec: VocabSpec, specials: readonly number[]): void {
    const name = (spec.modelName ?? '').toLowerCase();
    const pre = spec.pre ?? '';
    const arch = spec.architecture ?? '';
    const set = (text: string, bit: number, on: boolean) => {
      const id = this.textToId.get(text);
      if (id !== undefined) this.attrs[id] = on ? this.attrs[id]! | bit : this.attrs[id]! & ~bit;
    };
    if (['jina-v2-de', 'jina-v2-es', 'jina-v2-code'].some((s) => pre.includes(s)) || ['nomic-bert-moe', 'jina-bert-v3'].some((s) => arch.includes(s))) {
      set('<mask>', Attr.LSTRIP, true);
    } else if (name.includes('phi-3') || name.includes('phi3')) {
      for (const id of specials) this.attrs[id] = this.attrs[id]! | Attr.RSTRIP;
      set('</s>', Attr.RSTRIP, true);
      for (const t of ['<unk>', '<s>', '<|endoftext|>']) set(t, Attr.RSTRIP, false);
    } else if (name.includes('modern-bert')) {
      set('[MASK]', Attr.LSTRIP, true);
    }
  }

  /** Id of an exact token text, or -1. */
  idOf(text: string): number {
    return this.textToId.get(text) ?? -1;
  }

  /** Whether an id is inside the vocabulary. */
  has(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.size;
  }

  /**
   * Token id of one byte (llama.cpp `byte_to_token`): SPM looks up `<0xXX>` then the raw character;
   * BPE looks up the GPT-2 byte character. Returns -1 when absent.
   */
  byteToToken(byte: number): number {
    if (this.byteDecode) return this.idOf(byteToUnicode()[byte]!);
    const id = this.idOf(byteTokenText(byte));
    if (id >= 0 || this.kind !== 'spm') return id;
    return byte < 0x80 ? this.idOf(String.fromCharCode(byte)) : -1;
  }

  /** Public token type of an id, derived from its attributes (control wins over the others). */
  tokenType(id: number): TokenType {
    const a = this.attrs[id] ?? 0;
    if (a & Attr.UNKNOWN) return TokenType.Unknown;
    if (a & Attr.CONTROL) return TokenType.Control;
    if (a & Attr.USER_DEFINED) return TokenType.UserDefined;
    if (a & Attr.BYTE) return TokenType.Byte;
    if (a & Attr.UNUSED) return TokenType.Unused;
    if (a & Attr.NORMAL) return TokenType.Normal;
    return TokenType.Undefined;
  }

  /**
   * Bytes of one token as llama.cpp `token_to_piece(id, lstrip=0, special)` returns them:
   * control/unknown tokens are empty unless `special`; control/unknown/user-defined tokens render
   * their raw text; normal tokens are unescaped (`▁` → space) or byte-decoded (GPT-2 table); byte
   * tokens `<0xXX>` give their byte; other attributes give nothing.
   * @throws TokenizerError `TOKENIZER_BAD_ID` for an id outside the vocabulary.
   */
  piece(id: number, special: boolean): Uint8Array {
    if (!this.has(id)) throw new TokenizerError('TOKENIZER_BAD_ID', `token id ${id} is outside the vocabulary (size ${this.size})`);
    const attr = this.attrs[id]!;
    if (!special && attr & (Attr.UNKNOWN | Attr.CONTROL)) return EMPTY;
    let p = this.pieceCache[id];
    if (p === undefined) {
      p = this.computePiece(id, attr);
      this.pieceCache[id] = p;
    }
    return p;
  }

  private computePiece(id: number, attr: number): Uint8Array {
    const text = this.texts[id]!;
    if (attr & (Attr.UNKNOWN | Attr.CONTROL | Attr.USER_DEFINED)) return utf8Encode(text);
    if (attr & Attr.NORMAL) {
      if (!this.byteDecode) return utf8Encode(unescapeWhitespace(text));
      return decodeByteLevel(text);
    }
    if (attr & Attr.BYTE) {
      const b = parseByteToken(text);
      return b >= 0 ? Uint8Array.of(b) : EMPTY;
    }
    return EMPTY;
  }
}

const EMPTY = new Uint8Array(0);

/**
 * GPT-2 byte characters → bytes (llama.cpp `llama_decode_text`). A character outside the table
 * becomes `[UNK_BYTE_0x<utf8 hex><token text>]`, exactly as llama.cpp renders it.
 */
export function decodeByteLevel(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const b = unicodeToByte(ch);
    if (b !== undefined) {
      out.push(b);
      continue;
    }
    const hex = Array.from(utf8Encode(ch), (x) => x.toString(16).padStart(2, '0')).join('');
    for (const x of utf8Encode(`[UNK_BYTE_0x${hex}${text}]`)) out.push(x);
  }
  return Uint8Array.from(out);
}
