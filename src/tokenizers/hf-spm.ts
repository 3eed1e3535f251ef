/**
 * Build a SentencePiece-style tokenizer ({@link SpmTokenizer}, llama.cpp `llm_tokenizer_spm`) from a
 * Hugging Face `tokenizer.json` as the `tokenizers` library serializes Llama-1/2, Mistral v1, Gemma
 * and other SentencePiece models (transformers `convert_slow_tokenizer.py`: LlamaConverter,
 * GemmaConverter, SpmConverter):
 *
 * - `model.type = "BPE"` with `byte_fallback: true`, `vocab` {text: id} and `merges` ("a b" strings or
 *   [a, b] pairs). A BPE tokenizer.json carries no SentencePiece scores; the converter's
 *   `generate_merges` lists every split of every piece, sorted by the piece's score (descending), so
 *   the merge rank orders pieces exactly as their scores do. Each piece that a merge produces gets
 *   the score `-(rank of its first merge)`; a piece no merge produces gets `-(merges.length + 1)`
 *   (SPM only scores multi-symbol concatenations, so single code points are never looked up).
 *   Pieces with *equal* SentencePiece scores get distinct ranks here, so where llama.cpp breaks a
 *   score tie by position (leftmost first) this vocabulary breaks it by merge rank; the tokenizer
 *   test (tests/tokenizers/hf-spm.test.ts) checks the corpus still tokenizes identically.
 * - `model.type = "Unigram"`: `vocab` as [[piece, score], …] (id = index), `unk_id`, `byte_fallback`.
 *   The scores are used as llama.cpp uses GGUF scores (the greedy SPM merge, not Unigram's Viterbi
 *   search), i.e. this gives what llama.cpp gives for a GGUF converted from the same model.
 *
 * Token types follow llama.cpp's SentencePiece conversion (`_create_vocab_sentencepiece` in
 * conversion/base.py): `<0xNN>` pieces are Byte (with byte_fallback), the unknown piece is Unknown,
 * `added_tokens` are Control (`special: true`) or UserDefined (with `▁` turned back into spaces, as
 * that converter pre-normalizes user-defined pieces), id gaps are `[PAD<id>]` Unused.
 *
 * Whitespace: the normalizer `Replace(" " → "▁")` (alone or in a `Sequence` after `Prepend("▁")`) or
 * a `Metaspace` pre-tokenizer is required; `Prepend("▁")` or Metaspace's `prepend_scheme`
 * "always"/"first" (older files: `add_prefix_space: true`) turns on llama.cpp's `add_space_prefix`.
 * Decoders must be among Replace/ByteFallback/Fuse/Strip/Metaspace (the detokenizer is llama.cpp's).
 * Format reference: https://huggingface.co/docs/tokenizers/api/models, /api/normalizers,
 * /api/pre-tokenizers, /api/decoders.
 */
import { TokenizerError } from '../core/errors.js';
import { SpmTokenizer } from './spm.js';
import { TokenType, type Tokenizer } from './tokenizer.js';
import { parseByteToken } from './unicode.js';
import { Vocab, type VocabSpec } from './vocab.js';

type Json = Record<string, unknown>;

const SPACE_MARK = '\u2581';

/** Whether a parsed JSON value is a plain object (not null, not an array). */
export function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unsupported(msg: string): TokenizerError {
  return new TokenizerError('TOKENIZER_UNSUPPORTED', msg);
}

/** A token's text: the string itself or an AddedToken object's `content`; undefined otherwise. */
export function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObj(v) && typeof v['content'] === 'string') return v['content'];
  return undefined;
}

function stringPattern(node: Json): string | undefined {
  const p = node['pattern'];
  return isObj(p) && typeof p['String'] === 'string' ? p['String'] : undefined;
}

/** Whitespace handling read from the normalizer and pre-tokenizer. */
interface Whitespace {
  /** Spaces become `▁` (required). */
  escape: boolean;
  /** A `▁` is prepended (llama.cpp `add_space_prefix`). */
  prefix: boolean;
}

function readNormalizer(node: unknown, ws: Whitespace): void {
  if (node === null || node === undefined) return;
  if (!isObj(node)) throw unsupported('malformed normalizer in tokenizer.json');
  switch (node['type']) {
    case 'Sequence':
      for (const n of Array.isArray(node['normalizers']) ? node['normalizers'] : []) readNormalizer(n, ws);
      return;
    case 'Prepend':
      if (node['prepend'] !== SPACE_MARK) throw unsupported(`normalizer Prepend(${JSON.stringify(node['prepend'])}) is not supported (only "▁")`);
      ws.prefix = true;
      return;
    case 'Replace':
      if (stringPattern(node) !== ' ' || node['content'] !== SPACE_MARK) {
        throw unsupported('normalizer Replace is supported only as " " → "▁"');
      }
      ws.escape = true;
      return;
    default:
      throw unsupported(`normalizer type ${String(node['type'])} is not supported for SentencePiece-style tokenizer.json`);
  }
}

function readPreTokenizer(node: unknown, ws: Whitespace): void {
  if (node === null || node === undefined) return;
  if (!isObj(node)) throw unsupported('malformed pre_tokenizer in tokenizer.json');
  switch (node['type']) {
    case 'Sequence':
      for (const n of Array.isArray(node['pretokenizers']) ? node['pretokenizers'] : []) readPreTokenizer(n, ws);
      return;
    case 'Metaspace': {
      if ((node['replacement'] ?? SPACE_MARK) !== SPACE_MARK) throw unsupported('pre_tokenizer Metaspace with a replacement other than "▁"');
      ws.escape = true;
      const scheme = node['prepend_scheme'];
      if (scheme === 'always' || scheme === 'first') ws.prefix = true;
      else if (scheme === undefined && node['add_prefix_space'] === true) ws.prefix = true;
      else if (scheme !== undefined && scheme !== 'never') throw unsupported(`Metaspace prepend_scheme ${String(scheme)} is not supported`);
      return;
    }
    default:
      throw unsupported(`pre_tokenizer type ${String(node['type'])} is not supported for SentencePiece-style tokenizer.json`);
  }
}

const DECODERS = new Set(['Replace', 'ByteFallback', 'Fuse', 'Strip', 'Metaspace']);

function checkDecoder(node: unknown): void {
  if (node === null || node === undefined) return;
  if (!isObj(node)) throw unsupported('malformed decoder in tokenizer.json');
  if (node['type'] === 'Sequence') {
    for (const d of Array.isArray(node['decoders']) ? node['decoders'] : []) checkDecoder(d);
    return;
  }
  if (!DECODERS.has(String(node['type']))) throw unsupported(`decoder type ${String(node['type'])} is not supported for SentencePiece-style tokenizer.json`);
}

function mergePair(m: unknown, rank: number): [string, string] {
  if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return [m[0], m[1]];
  if (typeof m === 'string') {
    const parts = m.split(' ');
    if (parts.length === 2) return [parts[0]!, parts[1]!];
  }
  throw new TokenizerError('TOKENIZER_BAD_METADATA', `tokenizer.json merge #${rank} is neither "a b" nor [a, b]`);
}

/** Whether a parsed tokenizer.json is SentencePiece-style (Unigram, or BPE with byte_fallback and no ByteLevel step). */
export function isSentencePieceStyle(tokenizerJson: object): boolean {
  const tj = tokenizerJson as Json;
  const model = tj['model'];
  if (!isObj(model)) return false;
  if (model['type'] === 'Unigram') return true;
  if (model['type'] !== 'BPE' || model['byte_fallback'] !== true) return false;
  const hasByteLevel = (n: unknown): boolean =>
    isObj(n) && (n['type'] === 'ByteLevel' || [n['pretokenizers'], n['decoders']].some((l) => Array.isArray(l) && l.some(hasByteLevel)));
  return !hasByteLevel(tj['pre_tokenizer']) && !hasByteLevel(tj['decoder']);
}

/**
 * Build an {@link SpmTokenizer} from a SentencePiece-style Hugging Face tokenizer (see module comment).
 * @param tokenizerJson parsed `tokenizer.json` (`model`, `normalizer`, `pre_tokenizer`, `decoder`,
 *   `post_processor`, `added_tokens`).
 * @param tokenizerConfig parsed `tokenizer_config.json`: `bos_token`, `eos_token`, `unk_token`,
 *   `pad_token` (strings or `{content}`), `add_bos_token`, `add_eos_token` (when absent, read from a
 *   `TemplateProcessing` post-processor), `chat_template`.
 * @returns a tokenizer of kind `spm` whose vocabulary has `max(id) + 1` entries (int32 ids).
 * @throws TokenizerError `TOKENIZER_NO_VOCAB` for a missing or empty vocabulary;
 *   `TOKENIZER_UNSUPPORTED` for normalizers, pre-tokenizers or decoders outside the list above, or
 *   no `▁` whitespace escaping; `TOKENIZER_BAD_METADATA` for malformed vocab entries or merges.
 */
export function spmTokenizerFromHF(tokenizerJson: object, tokenizerConfig: object = {}): Tokenizer {
  const tj = tokenizerJson as Json;
  const cfg = tokenizerConfig as Json;
  const model = tj['model'];
  if (!isObj(model)) throw new TokenizerError('TOKENIZER_NO_VOCAB', 'tokenizer.json has no model');
  const ws: Whitespace = { escape: false, prefix: false };
  readNormalizer(tj['normalizer'], ws);
  readPreTokenizer(tj['pre_tokenizer'], ws);
  checkDecoder(tj['decoder']);
  if (!ws.escape) throw unsupported('SentencePiece-style tokenizer.json without Replace(" " → "▁") or Metaspace is not supported');
  const byteFallback = model['byte_fallback'] === true;

  // Pieces and scores by id.
  const byId = new Map<number, string>();
  const scoreById = new Map<number, number>();
  let unkId: number | undefined;
  if (model['type'] === 'Unigram') {
    const v = model['vocab'];
    if (!Array.isArray(v)) throw new TokenizerError('TOKENIZER_NO_VOCAB', 'Unigram tokenizer.json has no model.vocab list');
    v.forEach((e, id) => {
      if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'number') {
        throw new TokenizerError('TOKENIZER_BAD_METADATA', `Unigram vocab entry ${id} is not [piece, score]`);
      }
      byId.set(id, e[0]);
      scoreById.set(id, e[1]);
    });
    if (typeof model['unk_id'] === 'number') unkId = model['unk_id'];
  } else if (model['type'] === 'BPE') {
    const v = model['vocab'];
    if (!isObj(v)) throw new TokenizerError('TOKENIZER_NO_VOCAB', 'tokenizer.json has no model.vocab');
    const idOfPiece = new Map<string, number>();
    for (const [text, id] of Object.entries(v)) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new TokenizerError('TOKENIZER_BAD_METADATA', `vocab id of ${JSON.stringify(text)} is not a non-negative integer`);
      byId.set(id, text);
      idOfPiece.set(text, id);
    }
    const merges = Array.isArray(model['merges']) ? (model['merges'] as unknown[]) : [];
    merges.forEach((m, rank) => {
      const [a, b] = mergePair(m, rank);
      const id = idOfPiece.get(a + b);
      if (id !== undefined && !scoreById.has(id)) scoreById.set(id, -rank);
    });
    const unscored = -(merges.length + 1);
    for (const id of byId.keys()) if (!scoreById.has(id)) scoreById.set(id, unscored);
    const unk = tokenContent(model['unk_token']);
    if (unk !== undefined) unkId = idOfPiece.get(unk);
  } else {
    throw unsupported(`tokenizer.json model type ${String(model['type'])} is not SentencePiece-style`);
  }

  const added = Array.isArray(tj['added_tokens']) ? (tj['added_tokens'] as unknown[]) : [];
  let size = 0;
  for (const id of byId.keys()) size = Math.max(size, id + 1);
  for (const a of added) {
    if (!isObj(a) || !Number.isInteger(a['id']) || (a['id'] as number) < 0 || typeof a['content'] !== 'string') {
      throw new TokenizerError('TOKENIZER_BAD_METADATA', 'tokenizer.json added_tokens entries need an integer id and a string content');
    }
    size = Math.max(size, (a['id'] as number) + 1);
  }
  if (size === 0) throw new TokenizerError('TOKENIZER_NO_VOCAB', 'tokenizer.json vocabulary is empty');

  const tokens = new Array<string>(size);
  const types = new Int32Array(size).fill(TokenType.Unused);
  const scores = new Float32Array(size);
  for (let i = 0; i < size; i++) tokens[i] = `[PAD${i}]`;
  for (const [id, text] of byId) {
    tokens[id] = text;
    scores[id] = scoreById.get(id) ?? 0;
    types[id] = byteFallback && parseByteToken(text) >= 0 ? TokenType.Byte : TokenType.Normal;
  }
  for (const a of added as Json[]) {
    const id = a['id'] as number;
    const special = a['special'] === true;
    tokens[id] = special ? (a['content'] as string) : (a['content'] as string).replaceAll(SPACE_MARK, ' ');
    types[id] = special ? TokenType.Control : TokenType.UserDefined;
    if (!byId.has(id)) scores[id] = 0;
  }
  if (unkId !== undefined && unkId >= 0 && unkId < size) types[unkId] = TokenType.Unknown;

  const idOf = (v: unknown): number | undefined => {
    const t = tokenContent(v);
    if (t === undefined) return undefined;
    const i = tokens.indexOf(t);
    return i >= 0 ? i : undefined;
  };
  // BOS/EOS insertion from a TemplateProcessing post-processor when tokenizer_config.json is silent.
  const post = tj['post_processor'];
  const single = isObj(post) && post['type'] === 'TemplateProcessing' && Array.isArray(post['single']) ? (post['single'] as unknown[]) : undefined;
  const specialAt = (i: number): string | undefined => {
    const e = single?.[i];
    return isObj(e) && isObj(e['SpecialToken']) && typeof e['SpecialToken']['id'] === 'string' ? e['SpecialToken']['id'] : undefined;
  };
  const postBos = single ? specialAt(0) : undefined;
  const postEos = single && single.length > 1 ? specialAt(single.length - 1) : undefined;

  const spec: VocabSpec = { kind: 'spm', model: 'llama', tokens, types, scores, ids: {}, pre: 'default', addSpacePrefix: ws.prefix };
  const bos = idOf(cfg['bos_token']) ?? idOf(postBos);
  const eos = idOf(cfg['eos_token']) ?? idOf(postEos);
  const unk = idOf(cfg['unk_token']) ?? unkId;
  const pad = idOf(cfg['pad_token']);
  if (bos !== undefined) spec.ids!.bos = bos;
  if (eos !== undefined) spec.ids!.eos = eos;
  if (unk !== undefined) spec.ids!.unk = unk;
  if (pad !== undefined) spec.ids!.pad = pad;
  if (typeof cfg['add_bos_token'] === 'boolean') spec.addBos = cfg['add_bos_token'];
  else if (single) spec.addBos = postBos !== undefined;
  if (typeof cfg['add_eos_token'] === 'boolean') spec.addEos = cfg['add_eos_token'];
  else if (single) spec.addEos = postEos !== undefined;
  const template = typeof cfg['chat_template'] === 'string' ? cfg['chat_template'] : undefined;
  return new SpmTokenizer(new Vocab(spec, false), template);
}
