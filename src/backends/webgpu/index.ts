/**
 * The WebGPU backend (browser-safe part): device wrapper, WGSL kernels, single-op runner and the
 * on-GPU transformer. The Node-only host that drives it in headless Chromium is
 * ./chromium-host.ts and ./remote-lm.ts (not re-exported here, so this module loads in a page).
 */
export { WebGPUDevice, Params, type WebGPUDeviceInfo, type WebGPUDeviceOptions } from './device.js';
export { BufferPool, sizeClass } from './buffer-pool.js';
export { PipelineCache, type KernelSource } from './pipeline-cache.js';
export { WEBGPU_WEIGHT_TYPES, rowBytes, weightReader } from './quant-wgsl.js';
export { matmul, MATVEC_MAX_TOK, type MatmulArgs } from './kernels/matmul.js';
export { getRows } from './kernels/get-rows.js';
export { rmsNorm } from './kernels/norm.js';
export { rope, ropeTable } from './kernels/rope.js';
export { softmax } from './kernels/softmax.js';
export { attention, type AttentionArgs } from './kernels/attention.js';
export { elementwise, type ElementwiseOp } from './kernels/elementwise.js';
export { runOp, type OpRequest } from './ops.js';
export { WebGPUTransformer, GPU_UBATCH, type GPUModelManifest, type ManifestMat } from './model.js';
