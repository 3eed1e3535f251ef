/**
 * TF.js model reader: the model JSON (topology + weights manifest, tfjs-core `ModelJSON`,
 * https://www.tensorflow.org/js/guide/save_load) and its weight shards, in the two forms models
 * are distributed in:
 *   - a folder with `model.json` and binary shards (`group1-shard1of2.bin`, … as named by
 *     `weightsManifest[i].paths`, relative to the JSON file);
 *   - nsfwjs's browserify bundles: `model.min.js` (the model JSON as a JS literal) and one
 *     `<path>.min.js` per shard exporting the shard as a base64 string. These are parsed, never
 *     executed (see js-literal.ts).
 * Layers models (`modelTopology.model_config`, Keras JSON) and graph models (`modelTopology.node`,
 * a GraphDef) are both read; interpreting the topology is the converter's job.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { ModelFormatError } from '../../core/errors.js';
import { bundleExportLiteral, type JsLiteral } from './js-literal.js';
import { decodeTfjsWeights, type TfjsTensor, type TfjsWeightSpec } from './decode-weights.js';

/** One group of a weights manifest. */
export interface TfjsManifestGroup {
  paths: string[];
  weights: TfjsWeightSpec[];
}

/** A TF.js model as read from disk. */
export interface TfjsModel {
  /** `layers-model` (Keras topology) or `graph-model` (GraphDef). */
  readonly kind: 'layers-model' | 'graph-model';
  /** The `modelTopology` object, untouched (JSON values). */
  readonly topology: Record<string, unknown>;
  readonly manifest: TfjsManifestGroup[];
  /** Decoded weights by name (float32 after dequantization). */
  readonly weights: Map<string, TfjsTensor>;
  /** Total bytes of the weight shards (quantized storage), bytes. */
  readonly shardBytes: number;
  /** The file the model was read from. */
  readonly source: string;
}

/** Largest model JSON / shard file read (bytes); a bigger one is refused. */
const MAX_FILE_BYTES = 1 << 30;

function readText(path: string): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    throw new ModelFormatError('TFJS_FILE_MISSING', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (size > MAX_FILE_BYTES) throw new ModelFormatError('TFJS_FILE_TOO_LARGE', `${path} is ${size} bytes (limit ${MAX_FILE_BYTES})`);
  return readFileSync(path, 'utf8');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseManifest(json: Record<string, unknown>, source: string): TfjsManifestGroup[] {
  const m = json.weightsManifest;
  if (!Array.isArray(m)) throw new ModelFormatError('TFJS_BAD_MANIFEST', `${source}: weightsManifest is missing or not an array`);
  return m.map((g, i) => {
    if (!isObject(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights) || !g.paths.every((p) => typeof p === 'string')) {
      throw new ModelFormatError('TFJS_BAD_MANIFEST', `${source}: weightsManifest[${i}] needs string paths[] and weights[]`);
    }
    for (const w of g.weights) {
      if (!isObject(w) || typeof w.name !== 'string' || !Array.isArray(w.shape) || typeof w.dtype !== 'string') {
        throw new ModelFormatError('TFJS_BAD_MANIFEST', `${source}: weightsManifest[${i}] has an entry without name/shape/dtype`);
      }
    }
    return { paths: g.paths as string[], weights: g.weights as TfjsWeightSpec[] };
  });
}

/** Resolves a manifest path against the model folder, refusing anything that leaves it. */
function shardPath(dir: string, p: string, source: string): string {
  const full = resolve(dir, p);
  if (!full.startsWith(resolve(dir) + sep)) throw new ModelFormatError('TFJS_BAD_MANIFEST', `${source}: shard path ${p} leaves the model folder`);
  return full;
}

function readShard(dir: string, p: string, bundled: boolean, source: string): Uint8Array {
  if (!bundled) {
    const file = shardPath(dir, p, source);
    if (!existsSync(file)) throw new ModelFormatError('TFJS_FILE_MISSING', `${source}: weight shard ${file} is missing`);
    if (statSync(file).size > MAX_FILE_BYTES) throw new ModelFormatError('TFJS_FILE_TOO_LARGE', `${file} is too large`);
    return new Uint8Array(readFileSync(file));
  }
  const file = shardPath(dir, `${p}.min.js`, source);
  if (!existsSync(file)) throw new ModelFormatError('TFJS_FILE_MISSING', `${source}: weight bundle ${file} is missing`);
  const lit = bundleExportLiteral(readText(file), file);
  if (typeof lit !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(lit) || lit.length % 4 !== 0) {
    throw new ModelFormatError('TFJS_BAD_BUNDLE', `${file}: the exported value is not a base64 string`);
  }
  return new Uint8Array(Buffer.from(lit, 'base64'));
}

/**
 * Reads a TF.js model: `path` is a `model.json`, an nsfwjs-style `model.min.js` bundle, or a folder
 * holding one of them.
 * @throws ModelFormatError `TFJS_FILE_MISSING`, `TFJS_FILE_TOO_LARGE`, `TFJS_BAD_JSON` (not JSON /
 *   no modelTopology), `TFJS_BAD_BUNDLE`, `TFJS_BAD_LITERAL`, `TFJS_BAD_MANIFEST`,
 *   `TFJS_WEIGHTS_TRUNCATED`, `TFJS_WEIGHTS_TRAILING`
 */
export function readTfjsModel(path: string): TfjsModel {
  let file = path;
  if (existsSync(path) && statSync(path).isDirectory()) {
    const cands = ['model.json', 'model.min.js'].map((f) => join(path, f)).filter((f) => existsSync(f));
    if (cands.length === 0) throw new ModelFormatError('TFJS_FILE_MISSING', `${path}: no model.json or model.min.js in this folder`);
    file = cands[0]!;
  }
  const text = readText(file);
  const bundled = file.endsWith('.js');
  let json: JsLiteral | unknown;
  if (bundled) json = bundleExportLiteral(text, file);
  else {
    try {
      json = JSON.parse(text) as unknown;
    } catch (e) {
      throw new ModelFormatError('TFJS_BAD_JSON', `${file}: not JSON: ${(e as Error).message}`, { cause: e });
    }
  }
  if (!isObject(json) || !isObject(json.modelTopology)) {
    throw new ModelFormatError('TFJS_BAD_JSON', `${file}: no modelTopology object (is this a TF.js model.json?)`);
  }
  const topology = json.modelTopology;
  const kind = isObject(topology.model_config) ? 'layers-model' : Array.isArray(topology.node) ? 'graph-model' : undefined;
  if (!kind) throw new ModelFormatError('TFJS_BAD_JSON', `${file}: modelTopology has neither model_config (layers) nor node (graph)`);
  const manifest = parseManifest(json, file);
  const dir = dirname(resolve(file));
  const shards = manifest.flatMap((g) => g.paths.map((p) => readShard(dir, p, bundled, basename(file))));
  const total = shards.reduce((a, s) => a + s.length, 0);
  const data = new Uint8Array(total);
  let off = 0;
  for (const s of shards) {
    data.set(s, off);
    off += s.length;
  }
  const weights = decodeTfjsWeights(data, manifest.flatMap((g) => g.weights));
  return { kind, topology, manifest, weights, shardBytes: total, source: file };
}
