/**
 * Native kernels whose matmul runs on dequantized (f32) weights with f32 activations: the CPU
 * reference for the WebGPU model, which multiplies f32 activations by dequantized weights (the
 * native quantized paths convert activations to Q8 first).
 */
import { native } from '../../src/backends/cpu/native.js';
import type { LayerKernels } from '../../src/backends/kernels.js';
import { GGMLType } from '../../src/core/ggml-type.js';

export function f32ActivationKernels(): LayerKernels {
  const k = native();
  return {
    getRows: k.getRows.bind(k), rope: k.rope.bind(k), attention: k.attention.bind(k), swiglu: k.swiglu.bind(k), geglu: k.geglu.bind(k),
    setThreads: k.setThreads.bind(k), rmsNorm: k.rmsNorm.bind(k),
    matmul(type, w, nOut, nIn, x, nTok, y) {
      if (type === GGMLType.F32) return k.matmul(type, w, nOut, nIn, x, nTok, y);
      const d = new Float32Array(nOut * nIn);
      k.dequantize(type, w, nOut * nIn, d);
      k.matmul(GGMLType.F32, new Uint8Array(d.buffer), nOut, nIn, x, nTok, y);
    },
  };
}
