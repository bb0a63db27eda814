/**
 * @file Input checks shared by the accountant's functions: each throws a `RangeError` that names
 * the calling function and the offending value.
 */

/**
 * Throws unless the sample rate `q` is in [0, 1] (q = 0 is allowed: no privacy loss).
 *
 * @example
 * ```ts
 * checkSampleRate("computeRdp", 0.01); // ok
 * ```
 * @throws {RangeError} `<fn>: sample rate q must be in [0, 1], got <q>`.
 */
export function checkSampleRate(fn: string, q: number): void {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`${fn}: sample rate q must be in [0, 1], got ${q}`);
}

/**
 * Throws unless `q` is in (0, 1]: a sampler or a private optimizer needs a positive rate.
 *
 * @example
 * ```ts
 * checkPositiveSampleRate("DPOptimizer", 256 / 60000); // ok
 * ```
 * @throws {RangeError} `<fn>: sample rate q must be in (0, 1], got <q>`.
 */
export function checkPositiveSampleRate(fn: string, q: number): void {
  if (typeof q !== "number" || !(q > 0 && q <= 1)) throw new RangeError(`${fn}: sample rate q must be in (0, 1], got ${String(q)}`);
}

/**
 * Throws unless the noise multiplier σ is >= 0 (σ = 0 is allowed: infinite ε).
 *
 * @example
 * ```ts
 * checkNoiseMultiplier("computeRdp", 1.1); // ok
 * ```
 * @throws {RangeError} `<fn>: noise multiplier sigma must be >= 0, got <sigma>` (also for NaN).
 */
export function checkNoiseMultiplier(fn: string, sigma: number): void {
  if (!(sigma >= 0)) throw new RangeError(`${fn}: noise multiplier sigma must be >= 0, got ${sigma}`);
}

/**
 * Throws unless δ is in the open interval (0, 1).
 *
 * @example
 * ```ts
 * checkDelta("getPrivacySpent", 1e-5); // ok
 * ```
 * @throws {RangeError} `<fn>: delta must be in (0, 1), got <delta>`.
 */
export function checkDelta(fn: string, delta: number): void {
  if (!(delta > 0 && delta < 1)) throw new RangeError(`${fn}: delta must be in (0, 1), got ${delta}`);
}

/**
 * Throws unless every RDP order is > 1 (`Infinity` allowed).
 *
 * @example
 * ```ts
 * checkOrders("computeRdp", [1.5, 2, 64]); // ok
 * ```
 * @throws {RangeError} `<fn>: every RDP order must be > 1, got orders[<i>] = <alpha>`.
 */
export function checkOrders(fn: string, orders: ArrayLike<number>): void {
  for (let i = 0; i < orders.length; i++) {
    const a = orders[i]!;
    if (!(a > 1)) throw new RangeError(`${fn}: every RDP order must be > 1, got orders[${i}] = ${a}`);
  }
}
