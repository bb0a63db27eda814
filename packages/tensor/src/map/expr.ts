/**
 * @file Map kernels: an elementwise computation over several arrays at once (say a parameter, its
 * gradient and a momentum buffer, or an activation and its input), written once as an expression
 * and run by every backend — the pure-TS interpreter (`interpret.ts`) and code emitted for
 * WebAssembly (`wasm/map-emitter.ts`) — with the same bits. Optimizers define their update rules
 * with it and the elementwise ops theirs (`elementwise-defs.ts`), so each rule exists once.
 *
 * Semantics, per element: every array element is read as a float64; arithmetic is float64
 * (`add sub mul div sqrt max min neg abs`, each correctly rounded, as JS numbers compute them);
 * `.f32()` rounds to float32 (`Math.fround`); `floor ceil trunc nearest copysign exp2i` are exact.
 * `scalbn`, `exponent`, `mantissa` and `pow2` work on float32 bits: they round their operands to float32
 * first and give float32 values. Comparisons (`gt ge lt le eq ne`, false with NaN except `ne`),
 * combined with `and`/`or`, are only usable as the condition of `select` (`c.select(a, b)` is
 * `c ? a : b`). An output is rounded to float32 when stored. All reads of an element happen
 * before any write, so an array may be both read and written. `max`/`min` propagate NaN and order
 * `-0 < +0` (as `Math.max`/`Math.min`). {@link host} calls a JS math function (`Math.sin`, ...)
 * in float64: kernels with such calls run in the interpreter on every backend.
 *
 * Every backend gives the same bits for every non-NaN result; a NaN result is NaN everywhere, but
 * its sign and payload bits are unspecified (x86 SIMD and scalar code disagree on them, as JS
 * engines may), and so are the sign `copysign` takes from a NaN and `pow2` of a NaN.
 *
 * @example
 * ```ts
 * // SGD with momentum: b ← μ·b + g (float32), θ ← θ − lr·b
 * const sgd = mapKernel("sgd", { arrays: ["p", "g", "b"], scalars: ["lr", "mu"] }, ({ p, g, b }, { lr, mu }) => {
 *   const b1 = mu.mul(b).f32().add(g).f32();
 *   return { b: b1, p: p.sub(lr.mul(b1)) };
 * });
 * foreachMap(sgd, [params, grads, bufs], [0.1, 0.9]);
 * ```
 */
import { HOST_FUNCTIONS, type HostName } from "./host.js";

/**
 * Operation codes of expression nodes and compiled instructions.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * kernel.instrs.filter((i) => i.op === MapOp.f32).length; // roundings to float32
 * ```
 */
export const MapOp = {
  input: 0, scalar: 1, const: 2,
  add: 3, sub: 4, mul: 5, div: 6, max: 7, min: 8,
  neg: 9, abs: 10, sqrt: 11, f32: 12,
  gt: 13, select: 14, ge: 15, lt: 16, le: 17, eq: 18, ne: 19, and: 20, or: 21,
  floor: 22, ceil: 23, trunc: 24, nearest: 25, copysign: 26,
  scalbn: 27, exponent: 28, mantissa: 29,
  call: 30, exp2i: 31, pow2: 32,
} as const;
/** One of the {@link MapOp} codes. */
export type MapOp = (typeof MapOp)[keyof typeof MapOp];

/** Binary arithmetic operations, by name. */
export type BinaryMapOp = "add" | "sub" | "mul" | "div" | "max" | "min";

/**
 * Ops whose value is a condition (usable only by `select`, `and`, `or`).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * CONDITION_OPS.has(MapOp.gt); // true
 * ```
 */
export const CONDITION_OPS: ReadonlySet<MapOp> = new Set([MapOp.gt, MapOp.ge, MapOp.lt, MapOp.le, MapOp.eq, MapOp.ne, MapOp.and, MapOp.or]);

/**
 * A node of a map kernel's expression: a float64 value (or a condition) per element. Build with
 * the methods; numbers are constants.
 *
 * @throws {TypeError} from the methods for an operand that is neither an Expr nor a number.
 * @example
 * ```ts
 * x.mul(2).add(y).f32(); // fround(2x + y)
 * ```
 */
export class Expr {
  /**
   * A node; {@link mapKernel} builds the leaves (inputs, scalars, constants) and the methods build
   * the rest, so user code rarely calls this.
   *
   * @param op the operation.
   * @param a the first operand (null for leaves).
   * @param b the second operand (binary operations only).
   * @param index the array index (`input`), scalar index (`scalar`) or host function (`call`).
   * @param value the value of a `const` node.
   * @param c the third operand (`select` only: the value where the condition is false).
   * @throws never (nothing is checked).
   * @example
   * ```ts
   * new Expr(MapOp.const, null, null, 0, 0.5); // the constant 0.5, as `x.mul(0.5)` makes it
   * ```
   */
  constructor(readonly op: MapOp, readonly a: Expr | null = null, readonly b: Expr | null = null, readonly index = 0, readonly value = 0, readonly c: Expr | null = null) {}

  /** `this + y`. @throws {TypeError} when `y` is neither an Expr nor a number. @example `y.add(a.mul(x)) // y + a·x, in a mapKernel body` */
  add(y: Expr | number): Expr { return this.bin(MapOp.add, y); }
  /** `this − y`. @throws {TypeError} when `y` is neither an Expr nor a number. @example `p.sub(lr.mul(g)) // p − lr·g` */
  sub(y: Expr | number): Expr { return this.bin(MapOp.sub, y); }
  /** `this · y`. @throws {TypeError} when `y` is neither an Expr nor a number. @example `mu.mul(b) // μ·b` */
  mul(y: Expr | number): Expr { return this.bin(MapOp.mul, y); }
  /** `this / y`. @throws {TypeError} when `y` is neither an Expr nor a number. @example `m.div(v.sqrt().add(eps)) // m / (√v + ε)` */
  div(y: Expr | number): Expr { return this.bin(MapOp.div, y); }
  /** `max(this, y)` (NaN if either is NaN). @throws {TypeError} when `y` is neither an Expr nor a number. @example `v.max(vMax) // AMSGrad's running maximum` */
  max(y: Expr | number): Expr { return this.bin(MapOp.max, y); }
  /** `min(this, y)` (NaN if either is NaN). @throws {TypeError} when `y` is neither an Expr nor a number. @example `g.min(c).max(-c) // clip g into [−c, c]` */
  min(y: Expr | number): Expr { return this.bin(MapOp.min, y); }
  /** `|this|` with the sign of `y` (exact). @throws {TypeError} when `y` is neither an Expr nor a number. @example `t.copysign(x) // |t|·sign(x), −0 kept` */
  copysign(y: Expr | number): Expr { return this.bin(MapOp.copysign, y); }
  /**
   * `fround(fround(this)·2ⁿ)` with `n = trunc(fround(n))` clamped to [−252, 254] (NaN: 0),
   * computed as two exact power-of-two scalings and one rounding: correct overflow to ±Infinity
   * and denormal results.
   *
   * @throws {TypeError} when `n` is neither an Expr nor a number.
   * @example
   * ```ts
   * p.scalbn(k); // p·2^k, the last step of exp
   * ```
   */
  scalbn(n: Expr | number): Expr { return this.bin(MapOp.scalbn, n); }
  /** `−this`. @throws never. @example `g.neg() // −g (maximize)` */
  neg(): Expr { return new Expr(MapOp.neg, this); }
  /** `|this|`. @throws never. @example `g.abs() // |g|` */
  abs(): Expr { return new Expr(MapOp.abs, this); }
  /** `√this` (correctly rounded). @throws never. @example `v.sqrt().add(eps) // √v + ε` */
  sqrt(): Expr { return new Expr(MapOp.sqrt, this); }
  /** Rounded to float32 (`Math.fround`). @throws never. @example `mu.mul(b).f32().add(g).f32() // the float32 steps of PyTorch's momentum` */
  f32(): Expr { return new Expr(MapOp.f32, this); }
  /** Rounded down to an integer (`Math.floor`). @throws never. @example `x.floor()` */
  floor(): Expr { return new Expr(MapOp.floor, this); }
  /** Rounded up to an integer (`Math.ceil`). @throws never. @example `x.ceil()` */
  ceil(): Expr { return new Expr(MapOp.ceil, this); }
  /** Rounded toward zero (`Math.trunc`). @throws never. @example `x.trunc()` */
  trunc(): Expr { return new Expr(MapOp.trunc, this); }
  /** Rounded to the nearest integer, ties to even (`torch.round`). @throws never. @example `x.mul(LOG2E).f32().nearest() // exp's range reduction` */
  nearest(): Expr { return new Expr(MapOp.nearest, this); }
  /**
   * The float32 exponent field of `fround(this)` minus 127, as a number: `e` with
   * `|x| = m·2^e`, `1 ≤ m < 2` for normal `x`; −127 for ±0 and denormals, 128 for Infinity and NaN.
   *
   * @throws never.
   * @example
   * ```ts
   * x.exponent(); // log's range reduction
   * ```
   */
  exponent(): Expr { return new Expr(MapOp.exponent, this); }
  /**
   * `fround(this)` with its exponent field set to 127: `|m|` in [1, 2) for normal `x`, sign kept.
   *
   * @throws never.
   * @example
   * ```ts
   * x.mantissa(); // log's range reduction
   * ```
   */
  mantissa(): Expr { return new Expr(MapOp.mantissa, this); }
  /**
   * `2ⁿ` as a float64 (exact), for `n` = this rounded to the nearest integer (ties to even) and
   * clamped to [−1022, 1023]; NaN gives 1. The scaling step of float64 `exp`.
   *
   * @throws never.
   * @example
   * ```ts
   * p.mul(n.exp2i()); // p·2ⁿ in float64
   * ```
   */
  exp2i(): Expr { return new Expr(MapOp.exp2i, this); }
  /**
   * `2ⁿ` as a float32 (exact) for `n` = this, an integer in [−126, 127], built from bits in two
   * instructions (the scaling step of float32 `exp`; no clamping, unlike {@link Expr.scalbn}).
   * Defined for every input as the float32 whose bits are those of `fround(fround(n) + 0x1.8p23 + 127)`
   * shifted left by 23, so other inputs give the same bits on every backend: a non-integral `n`
   * below 2²² in magnitude acts as its nearest integer (ties to even), an integer outside
   * [−126, 127] wraps around in the 8-bit exponent field, ±Infinity gives +0. For NaN the result
   * is unspecified (+0 for the canonical NaN; a NaN carrying payload bits may give another
   * power of two in wasm).
   *
   * @throws never.
   * @example
   * ```ts
   * n.pow2(); // 2ⁿ for n = nearest(x·log₂e) in [−126, 127]
   * ```
   */
  pow2(): Expr { return new Expr(MapOp.pow2, this); }
  /**
   * The condition `this > y` (false when either is NaN); use it with {@link Expr.select}.
   *
   * @throws {TypeError} when `y` is neither an Expr nor a number.
   * @example
   * ```ts
   * x.gt(0).select(g, 0); // ReLU's gradient: g where x > 0, else 0
   * ```
   */
  gt(y: Expr | number): Expr { return this.bin(MapOp.gt, y); }
  /** The condition `this ≥ y` (false with NaN). @throws {TypeError} when `y` is neither an Expr nor a number. @example `x.ge(lo).and(x.le(hi)).select(g, 0)` */
  ge(y: Expr | number): Expr { return this.bin(MapOp.ge, y); }
  /** The condition `this < y` (false with NaN). @throws {TypeError} when `y` is neither an Expr nor a number. @example `x.lt(0).select(x.mul(s), x)` */
  lt(y: Expr | number): Expr { return this.bin(MapOp.lt, y); }
  /** The condition `this ≤ y` (false with NaN). @throws {TypeError} when `y` is neither an Expr nor a number. @example `x.le(0).select(0, x)` */
  le(y: Expr | number): Expr { return this.bin(MapOp.le, y); }
  /** The condition `this = y` (false with NaN; `-0 = +0`). @throws {TypeError} when `y` is neither an Expr nor a number. @example `b.eq(0).select(g, 0)` */
  eq(y: Expr | number): Expr { return this.bin(MapOp.eq, y); }
  /** The condition `this ≠ y` (true with NaN). @throws {TypeError} when `y` is neither an Expr nor a number. @example `x.ne(x) // x is NaN` */
  ne(y: Expr | number): Expr { return this.bin(MapOp.ne, y); }
  /** Both conditions hold. @throws {TypeError} when either is not a condition. @example `x.ge(lo).and(x.le(hi))` */
  and(y: Expr): Expr { return this.logic(MapOp.and, y); }
  /** Either condition holds. @throws {TypeError} when either is not a condition. @example `x.ne(x).or(x.gt(0))` */
  or(y: Expr): Expr { return this.logic(MapOp.or, y); }
  /**
   * `ifTrue` where this condition holds, else `ifFalse` (this must be a condition: a comparison,
   * or `and`/`or` of conditions).
   *
   * @throws {TypeError} when this is not a condition, or an operand is neither an Expr nor a number.
   * @example
   * ```ts
   * x.gt(0).select(x, 0); // max(x, 0) without NaN propagation
   * ```
   */
  select(ifTrue: Expr | number, ifFalse: Expr | number): Expr {
    if (!CONDITION_OPS.has(this.op)) throw new TypeError("mapKernel: select() needs a condition, e.g. x.gt(0).select(a, b)");
    return new Expr(MapOp.select, this, lift(ifTrue), 0, 0, lift(ifFalse));
  }

  private bin(op: MapOp, y: Expr | number): Expr {
    return new Expr(op, this, lift(y));
  }

  private logic(op: MapOp, y: Expr): Expr {
    if (!CONDITION_OPS.has(this.op) || !(y instanceof Expr) || !CONDITION_OPS.has(y.op)) throw new TypeError("mapKernel: and()/or() combine two conditions");
    return new Expr(op, this, y);
  }
}

/**
 * A JS math function of the float64 value(s) (`host("sin", x)`, `host("atan2", y, x)`); see
 * `host.ts` for the list. A kernel with such a call runs in the interpreter on every backend.
 *
 * @throws {TypeError} for an unknown name, a wrong number of operands, or an operand that is
 * neither an Expr nor a number.
 * @example
 * ```ts
 * mapKernel("sin", { arrays: ["o", "x"], scalars: [] }, ({ x }) => ({ o: host("sin", x) }));
 * ```
 */
export function host(name: HostName, x: Expr | number, y?: Expr | number): Expr {
  const fn = HOST_FUNCTIONS.findIndex((h) => h.name === name);
  if (fn < 0) throw new TypeError(`mapKernel: unknown host function "${String(name)}"`);
  const arity = HOST_FUNCTIONS[fn]!.arity;
  if ((y === undefined ? 1 : 2) !== arity) throw new TypeError(`mapKernel: host function "${name}" takes ${arity} operand(s)`);
  return new Expr(MapOp.call, lift(x), y === undefined ? null : lift(y), fn);
}

/**
 * An operand as an expression: numbers become constants.
 *
 * @throws {TypeError} for anything but an Expr or a number.
 * @example
 * ```ts
 * lift(0.5); // the constant 0.5
 * ```
 */
export function lift(y: Expr | number): Expr {
  if (y instanceof Expr) return y;
  if (typeof y !== "number") throw new TypeError(`mapKernel: an operand must be an Expr or a number (got ${typeof y})`);
  return new Expr(MapOp.const, null, null, 0, y);
}
