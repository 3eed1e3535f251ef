/**
 * Matmul throughput of the `webgpu` device for device profiles (src/bricks/profile.ts shape:
 * GFLOP/s per weight dtype and size), measured in the Chromium page with device-resident buffers
 * (page-api.ts `benchMatmul`). Node only.
 */
import { ChromiumWebGPU } from './chromium-host.js';
import { unwrapPage } from './remote-lm.js';
import { GGMLType } from '../../core/ggml-type.js';
import type { MatmulKernel } from './kernels/matmul.js';

/** One measured matmul size. */
export interface WebGPUMatmulPoint {
  dtype: string;
  nIn: number;
  nOut: number;
  nTok: number;
  /** Milliseconds per matmul (launch + submit included, upload excluded). */
  ms: number;
  /** 2·nIn·nOut·nTok / time, in GFLOP/s. */
  gflops: number;
}

/**
 * Measures Y = X·Wᵀ on the page's WebGPU device for each dtype × (nOut, nIn) × nTok.
 * @param host a running page, or null to launch (and close) one
 * @throws BackendError when no browser or adapter is available.
 */
export async function measureWebGPUMatmul(host: ChromiumWebGPU | null, opts: {
  dtypes?: readonly string[]; sizes?: ReadonlyArray<[number, number]>; nToks?: readonly number[]; reps?: number; kernel?: MatmulKernel;
} = {}): Promise<{ adapter: Record<string, unknown>; points: WebGPUMatmulPoint[] }> {
  const h = host ?? (await ChromiumWebGPU.launch());
  try {
    const adapter = unwrapPage(await h.call<Record<string, unknown>>('info'));
    const points: WebGPUMatmulPoint[] = [];
    for (const dtype of opts.dtypes ?? ['Q4_1', 'Q8_0', 'F32']) {
      const type = GGMLType[dtype as keyof typeof GGMLType];
      for (const [nOut, nIn] of opts.sizes ?? [[576, 576], [1536, 576]]) {
        for (const nTok of opts.nToks ?? [1, 32]) {
          const ms = unwrapPage(await h.call<number>('benchMatmul', { type, nIn, nOut, nTok, reps: opts.reps ?? 3, kernel: opts.kernel }));
          points.push({ dtype, nIn, nOut, nTok, ms, gflops: (2 * nIn * nOut * nTok) / (ms * 1e6) });
        }
      }
    }
    return { adapter, points };
  } finally {
    if (!host) await h.close();
  }
}
