/**
 * A language model running on WebGPU inside headless Chromium, driven from Node: the 'webgpu'
 * device of the LM brick on machines where Node has no WebGPU of its own (docs/webgpu.md).
 * Node parses the GGUF (hyperparameters, tensor offsets, small vectors), the page fetches the
 * file from the host's loopback server and uploads the weights; each `forward` sends token ids
 * and receives float32 logits (base64).
 */
import { ChromiumWebGPU, fromBase64F32, type ChromiumWebGPUOptions } from './chromium-host.js';
import type { GPUModelManifest, ManifestMat } from './model.js';
import type { LLMConfig } from '../../models/config.js';
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import { parseGGUF } from '../../formats/gguf/reader.js';
import { readFileBytes } from '../../formats/file-bytes.js';
import { getArch } from '../../models/registry.js';
import { bindWeights } from '../../models/load.js';
import { tokenizerFromGGUF } from '../../tokenizers/index.js';
import type { MatWeight } from '../../models/weights.js';
import { BackendError, RequestError, SynfluxError } from '../../core/errors.js';

/** Options of {@link WebGPULM.load}. */
export interface WebGPULMOptions extends ChromiumWebGPUOptions {
  /** KV cache size in tokens (default min(2048, training context)). */
  contextSize?: number;
  /** Reuse a running page (several models, or op tests and a model) instead of launching one. */
  host?: ChromiumWebGPU;
}

type PageError = { error: { name: string; code?: string; message: string } };

/** Rethrows a page-side error as a SynfluxError subclass with the same code. */
export function unwrapPage<R>(r: R | PageError): R {
  if (r && typeof r === 'object' && 'error' in (r as object)) {
    const e = (r as PageError).error;
    const Cls = e.name === 'RequestError' ? RequestError : BackendError;
    throw new Cls(e.code ?? 'WEBGPU_PAGE_ERROR', `[webgpu page] ${e.message}`);
  }
  return r as R;
}

/** Last-token (or all-token) logits with the page-side time. */
export interface RemoteForward {
  logits: Float32Array;
  /** Time inside the page for this call (ms), excluding the RPC. */
  pageMs: number;
}

/** A GGUF decoder LM on WebGPU in a Chromium page. */
export class WebGPULM {
  private past = 0;
  private constructor(readonly host: ChromiumWebGPU, private readonly ownsHost: boolean, private readonly id: number,
    readonly config: LLMConfig, readonly tokenizer: Tokenizer, readonly nCtx: number) {}

  /**
   * Loads `path` (a GGUF file) onto the page's WebGPU device.
   * @throws ModelFormatError / UnsupportedArchitectureError / ShapeError as loadModel; BackendError
   *   (`WEBGPU_NO_BROWSER`, `WEBGPU_UNAVAILABLE`, `WEBGPU_UNSUPPORTED_TYPE`, `WEBGPU_TOO_LARGE`).
   */
  static async load(path: string, opts: WebGPULMOptions = {}): Promise<WebGPULM> {
    const bytes = readFileBytes(path);
    const file = parseGGUF(bytes, path);
    const spec = await getArch(file.getString('general.architecture'));
    const config = spec.configFromGGUF(file);
    const tokenizer = tokenizerFromGGUF(file.metadata);
    const w = bindWeights(file, config);
    const nCtx = Math.max(1, Math.min(opts.contextSize ?? 2048, config.nCtxTrain));
    const mats: Record<string, ManifestMat> = {};
    const vecs: Record<string, Float32Array> = {};
    const addMat = (m: MatWeight) => {
      if (m.data.buffer !== bytes.buffer) throw new BackendError('WEBGPU_BAD_WEIGHTS', `${m.name} is not a view of the file`);
      mats[m.name] = { type: m.type, nIn: m.nIn, nOut: m.nOut, offset: m.data.byteOffset - bytes.byteOffset };
    };
    addMat(w.tokenEmbd);
    if (!config.tiedEmbeddings) addMat(w.output);
    vecs['output_norm.weight'] = w.outputNorm;
    w.layers.forEach((L, i) => {
      for (const m of [L.wq, L.wk, L.wv, L.wo, L.wGate, L.wUp, L.wDown]) addMat(m);
      const p = `blk.${i}.`;
      const v: Array<[string, Float32Array | null]> = [
        ['attn_norm.weight', L.attnNorm], ['ffn_norm.weight', L.ffnNorm], ['attn_q.bias', L.bq], ['attn_k.bias', L.bk], ['attn_v.bias', L.bv],
        ['attn_q_norm.weight', L.qNorm], ['attn_k_norm.weight', L.kNorm], ['post_attention_norm.weight', L.postAttnNorm], ['post_ffw_norm.weight', L.postFfnNorm],
      ];
      for (const [n, a] of v) if (a) vecs[p + n] = a;
    });
    const manifest: GPUModelManifest = { config, nCtx, mats, vecs, ropeFreqs: w.ropeFreqs };
    const host = opts.host ?? (await ChromiumWebGPU.launch(opts));
    try {
      const url = host.serveFile(`model-${Date.now()}-${Math.random().toString(36).slice(2)}.gguf`, path);
      const id = unwrapPage(await host.call<number | PageError>('loadModel', manifest, url));
      return new WebGPULM(host, !opts.host, id, config, tokenizer, nCtx);
    } catch (e) {
      if (!opts.host) await host.close();
      throw e instanceof SynfluxError ? e : new BackendError('WEBGPU_LOAD_FAILED', `loading ${path} on WebGPU failed: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Tokens in the page's KV cache. */
  get nPast(): number {
    return this.past;
  }

  /**
   * Runs `tokens` at positions [nPast, nPast + n).
   * @returns float32 logits [nVocab] (last token) or [n, nVocab] (allLogits), and the page time.
   * @throws RequestError (bad ids, context overflow), BackendError (WebGPU failures).
   */
  async forward(tokens: ArrayLike<number>, opts: { allLogits?: boolean } = {}): Promise<RemoteForward> {
    const r = unwrapPage(await this.host.call<{ logits: string; ms: number } | PageError>('forward', this.id, Array.from(tokens), opts.allLogits === true));
    this.past += tokens.length;
    return { logits: fromBase64F32(r.logits), pageMs: r.ms };
  }

  /** Drops cached tokens from position n on. */
  async truncate(n: number): Promise<void> {
    this.past = unwrapPage(await this.host.call<number | PageError>('truncate', this.id, n));
  }

  /** Frees the model's GPU buffers and, when this object launched the browser, closes it. */
  async dispose(): Promise<void> {
    await this.host.call('dispose', this.id).catch(() => undefined);
    if (this.ownsHost) await this.host.close();
  }
}
