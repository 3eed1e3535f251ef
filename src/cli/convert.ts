/**
 * `synflux convert --from tfjs PATH --out OUT.gguf`: converts a TF.js MobileNetV2 classifier — a
 * Keras layers model or a GraphDef graph model (model.json + .bin shards, or nsfwjs's model.min.js bundle) — into a MobileNetV2 GGUF (layout:
 * src/models/vision/mobilenetv2-weights.ts). Batch norm is folded, weights are stored F32
 * (or F16 with `--type f16`). Labels: `--labels` (comma-separated list, or a file with a JSON array
 * or one label per line), else nsfwjs's own labels when the model lies inside the nsfwjs package.
 * stdout: a one-line summary (or JSON with `--json`); stderr: logs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { RequestError } from '../core/errors.js';
import { writeGGUF } from '../formats/gguf/writer.js';
import { graphToMobileNetV2 } from '../formats/tfjs/graph-mobilenetv2.js';
import { kerasToMobileNetV2 } from '../formats/tfjs/keras-mobilenetv2.js';
import { readTfjsModel } from '../formats/tfjs/model.js';
import { nsfwjsLabelsFor } from '../formats/tfjs/nsfwjs-labels.js';
import { mobileNetV2ToGGUF } from '../models/vision/mobilenetv2-weights.js';
import { formatBytes, log, type CliIO } from './io.js';

/** Raw options of `synflux convert` as commander produces them. */
export interface RawConvertOptions {
  from?: string;
  out?: string;
  type?: string;
  labels?: string;
  name?: string;
  json?: boolean;
}

function parseLabels(spec: string): string[] {
  if (existsSync(spec)) {
    const text = readFileSync(spec, 'utf8').trim();
    if (text.startsWith('[')) {
      const arr = JSON.parse(text) as unknown;
      if (!Array.isArray(arr) || !arr.every((x) => typeof x === 'string')) throw new RequestError('BAD_OPTION', `--labels ${spec}: not a JSON array of strings`);
      return arr as string[];
    }
    return text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  }
  return spec.split(',').map((s) => s.trim());
}

/**
 * Runs `synflux convert`.
 * @throws RequestError `BAD_OPTION` (unknown --from / --type, bad --labels); the reader's and
 *   converter's ModelFormatError on a bad or unsupported model
 */
export async function convertCommand(path: string, opts: RawConvertOptions, io: CliIO): Promise<void> {
  if (opts.from !== 'tfjs') throw new RequestError('BAD_OPTION', `--from ${String(opts.from)}: only 'tfjs' is supported`);
  if (!opts.out) throw new RequestError('BAD_OPTION', '--out is required');
  const type = (opts.type ?? 'f32').toLowerCase();
  if (type !== 'f32' && type !== 'f16') throw new RequestError('BAD_OPTION', `--type ${opts.type}: use f32 or f16`);
  const t0 = performance.now();
  const model = readTfjsModel(path);
  const labels = opts.labels !== undefined ? parseLabels(opts.labels) : nsfwjsLabelsFor(model.source);
  const weights = (model.kind === 'graph-model' ? graphToMobileNetV2 : kerasToMobileNetV2)(model, labels ? { labels } : {});
  const name = opts.name ?? `${basename(dirname(model.source))} (TF.js)`;
  const spec = mobileNetV2ToGGUF(weights, name, type);
  writeGGUF(opts.out, spec);
  const ms = performance.now() - t0;
  const bytes = spec.tensors.reduce((a, t) => a + t.data.length, 0);
  const summary = {
    out: opts.out, architecture: 'mobilenetv2', name, type, blocks: weights.blocks.length, tensors: spec.tensors.length,
    tensor_bytes: bytes, image_size: weights.config.imageSize, classes: weights.config.classCount, labels: weights.config.labels ?? null,
    source_weight_bytes: model.shardBytes, convert_ms: Math.round(ms),
  };
  log(io, `read ${model.source} (${model.kind}, ${model.weights.size} weights, ${formatBytes(model.shardBytes)} quantized)`);
  if (opts.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
  else io.stdout.write(`wrote ${opts.out}: mobilenetv2, ${weights.blocks.length} blocks, ${spec.tensors.length} tensors (${type.toUpperCase()}, ${formatBytes(bytes)}), ${weights.config.classCount} classes${labels ? ` [${labels.join(', ')}]` : ''}\n`);
}
