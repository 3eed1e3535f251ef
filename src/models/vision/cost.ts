/**
 * What one image through the vision brick costs, for the placement planner (src/bricks/brick.ts
 * `BrickCost`, priced by src/bricks/cost-model.ts from a measured device profile):
 * - matmuls with their stored dtypes and token counts (patch embedding as one matmul over im2col
 *   rows; per block q/k/v/o, MLP up/down; per head the two attention products QKᵀ and PV with
 *   float32 operands; the projector's linear layers), each priced at the device's measured GFLOP/s;
 * - kernel calls (`launches`), each paying the device's per-call overhead;
 * - `ops`: per-element work outside the matmuls — LayerNorm, the float32 loops of ops.ts (bias,
 *   residual, position add, im2col, head gather/scatter, pixel shuffle; `elementwise`), GELU
 *   (`gelu`: the device's GeGLU kernel for ≥ 4096 elements, else a table lookup in JavaScript),
 *   softmax (`softmax`: the device's) — and per image the host preprocessing of src/preprocess/work.ts
 *   (`decodeCall`, `decodePng`/`decodeJpeg` pixels — WebP priced as PNG —, `resizeH`/`resizeV` taps, `resizePass` passes,
 *   `normalize` pixels).
 * Shapes follow src/models/vision/encoder.ts and projector.ts.
 */
import type { BrickCost, MatmulWork } from '../../bricks/brick.js';
import { typeName } from '../../core/ggml-type.js';
import type { GGUFFile } from '../../formats/gguf/reader.js';
import type { PreprocessWork } from '../../preprocess/work.js';
import type { VisionConfig } from './config.js';

/** ggml type names of the vision weights that the matmuls read. */
export interface VisionDtypes {
  /** `v.patch_embd.weight`. */
  readonly patch: string;
  /** Block matrices (`v.blk.*.attn_q/k/v/out`, `ffn_up/down`), the most common type. */
  readonly block: string;
  /** Projector matrices (`mm.*`). */
  readonly projector: string;
}

/** Weight dtypes of an mmproj GGUF (F32 where a group is absent). */
export function visionDtypesFromGGUF(f: GGUFFile): VisionDtypes {
  const count = (re: RegExp): string => {
    const n = new Map<string, number>();
    for (const t of f.tensors) if (re.test(t.name) && t.dims.length >= 2) n.set(typeName(t.type), (n.get(typeName(t.type)) ?? 0) + 1);
    return [...n.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'F32';
  };
  // the patch kernel is always converted to F16 at load (weights.ts patchAsF16: ggml's im2col conv is F16)
  return { patch: 'F16', block: count(/^v\.blk\.\d+\..*\.weight$/), projector: count(/^mm\..*weight$/) };
}

/** Tokens per tile through the encoder (patches + class token for the `mlp` family) and out of the projector. */
function tileShape(cfg: VisionConfig): { nPatch: number; n: number; nOut: number } {
  const side = cfg.imageSize / cfg.patchSize;
  const nPatch = side * side;
  return { nPatch, n: nPatch + (cfg.projector === 'mlp' ? 1 : 0), nOut: cfg.projector === 'mlp' ? nPatch : (side / cfg.nMerge) ** 2 };
}

/** Threshold above which ops.ts `activate('gelu')` calls the GeGLU kernel instead of the JS table. */
const GELU_KERNEL_MIN = 4096;

/**
 * Cost of one tile through encoder + projector.
 * @param weightBytes bytes of the vision weights (resident memory)
 * @param dtypes stored types of the matrices (default all F32)
 */
export function visionTileCost(cfg: VisionConfig, weightBytes: number, dtypes: VisionDtypes = { patch: 'F32', block: 'F32', projector: 'F32' }): BrickCost {
  const { nPatch, n, nOut } = tileShape(cfg);
  const d = cfg.nEmbd, ff = cfg.nFf, L = cfg.nLayerRun, H = cfg.nHead, hd = d / H, out = cfg.nEmbdOut;
  const k3 = 3 * cfg.patchSize ** 2;
  const mm: MatmulWork[] = [
    { dtype: dtypes.patch, nOut: d, nIn: k3, nTok: nPatch, count: 1 },
    { dtype: dtypes.block, nOut: d, nIn: d, nTok: n, count: 4 * L },
    { dtype: dtypes.block, nOut: ff, nIn: d, nTok: n, count: L },
    { dtype: dtypes.block, nOut: d, nIn: ff, nTok: n, count: L },
    { dtype: 'F32', nOut: n, nIn: hd, nTok: n, count: H * L },
    { dtype: 'F32', nOut: hd, nIn: n, nTok: n, count: H * L },
  ];
  let launches = 1 + L * (6 + 3 * H);
  let projElems = 0, projGelu = 0;
  if (cfg.projector === 'mlp') {
    mm.push({ dtype: dtypes.projector, nOut: out, nIn: d, nTok: nPatch, count: 1 }, { dtype: dtypes.projector, nOut: out, nIn: out, nTok: nPatch, count: 1 });
    projGelu = nPatch * out;
    launches += 3;
  } else if (cfg.projector === 'idefics3') {
    mm.push({ dtype: dtypes.projector, nOut: out, nIn: d * cfg.nMerge ** 2, nTok: nOut, count: 1 });
    projElems = nPatch * d;
    launches += 1;
  } else {
    mm.push({ dtype: dtypes.projector, nOut: out, nIn: d, nTok: nOut, count: 1 });
    projElems = 2 * nPatch * d;
    launches += 1;
  }
  // F32/F16 products of ≥ 8 tokens take the batched GEMM path of the kernel provider (kernels.ts):
  // priced as dtype `F32.gemm` / `F16.gemm` (the device's figures where profiled, else its matmul's)
  for (let i = 0; i < mm.length; i++) {
    const w = mm[i]!;
    if (w.nTok >= 8 && (w.dtype === 'F32' || w.dtype === 'F16')) mm[i] = { ...w, dtype: `${w.dtype}.gemm` };
  }
  const flops = mm.reduce((a, w) => a + 2 * w.count * w.nOut * w.nIn * w.nTok, 0);
  const geluN = n * ff;
  const geluKernel = (geluN >= GELU_KERNEL_MIN ? L * geluN : 0) + (projGelu >= GELU_KERNEL_MIN ? projGelu : 0);
  const geluJs = (geluN < GELU_KERNEL_MIN ? L * geluN : 0) + (projGelu > 0 && projGelu < GELU_KERNEL_MIN ? projGelu : 0);
  const lnRows = 2 * L + (cfg.projector === 'mlp' ? 1 : 0) + 1;
  // bias adds (q,k,v,o,up,down + patch), residual adds, position add, im2col, per-head gather (q,k,v) and scatter
  const elementwise = L * n * (4 * d + ff + d) + nPatch * d + 2 * L * n * d + n * d + nPatch * k3 + L * 4 * n * d + projElems + geluJs;
  const act = 4 * (L * (8 * n * d + 2 * n * ff + n * n) + 3 * cfg.imageSize ** 2);
  const outputBytes = 4 * nOut * out;
  return {
    flops, bytesMoved: weightBytes + act + outputBytes, memoryBytes: weightBytes + 4 * (6 * n * d + n * ff + n * n), outputBytes,
    matmuls: mm, launches,
    ops: { layerNorm: lnRows * n * d, elementwise, gelu: geluKernel, softmax: H * L * n * n },
  };
}

/** `a + k·b` over op maps. */
function addOps(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>, k = 1): Record<string, number> {
  const o: Record<string, number> = { ...a };
  for (const [key, v] of Object.entries(b)) o[key] = (o[key] ?? 0) + k * v;
  return o;
}

/**
 * Cost of one image: `work.tiles` tiles (src/preprocess/work.ts `preprocessWork`) plus the host
 * preprocessing (decode, resize, normalize) in `ops`.
 */
export function visionImageCost(cfg: VisionConfig, weightBytes: number, dtypes: VisionDtypes, work: PreprocessWork): BrickCost {
  const one = visionTileCost(cfg, weightBytes, dtypes);
  const t = work.tiles;
  const host = {
    decodeCall: 1, [work.format === 'jpeg' ? 'decodeJpeg' : 'decodePng']: work.decodePixels, resizeH: work.resizeTapsH, resizeV: work.resizeTapsV, resizePass: work.resizePasses,
    normalize: work.normalizePixels,
  };
  return {
    flops: one.flops * t, bytesMoved: one.bytesMoved * t, memoryBytes: one.memoryBytes, outputBytes: one.outputBytes * t,
    matmuls: one.matmuls!.map((m) => ({ ...m, count: m.count * t })), launches: one.launches! * t,
    ops: addOps(host, one.ops!, t),
  };
}
