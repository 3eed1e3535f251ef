/**
 * The `webgpu` device profile (schema: src/bricks/profile-schema.ts; the other devices:
 * src/bricks/profile.ts `measureDevice`), measured through one headless Chromium page
 * (./chromium-host.ts) whose WebGPU adapter runs the WGSL kernels — SwiftShader here, a GPU where
 * Chromium finds one. Node only.
 *
 * Figures (each a median over timed batches, ./page-bench.ts; per figure at least `minMs` and at
 * most about `maxMs` of wall time, so the large matmuls on SwiftShader are timed once or twice):
 * - `matmul`: device-resident Y = X·Wᵀ per dtype, size and token count with the kernel the
 *   page's WebGPUTransformer picks on this adapter (`rows` on CPU-emulated adapters, else
 *   `matvec` ≤ 8 tokens / `tiled`): all dispatches of a batch in one submit, as a forward records
 *   its matmuls; launch included, upload excluded. Weights are not rotated through DRAM as on
 *   `cpu` (SwiftShader's matmuls are compute-bound at a fraction of a GFLOP/s).
 * - `memGBs`: a 32 MiB float32 buffer-to-buffer copy kernel (bytes read + written / time).
 * - `launchUs`: the marginal cost of one more smallest dispatch (one-token 32×32 F32 matmul) in a
 *   submit — record, bind group, dispatch and its execution: the slope between batches of 16 and
 *   256 such dispatches, i.e. what each extra kernel of a forward costs (when noise makes that
 *   slope ≤ 0: the 256-dispatch batch's time / 256).
 * - `opNs` (ns per unit, units as src/bricks/profile-ops.ts): `rope` (per rotated float, 64 tokens
 *   × 16 heads × 64), `glu` (per SwiGLU output, 64 × 2048), `rmsNorm` (per normalized float,
 *   64 × 1024), `attention`, `attentionPair`, `attentionHead` (below; `attentionRow` is 0), and the
 *   forward-call figures `forwardCall`, `forwardLayer`, `logitsOut` (below).
 * - `hop`: one-way Node ↔ page transfer of float32 activations as base64 (the path the LM's
 *   logits take): half the round trip of an echo call at 1 KiB, 64 KiB and 1 MiB, least squares on
 *   relative errors → [fixed ms, bytes/s].
 *
 * Attention (kernels/attention.ts): one 64-thread workgroup per query row × head walks the keys
 * the row really sees (pos0 + t + 1, or the sliding window) in chunks of 64: a dot product per key
 * (∝ dK), the chunk's max and exp, and a 4-slot V accumulation every thread runs for every key of
 * the chunk (∝ keys, not dV, for dV ≤ 64·4). Six timings (8 heads: 64 query rows at pos0 0 and 192
 * with head dims 16 and 64; one row at 256 and 1024 keys, dim 64) fit
 * t = attention·(pairs·heads·(dK+dV)) + attentionPair·(pairs·heads) + attentionHead·(rows·heads)
 * by non-negative least squares on relative errors, where pairs = Σ keys visited:
 * - `attentionPair` (webgpu only): ns per query·key pair really visited × head — the KV length is
 *   NOT padded to 256 by the WGSL kernel (src/bricks/lm-brick.ts `lmCost` counts these units);
 * - `attentionHead` (webgpu only): ns per query row × head (one workgroup: its start, q load,
 *   barriers, output);
 * - `attention`: ns per pair × head × (dK + dV), the dimension part — small next to the per-key
 *   part on SwiftShader, it may fit to 0;
 * - `attentionRow` is stored as 0: nothing in this kernel scales with the padded KV length that
 *   cpu/wasm's `attentionRow` is counted over (native/sf_attn.c `sf_attn_n_kv`).
 *
 * Forward-call figures:
 * - `logitsOut`: ns per logit float returned to Node per forward call — GPU → staging copy and
 *   map, base64 encode in the page, playwright transfer, base64 decode in Node: measured directly,
 *   the slope between Node-timed reads of 32 and 32768 floats through the page's `readback`
 *   probe (the logits path without the forward; {@link measureLogitsOut}).
 * - `forwardCall` (ns per forward call: the Node → page RPC round trip of playwright's evaluate,
 *   token ids and RoPE table upload, embedding lookup, final norm, the submit and the readback's
 *   fixed part) and `forwardLayer` (ns per layer per forward call: the ≈ 17 dispatches of one
 *   decoder layer at negligible arithmetic, i.e. their launches, net of what the figures above
 *   price of its kernels — {@link syntheticLayerKernelsNs}, mostly the one-row attention), from
 *   synthetic llama decoders of width 32 (2 heads of 16, FFN 64, random F32 weights, tied output
 *   head; GGUFs written by src/formats/gguf/writer.ts to a temp dir) loaded through
 *   {@link WebGPULM} — layers 2, 4 and 6 × vocabularies 32 and 32768 — timed in Node as the LM brick
 *   pays: wall ms of one one-token `forward` call (median, the models called in turn). On the
 *   32-logit decoders, minus their (negligible) page-timed output-head matmul and 32·logitsOut,
 *   t = forwardCall + nLayer·forwardLayer by non-negative least squares. The 32768-logit decoders
 *   are a logged cross-check: a plane t − head = call + nLayer·layer + nVocab·perLogit through all
 *   six, with the output head (F32 [nVocab, 32], one token) timed separately in the page and
 *   subtracted — on a loaded 2-core machine that subtraction of two noisy ~10–40 ms figures is too
 *   unstable to be the stored `logitsOut`, hence the direct probe.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ChromiumWebGPU, findChromium, fromBase64F32 } from './chromium-host.js';
import { unwrapPage, WebGPULM } from './remote-lm.js';
import { GGMLType } from '../../core/ggml-type.js';
import { writeGGUF, type GGUFMetadataEntry, type GGUFTensorEntry } from '../../formats/gguf/writer.js';
import { GGUFValueType } from '../../formats/gguf/reader.js';
import { BackendError, RequestError } from '../../core/errors.js';
import { MATVEC_MAX_TOK, type MatmulKernel } from './kernels/matmul.js';
import type { BenchTiming, BenchOpArgs } from './page-bench.js';
import type { DeviceProfile, MatmulPoint } from '../../bricks/profile-schema.js';
import type { MeasureOptions } from '../../bricks/profile.js';

/** One measured matmul size. */
export interface WebGPUMatmulPoint {
  dtype: string;
  nIn: number;
  nOut: number;
  nTok: number;
  /** Milliseconds per matmul (launch + submit included, upload excluded). */
  ms: number;
  /** 2·nIn·nOut·nTok / time, in GFLOP/s. */
  gflops: number;
}

/** Per-figure time budget: at least `minMs`, at most about `maxMs` (ms). */
export interface Budget {
  minMs: number;
  maxMs: number;
}

const DEFAULT_MIN_MS = 150;
/** Default cap per figure: 2 s, or 10 × minMs when larger. */
const capOf = (minMs: number, maxMs?: number): number => maxMs ?? Math.max(2000, 10 * minMs);

/** Matmul dtypes the WGSL kernels read (./quant-wgsl.ts). */
export const WEBGPU_MATMUL_DTYPES: readonly string[] = ['F32', 'F16', 'BF16', 'Q4_0', 'Q4_1', 'Q5_0', 'Q8_0', 'Q4_K', 'Q5_K', 'Q6_K'];

/**
 * Measures Y = X·Wᵀ on the page's WebGPU device for each dtype × (nOut, nIn) × nTok (median ms per
 * matmul over timed submits, ./page-bench.ts `benchMatmul`).
 * @param host a running page, or null to launch (and close) one
 * @throws BackendError when no browser or adapter is available; RequestError `BAD_OPTION` for a
 *   dtype the kernels do not read.
 */
export async function measureWebGPUMatmul(host: ChromiumWebGPU | null, opts: {
  dtypes?: readonly string[]; sizes?: ReadonlyArray<readonly [number, number]>; nToks?: readonly number[];
  minMs?: number; maxMs?: number; kernel?: MatmulKernel; log?: (line: string) => void;
} = {}): Promise<{ adapter: Record<string, unknown>; points: WebGPUMatmulPoint[] }> {
  const h = host ?? (await ChromiumWebGPU.launch());
  const minMs = opts.minMs ?? DEFAULT_MIN_MS;
  const maxMs = capOf(minMs, opts.maxMs);
  try {
    const adapter = unwrapPage(await h.call<Record<string, unknown>>('info'));
    const points: WebGPUMatmulPoint[] = [];
    for (const dtype of opts.dtypes ?? ['Q4_1', 'Q8_0', 'F32']) {
      if (!WEBGPU_MATMUL_DTYPES.includes(dtype)) throw new RequestError('BAD_OPTION', `webgpu has no matmul kernel for dtype ${dtype} (has ${WEBGPU_MATMUL_DTYPES.join(', ')})`);
      const type = GGMLType[dtype as keyof typeof GGMLType];
      const compiled = new Set<string>();
      for (const [nOut, nIn] of opts.sizes ?? [[576, 576], [1536, 576]]) {
        for (const nTok of opts.nToks ?? [1, 32]) {
          // the first point of a dtype × kernel compiles its pipeline in an untimed warm-up; later ones
          // skip it (kernel choice as kernels/matmul.ts: rows when CPU-emulated, else matvec ≤ 8 tokens, tiled)
          const kind = opts.kernel ?? (adapter.cpuEmulated === true ? 'rows' : nTok <= MATVEC_MAX_TOK ? 'matvec' : 'tiled');
          const warm = !compiled.has(kind);
          compiled.add(kind);
          const r = unwrapPage(await h.call<BenchTiming>('benchMatmul', { type, nIn, nOut, nTok, minMs, maxMs, kernel: opts.kernel, warm }));
          const p = { dtype, nIn, nOut, nTok, ms: r.ms, gflops: (2 * nIn * nOut * nTok) / (r.ms * 1e6) };
          points.push(p);
          opts.log?.(`webgpu matmul ${dtype} ${nOut}x${nIn} nTok=${nTok}: ${r.ms.toFixed(3)} ms, ${p.gflops.toFixed(3)} GFLOP/s (${r.batches}×${r.reps})`);
        }
      }
    }
    return { adapter, points };
  } finally {
    if (!host) await h.close();
  }
}

/**
 * Non-negative least squares for small systems: ordinary least squares on the columns still
 * active, dropping the most negative coefficient (set to 0) until none is negative. With
 * `relative`, each observation is weighted by 1/y, so the fit minimizes relative errors (timings
 * spanning orders of magnitude).
 * @param X rows of regressors; @param y observations (> 0 with `relative`). @returns one coefficient per column.
 */
export function nnls(X0: readonly (readonly number[])[], y0: readonly number[], relative = false): number[] {
  const X = relative ? X0.map((r, i) => r.map((v) => v / y0[i]!)) : X0;
  const y = relative ? y0.map(() => 1) : y0;
  const k = X[0]?.length ?? 0;
  const active = new Set(Array.from({ length: k }, (_, i) => i));
  for (;;) {
    const cols = [...active];
    const beta = new Array<number>(k).fill(0);
    if (!cols.length) return beta;
    // normal equations AᵀA b = Aᵀy, scaled per column for conditioning, solved by Gaussian elimination
    const scale = cols.map((c) => Math.sqrt(X.reduce((s, r) => s + r[c]! ** 2, 0)) || 1);
    const n = cols.length;
    const M = cols.map((ci, i) => [...cols.map((cj, j) => X.reduce((s, r) => s + (r[ci]! / scale[i]!) * (r[cj]! / scale[j]!), 0)), X.reduce((s, r, q) => s + (r[ci]! / scale[i]!) * y[q]!, 0)]);
    for (let p = 0; p < n; p++) {
      let best = p;
      for (let r = p + 1; r < n; r++) if (Math.abs(M[r]![p]!) > Math.abs(M[best]![p]!)) best = r;
      [M[p], M[best]] = [M[best]!, M[p]!];
      const piv = M[p]![p]!;
      if (Math.abs(piv) < 1e-12) continue;
      for (let r = 0; r < n; r++) {
        if (r === p) continue;
        const f = M[r]![p]! / piv;
        for (let c = p; c <= n; c++) M[r]![c]! -= f * M[p]![c]!;
      }
    }
    cols.forEach((c, i) => { beta[c] = Math.abs(M[i]![i]!) < 1e-12 ? 0 : M[i]![n]! / M[i]![i]! / scale[i]!; });
    let worst = -1;
    for (const c of cols) if (beta[c]! < 0 && (worst < 0 || beta[c]! < beta[worst]!)) worst = c;
    if (worst < 0) return beta;
    active.delete(worst);
  }
}

/** Deterministic floats in [-scale, scale) (xorshift32). */
function randomF32(n: number, seed: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    a[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return a;
}

/** Width, heads and FFN size of the synthetic profiling decoders. */
export const SYNTH_DECODER = { nEmbd: 32, nHead: 2, headDim: 16, nFF: 64, nCtx: 64 } as const;

/**
 * Writes a tiny llama-architecture GGUF with random F32 weights (tied output head, a
 * SentencePiece-style vocabulary of placeholder tokens) of {@link SYNTH_DECODER} width.
 * @param nLayer blocks (≥ 1); @param nVocab vocabulary size (≥ 4)
 * @returns the file path (`dir/synth-L{nLayer}-V{nVocab}.gguf`).
 * @throws RequestError `BAD_OPTION` for sizes out of range.
 */
export function writeSyntheticDecoder(dir: string, nLayer: number, nVocab: number): string {
  if (!(Number.isInteger(nLayer) && nLayer >= 1 && nLayer <= 64) || !(Number.isInteger(nVocab) && nVocab >= 4 && nVocab <= 1 << 18)) {
    throw new RequestError('BAD_OPTION', `synthetic decoder needs 1 ≤ nLayer ≤ 64 and 4 ≤ nVocab ≤ 262144, got ${nLayer}, ${nVocab}`);
  }
  const { nEmbd: d, nHead, headDim, nFF, nCtx } = SYNTH_DECODER;
  const u32 = (key: string, value: number): GGUFMetadataEntry => ({ key, type: GGUFValueType.UINT32, value });
  const tokens = Array.from({ length: nVocab }, (_, i) => (i === 0 ? '<unk>' : i === 1 ? '<s>' : i === 2 ? '</s>' : `▁t${i}`));
  const metadata: GGUFMetadataEntry[] = [
    { key: 'general.architecture', type: GGUFValueType.STRING, value: 'llama' },
    { key: 'general.name', type: GGUFValueType.STRING, value: `synflux-profile-L${nLayer}-V${nVocab}` },
    u32('llama.context_length', nCtx), u32('llama.embedding_length', d), u32('llama.block_count', nLayer),
    u32('llama.feed_forward_length', nFF), u32('llama.attention.head_count', nHead), u32('llama.attention.head_count_kv', nHead),
    u32('llama.rope.dimension_count', headDim),
    { key: 'llama.attention.layer_norm_rms_epsilon', type: GGUFValueType.FLOAT32, value: 1e-5 },
    { key: 'tokenizer.ggml.model', type: GGUFValueType.STRING, value: 'llama' },
    { key: 'tokenizer.ggml.tokens', type: GGUFValueType.ARRAY, arrayType: GGUFValueType.STRING, value: tokens },
    { key: 'tokenizer.ggml.scores', type: GGUFValueType.ARRAY, arrayType: GGUFValueType.FLOAT32, value: new Float32Array(nVocab) },
    { key: 'tokenizer.ggml.token_type', type: GGUFValueType.ARRAY, arrayType: GGUFValueType.INT32, value: Int32Array.from(tokens, (_, i) => (i < 3 ? (i === 0 ? 2 : 3) : 1)) },
    u32('tokenizer.ggml.unknown_token_id', 0), u32('tokenizer.ggml.bos_token_id', 1), u32('tokenizer.ggml.eos_token_id', 2),
  ];
  let seed = 1000 + nLayer * 7 + nVocab;
  const t = (name: string, dims: number[], scale = 0.2): GGUFTensorEntry => {
    const f = randomF32(dims.reduce((a, b) => a * b, 1), seed++, scale);
    return { name, dims, type: GGMLType.F32, data: new Uint8Array(f.buffer) };
  };
  const ones = (name: string): GGUFTensorEntry => ({ name, dims: [d], type: GGMLType.F32, data: new Uint8Array(new Float32Array(d).fill(1).buffer) });
  const tensors: GGUFTensorEntry[] = [t('token_embd.weight', [d, nVocab], 1), ones('output_norm.weight')];
  for (let i = 0; i < nLayer; i++) {
    const p = `blk.${i}.`;
    tensors.push(ones(p + 'attn_norm.weight'), ones(p + 'ffn_norm.weight'),
      t(p + 'attn_q.weight', [d, d]), t(p + 'attn_k.weight', [d, d]), t(p + 'attn_v.weight', [d, d]), t(p + 'attn_output.weight', [d, d]),
      t(p + 'ffn_gate.weight', [d, nFF]), t(p + 'ffn_up.weight', [d, nFF]), t(p + 'ffn_down.weight', [nFF, d]));
  }
  const path = join(dir, `synth-L${nLayer}-V${nVocab}.gguf`);
  writeGGUF(path, { metadata, tensors });
  return path;
}

/**
 * Node-side wall ms of one one-token `forward` call of each of `lms` (what the LM brick pays per
 * decode step): two warm-up calls each, then rounds calling every model once in turn (so a change
 * of machine load hits all alike) at positions 0…nCtx-1 (each cache rewound untimed when full),
 * at least 9 rounds and `minMs` per model, stopping after `maxMs` per model; the median per model.
 * @throws BackendError / RequestError from the page.
 */
export async function timeForwardCalls(lms: readonly WebGPULM[], b: Budget): Promise<number[]> {
  const step = async (lm: WebGPULM, i: number): Promise<number> => {
    if (lm.nPast >= lm.nCtx) await lm.truncate(0);
    const a = performance.now();
    await lm.forward([3 + (i % (lm.config.nVocab - 3))]);
    return performance.now() - a;
  };
  for (const lm of lms) for (let i = 0; i < 2; i++) await step(lm, i);
  const t: number[][] = lms.map(() => []);
  const start = performance.now();
  const n = Math.max(1, lms.length);
  for (let r = 2; ; r++) {
    for (let j = 0; j < lms.length; j++) t[j]!.push(await step(lms[j]!, r));
    const el = performance.now() - start;
    if (r - 1 >= 9 && (el >= b.minMs * n || r >= 200)) break;
    if (r - 1 >= 3 && el > b.maxMs * n) break;
  }
  return t.map((x) => x.sort((p, q) => p - q)[x.length >> 1]!);
}

/**
 * Wall ms of a one-token forward call of synthetic decoders ({@link writeSyntheticDecoder}) of
 * `nLayer` × `nVocab`, timed together ({@link timeForwardCalls}), and the page-timed ms of each
 * one's output-head matmul (F32 [nVocab, 32], one token; once per vocabulary size).
 * @throws BackendError / RequestError from the page; RequestError `BAD_OPTION` for bad sizes.
 */
export async function measureSyntheticForwards(host: ChromiumWebGPU, dir: string, shapes: ReadonlyArray<readonly [number, number]>, b: Budget): Promise<Array<{ nLayer: number; nVocab: number; forwardMs: number; headMs: number }>> {
  const lms: WebGPULM[] = [];
  try {
    for (const [L, V] of shapes) lms.push(await WebGPULM.load(writeSyntheticDecoder(dir, L, V), { host, contextSize: SYNTH_DECODER.nCtx }));
    const ms = await timeForwardCalls(lms, b);
    const head = new Map<number, number>();
    for (const [, V] of shapes) {
      if (head.has(V)) continue;
      const r = unwrapPage(await host.call<BenchTiming>('benchMatmul', { type: GGMLType.F32, nIn: SYNTH_DECODER.nEmbd, nOut: V, nTok: 1, minMs: 2 * b.minMs, maxMs: b.maxMs }));
      head.set(V, r.ms);
    }
    return shapes.map(([L, V], i) => ({ nLayer: L, nVocab: V, forwardMs: ms[i]!, headMs: head.get(V)! }));
  } finally {
    for (const lm of lms) await lm.dispose();
  }
}

/**
 * Node-side ns per float32 value of a forward's logits return (GPU → staging copy and map,
 * base64 in the page, playwright transfer, base64 decode in Node): slope between reading back
 * 32 and 32768 floats through the page's `readback` probe, timed alternately (≥ 9 rounds), medians.
 * @throws BackendError from the page.
 */
export async function measureLogitsOut(host: ChromiumWebGPU, b: Budget): Promise<number> {
  const sizes = [32, 32768];
  const once = async (n: number): Promise<number> => {
    const a = performance.now();
    const out = fromBase64F32(unwrapPage(await host.call<string>('readback', n)));
    if (out.length !== n) throw new BackendError('WEBGPU_PAGE_ERROR', `readback returned ${out.length} floats, asked ${n}`);
    return performance.now() - a;
  };
  for (const n of sizes) await once(n);
  const t: number[][] = sizes.map(() => []);
  const start = performance.now();
  while (t[0]!.length < 9 || (performance.now() - start < 2 * b.minMs && t[0]!.length < 200)) {
    for (let i = 0; i < sizes.length; i++) t[i]!.push(await once(sizes[i]!));
    if (t[0]!.length >= 3 && performance.now() - start > b.maxMs) break;
  }
  const med = t.map((x) => x.sort((p, q) => p - q)[x.length >> 1]!);
  return Math.max(0, ((med[1]! - med[0]!) * 1e6) / (sizes[1]! - sizes[0]!));
}

/** One-way Node ↔ page float32 transfer (base64 through playwright): [fixed ms, bytes/s]. */
async function measureHop(host: ChromiumWebGPU, b: Budget): Promise<[number, number]> {
  const sizes = [1 << 10, 1 << 16, 1 << 20];
  const ms: number[] = [];
  for (const bytes of sizes) {
    const x = randomF32(bytes / 4, bytes, 1);
    const once = async (): Promise<number> => {
      const a = performance.now();
      const s = Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
      const r = unwrapPage(await host.call<{ data: string; ms: number }>('echo', s));
      const back = fromBase64F32(r.data);
      if (back.length !== x.length) throw new BackendError('WEBGPU_PAGE_ERROR', `echo returned ${back.length} floats, sent ${x.length}`);
      return performance.now() - a;
    };
    await once();
    const t: number[] = [];
    const start = performance.now();
    while (t.length < 3 || (performance.now() - start < b.minMs && t.length < 100)) t.push(await once());
    t.sort((p, q) => p - q);
    ms.push(t[t.length >> 1]! / 2);
  }
  // relative errors: the 1 MiB round trip would otherwise decide the fixed part too
  const [fixed, perByte] = nnls(sizes.map((s) => [1, s]), ms, true);
  return [fixed!, perByte! > 0 ? 1000 / perByte! : 1e12];
}

/**
 * Attention timings of the fit (query rows, pos0, head dim; 8 heads): prefill chunks of 64 rows
 * at two KV lengths and two head dims, and one-row decode steps at 256 and 1024 keys.
 */
const ATTENTION_POINTS: ReadonlyArray<readonly [number, number, number]> = [[64, 0, 16], [64, 0, 64], [64, 192, 16], [64, 192, 64], [1, 255, 64], [1, 1023, 64]];

/**
 * ns of the size-dependent kernels of one layer of a one-token forward of a synthetic decoder
 * ({@link SYNTH_DECODER}), priced with `opNs` as src/bricks/lm-brick.ts `lmCost` counts them:
 * rope on q and k, GLU, two RMSNorms, attention of each head over the mean KV length of the
 * timed calls (positions cycle through 0…nCtx-1, so (nCtx + 1) / 2 keys).
 */
export function syntheticLayerKernelsNs(opNs: Readonly<Record<string, number>>): number {
  const { nEmbd, nHead, headDim, nFF, nCtx } = SYNTH_DECODER;
  const keys = (nCtx + 1) / 2;
  const f = (k: string): number => opNs[k] ?? 0;
  return f('rope') * 2 * nHead * headDim + f('glu') * nFF + f('rmsNorm') * 2 * nEmbd
    + nHead * (f('attentionHead') + keys * (f('attentionPair') + f('attention') * 2 * headDim));
}

/** A {@link BenchOpArgs} without its budget. */
type OpShape = BenchOpArgs extends infer T ? (T extends unknown ? Omit<T, 'minMs' | 'maxMs'> : never) : never;

/**
 * Options of {@link measureWebGPUDevice}: the sweep options of `synflux profile`
 * (src/bricks/profile.ts `MeasureOptions`: dtypes — those without a WGSL reader are skipped —,
 * sizes, token counts, minMs, the per-figure cap maxMs, log) plus the page and the synthetic decoders.
 */
export interface WebGPUProfileOptions extends Pick<MeasureOptions, 'dtypes' | 'sizes' | 'nToks' | 'minMs' | 'maxMs' | 'log'> {
  /** A running page to use (kept open); default: launch one and close it at the end. */
  host?: ChromiumWebGPU;
  /** Layers × vocabularies of the synthetic decoders fitted for the forward-call figures (default [2, 4, 6] × [32, 32768]). */
  decoders?: { layers: readonly number[]; vocabs: readonly number[] };
}

/**
 * Measures the `webgpu` device (figures: file header) in one Chromium page, closed at the end
 * unless `opts.host` was given.
 * @returns the profile and its one-way host hop `[fixed ms, bytes/s]` (as src/bricks/profile.ts `measureDevice`).
 * @throws BackendError `WEBGPU_NO_BROWSER` (no Chromium or playwright-core), `WEBGPU_BROWSER_FAILED`,
 *   `WEBGPU_UNAVAILABLE` (no adapter in the page), or another `WEBGPU_*` error from a kernel.
 */
export async function measureWebGPUDevice(opts: WebGPUProfileOptions = {}): Promise<DeviceProfile & { hop: [number, number] }> {
  const minMs = opts.minMs ?? DEFAULT_MIN_MS;
  const b: Budget = { minMs, maxMs: capOf(minMs, opts.maxMs) };
  const log = opts.log ?? (() => {});
  const host = opts.host ?? (await ChromiumWebGPU.launch());
  const dir = mkdtempSync(join(tmpdir(), 'synflux-webgpu-profile-'));
  try {
    const adapter = unwrapPage(await host.call<Record<string, unknown>>('info'));
    const str = (k: string): string => (typeof adapter[k] === 'string' ? (adapter[k] as string) : '');
    const emulated = adapter.cpuEmulated === true;
    const kernel = emulated ? 'rows' : 'matvec (≤ 8 tokens) / tiled';
    const dtypes = (opts.dtypes ?? ['F32', 'F16', 'Q8_0', 'Q4_1', 'Q4_K']).filter((d) => WEBGPU_MATMUL_DTYPES.includes(d));
    const { points } = await measureWebGPUMatmul(host, { dtypes, sizes: opts.sizes ?? [[512, 512], [2048, 2048]], nToks: opts.nToks ?? [1, 64], minMs, maxMs: b.maxMs, log });
    const matmul: MatmulPoint[] = points.map((p) => ({ dtype: p.dtype, nOut: p.nOut, nIn: p.nIn, nTok: p.nTok, ms: p.ms, gflops: p.gflops }));
    const op = async (a: OpShape): Promise<number> =>
      unwrapPage(await host.call<BenchTiming>('benchOp', { ...a, ...b })).ms;

    const copyN = 8 << 20;
    const memGBs = (2 * copyN * 4) / ((await op({ op: 'copy', n: copyN })) * 1e6);
    log(`webgpu memory-bound: ${memGBs.toFixed(2)} GB/s`);
    const [l16, l256] = [await op({ op: 'launch', count: 16 }), await op({ op: 'launch', count: 256 })];
    // the slope; on a noisy machine it can come out ≤ 0, then the 256-dispatch batch's mean per dispatch
    const launchUs = l256 > l16 ? ((l256 - l16) / 240) * 1000 : (l256 / 256) * 1000;
    log(`webgpu launch overhead: ${launchUs.toFixed(1)} µs per dispatch in a submit`);

    const opNs: Record<string, number> = {};
    const nTok = 64;
    opNs.rope = ((await op({ op: 'rope', nTok, nHeads: 16, headDim: 64 })) * 1e6) / (nTok * 16 * 64);
    opNs.glu = ((await op({ op: 'swiglu', n: nTok * 2048 })) * 1e6) / (nTok * 2048);
    opNs.rmsNorm = ((await op({ op: 'rmsNorm', rows: nTok, n: 1024 })) * 1e6) / (nTok * 1024);
    const H = 8, X: number[][] = [], y: number[] = [];
    for (const [rows, pos0, dim] of ATTENTION_POINTS) {
      let pairs = 0;
      for (let t = 0; t < rows; t++) pairs += pos0 + t + 1;
      X.push([pairs * H * 2 * dim, pairs * H, rows * H]);
      y.push((await op({ op: 'attention', nTok: rows, pos0, nHead: H, d: dim })) * 1e6);
    }
    const [att, row, wg] = nnls(X, y, true);
    opNs.attention = att!;
    opNs.attentionPair = row!;
    opNs.attentionHead = wg!;
    opNs.attentionRow = 0;
    log(`webgpu attention: ${att!.toFixed(4)} ns per pair·head·dim (attention), ${row!.toFixed(3)} ns per pair·head, keys really visited (attentionPair), ${wg!.toFixed(1)} ns per row·head (attentionHead)`);

    const lo = await measureLogitsOut(host, b);
    const dec = opts.decoders ?? { layers: [2, 4, 6], vocabs: [32, 32768] };
    const runs = await measureSyntheticForwards(host, dir, dec.layers.flatMap((L) => dec.vocabs.map((V) => [L, V] as const)), b);
    for (const r of runs) log(`webgpu synthetic decoder ${r.nLayer} layers, vocab ${r.nVocab}: ${r.forwardMs.toFixed(2)} ms per one-token forward call (output head ${r.headMs.toFixed(3)} ms)`);
    // forwardCall / forwardLayer from the smallest vocabulary (head and logits negligible there, so
    // no noisy head timing is subtracted); all decoders when it has a single layer count
    const vMin = Math.min(...runs.map((r) => r.nVocab));
    const small = runs.filter((r) => r.nVocab === vMin);
    const fitRuns = new Set(small.map((r) => r.nLayer)).size >= 2 ? small : runs;
    const [fc, flGross] = nnls(fitRuns.map((r) => [1, r.nLayer]), fitRuns.map((r) => Math.max(0, (r.forwardMs - r.headMs) * 1e6 - r.nVocab * lo)));
    // per layer, the cost model prices the size-dependent kernels apart (attention, rope, glu, 2 norms):
    // what they cost in the synthetic layer is taken out of forwardLayer so it is not counted twice
    const fl = Math.max(0, flGross! - syntheticLayerKernelsNs(opNs));
    const plane = nnls(runs.map((r) => [1, r.nLayer, r.nVocab]), runs.map((r) => Math.max(0, r.forwardMs - r.headMs) * 1e6));
    log(`webgpu logits return: ${lo.toFixed(2)} ns per float measured; cross-check, a plane through all decoders gives ${plane[2]!.toFixed(2)} ns per float (call ${(plane[0]! / 1e6).toFixed(2)} ms, layer ${(plane[1]! / 1e6).toFixed(3)} ms)`);
    opNs.forwardCall = fc!;
    opNs.forwardLayer = fl;
    opNs.logitsOut = lo!;
    log(`webgpu ops (ns/unit): ${Object.entries(opNs).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}`);

    const hop = await measureHop(host, b);
    log(`webgpu host hop: ${hop[0].toFixed(3)} ms + ${(hop[1] / 1e9).toFixed(3)} GB/s`);
    const name = [str('vendor'), str('architecture'), str('description')].filter((s) => s).join(' / ') || 'unknown adapter';
    return {
      kind: 'gpu',
      description: `WebGPU in headless Chromium (${findChromium() ?? 'chromium'}): adapter ${name}${emulated ? ' (CPU-emulated)' : ''}, matmul kernel ${kernel}; driven from Node over playwright RPC`,
      threads: 1, matmul, memGBs, launchUs, opNs, hop,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (!opts.host) await host.close();
  }
}
