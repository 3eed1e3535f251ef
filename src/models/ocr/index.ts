/**
 * PP-OCR (PaddleOCR PP-OCRv4 mobile det/rec + v2.0 angle classifier) on the `onnx` device:
 * detector, recognizer, angle classifier, the full read-text pipeline and the pipeline bricks.
 */
export { OcrDetector, detPreprocess, type OcrDetectorOptions } from './detector.js';
export { OcrRecognizer, recPreprocessBatch, type OcrRecognizerOptions } from './recognizer.js';
export { OcrAngleClassifier, rotate180, type OcrClassifierOptions, type AngleResult } from './classifier.js';
export { readText, recognizeBoxes, type OcrLine } from './read-text.js';
export { dbPostprocess, type DbOptions, type DetBox, type ProbMap } from './db-postprocess.js';
export { ctcGreedyDecode, loadAlphabet, alphabetFromDictionary, type CtcAlphabet, type CtcResult } from './ctc.js';
export { ocrAssetPaths, type OcrAssetPaths } from './assets.js';
export { OcrDetBrick, OcrRecBrick, boxesToTensor, boxesFromTensor } from './bricks.js';
