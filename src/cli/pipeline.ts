/**
 * `synflux run --pipeline FILE --image PATH --prompt TEXT [--place brick=device,…] [--json]`:
 * runs a pipeline file (src/pipelines) once. The pipeline's declared inputs are filled from the
 * flags: `image` ← `--image`, `prompt` ← `--prompt`. `--model`, `--threads`, `--ctx-size` and the
 * sampling flags override the options of every `llm.generate` brick.
 *
 * stdout: the `answer` output (else the first text output), or with `--json` one object
 * `{pipeline, answer, ocr_text, outputs, placement, lines, timings: {total_ms, bricks: {BRICK: ms},
 * load_ms, load: {BRICK: ms}}}`; brick loading and timings are logged on stderr.
 */
import { RequestError } from '../core/errors.js';
import type { PortValue } from '../bricks/brick.js';
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

/**
 * Runs `synflux run --pipeline`.
 * @throws PipelineError (bad file, bad `--place`), RequestError (`BAD_OPTION`: missing --image /
 *   --prompt for a declared input, several --image), and the errors of the bricks (ImageError,
 *   BackendError, …).
 */
export async function pipelineCommand(raw: RawRunOptions & { pipeline?: string; place?: string[] }, io: CliIO): Promise<void> {
  const { loadPipelineFile, parsePlacement } = await import('../pipelines/validate.js');
  const { createPipeline } = await import('../pipelines/runner.js');
  const place = parsePlacement(raw.place ?? []);
  const p = loadPipelineFile(raw.pipeline!, place);
  const images = raw.image ?? [];
  if (images.length > 1) throw new RequestError('BAD_OPTION', `--pipeline takes one --image, got ${images.length}`);
  if (raw.mmproj !== undefined) throw new RequestError('BAD_OPTION', '--mmproj does not apply to --pipeline');
  const inputs: Record<string, PortValue> = {};
  for (const [name, decl] of Object.entries(p.spec.inputs)) {
    const v = name === 'image' ? images[0] : name === 'prompt' ? raw.prompt : undefined;
    if (v === undefined) throw new RequestError('BAD_OPTION', `pipeline ${p.spec.name} needs input '${name}' (${decl.description ?? decl.kind}): pass --${name}`);
    if (decl.kind !== 'text') throw new RequestError('BAD_OPTION', `pipeline input '${name}' has kind ${decl.kind}; the CLI supplies text only`);
    inputs[name] = { kind: 'text', text: v };
  }
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

  const loaded = await createPipeline(p, { overrides, log: (m) => log(io, m) });
  try {
    const r = await loaded.run(inputs);
    const outputs: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.outputs)) if (v.kind === 'text') outputs[k] = v.text;
    const lines: NonNullable<PipelineRunJson['lines']> = [];
    for (const b of loaded.bricks.values()) {
      const ll = (b as { lastLines?: { text: string; score: number; box: readonly { x: number; y: number }[] }[] }).lastLines;
      if (ll) for (const l of ll) lines.push({ text: l.text, score: round(l.score), box: l.box.map((q) => [q.x, q.y]) });
    }
    const loadTotal = Object.values(loaded.loadMs).reduce((a, b) => a + b, 0);
    const brickMs = Object.fromEntries(Object.entries(r.timings.bricks).map(([k, v]) => [k, round(v)]));
    const summary = Object.entries(brickMs).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(' | ');
    log(io, `pipeline ${p.spec.name}: total ${r.timings.total_ms.toFixed(0)} ms (${summary}); load ${loadTotal.toFixed(0)} ms`);
    if (raw.json) {
      const out: PipelineRunJson = {
        pipeline: p.spec.name,
        ...(outputs.answer !== undefined ? { answer: outputs.answer } : {}),
        ...(outputs.ocr_text !== undefined ? { ocr_text: outputs.ocr_text } : {}),
        outputs,
        placement: { ...p.placement },
        ...(lines.length > 0 ? { lines } : {}),
        timings: {
          total_ms: round(r.timings.total_ms),
          bricks: brickMs,
          load_ms: round(loadTotal),
          load: Object.fromEntries(Object.entries(loaded.loadMs).map(([k, v]) => [k, round(v)])),
        },
      };
      io.stdout.write(`${JSON.stringify(out)}\n`);
    } else {
      if (outputs.ocr_text !== undefined) log(io, `OCR text:\n${outputs.ocr_text}`);
      const text = outputs.answer ?? Object.values(outputs)[0] ?? '';
      io.stdout.write(`${text}\n`);
    }
  } finally {
    loaded.dispose();
  }
}
