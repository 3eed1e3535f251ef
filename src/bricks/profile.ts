/**
 * Measures device profiles (schema: src/bricks/profile-schema.ts) for `synflux profile`:
 * matmul GFLOP/s per weight dtype at a few sizes and token counts, memory-bound GB/s, per-call
 * launch overhead, per-element costs of the non-matmul kernels and of the host's JavaScript work
 * (image decode, resize, norms; src/bricks/profile-ops.ts), and the cost of moving activations between the main thread and each device's
 * host (a worker thread for `cpu`/`wasm`, onnxruntime tensors for `onnx`, the Chromium page's
 * base64 RPC for `webgpu`), from which the device-to-device transfer entries are derived. The
 * `webgpu` device (WGSL kernels in headless Chromium) is measured by
 * src/backends/webgpu/profile.ts `measureWebGPUDevice`, with the same figures plus the
 * webgpu-only op figures `forwardCall`, `logitsOut`, `attentionHead` and `attentionPair`.
 *
 * Timing: each figure is the median of repeated calls after one warm-up call, repeated until at
 * least `minMs` of wall time and 3 calls (`performance.now()`, ms). On a shared machine the
 * figures are noisy; the planner only needs them to within tens of percent.
 */
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { BackendError, RequestError } from '../core/errors.js';
import { MATMUL_DTYPES, prepareMatmul, type MatmulDeviceName, type PreparedMatmul } from './device-matmul.js';
import { weightBytes } from './cost-model.js';
import { PROFILE_SCHEMA, PROFILE_VERSION, type DeviceProfile, type MatmulPoint, type ProfileSet, type TransferProfile } from './profile-schema.js';

/**
 * Devices `synflux profile` measures: the matmul devices of ./device-matmul.ts and `webgpu`
 * (WGSL kernels in a headless Chromium page, src/backends/webgpu/profile.ts).
 */
export type ProfileDeviceName = MatmulDeviceName | 'webgpu';

/** Options of {@link measureProfiles}. */
export interface MeasureOptions {
  /**
   * Devices to measure (a device that cannot start is an error). Default: cpu, wasm, onnx, and
   * webgpu when a Chromium is installed — skipped with a log line if it cannot start.
   */
  devices?: readonly ProfileDeviceName[];
  /** cpu pool threads / onnx intra-op threads (default 1; wasm is single-threaded). */
  threads?: number;
  /** Weight dtypes (default F32, F16, Q8_0, Q4_1, Q4_K; each device measures those it supports). */
  dtypes?: readonly string[];
  /** `[nOut, nIn]` matmul sizes (default [[512, 512], [2048, 2048]]). */
  sizes?: readonly (readonly [number, number])[];
  /** Token counts (default [1, 64]). */
  nToks?: readonly number[];
  /** Minimum wall time per figure, ms (default 150). */
  minMs?: number;
  /**
   * webgpu only: cap per figure, ms (default max(2000, 10·minMs)); one call longer than half of it
   * is timed once (the 2048² matmuls on SwiftShader take seconds).
   */
  maxMs?: number;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

/** Median ms of `fn` after one warm-up, over ≥ 3 calls and ≥ minMs of wall time (≤ 200 calls). */
export async function timeMedian(fn: () => Promise<unknown> | unknown, minMs: number): Promise<number> {
  await fn();
  const t: number[] = [];
  const start = performance.now();
  while (t.length < 3 || (performance.now() - start < minMs && t.length < 200)) {
    const a = performance.now();
    await fn();
    t.push(performance.now() - a);
  }
  t.sort((x, y) => x - y);
  return t[t.length >> 1]!;
}

/** Deterministic pseudo-random floats in [-scale, scale) (xorshift32), so runs are comparable. */
export function randomFloats(n: number, seed: number, scale = 1): Float32Array {
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

/** Least-squares line `y = a + b·x`; returns [a, b]. */
function fitLine(xs: readonly number[], ys: readonly number[]): [number, number] {
  const n = xs.length;
  const mx = xs.reduce((s, v) => s + v, 0) / n;
  const my = ys.reduce((s, v) => s + v, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  const b = sxx > 0 ? sxy / sxx : 0;
  return [my - b * mx, b];
}

/** One-way main-thread ↔ worker message cost (structured-clone copy): [fixedMs, bytesPerSec]. */
async function measureWorkerHop(minMs: number): Promise<[number, number]> {
  const w = new Worker(`const { parentPort } = require('node:worker_threads'); parentPort.on('message', (m) => parentPort.postMessage(m));`, { eval: true });
  try {
    const sizes = [1 << 10, 1 << 16, 1 << 20];
    const ms: number[] = [];
    for (const bytes of sizes) {
      const payload = new Float32Array(bytes / 4);
      const rt = await timeMedian(() => new Promise<void>((res) => {
        w.once('message', () => res());
        w.postMessage(payload);
      }), minMs);
      ms.push(rt / 2);
    }
    const [a, b] = fitLine(sizes, ms);
    return [Math.max(a, 0), b > 0 ? 1000 / b : 1e12];
  } finally {
    await w.terminate();
  }
}

/** ONNX Runtime input tensor creation + output copy cost: [fixedMs, bytesPerSec]. @throws BackendError `ONNX_RUNTIME_MISSING`. */
async function measureOnnxHop(minMs: number): Promise<[number, number]> {
  const ort = await (await import('../backends/onnx/runtime.js')).loadOnnxRuntime();
  const sizes = [1 << 10, 1 << 16, 1 << 20];
  const ms: number[] = [];
  for (const bytes of sizes) {
    const x = new Float32Array(bytes / 4);
    ms.push(await timeMedian(() => {
      const t = new ort.Tensor('float32', x, [x.length]);
      return (t.data as Float32Array).slice();
    }, minMs));
  }
  const [a, b] = fitLine(sizes, ms);
  return [Math.max(a, 0), b > 0 ? 1000 / b : 1e12];
}

/**
 * Memory-bound GB/s (cpu/wasm): `getRows` of an F32 table (a row gather = a copy: 32 MiB read,
 * 32 MiB written; on wasm plus the copy out of linear memory, as every wasm call pays).
 */
async function measureMemGBs(device: MatmulDeviceName, threads: number, minMs: number): Promise<number> {
  if (device === 'onnx') {
    // No elementwise graph here: a one-token F32 matmul streams its 4096×2048 weight (32 MiB) once.
    const nOut = 4096, nIn = 2048;
    const m = await prepareMatmul('onnx', 'F32', randomFloats(nOut * nIn, 7, 0.05), nOut, nIn, { threads });
    const x = randomFloats(nIn, 8);
    const ms = await timeMedian(() => m.run(x, 1), minMs);
    await m.dispose();
    return (nOut * nIn * 4) / (ms * 1e6);
  }
  const nIn = 4096, rows = 2048;
  const table = randomFloats(nIn * rows, 1);
  const w = new Uint8Array(table.buffer);
  const ids = Int32Array.from({ length: rows }, (_, i) => (i * 7) % rows);
  const out = new Float32Array(nIn * rows);
  let k;
  if (device === 'cpu') {
    const { native } = await import('../backends/cpu/native.js');
    k = native();
    k.setThreads(threads);
  } else {
    k = await (await import('../backends/kernels.js')).kernelsFor('wasm');
  }
  const ms = await timeMedian(() => k.getRows(0, w, nIn, ids, out), minMs);
  return (2 * nIn * rows * 4) / (ms * 1e6);
}

/** Describes the device as measured. */
async function describe(device: MatmulDeviceName, threads: number): Promise<Pick<DeviceProfile, 'kind' | 'description' | 'threads'>> {
  if (device === 'cpu') {
    const { native } = await import('../backends/cpu/native.js');
    return { kind: 'cpu', description: `native addon (${native().getPath()}), ${threads} thread(s), worker-hosted`, threads };
  }
  if (device === 'wasm') return { kind: 'cpu', description: 'wasm/synflux.wasm (SIMD128), 1 thread, worker-hosted', threads: 1 };
  return { kind: 'npu', description: `onnxruntime-node CPU execution provider, ${threads} intra-op thread(s)`, threads };
}

/** Bytes of weight copies a cold one-token matmul rotates over (well above a last-level cache). */
const COLD_BYTES = 96 << 20;
/** At most this many copies (small quantized weights). */
const COLD_MAX_COPIES = 48;

/**
 * Measures one device.
 * @throws BackendError when the device cannot start (addon not built, wasm missing, ORT missing).
 */
export async function measureDevice(device: MatmulDeviceName, opts: MeasureOptions = {}): Promise<DeviceProfile & { hop: [number, number] }> {
  if (!MATMUL_DTYPES[device]) throw new BackendError('BACKEND_UNAVAILABLE', `unknown device '${device}' (known: cpu, wasm, onnx)`);
  const threads = device === 'wasm' ? 1 : opts.threads ?? 1;
  const minMs = opts.minMs ?? 150;
  const log = opts.log ?? (() => {});
  const dtypes = (opts.dtypes ?? ['F32', 'F16', 'Q8_0', 'Q4_1', 'Q4_K']).filter((d) => MATMUL_DTYPES[device].includes(d));
  const sizes = opts.sizes ?? [[512, 512], [2048, 2048]];
  const nToks = opts.nToks ?? [1, 64];
  const matmul: MatmulPoint[] = [];
  const largest = Math.max(...sizes.map(([o, i]) => o * i));
  for (const dtype of dtypes) {
    for (const [nOut, nIn] of sizes) {
      const m = await prepareMatmul(device, dtype, randomFloats(nOut * nIn, nOut + nIn, 0.05), nOut, nIn, { threads });
      // One-token matmuls at the largest size stream their weights from DRAM, as a model's layers do
      // in a decode step (its weights do not fit in the last-level cache): the call rotates over
      // copies of the weight totalling COLD_BYTES, so no copy is still cached when it is read again.
      const cold: PreparedMatmul[] = [];
      if (nOut * nIn === largest && nToks.includes(1)) {
        const n = Math.min(COLD_MAX_COPIES, Math.ceil(COLD_BYTES / weightBytes(dtype, nOut, nIn))) - 1;
        for (let c = 0; c < n; c++) cold.push(await prepareMatmul(device, dtype, randomFloats(nOut * nIn, nOut + nIn + c + 1, 0.05), nOut, nIn, { threads }));
      }
      for (const nTok of nToks) {
        const x = randomFloats(nTok * nIn, nTok);
        const y = new Float32Array(nTok * nOut);
        const ring = nTok === 1 ? [m, ...cold] : [m];
        for (const c of ring.slice(1)) await c.run(x, nTok, y); // first calls (wasm copies weights in) not timed
        let r = 0;
        const ms = await timeMedian(() => ring[r++ % ring.length]!.run(x, nTok, y), minMs);
        const gflops = (2 * nOut * nIn * nTok) / (ms * 1e6);
        matmul.push({ dtype, nOut, nIn, nTok, ms, gflops });
        log(`${device} matmul ${dtype} ${nOut}x${nIn} nTok=${nTok}: ${ms.toFixed(3)} ms, ${gflops.toFixed(2)} GFLOP/s`);
      }
      await m.dispose();
      for (const c of cold) await c.dispose();
    }
  }
  if (device === 'cpu') {
    // The vision encoder's batched F32/F16 matmuls (≥ 8 tokens) run the blocked GEMM of
    // native/sf_vit.c, not `matmul` (src/models/vision/kernels.ts): measured as dtypes `F32.gemm`
    // / `F16.gemm` at the same sizes and the batched token counts (the cost model falls back to
    // F32 / F16 where absent, e.g. on wasm, whose vision matmuls are its plain matmul).
    const { nativeVisionKernels } = await import('../models/vision/kernels.js');
    const { quantizeWeights } = await import('./device-matmul.js');
    const vk = nativeVisionKernels();
    for (const dtype of dtypes.filter((d) => d === 'F32' || d === 'F16')) {
      for (const [nOut, nIn] of sizes) {
        const w = await quantizeWeights(dtype, randomFloats(nOut * nIn, nOut + nIn, 0.05), nOut, nIn);
        for (const nTok of nToks.filter((t) => t >= 8)) {
          const x = randomFloats(nTok * nIn, nTok), y = new Float32Array(nTok * nOut);
          const ms = await timeMedian(() => vk.matmul(dtype === 'F32' ? 0 : 1, w, nOut, nIn, x, nTok, y), minMs);
          const gflops = (2 * nOut * nIn * nTok) / (ms * 1e6);
          matmul.push({ dtype: `${dtype}.gemm`, nOut, nIn, nTok, ms, gflops });
          log(`${device} vision gemm ${dtype} ${nOut}x${nIn} nTok=${nTok}: ${ms.toFixed(3)} ms, ${gflops.toFixed(2)} GFLOP/s`);
        }
      }
    }
  }
  const memGBs = await measureMemGBs(device, threads, minMs);
  log(`${device} memory-bound: ${memGBs.toFixed(2)} GB/s`);
  const tiny = await prepareMatmul(device, 'F32', randomFloats(32 * 32, 3), 32, 32, { threads });
  const x = randomFloats(32, 4), y = new Float32Array(32);
  const launchUs = (await timeMedian(() => tiny.run(x, 1, y), minMs)) * 1000;
  await tiny.dispose();
  log(`${device} launch overhead: ${launchUs.toFixed(1)} µs`);
  const hop = device === 'onnx' ? await measureOnnxHop(minMs) : await measureWorkerHop(minMs);
  log(`${device} host hop: ${hop[0].toFixed(3)} ms + ${(hop[1] / 1e9).toFixed(2)} GB/s`);
  let opNs: Record<string, number> | undefined;
  if (device !== 'onnx') {
    const { measureDeviceOps } = await import('./profile-ops.js');
    opNs = await measureDeviceOps(device, threads, minMs);
    log(`${device} ops (ns/element): ${Object.entries(opNs).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}`);
  }
  return { ...(await describe(device, threads)), matmul, memGBs, launchUs, ...(opNs ? { opNs } : {}), hop };
}

/** Cost of one transfer path as the sum of two one-way hops (fixed ms add, per-byte times add). */
function combine(from: string, to: string, a: [number, number] | null, b: [number, number] | null): TransferProfile {
  const fixed = (a?.[0] ?? 0) + (b?.[0] ?? 0);
  const perByte = (a ? 1 / a[1] : 0) + (b ? 1 / b[1] : 0);
  return { from, to, fixedMs: fixed, bytesPerSec: perByte > 0 ? 1 / perByte : 1e15 };
}

/**
 * Measures every requested device and derives the transfer table. The pseudo-device `host` is the
 * main thread (where a pipeline's inputs come from and its outputs go): `host→D` costs D's hop,
 * `A→B` costs A's hop out plus B's hop in, also for A = B when A is worker-hosted (the executor
 * relays every brick output through the main thread; a webgpu brick's outputs come back to Node
 * too). Without `opts.devices`, webgpu is measured when a Chromium is found and skipped with the
 * log line `webgpu skipped: <reason>` when it cannot start; named devices must start.
 * @throws BackendError when a requested device cannot start; RequestError for bad options.
 */
export async function measureProfiles(opts: MeasureOptions = {}): Promise<ProfileSet> {
  const { findChromium } = await import('../backends/webgpu/chromium-host.js');
  const optionalWebgpu = opts.devices === undefined;
  const requested: readonly ProfileDeviceName[] = opts.devices ?? ['cpu', 'wasm', 'onnx', ...(findChromium() ? ['webgpu' as const] : [])];
  for (const d of requested) if (d !== 'webgpu' && !MATMUL_DTYPES[d]) throw new RequestError('BAD_OPTION', `unknown device '${d}' (known: cpu, wasm, onnx, webgpu)`);
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1 || opts.threads > 256)) {
    throw new RequestError('BAD_OPTION', `--threads must be an integer in [1, 256], got ${opts.threads}`);
  }
  const out: ProfileSet = {
    schema: PROFILE_SCHEMA, version: PROFILE_VERSION, created: new Date().toISOString(),
    host: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    devices: {}, transfers: [],
  };
  // Host (JavaScript) figures first, on a quiet process: after the devices, worker threads being
  // torn down and a closing Chromium (SwiftShader threads) can still share the cores and have
  // doubled these figures (layerNorm, resizePass) in one measured profile.
  const { measureHostOps } = await import('./profile-ops.js');
  out.hostOps = await measureHostOps(opts.minMs ?? 150);
  opts.log?.(`host ops (ns/unit): ${Object.entries(out.hostOps.opNs).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}`);
  const hops = new Map<string, [number, number]>();
  const devices: ProfileDeviceName[] = [];
  for (const d of requested) {
    let m: DeviceProfile & { hop: [number, number] };
    if (d === 'webgpu') {
      const { measureWebGPUDevice } = await import('../backends/webgpu/profile.js');
      try {
        m = await measureWebGPUDevice(opts);
      } catch (e) {
        if (!optionalWebgpu) throw e;
        opts.log?.(`webgpu skipped: ${(e as Error).message}`);
        continue;
      }
    } else m = await measureDevice(d, opts);
    const { hop, ...p } = m;
    out.devices[d] = p;
    hops.set(d, hop);
    devices.push(d);
  }
  for (const a of devices) {
    out.transfers.push(combine('host', a, null, hops.get(a)!), combine(a, 'host', hops.get(a)!, null));
    for (const b of devices) out.transfers.push(combine(a, b, hops.get(a)!, hops.get(b)!));
  }
  return out;
}
