/**
 * @file Block-RMS clipping (Optax `clip_by_block_rms`): each tensor ("block") is divided by
 * `max(1, rms/threshold)` with `rms = sqrt(mean(g²))` (Σg² from `sumSquares`), so no block's RMS
 * exceeds `threshold`. The optimizer stage is `clipGradBlockRms.transform(threshold)`.
 */
import { checkRange } from "./errors.js";
import { countNonFinite, scaleInPlace, sumSquares } from "./norms.js";
import { gatherGrads, type GradBatch, type ParamsLike } from "./params.js";
import type { ClipResultWith, GradTransform } from "./transform.js";
import { checkScheduled, resolveScheduled, type Scheduled } from "./transforms.js";

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
  const rms: number[] = [];
  const divisors: number[] = [];
  let numClipped = 0;
  let bad = 0;
  const one: Float32Array[] = [new Float32Array(0)];
  for (const g of batch.grads) {
    if (g.length === 0) {
      rms.push(0);
      divisors.push(1);
      continue;
    }
    one[0] = g;
    const s = sumSquares(one);
    if (!Number.isFinite(s)) bad += countNonFinite(one);
    const r = Math.sqrt(s / g.length);
    // Math.max propagates NaN (a NaN block becomes NaN), as jnp.maximum does.
    const d = Math.max(1, r / threshold);
    if (d !== 1) {
      scaleInPlace(one, 1 / d); // float64 product, rounded once to float32
      numClipped++;
    }
    rms.push(r);
    divisors.push(d);
  }
  return { name: "clipGradBlockRms", clipped: numClipped > 0, numClipped, nonFiniteCount: bad, skipped: false, threshold, detail: { rms, divisors } };
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
  const check = (v: unknown) => checkRange(op, "threshold", v, 0, Infinity, { loOpen: true });
  checkScheduled(op, "threshold", threshold, check);
  return {
    name: "clipGradBlockRms",
    apply: (batch: GradBatch) => clipBatchBlockRms(batch, check(resolveScheduled(threshold, batch.step))),
  };
};
