/**
 * The PP-OCR system (PaddleOCR tools/infer/predict_system.py `TextSystem`): detect boxes → crop
 * and rectify each (`get_rotate_crop_image`) → optionally turn upside-down crops (angle
 * classifier, `use_angle_cls`) → recognize → drop lines whose confidence is below `dropScore`
 * (0.5) → lines in reading order.
 */
import type { OcrAngleClassifier } from './classifier.js';
import type { DetBox } from './db-postprocess.js';
import type { OcrDetector } from './detector.js';
import { cropQuad, type Point, type RgbImage } from './image-ops.js';
import type { OcrRecognizer } from './recognizer.js';

/** One recognized text line. */
export interface OcrLine {
  readonly text: string;
  /** Recognition confidence in [0, 1]. */
  readonly score: number;
  /** Corners in source pixels: top-left, top-right, bottom-right, bottom-left. */
  readonly box: readonly Point[];
}

/**
 * Recognizes the text inside `boxes` of `img`.
 * @param dropScore lines with a lower confidence are left out (PaddleOCR drop_score, 0.5).
 * @param cls angle classifier applied to the crops before recognition (none: crops as cut).
 * @returns the kept lines, in the order of `boxes`.
 */
export async function recognizeBoxes(
  rec: OcrRecognizer,
  img: RgbImage,
  boxes: readonly DetBox[],
  dropScore = 0.5,
  cls?: OcrAngleClassifier,
): Promise<OcrLine[]> {
  const kept: { box: readonly Point[]; crop: RgbImage }[] = [];
  for (const b of boxes) {
    const crop = cropQuad(img, b.box);
    if (crop) kept.push({ box: b.box, crop });
  }
  if (kept.length === 0) return [];
  let crops = kept.map((k) => k.crop);
  if (cls) crops = (await cls.uprightAll(crops)).crops;
  const res = await rec.recognize(crops);
  const lines: OcrLine[] = [];
  res.forEach((r, i) => {
    if (r.score >= dropScore && r.text.length > 0) lines.push({ text: r.text, score: r.score, box: kept[i]!.box });
  });
  return lines;
}

/**
 * Detects and recognizes all text of `img`.
 * @throws the errors of {@link OcrDetector.detect} and {@link OcrRecognizer.recognize}.
 */
export async function readText(det: OcrDetector, rec: OcrRecognizer, img: RgbImage, dropScore = 0.5, cls?: OcrAngleClassifier): Promise<OcrLine[]> {
  return recognizeBoxes(rec, img, await det.detect(img), dropScore, cls);
}
