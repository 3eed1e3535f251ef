/**
 * What an architecture file provides: how its GGUF metadata and tensor names map onto the shared
 * decoder builder (src/models/transformer.ts). A new Llama-like architecture is one such object.
 */
import type { GGUFFile } from '../../formats/gguf/reader.js';
import type { LLMConfig } from '../config.js';

/** One decoder-only architecture. */
export interface ArchSpec {
  /** GGUF `general.architecture` value. */
  readonly arch: string;
  /** Hyperparameters from GGUF metadata (llama.cpp `load_hparams` for this arch). */
  configFromGGUF(file: GGUFFile): LLMConfig;
}
