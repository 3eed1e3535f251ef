/**
 * MobileNetV2 (Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
 * arXiv:1801.04381; Keras `keras.applications.MobileNetV2`) weights and their GGUF layout.
 *
 * Network (channels-last feature maps `[H, W, C]`, batch norm folded into the conv before it):
 *   stem:   conv kh×kw stride s (ReLU6)
 *   block i (inverted residual): [expand 1×1 conv (ReLU6)] → depthwise kh×kw stride s (ReLU6)
 *           → project 1×1 conv (linear) → [+ block input when `residual`]
 *   head:   1×1 conv (ReLU6) → average pool (pool×pool, stride pool, 'valid') → flatten (H, W, C order)
 *   classifier: dense layers, each with its activation (`relu`, `linear`, `softmax`)
 *
 * GGUF layout (`general.architecture = "mobilenetv2"`), written by {@link mobileNetV2ToGGUF}:
 *   metadata
 *     mobilenetv2.image_size             u32     input height = width (pixels)
 *     mobilenetv2.image_mean/image_std   f32[3]  input = (rgb - mean) / std, rgb in [0, 255]
 *     mobilenetv2.input_scale/input_offset f32   optional: the graph's own input transform after
 *                                                normalization, x = x * scale - offset (TF-Hub models)
 *     mobilenetv2.image_resize           string  how the image reaches image_size:
 *                                                "bilinear_align_corners" (tf.image.resizeBilinear,
 *                                                alignCorners = true, on the normalized image)
 *     mobilenetv2.relu_max               f32     clamp of the ReLUs (6)
 *     mobilenetv2.stem.stride            u32
 *     mobilenetv2.stem.padding           u32[4]  top, left, bottom, right (TF 'same' made explicit)
 *     mobilenetv2.block_count            u32
 *     mobilenetv2.block.stride           u32[n]  depthwise stride of each block
 *     mobilenetv2.block.padding          u32[4n] depthwise pads of each block (top, left, bottom, right)
 *     mobilenetv2.block.residual         bool[n]
 *     mobilenetv2.pool_size              u32     average-pool window = stride
 *     mobilenetv2.fc.activation          string[] one per dense layer
 *     mobilenetv2.class_count            u32
 *     mobilenetv2.class_labels           string[] (optional)
 *     mobilenetv2.batch_norm             string  "folded" (eps and statistics folded at conversion)
 *   tensors (shapes numpy-style, outermost first; ggml `ne` is the reverse), F32 or F16:
 *     stem.weight             [cout, kh, kw, cin]     stem.bias [cout]
 *     blk.{i}.expand.weight   [cexp, 1, 1, cin]       blk.{i}.expand.bias [cexp]   (absent: no expansion)
 *     blk.{i}.dw.weight       [kh, kw, cexp]          blk.{i}.dw.bias [cexp]
 *     blk.{i}.project.weight  [cout, 1, 1, cexp]      blk.{i}.project.bias [cout]
 *     head.weight             [cout, 1, 1, cin]       head.bias [cout]
 *     fc.{j}.weight           [out, in]               fc.{j}.bias [out]
 * In memory (this module's types) conv kernels are kept in TF's HWIO order `[kh, kw, cin, cout]`,
 * which is what the kernels read (src/nn/conv.ts); the GGUF order is the ggml convention of one
 * contiguous row per output channel.
 */
import { ModelFormatError, ShapeError } from '../../core/errors.js';
import { f16BitsToF32, f32ToF16Bits } from '../../core/f16.js';
import { GGMLType } from '../../core/ggml-type.js';
import { GGUFValueType, type GGUFFile } from '../../formats/gguf/reader.js';
import type { GGUFMetadataEntry, GGUFTensorEntry, GGUFWriteSpec } from '../../formats/gguf/writer.js';

/** Pads in pixels: top, left, bottom, right. */
export type Pads = readonly [number, number, number, number];

/** A regular convolution with folded batch norm: weight HWIO `[kh, kw, cin, cout]`, bias `[cout]`. */
export interface ConvLayer {
  readonly kh: number;
  readonly kw: number;
  readonly cin: number;
  readonly cout: number;
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

/** A depthwise convolution (multiplier 1): weight `[kh, kw, c]`, bias `[c]`. */
export interface DepthwiseLayer {
  readonly kh: number;
  readonly kw: number;
  readonly c: number;
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

/** One inverted-residual block. */
export interface InvertedResidualBlock {
  readonly expand?: ConvLayer;
  readonly depthwise: DepthwiseLayer;
  readonly project: ConvLayer;
  readonly stride: number;
  readonly pads: Pads;
  readonly residual: boolean;
}

/** Activation of a dense layer. */
export type DenseActivation = 'linear' | 'relu' | 'softmax';

/** A dense layer: weight `[out, in]` (row per output), bias `[out]`. */
export interface DenseLayer {
  readonly nIn: number;
  readonly nOut: number;
  readonly weight: Float32Array;
  readonly bias: Float32Array;
  readonly activation: DenseActivation;
}

/** Hyperparameters and preprocessing of a MobileNetV2 classifier. */
export interface MobileNetV2Config {
  /** Input height = width, pixels. */
  readonly imageSize: number;
  /** Per-channel (R, G, B) mean and std: input = (rgb - mean) / std with rgb in [0, 255]. */
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  /** Optional transform the network applies to its normalized input: `x * inputScale - inputOffset` (float32 ops). */
  readonly inputScale?: number;
  readonly inputOffset?: number;
  /** Resampling to `imageSize` (only `bilinear_align_corners`, what nsfwjs does, is defined). */
  readonly resize: 'bilinear_align_corners';
  /** ReLU clamp (6). */
  readonly reluMax: number;
  readonly stemStride: number;
  readonly stemPads: Pads;
  /** Average-pool window and stride. */
  readonly poolSize: number;
  readonly classCount: number;
  readonly labels?: readonly string[];
}

/** A whole MobileNetV2 classifier. */
export interface MobileNetV2Weights {
  readonly config: MobileNetV2Config;
  readonly stem: ConvLayer;
  readonly blocks: readonly InvertedResidualBlock[];
  readonly head: ConvLayer;
  readonly fc: readonly DenseLayer[];
}

/** HWIO `[kh, kw, cin, cout]` → `[cout, kh, kw, cin]`. */
function hwioToOhwi(l: ConvLayer): Float32Array {
  const out = new Float32Array(l.weight.length);
  const khw = l.kh * l.kw;
  for (let t = 0; t < khw; t++)
    for (let ci = 0; ci < l.cin; ci++)
      for (let co = 0; co < l.cout; co++) out[(co * khw + t) * l.cin + ci] = l.weight[(t * l.cin + ci) * l.cout + co]!;
  return out;
}

/** `[cout, kh, kw, cin]` → HWIO. */
function ohwiToHwio(w: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(w.length);
  const khw = kh * kw;
  for (let co = 0; co < cout; co++)
    for (let t = 0; t < khw; t++)
      for (let ci = 0; ci < cin; ci++) out[(t * cin + ci) * cout + co] = w[(co * khw + t) * cin + ci]!;
  return out;
}

/** Tensor storage type of {@link mobileNetV2ToGGUF}. */
export type MobileNetV2TensorType = 'f32' | 'f16';

/**
 * Builds the GGUF (metadata + tensors) of a MobileNetV2 classifier, layout in this file's header.
 * @param name `general.name`
 * @param type tensor storage (`f16` rounds every weight to binary16; biases too)
 */
export function mobileNetV2ToGGUF(m: MobileNetV2Weights, name: string, type: MobileNetV2TensorType = 'f32'): GGUFWriteSpec {
  const c = m.config;
  const P = 'mobilenetv2';
  const md: GGUFMetadataEntry[] = [
    { key: 'general.architecture', type: GGUFValueType.STRING, value: 'mobilenetv2' },
    { key: 'general.name', type: GGUFValueType.STRING, value: name },
    { key: 'general.file_type', type: GGUFValueType.UINT32, value: type === 'f16' ? 1 : 0 },
    { key: `${P}.image_size`, type: GGUFValueType.UINT32, value: c.imageSize },
    { key: `${P}.image_mean`, type: GGUFValueType.ARRAY, arrayType: GGUFValueType.FLOAT32, value: [...c.mean] },
    { key: `${P}.image_std`, type: GGUFValueType.ARRAY, arrayType: GGUFValueType.FLOAT32, value: [...c.std] },
    { key: `${P}.image_resize`, type: GGUFValueType.STRING, value: c.resize },
    { key: `${P}.relu_max`, type: GGUFValueType.FLOAT32, value: c.reluMax },
    { key: `${P}.stem.stride`, type: GGUFValueType.UINT32, value: c.stemStride },
    { key: `${P}.stem.padding`, type: GGUFValueType.ARRAY, arrayType: GGUFValueType.UINT32, value: [...c.stemPads] },
    { key: `${P}.block_count`, type: GGUFValueType.UINT32, value: m.blocks.length },
    { key: `${P}.block.stride`, type: GGUFValueType.ARRAY, arrayType: GGUFValueType.UINT32, value: m.blocks.map((b) => b.stride) },
    { key: `${P}.block.padding`, type: GGUFValueType.ARRAY, arrayType: GGUFValueType.UINT32, value: m.blocks.flatMap((b) => [...b.pads]) },
    { key: `${P}.block.residual`, type: GGUFValueType.ARRAY, arrayType: GGUFValueType.BOOL, value: m.blocks.map((b) => b.residual) },
    { key: `${P}.pool_size`, type: GGUFValueType.UINT32, value: c.poolSize },
    { key: `${P}.fc.activation`, type: GGUFValueType.ARRAY, arrayType: GGUFValueType.STRING, value: m.fc.map((f) => f.activation) },
    { key: `${P}.class_count`, type: GGUFValueType.UINT32, value: c.classCount },
    { key: `${P}.batch_norm`, type: GGUFValueType.STRING, value: 'folded' },
  ];
  if (c.inputScale !== undefined || c.inputOffset !== undefined) {
    md.push({ key: `${P}.input_scale`, type: GGUFValueType.FLOAT32, value: c.inputScale ?? 1 });
    md.push({ key: `${P}.input_offset`, type: GGUFValueType.FLOAT32, value: c.inputOffset ?? 0 });
  }
  if (c.labels) md.push({ key: `${P}.class_labels`, type: GGUFValueType.ARRAY, arrayType: GGUFValueType.STRING, value: [...c.labels] });
  const tensors: GGUFTensorEntry[] = [];
  const add = (tname: string, shape: number[], data: Float32Array): void => {
    let bytes: Uint8Array;
    if (type === 'f16') {
      const h = new Uint16Array(data.length);
      for (let i = 0; i < data.length; i++) h[i] = f32ToF16Bits(data[i]!);
      bytes = new Uint8Array(h.buffer);
    } else bytes = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    tensors.push({ name: tname, dims: [...shape].reverse(), type: type === 'f16' ? GGMLType.F16 : GGMLType.F32, data: bytes });
  };
  const conv = (p: string, l: ConvLayer): void => {
    add(`${p}.weight`, [l.cout, l.kh, l.kw, l.cin], hwioToOhwi(l));
    add(`${p}.bias`, [l.cout], l.bias);
  };
  conv('stem', m.stem);
  m.blocks.forEach((b, i) => {
    if (b.expand) conv(`blk.${i}.expand`, b.expand);
    add(`blk.${i}.dw.weight`, [b.depthwise.kh, b.depthwise.kw, b.depthwise.c], b.depthwise.weight);
    add(`blk.${i}.dw.bias`, [b.depthwise.c], b.depthwise.bias);
    conv(`blk.${i}.project`, b.project);
  });
  conv('head', m.head);
  m.fc.forEach((f, j) => {
    add(`fc.${j}.weight`, [f.nOut, f.nIn], f.weight);
    add(`fc.${j}.bias`, [f.nOut], f.bias);
  });
  return { metadata: md, tensors };
}

// ---------------------------------------------------------------------------------------------
// Reading

function fail(code: string, msg: string): never {
  throw new ModelFormatError(code, `mobilenetv2 GGUF: ${msg}`);
}

function u32(g: GGUFFile, key: string): number {
  const v = g.metadata.get(key);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail('MNV2_BAD_METADATA', `${key} must be an unsigned integer, got ${String(v)}`);
  return v;
}

function numArray(g: GGUFFile, key: string, len: number): number[] {
  const v = g.metadata.get(key) as unknown;
  const arr = v && typeof v === 'object' && Symbol.iterator in (v as object) ? Array.from(v as Iterable<unknown>) : undefined;
  if (!arr || arr.length !== len || !arr.every((x) => typeof x === 'number' || typeof x === 'boolean')) {
    fail('MNV2_BAD_METADATA', `${key} must be an array of ${len} numbers`);
  }
  return arr.map((x) => Number(x));
}

function strArray(g: GGUFFile, key: string, len: number | undefined): string[] | undefined {
  const v = g.metadata.get(key) as unknown;
  if (v === undefined) return undefined;
  const arr = typeof v === 'object' && v !== null && Symbol.iterator in (v as object) ? Array.from(v as Iterable<unknown>) : undefined;
  if (!arr || !arr.every((x) => typeof x === 'string') || (len !== undefined && arr.length !== len)) {
    fail('MNV2_BAD_METADATA', `${key} must be an array of ${len ?? 'n'} strings`);
  }
  return arr as string[];
}

/** A tensor as float32, numpy shape checked. */
function tensor(g: GGUFFile, name: string, shape: number[]): Float32Array {
  const t = g.tensor(name);
  if (!t) fail('MNV2_MISSING_TENSOR', `tensor ${name} is missing`);
  const want = [...shape].reverse();
  const dims = t.dims;
  if (dims.length !== want.length || dims.some((d, i) => d !== want[i])) {
    throw new ShapeError('MNV2_BAD_TENSOR_SHAPE', `mobilenetv2 GGUF: ${name} has ne [${dims.join(', ')}], want [${want.join(', ')}]`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  const bytes = g.tensorData(name);
  if (t.type === GGMLType.F32) {
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(bytes.subarray(0, n * 4));
    return out;
  }
  if (t.type === GGMLType.F16) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, n * 2);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = f16BitsToF32(dv.getUint16(2 * i, true));
    return out;
  }
  return fail('MNV2_BAD_TENSOR_TYPE', `${name} has ggml type ${t.type}; only F32 and F16 are supported`);
}

function dimsOf(g: GGUFFile, name: string): number[] {
  const t = g.tensor(name);
  if (!t) fail('MNV2_MISSING_TENSOR', `tensor ${name} is missing`);
  return [...t.dims].reverse();
}

function convFrom(g: GGUFFile, p: string, kh?: number, kw?: number): ConvLayer {
  const d = dimsOf(g, `${p}.weight`);
  if (d.length !== 4) throw new ShapeError('MNV2_BAD_TENSOR_SHAPE', `mobilenetv2 GGUF: ${p}.weight must be 4-D [cout, kh, kw, cin]`);
  const [cout, h, w, cin] = d as [number, number, number, number];
  if ((kh !== undefined && h !== kh) || (kw !== undefined && w !== kw)) {
    throw new ShapeError('MNV2_BAD_TENSOR_SHAPE', `mobilenetv2 GGUF: ${p}.weight must be ${kh}x${kw}`);
  }
  const ohwi = tensor(g, `${p}.weight`, [cout, h, w, cin]);
  return { kh: h, kw: w, cin, cout, weight: ohwiToHwio(ohwi, h, w, cin, cout), bias: tensor(g, `${p}.bias`, [cout]) };
}

/**
 * Reads a MobileNetV2 classifier from a parsed GGUF file (layout in this file's header) and checks
 * that consecutive layers' channel counts fit together.
 * @throws ModelFormatError `MNV2_BAD_METADATA` / `MNV2_MISSING_TENSOR` / `MNV2_BAD_TENSOR_TYPE`,
 *   ShapeError `MNV2_BAD_TENSOR_SHAPE` / `MNV2_CHANNEL_MISMATCH`
 */
export function mobileNetV2FromGGUF(g: GGUFFile): MobileNetV2Weights {
  const arch = g.metadata.get('general.architecture');
  if (arch !== 'mobilenetv2') fail('MNV2_BAD_METADATA', `general.architecture is ${String(arch)}, not mobilenetv2`);
  const P = 'mobilenetv2';
  const n = u32(g, `${P}.block_count`);
  if (n > 1024) fail('MNV2_BAD_METADATA', `block_count ${n} is implausible`);
  const resize = g.metadata.get(`${P}.image_resize`);
  if (resize !== 'bilinear_align_corners') fail('MNV2_BAD_METADATA', `image_resize ${String(resize)} is not supported`);
  const reluMax = g.metadata.get(`${P}.relu_max`);
  if (typeof reluMax !== 'number' || !(reluMax > 0)) fail('MNV2_BAD_METADATA', 'relu_max must be a positive number');
  const strides = numArray(g, `${P}.block.stride`, n);
  const pads = numArray(g, `${P}.block.padding`, 4 * n);
  const residual = numArray(g, `${P}.block.residual`, n);
  const mean = numArray(g, `${P}.image_mean`, 3) as [number, number, number];
  const std = numArray(g, `${P}.image_std`, 3) as [number, number, number];
  if (std.some((s) => !(s > 0))) fail('MNV2_BAD_METADATA', 'image_std must be positive');
  const acts = strArray(g, `${P}.fc.activation`, undefined) ?? [];
  const classCount = u32(g, `${P}.class_count`);
  const labels = strArray(g, `${P}.class_labels`, classCount);
  const imageSize = u32(g, `${P}.image_size`);
  const poolSize = u32(g, `${P}.pool_size`);
  const stemStride = u32(g, `${P}.stem.stride`);
  if (imageSize < 1 || imageSize > 4096 || poolSize < 1 || stemStride < 1) fail('MNV2_BAD_METADATA', 'image_size, pool_size and stem.stride must be in range');
  if (strides.some((s) => !Number.isInteger(s) || s < 1 || s > 16) || pads.some((p) => !Number.isInteger(p) || p < 0 || p > 16)) {
    fail('MNV2_BAD_METADATA', 'block strides/pads out of range');
  }
  const stem = convFrom(g, 'stem');
  let ch = stem.cout;
  const blocks: InvertedResidualBlock[] = [];
  for (let i = 0; i < n; i++) {
    const expand = g.tensor(`blk.${i}.expand.weight`) ? convFrom(g, `blk.${i}.expand`, 1, 1) : undefined;
    const cexp = expand ? expand.cout : ch;
    if (expand && expand.cin !== ch) throw new ShapeError('MNV2_CHANNEL_MISMATCH', `mobilenetv2 GGUF: blk.${i}.expand takes ${expand.cin} channels, gets ${ch}`);
    const dd = dimsOf(g, `blk.${i}.dw.weight`);
    if (dd.length !== 3 || dd[2] !== cexp) throw new ShapeError('MNV2_BAD_TENSOR_SHAPE', `mobilenetv2 GGUF: blk.${i}.dw.weight must be [kh, kw, ${cexp}]`);
    const depthwise: DepthwiseLayer = { kh: dd[0]!, kw: dd[1]!, c: cexp, weight: tensor(g, `blk.${i}.dw.weight`, dd), bias: tensor(g, `blk.${i}.dw.bias`, [cexp]) };
    const project = convFrom(g, `blk.${i}.project`, 1, 1);
    if (project.cin !== cexp) throw new ShapeError('MNV2_CHANNEL_MISMATCH', `mobilenetv2 GGUF: blk.${i}.project takes ${project.cin} channels, gets ${cexp}`);
    const res = residual[i] !== 0;
    if (res && (project.cout !== ch || strides[i] !== 1)) throw new ShapeError('MNV2_CHANNEL_MISMATCH', `mobilenetv2 GGUF: blk.${i} is residual but changes shape`);
    blocks.push({ expand, depthwise, project, stride: strides[i]!, pads: pads.slice(4 * i, 4 * i + 4) as unknown as Pads, residual: res });
    ch = project.cout;
  }
  const head = convFrom(g, 'head', 1, 1);
  if (head.cin !== ch) throw new ShapeError('MNV2_CHANNEL_MISMATCH', `mobilenetv2 GGUF: head takes ${head.cin} channels, gets ${ch}`);
  const fc: DenseLayer[] = [];
  for (let j = 0; j < acts.length; j++) {
    const a = acts[j]!;
    if (a !== 'linear' && a !== 'relu' && a !== 'softmax') fail('MNV2_BAD_METADATA', `fc.${j} activation ${a} is not supported`);
    const d = dimsOf(g, `fc.${j}.weight`);
    if (d.length !== 2) throw new ShapeError('MNV2_BAD_TENSOR_SHAPE', `mobilenetv2 GGUF: fc.${j}.weight must be [out, in]`);
    const [nOut, nIn] = d as [number, number];
    fc.push({ nIn, nOut, weight: tensor(g, `fc.${j}.weight`, [nOut, nIn]), bias: tensor(g, `fc.${j}.bias`, [nOut]), activation: a });
  }
  const nOut = fc.length ? fc[fc.length - 1]!.nOut : head.cout;
  if (nOut !== classCount) fail('MNV2_BAD_METADATA', `class_count ${classCount} but the classifier has ${nOut} outputs`);
  const stemPads = numArray(g, `${P}.stem.padding`, 4) as unknown as Pads;
  const inputScale = g.metadata.get(`${P}.input_scale`), inputOffset = g.metadata.get(`${P}.input_offset`);
  if ((inputScale !== undefined || inputOffset !== undefined) && (typeof inputScale !== 'number' || typeof inputOffset !== 'number' || !Number.isFinite(inputScale) || !Number.isFinite(inputOffset))) {
    fail('MNV2_BAD_METADATA', 'input_scale and input_offset must both be finite numbers');
  }
  return {
    config: {
      imageSize, mean, std, resize: 'bilinear_align_corners', reluMax, stemStride, stemPads, poolSize, classCount, ...(labels ? { labels } : {}),
      ...(typeof inputScale === 'number' ? { inputScale, inputOffset: inputOffset as number } : {}),
    },
    stem, blocks, head, fc,
  };
}
