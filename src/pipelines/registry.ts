/**
 * Brick types a pipeline file may name. Each type declares its ports (possibly depending on its
 * options), the devices it can run on, validates its options, and creates the brick lazily (so
 * validating a pipeline loads no model, no ONNX Runtime and no native code).
 *
 * Types: `image.decode` (cpu), `ocr.det` / `ocr.rec` (onnx: PP-OCRv4 through ONNX Runtime),
 * `text.template` (cpu), `llm.generate` (cpu | wasm: SynFlux's decoder; webgpu: the same decoder in
 * WGSL in a headless Chromium page, ./bricks/llm-generate-webgpu.ts).
 */
import { PipelineError } from '../core/errors.js';
import type { Brick, PortSpec } from '../bricks/brick.js';

/** What a brick factory gets. */
export interface BrickContext {
  readonly name: string;
  readonly device: string;
  readonly options: Readonly<Record<string, unknown>>;
  /** Progress / log lines (stderr in the CLI). */
  readonly log?: (msg: string) => void;
}

/** A registered brick type. */
export interface BrickType {
  readonly type: string;
  readonly description: string;
  /** Devices the type runs on; the first is the default. */
  readonly devices: readonly string[];
  /** Input ports for these options. */
  inputs(options: Readonly<Record<string, unknown>>): readonly PortSpec[];
  /** Output ports for these options. */
  outputs(options: Readonly<Record<string, unknown>>): readonly PortSpec[];
  /**
   * Checks the options.
   * @throws PipelineError (`PIPELINE_BAD_OPTION`) naming `where` (e.g. `bricks[2].options.template`).
   */
  validateOptions(options: Readonly<Record<string, unknown>>, where: string): void;
  /** Creates the brick (loads weights / sessions). */
  create(ctx: BrickContext): Promise<Brick>;
}

type Opts = Readonly<Record<string, unknown>>;
type OptKind = 'number' | 'integer' | 'string' | 'boolean' | 'string[]';

/**
 * Checks `options` against a table of allowed keys and their kinds (and optional ranges).
 * @throws PipelineError (`PIPELINE_BAD_OPTION`) for an unknown key or a value of the wrong kind.
 */
export function checkOptions(options: Opts, where: string, table: Record<string, { kind: OptKind; min?: number; max?: number; values?: readonly string[] }>): void {
  for (const [k, v] of Object.entries(options)) {
    const t = table[k];
    const at = `${where}.${k}`;
    if (!t) throw new PipelineError('PIPELINE_BAD_OPTION', `${at}: unknown option (known: ${Object.keys(table).join(', ') || 'none'})`);
    const fail = (what: string): never => {
      throw new PipelineError('PIPELINE_BAD_OPTION', `${at}: ${what}, got ${JSON.stringify(v)}`);
    };
    switch (t.kind) {
      case 'number':
      case 'integer':
        if (typeof v !== 'number' || !Number.isFinite(v) || (t.kind === 'integer' && !Number.isInteger(v))) fail(`must be ${t.kind === 'integer' ? 'an integer' : 'a number'}`);
        if ((t.min !== undefined && (v as number) < t.min) || (t.max !== undefined && (v as number) > t.max)) fail(`must be in [${t.min ?? '-inf'}, ${t.max ?? 'inf'}]`);
        break;
      case 'string':
        if (typeof v !== 'string' || v === '') fail('must be a non-empty string');
        if (t.values && !t.values.includes(v as string)) fail(`must be one of ${t.values.join(', ')}`);
        break;
      case 'boolean':
        if (typeof v !== 'boolean') fail('must be true or false');
        break;
      case 'string[]':
        if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' || x === '')) fail('must be a non-empty array of strings');
        break;
    }
  }
}

/** Placeholders `{name}` of a template, in order of first appearance. */
export function templateFields(template: string): string[] {
  const out: string[] = [];
  for (const m of template.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) if (!out.includes(m[1]!)) out.push(m[1]!);
  return out;
}

const ONNX_OPTS = {
  executionProviders: { kind: 'string[]' },
  threads: { kind: 'integer', min: 1, max: 1024 },
  modelPath: { kind: 'string' },
} as const;

const TYPES: BrickType[] = [
  {
    type: 'image.decode',
    description: 'reads a JPEG/PNG/WebP file into RGB uint8 [H, W, 3]',
    devices: ['cpu'],
    inputs: () => [{ name: 'path', kind: 'text' }],
    outputs: () => [{ name: 'image', kind: 'tensor', shape: ['h', 'w', 3] }],
    validateOptions: (o, w) => checkOptions(o, w, { maxPixels: { kind: 'integer', min: 1 } }),
    create: async (ctx) => (await import('./bricks/image-decode.js')).ImageDecodeBrick.create(ctx),
  },
  {
    type: 'ocr.det',
    description: 'PP-OCRv4 text detector (DB) on ONNX Runtime: RGB image → text boxes [n, 4, 2]',
    devices: ['onnx'],
    inputs: () => [{ name: 'image', kind: 'tensor', shape: ['h', 'w', 3] }],
    outputs: () => [{ name: 'boxes', kind: 'tensor', shape: ['n', 4, 2] }],
    validateOptions: (o, w) =>
      checkOptions(o, w, {
        ...ONNX_OPTS,
        limitSideLen: { kind: 'integer', min: 32, max: 8192 },
        limitType: { kind: 'string', values: ['max', 'min'] },
        thresh: { kind: 'number', min: 0, max: 1 },
        boxThresh: { kind: 'number', min: 0, max: 1 },
        unclipRatio: { kind: 'number', min: 0, max: 10 },
      }),
    create: async (ctx) => (await import('../models/ocr/bricks.js')).OcrDetBrick.create(ctx),
  },
  {
    type: 'ocr.rec',
    description: 'PP-OCRv4 text recognizer (CTC) on ONNX Runtime: image + boxes → text lines',
    devices: ['onnx'],
    inputs: () => [
      { name: 'image', kind: 'tensor', shape: ['h', 'w', 3] },
      { name: 'boxes', kind: 'tensor', shape: ['n', 4, 2] },
    ],
    outputs: () => [{ name: 'text', kind: 'text' }],
    validateOptions: (o, w) =>
      checkOptions(o, w, {
        ...ONNX_OPTS,
        dictPath: { kind: 'string' },
        batchSize: { kind: 'integer', min: 1, max: 256 },
        dropScore: { kind: 'number', min: 0, max: 1 },
        useAngleCls: { kind: 'boolean' },
      }),
    create: async (ctx) => (await import('../models/ocr/bricks.js')).OcrRecBrick.create(ctx),
  },
  {
    type: 'text.template',
    description: 'fills {field} placeholders of a template with text inputs of the same names',
    devices: ['cpu'],
    inputs: (o) => templateFields(typeof o.template === 'string' ? o.template : '').map((name) => ({ name, kind: 'text' as const })),
    outputs: () => [{ name: 'text', kind: 'text' }],
    validateOptions: (o, w) => {
      checkOptions(o, w, { template: { kind: 'string' } });
      if (typeof o.template !== 'string') throw new PipelineError('PIPELINE_BAD_OPTION', `${w}.template: required`);
    },
    create: async (ctx) => (await import('./bricks/text-template.js')).TextTemplateBrick.create(ctx),
  },
  {
    type: 'llm.generate',
    description: 'SynFlux language model (GGUF) generating an answer to a prompt',
    devices: ['cpu', 'wasm', 'webgpu'],
    inputs: () => [{ name: 'prompt', kind: 'text' }],
    outputs: () => [{ name: 'text', kind: 'text' }],
    validateOptions: (o, w) =>
      checkOptions(o, w, {
        model: { kind: 'string' },
        chat: { kind: 'boolean' },
        system: { kind: 'string' },
        maxTokens: { kind: 'integer', min: -1 },
        temperature: { kind: 'number', min: 0 },
        topK: { kind: 'integer', min: 0 },
        topP: { kind: 'number', min: 0, max: 1 },
        minP: { kind: 'number', min: 0, max: 1 },
        seed: { kind: 'integer', min: 0, max: 0xffffffff },
        threads: { kind: 'integer', min: 1, max: 1024 },
        contextSize: { kind: 'integer', min: 1 },
      }),
    create: async (ctx) =>
      ctx.device === 'webgpu'
        ? (await import('./bricks/llm-generate-webgpu.js')).LlmGenerateWebGPUBrick.create(ctx)
        : (await import('./bricks/llm-generate.js')).LlmGenerateBrick.create(ctx),
  },
];

const REGISTRY = new Map<string, BrickType>(TYPES.map((t) => [t.type, t]));

/** The brick type registered under `type`, or undefined. */
export function brickType(type: string): BrickType | undefined {
  return REGISTRY.get(type);
}

/** All registered type names. */
export function brickTypeNames(): string[] {
  return [...REGISTRY.keys()];
}

/**
 * Registers another brick type (library users, tests).
 * @throws PipelineError (`PIPELINE_DUPLICATE_TYPE`) when the name is taken.
 */
export function registerBrickType(t: BrickType): void {
  if (REGISTRY.has(t.type)) throw new PipelineError('PIPELINE_DUPLICATE_TYPE', `brick type ${t.type} is already registered`);
  REGISTRY.set(t.type, t);
}
