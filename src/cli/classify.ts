/**
 * `synflux run --model MODEL.gguf --image PATH… [--json] [--threads N]` when the GGUF is an image
 * classifier (`general.architecture = mobilenetv2`, written by `synflux convert --from tfjs`):
 * prints the top-5 classes of each image with their probabilities (stdout), timings on stderr.
 * Text output: one block per image, `label<TAB>probability` lines. `--json`: one object
 * `{model, load_ms, images: [{path, width, height, top: [{label, index, probability}], probs,
 * timings: {decode_ms, preprocess_ms, forward_ms}}]}`.
 */
import { RequestError } from '../core/errors.js';
import { peekGGUFMetadata } from '../formats/gguf/reader.js';
import { native } from '../backends/cpu/native.js';
import { MobileNetV2 } from '../models/vision/mobilenetv2.js';
import { classifyImage } from '../models/vision/mobilenetv2-brick.js';
import { log, type CliIO } from './io.js';
import { parseIntOption } from './options.js';
import type { RawRunOptions } from './run.js';

/** Architectures this command runs. */
const CLASSIFIERS = new Set(['mobilenetv2']);

/**
 * True when `path` is a GGUF whose `general.architecture` is an image classifier. Never throws:
 * anything unreadable is left to the regular loader and its errors.
 */
export function isClassifierModel(path: string | undefined): boolean {
  if (!path) return false;
  try {
    const arch = peekGGUFMetadata(path, 'general.architecture');
    return typeof arch === 'string' && CLASSIFIERS.has(arch);
  } catch {
    return false;
  }
}

/**
 * Runs the classification path of `synflux run`.
 * @throws RequestError `BAD_OPTION` (no --image, --prompt/--mmproj given, bad --threads, a
 *   --backend other than cpu); the
 *   loader's ModelFormatError/ShapeError; ImageError for bad images
 */
export async function classifyCommand(raw: RawRunOptions, io: CliIO): Promise<void> {
  const images = raw.image ?? [];
  if (images.length === 0) throw new RequestError('BAD_OPTION', `${raw.model} is an image classifier: give --image PATH`);
  if (raw.prompt !== undefined || raw.mmproj !== undefined) throw new RequestError('BAD_OPTION', `${raw.model} is an image classifier: --prompt and --mmproj do not apply`);
  if (raw.backend !== undefined && raw.backend !== 'cpu') throw new RequestError('BAD_OPTION', `--backend ${raw.backend}: image classifiers run on the cpu backend only`);
  if (raw.threads !== undefined) native().setThreads(parseIntOption('--threads', raw.threads, 1, 1024));
  const t0 = performance.now();
  const net = MobileNetV2.fromGGUF(raw.model!);
  const loadMs = performance.now() - t0;
  const results = [];
  for (const path of images) {
    const r = await classifyImage(net, path);
    results.push({ path, ...r });
    if (!raw.json) {
      if (images.length > 1) io.stdout.write(`${path}\n`);
      for (const c of r.top) io.stdout.write(`${c.label}\t${c.probability.toFixed(6)}\n`);
    }
    log(io, `${path}: ${r.width}×${r.height}, decode ${r.timings.decode_ms.toFixed(1)} ms, preprocess ${r.timings.preprocess_ms.toFixed(1)} ms, forward ${r.timings.forward_ms.toFixed(1)} ms`);
  }
  if (raw.json) {
    const round = (x: number): number => Math.round(x * 1000) / 1000;
    io.stdout.write(`${JSON.stringify({
      model: raw.model, load_ms: round(loadMs),
      images: results.map((r) => ({
        path: r.path, width: r.width, height: r.height,
        top: r.top.map((c) => ({ label: c.label, index: c.index, probability: c.probability })),
        probs: Array.from(r.probs),
        timings: { decode_ms: round(r.timings.decode_ms), preprocess_ms: round(r.timings.preprocess_ms), forward_ms: round(r.timings.forward_ms) },
      })),
    })}\n`);
  }
}
