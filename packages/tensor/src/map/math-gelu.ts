/**
 * @file GELU (exact and tanh approximation) and its derivatives as map-kernel expressions. The
 * exact form needs `erf`, which runs as a float64 host call for now (so these kernels use the JS
 * backend on every kernel set); the tanh form uses the float32 `tanhF`.
 */
import { Expr, host, lift } from "./expr.js";
import { tanhF } from "./math.js";

const SQRT_2_OVER_PI = 0.7978845608028654;
const GELU_C = 0.044715;
const INV_SQRT2 = 0.7071067811865476;
const INV_SQRT_2PI = 0.3989422804014327;

/** `erf x` (float64 host call). @throws never. @example `erfF(x)` */
export function erfF(x: Expr): Expr { return host("erf", x); }
/** Exact GELU `0.5x(1+erf(x/√2))`. @throws never. @example `geluF(x)` */
export function geluF(x: Expr): Expr { return x.mul(0.5).mul(erfF(x.mul(INV_SQRT2)).add(1)); }
/** GELU's tanh approximation `0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))`. @throws never. @example `geluTanhF(x)` */
export function geluTanhF(x: Expr): Expr {
  return x.mul(0.5).mul(tanhF(x.add(x.mul(x).mul(x).mul(GELU_C)).mul(SQRT_2_OVER_PI).f32()).add(1));
}
/** GELU′(x) = Φ(x) + x·φ(x). @throws never. @example `geluGradF(x)` */
export function geluGradF(x: Expr): Expr {
  return erfF(x.mul(INV_SQRT2)).add(1).mul(0.5).add(x.mul(INV_SQRT_2PI).mul(host("exp", x.mul(x).mul(-0.5))));
}
/** The derivative of GELU's tanh approximation. @throws never. @example `geluTanhGradF(x)` */
export function geluTanhGradF(x: Expr): Expr {
  const t = tanhF(x.add(x.mul(x).mul(x).mul(GELU_C)).mul(SQRT_2_OVER_PI).f32());
  return t.add(1).mul(0.5).add(x.mul(0.5).mul(lift(1).sub(t.mul(t))).mul(SQRT_2_OVER_PI).mul(x.mul(x).mul(3 * GELU_C).add(1)));
}
