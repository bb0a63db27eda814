/**
 * @file How much to prune: a fraction of the candidates or an explicit count, turned into a
 * number of units exactly as `torch.nn.utils.prune` does (Python's round-half-even of the float64
 * product `amount · candidates`), with torch's validation messages prefixed by the function name.
 *
 * JavaScript cannot tell `1` from `1.0`, which torch reads as "one unit" and "100 %". So a plain
 * number is always a fraction in `[0, 1]` and a count is written `{ count: n }`.
 */

/** A fraction of the candidates in `[0, 1]` (`0.3` = 30 %), or an explicit count `{ count: 5 }`. */
export type PruneAmount = number | { readonly count: number };

/**
 * Python's `round()` of a float64: halves go to the even neighbour (`2.5 -> 2`, `3.5 -> 4`,
 * `0.5 -> 0`), unlike `Math.round`. Exact for every finite double.
 *
 * @throws never (non-finite input is returned unchanged).
 * @example
 * ```ts
 * roundHalfEven(4.5); // 4
 * roundHalfEven(1.5); // 2
 * ```
 */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const diff = x - f; // exact for doubles
  if (diff < 0.5) return f;
  if (diff > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Python's `repr` of a float (`1.0`, `0.3`, `1e-05`, `nan`), used in error messages so they read
 * like torch's.
 *
 * @throws never.
 * @example
 * ```ts
 * pyFloat(1); // "1.0"
 * pyFloat(1e-5); // "1e-05"
 * ```
 */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const abs = Math.abs(x);
  if (abs >= 1e16 || abs < 1e-4) {
    const [m, e] = x.toExponential().split("e") as [string, string];
    const exp = Number(e);
    return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  const s = String(x);
  return Number.isInteger(x) ? `${s}.0` : s;
}

/**
 * Checks an amount as torch does when a pruning method is built: a fraction must lie in `[0, 1]`,
 * a count must be a non-negative integer.
 *
 * @throws {RangeError} `fn: amount=1.5 should either be a float in the range [0, 1] or a
 * non-negative integer`; {TypeError} when `amount` is neither a number nor `{ count }`.
 * @example
 * ```ts
 * validateAmount("l1Unstructured", { count: 3 }); // ok
 * ```
 */
export function validateAmount(fn: string, amount: PruneAmount): void {
  if (typeof amount === "number") {
    if (!(amount >= 0 && amount <= 1)) {
      const hint = Number.isInteger(amount) && amount > 1 ? ` (a plain number is a fraction; write { count: ${amount} } for a count)` : "";
      throw new RangeError(`${fn}: amount=${pyFloat(amount)} should either be a float in the range [0, 1] or a non-negative integer${hint}`);
    }
    return;
  }
  if (typeof amount !== "object" || amount === null || typeof amount.count !== "number") {
    throw new TypeError(`${fn}: invalid type for amount: ${describe(amount)}. Must be a fraction in [0, 1] or { count: n }`);
  }
  if (!Number.isInteger(amount.count) || amount.count < 0) {
    throw new RangeError(`${fn}: amount=${String(amount.count)} should either be a float in the range [0, 1] or a non-negative integer`);
  }
}

/**
 * Number of units to prune out of `candidates`: the count itself, or `round_half_even(amount ·
 * candidates)` (float64 product). Validates the amount first.
 *
 * @throws {RangeError} for an invalid amount (see {@link validateAmount}) or a count above the
 * candidates: `fn: amount=7 should be smaller than the number of parameters to prune=6`.
 * @example
 * ```ts
 * unitsToPrune("l1Unstructured", 0.25, 10); // 2 (2.5 rounds to even)
 * unitsToPrune("l1Unstructured", { count: 3 }, 10); // 3
 * ```
 */
export function unitsToPrune(fn: string, amount: PruneAmount, candidates: number): number {
  validateAmount(fn, amount);
  if (typeof amount === "number") return roundHalfEven(amount * candidates);
  if (amount.count > candidates) {
    throw new RangeError(`${fn}: amount=${amount.count} should be smaller than the number of parameters to prune=${candidates}`);
  }
  return amount.count;
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "object") return JSON.stringify(x) ?? "object";
  return `${String(x)} (${typeof x})`;
}
