/**
 * The WebGPU device wrapper: adapter and device request (with the adapter's largest buffer
 * limits and `shader-f16` when offered), a pool for scratch and staging buffers, a pipeline cache,
 * and a command batcher. Kernels are recorded with {@link WebGPUDevice.dispatch} (no GPU work yet)
 * and submitted together by {@link WebGPUDevice.flush}, with each dispatch's small parameter block
 * written into one uniform ring buffer (one `writeBuffer` per submit). WebGPU orders storage
 * accesses between dispatches of a pass (each dispatch is its own usage scope, WebGPU §21.1),
 * so kernels may read what earlier ones wrote.
 *
 * Runs wherever a `GPU` object exists: `navigator.gpu` in browsers, or the `webgpu` npm
 * package's `create([])` in Node (Dawn; needs a real GPU driver).
 */
import { BackendError } from '../../core/errors.js';
import { BufferPool } from './buffer-pool.js';
import { PipelineCache, type KernelSource } from './pipeline-cache.js';
import { BufferUsage, MAP_READ, type GPUAdapterInfoLike, type GPUBufferLike, type GPUDeviceLike, type GPULike, type GPULimitsLike } from './gpu-types.js';

/** Bytes of one dispatch's parameter block (≥ minUniformBufferOffsetAlignment of every implementation). */
export const PARAM_BYTES = 256;
/** Parameter slots in the uniform ring; a batch larger than this is split into several submits. */
const RING_SLOTS = 2048;

/** Usage of storage buffers the kernels read and write. */
export const STORAGE_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

/** Parameter block writer: 64 32-bit words, each written as u32, i32 or f32. */
export class Params {
  readonly u32 = new Uint32Array(PARAM_BYTES / 4);
  readonly i32 = new Int32Array(this.u32.buffer);
  readonly f32 = new Float32Array(this.u32.buffer);
  private n = 0;
  /** Appends an unsigned 32-bit integer. */
  u(v: number): this {
    this.u32[this.n++] = v >>> 0;
    return this;
  }
  /** Appends a signed 32-bit integer. */
  i(v: number): this {
    this.i32[this.n++] = v | 0;
    return this;
  }
  /** Appends a float32. */
  f(v: number): this {
    this.f32[this.n++] = v;
    return this;
  }
}

interface Pending {
  kernel: KernelSource;
  buffers: GPUBufferLike[];
  params: Uint32Array;
  groups: [number, number, number];
}

/** Adapter identity and what the device was created with. */
export interface WebGPUDeviceInfo {
  vendor: string;
  architecture: string;
  description: string;
  /** Features enabled on the device (e.g. `shader-f16`). */
  features: string[];
}

/** Options of {@link WebGPUDevice.create}. */
export interface WebGPUDeviceOptions {
  /** The GPU entry point; default `globalThis.navigator.gpu`. */
  gpu?: GPULike;
  /** Request `shader-f16` when the adapter has it (default true). */
  f16?: boolean;
}

/** A WebGPU device with pools, a pipeline cache and a command batcher. */
export class WebGPUDevice {
  /** Scratch storage buffers (activations). */
  readonly pool: BufferPool;
  /** MAP_READ staging buffers for downloads. */
  readonly staging: BufferPool;
  readonly pipelines: PipelineCache;
  private readonly ring: GPUBufferLike;
  private readonly ringData = new Uint32Array((RING_SLOTS * PARAM_BYTES) / 4);
  private pending: Pending[] = [];
  private lostReason: string | null = null;
  /** Dispatches submitted since creation (for profiling). */
  dispatches = 0;

  private constructor(readonly device: GPUDeviceLike, readonly info: WebGPUDeviceInfo) {
    this.pool = new BufferPool(device, STORAGE_USAGE, 'scratch');
    this.staging = new BufferPool(device, MAP_READ | BufferUsage.COPY_DST, 'staging');
    this.pipelines = new PipelineCache(device);
    this.ring = device.createBuffer({ size: RING_SLOTS * PARAM_BYTES, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, label: 'params' });
    void device.lost.then((l) => {
      this.lostReason = `${l.reason}: ${l.message}`;
    });
  }

  /**
   * Requests an adapter and a device with the adapter's maximal buffer-size limits.
   * @throws BackendError `WEBGPU_UNAVAILABLE` when there is no `GPU` object or no adapter.
   */
  static async create(opts: WebGPUDeviceOptions = {}): Promise<WebGPUDevice> {
    const gpu = opts.gpu ?? (globalThis as { navigator?: { gpu?: GPULike } }).navigator?.gpu;
    if (!gpu) throw new BackendError('WEBGPU_UNAVAILABLE', 'WebGPU is not available here (no navigator.gpu; in Node pass the `webgpu` package\'s GPU object)');
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new BackendError('WEBGPU_UNAVAILABLE', 'WebGPU found no adapter (no GPU driver Dawn/the browser accepts)');
    const features: string[] = [];
    if (opts.f16 !== false && adapter.features.has('shader-f16')) features.push('shader-f16');
    const L = adapter.limits;
    const requiredLimits: Record<string, number> = {
      maxStorageBufferBindingSize: L.maxStorageBufferBindingSize,
      maxBufferSize: L.maxBufferSize,
      maxComputeWorkgroupStorageSize: L.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: L.maxComputeInvocationsPerWorkgroup,
      maxStorageBuffersPerShaderStage: L.maxStorageBuffersPerShaderStage,
    };
    let device: GPUDeviceLike;
    try {
      device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits, label: 'synflux' });
    } catch (e) {
      throw new BackendError('WEBGPU_UNAVAILABLE', `WebGPU requestDevice failed: ${(e as Error).message}`, { cause: e });
    }
    const ai: GPUAdapterInfoLike = adapter.info ?? { vendor: 'unknown', architecture: 'unknown' };
    return new WebGPUDevice(device, { vendor: ai.vendor, architecture: ai.architecture, description: ai.description ?? '', features });
  }

  /** Device limits. */
  get limits(): GPULimitsLike {
    return this.device.limits;
  }

  /** True on a CPU-emulated adapter (SwiftShader), where kernels without barriers are preferred. */
  get cpuEmulated(): boolean {
    return /swiftshader|llvmpipe|lavapipe/i.test(`${this.info.architecture} ${this.info.description} ${this.info.vendor}`);
  }

  /** True when WGSL `f16` arithmetic/storage (`enable f16;`) is available. */
  get hasF16(): boolean {
    return this.info.features.includes('shader-f16');
  }

  /**
   * A new storage buffer holding `data` (padded with zeros to a multiple of 4 bytes plus 4 spare
   * bytes, so kernels may read one word past unaligned block data).
   * @throws BackendError `WEBGPU_TOO_LARGE` when it exceeds maxStorageBufferBindingSize.
   */
  createBuffer(data: ArrayBufferView | number, label = 'data'): GPUBufferLike {
    const n = typeof data === 'number' ? data : data.byteLength;
    const size = Math.max(16, (Math.ceil(n / 4) + 1) * 4);
    if (size > this.limits.maxStorageBufferBindingSize) {
      throw new BackendError('WEBGPU_TOO_LARGE', `${label}: ${size} bytes exceed this device's maxStorageBufferBindingSize (${this.limits.maxStorageBufferBindingSize})`);
    }
    const buf = this.device.createBuffer({ size, usage: STORAGE_USAGE, label });
    if (typeof data !== 'number') this.write(buf, data);
    return buf;
  }

  /** Copies `data` into `buf` at byte `offset` (queued; ordered before later submits). */
  write(buf: GPUBufferLike, data: ArrayBufferView, offset = 0): void {
    const n = data.byteLength;
    if (offset + n > buf.size) throw new BackendError('WEBGPU_BAD_BUFFER', `write of ${n} bytes at ${offset} overflows a ${buf.size}-byte buffer`);
    const whole = n & ~3;
    if (whole > 0) this.device.queue.writeBuffer(buf, offset, new Uint8Array(data.buffer, data.byteOffset, whole));
    if (whole < n) {
      const tail = new Uint8Array(4);
      tail.set(new Uint8Array(data.buffer, data.byteOffset + whole, n - whole));
      this.device.queue.writeBuffer(buf, offset + whole, tail, 0, 4);
    }
  }

  /** Records one kernel dispatch. `buffers` bind to @binding(1…) of group 0; params to @binding(0). */
  dispatch(kernel: KernelSource, buffers: GPUBufferLike[], params: Params, groups: [number, number?, number?]): void {
    this.pending.push({ kernel, buffers, params: params.u32.slice(), groups: [groups[0], groups[1] ?? 1, groups[2] ?? 1] });
  }

  /**
   * Submits every recorded dispatch.
   * @throws BackendError `WEBGPU_VALIDATION` with the implementation's message when a shader fails
   *   to compile or a binding is invalid; `WEBGPU_DEVICE_LOST` after device loss.
   */
  async flush(): Promise<void> {
    if (this.lostReason) throw new BackendError('WEBGPU_DEVICE_LOST', `WebGPU device lost (${this.lostReason})`);
    const all = this.pending;
    this.pending = [];
    if (all.length === 0) return;
    this.device.pushErrorScope('validation');
    let thrown: unknown = null;
    try {
      this.encodeAndSubmit(all);
    } catch (e) {
      thrown = e;
    }
    const err = await this.device.popErrorScope();
    if (thrown) throw thrown instanceof BackendError ? thrown : new BackendError('WEBGPU_VALIDATION', `WebGPU call failed: ${(thrown as Error).message}`, { cause: thrown });
    if (err) throw new BackendError('WEBGPU_VALIDATION', `WebGPU validation error in [${[...new Set(all.map((p) => p.kernel.name))].join(', ')}]: ${err.message}`);
  }

  /** Encodes `all` in passes of at most RING_SLOTS dispatches and submits them. */
  private encodeAndSubmit(all: Pending[]): void {
    for (let s = 0; s < all.length; s += RING_SLOTS) {
      const part = all.slice(s, s + RING_SLOTS);
      const words = PARAM_BYTES / 4;
      part.forEach((p, i) => this.ringData.set(p.params, i * words));
      this.device.queue.writeBuffer(this.ring, 0, this.ringData.subarray(0, (part.length * PARAM_BYTES) / 4));
      const enc = this.device.createCommandEncoder();
      const pass = enc.beginComputePass();
      part.forEach((p, i) => {
        const pipe = this.pipelines.get(p.kernel);
        const entries = [{ binding: 0, resource: { buffer: this.ring, offset: i * PARAM_BYTES, size: PARAM_BYTES } }];
        p.buffers.forEach((b, j) => entries.push({ binding: j + 1, resource: { buffer: b, offset: 0, size: b.size } }));
        pass.setPipeline(pipe);
        pass.setBindGroup(0, this.device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries }));
        pass.dispatchWorkgroups(p.groups[0], p.groups[1], p.groups[2]);
      });
      pass.end();
      this.device.queue.submit([enc.finish()]);
      this.dispatches += part.length;
    }
  }

  /**
   * Flushes pending work and copies `bytes` bytes from `buf` at byte `offset` back to the host.
   * @throws BackendError as {@link flush}.
   */
  async read(buf: GPUBufferLike, bytes: number, offset = 0): Promise<ArrayBuffer> {
    await this.flush();
    const n = Math.ceil(bytes / 4) * 4;
    const st = this.staging.acquire(n);
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(buf, offset, st, 0, n);
    this.device.queue.submit([enc.finish()]);
    await st.mapAsync(MAP_READ, 0, n);
    const out = st.getMappedRange(0, n).slice(0, bytes);
    st.unmap();
    this.staging.release(st);
    return out;
  }

  /** Reads `n` float32 values starting at element `offset`. */
  async readF32(buf: GPUBufferLike, n: number, offset = 0): Promise<Float32Array> {
    return new Float32Array(await this.read(buf, n * 4, offset * 4));
  }

  /** Splits `n` workgroups into an (x, y) grid within maxComputeWorkgroupsPerDimension. Kernels recover id = x + y·gridX. */
  grid(n: number): [number, number] {
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (n <= max) return [Math.max(1, n), 1];
    const y = Math.ceil(n / max);
    return [Math.ceil(n / y), y];
  }

  /** Destroys the device and its pools. */
  destroy(): void {
    this.pool.trim();
    this.staging.trim();
    this.device.destroy();
  }
}
