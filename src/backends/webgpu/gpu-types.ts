/**
 * The subset of the WebGPU API (W3C WebGPU, https://www.w3.org/TR/webgpu/) this backend uses,
 * declared structurally so the project compiles without DOM/`@webgpu/types` libs and the same code
 * runs against a browser's `navigator.gpu` or the `webgpu` npm package (Dawn) in Node.
 * Names and numeric flag values are those of the specification.
 */

/** `GPUBufferUsage` flags (WebGPU §5.1). */
export const BufferUsage = {
  MAP_READ: 0x0001,
  MAP_WRITE: 0x0002,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  INDEX: 0x0010,
  VERTEX: 0x0020,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
  INDIRECT: 0x0100,
  QUERY_RESOLVE: 0x0200,
} as const;

/** `GPUMapMode.READ` (WebGPU §5.2). */
export const MAP_READ = 0x0001;

/** A GPU buffer. */
export interface GPUBufferLike {
  readonly size: number;
  readonly usage: number;
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>;
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}

/** Adapter/device limits the backend reads (others exist). */
export interface GPULimitsLike {
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupStorageSize: number;
  readonly maxStorageBuffersPerShaderStage: number;
  readonly minUniformBufferOffsetAlignment: number;
  readonly [name: string]: number;
}

/** One binding of a bind group entry. */
export interface GPUBindGroupEntryLike {
  binding: number;
  resource: { buffer: GPUBufferLike; offset?: number; size?: number };
}

/** A compiled compute pipeline. */
export interface GPUComputePipelineLike {
  getBindGroupLayout(index: number): unknown;
}

/** A compute pass encoder. */
export interface GPUComputePassEncoderLike {
  setPipeline(p: GPUComputePipelineLike): void;
  setBindGroup(index: number, group: unknown): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}

/** A command encoder. */
export interface GPUCommandEncoderLike {
  beginComputePass(desc?: object): GPUComputePassEncoderLike;
  copyBufferToBuffer(src: GPUBufferLike, srcOffset: number, dst: GPUBufferLike, dstOffset: number, size: number): void;
  finish(): unknown;
}

/** The device queue. */
export interface GPUQueueLike {
  submit(buffers: unknown[]): void;
  writeBuffer(buffer: GPUBufferLike, offset: number, data: ArrayBufferView | ArrayBuffer, dataOffset?: number, size?: number): void;
  onSubmittedWorkDone(): Promise<void>;
}

/** A compilation message of a shader module. */
export interface GPUCompilationMessageLike {
  readonly type: string;
  readonly message: string;
  readonly lineNum: number;
  readonly linePos: number;
}

/** A shader module. */
export interface GPUShaderModuleLike {
  getCompilationInfo?(): Promise<{ messages: readonly GPUCompilationMessageLike[] }>;
}

/** A logical GPU device. */
export interface GPUDeviceLike {
  readonly limits: GPULimitsLike;
  readonly features: ReadonlySet<string>;
  readonly queue: GPUQueueLike;
  readonly lost: Promise<{ reason: string; message: string }>;
  createBuffer(desc: { size: number; usage: number; mappedAtCreation?: boolean; label?: string }): GPUBufferLike;
  createShaderModule(desc: { code: string; label?: string }): GPUShaderModuleLike;
  createComputePipeline(desc: { layout: 'auto'; compute: { module: GPUShaderModuleLike; entryPoint: string; constants?: Record<string, number> }; label?: string }): GPUComputePipelineLike;
  createComputePipelineAsync?(desc: { layout: 'auto'; compute: { module: GPUShaderModuleLike; entryPoint: string; constants?: Record<string, number> }; label?: string }): Promise<GPUComputePipelineLike>;
  createBindGroup(desc: { layout: unknown; entries: GPUBindGroupEntryLike[] }): unknown;
  createCommandEncoder(desc?: object): GPUCommandEncoderLike;
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<{ message: string } | null>;
  destroy(): void;
}

/** Adapter information (vendor, architecture), where the implementation exposes it. */
export interface GPUAdapterInfoLike {
  readonly vendor: string;
  readonly architecture: string;
  readonly device?: string;
  readonly description?: string;
}

/** A physical adapter. */
export interface GPUAdapterLike {
  readonly limits: GPULimitsLike;
  readonly features: ReadonlySet<string>;
  readonly info?: GPUAdapterInfoLike;
  requestDevice(desc?: { requiredFeatures?: string[]; requiredLimits?: Record<string, number>; label?: string }): Promise<GPUDeviceLike>;
}

/** `navigator.gpu` (or the `webgpu` package's `create([])` result). */
export interface GPULike {
  requestAdapter(opts?: { powerPreference?: 'low-power' | 'high-performance' }): Promise<GPUAdapterLike | null>;
}
