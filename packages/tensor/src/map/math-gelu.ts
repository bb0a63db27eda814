/**
 * @file `erf`, the standard normal CDF `Φ`, and GELU (exact and tanh approximation) with their
 * derivatives as map-kernel expressions, in float64 and rounded once (see `math.ts`).
 *
 * `erfc` follows fdlibm's `s_erf.c` (Sun Microsystems, freely redistributable): a rational
 * approximation on each of [0, 0.84375), [0.84375, 1.25), [1.25, 1/0.35) and [1/0.35, 28), each
 * accurate to about 10⁻¹⁶; the SIMD code evaluates every piece and selects (no branches), and
 * `e^(−u²−0.5625+R/S)` uses the float64 `exp` of `math.ts` (relative error below 10⁻¹³ for
 * u ≤ 28). `Φ(x) = ½·erfc(−x/√2)` is computed from `erfc(|x|/√2)` on both sides, so its tail
 * (and GELU for very negative x) keeps full relative precision.
 */
import { type Expr, lift } from "./expr.js";
import { copysign, f, ge, lt, select } from "./f32.js";
import { expCore, tanhF } from "./math.js";

const SQRT_2_OVER_PI = 0.7978845608028654;
const GELU_C = 0.044715;
const INV_SQRT2 = 0.7071067811865476;
const INV_SQRT_2PI = 0.3989422804014327;

/* fdlibm s_erf.c coefficients */
const ERX = 8.45062911510467529297e-1;
const EFX = 1.28379167095512586316e-1;
const PP = [1.28379167095512558561e-1, -3.25042107247001499370e-1, -2.84817495755985104766e-2, -5.77027029648944159157e-3, -2.37630166566501626084e-5];
const QQ = [1, 3.97917223959155352819e-1, 6.50222499887672944485e-2, 5.08130628187576562776e-3, 1.32494738004321644526e-4, -3.96022827877536812320e-6];
const PA = [-2.36211856075265944077e-3, 4.14856118683748331666e-1, -3.72207876035701323847e-1, 3.18346619901161753674e-1, -1.10894694282396677476e-1, 3.54783043256182359371e-2, -2.16637559486879084300e-3];
const QA = [1, 1.06420880400844228286e-1, 5.40397917702171048937e-1, 7.18286544141962662868e-2, 1.26171219808761642112e-1, 1.36370839120290507362e-2, 1.19844998467991074170e-2];
const RA = [-9.86494403484714822705e-3, -6.93858572707181764372e-1, -1.05586262253232909814e1, -6.23753324503260060396e1, -1.62396669462573470355e2, -1.84605092906711035994e2, -8.12874355063065934246e1, -9.81432934416914548592];
const SA = [1, 1.96512716674392571292e1, 1.37657754143519042600e2, 4.34565877475229228821e2, 6.45387271733267880336e2, 4.29008140027567833386e2, 1.08635005541779435134e2, 6.57024977031928170135, -6.04244152148580987438e-2];
const RB = [-9.86494292470009928597e-3, -7.99283237680523006574e-1, -1.77579549177547519889e1, -1.60636384855821916062e2, -6.37566443368389627722e2, -1.02509513161107724954e3, -4.83519191608651397019e2];
const SB = [1, 3.03380607434824582924e1, 3.25792512996573918826e2, 1.53672958608443695994e3, 3.19985821950859553908e3, 2.55305040643316442583e3, 4.74528541206955367215e2, -2.24409524465858183362e1];

/** `c[0] + c[1]·x + …` in float64 (Horner). */
function poly(x: Expr, c: readonly number[]): Expr {
  let r = lift(c[c.length - 1]!);
  for (let i = c.length - 2; i >= 0; i--) r = r.mul(x).add(c[i]!);
  return r;
}

/** `erf u` for u in [0, 0.84375) (fdlibm: `u + u·P(u²)/Q(u²)`). */
function erfSmall(u: Expr): Expr {
  const z = u.mul(u);
  return u.add(u.mul(poly(z, PP).div(poly(z, QQ))));
}

/**
 * `erfc u` in float64 for u ≥ 0 (NaN for NaN), fdlibm's pieces selected per element; 0 from 28
 * on (the float64 value underflows there anyway).
 */
function erfcCore(u: Expr): Expr {
  const small = lift(1).sub(erfSmall(u));
  const s = u.sub(1);
  const mid = lift(1 - ERX).sub(poly(s, PA).div(poly(s, QA)));
  const w = lift(1).div(u.mul(u));
  const rs = select(lt(u, 1 / 0.35), poly(w, RA).div(poly(w, SA)), poly(w, RB).div(poly(w, SB)));
  const tail = expCore(u.mul(u).neg().sub(0.5625).add(rs).max(-745)).div(u);
  return select(lt(u, 0.84375), small, select(lt(u, 1.25), mid, select(ge(u, 28), 0, tail))); // NaN: tail, NaN
}

/**
 * `erf x` (float64, rounded once): `x + x·EFX`-accurate near 0, `±(1 − erfc|x|)` elsewhere.
 *
 * @throws never.
 * @example
 * ```ts
 * erfF(x); // in a mapKernel body
 * ```
 */
export function erfF(x: Expr): Expr {
  const u = x.abs();
  const e = select(lt(u, 0.84375), erfSmall(u), lift(1).sub(erfcCore(u)));
  return copysign(select(lt(u, f(3.7252902984e-9)), u.add(u.mul(EFX)), e), x);
}

/** `Φ(x) = ½·erfc(−x/√2)` in float64, from `erfc(|x|/√2)` on both sides (no cancellation). */
function phiCore(x: Expr): Expr {
  const c = erfcCore(x.abs().mul(INV_SQRT2)).mul(0.5);
  return select(lt(x, 0), c, lift(1).sub(c));
}

/**
 * Exact GELU `x·Φ(x) = 0.5x(1 + erf(x/√2))`, in float64 and rounded once (NaN for NaN, 0 at
 * −Infinity, Infinity at Infinity).
 *
 * @throws never.
 * @example
 * ```ts
 * geluF(x); // in a mapKernel body
 * ```
 */
export function geluF(x: Expr): Expr {
  return x.mul(phiCore(x)); // Φ = 0 far left: −0 for finite x, NaN at −Infinity (as 0.5x(1 + erf(x/√2)))
}

/**
 * GELU′(x) = Φ(x) + x·φ(x), φ the standard normal density, in float64 and rounded once.
 *
 * @throws never.
 * @example
 * ```ts
 * geluGradF(x); // in a mapKernel body
 * ```
 */
export function geluGradF(x: Expr): Expr {
  const density = expCore(x.mul(x).mul(-0.5).max(-745)).mul(INV_SQRT_2PI);
  return phiCore(x).add(x.mul(density));
}

/** √(2/π)(x + 0.044715x³) in float64. */
const tanhArg = (x: Expr) => x.add(x.mul(x).mul(x).mul(GELU_C)).mul(SQRT_2_OVER_PI);

/**
 * GELU's tanh approximation `0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))` (the tanh of `math.ts`, on
 * the float32 rounding of its argument, as PyTorch computes it in float32).
 *
 * @throws never.
 * @example
 * ```ts
 * geluTanhF(x); // in a mapKernel body
 * ```
 */
export function geluTanhF(x: Expr): Expr {
  return x.mul(0.5).mul(tanhF(tanhArg(x).f32()).add(1));
}

/**
 * The derivative of GELU's tanh approximation: `½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²)`,
 * `t` its tanh.
 *
 * @throws never.
 * @example
 * ```ts
 * geluTanhGradF(x); // in a mapKernel body
 * ```
 */
export function geluTanhGradF(x: Expr): Expr {
  const t = tanhF(tanhArg(x).f32());
  return t.add(1).mul(0.5).add(x.mul(0.5).mul(lift(1).sub(t.mul(t))).mul(SQRT_2_OVER_PI).mul(x.mul(x).mul(3 * GELU_C).add(1)));
}
