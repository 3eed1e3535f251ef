/**
 * Gated MLP activations as ggml evaluates them on CPU (ggml-cpu/vec.h):
 * SwiGLU `silu(g) * u` with silu(x) = x / (1 + expf(-x)) (Shazeer 2020, "GLU Variants Improve
 * Transformer"), and GeGLU `gelu(g) * u` where gelu is the tanh approximation (Hendrycks & Gimpel
 * 2016) looked up in an F16 table (`GGML_GELU_FP16`, `ggml_table_gelu_f16`), saturating to 0 below
 * -10 and to x above 10.
 */
import { f16BitsToF32, f32ToF16Bits } from '../core/f16.js';

const fr = Math.fround;
const GELU_COEF_A = fr(0.044715);
const SQRT_2_OVER_PI = fr(0.79788456080286535587989211986876);

/**
 * tanh-approximated GELU in float32 arithmetic (ggml_gelu_f32 as GCC contracts it on x86: one FMA
 * for 1 + (0.044715x)·x, emulated here in double; the product of two floats is exact in double).
 * The native kernel (`geglu` in src/backends/cpu/native.ts) is the bit-exact one used by the model.
 */
export function geluF32(x: number): number {
  x = fr(x);
  const inner = fr(fr(SQRT_2_OVER_PI * x) * fr(fr(GELU_COEF_A * x) * x + 1));
  return fr(fr(fr(0.5 * x)) * fr(1 + fr(Math.tanh(inner))));
}

let geluTable: Float32Array | null = null;
/**
 * The 65536-entry F16 GELU table (input F16 bits → GELU value rounded to F16, as float32), built
 * once: ggml-cpu's `ggml_table_gelu_f16` (ggml-cpu.c), used by ggml_vec_gelu_f32 / geglu.
 */
export function geluF16Table(): Float32Array {
  if (!geluTable) {
    geluTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) geluTable[h] = f16BitsToF32(f32ToF16Bits(geluF32(f16BitsToF32(h))));
  }
  return geluTable;
}

/**
 * out[i] = act(g[i]) * u[i] for i in [0, n).
 * @param kind `silu` (SwiGLU) or `gelu` (GeGLU, F16-table GELU)
 * @param g gate float32 [n]; @param u up float32 [n]; @param out float32 [n] (may alias g or u)
 */
export function gatedActivation(kind: 'silu' | 'gelu', g: Float32Array, u: Float32Array, out: Float32Array, n: number): void {
  if (kind === 'silu') {
    for (let i = 0; i < n; i++) {
      const x = g[i]!;
      out[i] = fr(x / fr(1 + fr(Math.exp(-x)))) * u[i]!;
    }
    return;
  }
  const t = geluF16Table();
  for (let i = 0; i < n; i++) {
    const x = g[i]!;
    if (x <= -10) out[i] = 0;
    else if (x >= 10) out[i] = x * u[i]!;
    else out[i] = t[f32ToF16Bits(x)]! * u[i]!;
  }
}
