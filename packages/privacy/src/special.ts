/**
 * @file Float64 special functions for the RDP accountant: `logErfc` (log of the complementary
 * error function, finite far beyond where `erfc` underflows), the generalized binomial
 * coefficient `binom` / `logBinom`, and the log-space `logAdd` / `logSub` of TF-Privacy's
 * RDP analysis (as transcribed by Opacus `accountants/analysis/rdp.py`).
 */

const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
/** Below this `erfc` comes from the erf series, above from the continued fraction. */
const SERIES_LIMIT = 1.5;
/** From here on the asymptotic series is used (as the golden oracle does). */
const ASYMPTOTIC_FROM = 25;

/** erf(x) for |x| <= SERIES_LIMIT: 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (2n+1)!! (all terms positive). */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 500; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/**
 * log(sqrt(pi) x e^{x^2} erfc(x)) - log(x) for x >= SERIES_LIMIT, i.e. log of the continued fraction
 * erfc(x) = e^{-x^2}/sqrt(pi) / (x + (1/2)/(x + (2/2)/(x + (3/2)/(x + ...)))) (modified Lentz).
 */
function logErfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 10000; n++) {
    const a = n / 2;
    d = x + a * d;
    if (d === 0) d = tiny;
    c = x + a / c;
    if (c === 0) c = tiny;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -x * x - LOG_SQRT_PI - Math.log(f);
}

/** -x^2 - log(x) - log(pi)/2 + log(1 - 1/(2x^2) + 3/(4x^4) - 15/(8x^6) + ...), for large x. */
function logErfcAsymptotic(x: number): number {
  const inv = 1 / (2 * x * x);
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 30; k++) {
    const next = -term * (2 * k - 1) * inv;
    if (Math.abs(next) >= Math.abs(term)) break;
    term = next;
    sum += term;
    if (Math.abs(term) < 1e-17) break;
  }
  return -x * x - Math.log(x) - LOG_SQRT_PI + Math.log(sum);
}

/**
 * The complementary error function erfc(x) = 1 - erf(x) in float64 (~1e-15 relative accuracy;
 * it underflows to 0 beyond x ≈ 26.5 — use {@link logErfc} there).
 *
 * @example
 * ```ts
 * erfc(0); // 1
 * erfc(1); // 0.15729920705028513
 * ```
 * @throws never; NaN in gives NaN out.
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x <= SERIES_LIMIT) return 1 - erfSeries(x);
  return Math.exp(logErfc(x));
}

/**
 * log(erfc(x)), accurate also where erfc underflows (Opacus: `log(2) + log_ndtr(-x·√2)`): the erf
 * series below 1.5, the continued fraction of erfc up to 25 and the asymptotic series beyond.
 *
 * @example
 * ```ts
 * logErfc(0);    // 0
 * logErfc(100);  // -10005.177585122667
 * logErfc(-5);   // 0.6931471805591766 (erfc → 2)
 * ```
 * @throws never; NaN in gives NaN out, `logErfc(Infinity)` is `-Infinity`.
 */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return -Infinity;
  if (x === -Infinity) return Math.LN2;
  if (x < -SERIES_LIMIT) return Math.log(2 - Math.exp(logErfcContinuedFraction(-x)));
  if (x <= SERIES_LIMIT) return Math.log(1 - erfSeries(x));
  if (x < ASYMPTOTIC_FROM) return logErfcContinuedFraction(x);
  return logErfcAsymptotic(x);
}

/**
 * The generalized binomial coefficient C(alpha, k) = prod_{m=1..k} (alpha - m + 1) / m for real
 * alpha and integer k >= 0 (scipy `special.binom`); its sign alternates for k > alpha + 1, and it
 * is exactly 0 for a non-negative integer alpha and k > alpha.
 *
 * @example
 * ```ts
 * binom(5, 2);     // 10
 * binom(1.1, 3);   // -0.0165
 * ```
 * @throws {RangeError} `binom: k must be a non-negative integer` when k is not.
 */
export function binom(alpha: number, k: number): number {
  return binomOf("binom", alpha, k);
}

/** {@link binom}, with the name its errors carry (`binom` or `logBinom`). */
function binomOf(fn: string, alpha: number, k: number): number {
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`${fn}: k must be a non-negative integer, got ${k}`);
  if (Number.isInteger(alpha) && alpha >= 0) {
    if (k > alpha) return 0;
    if (k > alpha - k) k = alpha - k; // symmetric, fewer factors
    let r = 1;
    for (let m = 1; m <= k; m++) r = (r * (alpha - k + m)) / m;
    return r;
  }
  let r = 1;
  for (let m = 1; m <= k; m++) r *= (alpha - m + 1) / m;
  return r;
}

/**
 * log|C(alpha, k)|, the log of the absolute generalized binomial coefficient ({@link binom}).
 *
 * @example
 * ```ts
 * logBinom(4, 2); // Math.log(6)
 * ```
 * @throws {RangeError} when k is not a non-negative integer (see {@link binom}).
 */
export function logBinom(alpha: number, k: number): number {
  return Math.log(Math.abs(binomOf("logBinom", alpha, k)));
}

/**
 * log(exp(x) + exp(y)) without overflow (TF-Privacy `_log_add`).
 *
 * @example
 * ```ts
 * logAdd(Math.log(2), Math.log(3)); // Math.log(5)
 * logAdd(-Infinity, 1);             // 1
 * ```
 * @throws never.
 */
export function logAdd(x: number, y: number): number {
  const a = Math.min(x, y);
  const b = Math.max(x, y);
  if (a === -Infinity) return b;
  return Math.log1p(Math.exp(a - b)) + b;
}

/**
 * log(exp(x) - exp(y)) for x >= y (TF-Privacy `_log_sub`; `x` itself when `exp(x - y)` overflows).
 *
 * @example
 * ```ts
 * logSub(Math.log(5), Math.log(3)); // Math.log(2)
 * logSub(1, 1);                     // -Infinity
 * ```
 * @throws {RangeError} `logSub: the result of subtraction must be non-negative` when x < y.
 */
export function logSub(x: number, y: number): number {
  if (x < y) throw new RangeError(`logSub: the result of subtraction must be non-negative (x = ${x} < y = ${y})`);
  if (y === -Infinity) return x;
  if (x === y) return -Infinity;
  const e = Math.expm1(x - y);
  if (!Number.isFinite(e)) return x;
  return Math.log(e) + y;
}
