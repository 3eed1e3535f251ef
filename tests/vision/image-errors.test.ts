/**
 * Bad images give typed ImageErrors (never a crash, hang or garbage): a truncated JPEG (a real
 * photo, llama.cpp's tools/mtmd/test-1.jpeg, cut short), a truncated PNG, a zero-byte file, a text
 * file, a PNG whose header claims 100000×100000 pixels (rejected from the header before decoding),
 * and a missing path. Good JPEG/PNG/WebP files decode to the size their header states, and the
 * PNG/WebP-lossless round trip of the decoded JPEG gives the same RGB bytes (decoder reference:
 * libvips/sharp encoders).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { ImageError } from '../../src/core/errors.js';
import { decodeImage, readImageHeader } from '../../src/preprocess/image.js';
import { fixturesModule, repoRoot } from '../helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'synflux-img-'));

async function photo(): Promise<Uint8Array> {
  const src = (await fixturesModule()).ensureLlamaCppSource();
  return new Uint8Array(readFileSync(join(src, 'tools', 'mtmd', 'test-1.jpeg')));
}

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ImageError, `expected ImageError, got ${String(e)}`);
    assert.equal((e as ImageError).code, code, (e as Error).message);
    return true;
  });
}

/** PNG CRC-32 (ISO 3309), for a hand-made header. */
function crc32(b: Uint8Array): number {
  let c = ~0;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

function chunk(tag: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  out.set(Buffer.from(tag, 'latin1'), 4);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

test('a real JPEG decodes to its header size; PNG and lossless WebP of it decode to the same bytes', async () => {
  const jpg = await photo();
  const h = readImageHeader(jpg);
  const img = await decodeImage(jpg);
  assert.equal(h.format, 'jpeg');
  assert.deepEqual([img.width, img.height], [h.width, h.height]);
  assert.equal(img.data.length, img.width * img.height * 3);
  const raw = { raw: { width: img.width, height: img.height, channels: 3 as const } };
  const png = new Uint8Array(await sharp(img.data, raw).png().toBuffer());
  const webp = new Uint8Array(await sharp(img.data, raw).webp({ lossless: true }).toBuffer());
  for (const [name, bytes] of [['png', png], ['webp', webp]] as const) {
    assert.equal(readImageHeader(bytes).format, name);
    const back = await decodeImage(bytes);
    assert.deepEqual([back.width, back.height], [img.width, img.height]);
    assert.ok(Buffer.from(back.data).equals(Buffer.from(img.data)), `${name} round trip changed pixels`);
  }
  // RGBA input: alpha dropped (as stb_image does for 3 requested channels), colour kept
  const rgba = new Uint8Array(await sharp(img.data, raw).ensureAlpha(0.5).png().toBuffer());
  const back = await decodeImage(rgba);
  assert.ok(Buffer.from(back.data).equals(Buffer.from(img.data)));
});

test('truncated JPEG and PNG → IMAGE_TRUNCATED', async () => {
  const jpg = await photo();
  await rejects(decodeImage(jpg.subarray(0, Math.floor(jpg.length * 0.6))), 'IMAGE_TRUNCATED');
  await rejects(decodeImage(jpg.subarray(0, 100)), 'IMAGE_TRUNCATED');
  const img = await decodeImage(jpg);
  const png = new Uint8Array(await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).png().toBuffer());
  await rejects(decodeImage(png.subarray(0, Math.floor(png.length / 2))), 'IMAGE_TRUNCATED');
  await rejects(decodeImage(png.subarray(0, 20)), 'IMAGE_TRUNCATED');
});

test('zero-byte file → IMAGE_EMPTY; text file → IMAGE_UNSUPPORTED_FORMAT; missing path → IMAGE_NOT_FOUND', async () => {
  const empty = join(dir, 'empty.png');
  writeFileSync(empty, new Uint8Array(0));
  await rejects(decodeImage(empty), 'IMAGE_EMPTY');
  await rejects(decodeImage(join(repoRoot(), 'README.md')), 'IMAGE_UNSUPPORTED_FORMAT');
  await rejects(decodeImage(join(dir, 'no-such-file.jpg')), 'IMAGE_NOT_FOUND');
});

test('huge dimensions in a PNG header → IMAGE_TOO_LARGE before decoding; the limit is configurable', async () => {
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, 100000); dv.setUint32(4, 100000);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const idat = deflateSync(Buffer.alloc(1024)); // far too little data: decoding would fail, the header check must come first
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
  const t0 = Date.now();
  await rejects(decodeImage(new Uint8Array(png)), 'IMAGE_TOO_LARGE');
  assert.ok(Date.now() - t0 < 5000);
  const jpg = await photo();
  const h = readImageHeader(jpg);
  await rejects(decodeImage(jpg, { maxPixels: h.width * h.height - 1 }), 'IMAGE_TOO_LARGE');
  const ok = await decodeImage(jpg, { maxPixels: h.width * h.height });
  assert.equal(ok.width, h.width);
});
