/**
 * get_rows on WebGPU: out[r, :] = dequantize(W[ids[r], :]) — the embedding lookup (ggml_get_rows),
 * for every weight type with a WGSL reader (../quant-wgsl.ts).
 */
import type { WebGPUDevice } from '../device.js';
import { Params } from '../device.js';
import type { GPUBufferLike } from '../gpu-types.js';
import type { KernelSource } from '../pipeline-cache.js';
import { weightReader, rowBytes } from '../quant-wgsl.js';
import { typeInfo } from '../../../core/ggml-type.js';
import { BackendError } from '../../../core/errors.js';

/** WGSL of get_rows for weight type `type`. */
export function getRowsWGSL(type: number, nativeF16 = false): string {
  const r = weightReader(type, 1, nativeF16);
  return `${r.enable}struct P { nIn: u32, rowBytes: u32, nIds: u32, gridX: u32, outOff: u32 }
@group(0) @binding(0) var<uniform> p: P;
${r.code}
@group(0) @binding(2) var<storage, read> ids: array<i32>;
@group(0) @binding(3) var<storage, read_write> O: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * p.gridX;
  if (r >= p.nIds) { return; }
  let base = u32(ids[r]) * p.rowBytes;
  let n4 = p.nIn >> 2u;
  for (var i = lid; i < n4; i += 64u) { O[(p.outOff >> 2u) + r * n4 + i] = wload4(base, i * 4u); }
}`;
}

const cache = new Map<string, KernelSource>();

/**
 * Records out[outOff + r·nIn …] = row ids[r] of W dequantized, for r < nIds. `ids` int32 ids
 * must lie in [0, nRows) — checked by the caller (the kernel reads whatever row it is given).
 * @throws BackendError `WEBGPU_BAD_SHAPE` when nIn is not a multiple of 4 and the block size.
 */
export function getRows(dev: WebGPUDevice, w: GPUBufferLike, ids: GPUBufferLike, out: GPUBufferLike, a: { type: number; nIn: number; nIds: number; outOff?: number }): void {
  const rb = rowBytes(a.type, a.nIn);
  const outOff = a.outOff ?? 0;
  if (a.nIn % 4 !== 0 || outOff % 4 !== 0) throw new BackendError('WEBGPU_BAD_SHAPE', `get_rows: nIn ${a.nIn} and outOff must be multiples of 4`);
  if ((outOff + a.nIds * a.nIn) * 4 > out.size || a.nIds * 4 > ids.size) throw new BackendError('WEBGPU_BAD_SHAPE', 'get_rows: buffers too small');
  const f16 = dev.hasF16 && a.type === 1;
  const key = `${a.type}:${f16}`;
  let k = cache.get(key);
  if (!k) cache.set(key, (k = { name: `get_rows_${typeInfo(a.type).name}`, code: getRowsWGSL(a.type, f16) }));
  const [gx, gy] = dev.grid(a.nIds);
  dev.dispatch(k, [w, ids, out], new Params().u(a.nIn).u(rb).u(a.nIds).u(gx).u(outOff), [gx, gy]);
}
