/**
 * Keras (TF.js layers-model) MobileNetV2 → {@link MobileNetV2Weights}.
 *
 * The topology is interpreted, not matched by layer names: layers are walked in their listed
 * (topological) order and turned into a small op list — conv / depthwise conv (with the
 * ZeroPadding2D before them and TF 'same' padding made explicit pads), the BatchNormalization
 * after a conv folded into it, ReLU(max_value = 6) fused as the conv's activation, Add, average
 * pooling, Flatten, Dense (Dropout is the identity at inference). The op list must then have the
 * MobileNetV2 shape (stem conv → inverted-residual blocks → 1×1 head conv → average pool →
 * dense layers), else a `ModelFormatError` with code `TFJS_UNSUPPORTED_TOPOLOGY` names the first
 * op that does not fit.
 *
 * Batch-norm folding (inference form of tf.batchNorm: `(x - mean) * gamma / sqrt(var + eps) + beta`),
 * in float64 and rounded once to float32: `s = gamma / sqrt(var + eps)`, `w' = w * s` per output
 * channel, `b' = (b - mean) * s + beta`.
 */
import { ModelFormatError } from '../../core/errors.js';
import { tfSamePadding } from '../../nn/conv.js';
import type { MobileNetV2Weights } from '../../models/vision/mobilenetv2-weights.js';
import type { TfjsModel } from './model.js';
import { assembleMobileNetV2, unsupported as bad, type ConvOp, type MobileNetV2Options, type Op } from './mobilenetv2-ops.js';

/** Options of {@link kerasToMobileNetV2}. */
export type KerasMobileNetV2Options = MobileNetV2Options;

interface KLayer {
  name: string;
  className: string;
  config: Record<string, unknown>;
  inbound: string[];
}

/** A value flowing between layers: the op that produced it and pending zero padding. */
interface Value { op: number; pad: [number, number, number, number]; h: number; w: number; c: number }

function pair(v: unknown, what: string): [number, number] {
  if (Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x) && x > 0)) return [v[0] as number, v[1] as number];
  if (Number.isInteger(v) && (v as number) > 0) return [v as number, v as number];
  return bad(`${what} must be a positive integer pair`);
}

function layersOf(model: TfjsModel): KLayer[] {
  const mc = model.topology.model_config as Record<string, unknown> | undefined;
  const cfg = mc?.config as Record<string, unknown> | undefined;
  const raw = cfg?.layers;
  if (!Array.isArray(raw)) bad('modelTopology.model_config.config.layers is not an array (Sequential models are not supported)');
  return raw.map((l: unknown, i) => {
    const o = l as Record<string, unknown>;
    if (typeof o?.name !== 'string' || typeof o.class_name !== 'string' || typeof o.config !== 'object' || o.config === null) bad(`layer ${i} lacks name/class_name/config`);
    const nodes = Array.isArray(o.inbound_nodes) ? (o.inbound_nodes as unknown[]) : [];
    if (nodes.length > 1) bad(`layer ${o.name} is shared (called ${nodes.length} times)`);
    const inbound = nodes.length ? (nodes[0] as unknown[]).map((e) => (Array.isArray(e) && typeof e[0] === 'string' ? e[0] : bad(`layer ${o.name}: bad inbound node`))) : [];
    return { name: o.name, className: o.class_name, config: o.config as Record<string, unknown>, inbound };
  });
}

/**
 * Converts a TF.js Keras MobileNetV2 classifier (e.g. nsfwjs's `mobilenet_v2`) to our weights.
 * @throws ModelFormatError `TFJS_UNSUPPORTED_TOPOLOGY` (not a MobileNetV2 we can run: other layer
 *   types or wiring, dilations, depth multiplier ≠ 1, …), `TFJS_MISSING_WEIGHT` (a layer's weight
 *   is not in the manifest), `TFJS_BAD_WEIGHT_SHAPE`
 */
export function kerasToMobileNetV2(model: TfjsModel, opts: KerasMobileNetV2Options = {}): MobileNetV2Weights {
  if (model.kind !== 'layers-model') bad('graph models are not supported; convert the Keras (layers) model');
  const layers = layersOf(model);
  const weight = (layer: string, suffix: string, shape: number[]): Float32Array => {
    const t = model.weights.get(`${layer}/${suffix}`);
    if (!t) throw new ModelFormatError('TFJS_MISSING_WEIGHT', `weight ${layer}/${suffix} is not in the weights manifest`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ModelFormatError('TFJS_BAD_WEIGHT_SHAPE', `weight ${layer}/${suffix} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    if (!(t.data instanceof Float32Array)) throw new ModelFormatError('TFJS_BAD_WEIGHT_SHAPE', `weight ${layer}/${suffix} is not float32`);
    return t.data;
  };

  const ops: Op[] = [];
  const values = new Map<string, Value>();
  let imageSize = 0;
  const input = (l: KLayer, n = 1): Value[] => {
    if (l.inbound.length !== n) bad(`layer ${l.name} has ${l.inbound.length} inputs, expected ${n}`);
    return l.inbound.map((name) => values.get(name) ?? bad(`layer ${l.name} reads ${name}, which is not computed before it`));
  };
  const lastConv = (v: Value, l: KLayer): ConvOp => {
    const op = ops[v.op];
    if (!op || (op.kind !== 'conv' && op.kind !== 'dw') || v.op !== ops.length - 1 || v.pad.some((p) => p !== 0)) bad(`${l.className} ${l.name} does not directly follow a convolution`);
    return op;
  };

  for (const l of layers) {
    const c = l.config;
    switch (l.className) {
      case 'InputLayer': {
        const s = c.batch_input_shape ?? c.batch_shape;
        if (!Array.isArray(s) || s.length !== 4 || s[3] !== 3) bad('the input must be [batch, H, W, 3]');
        const [h, w] = [s[1] ?? 224, s[2] ?? 224] as [number, number];
        if (!Number.isInteger(h) || h !== w || h < 32 || h > 4096) bad('the input must be square, 32..4096 pixels');
        imageSize = h;
        values.set(l.name, { op: -1, pad: [0, 0, 0, 0], h, w, c: 3 });
        break;
      }
      case 'ZeroPadding2D': {
        const [v] = input(l);
        const p = c.padding;
        let pads: [number, number, number, number];
        if (Array.isArray(p) && p.length === 2 && Array.isArray(p[0]) && Array.isArray(p[1])) pads = [p[0][0], p[1][0], p[0][1], p[1][1]] as [number, number, number, number];
        else if (Number.isInteger(p)) pads = [p, p, p, p] as [number, number, number, number];
        else bad(`${l.name}: unsupported padding spec`);
        if (pads.some((x) => !Number.isInteger(x) || x < 0 || x > 16)) bad(`${l.name}: padding out of range`);
        const pad: [number, number, number, number] = [v!.pad[0] + pads[0], v!.pad[1] + pads[1], v!.pad[2] + pads[2], v!.pad[3] + pads[3]];
        values.set(l.name, { ...v!, pad });
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const [v] = input(l);
        const dw = l.className === 'DepthwiseConv2D';
        const [kh, kw] = pair(c.kernel_size, `${l.name}.kernel_size`);
        const [sh, sw] = pair(c.strides ?? [1, 1], `${l.name}.strides`);
        if (sh !== sw) bad(`${l.name}: unequal strides`);
        if (c.dilation_rate !== undefined && pair(c.dilation_rate, `${l.name}.dilation_rate`).some((d) => d !== 1)) bad(`${l.name}: dilated convolutions`);
        if ((c.data_format ?? 'channels_last') !== 'channels_last') bad(`${l.name}: channels_first`);
        if ((c.activation ?? 'linear') !== 'linear') bad(`${l.name}: fused activation ${String(c.activation)}`);
        if (dw && (c.depth_multiplier ?? 1) !== 1) bad(`${l.name}: depth_multiplier != 1`);
        const vh = v!.h + v!.pad[0] + v!.pad[2], vw = v!.w + v!.pad[1] + v!.pad[3];
        const pads: [number, number, number, number] = [...v!.pad];
        if (c.padding === 'same') {
          const [t, b] = tfSamePadding(vh, kh, sh), [le, r] = tfSamePadding(vw, kw, sw);
          pads[0] += t; pads[2] += b; pads[1] += le; pads[3] += r;
        } else if (c.padding !== 'valid') bad(`${l.name}: padding ${String(c.padding)}`);
        const ph = v!.h + pads[0] + pads[2], pw = v!.w + pads[1] + pads[3];
        if (ph < kh || pw < kw) bad(`${l.name}: kernel larger than its input`);
        const oh = Math.floor((ph - kh) / sh) + 1, ow = Math.floor((pw - kw) / sw) + 1;
        const cin = v!.c;
        const cout = dw ? cin : Number(c.filters);
        if (!Number.isInteger(cout) || cout < 1) bad(`${l.name}: filters`);
        const wt = dw ? weight(l.name, 'depthwise_kernel', [kh, kw, cin, 1]) : weight(l.name, 'kernel', [kh, kw, cin, cout]);
        const bias = c.use_bias === true ? Float64Array.from(weight(l.name, 'bias', [cout])) : new Float64Array(cout);
        ops.push({ kind: dw ? 'dw' : 'conv', layer: l.name, input: v!.op, h: v!.h, w: v!.w, oh, ow, kh, kw, cin, cout, stride: sh, pads, weight: Float64Array.from(wt), bias, bn: false, act: 'none' });
        values.set(l.name, { op: ops.length - 1, pad: [0, 0, 0, 0], h: oh, w: ow, c: cout });
        break;
      }
      case 'BatchNormalization': {
        const [v] = input(l);
        const op = lastConv(v!, l);
        if (op.bn || op.act !== 'none') bad(`${l.name}: batch norm after an activation or a second batch norm`);
        const ax = c.axis;
        if (!(ax === -1 || ax === 3 || (Array.isArray(ax) && ax.length === 1 && (ax[0] === -1 || ax[0] === 3)))) bad(`${l.name}: axis must be the channel axis`);
        const eps = Number(c.epsilon ?? 1e-3);
        const n = op.cout;
        const gamma = c.scale === false ? new Float32Array(n).fill(1) : weight(l.name, 'gamma', [n]);
        const beta = c.center === false ? new Float32Array(n) : weight(l.name, 'beta', [n]);
        const mean = weight(l.name, 'moving_mean', [n]);
        const variance = weight(l.name, 'moving_variance', [n]);
        for (let co = 0; co < n; co++) {
          const s = gamma[co]! / Math.sqrt(variance[co]! + eps);
          op.bias[co] = (op.bias[co]! - mean[co]!) * s + beta[co]!;
          // conv HWIO and depthwise [kh, kw, c]: the output channel is the fastest axis.
          for (let i = co; i < op.weight.length; i += n) op.weight[i] = op.weight[i]! * s;
        }
        op.bn = true;
        values.set(l.name, v!);
        break;
      }
      case 'ReLU': {
        const [v] = input(l);
        const op = lastConv(v!, l);
        if (Number(c.max_value) !== 6 || Number(c.negative_slope ?? 0) !== 0 || Number(c.threshold ?? 0) !== 0) bad(`${l.name}: only ReLU6 (max_value 6) is supported`);
        if (op.act !== 'none') bad(`${l.name}: two activations in a row`);
        op.act = 'relu6';
        values.set(l.name, v!);
        break;
      }
      case 'Add': {
        const [a, b] = input(l, 2);
        if (a!.h !== b!.h || a!.w !== b!.w || a!.c !== b!.c || a!.pad.some((p) => p) || b!.pad.some((p) => p)) bad(`${l.name}: adds different shapes`);
        ops.push({ kind: 'add', layer: l.name, inputs: [a!.op, b!.op] });
        values.set(l.name, { ...a!, op: ops.length - 1 });
        break;
      }
      case 'AveragePooling2D':
      case 'GlobalAveragePooling2D': {
        const [v] = input(l);
        let size = v!.h;
        if (l.className === 'AveragePooling2D') {
          const [p1, p2] = pair(c.pool_size, `${l.name}.pool_size`);
          const [s1, s2] = pair(c.strides ?? c.pool_size, `${l.name}.strides`);
          if (p1 !== p2 || s1 !== p1 || s2 !== p2 || (c.padding ?? 'valid') !== 'valid') bad(`${l.name}: only square 'valid' pooling with stride = pool size`);
          size = p1;
        } else if (v!.h !== v!.w) bad(`${l.name}: global pooling of a non-square map`);
        if (size > v!.h || size > v!.w) bad(`${l.name}: pool larger than the map`);
        ops.push({ kind: 'pool', layer: l.name, input: v!.op, size });
        values.set(l.name, { op: ops.length - 1, pad: [0, 0, 0, 0], h: Math.floor(v!.h / size), w: Math.floor(v!.w / size), c: v!.c });
        break;
      }
      case 'Flatten': {
        const [v] = input(l);
        ops.push({ kind: 'flatten', layer: l.name, input: v!.op });
        values.set(l.name, { op: ops.length - 1, pad: [0, 0, 0, 0], h: 1, w: 1, c: v!.h * v!.w * v!.c });
        break;
      }
      case 'Dropout':
        values.set(l.name, input(l)[0]!);
        break;
      case 'Dense': {
        const [v] = input(l);
        if (v!.h !== 1 || v!.w !== 1) bad(`${l.name}: Dense on a feature map (Flatten missing)`);
        const act = String(c.activation ?? 'linear');
        if (act !== 'linear' && act !== 'relu' && act !== 'softmax') bad(`${l.name}: activation ${act}`);
        const nIn = v!.c, nOut = Number(c.units);
        const k = weight(l.name, 'kernel', [nIn, nOut]);
        const wT = new Float32Array(nIn * nOut);
        for (let i = 0; i < nIn; i++) for (let o = 0; o < nOut; o++) wT[o * nIn + i] = k[i * nOut + o]!;
        const bias = c.use_bias === false ? new Float32Array(nOut) : weight(l.name, 'bias', [nOut]);
        ops.push({ kind: 'dense', layer: l.name, input: v!.op, nIn, nOut, weight: wT, bias, activation: act });
        values.set(l.name, { op: ops.length - 1, pad: [0, 0, 0, 0], h: 1, w: 1, c: nOut });
        break;
      }
      default:
        bad(`layer ${l.name} of class ${l.className}`);
    }
  }
  return assembleMobileNetV2(ops, imageSize, opts);
}

