/**
 * @file Matrix products: `matmul` (all NumPy forms) and the fused primitive `linear`
 * (`x Wᵀ + b`: one GEMM forward with the bias folded in, and a weight gradient computed straight
 * into a contiguous `[out, in]` buffer). Backward uses transposed views (`.mT`), which the GEMM
 * kernel reads through strides without copying.
 */
import * as T from "@tapegrad/tensor";
import type { Tensor } from "@tapegrad/tensor";
import type { Var } from "../var.js";
import { apply, toVar, type VarLike } from "../apply.js";
import { ShapeError } from "@tapegrad/tensor";
import { GRAD_WRITTEN, defineRule, type NoAttrs } from "../rule.js";
import { sumToShape } from "../backward.js";
import { add } from "./arith.js";
import { transpose } from "./movement.js";
import { relu } from "./unary.js";

const none: NoAttrs = {};

/** Attributes of the fused `linear` primitive: the activation its GEMM applies (`"none"` or `"relu"`). */
export interface LinearAttrs {
  readonly activation: T.LinearActivation;
}
const plainLinear: LinearAttrs = { activation: "none" };
const reluLinear: LinearAttrs = { activation: "relu" };

/**
 * Rules of `matmul` and the fused `linear`, each declared with its attribute type
 * (`defineRule<A, S>`). `rules.ts` merges them into the op table; the functions below run them by
 * name with `apply(name, attrs, inputs)`.
 *
 * @throws whatever a rule's forward or backward throws (e.g. ShapeError); reading it never throws.
 * @example
 * ```ts
 * linalgRules.matmul.forward([a, b], {});
 * ```
 */
export const linalgRules = {
  matmul: defineRule<NoAttrs>({
    freshGrads: true,
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
      // A leaf's gradient storage for a 2-D b (one product, no batch to sum) takes aᵀ·dy in place.
      const into = c.gradInto?.[1];
      if (into && b.ndim === 2 && a.ndim === 2) return [da, (T.matmul(a.mT, dy, into), GRAD_WRITTEN)];
      const db = c.needs[1] ? sumToShape(T.matmul(a2.mT, g), b2.shape).reshape(b.shape) : null;
      return [da, db];
    },
  }),
  linear: defineRule<LinearAttrs>({
    freshGrads: true,
    forward: ([x, w, b], a) => T.linear(x!, w!, b, undefined, a.activation),
    // y = x·Wᵀ + b over rows r of x ⇒ dx = dy·W, dW = Σ_r dy_rᵀ x_r, db = Σ_r dy_r;
    // with relu, y = relu(z) ⇒ dz = dy·[z > 0] = dy·[y > 0] (the mask read from the output)
    backward: (dy0, c) => {
      const [x, w] = c.x as [Tensor, Tensor];
      const nOut = w.shape[0]!;
      const dy = c.attrs.activation === "relu" ? T.binaryOp("linear", T.BinOp.RELU_GRAD, dy0, c.y, c.dyOwned && dy0.isContiguous ? dy0 : undefined) : dy0;
      // All leading dims are one batch of rows: one GEMM per product, not one per batch element.
      const dy2 = dy.ndim === 2 ? dy : dy.reshape(T.shapeSize(dy.shape.slice(0, -1)), nOut);
      const dx = c.needs[0] ? T.matmul(dy2, w).reshape(x.shape) : null;
      // The leaves' gradient storage (ctx.gradInto) takes dW and db in place: no allocation, and
      // the GEMM writes straight into the kernels' memory.
      const into = c.gradInto;
      const wInto = into?.[1], bInto = into?.[2];
      const dw = !c.needs[1] ? null : wInto ? (T.linearWeightGrad(dy, x, wInto), GRAD_WRITTEN) : T.linearWeightGrad(dy, x);
      const db = !c.needs[2] ? null : bInto ? (T.linearBiasGrad(dy2, bInto), GRAD_WRITTEN) : T.linearBiasGrad(dy2);
      return [dx, dw, db];
    },
  }),
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
  return apply("matmul", none, [a, b]);
}

/**
 * `x · Wᵀ + b` with PyTorch's Linear layout (`W` is `[out, in]`, `b` is `[out]`), for `x` of
 * shape `[..., in]`. Recorded as the fused primitive `"linear"`; other layouts (a batched weight,
 * a bias that broadcasts differently) fall back to `matmul` + `add`. With `activation: "relu"`,
 * `relu(x · Wᵀ + b)` as one primitive: the GEMM applies the ReLU to its output, and backward masks
 * `dy` by the output (the same values and gradients as `relu(linear(x, w, b))`).
 *
 * @throws {ShapeError} when the shapes do not fit; {TypeError} for an unknown activation.
 * @example
 * ```ts
 * const y = linear(x, w, b); // [B, in] -> [B, out]
 * const h = linear(x, w, b, "relu"); // relu(x·Wᵀ + b), fused
 * ```
 */
export function linear(x: VarLike, weight: VarLike, bias?: VarLike | null, activation: T.LinearActivation = "none"): Var {
  if (activation !== "none" && activation !== "relu") throw new TypeError(`linear: activation must be "none" or "relu" (got ${String(activation)})`);
  const hasBias = bias !== undefined && bias !== null;
  const xv = toVar(x, "linear"), wv = toVar(weight, "linear");
  if (xv.ndim === 0 || wv.ndim < 2 || xv.shape[xv.ndim - 1] !== wv.shape[wv.ndim - 1]) {
    throw new ShapeError("linear", "x's last dimension must equal weight's in-features (its last dimension)", [xv.shape, wv.shape]);
  }
  if (hasBias) {
    const bv = toVar(bias, "linear");
    const outF = wv.shape[wv.ndim - 2]!, bLast = bv.ndim === 0 ? 1 : bv.shape[bv.ndim - 1]!;
    if (bLast !== outF && bLast !== 1) throw new ShapeError("linear", "bias must broadcast to the out-features (weight's rows)", [bv.shape, wv.shape]);
  }
  if (fitsLinear(x, weight, hasBias ? bias : null)) {
    return apply("linear", activation === "relu" ? reluLinear : plainLinear, hasBias ? [x, weight, bias] : [x, weight]);
  }
  // Other layouts (batched weights, broadcast biases): the composite, with matmul's rules.
  const y = matmul(x, transpose(weight, -2, -1));
  const z = hasBias ? add(y, bias) : y;
  return activation === "relu" ? relu(z) : z;
}

/** The shape of a Var, Tensor or number (a number is 0-d). */
function shapeOf(v: VarLike): readonly number[] {
  return typeof v === "number" ? [] : v.shape;
}

/** True when the fused rule applies: `x` `[..., in]`, `weight` `[out, in]`, `bias` `[out]`. */
function fitsLinear(x: VarLike, weight: VarLike, bias: VarLike | null): boolean {
  const xs = shapeOf(x), ws = shapeOf(weight);
  if (xs.length === 0 || ws.length !== 2 || xs[xs.length - 1] !== ws[1]) return false;
  if (bias === null) return true;
  const bs = shapeOf(bias);
  return bs.length === 1 && bs[0] === ws[0];
}
