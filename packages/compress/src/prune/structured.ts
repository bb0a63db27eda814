/**
 * @file Structured pruning masks on plain typed arrays (no modules): `lnStructured` removes whole
 * channels (slices along `dim`) with the smallest L`n` norm, with `torch.nn.utils.prune`'s
 * container rule — candidate channels are those whose current mask still has a non-zero entry,
 * and a fractional amount refers to them. `mask === null` stands for "not pruned yet" (every
 * channel is a candidate). Norms are accumulated in float64; ties between equal norms prune the
 * lower channel index first (see `select.ts`).
 */
import { fmt } from "@tapegrad/tensor";
import { type PruneAmount, unitsToPrune, validateAmount } from "./amount.js";
import { selectSmallest } from "./select.js";

/**
 * `dim` counted from the end when negative, checked against `ndim`.
 *
 * @throws {RangeError} `fn: Invalid index 2 for tensor of size [4,6]` when out of range or not an
 * integer.
 * @example
 * ```ts
 * normalizeDim("lnStructured", -1, [4, 6]); // 1
 * ```
 */
export function normalizeDim(fn: string, dim: number, shape: readonly number[]): number {
  const nd = shape.length;
  if (!Number.isInteger(dim) || dim < -nd || dim >= nd) throw new RangeError(`${fn}: Invalid index ${String(dim)} for tensor of size ${fmt(shape)}`);
  return dim < 0 ? dim + nd : dim;
}

/**
 * The L`n` norm of each slice along `dim` over all other axes: `(Σ|s|^n)^(1/n)` for any real
 * `n` (`n = 0` counts non-zeros), `max |s|` for `Infinity`, `min |s|` for `-Infinity`. NaN
 * propagates. Computed in float64.
 *
 * @throws {RangeError} for a bad `dim`, a `n` that is NaN or not a number, or `scores` whose
 * length is not the product of `shape`.
 * @example
 * ```ts
 * channelNorms(Float32Array.of(3, 4, 0, 1), [2, 2], 0, 2); // Float64Array [5, 1]
 * ```
 */
export function channelNorms(scores: Float32Array, shape: readonly number[], dim: number, n: number, fn = "channelNorms"): Float64Array {
  const d = normalizeDim(fn, dim, shape);
  if (typeof n !== "number" || Number.isNaN(n)) throw new RangeError(`${fn}: n must be a number or +-Infinity (got ${String(n)})`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (scores.length !== size) throw new RangeError(`${fn}: ${scores.length} scores for shape ${fmt(shape)}`);
  const C = shape[d]!;
  let inner = 1, outer = 1;
  for (let i = d + 1; i < shape.length; i++) inner *= shape[i]!;
  for (let i = 0; i < d; i++) outer *= shape[i]!;
  const acc = new Float64Array(C).fill(n === -Infinity ? Infinity : 0);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      const base = (o * C + c) * inner;
      let a = acc[c]!;
      if (n === Infinity) {
        for (let i = 0; i < inner; i++) {
          const v = Math.abs(scores[base + i]!);
          if (a === a && !(v <= a)) a = v;
        }
      } else if (n === -Infinity) {
        for (let i = 0; i < inner; i++) {
          const v = Math.abs(scores[base + i]!);
          if (a === a && !(v >= a)) a = v;
        }
      } else if (n === 0) {
        for (let i = 0; i < inner; i++) if (scores[base + i] !== 0) a += 1;
      } else if (n === 1) {
        for (let i = 0; i < inner; i++) a += Math.abs(scores[base + i]!);
      } else if (n === 2) {
        for (let i = 0; i < inner; i++) {
          const v = scores[base + i]!;
          a += v * v;
        }
      } else {
        for (let i = 0; i < inner; i++) a += Math.abs(scores[base + i]!) ** n;
      }
      acc[c] = a;
    }
  }
  if (n !== Infinity && n !== -Infinity && n !== 0 && n !== 1) {
    const inv = 1 / n;
    for (let c = 0; c < C; c++) acc[c] = n === 2 ? Math.sqrt(acc[c]!) : acc[c]! ** inv;
  }
  return acc;
}

/**
 * The new mask of `lnStructured`: among the candidate channels along `dim`, the `k` with the
 * smallest L`n` norm of `scores` are zeroed (`k` from `amount` and the number of candidates; the
 * norm covers all entries of the channel, including already pruned ones). With `k = 0` the mask
 * is unchanged.
 *
 * @throws {RangeError} `fn: Structured pruning can only be applied to multidimensional tensors.
 * Found tensor of shape [5] with 1 dims` for `ndim < 2`; for an invalid amount, a count above the
 * number of candidate channels, a bad `dim` or `n`, or mismatched lengths.
 * @example
 * ```ts
 * // a [out, in] = [3, 2] weight: prune the output row with the smallest L2 norm
 * lnStructuredMask(Float32Array.of(1, 1, 0.1, 0, 2, 2), [3, 2], null, { count: 1 }, 2, 0); // [1,1, 0,0, 1,1]
 * ```
 */
export function lnStructuredMask(
  scores: Float32Array,
  shape: readonly number[],
  mask: Float32Array | null,
  amount: PruneAmount,
  n: number,
  dim: number,
  fn = "lnStructured",
): Float32Array {
  validateAmount(fn, amount);
  if (shape.length <= 1) {
    throw new RangeError(`${fn}: Structured pruning can only be applied to multidimensional tensors. Found tensor of shape ${fmt(shape)} with ${shape.length} dims`);
  }
  const d = normalizeDim(fn, dim, shape);
  const size = scores.length;
  if (mask !== null && mask.length !== size) throw new RangeError(`${fn}: mask has ${mask.length} entries, the tensor ${size}`);
  const C = shape[d]!;
  let inner = 1, outer = 1;
  for (let i = d + 1; i < shape.length; i++) inner *= shape[i]!;
  for (let i = 0; i < d; i++) outer *= shape[i]!;
  // candidate channels: every channel on the first call, else those with a non-zero mask entry
  const candidate = new Uint8Array(C);
  if (mask === null) candidate.fill(1);
  else {
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < C; c++) {
        if (candidate[c] === 1) continue;
        const base = (o * C + c) * inner;
        for (let i = 0; i < inner; i++) {
          if (mask[base + i] !== 0) {
            candidate[c] = 1;
            break;
          }
        }
      }
    }
  }
  let m = 0;
  for (let c = 0; c < C; c++) m += candidate[c]!;
  const k = unitsToPrune(fn, amount, m);
  const out = mask === null ? new Float32Array(size).fill(1) : mask.slice();
  if (k === 0) return out;
  const norms = channelNorms(scores, shape, d, n, fn);
  const channel = new Int32Array(m);
  const keys = new Float64Array(m);
  for (let c = 0, j = 0; c < C; c++) {
    if (candidate[c] === 1) {
      channel[j] = c;
      keys[j++] = norms[c]!;
    }
  }
  const selected = new Uint8Array(m);
  selectSmallest(keys, m, k, selected);
  for (let j = 0; j < m; j++) {
    if (selected[j] !== 1) continue;
    const c = channel[j]!;
    for (let o = 0; o < outer; o++) out.fill(0, (o * C + c) * inner, (o * C + c + 1) * inner);
  }
  return out;
}
