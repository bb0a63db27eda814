/**
 * @file Element-wise edits: value clipping (`clipGradValue`: `torch.nn.utils.clip_grad_value_`,
 * Optax `clip`, Keras `clipvalue`) and NaN zeroing (`zeroNanGrads`: Optax `zero_nans`). Both
 * count elements in `numClipped`; their optimizer stages are `clipGradValue.transform(...)` and
 * `zeroNanGrads.transform(...)`.
 */
import { checkBool, checkNumber, checkRange, fmtValue } from "./errors.js";
import { countNonFinite, zeroNonFiniteInPlace } from "./norms.js";
import { gatherGrads, type GradBatch, type ParamsLike } from "./params.js";
import type { ClipResult, ClipResultWith, GradTransform } from "./transform.js";
import { checkedSchedule, type Scheduled } from "./transforms.js";

/** A symmetric bound `c` (clamp to `[-c, c]`) or explicit bounds. */
export type ClipValueSpec = number | { min?: number; max?: number };

/** The `detail` of a {@link clipGradValue} result: the float32 bounds that were applied. */
export interface ClipValueDetail {
  /** Lower bound (`-Infinity` when open). */
  min: number;
  /** Upper bound (`Infinity` when open). */
  max: number;
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
 * Clamps every element of a gathered batch to `[lo, hi]` in place (NaN stays NaN), counting the
 * moved elements and, in the same pass, the NaN/±Infinity ones. The kernel of
 * {@link clipGradValue} and its transform.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * clampBatch(gatherGrads("op", params), -1, 1);
 * ```
 */
export function clampBatch(batch: GradBatch, lo: number, hi: number): ClipResultWith<"detail", ClipValueDetail> {
  let n = 0;
  let bad = 0;
  for (const a of batch.grads) {
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      if (x > hi) {
        if (x === Infinity) bad++;
        a[i] = hi;
        n++;
      } else if (x < lo) {
        if (x === -Infinity) bad++;
        a[i] = lo;
        n++;
      } else if (x - x !== 0) {
        bad++; // NaN, or ±Infinity inside open bounds
      }
    }
  }
  return { name: "clipGradValue", clipped: n > 0, numClipped: n, nonFiniteCount: bad, skipped: false, detail: { min: lo, max: hi } };
}

/**
 * Clamps every gradient element into `[-clipValue, clipValue]` (or `[min, max]`) in place, as
 * `torch.nn.utils.clip_grad_value_`. The bounds are the float32 values of the arguments; values
 * exactly on a bound are unchanged, `±Infinity` become the bound, NaN stays NaN and `-0` stays
 * `-0`. Parameters without gradients are skipped. Returns a {@link ClipResult} whose `numClipped`
 * counts the *elements* moved onto a bound; `detail` holds the bounds.
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
export function clipGradValue(params: ParamsLike, clipValue: ClipValueSpec): ClipResultWith<"detail", ClipValueDetail> {
  const op = "clipGradValue";
  const [lo, hi] = clipBounds(op, clipValue);
  return clampBatch(gatherGrads(op, params), lo, hi);
}

/**
 * {@link clipGradValue} as an optimizer stage (Optax `clip`, Keras `clipvalue`): the same
 * arguments minus `params`; `clipValue` may be a schedule `(step) => spec`. Named
 * `"clipGradValue"`.
 *
 * @throws {RangeError} for a negative bound or `min > max` (at construction, or at the step for a
 * schedule); {TypeError} for NaN.
 * @example
 * ```ts
 * new SGD(params, { lr: 0.01, clip: clipGradValue.transform(0.1) });
 * new SGD(params, { lr: 0.01, clip: clipGradValue.transform({ min: -1, max: 0.5 }) });
 * ```
 */
clipGradValue.transform = function transform(clipValue: Scheduled<ClipValueSpec>): GradTransform<ClipValueDetail> {
  const op = "clipGradValue.transform";
  const boundsAt = checkedSchedule(op, "clipValue", clipValue, (v) => clipBounds(op, v as ClipValueSpec));
  return {
    name: "clipGradValue",
    apply(batch: GradBatch): ClipResultWith<"detail", ClipValueDetail> {
      const [lo, hi] = boundsAt(batch.step);
      return clampBatch(batch, lo, hi);
    },
  };
};

/** Options of {@link zeroNanGrads}. */
export interface ZeroNanGradsOptions {
  /** Also replace ±Infinity (default false: NaN only, as Optax `zero_nans`). */
  infinities?: boolean;
}

function resolveZeroNanOptions(op: string, opts: ZeroNanGradsOptions): boolean {
  if (opts === null || typeof opts !== "object") throw new TypeError(`${op}: options must be an object (got ${fmtValue(opts)})`);
  return checkBool(op, "infinities", opts.infinities ?? false);
}

/** Kernel of {@link zeroNanGrads} and its transform. */
function zeroNanBatch(batch: GradBatch, infinities: boolean): ClipResult<undefined> {
  const bad = countNonFinite(batch.grads);
  const n = bad === 0 ? 0 : zeroNonFiniteInPlace(batch.grads, !infinities);
  return { name: "zeroNanGrads", clipped: n > 0, numClipped: n, nonFiniteCount: bad, skipped: false };
}

/**
 * Replaces NaN gradient elements by 0 in place (Optax `zero_nans`); with `{ infinities: true }`
 * ±Infinity too (the optimizer's `nonFinite: "zero"` edit). Returns a {@link ClipResult} whose
 * `numClipped` counts the *elements* replaced and `nonFiniteCount` the NaN/±Infinity elements
 * seen. Parameters without gradients are skipped.
 *
 * @throws {TypeError} for a non-boolean `infinities` or bad entries.
 * @example
 * ```ts
 * zeroNanGrads(params);                       // NaN → 0, ±Infinity kept
 * zeroNanGrads(params, { infinities: true }); // NaN and ±Infinity → 0
 * ```
 */
export function zeroNanGrads(params: ParamsLike, opts: ZeroNanGradsOptions = {}): ClipResult<undefined> {
  const op = "zeroNanGrads";
  const infinities = resolveZeroNanOptions(op, opts);
  return zeroNanBatch(gatherGrads(op, params), infinities);
}

/**
 * {@link zeroNanGrads} as an optimizer stage (Optax `zero_nans`): the same arguments minus
 * `params`. Named `"zeroNanGrads"`.
 *
 * @throws {TypeError} for a non-boolean `infinities`.
 * @example
 * ```ts
 * new SGD(params, { lr: 0.1, clip: [zeroNanGrads.transform(), clipGradNorm.transform(1)] });
 * ```
 */
zeroNanGrads.transform = function transform(opts: ZeroNanGradsOptions = {}): GradTransform<undefined> {
  const infinities = resolveZeroNanOptions("zeroNanGrads.transform", opts);
  return { name: "zeroNanGrads", apply: (batch: GradBatch) => zeroNanBatch(batch, infinities) };
};
