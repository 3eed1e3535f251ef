/**
 * `image.decode` brick (cpu): a file path (text) → RGB uint8 tensor `[H, W, 3]`, decoded by
 * src/preprocess/image.ts (sharp; header checked before decoding, size limit `maxPixels`).
 */
import type { Brick, PortSpec, PortValue, PortValues } from '../../bricks/brick.js';
import { decodeImage } from '../../preprocess/image.js';
import type { BrickContext } from '../registry.js';
import { takePort } from './ports.js';

/** Decodes image files for the bricks after it. */
export class ImageDecodeBrick implements Brick {
  readonly inputs: readonly PortSpec[] = [{ name: 'path', kind: 'text' }];
  readonly outputs: readonly PortSpec[] = [{ name: 'image', kind: 'tensor', shape: ['h', 'w', 3] }];
  private constructor(readonly name: string, readonly device: string, private readonly maxPixels: number | undefined) {}

  /** Creates the brick (nothing to load). Options: `maxPixels` (width × height limit). */
  static async create(ctx: BrickContext): Promise<ImageDecodeBrick> {
    return new ImageDecodeBrick(ctx.name, ctx.device, ctx.options.maxPixels as number | undefined);
  }

  /**
   * Reads and decodes the file named by input `path`.
   * @returns `image`: tensor u8 `[H, W, 3]` (RGB).
   * @throws ImageError (`IMAGE_NOT_FOUND`, `IMAGE_EMPTY`, `IMAGE_TRUNCATED`, `IMAGE_UNSUPPORTED_FORMAT`,
   *   `IMAGE_TOO_LARGE`, `IMAGE_BAD`); RequestError for a missing/mistyped port.
   */
  async run(inputs: PortValues): Promise<Record<string, PortValue>> {
    const path = takePort(this.name, inputs, 'path', 'text').text;
    const img = await decodeImage(path, this.maxPixels !== undefined ? { maxPixels: this.maxPixels } : {});
    return { image: { kind: 'tensor', dtype: 'u8', data: img.data, shape: [img.height, img.width, 3] } };
  }

  dispose(): void {}
}
