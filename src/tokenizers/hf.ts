/**
 * Build a tokenizer from a Hugging Face `tokenizer.json` (+ optional `tokenizer_config.json`).
 *
 * Supported: `model.type = "BPE"` with a byte-level pre-tokenizer/decoder (GPT-2, Llama 3, Qwen2,
 * SmolLM, StarCoder, …). The pre-tokenizer chain is translated to the same regex-sequence form
 * llama.cpp uses: `Split` (Regex or String pattern, "Isolated" behaviour) → that pattern,
 * `Digits` → `\p{N}` (individual) or `\p{N}+`, `ByteLevel(use_regex)` → the GPT-2 regex.
 * `added_tokens` become control (`special: true`) or user-defined tokens, as the GGUF converter
 * (llama.cpp `convert_hf_to_gguf.py`) marks them; id gaps become `[PAD<id>]` unused tokens.
 * SentencePiece-style files (`Unigram`, or `BPE` with `byte_fallback` and no ByteLevel step: Llama-2,
 * Mistral v1, Gemma, …) are handed to {@link spmTokenizerFromHF} (hf-spm.ts).
 * Format reference: https://huggingface.co/docs/tokenizers/api/models and the `tokenizers` Rust
 * crate's serde layout.
 */
import { TokenizerError } from '../core/errors.js';
import { BpeTokenizer, buildMergeRanks } from './bpe.js';
import { isObj, isSentencePieceStyle, spmTokenizerFromHF, tokenContent } from './hf-spm.js';
import { GPT2_PATTERN, type PreTokenizerConfig } from './pretokenizer.js';
import { TokenType, type Tokenizer } from './tokenizer.js';
import { Vocab, type VocabSpec } from './vocab.js';

type Json = Record<string, unknown>;

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Collect regex patterns from an HF pre_tokenizer node; returns whether a ByteLevel step was seen. */
function collectPatterns(node: unknown, patterns: string[]): boolean {
  if (node === null || node === undefined) return false;
  if (!isObj(node)) throw new TokenizerError('TOKENIZER_UNSUPPORTED', 'malformed pre_tokenizer in tokenizer.json');
  switch (node['type']) {
    case 'Sequence': {
      let byteLevel = false;
      for (const p of (node['pretokenizers'] as unknown[]) ?? []) byteLevel = collectPatterns(p, patterns) || byteLevel;
      return byteLevel;
    }
    case 'ByteLevel':
      if (node['use_regex'] !== false) patterns.push(GPT2_PATTERN);
      return true;
    case 'Digits':
      patterns.push(node['individual_digits'] ? String.raw`\p{N}` : String.raw`\p{N}+`);
      return false;
    case 'Split': {
      const behavior = node['behavior'] ?? 'Isolated';
      if (behavior !== 'Isolated' || node['invert'] === true) {
        throw new TokenizerError('TOKENIZER_UNSUPPORTED', `pre_tokenizer Split with behavior ${String(behavior)} is not supported`);
      }
      const pat = node['pattern'];
      if (isObj(pat) && typeof pat['Regex'] === 'string') patterns.push(pat['Regex']);
      else if (isObj(pat) && typeof pat['String'] === 'string') patterns.push(escapeRegex(pat['String']));
      else throw new TokenizerError('TOKENIZER_UNSUPPORTED', 'pre_tokenizer Split without a pattern');
      return false;
    }
    default:
      throw new TokenizerError('TOKENIZER_UNSUPPORTED', `pre_tokenizer type ${String(node['type'])} is not supported`);
  }
}

/**
 * Build a {@link Tokenizer} from Hugging Face tokenizer files.
 * @param tokenizerJson parsed `tokenizer.json` (`model.vocab` {text: id}, `model.merges` as
 *   "a b" strings or [a, b] pairs, `added_tokens`, `pre_tokenizer`, `decoder`).
 * @param tokenizerConfig parsed `tokenizer_config.json`: `bos_token`, `eos_token`, `add_bos_token`,
 *   `add_eos_token`, `clean_up_tokenization_spaces` (default true, as in transformers),
 *   `chat_template`.
 *   SentencePiece-style files go to {@link spmTokenizerFromHF} (its errors apply).
 * @throws TokenizerError `TOKENIZER_NO_VOCAB` without `model.vocab`; `TOKENIZER_UNSUPPORTED` for
 *   other model types (WordPiece, WordLevel), BPE that is neither byte-level nor byte-fallback, or
 *   pre-tokenizers this translation does not know.
 */
export function tokenizerFromHF(tokenizerJson: object, tokenizerConfig: object = {}): Tokenizer {
  const tj = tokenizerJson as Json;
  const cfg = tokenizerConfig as Json;
  if (isSentencePieceStyle(tj)) return spmTokenizerFromHF(tj, cfg);
  const model = tj['model'];
  if (!isObj(model) || !isObj(model['vocab'])) throw new TokenizerError('TOKENIZER_NO_VOCAB', 'tokenizer.json has no model.vocab');
  if (model['type'] !== undefined && model['type'] !== 'BPE') {
    throw new TokenizerError('TOKENIZER_UNSUPPORTED', `tokenizer.json model type ${String(model['type'])} is not supported (BPE or Unigram only)`);
  }
  const patterns: string[] = [];
  const byteLevel = collectPatterns(tj['pre_tokenizer'], patterns) || (isObj(tj['decoder']) && tj['decoder']['type'] === 'ByteLevel');
  if (!byteLevel) throw new TokenizerError('TOKENIZER_UNSUPPORTED', 'only byte-level BPE tokenizer.json files are supported');

  const entries: [string, number][] = Object.entries(model['vocab'] as Record<string, number>);
  const added = Array.isArray(tj['added_tokens']) ? (tj['added_tokens'] as Json[]) : [];
  let size = 0;
  for (const [, id] of entries) size = Math.max(size, id + 1);
  for (const a of added) size = Math.max(size, Number(a['id']) + 1);
  const tokens: string[] = new Array<string>(size).fill('');
  const types = new Int32Array(size).fill(TokenType.Unused);
  for (let i = 0; i < size; i++) tokens[i] = `[PAD${i}]`;
  for (const [text, id] of entries) {
    tokens[id] = text;
    types[id] = TokenType.Normal;
  }
  for (const a of added) {
    const id = Number(a['id']);
    tokens[id] = String(a['content']);
    types[id] = a['special'] ? TokenType.Control : TokenType.UserDefined;
  }
  if (size === 0) throw new TokenizerError('TOKENIZER_NO_VOCAB', 'tokenizer.json vocabulary is empty');

  const idOf = (v: unknown) => {
    const t = tokenContent(v);
    if (t === undefined) return undefined;
    const i = tokens.indexOf(t);
    return i >= 0 ? i : undefined;
  };
  const spec: VocabSpec = { kind: 'bpe', tokens, types, ids: {}, pre: 'hf' };
  const bos = idOf(cfg['bos_token']);
  const eos = idOf(cfg['eos_token']);
  const unk = idOf(cfg['unk_token']);
  const pad = idOf(cfg['pad_token']);
  if (bos !== undefined) spec.ids!.bos = bos;
  if (eos !== undefined) spec.ids!.eos = eos;
  if (unk !== undefined) spec.ids!.unk = unk;
  if (pad !== undefined) spec.ids!.pad = pad;
  spec.addBos = cfg['add_bos_token'] === true;
  spec.addEos = cfg['add_eos_token'] === true;
  spec.addSpacePrefix = false;

  const config: PreTokenizerConfig = {
    name: 'hf',
    patterns,
    byteEncode: true,
    ignoreMerges: model['ignore_merges'] === true,
    cleanSpaces: cfg['clean_up_tokenization_spaces'] !== false,
    escapeWhitespaces: false,
    addBosDefault: false,
  };
  const merges = Array.isArray(model['merges']) ? (model['merges'] as (string | [string, string])[]) : [];
  const template = typeof cfg['chat_template'] === 'string' ? cfg['chat_template'] : undefined;
  return new BpeTokenizer(new Vocab(spec, true), config, buildMergeRanks(merges), template);
}
