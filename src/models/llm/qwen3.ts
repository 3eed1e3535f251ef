/**
 * `qwen3`: llama-like blocks with per-head RMSNorm on q and k before RoPE (`attn_q_norm`,
 * `attn_k_norm`), NEOX RoPE, no q/k/v biases. Reference: llama.cpp src/models/qwen3.cpp.
 */
import type { ArchSpec } from './arch.js';
import { baseConfigFromGGUF } from '../gguf-config.js';

export const qwen3: ArchSpec = {
  arch: 'qwen3',
  configFromGGUF(file) {
    return { ...baseConfigFromGGUF(file, 'qwen3'), ropeType: 'neox', qkNorm: true };
  },
};
