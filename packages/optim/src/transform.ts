/**
 * @file The gradient-transform protocol: clipping as a composable, stateful stage of the
 * optimizer step (Optax's `GradientTransformation`, applied in place to tapegrad gradients).
 *
 * An optimizer with `clip: [a, b, c]` runs, every step, `a.apply(batch)`, then `b`, then `c`, on
 * the gradients of all its parameters, and only then the update. Each `apply` edits
 * `batch.grads` in place and returns a {@link TransformReport}, collected in the optimizer's
 * telemetry. A report with `skip: true` makes the optimizer skip the update for that step.
 * Stateful transforms (AutoClip, ZClip) implement `stateDict`/`loadStateDict`, which the
 * optimizer's own state dict includes.
 */
import { fmtValue } from "./errors.js";
import { gatherGrads, type GradBatch, type ParamsLike } from "./params.js";

/** What one transform did in one step (fields beyond `name`/`clipped` depend on the transform). */
export interface TransformReport {
  /** The transform's name. */
  name: string;
  /** True when the gradients were changed. */
  clipped: boolean;
  /** Norm the transform measured before acting (global norms only). */
  totalNorm?: number;
  /** Threshold it used (e.g. AutoClip's percentile, ZClip's effective clip). */
  threshold?: number;
  /** Coefficient it applied (global norms only). */
  coef?: number;
  /** Elements, tensors or units that were clipped, depending on the transform. */
  numClipped?: number;
  /** Non-finite elements it saw. */
  nonFiniteCount?: number;
  /** Ask the optimizer to skip this step's update. */
  skip?: boolean;
  /** Transform-specific details. */
  detail?: unknown;
}

/**
 * A gradient transform: edits a batch of gradients in place and reports what it did.
 *
 * @example
 * ```ts
 * const halve: GradTransform = {
 *   name: "halve",
 *   apply(batch) {
 *     for (const g of batch.grads) for (let i = 0; i < g.length; i++) g[i] *= 0.5;
 *     return { name: "halve", clipped: true };
 *   },
 * };
 * new SGD(params, { lr: 0.1, clip: [halve, clipByGlobalNorm(1)] });
 * ```
 */
export interface GradTransform {
  /** Name used in reports and state dicts. */
  readonly name: string;
  /** Edits `batch.grads` in place; may throw (e.g. a non-finite policy `"error"`). */
  apply(batch: GradBatch): TransformReport;
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
 * checkTransform("SGD", clipByValue(1)); // ok
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
 * @throws whatever the transform throws.
 * @example
 * ```ts
 * loss.backward();
 * applyTransform(clipByGlobalNorm(1.0), [w, b]).coef;
 * ```
 */
export function applyTransform(transform: GradTransform, params: ParamsLike, step = 0): TransformReport {
  const t = checkTransform("applyTransform", transform);
  return t.apply(gatherGrads(`applyTransform(${t.name})`, params, step));
}

/**
 * Composes transforms left to right into one (Optax `chain`). Its report lists the inner reports
 * in `detail`; it clipped if any inner transform did, and stops early (with `skip`) when one asks
 * to skip the step. State dicts nest.
 *
 * @throws {TypeError} for entries that are not transforms.
 * @example
 * ```ts
 * const t = chain(clipByValue(5), clipByGlobalNorm(1));
 * applyTransform(t, params);
 * ```
 */
export function chain(...transforms: GradTransform[]): GradTransform {
  const list = transforms.map((t) => checkTransform("chain", t));
  const name = `chain(${list.map((t) => t.name).join(", ")})`;
  return {
    name,
    apply(batch: GradBatch): TransformReport {
      const reports: TransformReport[] = [];
      for (const t of list) {
        const r = t.apply(batch);
        reports.push(r);
        if (r.skip) return { name, clipped: reports.some((x) => x.clipped), skip: true, detail: reports };
      }
      return { name, clipped: reports.some((x) => x.clipped), detail: reports };
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
