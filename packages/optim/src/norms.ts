/**
 * @file Norm kernels over lists of Float32Arrays, accumulated in float64 (JS numbers).
 *
 * NOTE: float64 accumulation is the point. PyTorch squares and sums float32 gradients in float32,
 * so `[1e20, 1e20]` has norm `inf` there and `clip_grad_norm_` silently zeroes such gradients
 * (pytorch#46849). A float32 value squared is at most ~1.2e77, so Σg² cannot overflow a double;
 * tiny values do not underflow either (float32's smallest subnormal squared is ~2e-90). For other
 * `p` the sum is scaled by the largest magnitude first, so no finite input overflows.
 *
 * The sum of squares behind every L2 norm, RMS and unit norm of this package, and scaling in
 * place, are `@tapegrad/tensor`'s `foreachSumSquares` / `foreachScale`: one implementation with one
 * summation order, so norms and clip coefficients have the same bits on every backend and thread
 * count. Other p-norms, counts and the non-finite scrub are plain loops with no allocation and no
 * closures per element.
 */
import { foreachScale, foreachSumSquares } from "@tapegrad/tensor";

/**
 * Norm of all elements of `arrays` taken together (the p-norm of the concatenation), in float64.
 *
 * - `p = 2`: `sqrt(Σ x²)`; `p = 1`: `Σ |x|`; other finite `p > 0`: `(Σ |x|^p)^(1/p)`, scaled by
 *   the largest magnitude; `p < 0`: the same formula unscaled (a zero element gives 0).
 * - `p = Infinity`: `max |x|`; `p = -Infinity`: `min |x|`.
 * - `p = 0`: PyTorch's two-stage result, the number of *arrays* with a nonzero element (see
 *   {@link getTotalNorm}); use {@link countNonzero} for the number of nonzero elements.
 * - Any NaN element gives NaN (also for `±Infinity` norms, as `torch.max` propagates NaN); an
 *   infinite element gives Infinity for `p > 0`. No elements at all: 0.
 *
 * @throws {TypeError} when `arrays` is not an array, or for a NaN `p`.
 * @example
 * ```ts
 * normOf([Float32Array.of(3), Float32Array.of(4)], 2); // 5
 * normOf([Float32Array.of(1e20, 1e20)], 2); // 1.414e20 (float32 torch: Infinity)
 * ```
 */
export function normOf(arrays: readonly Float32Array[], p: number): number {
  checkArrays("normOf", arrays);
  if (typeof p !== "number" || Number.isNaN(p)) throw new TypeError(`normOf: normType must be a number (got ${String(p)})`);
  if (p === 2) return Math.sqrt(sumSquares(arrays));
  if (p === 1) return sumAbs(arrays);
  if (p === Infinity) return maxAbs(arrays);
  if (p === -Infinity) return minAbs(arrays);
  if (p === 0) return countNonzeroArrays(arrays);
  if (p < 0) return negativePowerNorm(arrays, p);
  const m = maxAbs(arrays);
  if (!(m > 0) || m === Infinity) return m; // NaN, 0 or Infinity decide the norm by themselves
  let s = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      if (x !== 0) s += Math.pow(Math.abs(x) / m, p);
    }
  }
  return m * Math.pow(s, 1 / p);
}

/**
 * Σx² over all arrays with exact float64 squares (NaN if any element is NaN, Infinity if any is
 * infinite), `@tapegrad/tensor`'s `foreachSumSquares`: one fixed summation order, the same bits on
 * every backend, placement and thread count.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * sumSquares([Float32Array.of(3, 4)]); // 25
 * ```
 */
export function sumSquares(arrays: readonly Float32Array[]): number {
  return foreachSumSquares(arrays);
}

function sumAbs(arrays: readonly Float32Array[]): number {
  let s = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) s += Math.abs(a[i]!);
  }
  return s;
}

/**
 * `max |x|` over all arrays (0 for no elements, NaN if any element is NaN).
 *
 * @throws Never throws.
 * @example
 * ```ts
 * maxAbs([Float32Array.of(-3, 2)]); // 3
 * ```
 */
export function maxAbs(arrays: readonly Float32Array[]): number {
  let m = 0;
  let nan = false;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const x = Math.abs(a[i]!);
      if (x > m) m = x;
      else if (x !== x) nan = true;
    }
  }
  return nan ? NaN : m;
}

function minAbs(arrays: readonly Float32Array[]): number {
  let m = Infinity;
  let nan = false;
  let any = false;
  for (const a of arrays) {
    any ||= a.length > 0;
    for (let i = 0; i < a.length; i++) {
      const x = Math.abs(a[i]!);
      if (x < m) m = x;
      else if (x !== x) nan = true;
    }
  }
  return nan ? NaN : any ? m : 0;
}

function negativePowerNorm(arrays: readonly Float32Array[], p: number): number {
  let s = 0;
  let any = false;
  for (const a of arrays) {
    any ||= a.length > 0;
    for (let i = 0; i < a.length; i++) s += Math.pow(Math.abs(a[i]!), p);
  }
  return any ? Math.pow(s, 1 / p) : 0;
}

function countNonzeroArrays(arrays: readonly Float32Array[]): number {
  let n = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      if (a[i] !== 0) {
        n++;
        break;
      }
    }
  }
  return n;
}

/**
 * Number of nonzero elements (NaN counts as nonzero), the "true" L0 norm.
 *
 * @throws {TypeError} when `arrays` is not an array.
 * @example
 * ```ts
 * countNonzero([Float32Array.of(0, 2, 0), Float32Array.of(1)]); // 2
 * ```
 */
export function countNonzero(arrays: readonly Float32Array[]): number {
  checkArrays("countNonzero", arrays);
  let n = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) if (a[i] !== 0) n++;
  }
  return n;
}

/**
 * Number of NaN and ±Infinity elements.
 *
 * @throws {TypeError} when `arrays` is not an array.
 * @example
 * ```ts
 * countNonFinite([Float32Array.of(1, NaN, Infinity)]); // 2
 * ```
 */
export function countNonFinite(arrays: readonly Float32Array[]): number {
  checkArrays("countNonFinite", arrays);
  let n = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      if (x - x !== 0) n++; // NaN for NaN and ±Infinity, 0 otherwise
    }
  }
  return n;
}

/**
 * Replaces non-finite elements by 0 in place: NaN always, ±Infinity too unless `nanOnly`
 * (Optax `zero_nans` replaces NaN only). Returns how many elements were replaced.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * const g = Float32Array.of(NaN, Infinity, 1);
 * zeroNonFiniteInPlace([g]); // 2, g = [0, 0, 1]
 * ```
 */
export function zeroNonFiniteInPlace(arrays: readonly Float32Array[], nanOnly = false): number {
  let n = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      if (x !== x || (!nanOnly && (x === Infinity || x === -Infinity))) {
        a[i] = 0;
        n++;
      }
    }
  }
  return n;
}

/**
 * Multiplies every element by `c` in place, each product rounded once to float32 (`c = 1` is
 * skipped: it is the identity, also for NaN and -0 elements); `@tapegrad/tensor`'s `foreachScale`.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * scaleInPlace([g], 0.5);
 * ```
 */
export function scaleInPlace(arrays: readonly Float32Array[], c: number): void {
  foreachScale(arrays, c);
}

/** Throws unless `arrays` is an array (of gradient arrays): a string or a number is not iterated. */
function checkArrays(op: string, arrays: unknown): void {
  if (!Array.isArray(arrays)) throw new TypeError(`${op}: arrays must be an array of Float32Array (got ${arrays === null ? "null" : typeof arrays})`);
}
