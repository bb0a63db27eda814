/**
 * @file The gradient-transform protocol: clipping as a composable, stateful stage of the
 * optimizer step (Optax's `GradientTransformation`, applied in place to tapegrad gradients), and
 * {@link ClipResult}, the one result type of every clipping function, of `.clip()` and of every
 * transform.
 *
 * An optimizer with `clip: [a, b, c]` runs, every step, `a.apply(batch)`, then `b`, then `c`, on
 * the gradients of all its parameters, and only then the update. Each `apply` edits
 * `batch.grads` in place and returns a {@link ClipResult}, collected in the optimizer's telemetry
 * (`StepStats.transforms`). A result with `skipped: true` makes the optimizer skip the update for
 * that step. Stateless clipping functions `f` have their transform at `f.transform(...)` (same
 * arguments minus `params`); stateful methods (AutoClip, ZClip) are classes whose instances are
 * transforms and implement `stateDict`/`loadStateDict`, which the optimizer's own state dict
 * includes.
 */
import { fmtValue } from "./errors.js";
import { gatherGrads, type GradBatch, type ParamsLike } from "./params.js";

/**
 * What one clipping function, `.clip()` call or transform did: the one result type of the
 * clipping toolkit, also the per-stage report in `StepStats.transforms`.
 *
 * `numClipped` counts what the method clips:
 * - elements for `clipGradValue` (elements moved onto a bound) and `zeroNanGrads` (elements
 *   replaced by 0);
 * - tensors for the global-norm methods (`clipGradNorm`, `clipGradsWithNorm`, `AutoClip`,
 *   `ZClip`: every gradient is scaled by the same coefficient, so it is the number of gradients
 *   when `coef` is not 1, else 0; AutoClip's per-parameter scope counts the tensors whose own
 *   coefficient is not 1), for `clipGradNormPerTensor` and for `clipGradBlockRms` (tensors whose
 *   coefficient or divisor is not 1);
 * - units (output rows / filters) for `clipGradAgc`;
 * - inner stages that clipped for `chain`.
 *
 * `D` types the method-specific `detail` (per-tensor arrays, AGC statistics, AutoClip/ZClip
 * internals); `undefined` for methods that have none.
 *
 * @example
 * ```ts
 * const r: ClipResult = clipGradNorm(params, 1.0);
 * // { name: "clipGradNorm", clipped: true, numClipped: 2, nonFiniteCount: 0, skipped: false,
 * //   totalNorm: 5, coef: 0.19999996, threshold: 1 }
 * ```
 */
export interface ClipResult<D = unknown> {
  /** The method: the function's name (`"clipGradNorm"`), the class name (`"AutoClip"`), `"chain(...)"`. */
  name: string;
  /** True when the gradients were changed (a NaN coefficient counts as a change). */
  clipped: boolean;
  /** How many elements, tensors or units were clipped (see the interface comment). */
  numClipped: number;
  /**
   * NaN/±Infinity gradient elements seen before the method acted. Norm-based methods count them
   * only when a norm they computed is not finite (for `p > 0` a finite norm proves there are none).
   */
  nonFiniteCount: number;
  /** True when the method left the gradients alone and asks the caller to skip the update (`nonFinite: "skip"`). */
  skipped: boolean;
  /** Global norm measured before acting (global-norm methods only; the given norm for `clipGradsWithNorm`). */
  totalNorm?: number;
  /** Coefficient every gradient was multiplied by (global-norm methods only; a float32 value). */
  coef?: number;
  /** Threshold used: max norm, AGC λ, block-RMS threshold, AutoClip percentile, ZClip effective clip. */
  threshold?: number;
  /** Method-specific details. */
  detail?: D;
}

/**
 * A {@link ClipResult} whose optional fields `K` are always set: the return type of functions that
 * always report them (e.g. `clipGradNorm` always sets `totalNorm`, `coef` and `threshold`), so
 * `clipGradNorm(params, 1).totalNorm` is a `number`. It is still a `ClipResult`.
 *
 * @example
 * ```ts
 * const r: ClipResultWith<"threshold" | "detail", PerTensorClipDetail> = clipGradNormPerTensor(params, 1);
 * r.detail.norms; // no `!` needed
 * ```
 */
export type ClipResultWith<K extends "totalNorm" | "coef" | "threshold" | "detail", D = unknown> = ClipResult<D> & Required<Pick<ClipResult<D>, K>>;

/**
 * A gradient transform: edits a batch of gradients in place and reports what it did as a
 * {@link ClipResult} (`D` types its `detail`).
 *
 * @example
 * ```ts
 * const halve: GradTransform = {
 *   name: "halve",
 *   apply(batch) {
 *     for (const g of batch.grads) for (let i = 0; i < g.length; i++) g[i] *= 0.5;
 *     return { name: "halve", clipped: true, numClipped: batch.grads.length, nonFiniteCount: 0, skipped: false };
 *   },
 * };
 * new SGD(params, { lr: 0.1, clip: [halve, clipGradNorm.transform(1)] });
 * ```
 */
export interface GradTransform<D = unknown> {
  /** Name used in results and state dicts. */
  readonly name: string;
  /** Edits `batch.grads` in place; may throw (e.g. a non-finite policy `"error"`). */
  apply(batch: GradBatch): ClipResult<D>;
  /** Serializable state (stateful transforms only). */
  stateDict?(): Record<string, unknown>;
  /** Restores state saved by `stateDict`; must validate before changing anything. */
  loadStateDict?(state: Record<string, unknown>): void;
  /** Forgets all state. */
  reset?(): void;
}

/**
 * Checks that `t` implements {@link GradTransform}.
 *
 * @throws {TypeError} otherwise.
 * @example
 * ```ts
 * checkTransform("SGD", clipGradValue.transform(1)); // ok
 * ```
 */
export function checkTransform(op: string, t: unknown): GradTransform {
  if (t === null || typeof t !== "object" || typeof (t as GradTransform).apply !== "function" || typeof (t as GradTransform).name !== "string") {
    throw new TypeError(`${op}: a gradient transform needs a name and an apply(batch) method (got ${fmtValue(t)})`);
  }
  return t as GradTransform;
}

/**
 * Runs one transform on parameters outside an optimizer (between `backward()` and a manual
 * update).
 *
 * @throws {RangeError} for a step that is not a non-negative integer; whatever the transform throws.
 * @example
 * ```ts
 * loss.backward();
 * applyTransform(clipGradNorm.transform(1.0), [w, b]).coef;
 * ```
 */
export function applyTransform<D>(transform: GradTransform<D>, params: ParamsLike, step = 0): ClipResult<D> {
  const t = checkTransform("applyTransform", transform) as GradTransform<D>;
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`applyTransform: step must be a non-negative integer (got ${fmtValue(step)})`);
  return t.apply(gatherGrads(`applyTransform(${t.name})`, params, step));
}

/**
 * Composes transforms left to right into one (Optax `chain`). Its result lists the inner results
 * in `detail`; it clipped if any inner transform did (`numClipped` = the number of inner
 * transforms that clipped, `nonFiniteCount` = the largest inner count), and stops early (with
 * `skipped`) when one asks to skip the step. State dicts nest.
 *
 * @throws {TypeError} for entries that are not transforms.
 * @example
 * ```ts
 * const t = chain(clipGradValue.transform(5), clipGradNorm.transform(1));
 * applyTransform(t, params);
 * ```
 */
export function chain(...transforms: GradTransform[]): GradTransform<ClipResult[]> {
  const list = transforms.map((t) => checkTransform("chain", t));
  const name = `chain(${list.map((t) => t.name).join(", ")})`;
  const result = (reports: ClipResult[], skipped: boolean): ClipResult<ClipResult[]> => ({
    name,
    clipped: reports.some((x) => x.clipped),
    numClipped: reports.filter((x) => x.clipped).length,
    nonFiniteCount: reports.reduce((m, x) => Math.max(m, x.nonFiniteCount), 0),
    skipped,
    detail: reports,
  });
  return {
    name,
    apply(batch: GradBatch): ClipResult<ClipResult[]> {
      const reports: ClipResult[] = [];
      for (const t of list) {
        const r = t.apply(batch);
        reports.push(r);
        if (r.skipped) return result(reports, true);
      }
      return result(reports, false);
    },
    stateDict(): Record<string, unknown> {
      return { inner: list.map((t) => (t.stateDict ? t.stateDict() : null)) };
    },
    loadStateDict(state: Record<string, unknown>): void {
      const inner = state?.inner;
      if (!Array.isArray(inner) || inner.length !== list.length) throw new TypeError(`chain.loadStateDict: expected "inner" with ${list.length} entries (got ${fmtValue(inner)})`);
      list.forEach((t, i) => {
        if (inner[i] !== null && t.loadStateDict) t.loadStateDict(inner[i] as Record<string, unknown>);
      });
    },
    reset(): void {
      for (const t of list) t.reset?.();
    },
  };
}
