/**
 * The MobileNetV2 classifier as a {@link Brick} named `mobilenetv2` on device `cpu`, and the
 * image → class-probabilities path the CLI uses (`synflux run --model mobilenetv2.gguf --image`).
 *
 * A user's image is preprocessed as nsfwjs does it: decoded by sharp (src/preprocess/image.ts:
 * JPEG/PNG/WebP, header checked, alpha dropped, grey → RGB, EXIF orientation not applied), every
 * value `(rgb - mean) / std` (nsfwjs: `/ 255`), then stretched (no crop, no letterbox) to S×S with
 * tf.image.resizeBilinear(alignCorners = true) arithmetic — see mobilenetv2-preprocess.ts.
 */
import type { Brick, BrickCost, PortValue, PortValues } from '../../bricks/brick.js';
import { RequestError, ShapeError } from '../../core/errors.js';
import { decodeImage, DEFAULT_MAX_IMAGE_PIXELS } from '../../preprocess/image.js';
import { MobileNetV2, type ClassScore } from './mobilenetv2.js';
import { preprocessMobileNetV2 } from './mobilenetv2-preprocess.js';

/** Options of {@link classifyImage}. */
export interface ClassifyOptions {
  /** Largest accepted width × height, pixels (default: the decoder's, 64 Mpx). */
  readonly maxPixels?: number;
  /** Classes to report (default 5). */
  readonly topK?: number;
}

/** Result of {@link classifyImage}. */
export interface ClassifyResult {
  /** Best classes first. */
  readonly top: ClassScore[];
  /** Every class probability, float32 `[classCount]`. */
  readonly probs: Float32Array;
  /** Wall times, ms. */
  readonly timings: { readonly decode_ms: number; readonly preprocess_ms: number; readonly forward_ms: number };
  readonly width: number;
  readonly height: number;
}

/**
 * Decodes, preprocesses and classifies one image.
 * @param image a file path or the encoded bytes (JPEG/PNG/WebP)
 * @throws ImageError (src/core/errors.ts) on empty, truncated, unsupported or oversize images
 */
export async function classifyImage(net: MobileNetV2, image: string | Uint8Array, opts: ClassifyOptions = {}): Promise<ClassifyResult> {
  const t0 = performance.now();
  const rgb = await decodeImage(image, { maxPixels: opts.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS, ...(typeof image === 'string' ? { source: image } : {}) });
  const t1 = performance.now();
  const c = net.weights.config;
  const x = preprocessMobileNetV2(rgb, c.imageSize, c.mean, c.std);
  const t2 = performance.now();
  const probs = net.forward(x).probs;
  const t3 = performance.now();
  return {
    top: net.topK(probs, opts.topK ?? 5), probs, width: rgb.width, height: rgb.height,
    timings: { decode_ms: t1 - t0, preprocess_ms: t2 - t1, forward_ms: t3 - t2 },
  };
}

/** Planner cost of one 224×224 (S×S) image through the network (see {@link MobileNetV2.cost}). */
export function mobileNetV2Cost(net: MobileNetV2): BrickCost {
  const c = net.cost();
  const w = net.weights;
  const launches = 2 + w.blocks.reduce((a, b) => a + (b.expand ? 3 : 2), 0) + w.fc.length + 1;
  // Working set: the largest feature map three times (block input, expanded map, depthwise output).
  const S = w.config.imageSize;
  const widest = Math.max(w.stem.cout, ...w.blocks.map((b) => b.depthwise.c));
  const outputBytes = 4 * w.config.classCount;
  return {
    flops: c.flops, bytesMoved: c.weightBytes + c.activationBytes + outputBytes,
    memoryBytes: c.weightBytes + 3 * 4 * (S / 2) * (S / 2) * widest, outputBytes, launches,
  };
}

/**
 * Wraps a loaded MobileNetV2 as the `mobilenetv2` brick (device `cpu`).
 * Input `image`: a `tensor` of dtype u8 (an encoded JPEG/PNG/WebP file), or an `image` value
 * (float32 `[3, S, S]`, channels-first, already normalized — transposed to HWC here).
 * Outputs: `probs` (tensor f32 `[classCount]`), `label` (text: the most probable class).
 * `run` throws RequestError `BRICK_BAD_INPUT` on a missing/ill-typed input, ShapeError on a wrong
 * image size, ImageError on a bad encoded image.
 */
export function createMobileNetV2Brick(net: MobileNetV2, opts: ClassifyOptions = {}): Brick {
  const c = net.weights.config;
  const S = c.imageSize;
  return {
    name: 'mobilenetv2',
    device: 'cpu',
    inputs: [{ name: 'image', kind: 'tensor', shape: ['n'] }],
    outputs: [
      { name: 'probs', kind: 'tensor', shape: [c.classCount] },
      { name: 'label', kind: 'text' },
    ],
    async run(inputs: PortValues): Promise<Record<string, PortValue>> {
      const v = inputs.image;
      let probs: Float32Array;
      if (v?.kind === 'tensor' && v.dtype === 'u8') {
        probs = (await classifyImage(net, v.data as Uint8Array, opts)).probs;
      } else if (v?.kind === 'image') {
        const [ch, h, w] = v.shape;
        if (ch !== 3 || h !== S || w !== S || v.data.length !== 3 * S * S) throw new ShapeError('BRICK_BAD_SHAPE', `mobilenetv2 brick: image must be [3, ${S}, ${S}], got [${v.shape.join(', ')}]`);
        const hwc = new Float32Array(3 * S * S);
        for (let k = 0; k < 3; k++) for (let i = 0; i < S * S; i++) hwc[i * 3 + k] = v.data[k * S * S + i]!;
        probs = net.forward(hwc).probs;
      } else {
        throw new RequestError('BRICK_BAD_INPUT', `mobilenetv2 brick: input 'image' must be a u8 tensor (encoded image) or an image [3, ${S}, ${S}], got ${v ? v.kind : 'nothing'}`);
      }
      const best = net.topK(probs, 1)[0]!;
      return { probs: { kind: 'tensor', dtype: 'f32', data: probs, shape: [probs.length] }, label: { kind: 'text', text: best.label } };
    },
    cost(): BrickCost {
      return mobileNetV2Cost(net);
    },
    dispose(): void {},
  };
}
