/**
 * Hugging Face config.json → LLMConfig and HF → GGUF tensor names/transforms.
 *
 * Configs below are the published config.json files of the models (copied from their Hugging
 * Face repositories); expected values come from the real GGUF files' metadata (which
 * convert_hf_to_gguf.py wrote from those configs), from llama.cpp's gguf-py name table, and from
 * convert_hf_to_gguf.py's formulas worked by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { llmConfigFromHF } from '../../src/formats/hf/config.js';
import { hfToGGUFName, ggufToHFNames, permuteQK, unpermuteQK, gemmaNormShift, mapHFTensor } from '../../src/formats/hf/tensor-names.js';
import { openGGUF } from '../../src/formats/gguf/reader.js';
import { ModelFormatError, UnsupportedArchitectureError, ShapeError } from '../../src/core/errors.js';
import { pythonGGUFSkip, runPython } from './python-helper.js';
import { repoRoot } from '../helpers/paths.js';
import { join } from 'node:path';

const SMOL = join(repoRoot(), '.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf');
const GEMMA = join(repoRoot(), '.cache/models/gemma-3-270m-q4_k_m.gguf');

const SMOL_CONFIG = {
  architectures: ['LlamaForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 1, eos_token_id: 2,
  hidden_act: 'silu', hidden_size: 576, initializer_range: 0.041666666666666664, intermediate_size: 1536, is_llama_config: true,
  max_position_embeddings: 8192, mlp_bias: false, model_type: 'llama', num_attention_heads: 9, num_hidden_layers: 30,
  num_key_value_heads: 3, pad_token_id: 2, pretraining_tp: 1, rms_norm_eps: 1e-5, rope_interleaved: false, rope_scaling: null,
  rope_theta: 100000, tie_word_embeddings: true, torch_dtype: 'bfloat16', transformers_version: '4.42.3', use_cache: true, vocab_size: 49152,
};

const GEMMA_CONFIG = {
  _sliding_window_pattern: 6, architectures: ['Gemma3ForCausalLM'], attention_bias: false, attention_dropout: 0.0,
  attn_logit_softcapping: null, bos_token_id: 2, eos_token_id: 1, final_logit_softcapping: null, head_dim: 256,
  hidden_activation: 'gelu_pytorch_tanh', hidden_size: 640, initializer_range: 0.02, intermediate_size: 2048,
  layer_types: [...Array(3)].flatMap(() => [...Array(5).fill('sliding_attention'), 'full_attention']),
  max_position_embeddings: 32768, model_type: 'gemma3_text', num_attention_heads: 4, num_hidden_layers: 18, num_key_value_heads: 1,
  pad_token_id: 0, query_pre_attn_scalar: 256, rms_norm_eps: 1e-6, rope_local_base_freq: 10000.0, rope_scaling: null,
  rope_theta: 1000000.0, sliding_window: 512, torch_dtype: 'bfloat16', transformers_version: '4.55.0.dev0',
  use_bidirectional_attention: false, use_cache: true, vocab_size: 262144,
};

const QWEN25_05B_CONFIG = {
  architectures: ['Qwen2ForCausalLM'], attention_dropout: 0.0, bos_token_id: 151643, eos_token_id: 151645, hidden_act: 'silu',
  hidden_size: 896, initializer_range: 0.02, intermediate_size: 4864, max_position_embeddings: 32768, max_window_layers: 21,
  model_type: 'qwen2', num_attention_heads: 14, num_hidden_layers: 24, num_key_value_heads: 2, rms_norm_eps: 1e-6,
  rope_theta: 1000000.0, sliding_window: 32768, tie_word_embeddings: true, torch_dtype: 'bfloat16', use_cache: true,
  use_sliding_window: false, vocab_size: 151936,
};

const QWEN3_06B_CONFIG = {
  architectures: ['Qwen3ForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 151643, eos_token_id: 151645,
  head_dim: 128, hidden_act: 'silu', hidden_size: 1024, initializer_range: 0.02, intermediate_size: 3072, max_position_embeddings: 40960,
  max_window_layers: 28, model_type: 'qwen3', num_attention_heads: 16, num_hidden_layers: 28, num_key_value_heads: 8,
  rms_norm_eps: 1e-6, rope_scaling: null, rope_theta: 1000000, sliding_window: null, tie_word_embeddings: true,
  torch_dtype: 'bfloat16', use_cache: true, use_sliding_window: false, vocab_size: 151936,
};

test('SmolLM2 config.json agrees with the converted GGUF metadata', { skip: !existsSync(SMOL) && 'SmolLM2 fixture missing' }, () => {
  const c = llmConfigFromHF(SMOL_CONFIG);
  const g = openGGUF(SMOL);
  assert.equal(c.arch, g.getString('general.architecture'));
  assert.equal(c.nLayer, g.getNumber('llama.block_count'));
  assert.equal(c.nCtxTrain, g.getNumber('llama.context_length'));
  assert.equal(c.nEmbd, g.getNumber('llama.embedding_length'));
  assert.equal(c.nFF, g.getNumber('llama.feed_forward_length'));
  assert.equal(c.nHead, g.getNumber('llama.attention.head_count'));
  assert.equal(c.nHeadKv, g.getNumber('llama.attention.head_count_kv'));
  assert.equal(c.ropeFreqBase, g.getNumber('llama.rope.freq_base'));
  assert.equal(c.ropeDim, g.getNumber('llama.rope.dimension_count'));
  assert.equal(Math.fround(c.rmsEps), g.getNumber('llama.attention.layer_norm_rms_epsilon'));
  assert.equal(c.nVocab, g.getNumber('llama.vocab_size'));
  assert.equal(c.tiedEmbeddings, g.tensor('output.weight') === undefined);
  assert.equal(llmConfigFromHF(SMOL_CONFIG, { tensorNames: g.tensors.map((t) => t.name) }).tiedEmbeddings, true);
  assert.equal(c.ropeType, 'norm');
  assert.equal(c.headDimK, 64);
  assert.equal(c.attnScale, 1 / 8);
  assert.equal(c.activation, 'silu');
  assert.deepEqual([c.qkNorm, c.postNorms, c.qkvBias, c.embedScale], [false, false, false, false]);
  assert.deepEqual(c.ropeScaling, { type: 'none', factor: 1, originalContext: 8192 });
  assert.equal(c.swaPattern, 1);
  assert.equal(c.slidingWindow, 0);
});

test('Gemma3 270m config.json agrees with the converted GGUF metadata', { skip: !existsSync(GEMMA) && 'gemma fixture missing' }, () => {
  const c = llmConfigFromHF(GEMMA_CONFIG);
  const g = openGGUF(GEMMA);
  assert.equal(c.arch, g.getString('general.architecture'));
  for (const [field, key] of [
    ['nLayer', 'block_count'], ['nCtxTrain', 'context_length'], ['nEmbd', 'embedding_length'], ['nFF', 'feed_forward_length'],
    ['nHead', 'attention.head_count'], ['nHeadKv', 'attention.head_count_kv'], ['headDimK', 'attention.key_length'],
    ['headDimV', 'attention.value_length'], ['ropeFreqBase', 'rope.freq_base'], ['slidingWindow', 'attention.sliding_window'],
  ] as const) {
    assert.equal(c[field], g.getNumber(`gemma3.${key}`), field);
  }
  assert.equal(Math.fround(c.rmsEps), g.getNumber('gemma3.attention.layer_norm_rms_epsilon'));
  assert.equal(c.nVocab, g.getStringArray('tokenizer.ggml.tokens').length);
  assert.equal(c.tiedEmbeddings, g.tensor('output.weight') === undefined);
  // derived: llama.cpp gemma3 defaults (pattern 6, swa base 10000), 256^-0.5
  assert.equal(c.swaPattern, 6);
  assert.equal(c.ropeFreqBaseSwa, 10000);
  assert.equal(c.attnScale, 1 / 16);
  assert.equal(c.ropeType, 'neox');
  assert.equal(c.ropeDim, 256);
  assert.equal(c.activation, 'gelu');
  assert.deepEqual([c.qkNorm, c.postNorms, c.qkvBias, c.embedScale], [true, true, false, true]);
  assert.equal(c.finalLogitSoftcap, 0);
  // older configs: sliding_window_pattern instead of layer_types; newer: rope_parameters
  const old = { ...GEMMA_CONFIG, layer_types: undefined, _sliding_window_pattern: undefined, sliding_window_pattern: 6 };
  assert.equal(llmConfigFromHF(old).swaPattern, 6);
  const newer = {
    ...GEMMA_CONFIG, rope_theta: undefined, rope_local_base_freq: undefined,
    rope_parameters: { full_attention: { rope_type: 'linear', factor: 8, rope_theta: 1e6 }, sliding_attention: { rope_type: 'default', rope_theta: 1e4 } },
  };
  const n = llmConfigFromHF(newer);
  assert.equal(n.ropeFreqBase, 1e6);
  assert.equal(n.ropeFreqBaseSwa, 1e4);
  assert.deepEqual(n.ropeScaling, { type: 'linear', factor: 8, originalContext: 32768 });
  // text_config of the multimodal wrapper
  const mm = llmConfigFromHF({ architectures: ['Gemma3ForConditionalGeneration'], model_type: 'gemma3', text_config: { ...GEMMA_CONFIG, query_pre_attn_scalar: 168 } });
  assert.equal(mm.attnScale, 168 ** -0.5);
});

test('Qwen2.5 and Qwen3 configs', () => {
  const q2 = llmConfigFromHF(QWEN25_05B_CONFIG);
  assert.equal(q2.arch, 'qwen2');
  assert.equal(q2.headDimK, 64);
  assert.equal(q2.qkvBias, true);
  assert.equal(q2.qkNorm, false);
  assert.equal(q2.ropeType, 'neox');
  assert.equal(q2.slidingWindow, 0);
  assert.equal(q2.tiedEmbeddings, true);
  const q3 = llmConfigFromHF(QWEN3_06B_CONFIG);
  assert.equal(q3.arch, 'qwen3');
  assert.equal(q3.headDimK, 128); // head_dim, not 1024 / 16
  assert.equal(q3.attnScale, 128 ** -0.5);
  assert.equal(q3.qkNorm, true);
  assert.equal(q3.qkvBias, false);
  assert.equal(q3.nHeadKv, 8);
  assert.equal(q3.nCtxTrain, 40960);
  // untied when the checkpoint has lm_head
  assert.equal(llmConfigFromHF(QWEN3_06B_CONFIG, { tensorNames: ['lm_head.weight', 'model.embed_tokens.weight'] }).tiedEmbeddings, false);
  // llama3 rope scaling (Llama 3.2 1B config)
  const l3 = llmConfigFromHF({
    ...SMOL_CONFIG, rope_theta: 500000,
    rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  });
  assert.deepEqual(l3.ropeScaling, { type: 'llama3', factor: 32, originalContext: 8192, lowFreqFactor: 1, highFreqFactor: 4 });
});

test('bad configs → typed errors', () => {
  assert.throws(() => llmConfigFromHF({ architectures: ['MambaForCausalLM'] }), UnsupportedArchitectureError);
  assert.throws(() => llmConfigFromHF({ ...SMOL_CONFIG, hidden_size: undefined }), { code: 'HF_CONFIG_MISSING_KEY' });
  assert.throws(() => llmConfigFromHF({ ...SMOL_CONFIG, hidden_size: '576' }), { code: 'HF_CONFIG_BAD_VALUE' });
  assert.throws(() => llmConfigFromHF({ ...SMOL_CONFIG, num_key_value_heads: 4 }), { code: 'HF_CONFIG_BAD_VALUE' });
  assert.throws(() => llmConfigFromHF({ ...SMOL_CONFIG, hidden_act: 'relu2' }), { code: 'HF_UNSUPPORTED_ACTIVATION' });
  assert.throws(() => llmConfigFromHF({ ...SMOL_CONFIG, rope_scaling: { rope_type: 'longrope' } }), { code: 'HF_UNSUPPORTED_ROPE_SCALING' });
  const lt = [...GEMMA_CONFIG.layer_types];
  lt[0] = 'full_attention';
  assert.throws(() => llmConfigFromHF({ ...GEMMA_CONFIG, layer_types: lt }), { code: 'HF_CONFIG_UNSUPPORTED' });
  assert.throws(() => llmConfigFromHF(null), ModelFormatError);
});

const HF_NAMES = (arch: string): string[] => {
  const layer = [
    'input_layernorm.weight', 'post_attention_layernorm.weight', 'self_attn.q_proj.weight', 'self_attn.k_proj.weight',
    'self_attn.v_proj.weight', 'self_attn.o_proj.weight', 'mlp.gate_proj.weight', 'mlp.up_proj.weight', 'mlp.down_proj.weight',
    ...(arch === 'qwen2' ? ['self_attn.q_proj.bias', 'self_attn.k_proj.bias', 'self_attn.v_proj.bias'] : []),
    ...(arch === 'qwen3' || arch === 'gemma3' ? ['self_attn.q_norm.weight', 'self_attn.k_norm.weight'] : []),
    ...(arch === 'gemma3' ? ['pre_feedforward_layernorm.weight', 'post_feedforward_layernorm.weight'] : []),
  ];
  return ['model.embed_tokens.weight', 'model.norm.weight', 'lm_head.weight', ...[0, 1].flatMap((i) => layer.map((s) => `model.layers.${i}.${s}`))];
};

test('tensor names: hand-checked examples', () => {
  assert.equal(hfToGGUFName('model.layers.12.self_attn.q_proj.weight', 'llama'), 'blk.12.attn_q.weight');
  assert.equal(hfToGGUFName('model.layers.0.post_attention_layernorm.weight', 'llama'), 'blk.0.ffn_norm.weight');
  assert.equal(hfToGGUFName('model.layers.0.post_attention_layernorm.weight', 'gemma3'), 'blk.0.post_attention_norm.weight');
  assert.equal(hfToGGUFName('model.layers.0.pre_feedforward_layernorm.weight', 'gemma3'), 'blk.0.ffn_norm.weight');
  assert.equal(hfToGGUFName('model.layers.0.post_feedforward_layernorm.weight', 'gemma3'), 'blk.0.post_ffw_norm.weight');
  assert.equal(hfToGGUFName('language_model.model.layers.3.mlp.down_proj.weight', 'gemma3'), 'blk.3.ffn_down.weight');
  assert.equal(hfToGGUFName('model.layers.0.self_attn.rotary_emb.inv_freq', 'llama'), undefined);
  assert.equal(hfToGGUFName('vision_tower.encoder.weight', 'gemma3'), undefined);
  const inv = ggufToHFNames('gemma3', 2);
  assert.equal(inv.get('blk.1.post_ffw_norm.weight'), 'model.layers.1.post_feedforward_layernorm.weight');
  assert.equal(inv.get('token_embd.weight'), 'model.embed_tokens.weight');
});

test('tensor names equal llama.cpp gguf-py TensorNameMap for all four archs', { skip: pythonGGUFSkip() }, () => {
  const archs = { llama: 'LLAMA', qwen2: 'QWEN2', qwen3: 'QWEN3', gemma3: 'GEMMA3' };
  for (const [arch, enumName] of Object.entries(archs)) {
    const names = HF_NAMES(arch);
    const out = runPython(
      `
import json, gguf
m = gguf.get_tensor_name_map(gguf.MODEL_ARCH.${enumName}, 2)
print(json.dumps([m.get_name(n, try_suffixes=('.weight', '.bias')) for n in json.loads(sys.argv[1])]))
`,
      [JSON.stringify(names)],
    );
    assert.deepEqual(names.map((n) => hfToGGUFName(n, arch) ?? null), JSON.parse(out), arch);
  }
});

test('permuteQK: hand-worked LlamaModel.permute case', () => {
  // 2 heads × headDim 4, one column: reshape(2, 2, 2).swapaxes(1, 2) → per head rows [0, 2, 1, 3]
  const w = Float32Array.from({ length: 8 }, (_, i) => i);
  assert.deepEqual(Array.from(permuteQK(w, [8, 1], 2)), [0, 2, 1, 3, 4, 6, 5, 7]);
  assert.deepEqual(Array.from(permuteQK(w, [8], 2)), [0, 2, 1, 3, 4, 6, 5, 7]); // bias
  // one head of dim 8: rows [0, 4, 1, 5, 2, 6, 3, 7]; two columns move with their row
  const w2 = Float32Array.from({ length: 16 }, (_, i) => i);
  assert.deepEqual(Array.from(permuteQK(w2, [8, 2], 1)), [0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15]);
  assert.deepEqual(Array.from(unpermuteQK(permuteQK(w2, [8, 2], 1), [8, 2], 1)), Array.from(w2));
  assert.throws(() => permuteQK(w, [8, 1], 3), ShapeError);
  assert.throws(() => permuteQK(w, [4, 1], 2), ShapeError);
});

test('permuteQK equals the numpy formula of convert_hf_to_gguf.py', { skip: pythonGGUFSkip() }, () => {
  const [rows, cols, nHead] = [3 * 2 * 8, 5, 3];
  const out = runPython(
    `
import json, numpy as np
rows, cols, n_head = ${rows}, ${cols}, ${nHead}
w = np.sin(np.arange(rows * cols, dtype=np.float64)).astype(np.float32).reshape(rows, cols) * np.float32(10)
p = w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)
print(json.dumps(p.flatten().tolist()))
`,
  );
  const ref = Float32Array.from(JSON.parse(out) as number[]);
  const w = Float32Array.from({ length: rows * cols }, (_, i) => Math.fround(Math.fround(Math.sin(i)) * 10));
  const ours = permuteQK(w, [rows, cols], nHead);
  assert.deepEqual(ours, ref);
});

test('mapHFTensor: llama permutes q/k with the right head counts, gemma3 shifts norms', () => {
  const cfg = { arch: 'llama', nHead: 2, nHeadKv: 1 };
  const q = mapHFTensor('model.layers.0.self_attn.q_proj.weight', Float32Array.from({ length: 8 }, (_, i) => i), [8, 1], cfg)!;
  assert.equal(q.name, 'blk.0.attn_q.weight');
  assert.deepEqual(q.dims, [1, 8]);
  assert.deepEqual(Array.from(q.data), [0, 2, 1, 3, 4, 6, 5, 7]);
  const k = mapHFTensor('model.layers.0.self_attn.k_proj.weight', Float32Array.from({ length: 8 }, (_, i) => i), [8, 1], cfg)!;
  assert.deepEqual(Array.from(k.data), [0, 4, 1, 5, 2, 6, 3, 7]); // one KV head of dim 8
  const v = Float32Array.from([1, 2, 3, 4]);
  assert.equal(mapHFTensor('model.layers.0.self_attn.v_proj.weight', v, [4, 1], cfg)!.data, v);
  const g = { arch: 'gemma3', nHead: 4, nHeadKv: 1 };
  for (const n of ['model.norm.weight', 'model.layers.2.input_layernorm.weight', 'model.layers.2.self_attn.k_norm.weight', 'model.layers.2.post_feedforward_layernorm.weight']) {
    assert.deepEqual(Array.from(mapHFTensor(n, Float32Array.from([-1, 0, 0.5]), [3], g)!.data), [0, 1, 1.5], n);
  }
  assert.deepEqual(Array.from(mapHFTensor('model.layers.2.self_attn.q_proj.weight', Float32Array.from([-1, 0]), [2, 1], g)!.data), [-1, 0]);
  assert.deepEqual(Array.from(gemmaNormShift(Float32Array.from([2]))), [3]);
  assert.equal(mapHFTensor('model.layers.0.self_attn.rotary_emb.inv_freq', v, [4], cfg), undefined);
});
