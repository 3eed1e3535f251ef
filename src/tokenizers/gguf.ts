/**
 * Build a tokenizer from GGUF metadata (`tokenizer.ggml.*` keys, see the GGUF spec in
 * ggml/docs/gguf.md and llama.cpp `llama_vocab::impl::load`).
 *
 * Supported `tokenizer.ggml.model` values: `llama` (SentencePiece-style, scores + byte fallback),
 * `gpt2` (byte-level BPE, merges, pre-tokenizer by `tokenizer.ggml.pre`) and `gemma4`
 * (SentencePiece-style BPE over raw UTF-8).
 */
import { TokenizerError } from '../core/errors.js';
import { BpeTokenizer, buildMergeRanks } from './bpe.js';
import { preTokenizerFor } from './pretokenizer.js';
import { SpmTokenizer } from './spm.js';
import type { Tokenizer } from './tokenizer.js';
import { Vocab, type SpecialName, type VocabSpec } from './vocab.js';

const ID_KEYS: [SpecialName, string][] = [
  ['bos', 'bos_token_id'],
  ['eos', 'eos_token_id'],
  ['eot', 'eot_token_id'],
  ['eom', 'eom_token_id'],
  ['unk', 'unknown_token_id'],
  ['sep', 'seperator_token_id'],
  ['pad', 'padding_token_id'],
  ['mask', 'mask_token_id'],
  ['fimPre', 'fim_pre_token_id'],
  ['fimSuf', 'fim_suf_token_id'],
  ['fimMid', 'fim_mid_token_id'],
  ['fimPad', 'fim_pad_token_id'],
  ['fimRep', 'fim_rep_token_id'],
  ['fimSep', 'fim_sep_token_id'],
  // Deprecated spellings (read after the fim_* keys, so they win when both exist, as in llama.cpp).
  ['fimPre', 'prefix_token_id'],
  ['fimSuf', 'suffix_token_id'],
  ['fimMid', 'middle_token_id'],
];

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

function bool(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function numericArray(v: unknown, key: string, n: number): ArrayLike<number> | undefined {
  if (v === undefined) return undefined;
  const ok = (ArrayBuffer.isView(v) && !(v instanceof DataView)) || (Array.isArray(v) && v.every((x) => typeof x === 'number'));
  const arr = v as ArrayLike<number>;
  if (!ok || arr.length < n) throw new TokenizerError('TOKENIZER_BAD_METADATA', `'${key}' must be a numeric array of at least ${n} entries`);
  return arr;
}

/**
 * Build a {@link Tokenizer} from GGUF metadata.
 * @param metadata GGUF key/value metadata, e.g. `openGGUF(path).metadata`: string arrays as
 *   `string[]`, numeric arrays as typed arrays (`Float32Array` scores, `Int32Array` token types),
 *   integers as `number` or `bigint`.
 * @throws TokenizerError `TOKENIZER_NO_VOCAB` when `tokenizer.ggml.tokens` is missing or empty;
 *   `TOKENIZER_UNSUPPORTED` for a `tokenizer.ggml.model` other than llama/gpt2/gemma4 or an unknown
 *   `tokenizer.ggml.pre`; `TOKENIZER_NO_MERGES` for BPE without `tokenizer.ggml.merges`;
 *   `TOKENIZER_BAD_METADATA` for keys of the wrong type.
 */
export function tokenizerFromGGUF(metadata: Map<string, unknown>): Tokenizer {
  const tokensRaw = metadata.get('tokenizer.ggml.tokens');
  if (tokensRaw === undefined) throw new TokenizerError('TOKENIZER_NO_VOCAB', "GGUF metadata has no 'tokenizer.ggml.tokens'");
  if (!Array.isArray(tokensRaw) || !tokensRaw.every((t) => typeof t === 'string')) {
    throw new TokenizerError('TOKENIZER_BAD_METADATA', "'tokenizer.ggml.tokens' must be an array of strings");
  }
  const tokens = tokensRaw as string[];
  if (tokens.length === 0) throw new TokenizerError('TOKENIZER_NO_VOCAB', "'tokenizer.ggml.tokens' is empty");
  const model = str(metadata.get('tokenizer.ggml.model'));
  const g = (k: string) => metadata.get(`tokenizer.ggml.${k}`);

  const ids: Partial<Record<SpecialName, number>> = {};
  for (const [name, key] of ID_KEYS) {
    const v = num(g(key));
    if (v !== undefined) ids[name] = v;
  }
  const spec: VocabSpec = {
    kind: model === 'llama' ? 'spm' : 'bpe',
    tokens,
    ids,
  };
  if (model !== undefined) spec.model = model;
  const types = numericArray(g('token_type'), 'tokenizer.ggml.token_type', tokens.length);
  if (types) spec.types = types;
  const scores = numericArray(g('scores'), 'tokenizer.ggml.scores', tokens.length);
  if (scores) spec.scores = scores;
  const addBos = bool(g('add_bos_token'));
  if (addBos !== undefined) spec.addBos = addBos;
  const addEos = bool(g('add_eos_token'));
  if (addEos !== undefined) spec.addEos = addEos;
  const addSpacePrefix = bool(g('add_space_prefix'));
  if (addSpacePrefix !== undefined) spec.addSpacePrefix = addSpacePrefix;
  const name = str(metadata.get('general.name'));
  if (name !== undefined) spec.modelName = name;
  const arch = str(metadata.get('general.architecture'));
  if (arch !== undefined) spec.architecture = arch;
  const pre = str(g('pre'));
  if (pre !== undefined) spec.pre = pre;
  const chatTemplate = str(metadata.get('tokenizer.chat_template'));

  if (model === 'llama') {
    return new SpmTokenizer(new Vocab(spec, false), chatTemplate);
  }
  if (model === 'gpt2' || model === 'gemma4') {
    const config = preTokenizerFor(model === 'gemma4' ? 'gemma4' : pre);
    spec.addBosDefault = config.addBosDefault;
    spec.addSpacePrefix = addSpacePrefix ?? false;
    const merges = g('merges');
    if (merges === undefined) throw new TokenizerError('TOKENIZER_NO_MERGES', "BPE GGUF metadata has no 'tokenizer.ggml.merges'");
    if (!Array.isArray(merges) || !merges.every((m) => typeof m === 'string')) {
      throw new TokenizerError('TOKENIZER_BAD_METADATA', "'tokenizer.ggml.merges' must be an array of strings");
    }
    return new BpeTokenizer(new Vocab(spec, config.byteEncode), config, buildMergeRanks(merges as string[]), chatTemplate);
  }
  throw new TokenizerError('TOKENIZER_UNSUPPORTED', `unsupported tokenizer model '${model ?? '(missing)'}' (supported: llama, gpt2, gemma4)`);
}
