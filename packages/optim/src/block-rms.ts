/**
 * @file Block-RMS clipping (Optax `clip_by_block_rms`): each tensor ("block") is divided by
 * `max(1, rms/threshold)` with `rms = sqrt(mean(g²))`, so no block's RMS exceeds `threshold`.
 */
import { checkRange } from "./errors.js";
import { gatherGrads, type GradBatch, type ParamsLike } from "./params.js";

/** What {@link clipGradBlockRms} did, one entry per gradient that was present. */
export interface BlockRmsResult {
  /** RMS of each gradient before clipping (float64). */
  rms: number[];
  /** Divisor applied to each gradient (`max(1, rms/threshold)`). */
  divisors: number[];
  /** Number of gradients that changed. */
  numClipped: number;
  /** True when any gradient changed. */
  clipped: boolean;
}

/**
 * Block-RMS clipping of a gathered batch (kernel of {@link clipGradBlockRms} and the
 * `clipByBlockRms` transform).
 *
 * @throws Never throws.
 * @example
 * ```ts
 * clipBatchBlockRms(gatherGrads("op", params), 0.1);
 * ```
 */
export function clipBatchBlockRms(batch: GradBatch, threshold: number): BlockRmsResult {
  const rms: number[] = [];
  const divisors: number[] = [];
  let numClipped = 0;
  for (const g of batch.grads) {
    if (g.length === 0) {
      rms.push(0);
      divisors.push(1);
      continue;
    }
    let s = 0;
    for (let i = 0; i < g.length; i++) {
      const x = g[i]!;
      s += x * x;
    }
    const r = Math.sqrt(s / g.length);
    // Math.max propagates NaN (a NaN block becomes NaN), as jnp.maximum does.
    const d = Math.max(1, r / threshold);
    if (d !== 1) {
      for (let i = 0; i < g.length; i++) g[i] = g[i]! / d;
      numClipped++;
    }
    rms.push(r);
    divisors.push(d);
  }
  return { rms, divisors, numClipped, clipped: numClipped > 0 };
}

/**
 * Divides each gradient in place by `max(1, sqrt(mean(g²)) / threshold)` (Optax
 * `clip_by_block_rms`): blocks whose RMS is at most `threshold` are unchanged, the others are
 * scaled to RMS `threshold`. Parameters without gradients and empty tensors are skipped.
 *
 * @throws {RangeError} unless `threshold > 0`; {TypeError} for NaN.
 * @example
 * ```ts
 * // g = [3, 4]: rms = sqrt((9 + 16)/2) = 3.5355; threshold 1 → g / 3.5355 = [0.8485, 1.1314]
 * clipGradBlockRms([w], 1.0);
 * ```
 */
export function clipGradBlockRms(params: ParamsLike, threshold: number): BlockRmsResult {
  const op = "clipGradBlockRms";
  const t = checkRange(op, "threshold", threshold, 0, Infinity, { loOpen: true });
  return clipBatchBlockRms(gatherGrads(op, params), t);
}
