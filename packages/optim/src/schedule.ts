/**
 * @file Learning-rate schedules as pure functions `(step, baseLr) → lr` (closed forms of PyTorch's
 * `lr_scheduler` classes). They compose: {@link chainSchedules} feeds one schedule's output to the
 * next as its base, {@link sequentialLr} switches between schedules at milestones. Bind one to an
 * optimizer with `LRScheduler`; use them anywhere else (e.g. a scheduled `maxNorm`) directly.
 */
import { checkFinite, checkInt, checkNonNegative, checkRange, fmtValue } from "./errors.js";

/** A schedule: the learning rate at `step` (0-based) given the group's initial `baseLr`. */
export type Schedule = (step: number, baseLr: number) => number;

/**
 * `baseLr · factor` for the first `totalIters` steps, then `baseLr` (PyTorch `ConstantLR`; the
 * default `factor` 1 gives a constant rate).
 *
 * @throws {RangeError} for `factor` outside [0, 1] or a negative `totalIters`.
 * @example
 * ```ts
 * constantLr({ factor: 0.5, totalIters: 2 })(1, 0.1); // 0.05
 * ```
 */
export function constantLr(opts: { factor?: number; totalIters?: number } = {}): Schedule {
  const factor = checkRange("constantLr", "factor", opts.factor ?? 1, 0, 1);
  const total = checkInt("constantLr", "totalIters", opts.totalIters ?? 0, 0);
  return (step, base) => (step < total ? base * factor : base);
}

/**
 * Multiplies by `gamma` every `stepSize` steps: `baseLr · gamma^⌊step/stepSize⌋` (`StepLR`).
 *
 * @throws {TypeError} for a non-integer `stepSize`; {RangeError} for `stepSize < 1` or a
 * negative `gamma`.
 * @example
 * ```ts
 * stepLr({ stepSize: 30, gamma: 0.1 })(65, 1); // 0.01
 * ```
 */
export function stepLr(opts: { stepSize: number; gamma?: number }): Schedule {
  const size = checkInt("stepLr", "stepSize", opts?.stepSize, 1);
  const gamma = checkNonNegative("stepLr", "gamma", opts.gamma ?? 0.1);
  return (step, base) => base * Math.pow(gamma, Math.floor(step / size));
}

/**
 * Multiplies by `gamma` at each milestone: `baseLr · gamma^(number of milestones <= step)`
 * (`MultiStepLR`).
 *
 * @throws {TypeError} for non-integer milestones; {RangeError} for unsorted ones.
 * @example
 * ```ts
 * multiStepLr({ milestones: [30, 80] })(50, 1); // 0.1
 * ```
 */
export function multiStepLr(opts: { milestones: readonly number[]; gamma?: number }): Schedule {
  const ms = checkMilestones("multiStepLr", opts?.milestones);
  const gamma = checkNonNegative("multiStepLr", "gamma", opts.gamma ?? 0.1);
  return (step, base) => {
    let k = 0;
    while (k < ms.length && ms[k]! <= step) k++;
    return base * Math.pow(gamma, k);
  };
}

/**
 * `baseLr · gamma^step` (`ExponentialLR`).
 *
 * @throws {RangeError} for a negative `gamma`.
 * @example
 * ```ts
 * exponentialLr({ gamma: 0.9 })(2, 1); // 0.81
 * ```
 */
export function exponentialLr(opts: { gamma: number }): Schedule {
  const gamma = checkNonNegative("exponentialLr", "gamma", opts?.gamma);
  return (step, base) => base * Math.pow(gamma, step);
}

/**
 * Cosine annealing from `baseLr` to `etaMin` over `tMax` steps:
 * `etaMin + (baseLr − etaMin)(1 + cos(π·step/tMax))/2` (`CosineAnnealingLR`'s closed form; past
 * `tMax` it continues along the cosine, rising again).
 *
 * @throws {RangeError} for `tMax < 1` or a negative `etaMin`.
 * @example
 * ```ts
 * cosineAnnealingLr({ tMax: 10 })(5, 1); // 0.5
 * ```
 */
export function cosineAnnealingLr(opts: { tMax: number; etaMin?: number }): Schedule {
  const tMax = checkInt("cosineAnnealingLr", "tMax", opts?.tMax, 1);
  const etaMin = checkNonNegative("cosineAnnealingLr", "etaMin", opts.etaMin ?? 0);
  return (step, base) => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * step) / tMax))) / 2;
}

/**
 * Linear change of the multiplicative factor from `startFactor` to `endFactor` over `totalIters`
 * steps, then constant (`LinearLR`; defaults 1/3, 1, 5). Our closed form also allows
 * `startFactor` 0.
 *
 * @throws {RangeError} for factors outside [0, 1] or `totalIters < 1` (0 is allowed: `linearWarmup`
 * starts from it; the `LinearLR` class keeps PyTorch's `0 < startFactor`).
 * @example
 * ```ts
 * linearLr({ startFactor: 0.5, totalIters: 4 })(2, 1); // 0.75
 * ```
 */
export function linearLr(opts: { startFactor?: number; endFactor?: number; totalIters?: number } = {}): Schedule {
  const s = checkRange("linearLr", "startFactor", opts.startFactor ?? 1 / 3, 0, 1);
  const e = checkRange("linearLr", "endFactor", opts.endFactor ?? 1, 0, 1);
  const total = checkInt("linearLr", "totalIters", opts.totalIters ?? 5, 1);
  return (step, base) => base * (s + ((e - s) * Math.min(step, total)) / total);
}

/**
 * Linear warm-up from `startFactor · baseLr` (default 0) to `baseLr` over `warmupSteps` steps,
 * then constant; chain it with a decay (see {@link sequentialLr}).
 *
 * @throws {RangeError} for `warmupSteps < 1` or `startFactor` outside [0, 1].
 * @example
 * ```ts
 * linearWarmup({ warmupSteps: 4 })(1, 0.1); // 0.025
 * ```
 */
export function linearWarmup(opts: { warmupSteps: number; startFactor?: number }): Schedule {
  const total = checkInt("linearWarmup", "warmupSteps", opts?.warmupSteps, 1);
  return linearLr({ startFactor: checkRange("linearWarmup", "startFactor", opts.startFactor ?? 0, 0, 1), endFactor: 1, totalIters: total });
}

/**
 * `baseLr · fn(step)` (`LambdaLR`).
 *
 * @throws {TypeError} for a non-function, and (when the schedule runs) for a non-number result.
 * @example
 * ```ts
 * lambdaLr((step) => 0.95 ** step)(2, 1); // 0.9025
 * ```
 */
export function lambdaLr(fn: (step: number) => number): Schedule {
  if (typeof fn !== "function") throw new TypeError(`lambdaLr: expected a function (got ${fmtValue(fn)})`);
  return (step, base) => base * checkFinite("lambdaLr", `factor at step ${step}`, fn(step));
}

/**
 * Composes schedules: each one's output is the next one's base, `s_n(t, … s_1(t, baseLr))`
 * (PyTorch's `ChainedScheduler` for multiplicative schedules).
 *
 * @throws {TypeError} for non-functions.
 * @example
 * ```ts
 * chainSchedules(linearWarmup({ warmupSteps: 5 }), exponentialLr({ gamma: 0.99 }));
 * ```
 */
export function chainSchedules(...schedules: Schedule[]): Schedule {
  schedules.forEach((s, i) => {
    if (typeof s !== "function") throw new TypeError(`chainSchedules: schedule ${i} must be a function (got ${fmtValue(s)})`);
  });
  return (step, base) => schedules.reduce((lr, s) => s(step, lr), base);
}

/**
 * Runs `schedules[0]` until `milestones[0]`, then `schedules[1]` restarted at step 0, and so on
 * (`SequentialLR`); typical: warm-up then cosine.
 *
 * @throws {RangeError} unless there is one milestone fewer than schedules, in increasing order.
 * @example
 * ```ts
 * sequentialLr([linearWarmup({ warmupSteps: 5 }), cosineAnnealingLr({ tMax: 95 })], [5]);
 * ```
 */
export function sequentialLr(schedules: readonly Schedule[], milestones: readonly number[]): Schedule {
  if (!Array.isArray(schedules) || schedules.length === 0 || schedules.some((s) => typeof s !== "function")) {
    throw new TypeError(`sequentialLr: schedules must be a non-empty array of functions (got ${fmtValue(schedules)})`);
  }
  const ms = checkMilestones("sequentialLr", milestones);
  if (ms.length !== schedules.length - 1) throw new RangeError(`sequentialLr: expected ${schedules.length - 1} milestones for ${schedules.length} schedules (got ${ms.length})`);
  return (step, base) => {
    let k = 0;
    while (k < ms.length && ms[k]! <= step) k++;
    return schedules[k]!(k === 0 ? step : step - ms[k - 1]!, base);
  };
}

function checkMilestones(op: string, ms: unknown): number[] {
  if (!Array.isArray(ms)) throw new TypeError(`${op}: milestones must be an array of integers (got ${fmtValue(ms)})`);
  ms.forEach((m, i) => {
    checkInt(op, `milestones[${i}]`, m, 0);
    if (i > 0 && m <= ms[i - 1]) throw new RangeError(`${op}: milestones must increase (got ${fmtValue(ms)})`);
  });
  return ms.slice();
}
