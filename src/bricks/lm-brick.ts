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
import { weightBytes } from './cost-model.js';
import { WEBGPU_WEIGHT_TYPES } from '../backends/webgpu/quant-wgsl.js';

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
  /** Model width and feed-forward width (0 when the GGUF has no `ffn_up`). */
  nEmbd?: number;
  nFf?: number;
}

/** Options of {@link lmCost}. */
export interface LmCostOptions {
  /**
   * Forward calls the prompt takes (default 1). A multimodal prompt is evaluated chunk by chunk
   * (src/multimodal/prompt.ts `evalChunks`: each text run and each image tile is one forward,
   * with the output head run on its last position), see {@link promptForwards}.
   */
  prefillForwards?: number;
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
  const up = file.tensor('blk.0.ffn_up.weight');
  return {
    nLayer, nHead, nHeadKv, headDimK, headDimV, nVocab: out.dims[1]!,
    layerMatmuls: [...groups.values()], outputMatmul: { dtype: typeName(out.type), nOut: out.dims[1]!, nIn: out.dims[0]! }, weightBytes,
    nEmbd: out.dims[0]!, nFf: up ? up.dims[1]! : 0,
  };
}

/**
 * Weight matrices of an LM GGUF (block matmuls, `token_embd.weight`, `output.weight`) whose type the
 * WebGPU kernels cannot read (src/backends/webgpu/quant-wgsl.ts `WEBGPU_WEIGHT_TYPES`: F32, F16,
 * BF16, Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q5_K, Q6_K), as `name:TYPE` strings; empty when every one is
 * supported.
 */
export function webgpuUnsupportedWeights(file: GGUFFile): string[] {
  const ok = new Set(WEBGPU_WEIGHT_TYPES);
  return file.tensors
    .filter((t) => (MATMUL_NAME.test(t.name) || t.name === 'token_embd.weight' || t.name === 'output.weight') && !ok.has(t.type))
    .map((t) => `${t.name}:${typeName(t.type)}`);
}

/**
 * Devices the LM brick of `file` can run on, in the planner's enumeration order: `cpu`, `wasm`,
 * and `webgpu` (src/backends/webgpu/lm-brick.ts) when the prompt has no image (the WebGPU LM
 * takes token ids only, no image embeddings) and every weight matrix has a WGSL reader
 * ({@link webgpuUnsupportedWeights}). The planner skips devices absent from the profile.
 */
export function lmDevices(file: GGUFFile, opts: { image?: boolean } = {}): string[] {
  return opts.image || webgpuUnsupportedWeights(file).length ? ['cpu', 'wasm'] : ['cpu', 'wasm', 'webgpu'];
}

/**
 * Forward calls of a prompt with one image of `tiles` tiles in the chunk layout of `projector`
 * (src/multimodal/chunks.ts, llama.cpp mtmd): Idefics3 (SmolVLM) puts each tile and the overview
 * in its own image chunk, each preceded by a text chunk (`<fake_token_around_image><row_r_col_c>`,
 * `<global-img>`), and a text chunk ends the prompt: 2·tiles + 1; other projectors: text, image,
 * text = 3; without an image 1.
 */
export function promptForwards(projector: string | undefined, tiles: number): number {
  if (!projector || tiles <= 0) return 1;
  return projector === 'idefics3' ? 2 * tiles + 1 : 3;
}

/**
 * Keys the attention kernel walks for a query when `used` positions are cached: llama.cpp pads the
 * KV length to a multiple of 256 (at least 256, at most the context), and so does
 * native/sf_attn.c `sf_attn_n_kv` (the same function serves wasm).
 */
export function attnKvLength(contextSize: number, used: number): number {
  const pad = 256;
  return Math.min(contextSize, Math.max(pad, Math.ceil(used / pad) * pad));
}

/**
 * Cost of one query: prefill of `promptTokens` in `opts.prefillForwards` forward calls (each
 * running the output head on its last position, as llama.cpp) and `genTokens` decode steps of one
 * token each. Per forward and layer the decoder (src/models/transformer.ts) calls 2 norms, the
 * fused q/k/v and gate/up matmuls, 2 more matmuls, 2 ropes, attention and the GLU (≈ 14 kernel
 * calls) with TypeScript glue between them: that fixed cost is `ops.forwardLayer` (one unit per
 * layer per forward call), priced by the profile's measurement on a synthetic decoder
 * (src/bricks/profile-ops.ts `measureForwardOverhead`, launches included, so `launches` is 0 here).
 * The size-dependent non-matmul kernels are `ops` priced per element (`rope`: rotated floats;
 * `glu`: outputs; `attention`: query·key pairs × heads × (dK + dV); `attentionRow`: query rows ×
 * heads × the padded KV length of {@link attnKvLength}; `rmsNorm`: normalized floats;
 * `elementwise`: the sampler's pass over the logits per generated token).
 *
 * Two op classes only a device behind an RPC has figures for (the `webgpu` device: Node ↔ headless
 * Chromium page, src/backends/webgpu/remote-lm.ts); cpu/wasm profiles lack them, so they cost 0
 * there (src/bricks/cost-model.ts `opsMs`) and cpu/wasm predictions are unchanged:
 * - `forwardCall`: one unit per forward call (RPC round trip + submit + fixed readback): F in the
 *   prefill, one per decode step (G, counted like the decode matmuls and `forwardLayer`; the
 *   generation loop forwards G − 1 tokens since the last sampled one is never forwarded, an
 *   over-estimate of one step shared by every device);
 * - `logitsOut`: logit floats returned to the host, `nVocab` per forward call (the last position
 *   of each prefill forward and each decode step);
 * - `attentionHead`: query rows × heads × layers (the WGSL attention kernel's fixed cost per
 *   workgroup, src/backends/webgpu/profile.ts);
 * - `attentionPair`: query·key pairs × heads × layers, the keys a query really visits (the WGSL
 *   kernel does not pad the KV length, unlike sf_attn.c whose per-row cost `attentionRow` is
 *   counted over the padded length). A webgpu profile must put its per-key figure here, not in
 *   `attentionRow` (which this count multiplies by the padded length: 256 / used too much for
 *   short contexts).
 */
export function lmCost(s: LmShape, promptTokens: number, genTokens: number, contextSize = 1024, opts: LmCostOptions = {}): BrickCost {
  const headsAttn = s.nHead * (s.headDimK + s.headDimV) * s.nLayer;
  const kvPerPos = s.nLayer * s.nHeadKv * (s.headDimK + s.headDimV) * 4;
  const wLayer = (nTok: number, mul: number): MatmulWork[] => s.layerMatmuls.map((m) => ({ ...m, nTok, count: m.count * mul }));
  const mmFlops = (ws: readonly MatmulWork[]): number => ws.reduce((a, w) => a + 2 * w.count * w.nOut * w.nIn * w.nTok, 0);
  // weights as the matmuls stream them (plus their float32 activations), so the roofline rest is the KV cache and logits
  const mmBytes = (ws: readonly MatmulWork[]): number => ws.reduce((a, w) => a + w.count * (weightBytes(w.dtype, w.nOut, w.nIn) + w.nTok * (w.nIn + w.nOut) * 4), 0);
  const perTok = (n: number): Record<string, number> => ({
    rope: n * (s.nHead + s.nHeadKv) * s.headDimK * s.nLayer,
    glu: n * (s.nFf ?? 0) * s.nLayer,
    rmsNorm: n * (s.nEmbd ?? 0) * (2 * s.nLayer + 1),
  });
  const P = Math.max(1, promptTokens);
  const F = Math.max(1, Math.min(P, Math.round(opts.prefillForwards ?? 1)));
  const chunk = Math.ceil(P / F);
  // Per query row and head, attention also pays for the padded KV length (attnKvLength).
  let preRows = 0;
  for (let f = 0; f < F; f++) {
    const end = Math.min(P, (f + 1) * chunk), rows = end - Math.min(P, f * chunk);
    preRows += rows * attnKvLength(contextSize, end);
  }
  const preMm: MatmulWork[] = [...wLayer(chunk, F), { ...s.outputMatmul, nTok: 1, count: F }];
  const prefill: BrickCostPhase = {
    name: 'prefill', tokens: P,
    flops: mmFlops(preMm),
    bytesMoved: mmBytes(preMm) + P * kvPerPos,
    matmuls: preMm, launches: 0,
    ops: {
      ...perTok(P), attention: (headsAttn * P * (P + 1)) / 2, attentionRow: preRows * s.nHead * s.nLayer, forwardLayer: F * s.nLayer,
      forwardCall: F, logitsOut: F * s.nVocab, attentionHead: P * s.nHead * s.nLayer, attentionPair: ((P * (P + 1)) / 2) * s.nHead * s.nLayer,
    },
  };
  const G = Math.max(0, genTokens);
  const decMm: MatmulWork[] = [...wLayer(1, G), { ...s.outputMatmul, nTok: 1, count: G }];
  let pairs = 0, kvBytes = 0, decRows = 0;
  for (let i = 0; i < G; i++) {
    pairs += P + i + 1;
    decRows += attnKvLength(contextSize, P + i + 1);
    kvBytes += kvPerPos * (P + i + 1);
  }
  const decode: BrickCostPhase = {
    name: 'decode', tokens: G,
    flops: mmFlops(decMm),
    bytesMoved: mmBytes(decMm) + kvBytes + G * s.nVocab * 4 * 3,
    matmuls: decMm, launches: 0,
    ops: {
      ...perTok(G), attention: headsAttn * pairs, attentionRow: decRows * s.nHead * s.nLayer, elementwise: (G + 1) * s.nVocab, forwardLayer: G * s.nLayer,
      forwardCall: G, logitsOut: G * s.nVocab, attentionHead: G * s.nHead * s.nLayer, attentionPair: pairs * s.nHead * s.nLayer,
    },
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
