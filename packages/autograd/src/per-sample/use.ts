/**
 * @file The contract of one per-sample gradient contribution: a parameter used by one recorded op,
 * with that op's inputs and output gradient kept, able to give its per-sample gradients in three
 * ways (norms, the gradients themselves, or their weighted sum) without building more than it must.
 */

/**
 * One use of a parameter by one op in a backward pass, per sample `i` of a batch of `B`:
 * `g_i` is the part of the parameter's gradient that comes from sample `i` through this op.
 * All methods add into their output (a parameter used by several ops, e.g. an RNN weight over
 * time steps, sums its uses).
 */
export interface PerSampleUse {
  /**
   * Adds `‖g_i‖²` into `out[i]` without materialising `g` (ghost norms). Optional: only valid when
   * this is the parameter's only use (norms of a sum are not sums of norms).
   */
  addNormsSquared?(out: Float64Array): void;
  /** Adds `g_i` into `out[i·size .. (i+1)·size)` (`out` is row-major `[B, *param.shape]`). */
  addMaterialized(out: Float32Array): void;
  /** Adds `Σ_i factors[i]·g_i` into `out` (the parameter's shape, row-major). */
  addWeightedSum(factors: Float32Array, out: Float32Array): void;
}

/**
 * Adds `Σ_i factors[i]·g[i·size .. (i+1)·size)` into `out` (`g` row-major `[B, size]`): float32
 * products summed in float64, rounded once.
 *
 * @throws never for consistent lengths.
 * @example
 * ```ts
 * addWeightedRows(g, factors, B, size, out); // out += Σ_i f_i g_i
 * ```
 */
export function addWeightedRows(g: Float32Array, factors: Float32Array, batch: number, size: number, out: Float32Array): void {
  const acc = new Float64Array(size);
  for (let i = 0; i < batch; i++) {
    const f = factors[i]!;
    for (let j = 0, o = i * size; j < size; j++) acc[j] += Math.fround(f * g[o + j]!);
  }
  for (let j = 0; j < size; j++) out[j] += acc[j]!;
}
