/**
 * WGSL readers of ggml weight rows. For each supported type, `wload4(base, i)` returns elements
 * i…i+3 (i a multiple of 4) of the row whose first block starts at byte `base` of the weight
 * buffer `W`, dequantized to f32. Quantized blocks are read straight from the GGUF bytes bound as
 * `array<u32>` (byte-addressed with unaligned loads, since blocks of 18/22/34/210 bytes are not
 * word aligned). Block layouts and dequantization formulas: llama.cpp ggml/src/ggml-common.h
 * (block_q4_0 … block_q6_K) and ggml-quants.c `dequantize_row_*`; in this repository
 * native/sf_quant.c.
 */
import { GGMLType, typeInfo } from '../../core/ggml-type.js';
import { BackendError } from '../../core/errors.js';

/** Weight types the WebGPU matmul/get_rows kernels read. */
export const WEBGPU_WEIGHT_TYPES: readonly number[] = [
  GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q8_0, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K,
];

/** Bytes of one row of `nIn` elements of `type` (nIn a multiple of the block size). */
export function rowBytes(type: number, nIn: number): number {
  const t = typeInfo(type);
  if (nIn % t.blockSize !== 0) throw new BackendError('WEBGPU_BAD_SHAPE', `row of ${nIn} elements is not a multiple of ${t.name}'s block size ${t.blockSize}`);
  return (nIn / t.blockSize) * t.typeSize;
}

/** Byte helpers over `W: array<u32>` (little-endian). `b16` needs an even offset. */
const BYTES = /* wgsl */ `
fn b8(o: u32) -> u32 { return (W[o >> 2u] >> ((o & 3u) * 8u)) & 0xffu; }
fn b16(o: u32) -> u32 { return (W[o >> 2u] >> ((o & 2u) * 8u)) & 0xffffu; }
fn h2f(o: u32) -> f32 { return unpack2x16float(b16(o)).x; }
fn w32(o: u32) -> u32 {
  let s = (o & 3u) * 8u;
  let lo = W[o >> 2u];
  if (s == 0u) { return lo; }
  return (lo >> s) | (W[(o >> 2u) + 1u] << (32u - s));
}
fn sx8(v: u32) -> vec4<i32> {
  return vec4<i32>(bitcast<i32>(v << 24u) >> 24u, bitcast<i32>(v << 16u) >> 24u, bitcast<i32>(v << 8u) >> 24u, bitcast<i32>(v) >> 24u);
}
fn nib(v: u32, sh: u32) -> vec4<f32> {
  return vec4<f32>(f32((v >> sh) & 15u), f32((v >> (8u + sh)) & 15u), f32((v >> (16u + sh)) & 15u), f32((v >> (24u + sh)) & 15u));
}
`;

/**
 * 6-bit scale and min of sub-block `js` (0…7) from the 12 `scales` bytes at `o + 4` of a Q4_K/Q5_K
 * block (llama.cpp ggml-quants.c `get_scale_min_k4`), as (scale, min).
 */
const SCALE_MIN_K4 = /* wgsl */ `fn scale_min_k4(o: u32, js: u32) -> vec2<u32> {
  if (js < 4u) { return vec2<u32>(b8(o + 4u + js) & 63u, b8(o + 8u + js) & 63u); }
  return vec2<u32>((b8(o + 8u + js) & 15u) | ((b8(o + js) >> 6u) << 4u), (b8(o + 8u + js) >> 4u) | ((b8(o + 4u + js) >> 6u) << 4u));
}`;

const LOADERS: Record<number, string> = {
  [GGMLType.F32]: `fn wload4(base: u32, i: u32) -> vec4<f32> {
  let w = (base >> 2u) + i;
  return vec4<f32>(bitcast<f32>(W[w]), bitcast<f32>(W[w + 1u]), bitcast<f32>(W[w + 2u]), bitcast<f32>(W[w + 3u]));
}`,
  [GGMLType.F16]: `fn wload4(base: u32, i: u32) -> vec4<f32> {
  let w = (base >> 2u) + (i >> 1u);
  return vec4<f32>(unpack2x16float(W[w]), unpack2x16float(W[w + 1u]));
}`,
  [GGMLType.BF16]: `fn wload4(base: u32, i: u32) -> vec4<f32> {
  let w = (base >> 2u) + (i >> 1u);
  let a = W[w]; let b = W[w + 1u];
  return vec4<f32>(bitcast<f32>(a << 16u), bitcast<f32>(a & 0xffff0000u), bitcast<f32>(b << 16u), bitcast<f32>(b & 0xffff0000u));
}`,
  // block_q4_0 {f16 d; u8 qs[16]}: x[j] = (qs[j] & 15) - 8, x[j+16] = (qs[j] >> 4) - 8, times d.
  [GGMLType.Q4_0]: `fn wload4(base: u32, i: u32) -> vec4<f32> {
  let o = base + (i >> 5u) * 18u; let j = i & 31u;
  return (nib(w32(o + 2u + (j & 15u)), select(0u, 4u, j >= 16u)) - 8.0) * h2f(o);
}`,
  // block_q4_1 {f16 d; f16 m; u8 qs[16]}: x = q * d + m.
  [GGMLType.Q4_1]: `fn wload4(base: u32, i: u32) -> vec4<f32> {
  let o = base + (i >> 5u) * 20u; let j = i & 31u;
  return nib(w32(o + 4u + (j & 15u)), select(0u, 4u, j >= 16u)) * h2f(o) + h2f(o + 2u);
}`,
  // block_q5_0 {f16 d; u8 qh[4]; u8 qs[16]}: x[e] = ((nibble) | (bit e of qh) << 4) - 16, times d.
  [GGMLType.Q5_0]: `fn wload4(base: u32, i: u32) -> vec4<f32> {
  let o = base + (i >> 5u) * 22u; let j = i & 31u;
  let qh = w32(o + 2u) >> j;
  let hb = vec4<f32>(f32(qh & 1u), f32((qh >> 1u) & 1u), f32((qh >> 2u) & 1u), f32((qh >> 3u) & 1u)) * 16.0;
  return (nib(w32(o + 6u + (j & 15u)), select(0u, 4u, j >= 16u)) + hb - 16.0) * h2f(o);
}`,
  // block_q8_0 {f16 d; i8 qs[32]}: x = qs * d.
  [GGMLType.Q8_0]: `fn wload4(base: u32, i: u32) -> vec4<f32> {
  let o = base + (i >> 5u) * 34u; let j = i & 31u;
  return vec4<f32>(sx8(w32(o + 2u + j))) * h2f(o);
}`,
  // block_q4_K {f16 d; f16 dmin; u8 scales[12]; u8 qs[128]}: 8 sub-blocks of 32 with 6-bit scale/min
  // (get_scale_min_k4); element e: group g = e/64, low nibbles of qs[32g…] for the first 32, high for the next.
  [GGMLType.Q4_K]: `${SCALE_MIN_K4}
fn wload4(base: u32, i: u32) -> vec4<f32> {
  let o = base + (i >> 8u) * 144u; let e = i & 255u;
  let g = e >> 6u; let hi = (e >> 5u) & 1u; let l = e & 31u;
  let js = 2u * g + hi;
  let sm = scale_min_k4(o, js); let sc = sm.x; let mn = sm.y;
  let d = h2f(o) * f32(sc); let m = h2f(o + 2u) * f32(mn);
  return nib(w32(o + 16u + 32u * g + l), hi * 4u) * d - m;
}`,
  // block_q5_K {f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}: as Q4_K plus a fifth bit,
  // bit (2g + hi) of qh[l] for element e = 64g + 32hi + l.
  [GGMLType.Q5_K]: `${SCALE_MIN_K4}
fn wload4(base: u32, i: u32) -> vec4<f32> {
  let o = base + (i >> 8u) * 176u; let e = i & 255u;
  let g = e >> 6u; let hi = (e >> 5u) & 1u; let l = e & 31u;
  let js = 2u * g + hi;
  let sm = scale_min_k4(o, js); let sc = sm.x; let mn = sm.y;
  let qh = w32(o + 16u + l) >> (2u * g + hi);
  let hb = vec4<f32>(f32(qh & 1u), f32((qh >> 8u) & 1u), f32((qh >> 16u) & 1u), f32((qh >> 24u) & 1u)) * 16.0;
  return (nib(w32(o + 48u + 32u * g + l), hi * 4u) + hb) * (h2f(o) * f32(sc)) - h2f(o + 2u) * f32(mn);
}`,
  // block_q6_K {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}: element e: half h = e/128, quarter k,
  // lane l; q = (4 bits of ql | 2 bits of qh << 4) - 32, times d * scales[8h + l/16 + 2k].
  [GGMLType.Q6_K]: `fn wload4(base: u32, i: u32) -> vec4<f32> {
  let o = base + (i >> 8u) * 210u; let e = i & 255u;
  let h = e >> 7u; let k = (e >> 5u) & 3u; let l = e & 31u;
  let ql = nib(w32(o + 64u * h + l + (k & 1u) * 32u), select(0u, 4u, k >= 2u));
  let qh = w32(o + 128u + 32u * h + l) >> (2u * k);
  let hb = vec4<f32>(f32(qh & 3u), f32((qh >> 8u) & 3u), f32((qh >> 16u) & 3u), f32((qh >> 24u) & 3u)) * 16.0;
  let sc = f32(bitcast<i32>(b8(o + 192u + 8u * h + (l >> 4u) + 2u * k) << 24u) >> 24u);
  return (ql + hb - 32.0) * (h2f(o + 208u) * sc);
}`,
};

/** WGSL of `wload4` for `f16` storage (`enable f16;` needed; `W: array<vec4<f16>>`). */
const F16_NATIVE = `fn wload4(base: u32, i: u32) -> vec4<f32> { return vec4<f32>(W[((base >> 1u) + i) >> 2u]); }`;

/**
 * WGSL declarations for reading weights of `type` from binding `binding`: the `W` buffer, the
 * byte helpers and `wload4`. With `nativeF16` (device has `shader-f16`) F16 rows are read as
 * `vec4<f16>`; otherwise as u32 pairs through `unpack2x16float`.
 * @throws BackendError `WEBGPU_UNSUPPORTED_TYPE` for a type without a WGSL reader.
 */
export function weightReader(type: number, binding: number, nativeF16 = false): { enable: string; code: string } {
  if (type === GGMLType.F16 && nativeF16) {
    return { enable: 'enable f16;\n', code: `@group(0) @binding(${binding}) var<storage, read> W: array<vec4<f16>>;\n${F16_NATIVE}\n` };
  }
  const l = LOADERS[type];
  if (!l) throw new BackendError('WEBGPU_UNSUPPORTED_TYPE', `no WebGPU kernel for weight type ${typeInfo(type).name}`);
  return { enable: '', code: `@group(0) @binding(${binding}) var<storage, read> W: array<u32>;\n${BYTES}\n${l}\n` };
}
