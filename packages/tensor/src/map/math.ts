/**
 * @file Transcendental functions as map-kernel expressions (TEMPORARY: float64 host calls, to be
 * replaced by vectorised float32 approximations).
 */
import { Expr, host, lift } from "./expr.js";

const SQRT_2_OVER_PI = 0.7978845608028654;
const GELU_C = 0.044715;
const INV_SQRT2 = 0.7071067811865476;
const INV_SQRT_2PI = 0.3989422804014327;

/** `e^x`. @throws never. @example `expF(x)` */
export function expF(x: Expr): Expr { return host("exp" as never, x); }
/** `log x`. @throws never. @example `logF(x)` */
export function logF(x: Expr): Expr { return host("log" as never, x); }
/** `tanh x`. @throws never. @example `tanhF(x)` */
export function tanhF(x: Expr): Expr { return host("tanh" as never, x); }
/** `1/(1+e^−x)`. @throws never. @example `sigmoidF(x)` */
export function sigmoidF(x: Expr): Expr {
  const e = expF(x.abs().neg());
  return x.ge(0).select(lift(1).div(e.add(1)), e.div(e.add(1)));
}
/** `erf x`. @throws never. @example `erfF(x)` */
export function erfF(x: Expr): Expr { return host("erf" as never, x); }
/** Exact GELU `0.5x(1+erf(x/√2))`. @throws never. @example `geluF(x)` */
export function geluF(x: Expr): Expr { return x.mul(0.5).mul(erfF(x.mul(INV_SQRT2)).add(1)); }
/** GELU's tanh approximation. @throws never. @example `geluTanhF(x)` */
export function geluTanhF(x: Expr): Expr {
  return x.mul(0.5).mul(tanhF(x.add(x.mul(x).mul(x).mul(GELU_C)).mul(SQRT_2_OVER_PI)).add(1));
}
/** GELU′(x) = Φ(x) + x·φ(x). @throws never. @example `geluGradF(x)` */
export function geluGradF(x: Expr): Expr {
  return erfF(x.mul(INV_SQRT2)).add(1).mul(0.5).add(x.mul(INV_SQRT_2PI).mul(expF(x.mul(x).mul(-0.5))));
}
/** The derivative of GELU's tanh approximation. @throws never. @example `geluTanhGradF(x)` */
export function geluTanhGradF(x: Expr): Expr {
  const t = tanhF(x.add(x.mul(x).mul(x).mul(GELU_C)).mul(SQRT_2_OVER_PI));
  return t.add(1).mul(0.5).add(x.mul(0.5).mul(lift(1).sub(t.mul(t))).mul(SQRT_2_OVER_PI).mul(x.mul(x).mul(3 * GELU_C).add(1)));
}
/** `log(1+e^z)`. @throws never. @example `log1pExpF(z)` */
export function log1pExpF(z: Expr): Expr { return host("log1p", expF(z)); }
