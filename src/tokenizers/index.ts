/**
 * Tokenizers: byte-level BPE, SentencePiece-style and SentencePiece-style BPE, built from GGUF
 * metadata or a Hugging Face tokenizer.json, plus Jinja chat templates.
 * Behaviour follows llama.cpp (`src/llama-vocab.cpp`, `src/unicode.cpp`) token for token.
 */
export { TokenType } from './tokenizer.js';
export type { EncodeOptions, Tokenizer } from './tokenizer.js';
export { tokenizerFromGGUF } from './gguf.js';
export { tokenizerFromHF } from './hf.js';
export { applyChatTemplate } from './chat-template.js';
export type { ChatMessage, ChatTemplateOptions } from './chat-template.js';
export { BaseTokenizer } from './base.js';
export { BpeTokenizer } from './bpe.js';
export { SpmTokenizer } from './spm.js';
export { preTokenizerFor, supportedPreTokenizers } from './pretokenizer.js';
export type { PreTokenizerConfig } from './pretokenizer.js';
