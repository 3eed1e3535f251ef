/**
 * A language-model brick: a GGUF decoder (src/models/load.ts) generating greedily from a prompt
 * built from its text inputs, on `cpu` or `wasm`, hosted in a worker thread
 * (src/bricks/worker-brick.ts). Its cost (src/bricks/brick.ts BrickCost with prefill/decode
 * phases) is derived from the GGUF tensor table and hyperparameters alone.
 *
 * Ports: text inputs named in `template` (e.g. `{ocr}` and `{prompt}`, default just `prompt`);
 * outputs `text` (the answer), `tokens` (generated ids) and `prompt_tokens` (int32 `[1]`, the prompt
 * length after templating, so a caller can price the query exactly).
 */
import { RequestError } from '../core/errors.js';
import { typeName } from '../core/ggml-type.js';
import type { GGUFFile } from '../formats/gguf/reader.js';
import { baseConfigFromGGUF } from '../models/gguf-config.js';
import type { Brick, BrickCost, BrickCostPhase, MatmulWork, PortValue, PortValues } from './brick.js';
import type { HostOptions } from './matmul-brick.js';

/** An LM brick. */
export interface LmBrickSpec {
  readonly kind: 'lm';
  readonly name: string;
  /** GGUF path. */
  readonly model: string;
  /** Tokens generated per query (greedy; generation also stops at end-of-generation). */
  readonly maxTokens: number;
  /** Prompt template: `{port}` is replaced by that text input (default `{prompt}`). */
  readonly template?: string;
  /** Apply the model's chat template (default true). */
  readonly chat?: boolean;
  /** KV cache size in tokens (default 1024). */
  readonly contextSize?: number;
  /**
   * Image input: when the inputs hold `embeddings` (float32 `[n, d]`, all tiles in LM order) and
   * `grid` (int32 `[rows, cols]`, `[0, 0]` = not split) from a vision brick, they enter the prompt
   * as one image (src/multimodal chunking, mtmd layout of this projector).
   */
  readonly image?: { readonly projector: string; readonly nEmbdOut: number };
}

/** The decoder dimensions the cost needs. */
export interface LmShape {
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  headDimK: number;
  headDimV: number;
  nVocab: number;
  /** Grouped matmuls of one token through every layer and the output head (nTok = 1, count per forward). */
  layerMatmuls: { dtype: string; nOut: number; nIn: number; count: number }[];
  outputMatmul: { dtype: string; nOut: number; nIn: number };
  /** Bytes of all tensors (resident weights). */
  weightBytes: number;
}

const MATMUL_NAME = /^blk\.\d+\.(attn_q|attn_k|attn_v|attn_output|attn_qkv|ffn_gate|ffn_up|ffn_down|ffn_gate_up)\.weight$/;

/**
 * Reads the LM's matmul shapes from a GGUF tensor table (ggml dims: `[nIn, nOut]`; output head
 * `output.weight`, or `token_embd.weight` when tied).
 * Hyperparameters come from {@link baseConfigFromGGUF} (llama.cpp's keys and defaults).
 * @throws RequestError `BAD_MODEL` when the file has no block matmuls; ModelFormatError
 *   `BAD_HPARAMS` (and the reader's missing-key errors) for unusable hyperparameters.
 */
export function lmShapeFromGGUF(file: GGUFFile): LmShape {
  const { nLayer, nHead, nHeadKv, headDimK, headDimV } = baseConfigFromGGUF(file, file.getString('general.architecture'));
  const groups = new Map<string, { dtype: string; nOut: number; nIn: number; count: number }>();
  let weightBytes = 0;
  for (const t of file.tensors) {
    weightBytes += t.nbytes;
    if (!MATMUL_NAME.test(t.name)) continue;
    const dtype = typeName(t.type);
    const key = `${dtype}:${t.dims[1]}:${t.dims[0]}`;
    const g = groups.get(key) ?? { dtype, nOut: t.dims[1]!, nIn: t.dims[0]!, count: 0 };
    g.count++;
    groups.set(key, g);
  }
  if (!groups.size) throw new RequestError('BAD_MODEL', `${file.source}: no transformer block matmuls found`);
  const out = file.tensor('output.weight') ?? file.tensor('token_embd.weight');
  if (!out) throw new RequestError('BAD_MODEL', `${file.source}: no output head`);
  return {
    nLayer, nHead, nHeadKv, headDimK, headDimV, nVocab: out.dims[1]!,
    layerMatmuls: [...groups.values()], outputMatmul: { dtype: typeName(out.type), nOut: out.dims[1]!, nIn: out.dims[0]! }, weightBytes,
  };
}

/**
 * Cost of one query: prefill of `promptTokens` (one forward of that many tokens; logits of the
 * last token only, as llama.cpp) and `genTokens` decode steps of one token each. Attention:
 * QKᵀ and AV over the cached positions, 2·(dK + dV)·nHead FLOPs per query/key pair, K/V read in
 * float32 each decode step. Launches: ≈ 14 kernel calls per layer per forward.
 */
export function lmCost(s: LmShape, promptTokens: number, genTokens: number, contextSize = 1024): BrickCost {
  const attnPair = 2 * (s.headDimK + s.headDimV) * s.nHead * s.nLayer;
  const kvPerPos = s.nLayer * s.nHeadKv * (s.headDimK + s.headDimV) * 4;
  const wLayer = (nTok: number, mul: number): MatmulWork[] => s.layerMatmuls.map((m) => ({ ...m, nTok, count: m.count * mul }));
  const mmFlops = (ws: readonly MatmulWork[]): number => ws.reduce((a, w) => a + 2 * w.count * w.nOut * w.nIn * w.nTok, 0);
  const P = Math.max(1, promptTokens);
  const preMm: MatmulWork[] = [...wLayer(P, 1), { ...s.outputMatmul, nTok: 1, count: 1 }];
  const prefill: BrickCostPhase = {
    name: 'prefill', tokens: P,
    flops: mmFlops(preMm) + (attnPair * P * (P + 1)) / 2,
    bytesMoved: s.weightBytes + P * kvPerPos,
    matmuls: preMm, launches: 14 * s.nLayer + 4,
  };
  const G = Math.max(0, genTokens);
  const decMm: MatmulWork[] = [...wLayer(1, G), { ...s.outputMatmul, nTok: 1, count: G }];
  let attnFlops = 0, kvBytes = 0;
  for (let i = 0; i < G; i++) {
    attnFlops += attnPair * (P + i + 1);
    kvBytes += kvPerPos * (P + i + 1);
  }
  const decode: BrickCostPhase = {
    name: 'decode', tokens: G,
    flops: mmFlops(decMm) + attnFlops,
    bytesMoved: G * s.weightBytes + kvBytes + G * s.nVocab * 4 * 3,
    matmuls: decMm, launches: G * (14 * s.nLayer + 4),
  };
  return {
    flops: prefill.flops + decode.flops, bytesMoved: prefill.bytesMoved + decode.bytesMoved,
    memoryBytes: s.weightBytes + contextSize * kvPerPos, outputBytes: G * 8 + 256,
    phases: G ? [prefill, decode] : [prefill],
  };
}

/** Fills `{port}` placeholders from text inputs. @throws RequestError when one is missing. */
export function fillTemplate(template: string, inputs: PortValues): string {
  return template.replace(/\{([A-Za-z0-9_-]+)\}/g, (_m, port: string) => {
    const v = inputs[port];
    if (!v || v.kind !== 'text') throw new RequestError('BAD_INPUT', `LM prompt template needs text port '${port}'`);
    return v.text;
  });
}

/**
 * An image encoder that hands back embeddings a vision brick already computed (split into its
 * tiles: rows·cols + 1 overview when `grid` is set, else one), or null without image inputs.
 */
function imageInput(spec: LmBrickSpec, inputs: PortValues): import('../multimodal/chunks.js').ImageEncoder | null {
  const e = inputs.embeddings;
  if (!e || e.kind !== 'embeddings' || !spec.image) return null;
  const g = inputs.grid;
  const rows = g && g.kind === 'tensor' ? Number(g.data[0]) : 0;
  const cols = g && g.kind === 'tensor' ? Number(g.data[1]) : 0;
  const nTiles = rows > 0 && cols > 0 ? rows * cols + 1 : 1;
  const [n, d] = e.shape;
  if (n % nTiles !== 0) throw new RequestError('BAD_INPUT', `embeddings rows ${n} do not split into ${nTiles} tiles`);
  const per = n / nTiles;
  const tiles = Array.from({ length: nTiles }, (_, i) => ({
    kind: 'embeddings' as const, data: e.data.subarray(i * per * d, (i + 1) * per * d), shape: [per, d] as const,
  }));
  return {
    projector: spec.image.projector, nEmbdOut: spec.image.nEmbdOut,
    encode: async () => ({ tiles, ...(nTiles > 1 ? { grid: { rows, cols } } : {}) }),
  };
}

/** The LM running on one device (inside a worker). */
export class LmHost {
  private constructor(private readonly spec: LmBrickSpec, private readonly model: import('../models/load.js').LoadedModel) {}

  /** Loads the model with the device's kernels. @throws as loadModel. */
  static async create(spec: LmBrickSpec, device: 'cpu' | 'wasm', opts: HostOptions = {}): Promise<LmHost> {
    const { loadModel } = await import('../models/load.js');
    if (device === 'cpu' && opts.kernelPath) (await import('../backends/cpu/native.js')).native().setPath(opts.kernelPath);
    const model = await loadModel(spec.model, { backend: device, threads: opts.threads ?? 1, contextSize: spec.contextSize ?? 1024 });
    return new LmHost(spec, model);
  }

  /** Greedy generation for one query. */
  async run(inputs: PortValues): Promise<Record<string, PortValue>> {
    const { generateText } = await import('../generation/generate.js');
    const prompt = fillTemplate(this.spec.template ?? '{prompt}', inputs);
    const img = imageInput(this.spec, inputs);
    const r = await generateText(this.model, {
      prompt, chat: this.spec.chat ?? true, maxTokens: this.spec.maxTokens, temperature: 0, seed: 1,
      ...(img ? { images: [new Uint8Array(0)], vision: img } : {}),
    });
    return {
      text: { kind: 'text', text: r.text }, tokens: { kind: 'tokens', data: Int32Array.from(r.tokens) },
      prompt_tokens: { kind: 'tensor', dtype: 'i32', data: Int32Array.of(r.promptTokens), shape: [1] },
    };
  }
}

/**
 * The LM brick on `device` (`cpu` or `wasm`, worker-hosted). `cost(inputs)` estimates the prompt
 * length as characters / 4 + 16 template tokens unless a `tokens` input gives it.
 * @throws BackendError when the device cannot start; ModelFormatError for a bad GGUF.
 */
export async function createLmBrick(spec: LmBrickSpec, device: string, opts: HostOptions = {}): Promise<Brick> {
  const { openGGUF } = await import('../formats/gguf/reader.js');
  const shape = lmShapeFromGGUF(openGGUF(spec.model));
  const { WorkerBrick } = await import('./worker-brick.js');
  return WorkerBrick.start({
    name: spec.name, device,
    inputs: [{ name: 'prompt', kind: 'text' }],
    outputs: [{ name: 'text', kind: 'text' }, { name: 'tokens', kind: 'tokens' }, { name: 'prompt_tokens', kind: 'tensor', shape: [1] }],
    cost: (inputs) => {
      let chars = 0;
      for (const v of Object.values(inputs)) if (v.kind === 'text') chars += v.text.length;
      return lmCost(shape, Math.ceil(chars / 4) + 16, spec.maxTokens, spec.contextSize ?? 1024);
    },
    hosted: { spec, device, opts },
  });
}
