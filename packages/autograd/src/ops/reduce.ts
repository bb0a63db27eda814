/**
 * @file Reductions: sum, mean, max, min, logsumexp.
 * Gradients are broadcast back over the reduced axes; max/min route the gradient to the arg-max
 * element along a single axis and split it evenly among ties for multi-axis/all reductions (as
 * PyTorch does).
 */
import * as T from "@tapegrad/tensor";
import { Tensor, normalizeAxes } from "@tapegrad/tensor";
import type { Var } from "../var.js";
import { apply, toVar, type VarLike } from "../apply.js";
import { defineRule } from "../rule.js";

/** Normalised reduction attributes. */
export interface ReduceAttrs {
  axes: number[];
  keepDims: boolean;
  /** True when no axis was given (reduce everything): max/min then split ties evenly, as PyTorch's `x.max()`. */
  all?: boolean;
}

/** Shape of `x` with the reduced axes kept as size 1. */
function keptShape(x: Tensor, axes: readonly number[]): number[] {
  return x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** dy (reduced shape) reshaped to keep the reduced axes, then broadcast to x's shape. */
function expandBack(dy: Tensor, x: Tensor, axes: readonly number[]): Tensor {
  return dy.reshape(keptShape(x, axes)).broadcastTo(x.shape);
}

function extremeBackward(dy: Tensor, x: Tensor, y: Tensor, a: ReduceAttrs, isMax: boolean): Tensor {
  if (a.axes.length === 1 && !a.all) {
    // single axis: the gradient goes to the (first) arg-max/arg-min position
    const ax = a.axes[0]!;
    const idx = isMax ? T.argmax(x, ax, true) : T.argmin(x, ax, true);
    return T.scatterAdd(T.zeros(x.shape), ax, idx, dy.reshape(keptShape(x, a.axes)));
  }
  // all / several axes: split evenly among the elements equal to the extreme value (NaN counts as
  // equal to a NaN result, as in PyTorch's evenly_distribute_backward)
  const yk = y.reshape(keptShape(x, a.axes));
  const mask = T.maximum(T.eq(x, yk), T.mul(T.isNaN(x), T.isNaN(yk)));
  const count = T.sum(mask, a.axes, true);
  return T.mul(mask, T.div(dy.reshape(keptShape(x, a.axes)), count));
}

/**
 * Rules of reductions (attributes: {@link ReduceAttrs}), each declared with its attribute type
 * (`defineRule<A, S>`). `rules.ts` merges them into the op table; the functions below run them by
 * name with `apply(name, attrs, inputs)`.
 *
 * @throws whatever a rule's forward or backward throws (e.g. ShapeError); reading it never throws.
 * @example
 * ```ts
 * reduceRules.sum.forward([x], { axes: [0], keepDims: false });
 * ```
 */
export const reduceRules = {
  sum: defineRule<ReduceAttrs>({
    forward: ([x], a) => T.sum(x!, a.axes, a.keepDims),
    backward: (dy, c) => [expandBack(dy, c.x[0]!, c.attrs.axes)], // ∂Σx/∂x_i = 1
  }),
  mean: defineRule<ReduceAttrs>({
    forward: ([x], a) => T.mean(x!, a.axes, a.keepDims),
    backward: (dy, c) => {
      const x = c.x[0]!;
      const count = c.attrs.axes.reduce((n, i) => n * x.shape[i]!, 1);
      return [expandBack(T.mul(dy, 1 / count), x, c.attrs.axes)]; // ∂mean/∂x_i = 1/n
    },
  }),
  max: defineRule<ReduceAttrs>({
    forward: ([x], a) => T.max(x!, a.axes, a.keepDims),
    backward: (dy, c) => [extremeBackward(dy, c.x[0]!, c.y, c.attrs, true)],
  }),
  min: defineRule<ReduceAttrs>({
    forward: ([x], a) => T.min(x!, a.axes, a.keepDims),
    backward: (dy, c) => [extremeBackward(dy, c.x[0]!, c.y, c.attrs, false)],
  }),
  logsumexp: defineRule<ReduceAttrs>({
    forward: ([x], a) => T.logsumexp(x!, a.axes, a.keepDims),
    backward: (dy, c) => {
      // ∂ logΣe^x / ∂x_i = e^(x_i - y) = softmax(x)_i
      const x = c.x[0]!;
      const kept = keptShape(x, c.attrs.axes);
      const p = T.exp(T.sub(x, c.y.reshape(kept)));
      return [T.mul(p, dy.reshape(kept))];
    },
  }),
};

/**
 * Normalises `axes` for a Var input (null/undefined = all). As in PyTorch, a 0-d input accepts
 * axis 0 or -1 and reduces nothing.
 *
 * @throws {ShapeError} naming `op` for a non-integer, out-of-range or repeated axis.
 * @example
 * ```ts
 * reduceAttrs("sum", variable(zeros([2, 3])), -1, false); // { axes: [1], keepDims: false, all: false }
 * ```
 */
export function reduceAttrs(op: string, x: Var, axes: T.Axes, keepDims: boolean): ReduceAttrs {
  if (x.ndim === 0 && axes !== null && axes !== undefined) {
    const list = typeof axes === "number" ? [axes] : Array.from(axes);
    if (list.every((a) => a === 0 || a === -1)) return { axes: [], keepDims };
  }
  return { axes: normalizeAxes(op, axes, x.ndim, x.shape), keepDims, all: axes === null || axes === undefined };
}

/**
 * Sum over `axes` (all when omitted).
 *
 * @throws {ShapeError} for bad axes.
 * @example
 * ```ts
 * const loss = sum(mul(err, err));
 * ```
 */
export function sum(x: VarLike, axes?: T.Axes, keepDims = false): Var {
  const v = toVar(x, "sum");
  return apply("sum", reduceAttrs("sum", v, axes, keepDims), [v]);
}

/**
 * Mean over `axes` (all when omitted).
 *
 * @throws {ShapeError} for bad axes.
 * @example
 * ```ts
 * mean(x, 0);
 * ```
 */
export function mean(x: VarLike, axes?: T.Axes, keepDims = false): Var {
  const v = toVar(x, "mean");
  return apply("mean", reduceAttrs("mean", v, axes, keepDims), [v]);
}

/**
 * Maximum over `axes` (all when omitted).
 *
 * @throws {ShapeError} for bad axes or an empty reduction.
 * @example
 * ```ts
 * max(x, 1, true);
 * ```
 */
export function max(x: VarLike, axes?: T.Axes, keepDims = false): Var {
  const v = toVar(x, "max");
  return apply("max", reduceAttrs("max", v, axes, keepDims), [v]);
}

/**
 * Minimum over `axes` (all when omitted).
 *
 * @throws {ShapeError} for bad axes or an empty reduction.
 * @example
 * ```ts
 * min(x);
 * ```
 */
export function min(x: VarLike, axes?: T.Axes, keepDims = false): Var {
  const v = toVar(x, "min");
  return apply("min", reduceAttrs("min", v, axes, keepDims), [v]);
}

/**
 * Stable `log Σ exp(x)` over `axes`.
 *
 * @throws {ShapeError} for bad axes.
 * @example
 * ```ts
 * logsumexp(logits, -1);
 * ```
 */
export function logsumexp(x: VarLike, axes?: T.Axes, keepDims = false): Var {
  const v = toVar(x, "logsumexp");
  return apply("logsumexp", reduceAttrs("logsumexp", v, axes, keepDims), [v]);
}
