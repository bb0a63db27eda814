/**
 * @file Per-step telemetry of an optimizer: what the gradients looked like before and after the
 * clipping chain, and whether the step was taken. Every `step()` sets `optimizer.lastStats`;
 * with the `history` option the stats are also appended to `optimizer.history`.
 */
import type { ClipResult } from "./transform.js";

/** Why a step's update was skipped. */
export type SkipReason = "nonFinite" | "transform";

/**
 * What happened in one optimizer step. Norms are global L2 norms over every gradient of the
 * optimizer, accumulated in float64.
 *
 * @example
 * ```ts
 * opt.step();
 * const s = opt.lastStats!;
 * console.log(s.step, s.preClipNorm, s.postClipNorm, s.coef, s.clipped, s.nonFiniteCount, s.skipped);
 * ```
 */
export interface StepStats {
  /** 1-based number of this `step()` call (skipped steps count). */
  step: number;
  /** Norm of the gradients entering the clip chain (after the `"zero"` policy, if it acted). */
  preClipNorm: number;
  /** Norm of the gradients the update used (equal to `preClipNorm` when nothing clipped). */
  postClipNorm: number;
  /**
   * Effective scale of the gradient norm, `postClipNorm / preClipNorm`: 1 when nothing changed,
   * the clip coefficient for a single global-norm clip, NaN when the norms are not finite.
   */
  coef: number;
  /** True when some transform changed the gradients. */
  clipped: boolean;
  /** NaN/±Infinity gradient elements seen before the non-finite policy acted. */
  nonFiniteCount: number;
  /** True when the update was not applied (parameters and optimizer state unchanged). */
  skipped: boolean;
  /** Why it was skipped (`null` when it was not). */
  skipReason: SkipReason | null;
  /** Number of parameters that had a gradient. */
  numGrads: number;
  /** Learning rate of each parameter group at this step. */
  lrs: number[];
  /** The closure's loss, when `step(closure)` was used. */
  loss?: number;
  /** One {@link ClipResult} per transform that ran, in order (a stage with `skipped: true` ends the list). */
  transforms: ClipResult[];
}

/**
 * Resolves the `history` option: `false`/`undefined` → 0 (off), `true` → Infinity, `n` → `n`.
 *
 * @throws {RangeError} for a negative or fractional limit.
 * @example
 * ```ts
 * historyLimit("SGD", 100); // 100
 * ```
 */
export function historyLimit(op: string, v: boolean | number | undefined): number {
  if (v === undefined || v === false) return 0;
  if (v === true) return Infinity;
  if (typeof v !== "number" || !(Number.isInteger(v) || v === Infinity) || v < 0) {
    throw new RangeError(`${op}: history must be a boolean or a non-negative integer (got ${String(v)})`);
  }
  return v;
}

/**
 * Appends `stats` to `history`, dropping the oldest entries beyond `limit`.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * pushHistory(opt.history, stats, 1000);
 * ```
 */
export function pushHistory(history: StepStats[], stats: StepStats, limit: number): void {
  if (limit <= 0) return;
  history.push(stats);
  if (history.length > limit) history.splice(0, history.length - limit);
}
