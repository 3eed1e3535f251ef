/**
 * RMSNorm, computed as ggml does (ggml-cpu/ops.cpp `ggml_compute_forward_rms_norm_f32`):
 * sum of squares accumulated in float64, mean rounded to float32, scale = 1/sqrtf(mean + eps)
 * in float32, y = (x * scale) * w. Paper: Zhang & Sennrich 2019, "Root Mean Square Layer
 * Normalization".
 */

const fr = Math.fround;

/**
 * In-place-capable RMSNorm of `rows` rows of length `n`.
 * @param x input float32 [rows, n] (row-major, rows starting at `xOff`)
 * @param w weight float32 [n], or null for a plain rms_norm without weight
 * @param y output float32 [rows, n] (may alias x)
 * @param eps epsilon added to the mean square
 */
export function rmsNorm(x: Float32Array, w: Float32Array | null, y: Float32Array, rows: number, n: number, eps: number, xOff = 0, yOff = 0): void {
  for (let r = 0; r < rows; r++) {
    const xo = xOff + r * n;
    const yo = yOff + r * n;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const v = x[xo + i]!;
      sum += fr(v * v);
    }
    const mean = fr(sum / n);
    const scale = fr(1 / fr(Math.sqrt(fr(mean + eps))));
    if (w) for (let i = 0; i < n; i++) y[yo + i] = fr(x[xo + i]! * scale) * w[i]!;
    else for (let i = 0; i < n; i++) y[yo + i] = x[xo + i]! * scale;
  }
}
