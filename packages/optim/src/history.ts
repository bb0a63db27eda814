/**
 * @file A bounded history of numbers that answers percentiles in O(1): the chronological values
 * (a ring buffer) plus the same values kept sorted (binary-search insertion). Used by AutoClip.
 */
import { checkRange, fmtValue } from "./errors.js";

/**
 * The q-quantile (`0 <= q <= 1`) of ascending `sorted` values with linear interpolation between
 * the closest ranks, as `numpy.percentile(x, 100q)` and `torch.quantile(x, q)` by default.
 * Empty input gives NaN.
 *
 * @throws {RangeError} for `q` outside [0, 1].
 * @example
 * ```ts
 * quantileSorted([1, 2, 3, 4], 0.5); // 2.5
 * quantileSorted([1, 2, 3, 4], 0.1); // 1 + 0.3·(2 − 1) = 1.3
 * ```
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  checkRange("quantileSorted", "q", q, 0, 1);
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const t = pos - lo;
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  if (t === 0) return a;
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t; // numpy's _lerp (exact at both ends)
}

/**
 * A history of at most `limit` numbers (`Infinity` for unbounded) with O(log n) search and O(n)
 * memmove insertion/eviction, and O(1) quantiles.
 *
 * @throws {RangeError} from the constructor for a bad limit; {TypeError} from `push`/`load` for NaN.
 * @example
 * ```ts
 * const h = new SortedHistory(3);
 * [5, 1, 3, 4].forEach((x) => h.push(x)); // keeps 1, 3, 4 (5 was evicted)
 * h.quantile(0.5); // 3
 * ```
 */
export class SortedHistory {
  /** Maximum number of values kept. */
  readonly limit: number;
  private chrono: number[] = [];
  private head = 0; // index of the oldest value once the ring is full
  private sorted: number[] = [];

  /**
   * @throws {RangeError} unless `limit` is a positive integer or Infinity.
   * @example
   * ```ts
   * const h = new SortedHistory(1000); // keeps the last 1000 values
   * ```
   */
  constructor(limit = Infinity) {
    if (limit !== Infinity && (!Number.isInteger(limit) || limit < 1)) throw new RangeError(`SortedHistory: limit must be a positive integer or Infinity (got ${fmtValue(limit)})`);
    this.limit = limit;
  }

  /**
   * Number of values held.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * h.size; // 3
   * ```
   */
  get size(): number {
    return this.sorted.length;
  }

  /**
   * Appends `x` (evicting the oldest value when full).
   *
   * @throws {TypeError} for NaN (a NaN would make every quantile NaN).
   * @example
   * ```ts
   * h.push(0.7);
   * ```
   */
  push(x: number): void {
    if (typeof x !== "number" || Number.isNaN(x)) throw new TypeError(`SortedHistory.push: value must be a number (got ${fmtValue(x)})`);
    if (this.chrono.length < this.limit) {
      this.chrono.push(x);
    } else {
      const old = this.chrono[this.head]!;
      this.chrono[this.head] = x;
      this.head = (this.head + 1) % this.chrono.length;
      this.sorted.splice(this.lowerBound(old), 1);
    }
    this.sorted.splice(this.lowerBound(x), 0, x);
  }

  /**
   * The q-quantile of the held values (see {@link quantileSorted}); NaN when empty.
   *
   * @throws {RangeError} for `q` outside [0, 1].
   * @example
   * ```ts
   * h.quantile(0.9);
   * ```
   */
  quantile(q: number): number {
    return quantileSorted(this.sorted, q);
  }

  /**
   * The held values, oldest first (a copy).
   *
   * @throws Never throws.
   * @example
   * ```ts
   * h.values(); // [1, 3, 4]
   * ```
   */
  values(): number[] {
    return this.chrono.slice(this.head).concat(this.chrono.slice(0, this.head));
  }

  /**
   * Replaces the content with `values` (oldest first; only the last `limit` are kept).
   *
   * @throws {TypeError} for non-number entries.
   * @example
   * ```ts
   * h.load([0.5, 0.7]);
   * ```
   */
  load(values: readonly number[]): void {
    if (!Array.isArray(values)) throw new TypeError(`SortedHistory.load: expected an array of numbers (got ${fmtValue(values)})`);
    for (const v of values) if (typeof v !== "number" || Number.isNaN(v)) throw new TypeError(`SortedHistory.load: values must be numbers (got ${fmtValue(v)})`);
    this.clear();
    for (const v of values) this.push(v);
  }

  /**
   * Removes every value.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * h.clear(); h.size; // 0
   * ```
   */
  clear(): void {
    this.chrono = [];
    this.sorted = [];
    this.head = 0;
  }

  private lowerBound(x: number): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
