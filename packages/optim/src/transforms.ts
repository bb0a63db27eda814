/**
 * @file The naming rule that turns a stateless clipping function into an optimizer stage: the
 * transform of `f(params, ...args)` is `f.transform(...args)` (same arguments minus `params`), it
 * is named like the function and runs the same kernel, so as a stage it edits the gradients
 * exactly as `f` would. Hyper-parameters that may follow a schedule (`maxNorm`, `clipValue`, AGC's
 * `clipping`, block-RMS's `threshold`) also accept a function of the 1-based step; constant ones
 * are checked when the transform is made, scheduled ones at every step.
 */

/**
 * A hyper-parameter given as a constant or as a function of the 1-based optimizer step (a
 * schedule).
 *
 * @example
 * ```ts
 * const maxNorm: Scheduled<number> = (step) => (step < 100 ? 10 : 1);
 * new SGD(params, { lr: 0.1, clip: clipGradNorm.transform(maxNorm) });
 * ```
 */
export type Scheduled<T> = T | ((step: number) => T);

/**
 * The value of a scheduled hyper-parameter at `step` (the constant itself otherwise).
 *
 * @throws whatever the schedule throws.
 * @example
 * ```ts
 * resolveScheduled((step) => 2 * step, 3); // 6
 * resolveScheduled(0.5, 3);                // 0.5
 * ```
 */
export function resolveScheduled<T>(v: Scheduled<T>, step: number): T {
  return typeof v === "function" ? (v as (s: number) => T)(step) : v;
}

/**
 * Checks a hyper-parameter of a transform when it is made: a constant with `check`, a schedule
 * not at all (it is checked at every step).
 *
 * @throws {TypeError} for `undefined`; whatever `check` throws for a bad constant.
 * @example
 * ```ts
 * checkScheduled("clipGradNorm.transform", "maxNorm", -1, (v) => checkMaxNorm("clipGradNorm.transform", v)); // throws
 * ```
 */
export function checkScheduled(op: string, name: string, v: unknown, check: (x: unknown) => unknown): void {
  if (typeof v === "function") return;
  if (v === undefined) throw new TypeError(`${op}: ${name} is required (got undefined)`);
  check(v);
}

/**
 * A transform's hyper-parameter as a function of the step, checked as the file comment says: a
 * constant now (as {@link checkScheduled}), and the value at every step with `check`, which also
 * gives the value `apply` uses.
 *
 * @throws {TypeError} for `undefined`; whatever `check` throws for a bad constant (when made) or
 * the schedule or `check` throw (at a step).
 * @example
 * ```ts
 * const maxNormAt = checkedSchedule(op, "maxNorm", maxNorm, (v) => checkMaxNorm(op, v));
 * clipBatchNorm(op, batch, maxNormAt(batch.step), o);
 * ```
 */
export function checkedSchedule<T, R>(op: string, name: string, v: Scheduled<T>, check: (x: unknown) => R): (step: number) => R {
  checkScheduled(op, name, v, check);
  return (step) => check(resolveScheduled(v, step));
}
