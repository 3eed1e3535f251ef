/**
 * TF.js graph model (GraphDef JSON, as written by tensorflowjs_converter from a SavedModel / TF-Hub
 * module) of a MobileNetV2 classifier → {@link MobileNetV2Weights}, e.g. nsfwjs's
 * `mobilenet_v2_mid` (TF-Hub MobileNetV2 1.4 feature vector + a dense softmax layer).
 *
 * Nodes are visited in topological order and reduced to the op list of mobilenetv2-ops.ts:
 * `_FusedConv2D` / `FusedDepthwiseConv2dNative` (batch norm already folded by the TF.js converter
 * into weights + `BiasAdd`; `Relu6` fused), `Conv2D` / `DepthwiseConv2dNative` followed by
 * `BiasAdd` / `Relu6`, `AddV2`/`Add`, `AvgPool` / `Mean` over H, W (global), `Squeeze` /
 * `Reshape` (flatten), `_FusedMatMul` / `MatMul` (+ `BiasAdd`, `Relu`), `Softmax`; `Identity` is
 * skipped; a `Mul` then `Sub` (or `Add`) by scalars directly on the input (TF-Hub's `hub_input`
 * rescaling to [-1, 1]) becomes the config's input transform. TF op semantics: tensorflow/core/ops
 * (nn_ops.cc, math_ops.cc); fused ops: tensorflow/core/grappler/optimizers/remapper.cc.
 */
import type { MobileNetV2Weights } from '../../models/vision/mobilenetv2-weights.js';
import { tfSamePadding } from '../../nn/conv.js';
import type { TfjsModel } from './model.js';
import { assembleMobileNetV2, unsupported as bad, type ConvOp, type InputAffine, type MobileNetV2Options, type Op } from './mobilenetv2-ops.js';

interface GNode {
  name: string;
  op: string;
  input: string[];
  attr: Record<string, unknown>;
}

interface Value { op: number; h: number; w: number; c: number }

const b64 = (s: unknown): string => (typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : '');

function attrStr(n: GNode, k: string): string | undefined {
  const a = n.attr[k] as { s?: string } | undefined;
  return a?.s === undefined ? undefined : b64(a.s);
}
function attrInts(n: GNode, k: string): number[] | undefined {
  const a = n.attr[k] as { list?: { i?: (string | number)[] } } | undefined;
  return a?.list ? (a.list.i ?? []).map(Number) : undefined;
}
function attrStrs(n: GNode, k: string): string[] {
  const a = n.attr[k] as { list?: { s?: string[] } } | undefined;
  return (a?.list?.s ?? []).map(b64);
}

/** Input name without the `:output` suffix; control inputs (`^x`) are dropped by the caller. */
const base = (s: string): string => s.replace(/:\d+$/, '');

function nodesOf(model: TfjsModel): GNode[] {
  const raw = model.topology.node;
  if (!Array.isArray(raw)) bad('modelTopology.node is not an array');
  return raw.map((n: unknown, i) => {
    const o = n as Record<string, unknown>;
    if (typeof o?.name !== 'string' || typeof o.op !== 'string') bad(`node ${i} lacks name/op`);
    const input = Array.isArray(o.input) ? (o.input as unknown[]).filter((x): x is string => typeof x === 'string' && !x.startsWith('^')).map(base) : [];
    return { name: o.name, op: o.op, input, attr: (typeof o.attr === 'object' && o.attr !== null ? o.attr : {}) as Record<string, unknown> };
  });
}

/** Kahn's algorithm over data inputs; throws on cycles or dangling inputs. */
function topoOrder(nodes: GNode[]): GNode[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  if (byName.size !== nodes.length) bad('duplicate node names');
  const indeg = new Map<string, number>();
  const users = new Map<string, string[]>();
  for (const n of nodes) {
    indeg.set(n.name, n.input.length);
    for (const i of n.input) {
      if (!byName.has(i)) bad(`node ${n.name} reads unknown node ${i}`);
      users.set(i, [...(users.get(i) ?? []), n.name]);
    }
  }
  const ready = nodes.filter((n) => n.input.length === 0).map((n) => n.name);
  const out: GNode[] = [];
  while (ready.length) {
    const name = ready.shift()!;
    out.push(byName.get(name)!);
    for (const u of users.get(name) ?? []) {
      const d = indeg.get(u)! - 1;
      indeg.set(u, d);
      if (d === 0) ready.push(u);
    }
  }
  if (out.length !== nodes.length) bad('the graph has a cycle');
  return out;
}

/**
 * Converts a TF.js graph-model MobileNetV2 classifier to our weights.
 * @throws ModelFormatError `TFJS_UNSUPPORTED_TOPOLOGY` (other ops or wiring, NCHW, dilations, …),
 *   `TFJS_MISSING_WEIGHT`, `TFJS_BAD_WEIGHT_SHAPE`
 */
export function graphToMobileNetV2(model: TfjsModel, opts: MobileNetV2Options = {}): MobileNetV2Weights {
  if (model.kind !== 'graph-model') bad('not a graph model');
  const nodes = topoOrder(nodesOf(model));
  const consts = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const n of nodes) {
    if (n.op !== 'Const') continue;
    const t = model.weights.get(n.name);
    if (t && t.data instanceof Float32Array) consts.set(n.name, { shape: t.shape, data: t.data });
  }
  const constOf = (name: string, what: string): { shape: number[]; data: Float32Array } => {
    const c = consts.get(name);
    if (!c) bad(`${what}: ${name} is not a float weight in the manifest`);
    return c;
  };
  const scalar = (name: string, what: string): number => {
    const c = constOf(name, what);
    if (c.data.length !== 1) bad(`${what}: ${name} is not a scalar`);
    return c.data[0]!;
  };

  const ops: Op[] = [];
  const values = new Map<string, Value>();
  let imageSize = 0;
  let affine: { scale: number; offset: number; stage: 'mul' | 'done' } | undefined;
  const val = (n: GNode, i: number): Value => values.get(n.input[i]!) ?? bad(`${n.op} ${n.name} reads ${n.input[i]}, which is not a feature map`);
  const last = (v: Value, n: GNode): Op => {
    const op = ops[v.op];
    if (!op || v.op !== ops.length - 1) bad(`${n.op} ${n.name} does not directly follow the op it modifies`);
    return op;
  };

  for (const n of nodes) {
    switch (n.op) {
      case 'Const':
        break;
      case 'Placeholder': {
        const dims = ((n.attr.shape as { shape?: { dim?: { size?: string | number }[] } } | undefined)?.shape?.dim ?? []).map((d) => Number(d.size));
        if (imageSize) bad('more than one input');
        if (dims.length !== 4 || dims[3] !== 3 || dims[1] !== dims[2]) bad('the input must be [batch, S, S, 3]');
        imageSize = dims[1]! > 0 ? dims[1]! : 224;
        if (imageSize < 32 || imageSize > 4096) bad('input size out of range');
        values.set(n.name, { op: -1, h: imageSize, w: imageSize, c: 3 });
        break;
      }
      case 'Mul':
      case 'Sub':
      case 'AddV2':
      case 'Add': {
        // Input rescaling (scalar const operand) or a residual add (two feature maps).
        const fm = n.input.filter((i) => values.has(i));
        if (fm.length === 2) {
          const a = val(n, 0), b = val(n, 1);
          if (n.op === 'Mul' || n.op === 'Sub' || a.h !== b.h || a.w !== b.w || a.c !== b.c) bad(`${n.op} ${n.name} of two feature maps`);
          ops.push({ kind: 'add', layer: n.name, inputs: [a.op, b.op] });
          values.set(n.name, { ...a, op: ops.length - 1 });
          break;
        }
        if (fm.length !== 1 || n.input.length !== 2) bad(`${n.op} ${n.name}: unsupported operands`);
        const x = values.get(fm[0]!)!;
        const k = scalar(n.input.find((i) => !values.has(i))!, `${n.op} ${n.name}`);
        if (x.op !== -1) bad(`${n.op} ${n.name}: elementwise ops are only supported on the input`);
        if (n.op === 'Mul') {
          if (affine) bad(`${n.name}: a second input Mul`);
          affine = { scale: k, offset: 0, stage: 'mul' };
        } else {
          if (affine?.stage === 'done') bad(`${n.name}: a second input offset`);
          if (n.op === 'Sub' && n.input[0] !== fm[0]) bad(`${n.name}: constant minus input`);
          affine = { scale: affine?.scale ?? 1, offset: n.op === 'Sub' ? k : -k, stage: 'done' };
        }
        values.set(n.name, x);
        break;
      }
      case '_FusedConv2D':
      case 'FusedDepthwiseConv2dNative':
      case 'Conv2D':
      case 'DepthwiseConv2dNative': {
        const dw = n.op.includes('Depthwise');
        const x = val(n, 0);
        if ((attrStr(n, 'data_format') ?? 'NHWC') !== 'NHWC') bad(`${n.name}: data_format must be NHWC`);
        const strides = attrInts(n, 'strides') ?? [1, 1, 1, 1];
        const dil = attrInts(n, 'dilations') ?? [1, 1, 1, 1];
        if (strides.length !== 4 || strides[1] !== strides[2] || !(strides[1]! >= 1)) bad(`${n.name}: strides`);
        if (dil.some((d) => d !== 1)) bad(`${n.name}: dilated convolutions`);
        const w = constOf(n.input[1]!, n.name);
        const [kh, kw, cin, cm] = w.shape as [number, number, number, number];
        if (w.shape.length !== 4 || cin !== x.c || (dw && cm !== 1)) bad(`${n.name}: weight shape [${w.shape.join(', ')}] for ${x.c} input channels`);
        const cout = dw ? cin : cm;
        const stride = strides[1]!;
        const padding = attrStr(n, 'padding') ?? 'VALID';
        let pads: [number, number, number, number] = [0, 0, 0, 0];
        if (padding === 'SAME') {
          const [t, b] = tfSamePadding(x.h, kh, stride), [l, r] = tfSamePadding(x.w, kw, stride);
          pads = [t, l, b, r];
        } else if (padding === 'EXPLICIT') {
          const e = attrInts(n, 'explicit_paddings') ?? [];
          if (e.length !== 8) bad(`${n.name}: explicit_paddings`);
          pads = [e[2]!, e[4]!, e[3]!, e[5]!];
        } else if (padding !== 'VALID') bad(`${n.name}: padding ${padding}`);
        const ph = x.h + pads[0] + pads[2], pw = x.w + pads[1] + pads[3];
        if (ph < kh || pw < kw) bad(`${n.name}: kernel larger than its input`);
        const oh = Math.floor((ph - kh) / stride) + 1, ow = Math.floor((pw - kw) / stride) + 1;
        const op: ConvOp = { kind: dw ? 'dw' : 'conv', layer: n.name, input: x.op, h: x.h, w: x.w, oh, ow, kh, kw, cin, cout, stride, pads,
          weight: Float64Array.from(w.data), bias: new Float64Array(cout), bn: true, act: 'none' };
        if (n.op.startsWith('_Fused') || n.op.startsWith('Fused')) {
          const fused = attrStrs(n, 'fused_ops');
          if (fused[0] !== 'BiasAdd' || fused.length > 2 || (fused[1] !== undefined && fused[1] !== 'Relu6') || n.input.length !== 3) {
            bad(`${n.name}: fused ops [${fused.join(', ')}]`);
          }
          const b = constOf(n.input[2]!, n.name);
          if (b.data.length !== cout) bad(`${n.name}: bias of ${b.data.length} for ${cout} channels`);
          op.bias.set(b.data);
          if (fused[1] === 'Relu6') op.act = 'relu6';
        }
        ops.push(op);
        values.set(n.name, { op: ops.length - 1, h: oh, w: ow, c: cout });
        break;
      }
      case 'BiasAdd': {
        const x = val(n, 0);
        const op = last(x, n);
        const b = constOf(n.input[1]!, n.name);
        if ((op.kind !== 'conv' && op.kind !== 'dw' && op.kind !== 'dense') || (op.kind !== 'dense' && op.act !== 'none')) bad(`${n.name}: BiasAdd after ${op.kind}`);
        const nOut = op.kind === 'dense' ? op.nOut : op.cout;
        if (b.data.length !== nOut) bad(`${n.name}: bias size`);
        for (let i = 0; i < nOut; i++) op.bias[i] = op.bias[i]! + b.data[i]!;
        values.set(n.name, x);
        break;
      }
      case 'Relu6':
      case 'Relu': {
        const x = val(n, 0);
        const op = last(x, n);
        if (n.op === 'Relu6' && (op.kind === 'conv' || op.kind === 'dw') && op.act === 'none') op.act = 'relu6';
        else if (n.op === 'Relu' && op.kind === 'dense' && op.activation === 'linear') op.activation = 'relu';
        else bad(`${n.name}: ${n.op} after ${op.kind}`);
        values.set(n.name, x);
        break;
      }
      case 'AvgPool':
      case 'Mean': {
        const x = val(n, 0);
        let size: number;
        if (n.op === 'AvgPool') {
          const k = attrInts(n, 'ksize') ?? [];
          const s = attrInts(n, 'strides') ?? [];
          if (k.length !== 4 || k[1] !== k[2] || (attrStr(n, 'padding') ?? 'VALID') !== 'VALID') bad(`${n.name}: only square VALID pooling`);
          size = k[1]!;
          // A window covering the whole map is global pooling whatever the stride; otherwise stride = window.
          if (!(size === x.h && size === x.w) && (s[1] !== size || s[2] !== size)) bad(`${n.name}: pooling stride must equal the window`);
        } else {
          const axes = constOf(n.input[1]!, n.name);
          if (Array.from(axes.data).sort().join() !== '1,2' || x.h !== x.w) bad(`${n.name}: Mean must reduce H and W of a square map`);
          size = x.h;
        }
        if (size > x.h || size > x.w) bad(`${n.name}: pool larger than the map`);
        ops.push({ kind: 'pool', layer: n.name, input: x.op, size });
        values.set(n.name, { op: ops.length - 1, h: Math.floor(x.h / size), w: Math.floor(x.w / size), c: x.c });
        break;
      }
      case 'Squeeze':
      case 'Reshape': {
        const x = val(n, 0);
        ops.push({ kind: 'flatten', layer: n.name, input: x.op });
        values.set(n.name, { op: ops.length - 1, h: 1, w: 1, c: x.h * x.w * x.c });
        break;
      }
      case '_FusedMatMul':
      case 'MatMul': {
        const x = val(n, 0);
        if (x.h !== 1 || x.w !== 1) bad(`${n.name}: MatMul on a feature map`);
        const ta = (n.attr.transpose_a as { b?: boolean } | undefined)?.b === true;
        const tb = (n.attr.transpose_b as { b?: boolean } | undefined)?.b === true;
        if (ta) bad(`${n.name}: transpose_a`);
        const k = constOf(n.input[1]!, n.name);
        const [r, c] = k.shape as [number, number];
        const nIn = tb ? c : r, nOut = tb ? r : c;
        if (k.shape.length !== 2 || nIn !== x.c) bad(`${n.name}: weight [${k.shape.join(', ')}] for ${x.c} inputs`);
        const wT = new Float32Array(nIn * nOut);
        for (let i = 0; i < nIn; i++) for (let o = 0; o < nOut; o++) wT[o * nIn + i] = tb ? k.data[o * nIn + i]! : k.data[i * nOut + o]!;
        const op = { kind: 'dense' as const, layer: n.name, input: x.op, nIn, nOut, weight: wT, bias: new Float32Array(nOut), activation: 'linear' as 'linear' | 'relu' | 'softmax' };
        if (n.op === '_FusedMatMul') {
          const fused = attrStrs(n, 'fused_ops');
          if (fused[0] !== 'BiasAdd' || fused.length > 2 || (fused[1] !== undefined && fused[1] !== 'Relu') || n.input.length !== 3) bad(`${n.name}: fused ops [${fused.join(', ')}]`);
          const b = constOf(n.input[2]!, n.name);
          if (b.data.length !== nOut) bad(`${n.name}: bias size`);
          op.bias.set(b.data);
          if (fused[1] === 'Relu') op.activation = 'relu';
        }
        ops.push(op);
        values.set(n.name, { op: ops.length - 1, h: 1, w: 1, c: nOut });
        break;
      }
      case 'Softmax': {
        const x = val(n, 0);
        const op = last(x, n);
        if (op.kind !== 'dense' || op.activation !== 'linear') bad(`${n.name}: Softmax after ${op.kind}`);
        op.activation = 'softmax';
        values.set(n.name, x);
        break;
      }
      case 'Identity':
        values.set(n.name, val(n, 0));
        break;
      default:
        bad(`node ${n.name} has op ${n.op}`);
    }
  }
  if (!imageSize) bad('no Placeholder input');
  const input: InputAffine | undefined = affine ? { scale: affine.scale, offset: affine.offset } : undefined;
  return assembleMobileNetV2(ops, imageSize, opts, input);
}
