/**
 * @file Float32 arithmetic on map-kernel expressions: each operation rounds its result to float32
 * (`.f32()`), the form in which float32 algorithms (the approximations of `math.ts`) are written.
 * A float32 operation of float32 operands runs as one SIMD instruction on four floats in wasm
 * (see `wasm/map-plan.ts`) and as the same float64 operation plus `Math.fround` in JS.
 */
import { Expr, lift } from "./expr.js";

type E = Expr | number;

/** `fround(a + b)`. @throws {TypeError} for a non-Expr, non-number operand. @example `add(x, 1)` */
export const add = (a: E, b: E): Expr => lift(a).add(b).f32();
/** `fround(a − b)`. @throws {TypeError} for a non-Expr, non-number operand. @example `sub(x, 1)` */
export const sub = (a: E, b: E): Expr => lift(a).sub(b).f32();
/** `fround(a · b)`. @throws {TypeError} for a non-Expr, non-number operand. @example `mul(x, x)` */
export const mul = (a: E, b: E): Expr => lift(a).mul(b).f32();
/** `fround(a / b)`. @throws {TypeError} for a non-Expr, non-number operand. @example `div(1, x)` */
export const div = (a: E, b: E): Expr => lift(a).div(b).f32();
/** `fround(√a)`. @throws {TypeError} for a non-Expr, non-number operand. @example `sqrt(x)` */
export const sqrt = (a: E): Expr => lift(a).sqrt().f32();
/** `−a` (exact). @throws {TypeError} for a non-Expr, non-number operand. @example `neg(x)` */
export const neg = (a: E): Expr => lift(a).neg();
/** `|a|` (exact). @throws {TypeError} for a non-Expr, non-number operand. @example `abs(x)` */
export const abs = (a: E): Expr => lift(a).abs();
/** `min(a, b)` (NaN wins, −0 < +0). @throws {TypeError} for a non-Expr, non-number operand. @example `min(x, 88)` */
export const min = (a: E, b: E): Expr => lift(a).min(b);
/** `max(a, b)` (NaN wins, −0 < +0). @throws {TypeError} for a non-Expr, non-number operand. @example `max(x, -88)` */
export const max = (a: E, b: E): Expr => lift(a).max(b);
/**
 * `a < b ? b : a`: a maximum that keeps `a` when the comparison is false (NaN `a` stays NaN; no
 * signed-zero rule). One instruction in wasm (`f32x4.pmax`), where `max` needs several.
 *
 * @throws {TypeError} for a non-Expr, non-number operand.
 * @example
 * ```ts
 * pmin(pmax(x, -104), 89); // clamp x into [−104, 89], NaN kept
 * ```
 */
export const pmax = (a: E, b: E): Expr => lift(a).lt(b).select(b, a);
/** `a > b ? b : a` (`f32x4.pmin`; NaN `a` stays NaN). @throws {TypeError} for a non-Expr, non-number operand. @example `pmin(x, 89)` */
export const pmin = (a: E, b: E): Expr => lift(a).gt(b).select(b, a);
/** Round half to even. @throws {TypeError} for a non-Expr, non-number operand. @example `nearest(mul(x, LOG2E))` */
export const nearest = (a: E): Expr => lift(a).nearest();
/** Round down. @throws {TypeError} for a non-Expr, non-number operand. @example `floor(x)` */
export const floor = (a: E): Expr => lift(a).floor();
/** Round toward zero. @throws {TypeError} for a non-Expr, non-number operand. @example `trunc(x)` */
export const trunc = (a: E): Expr => lift(a).trunc();
/** Round up. @throws {TypeError} for a non-Expr, non-number operand. @example `ceil(x)` */
export const ceil = (a: E): Expr => lift(a).ceil();
/** `x·2ⁿ` (see {@link Expr.scalbn}). @throws {TypeError} for a non-Expr, non-number operand. @example `scalbn(p, k)` */
export const scalbn = (x: E, n: E): Expr => lift(x).scalbn(n);
/** `2ⁿ` for an integral `n` in [−126, 127] (see {@link Expr.pow2}). @throws {TypeError} for a non-Expr, non-number operand. @example `pow2(n) // 2ⁿ` */
export const pow2 = (n: E): Expr => lift(n).pow2();
/** The float32 exponent field minus 127. @throws {TypeError} for a non-Expr, non-number operand. @example `exponent(x)` */
export const exponent = (x: E): Expr => lift(x).exponent();
/** The float32 significand with exponent 0 (in [1, 2) for normal x). @throws {TypeError} for a non-Expr, non-number operand. @example `mantissa(x)` */
export const mantissa = (x: E): Expr => lift(x).mantissa();
/** `|x|` with the sign of `y`. @throws {TypeError} for a non-Expr, non-number operand. @example `copysign(t, x)` */
export const copysign = (x: E, y: E): Expr => lift(x).copysign(y);
/** The condition `a > b`. @throws {TypeError} for a non-Expr, non-number operand. @example `select(gt(x, 0), x, 0)` */
export const gt = (a: E, b: E): Expr => lift(a).gt(b);
/** The condition `a ≥ b`. @throws {TypeError} for a non-Expr, non-number operand. @example `ge(x, 0)` */
export const ge = (a: E, b: E): Expr => lift(a).ge(b);
/** The condition `a < b`. @throws {TypeError} for a non-Expr, non-number operand. @example `lt(x, 0)` */
export const lt = (a: E, b: E): Expr => lift(a).lt(b);
/** The condition `a ≤ b`. @throws {TypeError} for a non-Expr, non-number operand. @example `le(x, 0)` */
export const le = (a: E, b: E): Expr => lift(a).le(b);
/** The condition `a = b`. @throws {TypeError} for a non-Expr, non-number operand. @example `eq(x, 0)` */
export const eq = (a: E, b: E): Expr => lift(a).eq(b);
/** The condition `a ≠ b` (true for NaN). @throws {TypeError} for a non-Expr, non-number operand. @example `ne(x, x) // x is NaN` */
export const ne = (a: E, b: E): Expr => lift(a).ne(b);
/** Both conditions. @throws {TypeError} when either is not a condition. @example `and(ge(x, lo), le(x, hi))` */
export const and = (a: Expr, b: Expr): Expr => a.and(b);
/** Either condition. @throws {TypeError} when either is not a condition. @example `or(ne(x, x), gt(x, 0))` */
export const or = (a: Expr, b: Expr): Expr => a.or(b);
/** `c ? a : b`. @throws {TypeError} when `c` is not a condition. @example `select(gt(x, 0), x, 0)` */
export const select = (c: Expr, a: E, b: E): Expr => c.select(a, b);
/** A float32 constant: `Math.fround(x)`. @throws never. @example `f(0.6931471805599453)` */
export const f = (x: number): number => Math.fround(x);
