/**
 * @file Buckets of parameters that share the per-step scalars of an update rule (internal).
 *
 * Rules with bias corrections or decaying step sizes (Adagrad, Adamax, NAdam, RAdam) depend on
 * each parameter's own step count (and NAdam's on its `muProduct`), so a group's parameters are
 * split by that key and each bucket is updated by one `foreachMap` call with its own scalars.
 * With the usual single step count per group this is one call per group.
 */

/**
 * Splits `count` parameters into buckets by `keyOf(k)` (in first-seen order) and collects, per
 * bucket, the operand lists of a map kernel: `arraysOf(k)` gives parameter `k`'s arrays in the
 * kernel's order, and bucket list `j` holds the `j`-th array of each member.
 *
 * @throws {RangeError} when `arraysOf` returns a different number of arrays for two parameters.
 * @example
 * ```ts
 * const buckets = bucketLists(values.length, (k) => states[k].step as number, (k) => [values[k], grads[k]]);
 * for (const [t, lists] of buckets) foreachMap(kernel, lists, scalarsFor(t));
 * ```
 */
export function bucketLists<K>(count: number, keyOf: (k: number) => K, arraysOf: (k: number) => Float32Array[]): Map<K, Float32Array[][]> {
  const buckets = new Map<K, Float32Array[][]>();
  for (let k = 0; k < count; k++) {
    const key = keyOf(k);
    const arrays = arraysOf(k);
    let lists = buckets.get(key);
    if (!lists) buckets.set(key, (lists = arrays.map(() => [])));
    if (lists.length !== arrays.length) throw new RangeError(`bucketLists: parameter ${k} has ${arrays.length} operands, expected ${lists.length}`);
    for (let j = 0; j < arrays.length; j++) lists[j]!.push(arrays[j]!);
  }
  return buckets;
}
