/**
 * The op list both TF.js converters (Keras layers: keras-mobilenetv2.ts, GraphDef:
 * graph-mobilenetv2.ts) reduce a model to, and its match against the MobileNetV2 structure
 * (stem conv → inverted-residual blocks → 1×1 head conv → average pool → dense layers).
 * Conv weights are kept in TF layout (conv HWIO, depthwise `[kh, kw, c]`) with any batch norm
 * already folded and the activation fused; pads are explicit (top, left, bottom, right).
 */
import { ModelFormatError } from '../../core/errors.js';
import type {
  ConvLayer, DenseActivation, DenseLayer, DepthwiseLayer, InvertedResidualBlock, MobileNetV2Weights, Pads,
} from '../../models/vision/mobilenetv2-weights.js';

/** Options shared by the converters. */
export interface MobileNetV2Options {
  /** Class labels, one per output (optional; TF.js models do not carry them). */
  labels?: readonly string[];
  /** Input normalization `(rgb - mean) / std` with rgb in [0, 255] (default mean 0, std 255: nsfwjs's `x / 255`). */
  mean?: readonly [number, number, number];
  std?: readonly [number, number, number];
}

/**
 * Throws the converters' "unsupported topology" error.
 * @throws ModelFormatError `TFJS_UNSUPPORTED_TOPOLOGY`, always
 */
export function unsupported(msg: string): never {
  throw new ModelFormatError('TFJS_UNSUPPORTED_TOPOLOGY', `not a TF.js MobileNetV2 this converter supports: ${msg}`);
}
function bad(msg: string): never {
  return unsupported(msg);
}

/** A regular or depthwise convolution (input -1 = the network input). */
export interface ConvOp {
  kind: 'conv' | 'dw';
  layer: string;
  input: number;
  h: number;
  w: number;
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  cin: number;
  cout: number;
  stride: number;
  pads: [number, number, number, number];
  /** TF layout: conv HWIO, depthwise [kh, kw, c]. */
  weight: Float64Array;
  bias: Float64Array;
  bn: boolean;
  act: 'none' | 'relu6';
}
export interface AddOp { kind: 'add'; layer: string; inputs: [number, number] }
export interface PoolOp { kind: 'pool'; layer: string; input: number; size: number }
export interface DenseOp { kind: 'dense'; layer: string; input: number; nIn: number; nOut: number; weight: Float32Array; bias: Float32Array; activation: DenseActivation }
export interface FlattenOp { kind: 'flatten'; layer: string; input: number }
export type Op = ConvOp | AddOp | PoolOp | DenseOp | FlattenOp;

/** What the graph applies to the normalized input before the stem (`x * scale - offset`). */
export interface InputAffine {
  readonly scale: number;
  readonly offset: number;
}

function convLayer(op: ConvOp): ConvLayer {
  return { kh: op.kh, kw: op.kw, cin: op.cin, cout: op.cout, weight: Float32Array.from(op.weight), bias: Float32Array.from(op.bias) };
}
function dwLayer(op: ConvOp): DepthwiseLayer {
  return { kh: op.kh, kw: op.kw, c: op.cin, weight: Float32Array.from(op.weight), bias: Float32Array.from(op.bias) };
}

/**
 * Matches an op list against the MobileNetV2 structure.
 * @throws ModelFormatError `TFJS_UNSUPPORTED_TOPOLOGY` naming the first op that does not fit
 */
export function assembleMobileNetV2(ops: Op[], imageSize: number, opts: MobileNetV2Options, input?: InputAffine): MobileNetV2Weights {
  let i = 0;
  const at = (k: number): Op | undefined => ops[k];
  const chained = (op: Op, k: number): void => {
    if ('input' in op && op.input !== k - 1) bad(`${op.layer} does not read the previous op's output`);
  };
  const stem = at(0);
  if (!stem || stem.kind !== 'conv' || stem.act !== 'relu6' || stem.input !== -1) bad('the first op must be a conv with ReLU6 on the input');
  const stemPads = stem.pads as Pads;
  i = 1;
  let blockInput = 0; // op index of the current block's input
  const blocks: InvertedResidualBlock[] = [];
  for (;;) {
    const a = at(i), b = at(i + 1);
    const isPointwise = (o: Op | undefined): o is ConvOp => !!o && o.kind === 'conv' && o.kh === 1 && o.kw === 1 && o.stride === 1 && o.pads.every((p) => p === 0);
    let expand: ConvOp | undefined;
    let k = i;
    if (isPointwise(a) && a.act === 'relu6' && b?.kind === 'dw') {
      chained(a, k);
      expand = a;
      k++;
    } else if (a?.kind !== 'dw') break;
    const dw = at(k) as ConvOp;
    chained(dw, k);
    if (dw.act !== 'relu6') bad(`${dw.layer}: depthwise conv without ReLU6`);
    const proj = at(k + 1);
    if (!isPointwise(proj) || proj.act !== 'none') bad(`${dw.layer} is not followed by a linear 1×1 projection`);
    chained(proj, k + 1);
    let next = k + 2;
    let residual = false;
    const add = at(next);
    if (add?.kind === 'add') {
      const ins = [...add.inputs].sort((x, y) => x - y);
      if (ins[0] !== blockInput || ins[1] !== k + 1) bad(`${add.layer} is not the residual of its block`);
      residual = true;
      next++;
    }
    blocks.push({
      ...(expand ? { expand: convLayer(expand) } : {}),
      depthwise: dwLayer(dw), project: convLayer(proj), stride: dw.stride, pads: dw.pads as Pads, residual,
    });
    blockInput = next - 1;
    i = next;
  }
  const head = at(i);
  if (!head || head.kind !== 'conv' || head.act !== 'relu6' || head.kh !== 1 || head.kw !== 1 || head.stride !== 1) bad(`expected the 1×1 head conv with ReLU6 at ${head?.layer ?? 'the end'}`);
  chained(head, i);
  const pool = at(i + 1);
  if (!pool || pool.kind !== 'pool') bad('expected average pooling after the head conv');
  chained(pool, i + 1);
  if (head.oh !== head.ow) bad('the head feature map is not square');
  if (Math.floor(head.oh / pool.size) !== 1) bad(`pooling ${pool.size}×${pool.size} of a ${head.oh}×${head.ow} map leaves more than one pixel; only global pooling is supported`);
  i += 2;
  const flat = at(i);
  if (flat?.kind === 'flatten') {
    chained(flat, i);
    i++;
  }
  const fc: DenseLayer[] = [];
  let prevOut = head.cout;
  for (; i < ops.length; i++) {
    const d = at(i)!;
    if (d.kind !== 'dense') bad(`${d.layer}: expected dense layers to the end`);
    chained(d, i);
    if (d.nIn !== prevOut) bad(`${d.layer}: takes ${d.nIn} inputs, gets ${prevOut}`);
    fc.push({ nIn: d.nIn, nOut: d.nOut, weight: d.weight, bias: d.bias, activation: d.activation });
    prevOut = d.nOut;
  }
  if (opts.labels && opts.labels.length !== prevOut) bad(`${opts.labels.length} labels for ${prevOut} outputs`);
  return {
    config: {
      imageSize, mean: opts.mean ?? [0, 0, 0], std: opts.std ?? [255, 255, 255], resize: 'bilinear_align_corners', reluMax: 6,
      stemStride: stem.stride, stemPads, poolSize: pool.size, classCount: prevOut, ...(opts.labels ? { labels: [...opts.labels] } : {}),
      ...(input ? { inputScale: input.scale, inputOffset: input.offset } : {}),
    },
    stem: convLayer(stem), blocks, head: convLayer(head), fc,
  };
}
