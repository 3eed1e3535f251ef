/**
 * `gemma3` (Gemma 3 text): embeddings scaled by sqrt(d); q/k RMSNorm; NEOX RoPE with base
 * `rope.freq_base` on global layers and `rope.freq_base_swa` (default 10000) on local
 * sliding-window layers; layer i is local when i % pattern < pattern - 1 (pattern defaults to 6
 * when the GGUF has no `attention.sliding_window_pattern`); q pre-scaled by
 * 1/sqrt(head_dim) (27B: 1/sqrt(d/n_head)); post-attention and post-FFN RMSNorms; GeGLU MLP.
 * Reference: llama.cpp src/models/gemma3.cpp (`load_arch_hparams`, graph) and
 * shared/design/REFERENCES.md.
 */
import type { ArchSpec } from './arch.js';
import { baseConfigFromGGUF } from '../gguf-config.js';

export const gemma3: ArchSpec = {
  arch: 'gemma3',
  configFromGGUF(file) {
    const c = baseConfigFromGGUF(file, 'gemma3');
    const window = file.getNumber('gemma3.attention.sliding_window', 0);
    const pattern = window > 0 ? file.getNumber('gemma3.attention.sliding_window_pattern', 6) : 1;
    const is27B = c.nLayer === 62;
    return {
      ...c,
      ropeType: 'neox',
      slidingWindow: window,
      swaPattern: pattern,
      ropeFreqBaseSwa: file.getNumber('gemma3.rope.freq_base_swa', 10000),
      scaleQ: true,
      attnScale: is27B ? 1 / Math.sqrt(Math.floor(c.nEmbd / c.nHead)) : 1 / Math.sqrt(c.headDimK),
      finalLogitSoftcap: file.getNumber('gemma3.final_logit_softcapping', 0),
      embedScale: true,
      activation: 'gelu',
      qkNorm: true,
      postNorms: true,
    };
  },
};
