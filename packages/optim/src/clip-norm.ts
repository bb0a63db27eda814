/**
 * @file Global-norm clipping: `getTotalNorm`, `clipGradsWithNorm` and `clipGradNorm` (PyTorch's
 * `get_total_norm` / `clip_grads_with_norm_` / `clip_grad_norm_`), with the edge semantics of
 * Optax, Keras and TensorFlow selectable by `compat`, and an explicit non-finite policy.
 *
 * Edge cases side by side (`n` = total norm, `c` = maxNorm; "applied" = every gradient times coef):
 *
 * | case            | `"torch"` (default)          | `"optax"`                 | `"keras"`            | `"tf"`                  |
 * | --------------- | ---------------------------- | ------------------------- | -------------------- | ----------------------- |
 * | coefficient     | `min(1, c/(n+eps))`, always  | `n < c ? 1 : c/n`         | `c/max(n,c)`; c=0 off| `c/max(n,c)`            |
 * | `n == c`        | `c/(c+1e-6)` (shrinks a bit) | `1` (clip branch, exact)  | `1`                  | `1`                     |
 * | `n == 0`        | `1` when `c ≥ 1e-6`          | `1`; `c == 0`: **NaN**    | `1`                  | `1`; `c == 0`: **NaN**  |
 * | `c == 0`        | `0`: gradients zeroed        | `0` (`n > 0`)             | clipping **off**     | `0` (`n > 0`)           |
 * | `n == Infinity` | `0`: finite → ±0, ±Inf → NaN | `0`: same as torch        | **NaN** everywhere   | **NaN** everywhere      |
 * | `n` is NaN      | NaN everywhere               | NaN everywhere            | NaN everywhere       | NaN everywhere          |
 *
 * `"optax"` is `optax.clip_by_global_norm` (strict `<`, no epsilon, the `0/0` of optax#1752);
 * `"tf"` is `tf.clip_by_global_norm` (`(n − n)` turns a non-finite norm into NaN, tf#21363);
 * `"keras"` is a Keras optimizer's `global_clipnorm` (the tf formula, active only for `c > 0`).
 * Our norm is accumulated in float64, so finite float32 gradients never produce `n = Infinity`
 * (PyTorch, Optax and TF all overflow to `inf` for gradients around 1e20).
 *
 * The non-finite policy acts before the coefficient: `"propagate"` (PyTorch's default: the
 * formulas above), `"error"` (`error_if_nonfinite=True`: throw when the total norm is non-finite,
 * gradients untouched), `"zero"`
 * (replace NaN and ±Infinity by 0, then clip) and `"skip"` (leave the gradients alone and report
 * `skipped`, so the caller can skip the update, as Optax `apply_if_finite`). `getTotalNorm` only
 * measures, so it accepts `"propagate"` and `"error"` only.
 *
 * Every function here returns a {@link ClipResult} and has its optimizer stage at `.transform`
 * (`clipGradNorm.transform(maxNorm, opts)`, `clipGradsWithNorm.transform(maxNorm, totalNorm, opts)`).
 */
import { NonFiniteGradientError, checkChoice, checkKeys, checkNonNegative, checkNumber, checkRange, fmtValue } from "./errors.js";
import { countNonFinite, normOf, scaleInPlace, zeroNonFiniteInPlace } from "./norms.js";
import { gatherGrads, type GradBatch, type ParamsLike } from "./params.js";
import type { ClipResultWith, GradTransform } from "./transform.js";
import { checkedSchedule, type Scheduled } from "./transforms.js";

/** Which library's edge semantics the norm clip reproduces (see the file's table). */
export type ClipCompat = "torch" | "optax" | "keras" | "tf";
/**
 * The accepted `compat` values.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * CLIP_COMPATS.includes("optax"); // true
 * ```
 */
export const CLIP_COMPATS: readonly ClipCompat[] = ["torch", "optax", "keras", "tf"];
/**
 * What to do when gradients contain NaN or ±Infinity, the one spelling used by `clipGradNorm`,
 * `getTotalNorm` (`"propagate"` and `"error"` only) and every optimizer:
 * - `"propagate"` (default, PyTorch): compute with them (a NaN norm makes every gradient NaN);
 * - `"error"` (PyTorch `error_if_nonfinite=True`): throw `NonFiniteGradientError`, change nothing;
 * - `"zero"`: replace NaN and ±Infinity by 0, then go on (`zeroNanGrads` is Optax's NaN-only edit);
 * - `"skip"` (Optax `apply_if_finite`): leave the gradients alone and report `skipped: true`, so
 *   the optimizer skips the update.
 */
export type NonFinitePolicy = "propagate" | "error" | "zero" | "skip";
/**
 * The accepted non-finite policies.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * NON_FINITE_POLICIES; // ["propagate", "error", "zero", "skip"]
 * ```
 */
export const NON_FINITE_POLICIES: readonly NonFinitePolicy[] = ["propagate", "error", "zero", "skip"];

/** Options of {@link clipGradNorm}. */
export interface ClipNormOptions {
  /** p of the p-norm: any number (1, 2, 3, 0.5, …), `Infinity`, `-Infinity`; default 2. */
  normType?: number;
  /** The epsilon of the `"torch"` coefficient `c/(n+eps)`; default 1e-6. */
  eps?: number;
  /** Edge semantics; default `"torch"`. */
  compat?: ClipCompat;
  /** Non-finite policy; default `"propagate"` (PyTorch). */
  nonFinite?: NonFinitePolicy;
}

/**
 * The clipping coefficient for total norm `n` and max norm `c` under `compat` (the file's table),
 * computed in float64 and rounded once to float32: the gradients are float32 and, as in PyTorch
 * (where the coefficient is a float32 tensor), each is multiplied by a float32 scalar, so
 * `fround(g·coef)` is the exact float32 product (the same bits on every backend).
 *
 * @throws {TypeError} / {RangeError} for a norm that is not a number or is negative, a
 * threshold that is NaN or negative, an unknown compat or a bad eps (a NaN or infinite norm is
 * fine: it gives NaN or 1 as in the table).
 * @example
 * ```ts
 * clipCoefficient(10, 5);            // 5 / (10 + 1e-6) = 0.49999995
 * clipCoefficient(0, 0, "optax");    // NaN (optax#1752)
 * clipCoefficient(Infinity, 1, "tf"); // NaN
 * ```
 */
export function clipCoefficient(n: number, c: number, compat: ClipCompat = "torch", eps = 1e-6): number {
  checkCoefficientArgs("clipCoefficient", n, c, compat, eps);
  return Math.fround(coefficient64(n, c, compat, eps));
}

function coefficient64(n: number, c: number, compat: ClipCompat, eps: number): number {
  switch (compat) {
    case "torch":
      return Math.min(c / (n + eps), 1); // Math.min propagates NaN like torch.clamp
    case "optax":
      return n < c ? 1 : c / n;
    case "keras":
      if (!(c > 0)) return 1;
      return Number.isFinite(n) ? c / Math.max(n, c) : NaN;
    case "tf":
      return Number.isFinite(n) ? c / Math.max(n, c) : NaN;
  }
}

function nonFiniteMessage(op: string, normType: number, total: number, bad: number): string {
  return (
    `${op}: the total norm of order ${fmtValue(normType)} of the gradients is non-finite (got ${fmtValue(total)}; ` +
    `${bad} non-finite gradient element${bad === 1 ? "" : "s"}), so it cannot be clipped. ` +
    `Use nonFinite: "propagate" to scale by the non-finite norm anyway (PyTorch error_if_nonfinite=False), "zero" or "skip"`
  );
}

/**
 * Validates the options shared by the norm clippers and fills the defaults.
 *
 * @throws {TypeError} for wrong kinds of values; {RangeError} for a negative `eps`.
 * @example
 * ```ts
 * resolveNormOptions("clipGradNorm", {}); // { normType: 2, eps: 1e-6, compat: "torch", nonFinite: "propagate" }
 * ```
 */
export function resolveNormOptions(op: string, opts: ClipNormOptions): Required<ClipNormOptions> {
  if (opts === null || typeof opts !== "object") throw new TypeError(`${op}: options must be an object (got ${fmtValue(opts)})`);
  return {
    normType: checkNumber(op, "normType", opts.normType ?? 2),
    eps: checkNonNegative(op, "eps", opts.eps ?? 1e-6),
    compat: checkChoice(op, "compat", opts.compat ?? "torch", CLIP_COMPATS),
    nonFinite: checkChoice(op, "nonFinite", opts.nonFinite ?? "propagate", NON_FINITE_POLICIES),
  };
}

/**
 * Checks a max norm: a number `>= 0` (Infinity allowed, meaning "never clip").
 *
 * @throws {TypeError} for NaN/non-numbers; {RangeError} for negative values.
 * @example
 * ```ts
 * checkMaxNorm("clipGradNorm", -1); // throws "clipGradNorm: maxNorm must be >= 0 (got -1)"
 * ```
 */
export function checkMaxNorm(op: string, maxNorm: unknown, name = "maxNorm"): number {
  return checkRange(op, name, maxNorm, 0, Infinity);
}

/**
 * Global-norm clipping of an already gathered batch: the kernel behind {@link clipGradNorm} and
 * its transform. `op` prefixes error messages; the result is named `"clipGradNorm"`.
 *
 * @throws {NonFiniteGradientError} with the `"error"` policy and non-finite gradients.
 * @example
 * ```ts
 * clipBatchNorm("clipGradNorm", gatherGrads("clipGradNorm", params), 1, resolveNormOptions("clipGradNorm", {}));
 * ```
 */
export function clipBatchNorm(op: string, batch: GradBatch, maxNorm: number, o: Required<ClipNormOptions>): ClipResultWith<"totalNorm" | "coef" | "threshold", undefined> {
  const grads = batch.grads;
  // normOf(grads, 2) is exactly Math.sqrt(sumSquares(grads)): reuse the caller's sum if given.
  let total = o.normType === 2 && batch.sumSquares !== undefined ? Math.sqrt(batch.sumSquares) : normOf(grads, o.normType);
  // For p > 0 a finite float64 total proves there is no NaN/±Infinity; otherwise count them.
  const bad = !Number.isFinite(total) || !(o.normType > 0) ? countNonFinite(grads) : 0;
  // "error" mirrors error_if_nonfinite exactly: it looks at the total norm only (for p > 0 that is
  // the same as "any element is non-finite"; norms with p <= 0 can hide NaN/±Infinity elements).
  if (o.nonFinite === "error" && !Number.isFinite(total)) throw new NonFiniteGradientError(nonFiniteMessage(op, o.normType, total, bad), total, bad);
  if (bad > 0 || !Number.isFinite(total)) {
    if (o.nonFinite === "skip") {
      return { name: "clipGradNorm", clipped: false, numClipped: 0, nonFiniteCount: bad, skipped: true, totalNorm: total, coef: 1, threshold: maxNorm };
    }
    if (o.nonFinite === "zero") {
      zeroNonFiniteInPlace(grads);
      total = normOf(grads, o.normType);
    }
  }
  const coef = clipCoefficient(total, maxNorm, o.compat, o.eps);
  scaleInPlace(grads, coef);
  const clipped = coef !== 1;
  return { name: "clipGradNorm", clipped, numClipped: clipped ? grads.length : 0, nonFiniteCount: bad, skipped: false, totalNorm: total, coef, threshold: maxNorm };
}

/** Options of {@link getTotalNorm}. */
export interface GetTotalNormOptions {
  /**
   * `"propagate"` (default: return a NaN/±Infinity norm) or `"error"` (throw
   * `NonFiniteGradientError`, PyTorch `error_if_nonfinite=True`). `"zero"` and `"skip"` act on
   * gradients, which `getTotalNorm` never changes, so they are rejected.
   */
  nonFinite?: Extract<NonFinitePolicy, "propagate" | "error">;
}

function totalNormPolicy(op: string, opts: GetTotalNormOptions): "propagate" | "error" {
  if (opts === null || typeof opts !== "object") throw new TypeError(`${op}: options must be an object (got ${fmtValue(opts)})`);
  checkKeys(op, opts, ["nonFinite"]);
  const v: unknown = opts.nonFinite ?? "propagate";
  if (v === "zero" || v === "skip") {
    throw new TypeError(
      `${op}: nonFinite must be "propagate" or "error" (got "${v}"); getTotalNorm only measures, while "${v}" acts on the gradients: ` +
        `use clipGradNorm(params, maxNorm, { nonFinite: "${v}" })${v === "zero" ? " or zeroNanGrads(params, { infinities: true })" : ""}`,
    );
  }
  return checkChoice(op, "nonFinite", v, ["propagate", "error"] as const);
}

/**
 * Total p-norm of gradients, as `torch.nn.utils.get_total_norm`: the p-norm of all elements taken
 * together, accumulated in float64 (see {@link normOf}). Accepts gradient tensors or parameters
 * (their `.grad`); `null` entries and parameters without gradients are skipped; an empty list has
 * norm 0. `normType = 0` follows PyTorch's two-stage reduction and counts the *tensors* with a
 * nonzero element (use `countNonzero` for elements). `nonFinite: "error"` is PyTorch's
 * `error_if_nonfinite=True`.
 *
 * @throws {NonFiniteGradientError} with `nonFinite: "error"` when the norm is non-finite;
 * {TypeError} for a NaN `normType`, bad entries, an unknown option or a policy other than
 * `"propagate"` / `"error"`.
 * @example
 * ```ts
 * getTotalNorm([tensor([3]), tensor([4])]);       // 5
 * getTotalNorm([w, b], Infinity);                  // max |grad|
 * getTotalNorm(params, 2, { nonFinite: "error" }); // throws on NaN/±Infinity
 * ```
 */
export function getTotalNorm(grads: ParamsLike, normType = 2, opts: GetTotalNormOptions = {}): number {
  const op = "getTotalNorm";
  const p = checkNumber(op, "normType", normType);
  const policy = totalNormPolicy(op, opts);
  const batch = gatherGrads(op, grads);
  const total = normOf(batch.grads, p);
  if (policy === "error" && !Number.isFinite(total)) {
    const bad = countNonFinite(batch.grads);
    throw new NonFiniteGradientError(nonFiniteMessage(op, p, total, bad), total, bad);
  }
  return total;
}

/** Options of {@link clipGradsWithNorm}. */
export type ClipWithNormOptions = Pick<ClipNormOptions, "eps" | "compat">;

/** Scales a gathered batch by the coefficient for a given total norm (kernel of {@link clipGradsWithNorm}). */
function clipBatchWithNorm(batch: GradBatch, maxNorm: number, totalNorm: number, o: Required<ClipNormOptions>): ClipResultWith<"totalNorm" | "coef" | "threshold", undefined> {
  const coef = clipCoefficient(totalNorm, maxNorm, o.compat, o.eps);
  // A given non-finite norm is the sign of non-finite gradients: count them before scaling.
  const bad = Number.isFinite(totalNorm) ? 0 : countNonFinite(batch.grads);
  scaleInPlace(batch.grads, coef);
  const clipped = coef !== 1;
  return { name: "clipGradsWithNorm", clipped, numClipped: clipped ? batch.grads.length : 0, nonFiniteCount: bad, skipped: false, totalNorm, coef, threshold: maxNorm };
}

function checkTotalNorm(op: string, totalNorm: unknown): number {
  if (typeof totalNorm !== "number") throw new TypeError(`${op}: totalNorm must be a number (got ${fmtValue(totalNorm)})`);
  if (totalNorm < 0) throw new RangeError(`${op}: totalNorm must be >= 0 (a norm; NaN and Infinity are allowed) (got ${fmtValue(totalNorm)})`);
  return totalNorm;
}

/**
 * Checks the arguments of a clip coefficient: a norm that is a number and not negative (NaN and
 * Infinity are norms of non-finite gradients and give the coefficients of the table), a
 * threshold `>= 0` (Infinity: no clipping), a known compat and an epsilon `>= 0`.
 *
 * @throws {TypeError} / {RangeError} `<op>: …` naming the argument.
 * @example
 * ```ts
 * checkCoefficientArgs("clipCoefficient", 10, 5, "torch", 1e-6);
 * ```
 */
export function checkCoefficientArgs(op: string, n: unknown, c: unknown, compat: unknown, eps: unknown): void {
  if (typeof n !== "number") throw new TypeError(`${op}: norm must be a number (got ${fmtValue(n)})`);
  if (n < 0) throw new RangeError(`${op}: norm must be >= 0 (got ${fmtValue(n)})`);
  checkRange(op, "maxNorm", c, 0, Infinity);
  checkChoice(op, "compat", compat, CLIP_COMPATS);
  checkRange(op, "eps", eps, 0, Infinity);
}

/**
 * Scales gradients in place by the coefficient for a given total norm, as
 * `torch.nn.utils.clip_grads_with_norm_` (use it with {@link getTotalNorm} when the norm is
 * computed elsewhere, e.g. summed across pipeline stages). Returns a {@link ClipResult} with the
 * given `totalNorm`, the `coef`, `threshold` = `maxNorm` and `numClipped` = the number of
 * gradients scaled (all of them when `coef` is not 1); `nonFiniteCount` is counted only when the
 * given norm is not finite.
 *
 * @throws {RangeError} for a negative `maxNorm` or `eps`; {TypeError} for a NaN `maxNorm` or a
 * `totalNorm` that is not a number.
 * @example
 * ```ts
 * const n = getTotalNorm(params);
 * clipGradsWithNorm(params, 1.0, n); // { coef: min(1, 1/(n+1e-6)), clipped, ... }
 * ```
 */
export function clipGradsWithNorm(params: ParamsLike, maxNorm: number, totalNorm: number, opts: ClipWithNormOptions = {}): ClipResultWith<"totalNorm" | "coef" | "threshold", undefined> {
  const op = "clipGradsWithNorm";
  const c = checkMaxNorm(op, maxNorm);
  const n = checkTotalNorm(op, totalNorm);
  const o = resolveNormOptions(op, opts);
  return clipBatchWithNorm(gatherGrads(op, params), c, n, o);
}

/**
 * {@link clipGradsWithNorm} as an optimizer stage: the same arguments minus `params`. Give the
 * total norm as a schedule `(step) => norm` to feed a norm computed elsewhere every step.
 *
 * @throws {RangeError} for a negative `maxNorm` or `eps`; {TypeError} for a `totalNorm` that is not
 * a number (at construction, or at the step for scheduled values).
 * @example
 * ```ts
 * let n = 0; // set every step, e.g. from a norm summed across pipeline stages
 * new SGD(params, { lr: 0.1, clip: clipGradsWithNorm.transform(1.0, () => n) });
 * ```
 */
clipGradsWithNorm.transform = function transform(maxNorm: Scheduled<number>, totalNorm: Scheduled<number>, opts: ClipWithNormOptions = {}): GradTransform<undefined> {
  const op = "clipGradsWithNorm.transform";
  const maxNormAt = checkedSchedule(op, "maxNorm", maxNorm, (v) => checkMaxNorm(op, v));
  const totalNormAt = checkedSchedule(op, "totalNorm", totalNorm, (v) => checkTotalNorm(op, v));
  const o = resolveNormOptions(op, opts);
  return {
    name: "clipGradsWithNorm",
    apply(batch: GradBatch): ClipResultWith<"totalNorm" | "coef" | "threshold", undefined> {
      const c = maxNormAt(batch.step);
      return clipBatchWithNorm(batch, c, totalNormAt(batch.step), o);
    },
  };
};

/**
 * Clips the global p-norm of the parameters' gradients in place, as
 * `torch.nn.utils.clip_grad_norm_`: `coef = min(1, maxNorm/(totalNorm + 1e-6))` and every gradient
 * is multiplied by it. Returns a {@link ClipResult}: the pre-clip `totalNorm`, the `coef`,
 * `threshold` = `maxNorm`, `clipped`, `numClipped` (the number of gradients scaled: all of them
 * when `coef` is not 1, else 0), `nonFiniteCount` and `skipped`. Parameters without gradients are
 * skipped; an empty list gives `totalNorm` 0. Other edge semantics: `compat`; NaN/±Infinity
 * handling: `nonFinite`. The optimizer stage is {@link clipGradNorm.transform}.
 *
 * @throws {RangeError} for a negative `maxNorm` or `eps`; {TypeError} for NaN or wrongly typed
 * options; {NonFiniteGradientError} with `nonFinite: "error"` and non-finite gradients (the
 * gradients are then unchanged).
 * @example
 * ```ts
 * loss.backward();
 * const { totalNorm, coef, clipped } = clipGradNorm([w, b], 1.0);
 * clipGradNorm(params, 0.5, { normType: Infinity, nonFinite: "error" });
 * clipGradNorm(params, 1.0, { compat: "optax" }); // strict n < c, no epsilon
 * ```
 */
export function clipGradNorm(params: ParamsLike, maxNorm: number, opts: ClipNormOptions = {}): ClipResultWith<"totalNorm" | "coef" | "threshold", undefined> {
  const op = "clipGradNorm";
  const c = checkMaxNorm(op, maxNorm);
  const o = resolveNormOptions(op, opts);
  return clipBatchNorm(op, gatherGrads(op, params), c, o);
}

/**
 * {@link clipGradNorm} as an optimizer stage (PyTorch `clip_grad_norm_`, Optax
 * `clip_by_global_norm` with `compat: "optax"`, Keras `global_clipnorm` with `compat: "keras"`):
 * the same arguments minus `params`; `maxNorm` may be a schedule `(step) => maxNorm`. Named
 * `"clipGradNorm"`; with `nonFinite: "skip"` its result asks the optimizer to skip the step.
 *
 * @throws {RangeError} for a negative `maxNorm` (at construction, or at the step for a
 * schedule); {TypeError} for bad options; at the step, {NonFiniteGradientError} with
 * `nonFinite: "error"`.
 * @example
 * ```ts
 * new Adam(params, { clip: clipGradNorm.transform(1.0) });
 * new SGD(params, { lr: 0.1, clip: clipGradNorm.transform((step) => (step < 100 ? 10 : 1)) });
 * new AdamW(params, { clip: clipGradNorm.transform(1.0, { compat: "optax" }) });
 * ```
 */
clipGradNorm.transform = function transform(maxNorm: Scheduled<number>, opts: ClipNormOptions = {}): GradTransform<undefined> {
  const op = "clipGradNorm.transform";
  const maxNormAt = checkedSchedule(op, "maxNorm", maxNorm, (v) => checkMaxNorm(op, v));
  const o = resolveNormOptions(op, opts);
  return {
    name: "clipGradNorm",
    apply(batch: GradBatch): ClipResultWith<"totalNorm" | "coef" | "threshold", undefined> {
      return clipBatchNorm(op, batch, maxNormAt(batch.step), o);
    },
  };
};
