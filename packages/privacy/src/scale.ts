/**
 * @file Scaling of the noisy clipped sum (Opacus `DPOptimizer.scale_grad`): divided by the
 * expected batch size `E = int(N q)` for a mean-reduced loss (Opacus' convention under Poisson
 * sampling), by the actual batch size (fixed-size batches), or not at all for a summed loss.
 */

/** Options of {@link scaleGrad}. */
export interface ScaleOptions {
  /** `"mean"` divides; `"sum"` leaves the gradients unchanged. */
  readonly lossReduction: "mean" | "sum";
  /** For `"mean"`: divide by the expected (default, Opacus) or the actual batch size. */
  readonly divisor?: "expected" | "actual";
  /** `E = int(N q)` (see `expectedBatchSize`); needed for `divisor: "expected"`. */
  readonly expectedBatchSize?: number;
  /** The batch's real size B; needed for `divisor: "actual"`. */
  readonly actualBatchSize?: number;
  /** Opacus' `accumulated_iterations` (gradient accumulation); multiplies the divisor. Default 1. */
  readonly accumulatedIterations?: number;
}

/**
 * The number {@link scaleGrad} divides by (1 for `lossReduction: "sum"`).
 *
 * @example
 * ```ts
 * gradDivisor({ lossReduction: "mean", expectedBatchSize: 8, actualBatchSize: 5 }); // 8
 * gradDivisor({ lossReduction: "mean", divisor: "actual", actualBatchSize: 5 });    // 5
 * ```
 * @throws {RangeError} `gradDivisor: ...` for an unknown `lossReduction` or `divisor`, a missing
 * or non-positive-integer batch size that is needed (an actual batch size of 0 cannot be divided
 * by), or `accumulatedIterations` not a positive integer.
 */
export function gradDivisor(options: ScaleOptions): number {
  return divisorOf("gradDivisor", options);
}

/** {@link gradDivisor}, with the name its errors carry (`gradDivisor` or `scaleGrad`). */
function divisorOf(fn: string, options: ScaleOptions): number {
  const { lossReduction, divisor = "expected", accumulatedIterations = 1 } = options;
  if (lossReduction !== "mean" && lossReduction !== "sum") {
    throw new RangeError(`${fn}: lossReduction must be "mean" or "sum", got ${String(lossReduction)}`);
  }
  if (!Number.isInteger(accumulatedIterations) || accumulatedIterations < 1) {
    throw new RangeError(`${fn}: accumulatedIterations must be a positive integer, got ${String(accumulatedIterations)}`);
  }
  if (lossReduction === "sum") return 1;
  if (divisor !== "expected" && divisor !== "actual") {
    throw new RangeError(`${fn}: divisor must be "expected" or "actual", got ${String(divisor)}`);
  }
  const name = divisor === "expected" ? "expectedBatchSize" : "actualBatchSize";
  const b = divisor === "expected" ? options.expectedBatchSize : options.actualBatchSize;
  if (typeof b !== "number" || !Number.isInteger(b) || b < 1) {
    throw new RangeError(`${fn}: ${name} must be a positive integer for lossReduction "mean" with divisor "${divisor}", got ${String(b)}`);
  }
  return b * accumulatedIterations;
}

/**
 * Returns the gradients divided by {@link gradDivisor} as new float32 arrays (`grad / d` rounded
 * to float32 as torch's in-place division); inputs are not modified.
 *
 * @example
 * ```ts
 * const g = scaleGrad([new Float32Array([8, 4])], { lossReduction: "mean", expectedBatchSize: 8 });
 * g[0]; // Float32Array [1, 0.5]
 * ```
 * @throws {RangeError} as {@link gradDivisor} (messages start with `gradDivisor:`).
 */
export function scaleGrad(grads: readonly Float32Array[], options: ScaleOptions): Float32Array[] {
  const d = divisorOf("scaleGrad", options);
  if (!Array.isArray(grads)) throw new TypeError(`scaleGrad: grads must be an array of Float32Arrays (got ${grads === null ? "null" : typeof grads})`);
  return grads.map((g) => divideInPlace(g.slice(), d));
}

/**
 * `g[k] ← fround(g[k] / d)` in place (skipped for `d = 1`); returns `g`. Internal: `scaleGrad`
 * and `DPOptimizer` (which divides its freshly noised sums without another copy) share it.
 *
 * @throws never.
 * @example
 * ```ts
 * divideInPlace(noisy, 256);
 * ```
 */
export function divideInPlace(g: Float32Array, d: number): Float32Array {
  if (d !== 1) for (let k = 0; k < g.length; k++) g[k] = Math.fround(g[k]! / d);
  return g;
}
