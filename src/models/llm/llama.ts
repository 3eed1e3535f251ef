/**
 * `llama` (Llama 2/3.x, SmolLM2, Mistral): pre-norm RMSNorm blocks, GQA attention with NORM
 * RoPE (pairs 2i, 2i+1), SwiGLU MLP. Reference: llama.cpp src/models/llama.cpp.
 */
import type { ArchSpec } from './arch.js';
import { baseConfigFromGGUF } from '../gguf-config.js';

export const llama: ArchSpec = {
  arch: 'llama',
  configFromGGUF(file) {
    return baseConfigFromGGUF(file, 'llama');
  },
};
