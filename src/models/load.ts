/**
 * Loads a GGUF language model: maps the file (zero-copy through the native addon's mmap where
 * available), reads hyperparameters with the architecture's spec, builds the tokenizer from
 * `tokenizer.ggml.*`, binds the weights and returns a ready {@link Transformer}.
 */
import { parseGGUF, type GGUFFile } from '../formats/gguf/reader.js';
import { readFileBytes } from '../formats/file-bytes.js';
import { getArch } from './registry.js';
import { GGUFTensorSource, type DecoderWeights, type LayerWeights, type TensorSource } from './weights.js';
import { Transformer } from './transformer.js';
import type { LLMConfig } from './config.js';
import { tokenizerFromGGUF } from '../tokenizers/index.js';
import { native } from '../backends/cpu/native.js';
import { kernelsFor, type BackendName } from '../backends/kernels.js';
import { UnsupportedTensorTypeError, ModelFormatError, RequestError } from '../core/errors.js';
import type { VisionModel } from './vision/index.js';
import { typeInfo } from '../core/ggml-type.js';

/** Options of {@link loadModel}. */
export interface LoadOptions {
  /** CPU threads for the kernels (default: 2 or the number of cores, whichever is smaller). */
  threads?: number;
  /** KV cache size in tokens (default min(4096, training context)). */
  contextSize?: number;
  /** Compute backend for the kernels (default `cpu`, the native addon; `wasm` where built). */
  backend?: BackendName;
  /** Use mmap for the weights (default true). */
  mmap?: boolean;
  /** Called as the weights are bound: bytes done of total bytes. */
  onProgress?: (loadedBytes: number, totalBytes: number) => void;
  /**
   * Vision projector for image input: a llama.cpp mmproj GGUF (clip.* keys) or a Hugging Face VLM
   * folder (vision tower + projector). Loaded through src/models/vision and attached as `vision`.
   */
  mmproj?: string;
  /**
   * Device of the vision encoder + projector of `mmproj` (src/models/vision/kernels.ts): `cpu`
   * (native addon, default) or `wasm`. The language model's kernels follow `backend`.
   */
  visionDevice?: 'cpu' | 'wasm';
}

/** A loaded language model: the transformer plus, for GGUF, the file it came from. */
export interface LoadedModel extends Transformer {
  readonly file?: GGUFFile;
  /** The vision encoder + projector loaded from `mmproj`, if any. */
  readonly vision?: VisionModel;
}

/**
 * Loads the vision model of `opts.mmproj` and attaches it to `model` as `vision` (disposed with it).
 * @throws whatever src/models/vision's loadVisionModel throws (ModelFormatError, …); RequestError
 *   (`EMBEDDING_WIDTH_MISMATCH`) when its output width is not the LM's n_embd.
 */
async function attachVision(model: Transformer, opts: LoadOptions): Promise<void> {
  if (opts.mmproj === undefined) return;
  const { loadVisionModel } = await import('./vision/index.js');
  const vision = await loadVisionModel(opts.mmproj, { threads: Math.max(1, Math.floor(opts.threads ?? 2)), device: opts.visionDevice ?? 'cpu' });
  if (vision.nEmbdOut !== model.config.nEmbd) {
    vision.dispose();
    throw new RequestError('EMBEDDING_WIDTH_MISMATCH', `mmproj ${opts.mmproj} outputs ${vision.nEmbdOut}-wide embeddings but the language model's n_embd is ${model.config.nEmbd} (mismatched mmproj)`);
  }
  const dispose = model.dispose.bind(model);
  Object.defineProperty(model, 'vision', { value: vision, enumerable: false });
  model.dispose = (): void => {
    vision.dispose();
    dispose();
  };
}

/**
 * Maps a file as bytes: mmap through the native addon when available, else a full read.
 * @throws ModelFormatError (`FILE_READ_FAILED`) when the file cannot be opened.
 */
export function mapFile(path: string, useMmap = true): Uint8Array {
  if (useMmap) {
    try {
      return new Uint8Array(native().mmap(path));
    } catch (e) {
      if (e instanceof Error && /ENOENT|No such file|EISDIR|EACCES|Is a directory|Permission/.test(e.message)) {
        throw new ModelFormatError('FILE_READ_FAILED', `cannot read ${path}: ${e.message}`, { cause: e });
      }
    }
  }
  return readFileBytes(path);
}

/** Binds the decoder weights of a GGUF file (rejecting weight types without kernels first). */
export function bindWeights(file: GGUFFile, c: LLMConfig): DecoderWeights {
  for (const t of file.tensors) {
    if (t.name.endsWith('.weight') && t.dims.length === 2 && !typeInfo(t.type).computable) {
      throw new UnsupportedTensorTypeError('UNSUPPORTED_TENSOR_TYPE', `${t.name} has type ${typeInfo(t.type).name}, which SynFlux cannot compute with yet`);
    }
  }
  return bindDecoderWeights(new GGUFTensorSource(file), c);
}

/**
 * Binds the decoder weights named by llama.cpp's GGUF tensor names (src/llama-arch.cpp) from any
 * tensor source, checking every shape against the config.
 * @throws ModelFormatError (missing tensor), ShapeError (shape mismatch).
 */
export function bindDecoderWeights(src: TensorSource, c: LLMConfig): DecoderWeights {
  const d = c.nEmbd;
  const qDim = c.nHead * c.headDimK;
  const kDim = c.nHeadKv * c.headDimK;
  const vDim = c.nHeadKv * c.headDimV;
  const tokenEmbd = src.mat('token_embd.weight', d, c.nVocab);
  const layers: LayerWeights[] = [];
  for (let i = 0; i < c.nLayer; i++) {
    const p = `blk.${i}.`;
    layers.push({
      attnNorm: src.vec(p + 'attn_norm.weight', d),
      wq: src.mat(p + 'attn_q.weight', d, qDim),
      wk: src.mat(p + 'attn_k.weight', d, kDim),
      wv: src.mat(p + 'attn_v.weight', d, vDim),
      wo: src.mat(p + 'attn_output.weight', c.nHead * c.headDimV, d),
      bq: c.qkvBias ? src.vec(p + 'attn_q.bias', qDim) : src.optVec(p + 'attn_q.bias', qDim),
      bk: c.qkvBias ? src.vec(p + 'attn_k.bias', kDim) : src.optVec(p + 'attn_k.bias', kDim),
      bv: c.qkvBias ? src.vec(p + 'attn_v.bias', vDim) : src.optVec(p + 'attn_v.bias', vDim),
      qNorm: c.qkNorm ? src.vec(p + 'attn_q_norm.weight', c.headDimK) : null,
      kNorm: c.qkNorm ? src.vec(p + 'attn_k_norm.weight', c.headDimK) : null,
      postAttnNorm: c.postNorms ? src.vec(p + 'post_attention_norm.weight', d) : null,
      ffnNorm: src.vec(p + 'ffn_norm.weight', d),
      wGate: src.mat(p + 'ffn_gate.weight', d, c.nFF),
      wUp: src.mat(p + 'ffn_up.weight', d, c.nFF),
      wDown: src.mat(p + 'ffn_down.weight', c.nFF, d),
      postFfnNorm: c.postNorms ? src.vec(p + 'post_ffw_norm.weight', d) : null,
    });
  }
  return {
    tokenEmbd,
    layers,
    outputNorm: src.vec('output_norm.weight', d),
    output: c.tiedEmbeddings ? tokenEmbd : src.mat('output.weight', d, c.nVocab),
    ropeFreqs: src.optVec('rope_freqs.weight', c.ropeDim / 2),
  };
}

/**
 * Loads a model for text generation: a GGUF file, or a Hugging Face checkpoint folder
 * (config.json + tokenizer.json + safetensors; see src/models/load-hf.ts).
 * @param path path to a `.gguf` file or a checkpoint folder
 * @throws ModelFormatError (malformed file), UnsupportedArchitectureError, UnsupportedTensorTypeError,
 *   TokenizerError (missing/unsupported vocabulary), ShapeError (tensor shapes disagree with hparams),
 *   BackendError (native kernels not built).
 */
export async function loadModel(path: string, opts: LoadOptions = {}): Promise<LoadedModel> {
  const hf = await import('./load-hf.js');
  if (hf.isHFCheckpoint(path)) {
    const m = await hf.loadHFModel(path, opts);
    // A VLM folder (config.json with vision_config) carries its own vision tower and projector.
    const visionDir = opts.mmproj === undefined ? hf.hfVisionFolder(path) : undefined;
    await attachVision(m, visionDir !== undefined ? { ...opts, mmproj: visionDir } : opts);
    return m as LoadedModel;
  }
  const bytes = mapFile(path, opts.mmap !== false);
  opts.onProgress?.(0, bytes.byteLength);
  const file = parseGGUF(bytes, path);
  const archName = file.getString('general.architecture');
  const spec = await getArch(archName);
  const config = spec.configFromGGUF(file);
  const tokenizer = tokenizerFromGGUF(file.metadata);
  const weights = bindWeights(file, config);
  const kernels = await kernelsFor(opts.backend ?? 'cpu');
  kernels.setThreads(Math.max(1, Math.floor(opts.threads ?? 2)));
  const model = new Transformer(config, weights, tokenizer, { nCtx: opts.contextSize, kernels }) as Transformer & { file: GGUFFile };
  Object.defineProperty(model, 'file', { value: file, enumerable: false });
  await attachVision(model, opts);
  opts.onProgress?.(bytes.byteLength, bytes.byteLength);
  return model as LoadedModel;
}
