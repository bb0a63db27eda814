/**
 * @file The chainable PyTorch schedulers `LinearLR`, `ConstantLR`, `ExponentialLR`,
 * `PolynomialLR` and `CosineAnnealingLR`: each step computes the new rate from the group's
 * current one (torch's recursive `get_lr`), so they compose in `ChainedScheduler`; alone they
 * equal their closed forms (used by `stepTo` and `SequentialLR` restarts).
 */
import { checkInt, checkNonNegative, checkRange } from "./errors.js";
import { LRSchedulerBase, type SchedulableOptimizer } from "./lr-scheduler-base.js";

const lrsOf = (opt: SchedulableOptimizer): number[] => opt.paramGroups.map((g) => g.lr);

/**
 * Multiplies the lr by a factor that moves linearly from `startFactor` to `endFactor` over
 * `totalIters` steps, then leaves it (PyTorch `LinearLR`; defaults 1/3, 1, 5). Alone:
 * `base·(start + (end − start)·min(t, T)/T)`.
 *
 * @throws {RangeError} for `startFactor` outside (0, 1], `endFactor` outside [0, 1] or
 * `totalIters < 1`.
 * @example
 * ```ts
 * const warmup = new LinearLR(opt, { startFactor: 0.1, totalIters: 8 }); // lr 0.1·base → base
 * ```
 */
export class LinearLR extends LRSchedulerBase {
  /** Factor at step 0. */
  readonly startFactor: number;
  /** Factor from step `totalIters` on. */
  readonly endFactor: number;
  /** Steps of the linear change. */
  readonly totalIters: number;

  /**
   * @throws {RangeError} for `startFactor` outside (0, 1], `endFactor` outside [0, 1] or `totalIters < 1`.
   * @example
   * ```ts
   * new LinearLR(opt, { startFactor: 1, endFactor: 0.05, totalIters: 10 });
   * ```
   */
  constructor(optimizer: SchedulableOptimizer, opts: { startFactor?: number; endFactor?: number; totalIters?: number } = {}) {
    super("LinearLR", optimizer);
    // NOTE: startFactor 0 would divide by zero in the recursive form (torch >= 2.0 rejects it too).
    this.startFactor = checkRange(this.op, "startFactor", opts.startFactor ?? 1 / 3, 0, 1, { loOpen: true });
    this.endFactor = checkRange(this.op, "endFactor", opts.endFactor ?? 1, 0, 1);
    this.totalIters = checkInt(this.op, "totalIters", opts.totalIters ?? 5, 1);
    this.initialStep();
  }

  protected override getLr(): number[] {
    const t = this.lastEpoch, s = this.startFactor, e = this.endFactor, T = this.totalIters;
    if (t === 0) return lrsOf(this.optimizer).map((lr) => lr * s);
    if (t > T) return lrsOf(this.optimizer);
    // lr_t = lr_{t−1}·f_t/f_{t−1} with f_t = s + (e − s)·t/T, written as torch does
    return lrsOf(this.optimizer).map((lr) => lr * (1 + (e - s) / (T * s + (t - 1) * (e - s))));
  }

  protected override closedFormLr(): number[] {
    const s = this.startFactor, e = this.endFactor, T = this.totalIters;
    return this.baseLrs.map((b) => b * (s + ((e - s) * Math.min(T, this.lastEpoch)) / T));
  }
}

/**
 * Multiplies the lr by `factor` until step `totalIters`, where it is divided back (PyTorch
 * `ConstantLR`; defaults 1/3, 5). Alone: `base·factor` for `t < T`, `base` from `t = T` on.
 *
 * @throws {RangeError} for `factor` outside (0, 1] or a negative `totalIters`.
 * @example
 * ```ts
 * new ConstantLR(opt, { factor: 0.5, totalIters: 4 });
 * ```
 */
export class ConstantLR extends LRSchedulerBase {
  /** Factor before step `totalIters`. */
  readonly factor: number;
  /** Step at which the factor is removed. */
  readonly totalIters: number;

  /**
   * @throws {RangeError} for `factor` outside (0, 1] or a negative `totalIters`.
   * @example
   * ```ts
   * new ConstantLR(opt, { factor: 0.1, totalIters: 2 });
   * ```
   */
  constructor(optimizer: SchedulableOptimizer, opts: { factor?: number; totalIters?: number } = {}) {
    super("ConstantLR", optimizer);
    this.factor = checkRange(this.op, "factor", opts.factor ?? 1 / 3, 0, 1, { loOpen: true });
    this.totalIters = checkInt(this.op, "totalIters", opts.totalIters ?? 5, 0);
    this.initialStep();
  }

  protected override getLr(): number[] {
    const t = this.lastEpoch;
    if (t === 0) return lrsOf(this.optimizer).map((lr) => lr * this.factor);
    if (t !== this.totalIters) return lrsOf(this.optimizer);
    return lrsOf(this.optimizer).map((lr) => lr * (1 / this.factor));
  }

  protected override closedFormLr(): number[] {
    const k = this.factor + (this.lastEpoch >= this.totalIters ? 1 - this.factor : 0);
    return this.baseLrs.map((b) => b * k);
  }
}

/**
 * Multiplies the lr by `gamma` every step (PyTorch `ExponentialLR`): alone `base·gamma^t`.
 *
 * @throws {RangeError} for a negative or infinite `gamma`.
 * @example
 * ```ts
 * new ExponentialLR(opt, { gamma: 0.9 });
 * ```
 */
export class ExponentialLR extends LRSchedulerBase {
  /** Factor applied every step. */
  readonly gamma: number;

  /**
   * @throws {RangeError} for a negative or infinite `gamma`.
   * @example
   * ```ts
   * new ExponentialLR(opt, { gamma: 0.95 });
   * ```
   */
  constructor(optimizer: SchedulableOptimizer, opts: { gamma: number }) {
    super("ExponentialLR", optimizer);
    this.gamma = checkNonNegative(this.op, "gamma", opts?.gamma);
    this.initialStep();
  }

  protected override getLr(): number[] {
    const lrs = lrsOf(this.optimizer);
    return this.lastEpoch === 0 ? lrs : lrs.map((lr) => lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * Math.pow(this.gamma, this.lastEpoch));
  }
}

/**
 * Polynomial decay to 0 over `totalIters` steps, then constant (PyTorch `PolynomialLR`; defaults
 * 5, power 1): alone `base·(1 − min(t, T)/T)^power`.
 *
 * @throws {RangeError} for `totalIters < 1` or a negative `power`.
 * @example
 * ```ts
 * new PolynomialLR(opt, { totalIters: 15, power: 2 });
 * ```
 */
export class PolynomialLR extends LRSchedulerBase {
  /** Steps of the decay. */
  readonly totalIters: number;
  /** Exponent of the decay. */
  readonly power: number;

  /**
   * @throws {RangeError} for `totalIters < 1` or a negative `power`.
   * @example
   * ```ts
   * new PolynomialLR(opt, { totalIters: 10 });
   * ```
   */
  constructor(optimizer: SchedulableOptimizer, opts: { totalIters?: number; power?: number } = {}) {
    super("PolynomialLR", optimizer);
    this.totalIters = checkInt(this.op, "totalIters", opts.totalIters ?? 5, 1);
    this.power = checkNonNegative(this.op, "power", opts.power ?? 1);
    this.initialStep();
  }

  protected override getLr(): number[] {
    const t = this.lastEpoch, T = this.totalIters;
    if (t === 0 || t > T) return lrsOf(this.optimizer);
    // lr_t = lr_{t−1}·((1 − t/T)/(1 − (t−1)/T))^power
    const k = Math.pow((1 - t / T) / (1 - (t - 1) / T), this.power);
    return lrsOf(this.optimizer).map((lr) => lr * k);
  }

  protected override closedFormLr(): number[] {
    const k = Math.pow(1 - Math.min(this.totalIters, this.lastEpoch) / this.totalIters, this.power);
    return this.baseLrs.map((b) => b * k);
  }
}

/**
 * Cosine annealing from the base lr to `etaMin` over `tMax` steps in torch's recursive form
 * (PyTorch `CosineAnnealingLR`; `etaMin` default 0). Alone it equals
 * `etaMin + (base − etaMin)(1 + cos(πt/tMax))/2` for every t: past `tMax` it climbs back (period
 * `2·tMax`), with no restart and no clamping.
 *
 * @throws {RangeError} for `tMax < 1` or a negative `etaMin`.
 * @example
 * ```ts
 * new CosineAnnealingLR(opt, { tMax: 100, etaMin: 1e-4 });
 * ```
 */
export class CosineAnnealingLR extends LRSchedulerBase {
  /** Half period: steps from the base lr down to `etaMin`. */
  readonly tMax: number;
  /** Lowest lr. */
  readonly etaMin: number;

  /**
   * @throws {RangeError} for `tMax < 1` or a negative `etaMin`.
   * @example
   * ```ts
   * new CosineAnnealingLR(opt, { tMax: 10 });
   * ```
   */
  constructor(optimizer: SchedulableOptimizer, opts: { tMax: number; etaMin?: number }) {
    super("CosineAnnealingLR", optimizer);
    this.tMax = checkInt(this.op, "tMax", opts?.tMax, 1);
    this.etaMin = checkNonNegative(this.op, "etaMin", opts.etaMin ?? 0);
    this.initialStep();
  }

  protected override getLr(): number[] {
    const t = this.lastEpoch, T = this.tMax, eta = this.etaMin;
    const lrs = lrsOf(this.optimizer);
    if (t === 0) return lrs;
    if ((t - 1 - T) % (2 * T) === 0) {
      // at the bottom of the cosine the ratio form would divide by 0: add the last increment
      const rise = 1 - Math.cos(Math.PI / T);
      return lrs.map((lr, i) => lr + ((this.baseLrs[i]! - eta) * rise) / 2);
    }
    // (lr_t − η)/(lr_{t−1} − η) = (1 + cos(πt/T))/(1 + cos(π(t−1)/T))
    const ratio = (1 + Math.cos((Math.PI * t) / T)) / (1 + Math.cos((Math.PI * (t - 1)) / T));
    return lrs.map((lr) => ratio * (lr - eta) + eta);
  }

  protected override closedFormLr(): number[] {
    const c = 1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax);
    return this.baseLrs.map((b) => this.etaMin + ((b - this.etaMin) * c) / 2);
  }
}
