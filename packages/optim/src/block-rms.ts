/**
 * @file Block-RMS clipping (Optax `clip_by_block_rms`): each tensor ("block") is divided by
 * `max(1, rms/threshold)` with `rms = sqrt(mean(g²))` (Σg² from `sumSquares`), so no block's RMS
 * exceeds `threshold`. The optimizer stage is `clipGradBlockRms.transform(threshold)`.
 */
import { checkRange } from "./errors.js";
import { sumSquares } from "./norms.js";
import { clipEachTensor } from "./clip-per-tensor.js";
import { gatherGrads, type GradBatch, type ParamsLike } from "./params.js";
import type { ClipResultWith, GradTransform } from "./transform.js";
import { checkedSchedule, type Scheduled } from "./transforms.js";

/** The `detail` of a {@link clipGradBlockRms} result, one entry per gradient that was present. */
export interface BlockRmsDetail {
  /** RMS of each gradient before clipping (float64; 0 for an empty tensor). */
  rms: number[];
  /** Divisor applied to each gradient (`max(1, rms/threshold)`). */
  divisors: number[];
}

/**
 * Block-RMS clipping of a gathered batch (kernel of {@link clipGradBlockRms} and its transform).
 *
 * @throws Never throws.
 * @example
 * ```ts
 * clipBatchBlockRms(gatherGrads("op", params), 0.1);
 * ```
 */
export function clipBatchBlockRms(batch: GradBatch, threshold: number): ClipResultWith<"threshold" | "detail", BlockRmsDetail> {
  const r = clipEachTensor(batch.grads, (one) => {
    const size = one[0]!.length;
    if (size === 0) return { measure: 0, factor: 1, scale: 1, finite: true };
    const s = sumSquares(one);
    const rms = Math.sqrt(s / size);
    // Math.max propagates NaN (a NaN block becomes NaN), as jnp.maximum does.
    const d = Math.max(1, rms / threshold);
    // Scaling by 1/d: a float64 product, rounded once to float32.
    return { measure: rms, factor: d, scale: 1 / d, finite: Number.isFinite(s) };
  });
  return {
    name: "clipGradBlockRms", clipped: r.numClipped > 0, numClipped: r.numClipped, nonFiniteCount: r.nonFiniteCount, skipped: false, threshold,
    detail: { rms: r.measures, divisors: r.factors },
  };
}

/**
 * Divides each gradient in place by `max(1, sqrt(mean(g²)) / threshold)` (Optax
 * `clip_by_block_rms`): blocks whose RMS is at most `threshold` are unchanged, the others are
 * scaled to RMS `threshold`. Parameters without gradients and empty tensors are skipped. Returns a
 * {@link ClipResult} whose `numClipped` counts the *tensors* that were divided, with `threshold`
 * and the per-tensor RMS and divisors in `detail`.
 *
 * @throws {RangeError} unless `threshold > 0`; {TypeError} for NaN.
 * @example
 * ```ts
 * // g = [3, 4]: rms = sqrt((9 + 16)/2) = 3.5355; threshold 1 → g / 3.5355 = [0.8485, 1.1314]
 * clipGradBlockRms([w], 1.0);
 * ```
 */
export function clipGradBlockRms(params: ParamsLike, threshold: number): ClipResultWith<"threshold" | "detail", BlockRmsDetail> {
  const op = "clipGradBlockRms";
  const t = checkRange(op, "threshold", threshold, 0, Infinity, { loOpen: true });
  return clipBatchBlockRms(gatherGrads(op, params), t);
}

/**
 * {@link clipGradBlockRms} as an optimizer stage (Optax `clip_by_block_rms`): the same arguments
 * minus `params`; `threshold` may be a schedule `(step) => threshold`. Named `"clipGradBlockRms"`.
 *
 * @throws {RangeError} unless `threshold > 0` (at construction, or at the step for a schedule).
 * @example
 * ```ts
 * new Adam(params, { clip: clipGradBlockRms.transform(1.0) });
 * ```
 */
clipGradBlockRms.transform = function transform(threshold: Scheduled<number>): GradTransform<BlockRmsDetail> {
  const op = "clipGradBlockRms.transform";
  const thresholdAt = checkedSchedule(op, "threshold", threshold, (v) => checkRange(op, "threshold", v, 0, Infinity, { loOpen: true }));
  return {
    name: "clipGradBlockRms",
    apply: (batch: GradBatch) => clipBatchBlockRms(batch, thresholdAt(batch.step)),
  };
};
