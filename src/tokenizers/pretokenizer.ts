/**
 * Pre-tokenizers of byte-level BPE: the regex sequence that cuts text into words before merges,
 * chosen by GGUF `tokenizer.ggml.pre`, plus the per-pre flags llama.cpp attaches to each name.
 *
 * Source: llama.cpp `src/llama-vocab.cpp` (`llm_tokenizer_bpe` regex table and the
 * `tokenizer_pre` → pre-type/flags chain in `llama_vocab::impl::load`) and `src/unicode.cpp`
 * (`unicode_regex_split`). The patterns themselves come from each model's Hugging Face
 * `tokenizer.json`. Semantics of a regex *sequence*: the first regex cuts the text into matches and
 * the gaps between them; each following regex cuts every piece again; gaps are kept as pieces.
 *
 * llama.cpp runs the patterns on a "collapsed" text where each non-ASCII code point is replaced by
 * a byte naming its category, with `\s` = the Unicode `White_Space` set and `\p{Lu}`…`\p{Lo}` all
 * widened to `\p{L}`. {@link compilePattern} gives the same meaning to a JavaScript `u`-mode regex.
 */
import { TokenizerError } from '../core/errors.js';

/** Behaviour attached to a pre-tokenizer name. */
export interface PreTokenizerConfig {
  /** The `tokenizer.ggml.pre` name it was built for (or `hf` for one read from tokenizer.json). */
  name: string;
  /** Regex sequence in llama.cpp/Oniguruma-like syntax (see {@link compilePattern}). */
  patterns: string[];
  /** Map word bytes through the GPT-2 byte↔unicode table before merging (false: raw UTF-8, `<0xXX>` byte tokens). */
  byteEncode: boolean;
  /** A word that is itself a vocabulary token is emitted whole, without merges (HF `ignore_merges`). */
  ignoreMerges: boolean;
  /** Detokenizer removes spaces before `?!.,` and some apostrophes (HF `clean_up_tokenization_spaces`). */
  cleanSpaces: boolean;
  /** Replace ' ' with '▁' before splitting (SentencePiece-style BPE such as Gemma 4). */
  escapeWhitespaces: boolean;
  /** Default of `add_bos_token` when the GGUF does not say (llama3, tekken, chameleon: true). */
  addBosDefault: boolean;
}

// Common patterns (HF tokenizer.json pre-tokenizer regexes; `(?i:'s|…)` written out as classes).
const CONTRACTIONS = String.raw`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])`;
const GPT2 = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`;
const LLAMA3 = CONTRACTIONS + String.raw`|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const QWEN2 = CONTRACTIONS + String.raw`|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const QWEN35 = CONTRACTIONS + String.raw`|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const NEWLINES = String.raw`[^\n]+|[\n]+`;
const CJK_DEEPSEEK = '[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+';
const DEEPSEEK_LLM_LETTERS =
  String.raw`\s?[A-Za-z\u{b5}\u{c0}-\u{d6}\u{d8}-\u{f6}\u{f8}-\u{1ba}\u{1bc}-\u{1bf}\u{1c4}-\u{293}\u{295}-\u{2af}\u{370}-\u{373}\u{376}\u{377}\u{37b}-\u{37d}\u{37f}\u{386}\u{388}-\u{38a}\u{38c}\u{38e}-\u{3a1}\u{3a3}-\u{3f5}\u{3f7}-\u{481}\u{48a}-\u{52f}\u{531}-\u{556}\u{10a0}-\u{10c5}\u{13a0}-\u{13f5}\u{13f8}-\u{13fd}\u{1c90}-\u{1cba}\u{1cbd}-\u{1cbf}\u{1d00}-\u{1d2b}\u{1d6b}-\u{1d77}\u{1d79}-\u{1d9a}\u{1e00}-\u{1f15}\u{1f18}-\u{1f1d}\u{1f20}-\u{1f45}\u{1f48}-\u{1f4d}\u{1f50}-\u{1f57}\u{1f59}\u{1f5b}\u{1f5d}\u{1f5f}-\u{1f7d}\u{1f80}-\u{1fb4}\u{1fb6}-\u{1fbc}\u{1fbe}\u{1fc2}-\u{1fc4}\u{1fc6}-\u{1fcc}\u{1fd0}-\u{1fd3}\u{1fd6}-\u{1fdb}\u{1fe0}-\u{1fec}\u{1ff2}-\u{1ff4}\u{1ff6}-\u{1ffc}\u{2102}\u{2107}\u{210a}-\u{2113}\u{2115}\u{2119}-\u{211d}\u{2124}\u{2126}\u{2128}\u{212a}-\u{212d}\u{212f}-\u{2134}\u{2139}\u{213c}-\u{213f}\u{2145}-\u{2149}\u{214e}\u{2183}\u{2184}\u{2c00}-\u{2c7b}\u{2c7e}-\u{2ce4}\u{2ceb}-\u{2cee}\u{2cf2}\u{2cf3}\u{a640}-\u{a66d}\u{a680}-\u{a69b}\u{a722}-\u{a76f}\u{a771}-\u{a787}\u{a78b}-\u{a78e}\u{ab70}-\u{abbf}\u{fb00}-\u{fb06}\u{fb13}-\u{fb17}\u{ff21}-\u{ff3a}\u{ff41}-\u{ff5a}\u{10400}-\u{1044f}\u{104b0}-\u{104d3}\u{104d8}-\u{104fb}\u{10c80}-\u{10cb2}\u{10cc0}-\u{10cf2}\u{118a0}-\u{118df}\u{1e900}-\u{1e943}]+`;
const ASCII_PUNCT_THEN_LETTERS = String.raw`[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_` + '`' + String.raw`{|}~][A-Za-z]+`;
const DEEPSEEK3_MAIN = ASCII_PUNCT_THEN_LETTERS + String.raw`|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const CASED_WORDS = (extra: string, letterClass: string) =>
  String.raw`[^\r\n\p{L}\p{N}]?((?=[${letterClass}])([^a-z]))*((?=[${letterClass}])([^A-Z]))+` + extra +
  String.raw`|[^\r\n\p{L}\p{N}]?((?=[${letterClass}])([^a-z]))+((?=[${letterClass}])([^A-Z]))*` + extra;
const BLOOM = String.raw` ?[^(\s|.,!?\u{2026}\u{3002}\u{ff0c}\u{3001}\u{964}\u{6d4}\u{60c})]+`;

type Group = { patterns: string[]; byteEncode?: boolean };

/** Regex groups (llama.cpp `LLAMA_VOCAB_PRE_TYPE_*`). */
const GROUPS: Record<string, Group> = {
  default: { patterns: [String.raw`[\p{P}\$\+<=>\^~\|]+`, GPT2, String.raw`\p{N}+`, '[0-9][0-9][0-9]'] },
  llama3: { patterns: [LLAMA3] },
  jais2: {
    patterns: [
      CONTRACTIONS +
        String.raw`|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s{512}(?!\S)|\s{256}(?!\S)|\s{128}(?!\S)|\s{64}(?!\S)|\s{32}(?!\S)|\s{16}(?!\S)|\s{8}(?!\S)|\s{4}(?!\S)|\s{1,2}(?!\S)|\s{1}`,
    ],
  },
  'deepseek-llm': {
    patterns: ['[\r\n]', DEEPSEEK_LLM_LETTERS, String.raw`\s?[!-/:-~\u{ff01}-\u{ff0f}\u{ff1a}-\u{ff5e}\u{2018}-\u{201f}\u{3000}-\u{3002}]+`, String.raw`\s+$`, CJK_DEEPSEEK, String.raw`\p{N}+`],
  },
  'deepseek-v3': { patterns: [String.raw`\p{N}{1,3}`, '[\u{4e00}-\u{9fa5}\u{3040}-\u{309f}\u{30a0}-\u{30ff}]+', DEEPSEEK3_MAIN] },
  spark2_5: {
    patterns: [
      String.raw`\p{N}{1,3}`,
      '[\u{4e00}-\u{9fa5}\u{3040}-\u{309f}\u{30a0}-\u{30ff}]+',
      ASCII_PUNCT_THEN_LETTERS + String.raw`|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+|[\r\n]|\s+(?!\S)|\s+`,
      String.raw`\p{N}`,
    ],
  },
  'deepseek-coder': { patterns: ['[\r\n]', String.raw`\s?\p{L}+`, String.raw`\s?\p{P}+`, CJK_DEEPSEEK, String.raw`\p{N}`] },
  falcon: {
    patterns: [String.raw`[\p{P}\$\+<=>\^~\|` + '`' + ']+', String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`, '[0-9][0-9][0-9]'],
  },
  starcoder: { patterns: [String.raw`\p{N}`, GPT2] },
  gpt2: { patterns: [GPT2] },
  qwen2: { patterns: [QWEN2] },
  qwen35: { patterns: [QWEN35] },
  bloom: { patterns: [BLOOM] },
  viking: { patterns: [BLOOM, String.raw`\p{N}`] },
  tekken: { patterns: [CASED_WORDS('', String.raw`\p{L}`) + String.raw`|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`] },
  chameleon: {
    patterns: [
      '<sentinel:[0-9]+>',
      '(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z',
      '([\\t\\n]|    |  )',
      String.raw`\p{N}`,
      String.raw`[\p{P}!-/:-@\[-` + '`' + '{-~]',
      GPT2,
    ],
  },
  gpt4o: {
    patterns: [CASED_WORDS(`${CONTRACTIONS}?`, String.raw`\p{L}`) + String.raw`|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`],
  },
  'granite-embed-multi': {
    patterns: [CASED_WORDS(`${CONTRACTIONS}?`, String.raw`\p{L}\p{M}`) + String.raw`|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`],
  },
  bailingmoe: {
    patterns: [String.raw`'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`],
  },
  'seed-coder': {
    patterns: [CONTRACTIONS + String.raw`|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+`],
  },
  ufakzeka: { patterns: [String.raw`[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`] },
  laguna: { patterns: [NEWLINES, QWEN2] },
  'exaone-moe': {
    patterns: [
      CONTRACTIONS +
        String.raw`|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+`,
    ],
  },
  gemma4: { patterns: [NEWLINES], byteEncode: false },
  minicpm5: {
    patterns: [String.raw`\p{N}{1,3}`, CONTRACTIONS + String.raw`|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`],
  },
};

type PreEntry = { group: string; cleanSpaces?: boolean; ignoreMerges?: boolean; escape?: boolean; addBos?: boolean };

/** `tokenizer.ggml.pre` name → regex group and flags (llama.cpp defaults: cleanSpaces true). */
const PRE_NAMES: Record<string, PreEntry> = {};
function names(list: string[], e: PreEntry): void {
  for (const n of list) PRE_NAMES[n] = e;
}
names(['default'], { group: 'default' });
names(['minicpm5'], { group: 'minicpm5', ignoreMerges: true });
names(['llama3', 'llama-v3', 'llama-bpe', 'falcon3', 'falcon-h1', 'pixtral', 'midm-2.0', 'lfm2', 'jina-v5-nano'], {
  group: 'llama3', ignoreMerges: true, addBos: true,
});
names(['deepseek-llm'], { group: 'deepseek-llm', cleanSpaces: false });
names(['deepseek-coder'], { group: 'deepseek-coder', cleanSpaces: false });
names(['deepseek-v3', 'hunyuan-dense', 'hy_v4', 'joyai-llm'], { group: 'deepseek-v3', cleanSpaces: false });
names(['spark2_5'], { group: 'spark2_5', cleanSpaces: false });
names(['falcon'], { group: 'falcon' });
names(['mpt', 'olmo', 'jais', 'exaone4'], { group: 'gpt2' });
names(['gpt-2', 'phi-2', 'jina-es', 'jina-de', 'gigachat', 'jina-v2-es', 'jina-v2-de', 'a.x-4.0', 'mellum', 'modern-bert'], { group: 'gpt2' });
names(['jina-v1-en', 'jina-v2-code', 'roberta-bpe'], { group: 'gpt2' });
names(['trillion', 'granite-docling'], { group: 'gpt2', cleanSpaces: false });
names(['jais-2'], { group: 'jais2' });
names(['gemma4', 'granite-embed-multi-311m'], { group: 'gemma4', escape: true });
names(['sarvam-moe'], { group: 'gemma4', escape: true, cleanSpaces: false });
names(['starcoder', 'refact', 'codeshell', 'exaone', 'minerva-7b', 'mellum2'], { group: 'starcoder' });
names(['command-r', 'smollm'], { group: 'starcoder', cleanSpaces: false });
names(['qwen2', 'deepseek-r1-qwen', 'kormo', 'f2llmv2', 'hunyuan', 'solar-open'], { group: 'qwen2', cleanSpaces: false });
names(['stablelm2', 'megrez'], { group: 'qwen2' });
names(['qwen35'], { group: 'qwen35', cleanSpaces: false });
names(['dbrx', 'smaug-bpe', 'glm4', 'chatglm-bpe'], { group: 'llama3' });
names(['poro-chat'], { group: 'bloom', cleanSpaces: false });
names(['bloom', 'gpt3-finnish'], { group: 'bloom' });
names(['viking'], { group: 'viking', cleanSpaces: false });
names(['tekken'], { group: 'tekken', cleanSpaces: false, ignoreMerges: true, addBos: true });
names(['chameleon'], { group: 'chameleon', cleanSpaces: false, addBos: true });
names(['gpt-4o', 'llama4', 'kanana2', 'talkie', 'minimax-m2'], { group: 'gpt4o', cleanSpaces: false });
names(['granite-embed-multi-97m'], { group: 'granite-embed-multi', cleanSpaces: false, ignoreMerges: true });
names(['bailingmoe', 'bailingmoe2', 'llada-moe'], { group: 'bailingmoe', cleanSpaces: false });
names(['seed-coder'], { group: 'seed-coder', cleanSpaces: false });
names(['ufakzeka'], { group: 'ufakzeka', cleanSpaces: false });
names(['grok-2'], { group: 'qwen2', cleanSpaces: false });
names(['laguna'], { group: 'laguna', cleanSpaces: false });
names(['exaone-moe'], { group: 'exaone-moe' });

/** Names of every supported `tokenizer.ggml.pre` value. */
export function supportedPreTokenizers(): string[] {
  return Object.keys(PRE_NAMES);
}

/**
 * The pre-tokenizer configuration for a GGUF `tokenizer.ggml.pre` value. An empty or missing name
 * means llama.cpp's `default` (with a quality warning there).
 * @throws TokenizerError `TOKENIZER_UNSUPPORTED` for an unknown name.
 */
export function preTokenizerFor(name: string | undefined): PreTokenizerConfig {
  const key = name && name.length > 0 ? name : 'default';
  const e = PRE_NAMES[key];
  if (!e) throw new TokenizerError('TOKENIZER_UNSUPPORTED', `unknown pre-tokenizer type '${key}'`);
  const g = GROUPS[e.group]!;
  return {
    name: key,
    patterns: g.patterns,
    byteEncode: g.byteEncode ?? true,
    ignoreMerges: e.ignoreMerges ?? false,
    cleanSpaces: e.cleanSpaces ?? true,
    escapeWhitespaces: e.escape ?? false,
    addBosDefault: e.addBos ?? false,
  };
}

/** The GPT-2 byte-level regex (HF `ByteLevel(use_regex=true)`). */
export const GPT2_PATTERN = GPT2;

/**
 * Translate a llama.cpp pattern to a JavaScript `u`-mode regex with llama.cpp's meaning:
 * `\s`/`\S` → Unicode `White_Space` (JS `\s` adds U+FEFF and misses U+0085), `\p{Lu|Ll|Lt|Lm|Lo}` →
 * `\p{L}` (llama.cpp collapses letter subcategories), `\p{Han}` → `\p{Script=Han}`, and the
 * Oniguruma group `(?i:'s|'t|'re|'ve|'m|'ll|'d)` → explicit case classes.
 * @throws TokenizerError `TOKENIZER_BAD_REGEX` when JavaScript rejects the result.
 */
export function compilePattern(pattern: string): RegExp {
  let src = pattern.replaceAll(`(?i:'s|'t|'re|'ve|'m|'ll|'d)`, CONTRACTIONS);
  let out = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c !== '\\' || i + 1 >= src.length) {
      out += c;
      continue;
    }
    const n = src[i + 1]!;
    if (n === 's') out += String.raw`\p{White_Space}`;
    else if (n === 'S') out += String.raw`\P{White_Space}`;
    else if (n === 'p' && src[i + 2] === '{') {
      const close = src.indexOf('}', i + 3);
      const prop = src.slice(i + 3, close);
      if (/^L[ultmo]$/.test(prop)) out += String.raw`\p{L}`;
      else if (prop === 'Han') out += String.raw`\p{Script=Han}`;
      else out += `\\p{${prop}}`;
      i = close;
      continue;
    } else out += c + n;
    i++;
  }
  src = out;
  try {
    return new RegExp(src, 'gu');
  } catch (e) {
    throw new TokenizerError('TOKENIZER_BAD_REGEX', `cannot compile pre-tokenizer regex ${JSON.stringify(pattern)}`, { cause: e });
  }
}

/** Non-ASCII `White_Space` characters (all in the BMP, so replacing them keeps UTF-16 offsets). */
const NON_ASCII_WS = /[\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/g;

/**
 * Split text by a compiled regex sequence (llama.cpp `unicode_regex_split` without the byte
 * encoding step). Returns the pieces in order; their concatenation is `text`.
 *
 * As in llama.cpp, matching runs on a copy where every non-ASCII whitespace character is replaced
 * by U+000B, so such characters match `\s` but never a literal character class (e.g. U+3000 is
 * not matched by DeepSeek's `[　-。]`).
 */
export function splitByRegexes(text: string, regexes: readonly RegExp[]): string[] {
  if (text.length === 0) return [];
  NON_ASCII_WS.lastIndex = 0;
  const subject = NON_ASCII_WS.test(text) ? text.replace(NON_ASCII_WS, '\v') : text;
  // Piece boundaries as [start, end) UTF-16 offsets.
  let starts: number[] = [0];
  let ends: number[] = [text.length];
  for (const re of regexes) {
    const ns: number[] = [];
    const ne: number[] = [];
    for (let k = 0; k < starts.length; k++) {
      const off = starts[k]!;
      const piece = subject.slice(off, ends[k]!);
      re.lastIndex = 0;
      let last = 0;
      for (;;) {
        const m = re.exec(piece);
        if (m === null) break;
        const len = m[0].length;
        if (len === 0) {
          // Zero-length match: nothing to emit; step over one code point.
          const cp = piece.codePointAt(re.lastIndex);
          re.lastIndex += cp !== undefined && cp > 0xffff ? 2 : 1;
          if (re.lastIndex > piece.length) break;
          continue;
        }
        if (m.index > last) {
          ns.push(off + last);
          ne.push(off + m.index);
        }
        ns.push(off + m.index);
        ne.push(off + m.index + len);
        last = m.index + len;
      }
      if (last < piece.length) {
        ns.push(off + last);
        ne.push(off + piece.length);
      }
    }
    starts = ns;
    ends = ne;
  }
  const out: string[] = new Array<string>(starts.length);
  for (let k = 0; k < starts.length; k++) out[k] = text.slice(starts[k]!, ends[k]!);
  return out;
}
