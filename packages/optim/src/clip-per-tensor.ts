/**
 * @file Per-tensor norm clipping: each gradient is clipped by its own norm (Keras `clipnorm`,
 * `tf.clip_by_norm`; in PyTorch, calling `clip_grad_norm_` once per tensor).
 *
 * Coefficient per tensor (`n` its norm, `c` = maxNorm), by `compat`:
 * - `"torch"` (default): `min(1, c/(n + eps))`, as `clip_grad_norm_(p, c)` on that tensor alone;
 * - `"optax"`: `n < c ? 1 : c/n` (Optax has no per-tensor clip; this is its global rule per leaf);
 * - `"tf"`: `c / max(n, c)`, i.e. `tf.clip_by_norm(g, c)` = `g·c / max(‖g‖, c)`: no epsilon, an
 *   all-zero tensor with `c = 0` gives `0/0 = NaN`, `n = Infinity` gives 0 (±Infinity → NaN);
 * - `"keras"`: the `"tf"` rule, but `c <= 0` switches clipping off (Keras treats `clipnorm=0` as
 *   unset).
 *
 * L2 norms come from `sumSquares` (through `normOf`). The optimizer stage is
 * `clipGradNormPerTensor.transform(maxNorm, opts)`. The loop over the tensors, `clipEachTensor`,
 * also serves block-RMS clipping.
 */
import { countNonFinite, normOf, scaleInPlace } from "./norms.js";
import { gatherGrads, type GradBatch, type ParamsLike } from "./params.js";
import { checkCoefficientArgs, checkMaxNorm, resolveNormOptions, type ClipCompat } from "./clip-norm.js";
import type { ClipResultWith, GradTransform } from "./transform.js";
import { checkedSchedule, type Scheduled } from "./transforms.js";

/** Options of {@link clipGradNormPerTensor}. */
export interface PerTensorClipOptions {
  /** p of each tensor's norm (default 2; Keras and TF define only 2). */
  normType?: number;
  /** Epsilon of the `"torch"` coefficient (default 1e-6). */
  eps?: number;
  /** Edge semantics (default `"torch"`). */
  compat?: ClipCompat;
}

/** The `detail` of a {@link clipGradNormPerTensor} result, one entry per gradient that was present. */
export interface PerTensorClipDetail {
  /** Norm of each gradient before clipping. */
  norms: number[];
  /** Coefficient applied to each gradient (float32 values). */
  coefs: number[];
}

/**
 * The per-tensor coefficient for norm `n` and bound `c` under `compat` (see the file comment).
 *
 * @throws {TypeError} / {RangeError} as `clipCoefficient` for bad arguments.
 * @example
 * ```ts
 * perTensorCoefficient(4, 1, "tf"); // 0.25
 * perTensorCoefficient(0, 0, "tf"); // NaN (0/0, as tf.clip_by_norm)
 * ```
 */
export function perTensorCoefficient(n: number, c: number, compat: ClipCompat = "torch", eps = 1e-6): number {
  checkCoefficientArgs("perTensorCoefficient", n, c, compat, eps);
  return Math.fround(coefficient64(n, c, compat, eps)); // a float32 scalar, as for the global norm
}

function coefficient64(n: number, c: number, compat: ClipCompat, eps: number): number {
  switch (compat) {
    case "torch":
      return Math.min(c / (n + eps), 1);
    case "optax":
      return n < c ? 1 : c / n;
    case "keras":
      return c > 0 ? c / Math.max(n, c) : 1;
    case "tf":
      return c / Math.max(n, c); // Math.max propagates NaN, like torch.maximum
  }
}

/** What a per-tensor rule decides for one gradient (see {@link clipEachTensor}). */
export interface TensorClip {
  /** What the rule measured (a norm, an RMS), recorded per tensor. */
  measure: number;
  /** The rule's factor (a coefficient, a divisor), recorded per tensor; 1 keeps the tensor. */
  factor: number;
  /** What the gradient is multiplied by when `factor` is not 1. */
  scale: number;
  /** False when the measure may hide NaN/±Infinity elements, which are then counted. */
  finite: boolean;
}

/**
 * The loop of the per-tensor clippers: `rule` sees each gradient alone (as the one-element list
 * the norm kernels take), non-finite elements are counted before scaling, and the gradient is
 * scaled in place when its factor is not 1. Returns the measures and factors in batch order, the
 * number of tensors scaled and the non-finite count.
 *
 * @throws whatever `rule` throws.
 * @example
 * ```ts
 * clipEachTensor(batch.grads, (one) => {
 *   const n = normOf(one, 2), c = Math.fround(Math.min(1, 1 / n)); // each tensor to norm <= 1
 *   return { measure: n, factor: c, scale: c, finite: Number.isFinite(n) };
 * });
 * ```
 */
export function clipEachTensor(grads: readonly Float32Array[], rule: (one: Float32Array[]) => TensorClip): { measures: number[]; factors: number[]; numClipped: number; nonFiniteCount: number } {
  const measures: number[] = [];
  const factors: number[] = [];
  let numClipped = 0;
  let nonFiniteCount = 0;
  const one: Float32Array[] = [new Float32Array(0)];
  for (const g of grads) {
    one[0] = g;
    const r = rule(one);
    if (!r.finite) nonFiniteCount += countNonFinite(one);
    if (r.factor !== 1) {
      scaleInPlace(one, r.scale);
      numClipped++;
    }
    measures.push(r.measure);
    factors.push(r.factor);
  }
  return { measures, factors, numClipped, nonFiniteCount };
}

/**
 * Per-tensor clipping of a gathered batch (kernel of {@link clipGradNormPerTensor} and its
 * transform).
 *
 * @throws Never throws.
 * @example
 * ```ts
 * clipBatchPerTensor(gatherGrads("op", params), 1, 2, "keras", 1e-6);
 * ```
 */
export function clipBatchPerTensor(batch: GradBatch, maxNorm: number, normType: number, compat: ClipCompat, eps: number): ClipResultWith<"threshold" | "detail", PerTensorClipDetail> {
  const r = clipEachTensor(batch.grads, (one) => {
    const n = normOf(one, normType);
    const coef = perTensorCoefficient(n, maxNorm, compat, eps);
    // For p > 0 a finite norm proves the tensor has no NaN/±Infinity.
    return { measure: n, factor: coef, scale: coef, finite: Number.isFinite(n) && normType > 0 };
  });
  return {
    name: "clipGradNormPerTensor", clipped: r.numClipped > 0, numClipped: r.numClipped, nonFiniteCount: r.nonFiniteCount, skipped: false, threshold: maxNorm,
    detail: { norms: r.measures, coefs: r.factors },
  };
}

/**
 * Clips each gradient by its own norm in place (Keras `clipnorm`): with the default `"torch"`
 * rule `g ← g · min(1, maxNorm/(‖g‖ + 1e-6))` per tensor; `compat: "keras"` or `"tf"` gives
 * `g·c / max(‖g‖, c)` exactly. Parameters without gradients are skipped. Returns a
 * {@link ClipResult} whose `numClipped` counts the *tensors* whose coefficient is not 1, with
 * `threshold` = `maxNorm` and the per-tensor norms and coefficients in `detail`.
 *
 * @throws {RangeError} for a negative `maxNorm`; {TypeError} for NaN or bad options.
 * @example
 * ```ts
 * const { numClipped, detail } = clipGradNormPerTensor([w, b], 1.0, { compat: "keras" });
 * detail!.norms; // [‖g_w‖, ‖g_b‖]
 * ```
 */
export function clipGradNormPerTensor(params: ParamsLike, maxNorm: number, opts: PerTensorClipOptions = {}): ClipResultWith<"threshold" | "detail", PerTensorClipDetail> {
  const op = "clipGradNormPerTensor";
  const c = checkMaxNorm(op, maxNorm);
  const o = resolveNormOptions(op, opts);
  return clipBatchPerTensor(gatherGrads(op, params), c, o.normType, o.compat, o.eps);
}

/**
 * {@link clipGradNormPerTensor} as an optimizer stage (Keras `clipnorm`, `tf.clip_by_norm` per
 * variable): the same arguments minus `params`; `maxNorm` may be a schedule `(step) => maxNorm`.
 * Named `"clipGradNormPerTensor"`.
 *
 * @throws {RangeError} for a negative `maxNorm` (at construction, or at the step for a schedule);
 * {TypeError} for bad options.
 * @example
 * ```ts
 * new SGD(params, { lr: 0.1, clip: clipGradNormPerTensor.transform(1.0, { compat: "keras" }) });
 * ```
 */
clipGradNormPerTensor.transform = function transform(maxNorm: Scheduled<number>, opts: PerTensorClipOptions = {}): GradTransform<PerTensorClipDetail> {
  const op = "clipGradNormPerTensor.transform";
  const maxNormAt = checkedSchedule(op, "maxNorm", maxNorm, (v) => checkMaxNorm(op, v));
  const o = resolveNormOptions(op, opts);
  return {
    name: "clipGradNormPerTensor",
    apply(batch: GradBatch): ClipResultWith<"threshold" | "detail", PerTensorClipDetail> {
      return clipBatchPerTensor(batch, maxNormAt(batch.step), o.normType, o.compat, o.eps);
    },
  };
};
