/**
 * Common hyperparameters of a decoder-only LM read from GGUF metadata, with llama.cpp's key
 * names and defaults (src/llama-arch.cpp `LLM_KV_*`, src/llama-model.cpp `load_hparams`).
 * Architecture files then set their own flags on top.
 */
import type { GGUFFile } from '../formats/gguf/reader.js';
import type { LLMConfig, RopeScaling } from './config.js';
import { ModelFormatError } from '../core/errors.js';

/** Reads `{arch}.*` keys into an LLMConfig with llama-like defaults (norm RoPE, SwiGLU). */
export function baseConfigFromGGUF(file: GGUFFile, arch: string): LLMConfig {
  const k = (s: string) => `${arch}.${s}`;
  const num = (s: string, d?: number) => file.getNumber(k(s), d);
  const nEmbd = num('embedding_length');
  const nHead = num('attention.head_count');
  if (!(nHead > 0) || !(nEmbd > 0)) throw new ModelFormatError('BAD_HPARAMS', `${file.source}: head_count and embedding_length must be positive`);
  const nHeadKv = num('attention.head_count_kv', nHead);
  const headDimK = num('attention.key_length', Math.floor(nEmbd / nHead));
  const headDimV = num('attention.value_length', headDimK);
  const emb = file.tensor('token_embd.weight');
  const nVocab = file.has(k('vocab_size')) ? num('vocab_size') : emb?.dims[1] ?? file.getArray('tokenizer.ggml.tokens').length;
  const nLayer = num('block_count');
  if (nHeadKv <= 0 || nHead % nHeadKv !== 0) throw new ModelFormatError('BAD_HPARAMS', `${file.source}: head_count ${nHead} is not a multiple of head_count_kv ${nHeadKv}`);
  if (nLayer <= 0 || nLayer > 1024) throw new ModelFormatError('BAD_HPARAMS', `${file.source}: block_count ${nLayer} out of range`);

  const scalingType = file.has(k('rope.scaling.type')) ? file.getString(k('rope.scaling.type')) : 'none';
  const factor = file.has(k('rope.scaling.factor')) ? num('rope.scaling.factor') : file.has(k('rope.scale_linear')) ? num('rope.scale_linear') : 1;
  const nCtxTrain = num('context_length', 2048);
  const ropeScaling: RopeScaling = {
    type: scalingType === 'linear' || scalingType === 'yarn' ? scalingType : factor !== 1 && file.has(k('rope.scale_linear')) ? 'linear' : 'none',
    factor,
    originalContext: num('rope.scaling.original_context_length', nCtxTrain),
    yarnBetaFast: num('rope.scaling.yarn_beta_fast', 32),
    yarnBetaSlow: num('rope.scaling.yarn_beta_slow', 1),
    yarnExtFactor: num('rope.scaling.yarn_ext_factor', -1),
    yarnAttnFactor: num('rope.scaling.yarn_attn_factor', 1),
  };
  return {
    arch,
    name: file.getString('general.name', arch),
    nVocab,
    nCtxTrain,
    nEmbd,
    nLayer,
    nHead,
    nHeadKv,
    headDimK,
    headDimV,
    nFF: num('feed_forward_length'),
    rmsEps: num('attention.layer_norm_rms_epsilon'),
    ropeType: 'norm',
    ropeDim: num('rope.dimension_count', headDimK),
    ropeFreqBase: num('rope.freq_base', 10000),
    ropeScaling,
    slidingWindow: 0,
    swaPattern: 1,
    attnScale: 1 / Math.sqrt(headDimK),
    scaleQ: false,
    finalLogitSoftcap: 0,
    embedScale: false,
    activation: 'silu',
    qkNorm: false,
    postNorms: false,
    qkvBias: false,
    tiedEmbeddings: file.tensor('output.weight') === undefined,
  };
}
