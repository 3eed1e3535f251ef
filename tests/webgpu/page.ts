/**
 * Shared helpers of the WebGPU tests: one headless Chromium page (SwiftShader's WebGPU adapter
 * on machines without a GPU) per test file, a typed `runOp`, and error metrics. Tests skip with
 * a message only when no Chromium is installed.
 */
import { ChromiumWebGPU, findChromium, fromBase64F32 } from '../../src/backends/webgpu/chromium-host.js';
import { unwrapPage } from '../../src/backends/webgpu/remote-lm.js';
import type { OpRequest } from '../../src/backends/webgpu/ops.js';

/** Skip reason when no browser is installed, else false. */
export const SKIP: string | false = findChromium() ? false : 'no Chromium installed (apt-get install chromium, or set SYNFLUX_CHROMIUM): WebGPU kernels cannot run here';

let host: Promise<ChromiumWebGPU> | null = null;

/** The shared page (launched on first use). */
export function page(): Promise<ChromiumWebGPU> {
  host ??= ChromiumWebGPU.launch();
  return host;
}

/** Closes the shared page if it was launched. */
export async function closePage(): Promise<void> {
  if (host) await (await host).close();
  host = null;
}

/** Runs one kernel in the page and returns its float32 output. Page errors rethrow as typed errors. */
export async function gpuOp(req: OpRequest): Promise<Float32Array> {
  const h = await page();
  const r = unwrapPage(await h.call<{ out: string; ms: number } | { error: { name: string; code?: string; message: string } }>('runOp', req));
  return fromBase64F32(r.out);
}

/** max |a − b| / max |b| (normalized max error; 0/0 = 0). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} ≠ ${b.length}`);
  let m = 0, s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = d; // NaN propagates
    s = Math.max(s, Math.abs(b[i]!));
  }
  return s === 0 ? m : m / s;
}
