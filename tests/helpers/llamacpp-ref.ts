// Reference harness over llama.cpp (through node-llama-cpp's prebuilt CPU binary): tokenization,
// next-token logits and pure-argmax greedy decoding, in the settings an exact-F32 engine can match
// (flash attention off, F32 K/V cache, whole prompt in one batch; see
// shared/design/REFERENCES.md, "Matching llama.cpp numerically").
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getLlama, LlamaLogLevel, type Llama, type LlamaContext, type LlamaContextSequence, type LlamaModel, type Token } from 'node-llama-cpp';

/** Options of {@link llamaCppReference}. */
export interface LlamaCppReferenceOptions {
  /** CPU threads for evaluation (default 2). */
  threads?: number;
  /** Context size in tokens; also the batch size, so a whole prompt is prefilled in one batch (default 512). */
  contextSize?: number;
}

/** A loaded llama.cpp reference model (see {@link llamaCppReference}). */
export interface LlamaCppReference {
  /** The node-llama-cpp model, for anything the harness does not wrap. */
  readonly model: LlamaModel;
  /** Vocabulary size (length of every logits vector). */
  readonly nVocab: number;
  /** BOS token id, or null when the vocabulary has none. */
  readonly bos: number | null;
  /** Whether llama.cpp would prepend BOS when tokenizing with add_special (vocab's add_bos_token). */
  readonly addBos: boolean;
  /**
   * llama.cpp's tokenizer: `common_tokenize(vocab, text, add_special = false, parse_special = special)`.
   * No BOS is added; prepend {@link LlamaCppReference.bos} yourself where {@link LlamaCppReference.addBos} says so.
   */
  tokenize(text: string, special: boolean): number[];
  /** Detokenizes ids (special tokens rendered as text when `special`). */
  detokenize(tokens: number[], special?: boolean): string;
  /** Whether a token ends generation (llama_vocab_is_eog). */
  isEog(token: number): boolean;
  /** Next-token logits (full vocab, dense) after feeding `tokens` to a fresh sequence in one batch. */
  logits(tokens: number[]): Promise<Float32Array>;
  /**
   * Greedy decoding by pure argmax over the raw logits (lowest id wins a tie, as in llama.cpp's greedy
   * sampler; no temperature, penalties or top-k/p). Generates up to `nPredict` tokens, stopping after an
   * end-of-generation token (which is included in `tokens`). `logits0` is the first step's full logits,
   * `margins[i]` the top-1 minus top-2 logit at step i (small margins flag near-ties where an exact
   * engine may legitimately pick the other token).
   */
  greedy(tokens: number[], nPredict: number): Promise<{ tokens: number[]; logits0: Float32Array; margins: number[] }>;
  /** Frees the context and the model (the shared Llama instance stays alive). */
  dispose(): Promise<void>;
}

let llamaPromise: Promise<Llama> | undefined;

/** The process-wide node-llama-cpp instance: CPU only, prebuilt binary only (never builds). */
export function getReferenceLlama(): Promise<Llama> {
  llamaPromise ??= getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  return llamaPromise;
}

/** Provenance of the llama.cpp reference (see {@link llamaCppProvenance}). */
export interface LlamaCppProvenance {
  /** node-llama-cpp package version. */
  nodeLlamaCpp: string;
  /** llama.cpp release the bundled source was cloned at (llama/llama.cpp.info.json `tag`). */
  sourceTag: string;
  /** llama.cpp release of the prebuilt binaries (llama/binariesGithubRelease.json `release`). */
  binariesRelease: string;
  /** llama.cpp release recorded in the prebuilt binary's build metadata (_nlcBuildMetadata.json). */
  prebuiltRelease: string | null;
}

/**
 * Where the reference numbers come from. With node-llama-cpp 3.22.1 all three agree on llama.cpp
 * `v0.5.0` (ggml-org/llama.cpp): the bundled source (llama/gitRelease.bundle, cloned into
 * .cache/llama.cpp: one squashed commit whose message is "llama.cpp : bump version to 0.5.0
 * (#29333)", CMakeLists LLAMA_VERSION 0.5.0) and the prebuilt linux-x64 CPU binary
 * (@node-llama-cpp/linux-x64, libllama.v0.5.0.so, built with GCC 11.4.0 on Ubuntu 22.04, whose
 * exported `LLAMA_COMMIT` is `0ad4a86`, `LLAMA_BUILD_NUMBER` 1 from a depth-1 clone of the tag).
 * The squash gives the bundle a different commit hash (de3ff81) but the same tree as the tag.
 * node-llama-cpp applies one patch at build time (llama/patches/PR-22566.diff: model-loader memory
 * accounting for no_alloc loads); it does not touch numerics, and the bundled source is unpatched.
 * The prebuilt binary picks a ggml-cpu variant at runtime (haswell/skylakex/icelake/zen4/...) by CPU.
 */
export function llamaCppProvenance(): LlamaCppProvenance {
  const readJson = (p: string): any => JSON.parse(readFileSync(p, 'utf8'));
  // Walk up from a resolved entry file to the package root (the packages do not export package.json).
  const pkgRoot = (entryUrl: string, name: string): string => {
    let dir = dirname(fileURLToPath(entryUrl));
    while (dir !== dirname(dir)) {
      const pj = join(dir, 'package.json');
      if (existsSync(pj) && readJson(pj).name === name) return dir;
      dir = dirname(dir);
    }
    throw new Error(`package root of ${name} not found`);
  };
  const pkgDir = pkgRoot(import.meta.resolve('node-llama-cpp'), 'node-llama-cpp');
  let prebuiltRelease: string | null = null;
  const binMeta = join(pkgDir, '..', '@node-llama-cpp', 'linux-x64', 'bins', 'linux-x64', '_nlcBuildMetadata.json');
  if (existsSync(binMeta)) prebuiltRelease = readJson(binMeta).buildOptions.llamaCpp.release;
  return {
    nodeLlamaCpp: readJson(join(pkgDir, 'package.json')).version,
    sourceTag: readJson(join(pkgDir, 'llama/llama.cpp.info.json')).tag,
    binariesRelease: readJson(join(pkgDir, 'llama/binariesGithubRelease.json')).release,
    prebuiltRelease,
  };
}

/** Index of the largest value; the lowest index wins ties (llama.cpp's greedy sampler does the same). */
export function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/** Top-1 minus top-2 value of a logits vector. */
export function topMargin(x: Float32Array): number {
  let a = -Infinity, b = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v > a) { b = a; a = v; } else if (v > b) b = v;
  }
  return a - b;
}

/**
 * Loads a GGUF model into llama.cpp (node-llama-cpp prebuilt CPU binary, llama.cpp v0.5.0; see
 * {@link llamaCppProvenance}) with reference settings: flash attention off, F32 K and V cache,
 * batch size = context size (one-batch prefill, n_ubatch = n_batch), one sequence, CPU only, and
 * pure-argmax greedy decoding with no sampling penalties.
 */
export async function llamaCppReference(modelPath: string, opts: LlamaCppReferenceOptions = {}): Promise<LlamaCppReference> {
  const contextSize = opts.contextSize ?? 512;
  const threads = opts.threads ?? 2;
  const llama = await getReferenceLlama();
  const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
  let ctx: LlamaContext;
  try {
    ctx = await model.createContext({
      contextSize,
      batchSize: contextSize,
      sequences: 1,
      threads,
      flashAttention: false,
      experimentalKvCacheKeyType: 'F32',
      experimentalKvCacheValueType: 'F32',
    });
  } catch (e) {
    await model.dispose();
    throw e;
  }
  const seq: LlamaContextSequence = ctx.getSequence();
  const vocabList: unknown = (model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: unknown } } }).tokenizer?.ggml?.tokens;
  let nVocab = Array.isArray(vocabList) ? vocabList.length : -1;

  const toDense = (m: Map<Token, number> | undefined): Float32Array => {
    if (!m) throw new Error('llama.cpp returned no logits');
    if (nVocab < 0) nVocab = m.size;
    if (m.size !== nVocab) throw new Error(`logits map has ${m.size} entries, expected ${nVocab}`);
    const out = new Float32Array(nVocab);
    for (const [t, v] of m) {
      if (t < 0 || t >= nVocab) throw new Error(`token ${t} out of range`);
      out[t] = v;
    }
    return out;
  };

  // Feeds tokens at the current end of the sequence; returns the logits after the last one.
  const step = async (tokens: number[]): Promise<Float32Array> => {
    if (tokens.length === 0) throw new Error('no tokens to evaluate');
    if (seq.nextTokenIndex + tokens.length > contextSize) throw new Error(`context overflow (${contextSize})`);
    const last = tokens.length - 1;
    const res = await seq.controlledEvaluate(tokens.map((t, i) =>
      i === last ? [t as Token, { generateNext: { logits: true, options: { temperature: 0 } } }] : (t as Token)));
    return toDense(res[last]?.next.logits);
  };

  const fresh = async (): Promise<void> => { await seq.clearHistory(); };

  const tokensInfo = model.tokens;
  const ref: LlamaCppReference = {
    model,
    get nVocab() { return nVocab; },
    bos: tokensInfo.bos ?? null,
    addBos: tokensInfo.shouldPrependBosToken,
    tokenize: (text, special) => model.tokenize(text, special).map(Number),
    detokenize: (tokens, special = false) => model.detokenize(tokens as Token[], special),
    isEog: (t) => model.isEogToken(t as Token),
    async logits(tokens) {
      await fresh();
      return step(tokens);
    },
    async greedy(tokens, nPredict) {
      await fresh();
      let logits = await step(tokens);
      const logits0 = logits;
      const out: number[] = [];
      const margins: number[] = [];
      for (let i = 0; i < nPredict; i++) {
        const t = argmax(logits);
        out.push(t);
        margins.push(topMargin(logits));
        if (model.isEogToken(t as Token) || i === nPredict - 1) break;
        logits = await step([t]);
      }
      return { tokens: out, logits0, margins };
    },
    async dispose() {
      await ctx.dispose();
      await model.dispose();
    },
  };
  return ref;
}
