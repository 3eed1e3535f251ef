/**
 * Vision models for VLMs: image bytes → LM-ready embeddings. One {@link VisionModel} for every
 * supported projector (LLaVA `mlp`, `idefics3` SmolVLM, `gemma3`), loaded from an mmproj GGUF
 * (llama.cpp's `clip.*` format) or a Hugging Face checkpoint folder.
 *
 * Pipeline: decode (sharp, src/preprocess/image.ts) → resize/split/normalise as llama.cpp's mtmd
 * does (src/preprocess/vision.ts, Pillow-exact resampling in src/preprocess/resize.ts) → ViT
 * (encoder.ts) → projector (projector.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EmbeddingsValue, ImageValue } from '../../bricks/brick.js';
import { native } from '../../backends/cpu/native.js';
import { ModelFormatError, RequestError } from '../../core/errors.js';
import { openGGUF } from '../../formats/gguf/reader.js';
import { openSafetensorsModel } from '../../formats/safetensors/reader.js';
import { decodeImage, DEFAULT_MAX_IMAGE_PIXELS } from '../../preprocess/image.js';
import { preprocessImage } from '../../preprocess/vision.js';
import { visionConfigFromGGUF, visionConfigFromHF, type VisionConfig } from './config.js';
import { encodeViT, visionArena } from './encoder.js';
import type { TokenArena } from '../../bricks/arena.js';
import { project, projectedTokens } from './projector.js';
import { visionWeightsFromGGUF, visionWeightsFromHF, type VisionWeights } from './weights.js';
import { visionKernelsFor, type VisionDevice, type VisionKernels } from './kernels.js';
import type { VisionDtypes } from './cost.js';
import { typeName } from '../../core/ggml-type.js';

export type { VisionConfig } from './config.js';
export { createVisionBrick, visionTileCost } from './brick.js';
export { visionImageCost, visionDtypesFromGGUF, type VisionDtypes } from './cost.js';
export { visionKernelsFor, type VisionDevice, type VisionKernels } from './kernels.js';

/** An image encoded for the LM. */
export interface EncodedImage {
  /** Embeddings per tile, float32 [nTokens, nEmbdOut] each, in the order the LM consumes them
   *  (idefics3 with splitting: tiles row-major, then the global image; otherwise one entry). */
  readonly tiles: EmbeddingsValue[];
  /** Tile grid when the image was split (idefics3), not counting the global tile. */
  readonly grid?: { rows: number; cols: number };
  /** Decoded image size, pixels. */
  readonly width: number;
  readonly height: number;
}

/** A loaded vision tower + projector. */
export interface VisionModel {
  /** llama.cpp projector type name: 'mlp' | 'idefics3' | 'gemma3'. */
  readonly projector: string;
  /** Output embedding width = the LM's n_embd. */
  readonly nEmbdOut: number;
  /** Tokens per tile after projection. */
  readonly tokensPerTile: number;
  /** Full hyperparameters. */
  readonly config: VisionConfig;
  /** Bytes of weights. */
  readonly weightBytes: number;
  /** Device whose kernels run the encoder and projector (`cpu` native addon, or `wasm`). */
  readonly device: VisionDevice;
  /** Stored types of the weight matrices (for the cost model, src/models/vision/cost.ts). */
  readonly dtypes: VisionDtypes;
  /**
   * Bytes of the encoder's activation arena (src/models/vision/encoder.ts `visionArena`: one block
   * reused by every tile of every request; in linear memory on wasm); 0 before the first tile and
   * after {@link dispose}.
   */
  readonly arenaBytes: number;
  /** Block allocations of that arena so far: 1 from the first tile on (read-only figure, for tests and profiles). */
  readonly arenaAllocations: number;
  /** Decode + preprocess (+ split) + encode + project. @throws ImageError */
  encode(image: Uint8Array | string): Promise<EncodedImage>;
  /** Lower-level: encode one already-preprocessed tile [3,H,W] → [nTokens, nEmbdOut]. @throws ShapeError (wrong tile shape), RequestError `VISION_DISPOSED` */
  encodeTile(tile: ImageValue): EmbeddingsValue;
  /** Preprocess only: decoded image → normalised tiles in LM order. @throws ImageError */
  preprocess(image: Uint8Array | string): Promise<{ tiles: ImageValue[]; grid?: { rows: number; cols: number }; width: number; height: number }>;
  /** Drops the weights and frees the activation arena; later calls throw RequestError `VISION_DISPOSED`. */
  dispose(): void;
}

/** Options of {@link loadVisionModel}. */
export interface LoadVisionOptions {
  /** Native pool threads (default: leave as is; cpu only). */
  threads?: number;
  /**
   * Kernels of the encoder/projector matmuls (src/models/vision/kernels.ts): `cpu` (native addon,
   * default) or `wasm` (wasm/synflux.wasm through the WASM backend; single-threaded unless the
   * backend's threads were raised). Decode and resize stay on the host (sharp + TypeScript).
   */
  device?: VisionDevice;
  /** Pixel limit checked from image headers before decoding (default 64 Mpx). */
  maxImagePixels?: number;
  /**
   * Preprocessing convention where llama.cpp and Hugging Face differ (default `'llama.cpp'`, which
   * keeps embeddings and greedy text identical to llama-mtmd-cli): with `'hf'`, Gemma 3 stretches a
   * non-square image to the square input (Gemma3ImageProcessor) instead of letterboxing it. LLaVA
   * always uses HF's CLIPImageProcessor (see docs/vision.md); idefics3 is the same either way
   * except llama.cpp's 1×1-grid split of images no larger than one tile, which is kept.
   */
  preprocess?: 'llama.cpp' | 'hf';
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new ModelFormatError('HF_BAD_JSON', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

class VisionModelImpl implements VisionModel {
  readonly projector: string;
  readonly nEmbdOut: number;
  readonly tokensPerTile: number;
  readonly weightBytes: number;
  readonly device: VisionDevice;
  readonly dtypes: VisionDtypes;
  private w: VisionWeights | null;
  private readonly arena: TokenArena;
  constructor(readonly config: VisionConfig, w: VisionWeights, private readonly maxPixels: number, private readonly kernels: VisionKernels) {
    this.device = kernels.device;
    const p = w.projector;
    const pm = p.kind === 'mlp' ? p.mm0 : p.kind === 'idefics3' ? p.fc : p.inputProj;
    this.dtypes = { patch: typeName(w.patch.type), block: typeName(w.layers[0]?.q.type ?? w.patch.type), projector: typeName(pm.type) };
    this.w = w;
    this.projector = config.projector;
    this.nEmbdOut = config.nEmbdOut;
    this.tokensPerTile = projectedTokens(config);
    this.weightBytes = w.bytes;
    this.arena = visionArena(config, w, kernels);
  }

  get arenaBytes(): number {
    return this.arena.bytes;
  }

  get arenaAllocations(): number {
    return this.arena.allocations;
  }

  private weights(): VisionWeights {
    if (!this.w) throw new RequestError('VISION_DISPOSED', 'vision model was disposed');
    return this.w;
  }

  async preprocess(image: Uint8Array | string) {
    const rgb = await decodeImage(image, { maxPixels: this.maxPixels });
    const pre = preprocessImage(rgb, this.config);
    return { tiles: pre.tiles, ...(pre.grid ? { grid: pre.grid } : {}), width: rgb.width, height: rgb.height };
  }

  encodeTile(tile: ImageValue): EmbeddingsValue {
    const w = this.weights();
    const feats = encodeViT(this.config, w, tile, this.kernels, this.arena);
    const data = project(this.config, w.projector, feats, this.kernels);
    return { kind: 'embeddings', data, shape: [data.length / this.nEmbdOut, this.nEmbdOut] };
  }

  async encode(image: Uint8Array | string): Promise<EncodedImage> {
    const pre = await this.preprocess(image);
    const tiles: EmbeddingsValue[] = [];
    for (const t of pre.tiles) tiles.push(this.encodeTile(t));
    return { tiles, ...(pre.grid ? { grid: pre.grid } : {}), width: pre.width, height: pre.height };
  }

  dispose(): void {
    this.w = null;
    this.arena.dispose();
  }
}

/** Applies {@link LoadVisionOptions.preprocess}. */
function withConvention(cfg: VisionConfig, opts: LoadVisionOptions): VisionConfig {
  if (opts.preprocess === 'hf' && cfg.projector === 'gemma3') return { ...cfg, padStyle: 'none' };
  return cfg;
}

/**
 * Loads a vision model: an mmproj `.gguf` (llama.cpp clip format) or a Hugging Face checkpoint
 * folder (`config.json` with `vision_config`, `preprocessor_config.json`, safetensors).
 * @throws ModelFormatError (unreadable/malformed files, unsupported projector, missing tensors),
 *   ShapeError, UnsupportedTensorTypeError, BackendError (native kernels not built, wasm module
 *   missing, unknown `device`).
 */
export async function loadVisionModel(path: string, opts: LoadVisionOptions = {}): Promise<VisionModel> {
  const kernels = await visionKernelsFor(opts.device ?? 'cpu');
  if (kernels.device === 'cpu' && opts.threads) native().setThreads(opts.threads);
  const maxPixels = opts.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  if (!existsSync(path)) throw new ModelFormatError('VISION_NOT_FOUND', `${path}: no such file or folder`);
  const isDir = statSync(path).isDirectory();
  if (!isDir && !path.endsWith('.json') && !path.endsWith('.safetensors')) {
    const f = openGGUF(path);
    const cfg = withConvention(visionConfigFromGGUF(f), opts);
    return new VisionModelImpl(cfg, visionWeightsFromGGUF(f, cfg), maxPixels, kernels);
  }
  const dir = isDir ? path : join(path, '..');
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new ModelFormatError('HF_NO_CONFIG', `${dir}: no config.json`);
  const ppPath = join(dir, 'preprocessor_config.json');
  const cfg = withConvention(visionConfigFromHF(readJson(cfgPath), existsSync(ppPath) ? readJson(ppPath) : {}, dir), opts);
  const st = openSafetensorsModel(dir);
  return new VisionModelImpl(cfg, visionWeightsFromHF(st, cfg, dir), maxPixels, kernels);
}
