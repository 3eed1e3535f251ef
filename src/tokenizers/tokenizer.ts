/**
 * The tokenizer contract every tokenizer implementation (byte-level BPE, SentencePiece-style,
 * built from GGUF `tokenizer.ggml.*` metadata or from Hugging Face `tokenizer.json`) fulfils.
 * Semantics follow llama.cpp's `llama_tokenize` / `llama_token_to_piece` (src/llama-vocab.cpp).
 */

/** Token attributes as in llama.cpp's `llama_token_type` (tokenizer.ggml.token_type). */
export enum TokenType {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
}

/** Options of {@link Tokenizer.encode}. */
export interface EncodeOptions {
  /** Add BOS/EOS as the model's `add_bos_token`/`add_eos_token` say (llama.cpp `add_special`). Default true. */
  addSpecial?: boolean;
  /** Recognise control/user-defined token texts such as `<|im_start|>` in the input (llama.cpp `parse_special`). Default false. */
  parseSpecial?: boolean;
}

/** A tokenizer: text ⇄ token ids (int32). */
export interface Tokenizer {
  /** Tokenizer family: `bpe` (byte-level, GPT-2 style) or `spm` (SentencePiece-style). */
  readonly kind: 'bpe' | 'spm';
  /** Pre-tokenizer name (GGUF `tokenizer.ggml.pre`), e.g. `gpt-2`, `llama-bpe`, `qwen2`, `smollm`, `default`. */
  readonly pre: string;
  /** Number of tokens in the vocabulary. */
  readonly vocabSize: number;
  /** Beginning-of-sequence id, or -1. */
  readonly bos: number;
  /** End-of-sequence id, or -1. */
  readonly eos: number;
  /** End-of-turn id (e.g. `<|im_end|>`, `<end_of_turn>`), or -1. */
  readonly eot: number;
  /** Whether {@link encode} with addSpecial adds BOS / EOS. */
  readonly addBos: boolean;
  readonly addEos: boolean;
  /** Jinja chat template from `tokenizer.chat_template`, if any. */
  readonly chatTemplate?: string;
  /** Text → token ids. @throws TokenizerError on input it cannot encode. */
  encode(text: string, options?: EncodeOptions): number[];
  /** Token ids → text (UTF-8; invalid sequences become U+FFFD). Control tokens are omitted unless `renderSpecial`. */
  decode(ids: ArrayLike<number>, options?: { renderSpecial?: boolean }): string;
  /** Raw bytes of one token's piece, as llama.cpp's `llama_token_to_piece` gives them (for streaming decode). */
  tokenBytes(id: number, renderSpecial?: boolean): Uint8Array;
  /** The vocabulary string of a token id (as stored in the model). */
  tokenText(id: number): string;
  /** Token type of an id. */
  tokenType(id: number): TokenType;
  /** End-of-generation tokens: EOS, EOT and any other the model marks (llama.cpp `llama_vocab_is_eog`). */
  isEog(id: number): boolean;
}
