// The PP-OCR angle classifier (ONNX Runtime): on the real screenshot turned upside down, every
// detected line is classified as 180° and, once turned back, reads as the printed text; on the
// upright image every line is 0°. Without the classifier the upside-down lines do not read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { decodeImage } from '../../src/preprocess/image.js';
import { OcrAngleClassifier, rotate180 } from '../../src/models/ocr/classifier.js';
import { OcrDetector } from '../../src/models/ocr/detector.js';
import { OcrRecognizer } from '../../src/models/ocr/recognizer.js';
import { readText } from '../../src/models/ocr/read-text.js';
import { cropQuad } from '../../src/models/ocr/image-ops.js';
import { repoRoot } from '../helpers/paths.js';
import { cer, EXPECTED_TEXT } from './expected-text.js';

test('angle classifier turns upside-down lines back', async () => {
  const det = await OcrDetector.create({ intraOpNumThreads: 1 });
  const rec = await OcrRecognizer.create({ intraOpNumThreads: 1 });
  const cls = await OcrAngleClassifier.create({ intraOpNumThreads: 1 });
  try {
    const img = await decodeImage(join(repoRoot(), 'tests/fixtures/images/ocr-notice.png'));
    const flipped = rotate180(img);
    assert.deepEqual(rotate180(flipped).data, img.data);

    const upright = (await det.detect(img)).map((b) => cropQuad(img, b.box)!);
    assert.ok((await cls.classify(upright)).every((v) => v.angle === 0), 'upright lines are 0°');
    const down = (await det.detect(flipped)).map((b) => cropQuad(flipped, b.box)!);
    const verdicts = await cls.classify(down);
    assert.equal(verdicts.length, 5);
    assert.ok(verdicts.every((v) => v.angle === 180 && v.score > 0.9), JSON.stringify(verdicts));

    // Upside down, lines come bottom line first: compare with the printed lines reversed.
    const want = [...EXPECTED_TEXT['ocr-notice.png']!].reverse().join('\n');
    const withCls = (await readText(det, rec, flipped, 0.5, cls)).map((l) => l.text).join('\n');
    assert.ok(cer(withCls, want) <= 0.02, withCls);
    const without = (await readText(det, rec, flipped, 0)).map((l) => l.text).join('\n');
    assert.ok(cer(without, want) > 0.5, `without the classifier the text should not read: ${without}`);
  } finally {
    det.dispose();
    rec.dispose();
    cls.dispose();
  }
});
