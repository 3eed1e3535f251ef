// The text printed in the OCR test images, transcribed by reading the images (not from any OCR
// output), and the character error rate used to compare recognized text with it.

/** Image name → its text lines as printed, top to bottom. */
export const EXPECTED_TEXT: Record<string, string[]> = {
  // scikit-image data/page.png: a photograph of a printed book page (uneven lighting). The bottom
  // line is cut by the image edge; the tiny caption under it is not transcribed.
  'page.png': [
    'Region-based segmentation',
    'Let us first determine markers of the coins and the',
    'background. These markers are pixels that we can label',
    'unambiguously as either object or background. Here,',
    'the markers are found at the two extreme parts of the',
    'histogram of grey values:',
    '>>> markers = np.zeros_like(coins)',
  ],
  // OpenCV samples/data/imageTextN.png (a page of printed text) and imageTextR.png (the same page rotated).
  'imageTextN.png': [
    'technical details are too complex to cover in the book itself.',
    'In teaching our courses, we have found it useful for the students to attempt a number of',
    'small implementation projects, which often build on one another, in order to get them used to',
    'working with real-world images and the challenges that these present. The students are then',
    'asked to choose an individual topic for each of their small-group, final projects. (Sometimes',
    'these projects even turn into conference papers!) The exercises at the end of each chapter',
    'contain numerous suggestions for smaller mid-term projects, as well as more open-ended',
    'problems whose solutions are still active research topics. Wherever possible, I encourage',
    'students to try their algorithms on their own personal photographs, since this better motivates',
    'them, often leads to creative variants on the problems, and better acquaints them with the',
    'variety and complexity of real-world imagery.',
    'In formulating and solving computer vision problems, I have often found it useful to draw',
    'inspiration from three high-level approaches:',
  ],
  // tests/fixtures/images/ocr-notice.png: headless-Chromium screenshot of ocr-notice.html.
  'ocr-notice.png': [
    'City Library - Opening Hours',
    'Monday to Friday: 9:00 to 18:00',
    'Saturday: 10:00 to 14:00',
    'Closed on Sundays and public holidays',
    'Return books through the slot next to the main door',
  ],
};
EXPECTED_TEXT['imageTextR.png'] = EXPECTED_TEXT['imageTextN.png']!;

/**
 * Normalization before comparing: NFKC (full-width punctuation → ASCII) and all whitespace
 * removed. The Chinese PP-OCRv4 recognizer often drops the spaces between English words (its
 * training data is mostly Chinese); a missing space is therefore not counted as an error.
 */
export function normalizeForCer(s: string): string {
  return s.normalize('NFKC').replace(/\s+/g, '');
}

/** Levenshtein distance (unit costs) between two strings, by code point. */
export function editDistance(a: string, b: string): number {
  const x = [...a], y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[y.length]!;
}

/** Character error rate of `got` against `want`: edit distance / length of `want`, after {@link normalizeForCer}. */
export function cer(got: string, want: string): number {
  const w = normalizeForCer(want);
  return editDistance(normalizeForCer(got), w) / Math.max(1, [...w].length);
}
