/**
 * `qwen2` (Qwen2 / Qwen2.5): llama-like blocks with biases on the q/k/v projections and NEOX
 * RoPE (pairs i, i + d/2). Reference: llama.cpp src/models/qwen2.cpp.
 */
import type { ArchSpec } from './arch.js';
import { baseConfigFromGGUF } from '../gguf-config.js';

export const qwen2: ArchSpec = {
  arch: 'qwen2',
  configFromGGUF(file) {
    return { ...baseConfigFromGGUF(file, 'qwen2'), ropeType: 'neox', qkvBias: true };
  },
};
