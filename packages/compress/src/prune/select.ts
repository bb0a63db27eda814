/**
 * @file Selecting the `k` smallest keys with a deterministic tie rule, in O(n log n): one native
 * `Float64Array` sort (numeric, no comparator) gives the threshold, then one linear pass marks
 * every key below it and, among keys equal to it, the lowest indices first.
 *
 * Tie rule (documented, stable): among equal keys at the threshold, the entries with the lower
 * index are selected (pruned) first. NaN keys sort after every number, `+Infinity` included, so
 * they are selected last (torch's `topk(largest=False)` also treats NaN as the largest value).
 */

/**
 * Marks in `out` (set to 1) the `k` entries of `keys[0..n)` with the smallest keys; ties at the
 * threshold go to the lowest indices. Entries not selected are left untouched. Returns the
 * threshold key (`NaN` when nothing is selected).
 *
 * @throws {RangeError} when `k` is not an integer in `[0, n]` or the arrays are shorter than `n`.
 * @example
 * ```ts
 * const out = new Uint8Array(4);
 * selectSmallest(Float64Array.of(3, 1, 1, 2), 4, 2, out); // out = [0, 1, 1, 0], returns 1
 * ```
 */
export function selectSmallest(keys: Float64Array, n: number, k: number, out: Uint8Array): number {
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`selectSmallest: k must be an integer in [0, ${n}] (got ${k})`);
  if (keys.length < n || out.length < n) throw new RangeError(`selectSmallest: arrays shorter than n=${n} (keys ${keys.length}, out ${out.length})`);
  if (k === 0) return NaN;
  const sorted = keys.slice(0, n).sort();
  const threshold = sorted[k - 1]!;
  let left = k;
  if (Number.isNaN(threshold)) {
    for (let i = 0; i < n; i++) {
      if (!Number.isNaN(keys[i]!)) {
        out[i] = 1;
        left--;
      }
    }
    for (let i = 0; i < n && left > 0; i++) {
      if (Number.isNaN(keys[i]!)) {
        out[i] = 1;
        left--;
      }
    }
    return threshold;
  }
  for (let i = 0; i < n; i++) {
    if (keys[i]! < threshold) {
      out[i] = 1;
      left--;
    }
  }
  for (let i = 0; i < n && left > 0; i++) {
    if (keys[i] === threshold) {
      out[i] = 1;
      left--;
    }
  }
  return threshold;
}
