/**
 * The page side of the Node ↔ Chromium RPC (./chromium-host.ts `call`): a handful of functions
 * over one lazily created {@link WebGPUDevice}. Arguments arrive structured-cloned (typed arrays
 * included); float32 results are returned as base64 strings, which playwright transfers
 * compactly (typed arrays would come back as plain objects).
 */
import { WebGPUDevice } from './device.js';
import { runOp, type OpRequest } from './ops.js';
import { WebGPUTransformer, type GPUModelManifest } from './model.js';
import { matmul, type MatmulKernel } from './kernels/matmul.js';
import { rowBytes } from './quant-wgsl.js';
import { RequestError } from '../../core/errors.js';

let devP: Promise<WebGPUDevice> | null = null;
const models = new Map<number, WebGPUTransformer>();
let nextId = 1;

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
  /** Adapter info, features and the limits the kernels depend on. */
  info: wrap(async () => {
    const d = await device();
    const L = d.limits;
    return { ...d.info, maxStorageBufferBindingSize: L.maxStorageBufferBindingSize, maxBufferSize: L.maxBufferSize, maxComputeWorkgroupStorageSize: L.maxComputeWorkgroupStorageSize };
  }),
  /** One kernel on host arrays (./ops.ts). */
  runOp: wrap(async (req: OpRequest) => {
    const r = await runOp(await device(), req);
    return { out: toBase64(r.out), ms: r.ms };
  }),
  /**
   * Device-resident matmul timing for profiles: random-free zero-filled W (timing does not depend
   * on values), `reps` dispatches in one submit after a warm-up, then a 4-byte readback. Returns
   * ms per matmul (launch and submit overhead included, upload excluded).
   */
  benchMatmul: wrap(async (a: { type: number; nIn: number; nOut: number; nTok: number; reps: number; kernel?: MatmulKernel }) => {
    const d = await device();
    const w = d.createBuffer(rowBytes(a.type, a.nIn) * a.nOut, 'bench_w');
    const x = d.createBuffer(a.nIn * a.nTok * 4, 'bench_x');
    const y = d.createBuffer(a.nOut * a.nTok * 4, 'bench_y');
    try {
      const run = () => matmul(d, w, x, y, { type: a.type, nIn: a.nIn, nOut: a.nOut, nTok: a.nTok, kernel: a.kernel });
      run();
      await d.read(y, 4);
      const t0 = performance.now();
      for (let i = 0; i < a.reps; i++) run();
      await d.read(y, 4);
      return (performance.now() - t0) / a.reps;
    } finally {
      w.destroy();
      x.destroy();
      y.destroy();
    }
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
