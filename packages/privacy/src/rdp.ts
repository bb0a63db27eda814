/**
 * @file Rényi DP of the subsampled Gaussian mechanism (Mironov, Talwar, Zhang 2019, Sec. 3.3;
 * TF-Privacy `rdp_accountant.py` as transcribed by Opacus `accountants/analysis/rdp.py`), and the
 * improved RDP → (ε, δ) conversion (Balle et al. 2020, Thm. 21; Opacus `get_privacy_spent`).
 */
import { binom, logAdd, logErfc, logSub } from "./special.js";
import { checkDelta, checkNoiseMultiplier, checkOrders, checkSampleRate } from "./validate.js";

/** Stop the fractional-order series after a term whose log is below this. */
const SERIES_CUTOFF = -30;

/** log A_alpha for integer alpha: the exact binomial sum (TF-Privacy `_compute_log_a_int`). */
function logAInt(q: number, sigma: number, alpha: number): number {
  let logA = -Infinity;
  const logQ = Math.log(q);
  const log1mQ = Math.log(1 - q);
  for (let i = 0; i <= alpha; i++) {
    const logCoef = Math.log(binom(alpha, i)) + i * logQ + (alpha - i) * log1mQ;
    const s = logCoef + (i * i - i) / (2 * (sigma * sigma));
    logA = logAdd(logA, s);
  }
  return logA;
}

/** log A_alpha for fractional alpha: the two-sided erfc series (TF-Privacy `_compute_log_a_frac`). */
function logAFrac(q: number, sigma: number, alpha: number): number {
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  const sigma2 = sigma * sigma;
  const z0 = sigma2 * Math.log(1 / q - 1) + 0.5;
  const logQ = Math.log(q);
  const log1mQ = Math.log(1 - q);
  const sqrt2Sigma = Math.SQRT2 * sigma;
  let coef = 1; // binom(alpha, 0)
  for (let i = 0; ; i++) {
    if (i > 0) coef *= (alpha - i + 1) / i;
    const logCoef = Math.log(Math.abs(coef));
    const j = alpha - i;
    const logT0 = logCoef + i * logQ + j * log1mQ;
    const logT1 = logCoef + j * logQ + i * log1mQ;
    const logE0 = Math.log(0.5) + logErfc((i - z0) / sqrt2Sigma);
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / sqrt2Sigma);
    const logS0 = logT0 + (i * i - i) / (2 * sigma2) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * sigma2) + logE1;
    if (coef > 0) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < SERIES_CUTOFF) break;
    if (i > 1_000_000) throw new Error(`computeRdp: the series for order ${alpha} did not converge (q = ${q}, sigma = ${sigma})`);
  }
  return logAdd(logA0, logA1);
}

/**
 * The RDP of one step of the sampled Gaussian mechanism at one order (TF-Privacy `_compute_rdp`):
 * 0 if q = 0 (checked first), +∞ if σ = 0, α/(2σ²) if q = 1, +∞ at α = ∞, else log(A_α)/(α − 1)
 * with the exact binomial sum for integer α and the erfc series for fractional α.
 *
 * @example
 * ```ts
 * rdpStep(0.01, 1.0, 2); // 0.00017181342207453428
 * rdpStep(1, 2, 3);      // 0.375 (no subsampling: α/(2σ²))
 * ```
 * @throws {RangeError} when q is outside [0, 1], σ < 0 or α <= 1.
 */
export function rdpStep(q: number, noiseMultiplier: number, alpha: number): number {
  checkSampleRate("rdpStep", q);
  checkNoiseMultiplier("rdpStep", noiseMultiplier);
  checkOrders("rdpStep", [alpha]);
  return rdpUnchecked(q, noiseMultiplier, alpha);
}

function rdpUnchecked(q: number, sigma: number, alpha: number): number {
  if (q === 0) return 0;
  if (sigma === 0) return Infinity;
  if (q === 1) return alpha / (2 * sigma * sigma);
  if (alpha === Infinity) return Infinity;
  const logA = Number.isInteger(alpha) ? logAInt(q, sigma, alpha) : logAFrac(q, sigma, alpha);
  return logA / (alpha - 1);
}

/**
 * Total RDP of `steps` steps of the sampled Gaussian mechanism (sample rate `q`, noise multiplier
 * σ) at each order (Opacus `privacy_analysis.compute_rdp`): `steps · r(q, σ, α)`.
 * Note `σ = 0` with `steps = 0` gives `∞ · 0 = NaN`, as in Opacus.
 *
 * @example
 * ```ts
 * const rdp = computeRdp(0.04, 1.5, 2250, DEFAULT_ALPHAS);
 * getPrivacySpent({ orders: DEFAULT_ALPHAS, rdp, delta: 1e-5 }); // { epsilon: 7.3291…, bestAlpha: 3.9 }
 * ```
 * @throws {RangeError} when q is outside [0, 1], σ < 0, steps is not a non-negative integer or an
 * order is <= 1.
 */
export function computeRdp(q: number, noiseMultiplier: number, steps: number, orders: ArrayLike<number>): Float64Array {
  checkSampleRate("computeRdp", q);
  checkNoiseMultiplier("computeRdp", noiseMultiplier);
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`computeRdp: steps must be a non-negative integer, got ${steps}`);
  checkOrders("computeRdp", orders);
  const out = new Float64Array(orders.length);
  for (let k = 0; k < orders.length; k++) out[k] = rdpUnchecked(q, noiseMultiplier, orders[k]!) * steps;
  return out;
}

/** The (ε, δ) guarantee: ε and the order it was obtained at. */
export interface PrivacySpent {
  /** The smallest ε over the orders (+∞ when every order is undefined). */
  epsilon: number;
  /** The order that gives it (NaN when every order is undefined, 0 for an empty history). */
  bestAlpha: number;
}

/**
 * ε(α) = rdp(α) − (log δ + log α)/(α − 1) + log((α − 1)/α) per order (Balle et al. 2020, Thm. 21),
 * NaN where undefined (e.g. `∞ − ∞`).
 *
 * @example
 * ```ts
 * epsilonPerAlpha({ orders: [2, 3], rdp: [0.1, 0.2], delta: 1e-5 });
 * ```
 * @throws {RangeError} when δ is outside (0, 1) or `orders` and `rdp` differ in length.
 */
export function epsilonPerAlpha(args: { orders: ArrayLike<number>; rdp: ArrayLike<number>; delta: number }): Float64Array {
  return epsilonsOf("epsilonPerAlpha", args);
}

/** {@link epsilonPerAlpha}, with the name its errors carry. */
function epsilonsOf(fn: string, args: { orders: ArrayLike<number>; rdp: ArrayLike<number>; delta: number }): Float64Array {
  if (args === null || typeof args !== "object") throw new TypeError(`${fn}: expected { orders, rdp, delta } (got ${args === null ? "null" : typeof args})`);
  const { orders, rdp, delta } = args;
  checkDelta(fn, delta);
  if (orders.length !== rdp.length) {
    throw new RangeError(`${fn}: orders (${orders.length}) and rdp (${rdp.length}) must have the same length`);
  }
  const logDelta = Math.log(delta);
  const eps = new Float64Array(orders.length);
  for (let k = 0; k < orders.length; k++) {
    const a = orders[k]!;
    eps[k] = rdp[k]! - (logDelta + Math.log(a)) / (a - 1) + Math.log((a - 1) / a);
  }
  return eps;
}

/**
 * Converts RDP values to (ε, δ) with the improved conversion of Balle et al. 2020 (Opacus
 * `privacy_analysis.get_privacy_spent`): the minimum of {@link epsilonPerAlpha} ignoring NaN
 * (first index on ties, as numpy `nanargmin`); `{ epsilon: Infinity, bestAlpha: NaN }` when every
 * order is NaN.
 *
 * @example
 * ```ts
 * const rdp = computeRdp(0.01, 1.0, 1000, DEFAULT_ALPHAS);
 * getPrivacySpent({ orders: DEFAULT_ALPHAS, rdp, delta: 1e-3 }); // { epsilon: 1.38638…, bestAlpha: 6.9 }
 * ```
 * @throws {RangeError} when δ is outside (0, 1), `orders` is empty or `orders` and `rdp` differ in length.
 */
export function getPrivacySpent(args: { orders: ArrayLike<number>; rdp: ArrayLike<number>; delta: number }): PrivacySpent {
  if (args === null || typeof args !== "object") throw new TypeError(`getPrivacySpent: expected { orders, rdp, delta } (got ${args === null ? "null" : typeof args})`);
  if (args.orders.length === 0) throw new RangeError("getPrivacySpent: orders must not be empty");
  const eps = epsilonsOf("getPrivacySpent", args);
  let best = -1;
  let bestValue = Infinity;
  for (let k = 0; k < eps.length; k++) {
    const v = Number.isNaN(eps[k]!) ? Infinity : eps[k]!;
    if (best < 0 || v < bestValue) {
      best = k;
      bestValue = v;
    }
  }
  if (eps.every((v) => Number.isNaN(v))) return { epsilon: Infinity, bestAlpha: NaN };
  return { epsilon: eps[best]!, bestAlpha: args.orders[best]! };
}
