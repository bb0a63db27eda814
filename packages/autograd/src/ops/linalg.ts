/**
 * @file Matrix products: `matmul` (all NumPy forms) and the composite `linear` (`x Wᵀ + b`).
 * Backward uses transposed views (`.mT`), which the GEMM kernel reads through strides without
 * copying.
 */
import * as T from "@tapegrad/tensor";
import type { Tensor } from "@tapegrad/tensor";
import { apply, type Var, type VarLike } from "../var.js";
import type { OpRule } from "../rule.js";
import { sumToShape } from "../backward.js";
import { add } from "./arith.js";
import { transpose } from "./movement.js";

type NoAttrs = Record<string, never>;

export const linalgRules = {
  matmul: {
    forward: ([a, b]) => T.matmul(a!, b!),
    // y = a·b ⇒ da = dy·bᵀ, db = aᵀ·dy; 1-D operands are promoted and batch dims summed back
    backward: (dy, c) => {
      const [a, b] = c.x as [Tensor, Tensor];
      const a2 = a.ndim === 1 ? a.unsqueeze(0) : a;
      const b2 = b.ndim === 1 ? b.unsqueeze(1) : b;
      let g = dy;
      if (a.ndim === 1) g = g.unsqueeze(b.ndim === 1 ? g.ndim : g.ndim - 1);
      if (b.ndim === 1) g = g.unsqueeze(g.ndim);
      const da = c.needs[0] ? sumToShape(T.matmul(g, b2.mT), a2.shape).reshape(a.shape) : null;
      const db = c.needs[1] ? sumToShape(T.matmul(a2.mT, g), b2.shape).reshape(b.shape) : null;
      return [da, db];
    },
  } satisfies OpRule<NoAttrs>,
};

/**
 * Matrix product with NumPy semantics (1-D promotion, broadcast batch dims).
 *
 * @throws {ShapeError} e.g. `matmul: inner dimensions differ (got [2,3] and [4,5])`.
 * @example
 * ```ts
 * const h = matmul(x, w); // [B, in] · [in, out] -> [B, out]
 * ```
 */
export function matmul(a: VarLike, b: VarLike): Var {
  return apply("matmul", linalgRules.matmul, {}, [a, b]);
}

/**
 * `x · Wᵀ + b` with PyTorch's Linear layout (`W` is `[out, in]`, `b` is `[out]`).
 *
 * @throws {ShapeError} when the shapes do not fit.
 * @example
 * ```ts
 * const y = linear(x, w, b); // [B, in] -> [B, out]
 * ```
 */
export function linear(x: VarLike, weight: VarLike, bias?: VarLike | null): Var {
  const y = matmul(x, transpose(weight, -2, -1));
  return bias === undefined || bias === null ? y : add(y, bias);
}
