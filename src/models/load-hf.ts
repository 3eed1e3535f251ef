/**
 * Loads a Hugging Face checkpoint folder — `config.json`, `tokenizer.json` (+ optional
 * `tokenizer_config.json` for the chat template and special tokens), `model.safetensors` or a
 * sharded `model.safetensors.index.json` — into the same decoder as a GGUF file: the config is
 * mapped by src/formats/hf/config.ts, tensor names and layouts by src/formats/hf/tensor-names.ts
 * (convert_hf_to_gguf.py's transforms: llama q/k row permutation, Gemma norm +1). Weights are
 * converted to float32 (F32/F16/BF16 checkpoints), so memory is 4 bytes per parameter.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openSafetensorsModel } from '../formats/safetensors/reader.js';
import { llmConfigFromHF } from '../formats/hf/config.js';
import { mapHFTensor } from '../formats/hf/tensor-names.js';
import { tokenizerFromHF } from '../tokenizers/hf.js';
import { F32TensorSource } from './weights.js';
import { Transformer } from './transformer.js';
import { bindDecoderWeights, type LoadOptions } from './load.js';
import { kernelsFor } from '../backends/kernels.js';
import { ModelFormatError } from '../core/errors.js';

function readJson(path: string, what: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new ModelFormatError('HF_BAD_JSON', `cannot read ${what} at ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** True when `path` is a Hugging Face checkpoint (a folder with config.json, or a .safetensors file beside one). */
export function isHFCheckpoint(path: string): boolean {
  const dir = existsSync(path) && statSync(path).isDirectory() ? path : dirname(path);
  return (path.endsWith('.safetensors') || path.endsWith('.json') || dir === path) && existsSync(join(dir, 'config.json'));
}

/**
 * The checkpoint folder when its config.json describes a vision-language model (has
 * `vision_config`), else undefined.
 * @throws ModelFormatError (`HF_BAD_JSON`) when config.json cannot be parsed.
 */
export function hfVisionFolder(path: string): string | undefined {
  const dir = existsSync(path) && statSync(path).isDirectory() ? path : dirname(path);
  const cfg = readJson(join(dir, 'config.json'), 'config.json');
  return typeof cfg.vision_config === 'object' && cfg.vision_config !== null ? dir : undefined;
}

/**
 * Loads a Hugging Face checkpoint for text generation.
 * @param path the checkpoint folder (or its model.safetensors / index JSON)
 * @throws ModelFormatError (missing/invalid JSON or safetensors, missing tensors),
 *   UnsupportedArchitectureError, TokenizerError (tokenizer.json kinds other than byte-level BPE),
 *   ShapeError.
 */
export async function loadHFModel(path: string, opts: LoadOptions = {}): Promise<Transformer> {
  const dir = existsSync(path) && statSync(path).isDirectory() ? path : dirname(path);
  const st = openSafetensorsModel(path);
  const config = llmConfigFromHF(readJson(join(dir, 'config.json'), 'config.json'), { tensorNames: st.names });
  const tokJson = join(dir, 'tokenizer.json');
  if (!existsSync(tokJson)) throw new ModelFormatError('HF_NO_TOKENIZER', `${dir}: tokenizer.json not found`);
  const tokCfgPath = join(dir, 'tokenizer_config.json');
  const tokenizer = tokenizerFromHF(readJson(tokJson, 'tokenizer.json'), existsSync(tokCfgPath) ? readJson(tokCfgPath, 'tokenizer_config.json') : {});
  const tensors = new Map<string, { dims: number[]; data: Float32Array }>();
  const names = st.names;
  let done = 0;
  for (const name of names) {
    const info = st.tensor(name)!;
    const mapped = mapHFTensor(name, st.toFloat32(name), info.shape, config);
    if (mapped) tensors.set(mapped.name, { dims: mapped.dims, data: mapped.data });
    opts.onProgress?.(++done, names.length);
  }
  const weights = bindDecoderWeights(new F32TensorSource(tensors, dir), config);
  const kernels = await kernelsFor(opts.backend ?? 'cpu');
  kernels.setThreads(Math.max(1, Math.floor(opts.threads ?? 2)));
  return new Transformer(config, weights, tokenizer, { nCtx: opts.contextSize, kernels });
}
