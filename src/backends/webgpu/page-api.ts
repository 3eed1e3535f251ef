/**
 * The page side of the Node ↔ Chromium RPC (./chromium-host.ts `call`): a handful of functions
 * over one lazily created {@link WebGPUDevice}. Arguments arrive structured-cloned (typed arrays
 * included); float32 results are returned as base64 strings, which playwright transfers
 * compactly (typed arrays would come back as plain objects).
 */
import { WebGPUDevice } from './device.js';
import type { GPUBufferLike } from './gpu-types.js';
import { runOp, type OpRequest } from './ops.js';
import { WebGPUTransformer, type GPUModelManifest } from './model.js';
import { benchMatmul, benchOp, type BenchMatmulArgs, type BenchOpArgs } from './page-bench.js';
import { RequestError } from '../../core/errors.js';

let devP: Promise<WebGPUDevice> | null = null;
const models = new Map<number, WebGPUTransformer>();
let nextId = 1;
const probes = new Map<number, GPUBufferLike>();

function device(): Promise<WebGPUDevice> {
  if (!devP) devP = WebGPUDevice.create();
  return devP;
}

/** Base64 of a float32 array's bytes. */
export function toBase64(a: Float32Array): string {
  const u8 = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let s = '';
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
  return btoa(s);
}

function model(id: number): WebGPUTransformer {
  const m = models.get(id);
  if (!m) throw new RequestError('BAD_MODEL_ID', `no WebGPU model ${id} in this page`);
  return m;
}

/** Serialisable error: name, code, message (so Node can rethrow a typed error). */
function wrap<A extends unknown[], R>(f: (...a: A) => Promise<R>): (...a: A) => Promise<R | { error: { name: string; code?: string; message: string } }> {
  return async (...a: A) => {
    try {
      return await f(...a);
    } catch (e) {
      const err = e as Error & { code?: string };
      return { error: { name: err.name, code: err.code, message: err.message } };
    }
  };
}

/** Functions callable from Node. */
export const pageApi = {
  /** Adapter info, features, whether it is CPU-emulated (SwiftShader: `rows` matmuls) and the limits the kernels depend on. */
  info: wrap(async () => {
    const d = await device();
    const L = d.limits;
    return { ...d.info, cpuEmulated: d.cpuEmulated, maxStorageBufferBindingSize: L.maxStorageBufferBindingSize, maxBufferSize: L.maxBufferSize, maxComputeWorkgroupStorageSize: L.maxComputeWorkgroupStorageSize };
  }),
  /** One kernel on host arrays (./ops.ts). */
  runOp: wrap(async (req: OpRequest) => {
    const r = await runOp(await device(), req);
    return { out: toBase64(r.out), ms: r.ms };
  }),
  /**
   * Device-resident matmul timing for profiles (./page-bench.ts `benchMatmul`): median ms per
   * matmul over several timed submits (launch included, upload excluded), with the kernel this
   * adapter's WebGPUTransformer uses unless `kernel` is given.
   */
  benchMatmul: wrap(async (a: BenchMatmulArgs) => benchMatmul(await device(), a)),
  /** Device-resident timing of a non-matmul kernel, a buffer copy or a run of tiny dispatches (./page-bench.ts `benchOp`). */
  benchOp: wrap(async (a: BenchOpArgs) => benchOp(await device(), a)),
  /**
   * Transfer probe for profiles: decodes base64 float32 bytes as the page decodes its inputs and
   * returns them re-encoded as the page returns logits, with the page-side ms.
   */
  echo: wrap(async (b64: string) => {
    const t0 = performance.now();
    const s = atob(b64);
    const u8 = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) u8[i] = s.charCodeAt(i);
    const out = toBase64(new Float32Array(u8.buffer, 0, u8.length >> 2));
    return { data: out, ms: performance.now() - t0 };
  }),
  /**
   * Logits-return probe for profiles: reads `n` float32 values back from a device buffer (kept
   * per size) and returns them as base64, the path of a forward's logits without the forward.
   */
  readback: wrap(async (n: number) => {
    if (!Number.isInteger(n) || n < 1 || n > 1 << 24) throw new RequestError('BAD_OPTION', `readback size ${n} outside [1, 2^24]`);
    const d = await device();
    let b = probes.get(n);
    if (!b) probes.set(n, (b = d.createBuffer(n * 4, 'readback_probe')));
    return toBase64(await d.readF32(b, n));
  }),
  /** Fetches the GGUF at `url`, uploads the weights and returns a model id. */
  loadModel: wrap(async (manifest: GPUModelManifest, url: string) => {
    const d = await device();
    const res = await fetch(url);
    if (!res.ok) throw new RequestError('MODEL_FETCH_FAILED', `GET ${url}: ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const m = new WebGPUTransformer(d, manifest, bytes);
    await d.flush();
    const id = nextId++;
    models.set(id, m);
    return id;
  }),
  /** Logits (base64 float32) of tokens run at the model's current position. */
  forward: wrap(async (id: number, tokens: number[], allLogits: boolean) => {
    const t0 = performance.now();
    const out = await model(id).forward(tokens, { allLogits });
    return { logits: toBase64(out), ms: performance.now() - t0 };
  }),
  truncate: wrap(async (id: number, n: number) => {
    model(id).truncate(n);
    return model(id).nPast;
  }),
  dispose: wrap(async (id: number) => {
    models.get(id)?.dispose();
    models.delete(id);
    return true;
  }),
};
