/**
 * @file Broadcasting arithmetic: add, sub, mul, div, pow, maximum, minimum (and neg). Rules return
 * gradients in the output's (broadcast) shape; the tape sums them to each input's shape.
 */
import * as T from "@tapegrad/tensor";
import type { Tensor } from "@tapegrad/tensor";
import type { Var } from "../var.js";
import { apply, type VarLike } from "../apply.js";
import { defineRule, type NoAttrs } from "../rule.js";
import { powScalar } from "./unary.js";

const none: NoAttrs = {};

/**
 * Rules of broadcasting arithmetic (`add` … `neg`), each declared with its attribute type
 * (`defineRule<A, S>`). `rules.ts` merges them into the op table; the functions below run them by
 * name with `apply(name, attrs, inputs)`.
 *
 * @throws whatever a rule's forward or backward throws (e.g. ShapeError); reading it never throws.
 * @example
 * ```ts
 * arithRules.mul.forward([a, b], {}); // a * b
 * ```
 */
export const arithRules = {
  add: defineRule<NoAttrs>({
    broadcast: true,
    forward: ([a, b]) => T.add(a!, b!),
    backward: (dy) => [dy, dy], // d(a+b)/da = 1, d(a+b)/db = 1
  }),
  sub: defineRule<NoAttrs>({
    broadcast: true,
    forward: ([a, b]) => T.sub(a!, b!),
    backward: (dy, c) => [dy, c.needs[1] ? T.neg(dy) : null], // d(a-b)/db = -1
  }),
  mul: defineRule<NoAttrs>({
    broadcast: true,
    forward: ([a, b]) => T.mul(a!, b!),
    backward: (dy, c) => [c.needs[0] ? T.mul(dy, c.x[1]!) : null, c.needs[1] ? T.mul(dy, c.x[0]!) : null], // d(ab) = b da + a db
  }),
  div: defineRule<NoAttrs>({
    broadcast: true,
    forward: ([a, b]) => T.div(a!, b!),
    // d(a/b)/da = 1/b, d(a/b)/db = -a/b² = -y/b
    backward: (dy, c) => [c.needs[0] ? T.div(dy, c.x[1]!) : null, c.needs[1] ? T.neg(T.div(T.mul(dy, c.y), c.x[1]!)) : null],
  }),
  pow: defineRule<NoAttrs>({
    broadcast: true,
    forward: ([a, b]) => T.pow(a!, b!),
    // d(a^b)/da = b a^(b-1); d(a^b)/db = a^b ln a (taken as 0 where a == 0 and b >= 0, as PyTorch)
    backward: (dy, c) => {
      const [a, b] = c.x as [Tensor, Tensor];
      const da = c.needs[0] ? T.mul(dy, T.mul(b, T.pow(a, T.sub(b, 1)))) : null;
      let db: Tensor | null = null;
      if (c.needs[1]) {
        const raw = T.mul(dy, T.mul(c.y, T.log(a)));
        db = T.where(T.mul(T.eq(a, 0), T.ge(b, 0)), 0, raw);
      }
      return [da, db];
    },
  }),
  maximum: defineRule<NoAttrs>({
    broadcast: true,
    forward: ([a, b]) => T.maximum(a!, b!),
    backward: (dy, c) => extremeGrads(dy, c.x[0]!, c.x[1]!, true),
  }),
  minimum: defineRule<NoAttrs>({
    broadcast: true,
    forward: ([a, b]) => T.minimum(a!, b!),
    backward: (dy, c) => extremeGrads(dy, c.x[0]!, c.x[1]!, false),
  }),
  neg: defineRule<NoAttrs>({
    forward: ([x]) => T.neg(x!),
    backward: (dy) => [T.neg(dy)], // d(-x)/dx = -1
  }),
};

/** maximum/minimum: the winner gets dy, ties split it evenly (as PyTorch). */
function extremeGrads(dy: Tensor, a: Tensor, b: Tensor, isMax: boolean): Tensor[] {
  const tie = T.eq(a, b);
  const aWins = isMax ? T.gt(a, b) : T.lt(a, b);
  const bWins = isMax ? T.lt(a, b) : T.gt(a, b);
  const half = T.mul(tie, 0.5);
  return [T.mul(dy, T.add(aWins, half)), T.mul(dy, T.add(bWins, half))];
}

/**
 * `a + b` with NumPy broadcasting.
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * add(w, 1);
 * ```
 */
export function add(a: VarLike, b: VarLike): Var {
  return apply("add", none, [a, b]);
}

/**
 * `a - b` with NumPy broadcasting.
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * sub(pred, target);
 * ```
 */
export function sub(a: VarLike, b: VarLike): Var {
  return apply("sub", none, [a, b]);
}

/**
 * `a * b` with NumPy broadcasting (also masking by a 0/1 tensor).
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * mul(x, mask);
 * ```
 */
export function mul(a: VarLike, b: VarLike): Var {
  return apply("mul", none, [a, b]);
}

/**
 * `a / b` with NumPy broadcasting.
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * div(x, 2);
 * ```
 */
export function div(a: VarLike, b: VarLike): Var {
  return apply("div", none, [a, b]);
}

/**
 * `a ** b` with broadcasting. A number exponent uses the scalar-power rule ({@link powScalar}).
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * pow(x, 2); pow(base, exponentVar);
 * ```
 */
export function pow(a: VarLike, b: VarLike): Var {
  if (typeof b === "number") return powScalar(a, b);
  return apply("pow", none, [a, b]);
}

/**
 * Elementwise maximum; on ties the gradient is split evenly.
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * maximum(x, 0);
 * ```
 */
export function maximum(a: VarLike, b: VarLike): Var {
  return apply("maximum", none, [a, b]);
}

/**
 * Elementwise minimum; on ties the gradient is split evenly.
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * minimum(x, 1);
 * ```
 */
export function minimum(a: VarLike, b: VarLike): Var {
  return apply("minimum", none, [a, b]);
}

/**
 * `-x`.
 *
 * @throws {TypeError} for an input that is not a Var, Tensor or number; {Error} for a disposed tensor.
 * @example
 * ```ts
 * neg(x);
 * ```
 */
export function neg(x: VarLike): Var {
  return apply("neg", none, [x]);
}

