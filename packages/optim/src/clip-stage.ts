/**
 * @file The clipping stage of `Optimizer.step()`: the gradients' norm, the non-finite policy and
 * the `clip` transforms in order, on the whole batch at once. The optimizer decides what to do
 * with the outcome (update, or skip and count).
 */
import { NonFiniteGradientError } from "./errors.js";
import { countNonFinite, sumSquares, zeroNonFiniteInPlace } from "./norms.js";
import { firstBad } from "./optimizer-util.js";
import type { GradBatch } from "./params.js";
import type { ClipResult, GradTransform } from "./transform.js";
import type { NonFinitePolicy } from "./clip-norm.js";
import type { SkipReason } from "./telemetry.js";

/** What {@link runClipStage} found and did. */
export interface ClipStageOutcome {
  /** Global L2 norm of the gradients entering the transforms (NaN without telemetry). */
  pre: number;
  /** Global L2 norm of the gradients the update will use (`pre` when nothing clipped). */
  post: number;
  /** NaN/±Infinity elements seen before the policy acted (0 when not measured). */
  nonFiniteCount: number;
  /** One result per transform that ran. */
  reports: ClipResult[];
  /** True when a transform changed the gradients. */
  clipped: boolean;
  /** Why the update must be skipped, or null. */
  skipReason: SkipReason | null;
}

/**
 * Runs the clipping stage on `batch` in place: Σg² once (telemetry and non-finite detection; the
 * first transform reuses it), the non-finite policy, then the transforms in order until one asks
 * to skip; the post-clip norm costs a second pass only when a transform clipped.
 *
 * @throws {NonFiniteGradientError} with the `"error"` policy and non-finite gradients (nothing
 * changed); whatever a transform throws.
 * @example
 * ```ts
 * const out = runClipStage("SGD.step", batch, opt.transforms, "propagate", true);
 * if (out.skipReason === null) update(batch);
 * ```
 */
export function runClipStage(op: string, batch: GradBatch, transforms: readonly GradTransform[], policy: NonFinitePolicy, telemetry: boolean): ClipStageOutcome {
  const measure = telemetry || policy !== "propagate";
  const sq = measure ? sumSquares(batch.grads) : 0;
  let pre = telemetry ? Math.sqrt(sq) : NaN;
  const nonFiniteCount = Number.isFinite(sq) ? 0 : countNonFinite(batch.grads);
  let known = measure ? sq : undefined;
  let skipReason: SkipReason | null = null;
  if (nonFiniteCount > 0) {
    if (policy === "error") {
      throw new NonFiniteGradientError(`${op}: ${nonFiniteCount} non-finite gradient element${nonFiniteCount === 1 ? "" : "s"} (${firstBad(batch)}) with nonFinite: "error"`, Math.sqrt(sq), nonFiniteCount);
    }
    if (policy === "zero") {
      zeroNonFiniteInPlace(batch.grads);
      known = telemetry ? sumSquares(batch.grads) : undefined;
      if (known !== undefined) pre = Math.sqrt(known);
    } else if (policy === "skip") skipReason = "nonFinite";
  }
  const reports: ClipResult[] = [];
  if (skipReason === null) {
    for (let i = 0; i < transforms.length; i++) {
      // The first transform sees the gradients exactly as summed above: it may reuse Σg².
      const r = transforms[i]!.apply(i === 0 && known !== undefined ? { ...batch, sumSquares: known } : batch);
      reports.push(r);
      if (r.skipped) {
        skipReason = "transform";
        break;
      }
    }
  }
  const clipped = reports.some((r) => r.clipped);
  const post = clipped && telemetry ? Math.sqrt(sumSquares(batch.grads)) : pre;
  return { pre, post, nonFiniteCount, reports, clipped, skipReason };
}
