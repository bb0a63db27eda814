/**
 * @file Unstructured pruning masks on plain typed arrays (no modules): L1 (smallest magnitudes),
 * random (seeded), global L1/random over several tensors, and custom masks — with
 * `torch.nn.utils.prune`'s container rule: only entries whose current mask is 1 are candidates,
 * and a fractional amount refers to them (`round_half_even(amount · candidates)`).
 *
 * `mask === null` stands for "not pruned yet" (torch's all-ones default mask). Every function
 * returns a new mask and never writes into its inputs. Ties: see `select.ts` (lower index first).
 */
import type { Rng } from "@tapegrad/tensor";
import { type PruneAmount, unitsToPrune, validateAmount } from "./amount.js";
import { selectSmallest } from "./select.js";

/** How an unstructured method scores candidates. */
export type UnstructuredMethod = "l1Unstructured" | "randomUnstructured";

/**
 * Indices of the candidate entries (`mask[i] === 1`; every index when `mask` is null).
 *
 * @throws {RangeError} when `mask` is given and its length is not `size`.
 * @example
 * ```ts
 * candidateIndices(Float32Array.of(1, 0, 1), 3); // Int32Array [0, 2]
 * ```
 */
export function candidateIndices(mask: Float32Array | null, size: number, fn = "candidateIndices"): Int32Array {
  if (mask === null) {
    const all = new Int32Array(size);
    for (let i = 0; i < size; i++) all[i] = i;
    return all;
  }
  if (mask.length !== size) throw new RangeError(`${fn}: mask has ${mask.length} entries, the tensor ${size}`);
  let m = 0;
  for (let i = 0; i < size; i++) if (mask[i] === 1) m++;
  const idx = new Int32Array(m);
  for (let i = 0, j = 0; i < size; i++) if (mask[i] === 1) idx[j++] = i;
  return idx;
}

/**
 * The new mask of `l1Unstructured`: among the candidates, the `k` with the smallest `|scores|`
 * get 0 (`k` from `amount` and the number of candidates).
 *
 * @throws {RangeError} for an invalid amount, a count above the number of candidates (torch's
 * message, e.g. `l1Unstructured: amount=7 should be smaller than the number of parameters to
 * prune=6`), or a mask whose length differs from the scores'.
 * @example
 * ```ts
 * l1UnstructuredMask(Float32Array.of(0.5, -0.1, 2, 0.3), null, 0.5); // [1, 0, 1, 0]
 * ```
 */
export function l1UnstructuredMask(scores: Float32Array, mask: Float32Array | null, amount: PruneAmount, fn = "l1Unstructured"): Float32Array {
  return unstructuredMasks([scores], [mask], amount, "l1Unstructured", null, fn)[0]!;
}

/**
 * The new mask of `randomUnstructured`: `k` candidates chosen by drawing one uniform number per
 * candidate from `rng` (in candidate order) and pruning the `k` largest, as torch does with
 * `topk(rand_like(t), k)`; reproducible for a given seed (not torch's random stream).
 *
 * @throws {RangeError} as {@link l1UnstructuredMask}.
 * @example
 * ```ts
 * randomUnstructuredMask(10, null, 0.3, new Rng(0)); // three zeros
 * ```
 */
export function randomUnstructuredMask(size: number, mask: Float32Array | null, amount: PruneAmount, rng: Rng, fn = "randomUnstructured"): Float32Array {
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`${fn}: size must be a non-negative integer (got ${String(size)})`);
  return unstructuredMasks([new Float32Array(size)], [mask], amount, "randomUnstructured", rng, fn)[0]!;
}

/**
 * Global unstructured pruning: the candidates of all tensors (flattened row-major, concatenated
 * in order) are pruned together with one `k` over all of them, then the result is split back —
 * exactly `l1UnstructuredMask` (or the random method) on the concatenation.
 *
 * @throws {RangeError} as {@link l1UnstructuredMask}, or when `scores` and `masks` differ in
 * length; {TypeError} when `method` is random and no `rng` is given.
 * @example
 * ```ts
 * const [a, b] = globalUnstructuredMasks([wa, wb], [null, null], 0.4);
 * ```
 */
export function globalUnstructuredMasks(
  scores: readonly Float32Array[],
  masks: readonly (Float32Array | null)[],
  amount: PruneAmount,
  method: UnstructuredMethod = "l1Unstructured",
  rng: Rng | null = null,
  fn = "globalUnstructured",
): Float32Array[] {
  return unstructuredMasks(scores, masks, amount, method, rng, fn);
}

function unstructuredMasks(
  scores: readonly Float32Array[],
  masks: readonly (Float32Array | null)[],
  amount: PruneAmount,
  method: UnstructuredMethod,
  rng: Rng | null,
  fn: string,
): Float32Array[] {
  validateAmount(fn, amount);
  if (scores.length !== masks.length) throw new RangeError(`${fn}: ${scores.length} score tensors but ${masks.length} masks`);
  if (method === "randomUnstructured" && rng === null) throw new TypeError(`${fn}: the random method needs an rng`);
  const cands = scores.map((s, t) => candidateIndices(masks[t]!, s.length, fn));
  let m = 0;
  for (const c of cands) m += c.length;
  const k = unitsToPrune(fn, amount, m);
  const out = scores.map((s, t) => (masks[t] ? masks[t]!.slice() : new Float32Array(s.length).fill(1)));
  if (k === 0) return out;
  const keys = new Float64Array(m);
  if (method === "randomUnstructured") {
    const u = rng!.fillUniform(new Float32Array(m));
    for (let j = 0; j < m; j++) keys[j] = -u[j]!; // the k largest draws are pruned
  } else {
    for (let t = 0, j = 0; t < scores.length; t++) {
      const s = scores[t]!, c = cands[t]!;
      for (let i = 0; i < c.length; i++) keys[j++] = Math.abs(s[c[i]!]!);
    }
  }
  const selected = new Uint8Array(m);
  selectSmallest(keys, m, k, selected);
  for (let t = 0, j = 0; t < scores.length; t++) {
    const o = out[t]!, c = cands[t]!;
    for (let i = 0; i < c.length; i++, j++) if (selected[j] === 1) o[c[i]!] = 0;
  }
  return out;
}

/**
 * The new mask of `customFromMask`: the current mask times `custom` (which must hold only 0 and
 * 1, as numbers or booleans).
 *
 * @throws {RangeError} when `custom` has the wrong length or a value other than 0/1.
 * @example
 * ```ts
 * customMask(null, [1, 0, 1]); // Float32Array [1, 0, 1]
 * ```
 */
export function customMask(mask: Float32Array | null, custom: ArrayLike<number | boolean>, size = mask?.length ?? custom.length, fn = "customFromMask"): Float32Array {
  if (custom.length !== size) throw new RangeError(`${fn}: mask has ${custom.length} entries, the parameter ${size}`);
  if (mask !== null && mask.length !== size) throw new RangeError(`${fn}: current mask has ${mask.length} entries, the parameter ${size}`);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const c = Number(custom[i]);
    if (c !== 0 && c !== 1) throw new RangeError(`${fn}: mask values must be 0 or 1 (got ${String(custom[i])} at index ${i})`);
    out[i] = (mask === null ? 1 : mask[i]!) * c;
  }
  return out;
}

/**
 * Number of zeros in a mask (pruned entries).
 *
 * @throws never.
 * @example
 * ```ts
 * countZeros(Float32Array.of(1, 0, 0)); // 2
 * ```
 */
export function countZeros(mask: ArrayLike<number>): number {
  let z = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] === 0) z++;
  return z;
}
