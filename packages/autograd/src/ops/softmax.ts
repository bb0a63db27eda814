/**
 * @file `softmax` and `logSoftmax` along one axis, as primitives with their own stable backward
 * rules (the composite `exp(x - logsumexp(x))` would be correct but slower and less stable).
 */
import * as T from "@tapegrad/tensor";
import { normalizeAxis } from "@tapegrad/tensor";
import type { Var } from "../var.js";
import { apply, toVar, type VarLike } from "../apply.js";
import { defineRule } from "../rule.js";

/**
 * Rules of `softmax` and `logSoftmax`, each declared with its attribute type (`defineRule<A, S>`).
 * `rules.ts` merges them into the op table; the functions below run them by name with
 * `apply(name, attrs, inputs)`.
 *
 * @throws whatever a rule's forward or backward throws (e.g. ShapeError); reading it never throws.
 * @example
 * ```ts
 * softmaxRules.softmax.forward([x], { axis: 1 });
 * ```
 */
export const softmaxRules = {
  softmax: defineRule<{ axis: number }>({
    forward: ([x], a) => T.softmax(x!, a.axis),
    // y = softmax(x) ⇒ dx = y ⊙ (dy − Σ(dy ⊙ y)) along the axis
    backward: (dy, c) => {
      const y = c.y.ndim === 0 ? c.y.reshape(1) : c.y;
      const g = dy.reshape(y.shape);
      return [T.mul(y, T.sub(g, T.sum(T.mul(g, y), c.attrs.axis, true))).reshape(c.y.shape)];
    },
  }),
  logSoftmax: defineRule<{ axis: number }>({
    forward: ([x], a) => T.logSoftmax(x!, a.axis),
    // y = x − logsumexp(x) ⇒ dx = dy − softmax(x) ⊙ Σ dy  (sum over the whole axis, masked entries included)
    backward: (dy, c) => {
      const y = c.y.ndim === 0 ? c.y.reshape(1) : c.y;
      const g = dy.reshape(y.shape);
      return [T.sub(g, T.mul(T.exp(y), T.sum(g, c.attrs.axis, true))).reshape(c.y.shape)];
    },
  }),
};

/**
 * Softmax along `axis` (default last).
 *
 * @throws {ShapeError} for a bad axis.
 * @example
 * ```ts
 * const p = softmax(logits);
 * ```
 */
export function softmax(x: VarLike, axis = -1): Var {
  const v = toVar(x, "softmax");
  return apply("softmax", { axis: normalizeAxis("softmax", axis, Math.max(v.ndim, 1), v.shape) }, [v]);
}

/**
 * Log-softmax along `axis` (default last).
 *
 * @throws {ShapeError} for a bad axis.
 * @example
 * ```ts
 * const logp = logSoftmax(logits);
 * ```
 */
export function logSoftmax(x: VarLike, axis = -1): Var {
  const v = toVar(x, "logSoftmax");
  return apply("logSoftmax", { axis: normalizeAxis("logSoftmax", axis, Math.max(v.ndim, 1), v.shape) }, [v]);
}
