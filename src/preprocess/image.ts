/**
 * Image decoding: JPEG / PNG / WebP bytes → RGB uint8 ({@link RgbImage}).
 *
 * The container header is parsed here first (format by magic bytes, width and height from PNG
 * IHDR, JPEG SOFn, WebP VP8/VP8L/VP8X — per the PNG spec, ITU T.81 B.2.2 and the WebP container
 * spec) so that empty, truncated-before-the-header, foreign and oversize inputs are rejected with
 * an {@link ImageError} before any pixel is decoded. Pixels are then decoded by sharp (libvips:
 * mozjpeg, libpng, libwebp) with `failOn: 'truncated'`; the alpha channel is dropped (as
 * stb_image does when llama.cpp asks it for 3 channels) and grey is expanded to RGB. EXIF
 * orientation is not applied (stb_image ignores it too).
 *
 * Known differences from llama.cpp, which decodes with stb_image: JPEG pixels may differ by a few
 * levels (stb_image has its own IDCT and chroma upsampling); 16-bit PNGs are reduced by libvips
 * rather than by stb's `>> 8`; an embedded ICC profile is honoured by libvips and ignored by stb.
 * PNG and WebP 8-bit images without ICC profiles decode to identical bytes.
 */
import { readFile } from 'node:fs/promises';
import sharp, { type OutputInfo } from 'sharp';
import { ImageError } from '../core/errors.js';
import type { RgbImage } from './resize.js';

/** Default pixel limit (width × height) checked from the header before decoding: 64 Mpx. */
export const DEFAULT_MAX_IMAGE_PIXELS = 64 * 1024 * 1024;

/** Container formats the decoder accepts. */
export type ImageFormat = 'jpeg' | 'png' | 'webp';

/** What the header says. */
export interface ImageHeader {
  readonly format: ImageFormat;
  readonly width: number;
  readonly height: number;
}

/** Options of {@link decodeImage}. */
export interface DecodeOptions {
  /** Largest accepted width × height, pixels (default {@link DEFAULT_MAX_IMAGE_PIXELS}). */
  readonly maxPixels?: number;
  /** Name used in error messages (a path). */
  readonly source?: string;
}

const u16be = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const u32be = (b: Uint8Array, o: number): number => ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!;
const u24le = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16);

/** Format from the magic bytes, or null. */
export function sniffImageFormat(b: Uint8Array): ImageFormat | null {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) return 'png';
  if (b.length >= 12 && String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...b.subarray(8, 12)) === 'WEBP') return 'webp';
  return null;
}

/**
 * Reads format and dimensions from the header without decoding pixels.
 * @throws ImageError `IMAGE_EMPTY`, `IMAGE_UNSUPPORTED_FORMAT`, `IMAGE_TRUNCATED` (the data ends
 *   before the dimensions), `IMAGE_BAD` (a malformed header).
 */
export function readImageHeader(b: Uint8Array, source = '<buffer>'): ImageHeader {
  if (b.length === 0) throw new ImageError('IMAGE_EMPTY', `${source}: image is empty (0 bytes)`);
  const format = sniffImageFormat(b);
  if (!format) throw new ImageError('IMAGE_UNSUPPORTED_FORMAT', `${source}: not a JPEG, PNG or WebP image`);
  const truncated = (): never => { throw new ImageError('IMAGE_TRUNCATED', `${source}: ${format} data ends before the image header`); };
  let width = 0, height = 0;
  if (format === 'png') {
    if (b.length < 24) truncated();
    if (String.fromCharCode(...b.subarray(12, 16)) !== 'IHDR') throw new ImageError('IMAGE_BAD', `${source}: PNG does not start with IHDR`);
    width = u32be(b, 16); height = u32be(b, 20);
  } else if (format === 'jpeg') {
    let o = 2;
    for (;;) {
      while (o < b.length && b[o] !== 0xff) o++; // tolerate garbage between segments, as decoders do
      while (o < b.length && b[o] === 0xff) o++;
      if (o >= b.length) truncated();
      const m = b[o++]!;
      if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) continue; // no length
      if (m === 0xd9 || m === 0xda) throw new ImageError('IMAGE_BAD', `${source}: JPEG has no frame header before ${m === 0xd9 ? 'EOI' : 'SOS'}`);
      if (o + 2 > b.length) truncated();
      const len = u16be(b, o);
      if (len < 2) throw new ImageError('IMAGE_BAD', `${source}: JPEG segment length ${len}`);
      const sof = m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
      if (sof) {
        if (o + 7 > b.length) truncated();
        height = u16be(b, o + 3); width = u16be(b, o + 5);
        break;
      }
      o += len;
    }
  } else {
    if (b.length < 30) truncated();
    const chunk = String.fromCharCode(...b.subarray(12, 16));
    if (chunk === 'VP8 ') {
      if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) throw new ImageError('IMAGE_BAD', `${source}: WebP VP8 frame has no start code`);
      width = (b[26]! | (b[27]! << 8)) & 0x3fff; height = (b[28]! | (b[29]! << 8)) & 0x3fff;
    } else if (chunk === 'VP8L') {
      if (b[20] !== 0x2f) throw new ImageError('IMAGE_BAD', `${source}: WebP VP8L has no signature`);
      const v = (b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24)) >>> 0;
      width = (v & 0x3fff) + 1; height = ((v >>> 14) & 0x3fff) + 1;
    } else if (chunk === 'VP8X') {
      width = u24le(b, 24) + 1; height = u24le(b, 27) + 1;
    } else {
      throw new ImageError('IMAGE_BAD', `${source}: unknown WebP chunk '${chunk}'`);
    }
  }
  if (width <= 0 || height <= 0) throw new ImageError('IMAGE_EMPTY', `${source}: image has zero size (${width}x${height})`);
  return { format, width, height };
}

function classify(e: unknown, source: string, format: ImageFormat): ImageError {
  const msg = (e as Error)?.message ?? String(e);
  if (/premature|truncat|end of (file|stream|data)|unexpected end|too short|short read|incomplete|not enough data|read error|out of data/i.test(msg)) {
    return new ImageError('IMAGE_TRUNCATED', `${source}: ${format} data is truncated (${msg.split('\n')[0]})`, { cause: e });
  }
  return new ImageError('IMAGE_BAD', `${source}: cannot decode ${format} image (${msg.split('\n')[0]})`, { cause: e });
}

/**
 * Decodes image bytes (or a file path) to RGB uint8.
 * @returns {@link RgbImage} `[H, W, 3]` interleaved.
 * @throws ImageError `IMAGE_NOT_FOUND` (unreadable path), `IMAGE_EMPTY`, `IMAGE_UNSUPPORTED_FORMAT`,
 *   `IMAGE_TOO_LARGE` (header width × height over `maxPixels`, checked before decoding),
 *   `IMAGE_TRUNCATED`, `IMAGE_BAD`.
 */
export async function decodeImage(input: Uint8Array | string, opts: DecodeOptions = {}): Promise<RgbImage> {
  let bytes: Uint8Array;
  let source = opts.source ?? '<buffer>';
  if (typeof input === 'string') {
    source = opts.source ?? input;
    try {
      bytes = new Uint8Array(await readFile(input));
    } catch (e) {
      throw new ImageError('IMAGE_NOT_FOUND', `${source}: cannot read image file (${(e as Error).message})`, { cause: e });
    }
  } else {
    bytes = input;
  }
  const header = readImageHeader(bytes, source);
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  if (header.width * header.height > maxPixels) {
    throw new ImageError('IMAGE_TOO_LARGE', `${source}: ${header.width}x${header.height} = ${header.width * header.height} pixels exceeds the limit of ${maxPixels}`);
  }
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await sharp(bytes, { failOn: 'truncated', limitInputPixels: false, sequentialRead: true })
      .removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw classify(e, source, header.format);
  }
  const { width, height, channels } = raw.info;
  if (width !== header.width || height !== header.height) {
    throw new ImageError('IMAGE_BAD', `${source}: decoded size ${width}x${height} differs from the header's ${header.width}x${header.height}`);
  }
  let data = new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
  if (channels !== 3) {
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = data[i * channels + Math.min(c, channels - 1)]!;
    data = rgb;
  }
  return { width, height, data };
}
