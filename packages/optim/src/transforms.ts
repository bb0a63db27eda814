/**
 * @file Ready-made gradient transforms (for an optimizer's `clip` option or {@link chain}), one per
 * clipping method. Each wraps the matching in-place function; hyper-parameters that may follow a
 * schedule (`maxNorm`, `clipValue`, …) also accept a function of the 1-based step.
 */
import type { Var } from "@tapegrad/autograd";
import { checkRange, fmtValue } from "./errors.js";
import { countNonFinite, zeroNonFiniteInPlace } from "./norms.js";
import type { GradBatch } from "./params.js";
import type { GradTransform, TransformReport } from "./transform.js";
import { clampBatch, clipBounds, type ClipValueSpec } from "./clip-value.js";
import { checkMaxNorm, clipBatchNorm, resolveNormOptions, type ClipNormOptions } from "./clip-norm.js";
import { clipBatchPerTensor, type PerTensorClipOptions } from "./clip-per-tensor.js";
import { agcBatch, resolveAgcOptions, type AgcOptions } from "./agc.js";
import { clipBatchBlockRms } from "./block-rms.js";
import { AutoClip, type AutoClipOptions } from "./autoclip.js";
import { ZClip, type ZClipOptions } from "./zclip.js";

/** A hyper-parameter given as a constant or as a function of the 1-based step (a schedule). */
export type Scheduled<T> = T | ((step: number) => T);

function resolve<T>(v: Scheduled<T>, step: number): T {
  return typeof v === "function" ? (v as (s: number) => T)(step) : v;
}

function checkScheduled(op: string, name: string, v: unknown, check: (x: unknown) => unknown): void {
  if (typeof v === "function") return; // checked every step
  if (v === undefined) throw new TypeError(`${op}: ${name} is required (got undefined)`);
  check(v);
}

/**
 * Element-wise clamp to `[-clipValue, clipValue]` (or `{min, max}`), as a transform (Optax `clip`,
 * Keras `clipvalue`). Report: `numClipped` elements.
 *
 * @throws {RangeError} for a negative bound or `min > max` (at construction, or at the step for a
 * scheduled value).
 * @example
 * ```ts
 * new SGD(params, { lr: 0.01, clip: clipByValue(0.1) });
 * ```
 */
export function clipByValue(clipValue: Scheduled<ClipValueSpec>): GradTransform {
  const op = "clipByValue";
  checkScheduled(op, "clipValue", clipValue, (v) => clipBounds(op, v as ClipValueSpec));
  return {
    name: op,
    apply(batch: GradBatch): TransformReport {
      const [lo, hi] = clipBounds(op, resolve(clipValue, batch.step));
      const r = clampBatch(batch, lo, hi);
      return { name: op, clipped: r.clipped, numClipped: r.numClipped };
    },
  };
}

/**
 * Global-norm clipping as a transform (PyTorch `clip_grad_norm_` by default; `compat`,
 * `normType`, `eps` and `nonFinite` as in `clipGradNorm`). With `nonFinite: "skip"` the report
 * asks the optimizer to skip the step.
 *
 * @throws {RangeError} for a negative `maxNorm`; {TypeError} for bad options.
 * @example
 * ```ts
 * new Adam(params, { clip: clipByGlobalNorm(1.0) });
 * new SGD(params, { lr: 0.1, clip: clipByGlobalNorm((step) => (step < 100 ? 10 : 1)) });
 * ```
 */
export function clipByGlobalNorm(maxNorm: Scheduled<number>, opts: ClipNormOptions = {}): GradTransform {
  const op = "clipByGlobalNorm";
  checkScheduled(op, "maxNorm", maxNorm, (v) => checkMaxNorm(op, v));
  const o = resolveNormOptions(op, opts);
  return {
    name: op,
    apply(batch: GradBatch): TransformReport {
      const c = checkMaxNorm(op, resolve(maxNorm, batch.step));
      const r = clipBatchNorm(op, batch, c, o);
      const report: TransformReport = { name: op, clipped: r.clipped, totalNorm: r.totalNorm, threshold: c, coef: r.coef, nonFiniteCount: r.nonFiniteCount };
      if (r.skipped) report.skip = true;
      return report;
    },
  };
}

/**
 * Per-tensor norm clipping as a transform (Keras `clipnorm`; see `clipGradNormPerTensor`).
 * Report: `numClipped` tensors, `detail` = `{ norms, coefs }`.
 *
 * @throws {RangeError} for a negative `maxNorm`; {TypeError} for bad options.
 * @example
 * ```ts
 * new SGD(params, { lr: 0.1, clip: clipByNormPerTensor(1.0, { compat: "keras" }) });
 * ```
 */
export function clipByNormPerTensor(maxNorm: Scheduled<number>, opts: PerTensorClipOptions = {}): GradTransform {
  const op = "clipByNormPerTensor";
  checkScheduled(op, "maxNorm", maxNorm, (v) => checkMaxNorm(op, v));
  const o = resolveNormOptions(op, opts);
  return {
    name: op,
    apply(batch: GradBatch): TransformReport {
      const c = checkMaxNorm(op, resolve(maxNorm, batch.step));
      const r = clipBatchPerTensor(batch, c, o.normType, o.compat, o.eps);
      return { name: op, clipped: r.clipped, threshold: c, numClipped: r.numClipped, detail: { norms: r.norms, coefs: r.coefs } };
    },
  };
}

/**
 * Adaptive gradient clipping (AGC) as a transform; `include` selects the parameters to clip (the
 * AGC paper leaves the final classifier layer out). Report: `numClipped` units, `detail` = the
 * per-tensor stats.
 *
 * @throws {RangeError} for a negative `clipping`; {TypeError} for bad options.
 * @example
 * ```ts
 * new SGD(params, { lr: 0.1, momentum: 0.9, clip: clipByAgc(0.01, { include: (p) => p.name !== "head.weight" }) });
 * ```
 */
export function clipByAgc(clipping: Scheduled<number>, opts: AgcOptions & { include?: (param: Var, index: number) => boolean } = {}): GradTransform {
  const op = "clipByAgc";
  const check = (v: unknown) => checkRange(op, "clipping", v, 0, Infinity);
  checkScheduled(op, "clipping", clipping, check);
  const o = resolveAgcOptions(op, opts);
  if (opts.include !== undefined && typeof opts.include !== "function") throw new TypeError(`${op}: include must be a function (got ${fmtValue(opts.include)})`);
  return {
    name: op,
    apply(batch: GradBatch): TransformReport {
      const c = check(resolve(clipping, batch.step));
      const length = batch.indices.length === 0 ? 0 : batch.indices[batch.indices.length - 1]! + 1;
      const r = agcBatch(op, batch, c, o, length, opts.include);
      return { name: op, clipped: r.clipped, numClipped: r.numClipped, detail: r.tensors };
    },
  };
}

/**
 * Block-RMS clipping as a transform (Optax `clip_by_block_rms`). Report: `numClipped` tensors,
 * `detail` = `{ rms, divisors }`.
 *
 * @throws {RangeError} unless `threshold > 0`.
 * @example
 * ```ts
 * new Adam(params, { clip: clipByBlockRms(1.0) });
 * ```
 */
export function clipByBlockRms(threshold: Scheduled<number>): GradTransform {
  const op = "clipByBlockRms";
  const check = (v: unknown) => checkRange(op, "threshold", v, 0, Infinity, { loOpen: true });
  checkScheduled(op, "threshold", threshold, check);
  return {
    name: op,
    apply(batch: GradBatch): TransformReport {
      const r = clipBatchBlockRms(batch, check(resolve(threshold, batch.step)));
      return { name: op, clipped: r.clipped, numClipped: r.numClipped, detail: { rms: r.rms, divisors: r.divisors } };
    },
  };
}

/**
 * Replaces NaN gradient elements by 0 (Optax `zero_nans`); with `{ infinities: true }` also
 * ±Infinity. Report: `nonFiniteCount` = elements replaced.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * new SGD(params, { lr: 0.1, clip: [zeroNans(), clipByGlobalNorm(1)] });
 * ```
 */
export function zeroNans(opts: { infinities?: boolean } = {}): GradTransform {
  const op = "zeroNans";
  const nanOnly = !opts.infinities;
  return {
    name: op,
    apply(batch: GradBatch): TransformReport {
      const bad = countNonFinite(batch.grads);
      const n = bad === 0 ? 0 : zeroNonFiniteInPlace(batch.grads, nanOnly);
      return { name: op, clipped: n > 0, numClipped: n, nonFiniteCount: bad };
    },
  };
}

/**
 * A new {@link AutoClip} transform (percentile of the norm history).
 *
 * @throws as the `AutoClip` constructor.
 * @example
 * ```ts
 * new Adam(params, { clip: autoClip({ percentile: 10 }) });
 * ```
 */
export function autoClip(opts: AutoClipOptions = {}): AutoClip {
  return new AutoClip(opts);
}

/**
 * A new {@link ZClip} transform (z-score spike clipping, published defaults).
 *
 * @throws as the `ZClip` constructor.
 * @example
 * ```ts
 * new AdamW(params, { clip: zClip() });
 * ```
 */
export function zClip(opts: ZClipOptions = {}): ZClip {
  return new ZClip(opts);
}
