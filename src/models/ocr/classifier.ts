/**
 * PP-OCR text-angle classifier (ch_ppocr_mobile_v2.0_cls, labels '0' and '180') on ONNX Runtime,
 * as PaddleOCR's tools/infer/predict_cls.py `TextClassifier`: crops sorted by width/height ratio,
 * `cls_batch_num` (6) per run, each resized to height 48 and width `min(⌈48·w/h⌉, 192)`, scaled to
 * `(x/255 − 0.5)/0.5`, zero-padded to 192; a crop whose arg-max label is '180' with probability
 * above `cls_thresh` (0.9) is turned 180° (`cv2.rotate(img, 1)`).
 */
import { RequestError } from '../../core/errors.js';
import { OnnxBrick } from '../../backends/onnx/onnx-brick.js';
import { ocrAssetPaths } from './assets.js';
import { resizeBilinear, writeBgrChw, type RgbImage } from './image-ops.js';

/** Options of {@link OcrAngleClassifier.create}. */
export interface OcrClassifierOptions {
  readonly modelPath?: string;
  readonly executionProviders?: readonly string[];
  readonly intraOpNumThreads?: number;
  /** Probability above which a '180' verdict turns the crop (default 0.9). */
  readonly threshold?: number;
  /** Crops per run (default 6). */
  readonly batchSize?: number;
  readonly name?: string;
}

/** One verdict. */
export interface AngleResult {
  /** 0 or 180 (degrees). */
  readonly angle: 0 | 180;
  /** Probability of that label. */
  readonly score: number;
}

/** A 180° turn of an RGB image (`cv2.rotate(img, cv2.ROTATE_180)`). */
export function rotate180(img: RgbImage): RgbImage {
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const s = (n - 1 - i) * 3;
    out[i * 3] = img.data[s]!; out[i * 3 + 1] = img.data[s + 1]!; out[i * 3 + 2] = img.data[s + 2]!;
  }
  return { width: img.width, height: img.height, data: out };
}

/** The PP-OCR angle classifier. */
export class OcrAngleClassifier {
  readonly brick: OnnxBrick;
  private readonly opts: OcrClassifierOptions;

  private constructor(brick: OnnxBrick, opts: OcrClassifierOptions) {
    this.brick = brick;
    this.opts = opts;
  }

  /**
   * Creates the ONNX session.
   * @throws the errors of {@link OnnxBrick.create}.
   */
  static async create(opts: OcrClassifierOptions = {}): Promise<OcrAngleClassifier> {
    const brick = await OnnxBrick.create({
      name: opts.name ?? 'ocr-cls',
      modelPath: opts.modelPath ?? ocrAssetPaths().cls,
      ...(opts.executionProviders ? { executionProviders: opts.executionProviders } : {}),
      ...(opts.intraOpNumThreads !== undefined ? { intraOpNumThreads: opts.intraOpNumThreads } : {}),
    });
    return new OcrAngleClassifier(brick, opts);
  }

  /**
   * Classifies each crop as upright (0) or upside down (180).
   * @returns one verdict per crop, in input order.
   * @throws BackendError from ONNX Runtime; RequestError `OCR_BAD_OUTPUT`.
   */
  async classify(crops: readonly RgbImage[]): Promise<AngleResult[]> {
    const batchSize = this.opts.batchSize ?? 6;
    const H = 48, W = 192;
    const order = crops.map((c, i) => ({ i, r: c.width / c.height })).sort((a, b) => a.r - b.r).map((x) => x.i);
    const out: AngleResult[] = new Array(crops.length);
    const inName = this.brick.inputs[0]!.name, outName = this.brick.outputs[0]!.name;
    for (let b = 0; b < order.length; b += batchSize) {
      const idx = order.slice(b, b + batchSize);
      const data = new Float32Array(idx.length * 3 * H * W);
      idx.forEach((i, k) => {
        const c = crops[i]!;
        const rw = Math.min(Math.ceil(H * (c.width / c.height)), W);
        writeBgrChw(resizeBilinear(c, rw, H), data, k * 3 * H * W, H * W, W, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);
      });
      const r = (await this.brick.run({ [inName]: { kind: 'tensor', dtype: 'f32', data, shape: [idx.length, 3, H, W] } }))[outName]!;
      if (r.kind !== 'tensor' || r.shape.length !== 2 || r.shape[1] !== 2) throw new RequestError('OCR_BAD_OUTPUT', 'angle classifier output is not [n, 2]');
      idx.forEach((i, k) => {
        const p0 = r.data[k * 2]!, p180 = r.data[k * 2 + 1]!;
        out[i] = p180 > p0 ? { angle: 180, score: p180 } : { angle: 0, score: p0 };
      });
    }
    return out;
  }

  /**
   * Turns the crops the classifier finds upside down (verdict 180 above the threshold).
   * @returns the crops (turned where needed) and the verdicts.
   */
  async uprightAll(crops: readonly RgbImage[]): Promise<{ crops: RgbImage[]; verdicts: AngleResult[] }> {
    const thr = this.opts.threshold ?? 0.9;
    const verdicts = await this.classify(crops);
    return { crops: crops.map((c, i) => (verdicts[i]!.angle === 180 && verdicts[i]!.score > thr ? rotate180(c) : c)), verdicts };
  }

  /** Releases the ONNX session. */
  dispose(): void {
    this.brick.dispose();
  }
}
