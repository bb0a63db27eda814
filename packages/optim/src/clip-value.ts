/**
 * @file Element-wise value clipping (`torch.nn.utils.clip_grad_value_`, Optax `clip`, Keras
 * `clipvalue`).
 */
import { checkNumber, checkRange, fmtValue } from "./errors.js";
import { gatherGrads, type GradBatch, type ParamsLike } from "./params.js";

/** A symmetric bound `c` (clamp to `[-c, c]`) or explicit bounds. */
export type ClipValueSpec = number | { min?: number; max?: number };

/** What {@link clipGradValue} did. */
export interface ClipValueResult {
  /** Number of elements that were changed (moved onto a bound). */
  numClipped: number;
  /** True when at least one element changed. */
  clipped: boolean;
}

/**
 * Validates a value-clip spec and returns the float32 bounds `[lo, hi]`.
 *
 * @throws {RangeError} for a negative symmetric bound or `min > max`; {TypeError} for NaN or
 * non-numbers.
 * @example
 * ```ts
 * clipBounds("clipGradValue", 0.1); // [-0.1, 0.1] as float32 values
 * ```
 */
export function clipBounds(op: string, spec: ClipValueSpec): [number, number] {
  if (typeof spec === "number") {
    const c = checkRange(op, "clipValue", spec, 0, Infinity);
    return [-Math.fround(c), Math.fround(c)];
  }
  if (spec === null || typeof spec !== "object") throw new TypeError(`${op}: clipValue must be a number or { min, max } (got ${fmtValue(spec)})`);
  const lo = checkNumber(op, "min", spec.min ?? -Infinity);
  const hi = checkNumber(op, "max", spec.max ?? Infinity);
  if (lo > hi) throw new RangeError(`${op}: min must be <= max (got min ${lo} and max ${hi})`);
  return [Math.fround(lo), Math.fround(hi)];
}

/**
 * Clamps every element of a gathered batch to `[lo, hi]` in place (NaN stays NaN).
 *
 * @throws Never throws.
 * @example
 * ```ts
 * clampBatch(gatherGrads("op", params), -1, 1);
 * ```
 */
export function clampBatch(batch: GradBatch, lo: number, hi: number): ClipValueResult {
  let n = 0;
  for (const a of batch.grads) {
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      if (x > hi) {
        a[i] = hi;
        n++;
      } else if (x < lo) {
        a[i] = lo;
        n++;
      }
    }
  }
  return { numClipped: n, clipped: n > 0 };
}

/**
 * Clamps every gradient element into `[-clipValue, clipValue]` (or `[min, max]`) in place, as
 * `torch.nn.utils.clip_grad_value_`. The bounds are the float32 values of the arguments; values
 * exactly on a bound are unchanged, `±Infinity` become the bound, NaN stays NaN and `-0` stays
 * `-0`. Parameters without gradients are skipped.
 *
 * Unlike PyTorch (whose `clamp` with `min > max` sets everything to `max`), a negative
 * `clipValue` or `min > max` throws.
 *
 * @throws {RangeError} for a negative `clipValue` or `min > max`; {TypeError} for NaN.
 * @example
 * ```ts
 * clipGradValue([w, b], 0.1);                 // clamp to [-0.1, 0.1]
 * clipGradValue(params, { min: -1, max: 0.5 }); // asymmetric
 * ```
 */
export function clipGradValue(params: ParamsLike, clipValue: ClipValueSpec): ClipValueResult {
  const op = "clipGradValue";
  const [lo, hi] = clipBounds(op, clipValue);
  return clampBatch(gatherGrads(op, params), lo, hi);
}
