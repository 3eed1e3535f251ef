/**
 * Builds the planner's brick list (src/bricks/planner.ts `PlanBrick`) for `synflux plan`: from a
 * language model (+ an optional vision projector) or from a pipeline file (pipelines/*.json, the
 * format of src/pipelines/types.ts). Each brick gets its cost per query and the devices that can
 * run it in this build:
 * - `llm.generate` / `--model`: GGUF matmuls and attention (src/bricks/lm-brick.ts `lmCost`); cpu, wasm,
 *   and webgpu (the decoder in a headless Chromium page, src/backends/webgpu/lm-brick.ts) for a text
 *   prompt when every weight type has a WGSL reader (lm-brick.ts `lmDevices`); with `--mmproj` the
 *   LM takes image embeddings, which the WebGPU LM cannot yet, so cpu or wasm.
 * - `vision` / `--mmproj`: src/models/vision/cost.ts `visionImageCost` — host preprocessing of the
 *   image (decode, resize, normalize; src/preprocess/work.ts) + per tile the encoder/projector
 *   matmuls at their stored dtypes and the per-element ops; cpu or wasm (kernel provider of
 *   src/models/vision/kernels.ts). The LM after it is priced with the prompt's chunked prefill
 *   (lm-brick.ts `promptForwards`).
 * - `ocr.det`, `ocr.rec`: opaque ONNX graphs on `onnx`; their time comes from a calibration file
 *   (measured ms per device, written by bench/plan-check.ts) — without one they are priced at 0 ms
 *   and flagged `uncalibrated`.
 * - `image.decode`, `text.template`: light host work on `cpu`, calibrated or 0 ms.
 */
import { readFileSync } from 'node:fs';
import { RequestError } from '../core/errors.js';
import { resolveModelRef } from '../models/model-ref.js';
import type { PlanBrick } from './planner.js';

/** Knobs of a query's size. */
export interface QueryShape {
  /** Text prompt tokens (default 64). */
  promptTokens?: number;
  /** Generated tokens (default: the brick's maxTokens, else 32). */
  genTokens?: number;
  /** Image tiles per query for a vision brick (default: what `image` gives, else 1). */
  tiles?: number;
  /**
   * The query's image (header facts only): its size decides the tiles and the host preprocessing
   * work, its encoded size the host → device transfer. Default: a square PNG of the
   * preprocessor's longest edge (idefics3) or input size, 3 bytes per pixel.
   */
  image?: { width: number; height: number; format?: 'png' | 'jpeg' | 'webp'; bytes?: number };
}

/** Measured ms per brick per device: `{ BRICK: { DEVICE: ms } }`. */
export type Calibration = Readonly<Record<string, Readonly<Record<string, number>>>>;

/**
 * The LM brick of `model`; `prefillForwards`: forward calls of the prompt (lm-brick.ts
 * `promptForwards`); `withImage`: the prompt holds image embeddings (no webgpu then). Devices: lm-brick.ts `lmDevices`.
 */
export async function lmPlanBrick(name: string, model: string, q: QueryShape & { extraPromptTokens?: number; prefillForwards?: number; withImage?: boolean }, maxTokens?: number): Promise<PlanBrick> {
  const { openGGUF } = await import('../formats/gguf/reader.js');
  const { lmShapeFromGGUF, lmCost, lmDevices } = await import('./lm-brick.js');
  const file = openGGUF(await resolveModelRef(model));
  const shape = lmShapeFromGGUF(file);
  const gen = q.genTokens ?? maxTokens ?? 32;
  return {
    name, devices: lmDevices(file, { image: q.withImage === true }),
    cost: lmCost(shape, (q.promptTokens ?? 64) + (q.extraPromptTokens ?? 0), gen, 1024, { prefillForwards: q.prefillForwards ?? 1 }),
  };
}

/**
 * The vision brick of an mmproj GGUF for one image (`q.image`, or `q.tiles` tiles of the default
 * image); returns also the image tokens it feeds the LM, the tiles and the projector type.
 */
export async function visionPlanBrick(mmproj: string, q: QueryShape): Promise<{ brick: PlanBrick; imageTokens: number; tiles: number; projector: string }> {
  const { openGGUF } = await import('../formats/gguf/reader.js');
  const { visionConfigFromGGUF } = await import('../models/vision/config.js');
  const { visionImageCost, visionDtypesFromGGUF } = await import('../models/vision/cost.js');
  const { preprocessWork } = await import('../preprocess/work.js');
  const f = openGGUF(await resolveModelRef(mmproj));
  const cfg = visionConfigFromGGUF(f);
  const wBytes = f.tensors.reduce((a, t) => a + t.nbytes, 0);
  const edge = cfg.projector === 'idefics3' && cfg.longestEdge > 0 ? cfg.longestEdge : cfg.imageSize;
  const img = q.image ?? { width: edge, height: edge, format: 'png' as const };
  let work = preprocessWork(cfg, img.width, img.height, img.format ?? 'png');
  if (q.tiles !== undefined && !q.image) work = { ...work, tiles: q.tiles, normalizePixels: q.tiles * cfg.imageSize ** 2 };
  const cost = visionImageCost(cfg, wBytes, visionDtypesFromGGUF(f), work);
  const side = cfg.imageSize / cfg.patchSize;
  const tokensPerTile = cfg.projector === 'mlp' ? side * side : (side / cfg.nMerge) ** 2;
  return {
    brick: { name: 'vision', devices: ['cpu', 'wasm'], inputBytes: img.bytes ?? img.width * img.height * 3, cost },
    imageTokens: tokensPerTile * work.tiles, tiles: work.tiles, projector: cfg.projector,
  };
}

/**
 * Bricks of `--model [--mmproj]`: `vision` (when an mmproj is given) → `lm`.
 * @throws RequestError `MODEL_NOT_FOUND`; ModelFormatError for bad files.
 */
export async function modelPlanBricks(model: string, mmproj: string | undefined, q: QueryShape): Promise<PlanBrick[]> {
  if (!mmproj) return [await lmPlanBrick('lm', model, q)];
  const v = await visionPlanBrick(mmproj, q);
  const { promptForwards } = await import('./lm-brick.js');
  return [v.brick, await lmPlanBrick('lm', model, { ...q, extraPromptTokens: v.imageTokens, prefillForwards: promptForwards(v.projector, v.tiles), withImage: true })];
}

interface PipelineJson {
  bricks: { name: string; type: string; device?: string; options?: Record<string, unknown> }[];
  placement?: Record<string, string>;
}

/**
 * Bricks of a pipeline file, in declaration order (the pipelines here are chains).
 * @throws RequestError `BAD_PIPELINE` for unreadable JSON or an unknown brick type.
 */
export async function pipelinePlanBricks(path: string, q: QueryShape, calibration: Calibration = {}): Promise<{ bricks: PlanBrick[]; uncalibrated: string[] }> {
  let spec: PipelineJson;
  try {
    spec = JSON.parse(readFileSync(path, 'utf8')) as PipelineJson;
  } catch (e) {
    throw new RequestError('BAD_PIPELINE', `cannot read pipeline ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (!Array.isArray(spec.bricks)) throw new RequestError('BAD_PIPELINE', `${path}: no bricks array`);
  const out: PlanBrick[] = [];
  const uncalibrated: string[] = [];
  const zero = { flops: 0, bytesMoved: 0, memoryBytes: 0, outputBytes: 0 };
  for (const b of spec.bricks) {
    const cal = calibration[b.name];
    const withCal = (p: PlanBrick): PlanBrick => (cal ? { ...p, calibratedMs: cal } : p);
    switch (b.type) {
      case 'llm.generate': {
        const p = await lmPlanBrick(b.name, String(b.options?.model ?? 'fixture:smollm2'), q, b.options?.maxTokens as number | undefined);
        out.push(withCal(p));
        break;
      }
      case 'ocr.det':
      case 'ocr.rec':
        if (!cal) uncalibrated.push(b.name);
        out.push(withCal({ name: b.name, devices: ['onnx'], cost: zero, ...(cal ? {} : { calibratedMs: { onnx: 0 } }) }));
        break;
      case 'image.decode':
      case 'text.template':
        out.push(withCal({ name: b.name, devices: ['cpu'], cost: zero, ...(cal ? {} : { calibratedMs: { cpu: 0 } }) }));
        break;
      default:
        throw new RequestError('BAD_PIPELINE', `${path}: brick ${b.name} has type ${b.type}, which the planner cannot price yet`);
    }
  }
  return { bricks: out, uncalibrated };
}
