/**
 * Compute pipelines cached by (WGSL source, entry point, pipeline-overridable constants): a kernel
 * specialised for a weight type or a workgroup size is compiled once per device and reused.
 */
import type { GPUComputePipelineLike, GPUDeviceLike } from './gpu-types.js';

/** A WGSL kernel: its source, entry point and override constants. */
export interface KernelSource {
  /** Stable name used in labels and error messages, e.g. `matvec_Q4_1`. */
  name: string;
  /** WGSL source text. */
  code: string;
  /** Entry point (default `main`). */
  entry?: string;
  /** Values of `override` declarations. */
  constants?: Record<string, number>;
}

/** Pipeline cache of one device. */
export class PipelineCache {
  private readonly map = new Map<string, GPUComputePipelineLike>();
  private compiled = 0;

  constructor(private readonly device: GPUDeviceLike) {}

  /** Cache key of a kernel: source + entry point + sorted constants. */
  static key(k: KernelSource): string {
    const c = k.constants ? Object.keys(k.constants).sort().map((n) => `${n}=${k.constants![n]}`).join(',') : '';
    return `${k.entry ?? 'main'}|${c}|${k.code}`;
  }

  /**
   * The pipeline of `k`, compiled on first use. Compilation errors surface as a validation error
   * on the device (caught by the caller's error scope, see WebGPUDevice.flush).
   */
  get(k: KernelSource): GPUComputePipelineLike {
    const key = PipelineCache.key(k);
    let p = this.map.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ code: k.code, label: k.name });
      p = this.device.createComputePipeline({
        layout: 'auto',
        label: k.name,
        compute: { module, entryPoint: k.entry ?? 'main', ...(k.constants ? { constants: k.constants } : {}) },
      });
      this.map.set(key, p);
      this.compiled++;
    }
    return p;
  }

  /** Number of distinct pipelines compiled so far. */
  get size(): number {
    return this.compiled;
  }
}
