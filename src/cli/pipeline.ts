/**
 * `synflux run --pipeline FILE --image PATH… --prompt TEXT [--place brick=device,…] [--sequential]
 * [--stream-depth N] [--worker BRICK…] [--json]`: runs a pipeline file (src/pipelines) on the
 * brick executor (src/pipelines/runner.ts → src/bricks/executor.ts). The pipeline's declared
 * inputs are filled from the flags: `image` ← `--image`, `prompt` ← `--prompt`. `--model`,
 * `--threads`, `--ctx-size` and the sampling flags override the options of every `llm.generate`
 * brick.
 *
 * One `--image`: one run. stdout: the `answer` output (else the first text output), or with
 * `--json` one object `{pipeline, answer, ocr_text, outputs, placement, lines, timings: {total_ms,
 * bricks: {BRICK: ms}, load_ms, load: {BRICK: ms}}}`; brick loading and timings are logged on
 * stderr.
 *
 * Several `--image`s: the images run as one stream with the same prompt, pipelined (each brick a
 * stage, queues of `--stream-depth` items, default 2, so e.g. OCR of image t+1 overlaps the
 * language model answering image t), or one image at a time with `--sequential` (the baseline for
 * the same placement). ONNX Runtime and the native kernels compute on their calling thread, so
 * bricks overlap only when some run off the main thread: `--worker BRICK…` hosts those bricks each
 * in a worker thread (`--worker none`: none); by default a stream of several images hosts its
 * `llm.generate` bricks in workers, in both modes so they stay comparable (a single image runs
 * every brick on the main thread). Each item is printed as soon as it completes, in input order:
 * text mode writes one block `== IMAGE ==` + answer per image; `--json` writes one line per item
 * (the single-run object plus `index` and `image`; `timings.total_ms` is the item's latency from
 * being read to its answer, queue waits included) and then one line `{summary: {items, wall_ms,
 * ms_per_item, mode, depth, workers}}` (wall time of the stream, loading excluded).
 */
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RequestError } from '../core/errors.js';
import type { PortValue } from '../bricks/brick.js';
import type { PipelineResult } from '../pipelines/runner.js';
import { log, type CliIO } from './io.js';
import { parseGenerationOptions, parseModelOptions } from './options.js';
import type { RawRunOptions } from './run.js';

/** The `--json` object of a pipeline run. */
export interface PipelineRunJson {
  pipeline: string;
  /** Output `answer`, when the pipeline has one. */
  answer?: string;
  /** Output `ocr_text`, when the pipeline has one. */
  ocr_text?: string;
  /** Every text output by name. */
  outputs: Record<string, string>;
  /** Brick → device used. */
  placement: Record<string, string>;
  /** Recognized lines of `ocr.rec` bricks (text, confidence, box corners). */
  lines?: { text: string; score: number; box: number[][] }[];
  /** Position in the stream (several `--image`s only). */
  index?: number;
  /** The item's `--image` (several `--image`s only). */
  image?: string;
  timings: {
    /** Execution of all bricks (excluding loading), ms. */
    total_ms: number;
    /** Per-brick execution, ms. */
    bricks: Record<string, number>;
    /** Loading of all bricks, ms. */
    load_ms: number;
    /** Per-brick loading, ms. */
    load: Record<string, number>;
  };
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

/** The `--json` summary line of a stream (several `--image`s). */
export interface PipelineStreamSummaryJson {
  summary: {
    items: number;
    /** Wall time of the whole stream, loading excluded, ms. */
    wall_ms: number;
    /** `wall_ms / items`, ms. */
    ms_per_item: number;
    mode: 'pipelined' | 'sequential';
    /** Queue depth between stages (pipelined mode). */
    depth: number;
    /** Bricks hosted in worker threads. */
    workers: string[];
  };
}

/** Raw options of `synflux run --pipeline`. */
export type RawPipelineOptions = RawRunOptions & { pipeline?: string; place?: string[]; sequential?: boolean; streamDepth?: string; worker?: string[] };

/**
 * Runs `synflux run --pipeline`.
 * @throws PipelineError (bad file, bad `--place`), RequestError (`BAD_OPTION`: missing --image /
 *   --prompt for a declared input, a bad `--stream-depth`), and the errors of the bricks
 *   (ImageError, BackendError, …); in a stream the first failing item ends it (items before it
 *   are already printed).
 */
export async function pipelineCommand(raw: RawPipelineOptions, io: CliIO): Promise<void> {
  const { loadPipelineFile, parsePlacement } = await import('../pipelines/validate.js');
  const { createPipeline } = await import('../pipelines/runner.js');
  const place = parsePlacement(raw.place ?? []);
  const p = loadPipelineFile(raw.pipeline!, place);
  const images = raw.image ?? [];
  if (raw.mmproj !== undefined) throw new RequestError('BAD_OPTION', '--mmproj does not apply to --pipeline');
  const depth = raw.streamDepth === undefined ? 2 : Number(raw.streamDepth);
  if (!Number.isInteger(depth) || depth < 1) throw new RequestError('BAD_OPTION', `--stream-depth must be an integer ≥ 1, got ${JSON.stringify(raw.streamDepth)}`);
  const needsImage = Object.prototype.hasOwnProperty.call(p.spec.inputs, 'image');
  if (images.length > 1 && !needsImage) throw new RequestError('BAD_OPTION', `pipeline ${p.spec.name} has no 'image' input; several --image make no stream`);
  const inputsFor = (image: string | undefined): Record<string, PortValue> => {
    const inputs: Record<string, PortValue> = {};
    for (const [name, decl] of Object.entries(p.spec.inputs)) {
      const v = name === 'image' ? image : name === 'prompt' ? raw.prompt : undefined;
      if (v === undefined) throw new RequestError('BAD_OPTION', `pipeline ${p.spec.name} needs input '${name}' (${decl.description ?? decl.kind}): pass --${name}`);
      if (decl.kind !== 'text') throw new RequestError('BAD_OPTION', `pipeline input '${name}' has kind ${decl.kind}; the CLI supplies text only`);
      inputs[name] = { kind: 'text', text: v };
    }
    return inputs;
  };
  const items = (images.length > 0 ? images : [undefined]).map((img) => ({ image: img, inputs: inputsFor(img) }));
  // CLI flags override every language-model brick's options.
  const gen = parseGenerationOptions(raw);
  const mo = parseModelOptions(raw);
  const lmOverride: Record<string, unknown> = {
    ...(mo.model !== undefined ? { model: mo.model } : {}),
    ...(mo.threads !== undefined ? { threads: mo.threads } : {}),
    ...(mo.contextSize !== undefined ? { contextSize: mo.contextSize } : {}),
    ...(gen.maxTokens !== undefined ? { maxTokens: gen.maxTokens } : {}),
    ...(gen.temperature !== undefined ? { temperature: gen.temperature } : {}),
    ...(gen.topK !== undefined ? { topK: gen.topK } : {}),
    ...(gen.topP !== undefined ? { topP: gen.topP } : {}),
    ...(gen.minP !== undefined ? { minP: gen.minP } : {}),
    ...(gen.seed !== undefined ? { seed: gen.seed } : {}),
    ...(raw.system !== undefined ? { system: raw.system } : {}),
  };
  const overrides: Record<string, Record<string, unknown>> = {};
  if (Object.keys(lmOverride).length > 0) for (const b of p.spec.bricks) if (b.type === 'llm.generate') overrides[b.name] = lmOverride;

  // Worker threads: as given by --worker (`none`: no brick); by default a stream of several images
  // hosts its language-model bricks in workers (in both modes), so pipelining has something to
  // overlap; a single run keeps every brick on the main thread.
  const listed = (raw.worker ?? []).flatMap((w) => w.split(',')).map((w) => w.trim()).filter((w) => w !== '');
  const workers = raw.worker !== undefined
    ? listed.filter((w) => w !== 'none')
    : items.length > 1 ? p.spec.bricks.filter((b) => b.type === 'llm.generate').map((b) => b.name) : [];
  const loaded = await createPipeline(p, { overrides, depth, workers, log: (m) => log(io, m) });
  const loadTotal = Object.values(loaded.loadMs).reduce((a, b) => a + b, 0);
  const load = Object.fromEntries(Object.entries(loaded.loadMs).map(([k, v]) => [k, round(v)]));
  const toJson = (r: PipelineResult): PipelineRunJson => {
    const outputs = textOutputs(r);
    return {
      pipeline: p.spec.name,
      ...(outputs.answer !== undefined ? { answer: outputs.answer } : {}),
      ...(outputs.ocr_text !== undefined ? { ocr_text: outputs.ocr_text } : {}),
      outputs,
      placement: { ...p.placement, ...r.devices },
      ...(r.lines && r.lines.length > 0 ? { lines: r.lines.map((l) => ({ text: l.text, score: round(l.score), box: l.box.map((q) => [q.x, q.y]) })) } : {}),
      timings: { total_ms: round(r.timings.total_ms), bricks: brickMs(r), load_ms: round(loadTotal), load },
    };
  };
  const logTimings = (r: PipelineResult, label: string): void => {
    const summary = Object.entries(brickMs(r)).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(' | ');
    log(io, `pipeline ${label}: total ${r.timings.total_ms.toFixed(0)} ms (${summary}); load ${loadTotal.toFixed(0)} ms`);
  };
  try {
    if (items.length === 1) {
      const r = await loaded.run(items[0]!.inputs);
      logTimings(r, p.spec.name);
      if (raw.json) io.stdout.write(`${JSON.stringify(toJson(r))}\n`);
      else {
        const outputs = textOutputs(r);
        if (outputs.ocr_text !== undefined) log(io, `OCR text:\n${outputs.ocr_text}`);
        io.stdout.write(`${outputs.answer ?? Object.values(outputs)[0] ?? ''}\n`);
      }
      return;
    }
    const mode = raw.sequential ? 'sequential' : 'pipelined';
    log(io, `pipeline ${p.spec.name}: ${items.length} images, ${mode}${mode === 'pipelined' ? ` (depth ${depth})` : ''}; worker threads: ${workers.join(', ') || 'none'}`);
    const t0 = performance.now();
    let n = 0;
    for await (const r of loaded.stream(items.map((it) => it.inputs), { mode, depth })) {
      const image = items[r.index]!.image!;
      n++;
      logTimings(r, `${p.spec.name} [${r.index}] ${basename(image)}`);
      if (raw.json) io.stdout.write(`${JSON.stringify({ ...toJson(r), index: r.index, image })}\n`);
      else {
        const outputs = textOutputs(r);
        if (outputs.ocr_text !== undefined) log(io, `OCR text [${r.index}] ${basename(image)}:\n${outputs.ocr_text}`);
        io.stdout.write(`== ${image} ==\n${outputs.answer ?? Object.values(outputs)[0] ?? ''}\n`);
      }
    }
    const wall = performance.now() - t0;
    const s: PipelineStreamSummaryJson = { summary: { items: n, wall_ms: round(wall), ms_per_item: round(wall / n), mode, depth, workers } };
    log(io, `pipeline ${p.spec.name}: ${n} items ${mode} in ${wall.toFixed(0)} ms (${(wall / n).toFixed(0)} ms/item)`);
    if (raw.json) io.stdout.write(`${JSON.stringify(s)}\n`);
  } finally {
    loaded.dispose();
  }
}

/** Text outputs of a result by name. */
function textOutputs(r: PipelineResult): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.outputs)) if (v.kind === 'text') outputs[k] = v.text;
  return outputs;
}

/** Per-brick ms, rounded to µs. */
function brickMs(r: PipelineResult): Record<string, number> {
  return Object.fromEntries(Object.entries(r.timings.bricks).map(([k, v]) => [k, round(v)]));
}
