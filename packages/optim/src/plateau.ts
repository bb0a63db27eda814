/**
 * @file `ReduceLROnPlateau`: multiplies the lrs by `factor` when a monitored metric (validation
 * loss, accuracy, …) has stopped improving for more than `patience` steps.
 */
import { checkChoice, checkInt, checkNonNegative, checkNumber, checkRange, fmtValue } from "./errors.js";
import { checkOptimizer, checkStateKeys, perGroup, type SchedulableOptimizer } from "./lr-scheduler-base.js";

/** Options of {@link ReduceLROnPlateau} (PyTorch's arguments, camelCase). */
export interface ReduceLROnPlateauOptions {
  /** `"min"` (default: lower is better, e.g. a loss) or `"max"` (e.g. an accuracy). */
  mode?: "min" | "max";
  /** Multiplier of the lr on a plateau, in [0, 1) (default 0.1). */
  factor?: number;
  /** Bad steps tolerated: the lr drops on the (patience+1)-th in a row (default 10). */
  patience?: number;
  /** Smallest improvement that counts (default 1e-4). */
  threshold?: number;
  /** `"rel"` (default: relative to `best`) or `"abs"`. */
  thresholdMode?: "rel" | "abs";
  /** Steps after a reduction during which bad steps are ignored (default 0). */
  cooldown?: number;
  /** Lower bound of the lr: one number or one per group (default 0). */
  minLr?: number | readonly number[];
  /** A reduction smaller than `eps` is skipped (default 1e-8). */
  eps?: number;
}

/** The state saved by {@link ReduceLROnPlateau.stateDict}. */
export interface PlateauState {
  best: number;
  numBadEpochs: number;
  cooldownCounter: number;
  lastEpoch: number;
  lastLr: number[];
}

/**
 * PyTorch `ReduceLROnPlateau`. `step(metric)`: if the metric beats `best` (strictly, by the
 * threshold: `min`/`rel` means `m < best·(1 − threshold)`, `min`/`abs` `m < best − threshold`,
 * `max` alike upwards), it becomes `best` and `numBadEpochs` resets, else `numBadEpochs` grows;
 * during a cooldown bad steps are ignored; when `numBadEpochs > patience` every group's lr becomes
 * `max(lr·factor, minLr)` (only when that lowers it by more than `eps`) and a cooldown starts.
 *
 * @throws {RangeError} for `factor` outside [0, 1), negative `patience`/`cooldown`/`threshold`/
 * `minLr`/`eps`, or a `minLr` list of the wrong length; {TypeError} for an unknown `mode` or
 * `thresholdMode`.
 * @example
 * ```ts
 * const sched = new ReduceLROnPlateau(opt, { mode: "min", factor: 0.5, patience: 2 });
 * for (let epoch = 0; epoch < 50; epoch++) { train(opt); sched.step(validationLoss()); }
 * ```
 */
export class ReduceLROnPlateau {
  /** The optimizer whose groups are scheduled. */
  readonly optimizer: SchedulableOptimizer;
  /** Whether lower (`min`) or higher (`max`) metrics are better. */
  readonly mode: "min" | "max";
  /** Multiplier of the lr on a plateau. */
  readonly factor: number;
  /** Bad steps tolerated before a reduction. */
  readonly patience: number;
  /** Smallest improvement that counts. */
  readonly threshold: number;
  /** Relative or absolute threshold. */
  readonly thresholdMode: "rel" | "abs";
  /** Steps after a reduction during which bad steps are ignored. */
  readonly cooldown: number;
  /** Each group's lower bound. */
  readonly minLrs: number[];
  /** Smallest reduction applied. */
  readonly eps: number;
  /** Best metric so far (`+Infinity` / `-Infinity` before the first step). */
  best: number;
  /** Consecutive steps without improvement (reset by an improvement, a reduction or a cooldown). */
  numBadEpochs = 0;
  /** Steps of cooldown left. */
  cooldownCounter = 0;
  /** Number of `step()` calls so far. */
  lastEpoch = 0;
  private lastLr: number[];

  /**
   * @throws {RangeError} / {TypeError} as described on the class.
   * @example
   * ```ts
   * new ReduceLROnPlateau(opt, { mode: "max", thresholdMode: "abs", threshold: 0.01, patience: 1 });
   * ```
   */
  constructor(optimizer: SchedulableOptimizer, opts: ReduceLROnPlateauOptions = {}) {
    const op = "ReduceLROnPlateau";
    const groups = checkOptimizer(op, optimizer);
    this.optimizer = optimizer;
    this.mode = checkChoice(op, "mode", opts.mode ?? "min", ["min", "max"] as const);
    this.factor = checkRange(op, "factor", opts.factor ?? 0.1, 0, 1, { hiOpen: true });
    this.patience = checkInt(op, "patience", opts.patience ?? 10, 0);
    this.threshold = checkNonNegative(op, "threshold", opts.threshold ?? 1e-4);
    this.thresholdMode = checkChoice(op, "thresholdMode", opts.thresholdMode ?? "rel", ["rel", "abs"] as const);
    this.cooldown = checkInt(op, "cooldown", opts.cooldown ?? 0, 0);
    this.minLrs = perGroup(op, "minLr", opts.minLr ?? 0, groups.length, checkNonNegative);
    this.eps = checkNonNegative(op, "eps", opts.eps ?? 1e-8);
    this.best = this.mode === "min" ? Infinity : -Infinity;
    this.lastLr = groups.map((g) => g.lr);
  }

  /**
   * True when `metric` beats `best` by more than the threshold (strict comparison).
   *
   * @throws Never throws.
   * @example
   * ```ts
   * sched.isBetter(0.9, 1.0); // true in "min" mode with the default threshold
   * ```
   */
  isBetter(metric: number, best: number): boolean {
    if (this.mode === "min") return this.thresholdMode === "rel" ? metric < best * (1 - this.threshold) : metric < best - this.threshold;
    return this.thresholdMode === "rel" ? metric > best * (this.threshold + 1) : metric > best + this.threshold;
  }

  /**
   * Records one value of the monitored metric and lowers the lrs on a plateau.
   *
   * @throws {TypeError} when `metric` is not a number or is NaN.
   * @example
   * ```ts
   * sched.step(valLoss);
   * ```
   */
  step(metric: number): void {
    const m = checkNumber("ReduceLROnPlateau.step", "metric", metric);
    this.lastEpoch++;
    if (this.isBetter(m, this.best)) {
      this.best = m;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0; // bad steps during a cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /**
   * True while a cooldown is running.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * sched.inCooldown; // false before the first reduction
   * ```
   */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /**
   * Each group's lr after the last `step()` (or at construction).
   *
   * @throws Never throws.
   * @example
   * ```ts
   * sched.getLastLr(); // [0.05]
   * ```
   */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /**
   * `{ best, numBadEpochs, cooldownCounter, lastEpoch, lastLr }`, for checkpoints (the groups' lrs
   * live in the optimizer's state dict, as in torch).
   *
   * @throws Never throws.
   * @example
   * ```ts
   * const saved = sched.stateDict();
   * ```
   */
  stateDict(): PlateauState {
    return { best: this.best, numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter, lastEpoch: this.lastEpoch, lastLr: this.lastLr.slice() };
  }

  /**
   * Restores a {@link ReduceLROnPlateau.stateDict}, also after a JSON round trip: a `best` of
   * `null` (what JSON makes of the initial ±Infinity) restores the initial value of the mode.
   *
   * @throws {TypeError} / {RangeError} for missing or unexpected keys or bad values.
   * @example
   * ```ts
   * sched.loadStateDict(saved);
   * ```
   */
  loadStateDict(state: PlateauState): void {
    const op = "ReduceLROnPlateau.loadStateDict";
    checkStateKeys(op, state, ["best", "numBadEpochs", "cooldownCounter", "lastEpoch", "lastLr"]);
    // JSON has no Infinity: the initial best (±Infinity, nothing seen yet) comes back as null
    // from JSON.stringify/parse, so null restores it.
    const best = (state.best as unknown) === null ? (this.mode === "min" ? Infinity : -Infinity) : checkNumber(op, "best", state.best);
    const nb = checkInt(op, "numBadEpochs", state.numBadEpochs, 0);
    const cc = checkInt(op, "cooldownCounter", state.cooldownCounter, 0);
    const le = checkInt(op, "lastEpoch", state.lastEpoch, 0);
    const n = this.optimizer.paramGroups.length;
    if (!Array.isArray(state.lastLr) || state.lastLr.length !== n || state.lastLr.some((x) => typeof x !== "number" || Number.isNaN(x))) {
      throw new TypeError(`${op}: lastLr must be ${n} numbers (got ${fmtValue(state.lastLr)})`);
    }
    this.best = best;
    this.numBadEpochs = nb;
    this.cooldownCounter = cc;
    this.lastEpoch = le;
    this.lastLr = state.lastLr.slice();
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      const old = g.lr;
      const next = Math.max(old * this.factor, this.minLrs[i]!);
      if (old - next > this.eps) g.lr = next;
    });
  }
}

