/**
 * @file Per-sample gradients of the row-product primitives (`linear`, `matmul` with a 2-D right
 * operand): the gradient of a weight used on rows `X [R, in]` with row gradients `D [R, out]` is
 * `Σ_r D_rᵀ X_r`; the per-sample gradient keeps only the rows of sample `i` (rows are grouped by
 * sample, `R = B·k`). Norms use Opacus' ghost-norm identities (no per-sample tensor built when
 * `k = 1`); the clipped sum is one GEMM on row gradients scaled by each sample's factor.
 */
import * as T from "@tapegrad/tensor";
import type { Tensor } from "@tapegrad/tensor";
import type { PerSampleUse } from "./use.js";

/**
 * A tensor's data as a contiguous row-major array of `rows × cols` values (a view when the
 * tensor is contiguous, else a copy).
 *
 * @throws never for a tensor of `rows × cols` elements.
 * @example
 * ```ts
 * asMatrix(dy, B, nOut); // Float32Array of B·nOut values
 * ```
 */
export function asMatrix(t: Tensor, rows: number, cols: number): Float32Array {
  const c = t.isContiguous ? t : t.contiguous();
  return c.data.subarray(c.offset, c.offset + rows * cols);
}

/**
 * The weight's per-sample use of a row product: `g_i = Σ_{r ∈ i} D_rᵀ X_r` (`[out, in]`, as
 * `linear` lays its weight out) or, with `transposed`, `Σ_{r ∈ i} X_rᵀ D_r` (`[in, out]`, the right
 * operand of `matmul`).
 *
 * @throws never when built by the rules (which check that `R` is a multiple of `B`).
 * @example
 * ```ts
 * const use = new RowProductUse(x, d, B, nIn, nOut, false); // a Linear weight
 * use.addNormsSquared(n2);                                  // ‖g_i‖² without forming g_i
 * ```
 */
export class RowProductUse implements PerSampleUse {
  private readonly k: number;
  constructor(
    private readonly x: Float32Array,
    private readonly d: Float32Array,
    private readonly batch: number,
    private readonly nIn: number,
    private readonly nOut: number,
    private readonly transposed: boolean,
  ) {
    this.k = batch === 0 ? 0 : x.length / nIn / batch;
  }

  /**
   * `‖g_i‖²` added into `out[i]`: `‖X_i‖²·‖D_i‖²` for one row per sample; for `k` rows the Gram
   * identity `Σ_{t,s} (X_t·X_s)(D_t·D_s)` when `2k² ≤ in·out` (Opacus' ghost-norm criterion), else
   * the per-sample product is formed one sample at a time.
   */
  addNormsSquared(out: Float64Array): void {
    const { x, d, batch, nIn, nOut, k } = this;
    if (k === 1) {
      for (let i = 0; i < batch; i++) out[i] += dot(x, i * nIn, x, i * nIn, nIn) * dot(d, i * nOut, d, i * nOut, nOut);
      return;
    }
    if (2 * k * k <= nIn * nOut) {
      for (let i = 0; i < batch; i++) {
        let s = 0;
        for (let t = 0; t < k; t++) {
          const xt = (i * k + t) * nIn, dt = (i * k + t) * nOut;
          s += dot(x, xt, x, xt, nIn) * dot(d, dt, d, dt, nOut);
          for (let u = t + 1; u < k; u++) {
            const xu = (i * k + u) * nIn, du = (i * k + u) * nOut;
            s += 2 * dot(x, xt, x, xu, nIn) * dot(d, dt, d, du, nOut);
          }
        }
        out[i] += s;
      }
      return;
    }
    const g = new Float32Array(nIn * nOut);
    for (let i = 0; i < batch; i++) {
      this.sample(i, g);
      out[i] += dot(g, 0, g, 0, g.length);
    }
  }

  /** Adds `g_i` into `out[i·size ..]` for every sample (`out` is `[B, *weight]`). */
  addMaterialized(out: Float32Array): void {
    const size = this.nIn * this.nOut;
    const g = new Float32Array(size);
    for (let i = 0; i < this.batch; i++) {
      this.sample(i, g);
      for (let j = 0, o = i * size; j < size; j++) out[o + j] += g[j]!;
    }
  }

  /** Adds `Σ_i f_i g_i` into `out`: one GEMM on the row gradients scaled by their sample's factor. */
  addWeightedSum(factors: Float32Array, out: Float32Array): void {
    const { x, d, batch, nIn, nOut, k } = this;
    if (batch === 0) return;
    const scaled = new Float32Array(d.length);
    for (let r = 0, R = batch * k; r < R; r++) {
      const f = factors[(r / k) | 0]!;
      for (let j = 0, o = r * nOut; j < nOut; j++) scaled[o + j] = Math.fround(f * d[o + j]!);
    }
    const D = new T.Tensor(scaled, [batch * k, nOut]), X = new T.Tensor(x, [batch * k, nIn]);
    const g = this.transposed ? T.matmul(X.mT, D) : T.linearWeightGrad(D, X);
    const gd = asMatrix(g, 1, nIn * nOut);
    for (let j = 0; j < gd.length; j++) out[j] += gd[j]!;
  }

  /** Writes sample `i`'s gradient into `g` (one small GEMM over its `k` rows). */
  private sample(i: number, g: Float32Array): void {
    const { x, d, nIn, nOut, k } = this;
    const X = new T.Tensor(x.subarray(i * k * nIn, (i + 1) * k * nIn), [k, nIn]);
    const D = new T.Tensor(d.subarray(i * k * nOut, (i + 1) * k * nOut), [k, nOut]);
    const r = this.transposed ? T.matmul(X.mT, D) : T.linearWeightGrad(D, X);
    g.set(asMatrix(r, 1, nIn * nOut));
  }
}

/**
 * The bias's per-sample use: `g_i = Σ_{r ∈ i} D_r` (`[out]`).
 *
 * @throws never when built by the rules.
 * @example
 * ```ts
 * new RowSumUse(d, B, nOut).addMaterialized(out); // out [B, nOut]
 * ```
 */
export class RowSumUse implements PerSampleUse {
  private readonly k: number;
  constructor(private readonly d: Float32Array, private readonly batch: number, private readonly nOut: number) {
    this.k = batch === 0 ? 0 : d.length / nOut / batch;
  }

  addMaterialized(out: Float32Array): void {
    const { d, batch, nOut, k } = this;
    for (let i = 0; i < batch; i++) {
      for (let t = 0; t < k; t++) {
        const o = (i * k + t) * nOut;
        for (let j = 0; j < nOut; j++) out[i * nOut + j] += d[o + j]!;
      }
    }
  }

  addWeightedSum(factors: Float32Array, out: Float32Array): void {
    const { d, batch, nOut, k } = this;
    const acc = new Float64Array(nOut);
    for (let r = 0, R = batch * k; r < R; r++) {
      const f = factors[(r / k) | 0]!;
      for (let j = 0, o = r * nOut; j < nOut; j++) acc[j] += Math.fround(f * d[o + j]!);
    }
    for (let j = 0; j < nOut; j++) out[j] += acc[j]!;
  }
}

/** `Σ_j a[ia + j]·b[ib + j]` in float64. */
function dot(a: Float32Array, ia: number, b: Float32Array, ib: number, n: number): number {
  let s = 0;
  for (let j = 0; j < n; j++) s += a[ia + j]! * b[ib + j]!;
  return s;
}
