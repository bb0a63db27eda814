/**
 * @file Transcendental functions as map-kernel expressions, vectorised and written once for
 * every backend. The sigmoid is computed in float32 arithmetic, four lanes at a time, with a
 * stated bound of 3 ulp (see {@link sigmoidF}). Every other function is computed in float64
 * arithmetic (two float64 lanes per SIMD register in wasm) by a range reduction and a polynomial
 * whose relative error is below 10⁻¹², then rounded once to float32. So a result is the float32
 * rounding of a value within 10⁻¹² of the true one: the correctly rounded float32 (what
 * `Math.fround(Math.exp(x))` gives) except for inputs whose true value lies within 10⁻¹²
 * (relative) of a rounding midpoint, where it may be the other neighbour — an error bound of
 * 0.5 ulp + 10⁻⁵ ulp, measured and tested against float64 in `test/tensor/transcendental.test.ts`.
 * Overflow to ±Infinity, underflow through the float32 denormals to 0, ±0, ±Infinity and NaN come
 * out of that final rounding exactly as from `Math.fround(Math.exp(x))` & co. No table lookups
 * and no fused multiply-add: the same bits on every backend.
 */
import { type Expr, lift } from "./expr.js";
import { abs, add, copysign, div, eq, exponent, f, gt, lt, mantissa, mul, ne, nearest, or, pmax, pmin, pow2, select, sub } from "./f32.js";

const LOG2E = 1.4426950408889634;
/** ln 2 = LN2_HI + LN2_LO (fdlibm): LN2_HI has 32 trailing zero bits, so `n·LN2_HI` is exact. */
const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;
const LN2 = 0.6931471805599453;
const SQRT2 = Math.SQRT2;

/** `c[0] + c[1]·x + … + c[k]·xᵏ` in float64 (Horner). */
function poly(x: Expr, c: readonly number[]): Expr {
  let r = lift(c[c.length - 1]!);
  for (let i = c.length - 2; i >= 0; i--) r = r.mul(x).add(c[i]!);
  return r;
}

/** `1/k!` for k = 0..11: the Taylor series of `e^r`, error below 7·10⁻¹⁵ for |r| ≤ ln2/2. */
const EXP_C = Array.from({ length: 12 }, (_, k) => 1 / Array.from({ length: k }, (_, i) => i + 1).reduce((a, b) => a * b, 1));

/**
 * `e^x` in float64 (not rounded), relative error below 10⁻¹⁴ for `x` in [−708, 709] (below it a
 * tiny positive value, above it a huge one; NaN for NaN): `x = n·ln2 + r` with
 * `n = nearest(x·log₂e)` and `r = x − n·ln2` (ln2 in two parts), `e^r` by its Taylor polynomial
 * of degree 11 split into even and odd parts (two dependency chains half as long), times the
 * exact `2ⁿ` (`exp2i`).
 *
 * @throws never.
 * @example
 * ```ts
 * expCore(x.mul(x).neg()).mul(0.5); // ½e^(−x²) in float64, inside a larger formula
 * ```
 */
export function expCore(x: Expr): Expr {
  const n = x.mul(LOG2E).nearest();
  const r = x.sub(n.mul(LN2_HI)).sub(n.mul(LN2_LO));
  // Estrin: split into even and odd parts in r² (two chains half as long as Horner's)
  const r2 = r.mul(r);
  const even = poly(r2, EXP_C.filter((_, k) => k % 2 === 0));
  const odd = poly(r2, EXP_C.filter((_, k) => k % 2 === 1));
  return even.add(r.mul(odd)).mul(n.exp2i());
}

/**
 * `e^x`: float64 `e^x` rounded to float32 (see the file comment: ≤ 0.5 ulp + 10⁻⁵ ulp, overflow
 * to Infinity above 88.72…, denormals down to 2⁻¹⁴⁹). `x` is clamped to [−104, 89] first (NaN
 * kept): beyond it the float32 result is 0 or Infinity anyway.
 *
 * @throws never.
 * @example
 * ```ts
 * mapKernel("exp", { arrays: ["o", "x"], scalars: [] }, ({ x }) => ({ o: expF(x) }));
 * ```
 */
export function expF(x: Expr): Expr {
  return expCore(pmin(pmax(x, -104), 89));
}

/** `log m` in float64 for `m` in [√½, √2]: `2·atanh(s)`, `s = (m − 1)/(m + 1)` (|s| ≤ 0.172), series to s¹⁷. */
function logUnit(m: Expr): Expr {
  const s = m.sub(1).div(m.add(1));
  const s2 = s.mul(s);
  return s.mul(2).mul(poly(s2, [1, 1 / 3, 1 / 5, 1 / 7, 1 / 9, 1 / 11, 1 / 13, 1 / 15, 1 / 17]));
}

/**
 * Natural log: `x = m·2ᵉ` from the float32 bits (denormals scaled by 2²⁴ first), `m` in
 * [√½, √2), `log x = e·ln2 + log m` in float64, rounded to float32 (≤ 0.5 ulp + 10⁻⁵ ulp).
 * `log(±0) = −Infinity`, `log(x < 0) = NaN`, `log(Infinity) = Infinity`.
 *
 * @throws never.
 * @example
 * ```ts
 * logF(x); // in a mapKernel body
 * ```
 */
export function logF(x: Expr): Expr {
  const tiny = lt(x, f(1.1754943508222875e-38));
  const xs = select(tiny, x.mul(16777216).f32(), x); // denormals scaled by 2^24 (exact)
  const m0 = mantissa(xs);
  const e0 = select(tiny, exponent(xs).sub(24), exponent(xs));
  const big = gt(m0, f(SQRT2));
  const m = select(big, m0.mul(0.5), m0);
  const e = select(big, e0.add(1), e0);
  const r = e.mul(LN2).add(logUnit(m));
  const special = or(or(eq(x, 0), lt(x, 0)), or(ne(x, x), eq(x, Infinity)));
  return select(special, select(eq(x, 0), -Infinity, select(or(lt(x, 0), ne(x, x)), NaN, x)), r);
}

/** tanh x = x + x³·(−1/3 + 2x²/15 − 17x⁴/315 + 62x⁶/2835 − 1382x⁸/155925): below 1/16 the next term is under 10⁻¹⁶ relative. */
const TANH_C = [-1 / 3, 2 / 15, -17 / 315, 62 / 2835, -1382 / 155925];

/**
 * `tanh x`: `1 − 2/(e^(2|x|) + 1)` in float64 (|2x| clamped to 40, where tanh is 1 in float32),
 * its Taylor series to x¹¹ below |x| = 1/16 (no cancellation), the sign copied from `x`
 * (`tanh(−0) = −0`), rounded to float32 (≤ 0.5 ulp + 10⁻⁵ ulp).
 *
 * @throws never.
 * @example
 * ```ts
 * tanhF(x); // in a mapKernel body
 * ```
 */
export function tanhF(x: Expr): Expr {
  const ax = abs(x);
  const large = lift(1).sub(lift(2).div(expCore(pmin(ax.add(ax), 40)).add(1)));
  const small = ax.add(ax.mul(ax.mul(ax)).mul(poly(ax.mul(ax), TANH_C)));
  return copysign(select(lt(ax, 0.0625), small, large), x);
}

/** ln 2 = SIG_LN2_HI + SIG_LN2_LO in float32: SIG_LN2_HI has 9 trailing zero bits, so `n·SIG_LN2_HI` is exact for |n| ≤ 512. */
const SIG_LN2_HI = 0.693145751953125;
const SIG_LN2_LO = 1.428606765330187e-6;
/** `e^−u ≈ 1 + u·(q₀ + q₁u + … + q₄u⁴)` on |u| ≤ ln2/2: float32 minimax for relative error (9.2·10⁻⁸ before rounding). */
const SIG_Q = [-0.9999997019767761, 0.4999915063381195, -0.1666763722896576, 0.041897963732481, -0.008290308527648449];
const NEG_LOG2E_F32 = Math.fround(-LOG2E);
/** 2⁻²⁴: the scale that keeps `2ⁿ` a normal float32 for every clamped `x`. */
const SIG_SCALE = 2 ** -24;

/**
 * The logistic sigmoid `1/(1 + e^−x)` in float32 arithmetic (four lanes per SIMD register in
 * wasm: about 26 instructions and one division per four elements, no branch). `x` is clamped to
 * [−104, 25] (beyond, the float32 result is 0 or 1 anyway; NaN kept), `e^−x = 2ⁿ·e^−u` with
 * `n = nearest(−x·log₂e)` and `u = x + n·ln2` (ln2 in two parts), and
 * `σ(x) = 2⁻²⁴ / (2ⁿ⁻²⁴ + 2ⁿ⁻²⁴·u·q(u) + 2⁻²⁴)`: the scaling by 2⁻²⁴ keeps `2ⁿ⁻²⁴` normal and
 * finite for every clamped `x`, so one correctly rounded division gives the denormal results of
 * very negative `x` too. Error bound, measured over all 2³² float32 inputs against float64
 * (`scripts/sigmoid-sweep.ts`):
 * **≤ 3 ulp** (2.92), relative error ≤ 2.3·10⁻⁷ (2.25·10⁻⁷) for normal results; `σ(±0) = 0.5`,
 * `σ(+Infinity) = 1`, `σ(−Infinity) = 0`, NaN for NaN, denormals (x below −87.3) down to 0 as
 * `Math.fround(1/(1 + Math.exp(−x)))` gives them within the bound.
 *
 * @throws never.
 * @example
 * ```ts
 * sigmoidF(x); // in a mapKernel body
 * ```
 */
export function sigmoidF(x: Expr): Expr {
  const xc = pmin(pmax(x, -104), 25);
  const n = nearest(mul(xc, NEG_LOG2E_F32));
  const s = pow2(sub(n, 24));
  const u = add(add(xc, mul(n, SIG_LN2_HI)), mul(n, SIG_LN2_LO));
  let q = add(mul(u, SIG_Q[4]!), SIG_Q[3]!);
  for (let i = 2; i >= 0; i--) q = add(mul(q, u), SIG_Q[i]!);
  return div(SIG_SCALE, add(s, add(mul(mul(s, u), q), SIG_SCALE)));
}

/**
 * `log(1 + e^z)` (softplus without its threshold) as `max(z, 0) + log1p(e^−|z|)` in float64,
 * with `log1p(t) = log(u)·t/(u − 1)` for `u = 1 + t` (`u − 1` is exact; `t` where `u = 1`),
 * rounded to float32 (≤ 0.5 ulp + 10⁻⁵ ulp; `e^z` for very negative `z`).
 *
 * @throws never.
 * @example
 * ```ts
 * log1pExpF(x.mul(beta).f32()); // softplus
 * ```
 */
export function log1pExpF(z: Expr): Expr {
  const t = expCore(pmax(abs(z).neg(), -104));
  const u = t.add(1);
  const big = u.gt(SQRT2);
  const lu = select(big, logUnit(u.mul(0.5)).add(LN2), logUnit(u)); // u in [1, 2]
  const l1p = select(eq(u, 1), t, lu.mul(t.div(u.sub(1))));
  return pmax(z, 0).add(l1p);
}

export { geluF, geluGradF, geluTanhF, geluTanhGradF, erfF } from "./math-gelu.js";
