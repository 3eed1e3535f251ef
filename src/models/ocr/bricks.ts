/**
 * The PP-OCR detector and recognizer as pipeline bricks (types `ocr.det`, `ocr.rec` in
 * src/pipelines/registry.ts), both on the `onnx` device.
 *
 * Ports: `image` — RGB uint8 tensor `[H, W, 3]` (from `image.decode`); `boxes` — float32
 * `[n, 4, 2]`, corners (x, y) in image pixels, top-left, top-right, bottom-right, bottom-left,
 * boxes in reading order; `text` — the recognized lines joined by '\n'.
 */
import { RequestError } from '../../core/errors.js';
import type { Brick, PortSpec, PortValue, PortValues, TensorValue } from '../../bricks/brick.js';
import type { BrickContext } from '../../pipelines/registry.js';
import { OcrAngleClassifier } from './classifier.js';
import type { DetBox } from './db-postprocess.js';
import { OcrDetector } from './detector.js';
import type { RgbImage } from './image-ops.js';
import { recognizeBoxes, type OcrLine } from './read-text.js';
import { OcrRecognizer } from './recognizer.js';

function imageFrom(brick: string, inputs: PortValues): RgbImage {
  const v = inputs.image;
  if (!v) throw new RequestError('BRICK_INPUT_MISSING', `${brick}: missing input 'image'`);
  if (v.kind !== 'tensor' || v.dtype !== 'u8' || v.shape.length !== 3 || v.shape[2] !== 3) {
    throw new RequestError('BRICK_INPUT_KIND', `${brick}: input 'image' must be a u8 tensor [H, W, 3]`);
  }
  const [h, w] = v.shape as [number, number, number];
  if (!(h > 0 && w > 0) || v.data.length !== h * w * 3) throw new RequestError('BRICK_INPUT_SHAPE', `${brick}: image tensor [${v.shape.join(', ')}] has ${v.data.length} bytes`);
  return { width: w, height: h, data: v.data as Uint8Array };
}

const onnxOpts = (o: Readonly<Record<string, unknown>>): { executionProviders?: string[]; intraOpNumThreads?: number; modelPath?: string } => ({
  ...(o.executionProviders !== undefined ? { executionProviders: o.executionProviders as string[] } : {}),
  ...(o.threads !== undefined ? { intraOpNumThreads: o.threads as number } : {}),
  ...(o.modelPath !== undefined ? { modelPath: o.modelPath as string } : {}),
});

/** `ocr.det`: image → text boxes. */
export class OcrDetBrick implements Brick {
  readonly inputs: readonly PortSpec[] = [{ name: 'image', kind: 'tensor', shape: ['h', 'w', 3] }];
  readonly outputs: readonly PortSpec[] = [{ name: 'boxes', kind: 'tensor', shape: ['n', 4, 2] }];
  private constructor(readonly name: string, readonly device: string, readonly detector: OcrDetector) {}

  /**
   * Creates the ONNX session. Options: `executionProviders`, `threads`, `modelPath`,
   * `limitSideLen`, `limitType`, `thresh`, `boxThresh`, `unclipRatio`.
   * @throws the errors of {@link OcrDetector.create}.
   */
  static async create(ctx: BrickContext): Promise<OcrDetBrick> {
    const o = ctx.options;
    const db = {
      ...(o.thresh !== undefined ? { thresh: o.thresh as number } : {}),
      ...(o.boxThresh !== undefined ? { boxThresh: o.boxThresh as number } : {}),
      ...(o.unclipRatio !== undefined ? { unclipRatio: o.unclipRatio as number } : {}),
    };
    const det = await OcrDetector.create({
      name: ctx.name,
      ...onnxOpts(o),
      ...(o.limitSideLen !== undefined ? { limitSideLen: o.limitSideLen as number } : {}),
      ...(o.limitType !== undefined ? { limitType: o.limitType as 'max' | 'min' } : {}),
      db,
    });
    return new OcrDetBrick(ctx.name, ctx.device, det);
  }

  /**
   * @returns `boxes`: float32 `[n, 4, 2]` in reading order.
   * @throws RequestError for a missing/mistyped image; BackendError from ONNX Runtime.
   */
  async run(inputs: PortValues): Promise<Record<string, PortValue>> {
    const boxes = await this.detector.detect(imageFrom(this.name, inputs));
    return { boxes: boxesToTensor(boxes) };
  }

  dispose(): void {
    this.detector.dispose();
  }
}

/** Packs boxes as float32 `[n, 4, 2]`. */
export function boxesToTensor(boxes: readonly DetBox[]): TensorValue {
  const data = new Float32Array(boxes.length * 8);
  boxes.forEach((b, i) => b.box.forEach((p, k) => { data[i * 8 + k * 2] = p.x; data[i * 8 + k * 2 + 1] = p.y; }));
  return { kind: 'tensor', dtype: 'f32', data, shape: [boxes.length, 4, 2] };
}

/**
 * Unpacks a float32 `[n, 4, 2]` tensor into boxes.
 * @throws RequestError (`BRICK_INPUT_KIND`) for another dtype/shape.
 */
export function boxesFromTensor(brick: string, v: PortValue | undefined): DetBox[] {
  if (!v || v.kind !== 'tensor' || v.dtype !== 'f32' || v.shape.length !== 3 || v.shape[1] !== 4 || v.shape[2] !== 2 || v.data.length !== v.shape[0]! * 8) {
    throw new RequestError('BRICK_INPUT_KIND', `${brick}: input 'boxes' must be an f32 tensor [n, 4, 2]`);
  }
  const out: DetBox[] = [];
  for (let i = 0; i < v.shape[0]!; i++) {
    const box = [0, 1, 2, 3].map((k) => ({ x: v.data[i * 8 + k * 2]!, y: v.data[i * 8 + k * 2 + 1]! }));
    out.push({ box, score: 1 });
  }
  return out;
}

/** `ocr.rec`: image + boxes → text. */
export class OcrRecBrick implements Brick {
  readonly inputs: readonly PortSpec[] = [
    { name: 'image', kind: 'tensor', shape: ['h', 'w', 3] },
    { name: 'boxes', kind: 'tensor', shape: ['n', 4, 2] },
  ];
  readonly outputs: readonly PortSpec[] = [{ name: 'text', kind: 'text' }];
  /** The lines of the last run, with confidences and boxes. */
  lastLines: OcrLine[] = [];
  private constructor(
    readonly name: string,
    readonly device: string,
    readonly recognizer: OcrRecognizer,
    private readonly dropScore: number,
    readonly classifier: OcrAngleClassifier | undefined,
  ) {}

  /**
   * Loads the dictionary and creates the ONNX session. Options: `executionProviders`, `threads`,
   * `modelPath`, `dictPath`, `batchSize`, `dropScore` (default 0.5), `useAngleCls` (turn
   * upside-down crops with the PP-OCR angle classifier first, default false).
   * @throws the errors of {@link OcrRecognizer.create}.
   */
  static async create(ctx: BrickContext): Promise<OcrRecBrick> {
    const o = ctx.options;
    const rec = await OcrRecognizer.create({
      name: ctx.name,
      ...onnxOpts(o),
      ...(o.dictPath !== undefined ? { dictPath: o.dictPath as string } : {}),
      ...(o.batchSize !== undefined ? { batchSize: o.batchSize as number } : {}),
    });
    let cls: OcrAngleClassifier | undefined;
    try {
      if (o.useAngleCls === true) {
        cls = await OcrAngleClassifier.create({
          name: `${ctx.name}-cls`,
          ...(o.executionProviders !== undefined ? { executionProviders: o.executionProviders as string[] } : {}),
          ...(o.threads !== undefined ? { intraOpNumThreads: o.threads as number } : {}),
        });
      }
    } catch (e) {
      rec.dispose();
      throw e;
    }
    return new OcrRecBrick(ctx.name, ctx.device, rec, (o.dropScore as number | undefined) ?? 0.5, cls);
  }

  /**
   * @returns `text`: recognized lines (confidence ≥ dropScore) joined by '\n', in box order.
   * @throws RequestError for missing/mistyped inputs; BackendError from ONNX Runtime.
   */
  async run(inputs: PortValues): Promise<Record<string, PortValue>> {
    const img = imageFrom(this.name, inputs);
    const boxes = boxesFromTensor(this.name, inputs.boxes);
    this.lastLines = await recognizeBoxes(this.recognizer, img, boxes, this.dropScore, this.classifier);
    return { text: { kind: 'text', text: this.lastLines.map((l) => l.text).join('\n') } };
  }

  dispose(): void {
    this.recognizer.dispose();
    this.classifier?.dispose();
  }
}
