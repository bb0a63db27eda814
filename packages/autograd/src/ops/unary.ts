/**
 * @file Unary math and activations. Backward rules use fused kernels (`BinOp.*_GRAD`) so a
 * gradient costs one pass over memory; each rule's comment states the derivative.
 */
import * as T from "@tapegrad/tensor";
import { BinOp, type Tensor } from "@tapegrad/tensor";
import type { Var } from "../var.js";
import { apply, type VarLike } from "../apply.js";
import { defineRule, type BackwardCtx, type NoAttrs } from "../rule.js";

const none: NoAttrs = {};

/**
 * dy ⊙ f'(·) through a fused kernel: `b` is the saved input or output named by the rule. When the
 * engine owns `dy` (`c.dyOwned`, see rule.ts) the result overwrites it instead of a new buffer.
 */
const fused = (name: string, code: BinOp, dy: Tensor, b: Tensor, c: BackwardCtx<unknown, unknown>, p0 = 0, p1 = 0): Tensor =>
  T.binaryOp(name, code, dy, b, c.dyOwned && dy.isContiguous && dy.size === b.size ? dy : undefined, p0, p1);

/**
 * Rules of unary math and activations, each declared with its attribute type (`defineRule<A, S>`).
 * `rules.ts` merges them into the op table; the functions below run them by name with
 * `apply(name, attrs, inputs)`.
 *
 * @throws whatever a rule's forward or backward throws (e.g. ShapeError); reading it never throws.
 * @example
 * ```ts
 * unaryRules.leakyRelu.forward([x], { slope: 0.1 });
 * ```
 */
export const unaryRules = {
  exp: defineRule<NoAttrs>({
    forward: ([x]) => T.exp(x!),
    backward: (dy, c) => [T.mul(dy, c.y)], // d e^x = e^x
  }),
  log: defineRule<NoAttrs>({
    forward: ([x]) => T.log(x!),
    backward: (dy, c) => [T.div(dy, c.x[0]!)], // d ln x = 1/x
  }),
  sqrt: defineRule<NoAttrs>({
    freshGrads: true,
    forward: ([x]) => T.sqrt(x!),
    backward: (dy, c) => [fused("sqrt", BinOp.SQRT_GRAD, dy, c.y, c)], // d √x = 1/(2√x)
  }),
  abs: defineRule<NoAttrs>({
    freshGrads: true,
    forward: ([x]) => T.abs(x!),
    backward: (dy, c) => [fused("abs", BinOp.ABS_GRAD, dy, c.x[0]!, c)], // d|x| = sign(x) (0 at 0)
  }),
  tanh: defineRule<NoAttrs>({
    freshGrads: true,
    forward: ([x]) => T.tanh(x!),
    backward: (dy, c) => [fused("tanh", BinOp.TANH_GRAD, dy, c.y, c)], // d tanh = 1 - tanh²
  }),
  sigmoid: defineRule<NoAttrs>({
    freshGrads: true,
    forward: ([x]) => T.sigmoid(x!),
    backward: (dy, c) => [fused("sigmoid", BinOp.SIGMOID_GRAD, dy, c.y, c)], // dσ = σ(1-σ)
  }),
  relu: defineRule<NoAttrs>({
    freshGrads: true,
    forward: ([x]) => T.relu(x!),
    backward: (dy, c) => [fused("relu", BinOp.RELU_GRAD, dy, c.x[0]!, c)], // d relu = [x > 0]
  }),
  leakyRelu: defineRule<{ slope: number }>({
    freshGrads: true,
    forward: ([x], a) => T.leakyRelu(x!, a.slope),
    backward: (dy, c) => [fused("leakyRelu", BinOp.LEAKY_RELU_GRAD, dy, c.x[0]!, c, c.attrs.slope)], // 1 if x > 0 else slope
  }),
  gelu: defineRule<{ approximate: "none" | "tanh" }>({
    freshGrads: true,
    forward: ([x], a) => T.gelu(x!, a.approximate),
    // exact: Φ(x) + x φ(x); tanh form: ½(1+t) + ½x(1-t²)·√(2/π)(1+3·0.044715x²), t = tanh(√(2/π)(x+0.044715x³))
    backward: (dy, c) => [fused("gelu", c.attrs.approximate === "tanh" ? BinOp.GELU_TANH_GRAD : BinOp.GELU_GRAD, dy, c.x[0]!, c)],
  }),
  softplus: defineRule<{ beta: number; threshold: number }>({
    freshGrads: true,
    forward: ([x], a) => T.softplus(x!, a.beta, a.threshold),
    backward: (dy, c) => [fused("softplus", BinOp.SOFTPLUS_GRAD, dy, c.x[0]!, c, c.attrs.beta, c.attrs.threshold)], // σ(βx), or 1 above the threshold
  }),
  clamp: defineRule<{ min: number; max: number }>({
    freshGrads: true,
    forward: ([x], a) => T.clamp(x!, a.min, a.max),
    backward: (dy, c) => [fused("clamp", BinOp.CLAMP_GRAD, dy, c.x[0]!, c, c.attrs.min, c.attrs.max)], // 1 inside [min, max], else 0
  }),
  powScalar: defineRule<{ exponent: number }>({
    freshGrads: true,
    forward: ([x], a) => T.unaryOp("pow", T.UnOp.POW, x!, undefined, a.exponent),
    backward: (dy, c) => [fused("pow", BinOp.POW_GRAD, dy, c.x[0]!, c, c.attrs.exponent)], // d x^p = p x^(p-1)
  }),
  square: defineRule<NoAttrs>({
    forward: ([x]) => T.square(x!),
    backward: (dy, c) => [T.mul(T.mul(dy, c.x[0]!), 2)], // d x² = 2x
  }),
  reciprocal: defineRule<NoAttrs>({
    forward: ([x]) => T.reciprocal(x!),
    backward: (dy, c) => [T.neg(T.mul(dy, T.square(c.y)))], // d(1/x) = -1/x²
  }),
  sin: defineRule<NoAttrs>({
    forward: ([x]) => T.sin(x!),
    backward: (dy, c) => [T.mul(dy, T.cos(c.x[0]!))], // d sin = cos
  }),
  cos: defineRule<NoAttrs>({
    forward: ([x]) => T.cos(x!),
    backward: (dy, c) => [T.neg(T.mul(dy, T.sin(c.x[0]!)))], // d cos = -sin
  }),
  log1p: defineRule<NoAttrs>({
    forward: ([x]) => T.log1p(x!),
    backward: (dy, c) => [T.div(dy, T.add(c.x[0]!, 1))], // d ln(1+x) = 1/(1+x)
  }),
  expm1: defineRule<NoAttrs>({
    forward: ([x]) => T.expm1(x!),
    backward: (dy, c) => [T.mul(dy, T.add(c.y, 1))], // d(e^x - 1) = e^x
  }),
};

/** e^x. @throws {TypeError} for an input that is not a Var, Tensor or number; {Error} for a disposed tensor. @example `exp(x)` */
export function exp(x: VarLike): Var { return apply("exp", none, [x]); }
/** Natural log. @throws {TypeError} for an input that is not a Var, Tensor or number; {Error} for a disposed tensor. @example `log(p)` */
export function log(x: VarLike): Var { return apply("log", none, [x]); }
/** Square root. @throws {TypeError} for an input that is not a Var, Tensor or number; {Error} for a disposed tensor. @example `sqrt(v)` */
export function sqrt(x: VarLike): Var { return apply("sqrt", none, [x]); }
/** |x| (gradient 0 at 0). @throws {TypeError} for an input that is not a Var, Tensor or number; {Error} for a disposed tensor. @example `abs(x)` */
export function abs(x: VarLike): Var { return apply("abs", none, [x]); }
/** tanh. @throws {TypeError} for an input that is not a Var, Tensor or number; {Error} for a disposed tensor. @example `tanh(h)` */
export function tanh(x: VarLike): Var { return apply("tanh", none, [x]); }
/** Logistic sigmoid. @throws {TypeError} for an input that is not a Var, Tensor or number; {Error} for a disposed tensor. @example `sigmoid(z)` */
export function sigmoid(x: VarLike): Var { return apply("sigmoid", none, [x]); }
/** max(x, 0) (gradient 0 at 0). @throws {TypeError} for an input that is not a Var, Tensor or number; {Error} for a disposed tensor. @example `relu(h)` */
export function relu(x: VarLike): Var { return apply("relu", none, [x]); }
/** x² @throws {TypeError} for an input that is not a Var, Tensor or number; {Error} for a disposed tensor. @example `square(err)` */
export function square(x: VarLike): Var { return apply("square", none, [x]); }
/** 1/x @throws {TypeError} for an input that is not a Var, Tensor or number; {Error} for a disposed tensor. @example `reciprocal(x)` */
export function reciprocal(x: VarLike): Var { return apply("reciprocal", none, [x]); }
/** sin x @throws {TypeError} for an input that is not a Var, Tensor or number; {Error} for a disposed tensor. @example `sin(x)` */
export function sin(x: VarLike): Var { return apply("sin", none, [x]); }
/** cos x @throws {TypeError} for an input that is not a Var, Tensor or number; {Error} for a disposed tensor. @example `cos(x)` */
export function cos(x: VarLike): Var { return apply("cos", none, [x]); }
/** ln(1+x) @throws {TypeError} for an input that is not a Var, Tensor or number; {Error} for a disposed tensor. @example `log1p(x)` */
export function log1p(x: VarLike): Var { return apply("log1p", none, [x]); }
/** e^x − 1 @throws {TypeError} for an input that is not a Var, Tensor or number; {Error} for a disposed tensor. @example `expm1(x)` */
export function expm1(x: VarLike): Var { return apply("expm1", none, [x]); }

/**
 * `x` for `x > 0`, else `negativeSlope * x`.
 *
 * @throws {TypeError} for an input that is not a Var, Tensor or number; {Error} for a disposed tensor.
 * @example
 * ```ts
 * leakyRelu(h, 0.2);
 * ```
 */
export function leakyRelu(x: VarLike, negativeSlope = 0.01): Var {
  return apply("leakyRelu", { slope: negativeSlope }, [x]);
}

/**
 * GELU, exact (`"none"`, default) or with the tanh approximation.
 *
 * @throws {TypeError} for an unknown `approximate`.
 * @example
 * ```ts
 * gelu(h, "tanh");
 * ```
 */
export function gelu(x: VarLike, approximate: "none" | "tanh" = "none"): Var {
  if (approximate !== "none" && approximate !== "tanh") throw new TypeError(`gelu: approximate must be "none" or "tanh" (got ${String(approximate)})`);
  return apply("gelu", { approximate }, [x]);
}

/**
 * `log(1+e^(βx))/β`, linear above `threshold` (PyTorch's rule).
 *
 * @throws {RangeError} for a zero or non-finite beta.
 * @example
 * ```ts
 * softplus(x, 1, 20);
 * ```
 */
export function softplus(x: VarLike, beta = 1, threshold = 20): Var {
  if (!Number.isFinite(beta) || beta === 0) throw new RangeError(`softplus: beta must be finite and non-zero (got ${beta})`);
  return apply("softplus", { beta, threshold }, [x]);
}

/**
 * Clamps into `[min, max]`; the gradient passes where `min <= x <= max`.
 *
 * @throws {RangeError} when `min > max`.
 * @example
 * ```ts
 * clamp(x, -1, 1);
 * ```
 */
export function clamp(x: VarLike, min: number | null = null, max: number | null = null): Var {
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  if (Number.isNaN(lo) || Number.isNaN(hi) || lo > hi) throw new RangeError(`clamp: need min <= max (got min ${min}, max ${max})`);
  return apply("clamp", { min: lo, max: hi }, [x]);
}

/**
 * `x ** exponent` for a number exponent.
 *
 * @throws {TypeError} for a non-number exponent.
 * @example
 * ```ts
 * powScalar(x, 0.5);
 * ```
 */
export function powScalar(x: VarLike, exponent: number): Var {
  if (typeof exponent !== "number") throw new TypeError(`powScalar: exponent must be a number (got ${typeof exponent})`);
  if (Number.isNaN(exponent)) throw new RangeError("powScalar: exponent must not be NaN");
  return apply("powScalar", { exponent }, [x]);
}
