/**
 * @file `LRScheduler`: binds a {@link Schedule} to the parameter groups of any optimizer (it only
 * writes `group.lr`), as PyTorch's `lr_scheduler` classes do.
 */
import { checkInt, fmtValue } from "./errors.js";
import type { Schedule } from "./schedule.js";

/** Anything with parameter groups that have a learning rate (every tapegrad optimizer). */
export interface HasParamGroups {
  readonly paramGroups: { lr: number }[];
}

/**
 * Sets each group's `lr` to `schedule(step, baseLr)`, where `baseLr` is the group's learning rate
 * when the scheduler was created. The constructor applies step 0; call `step()` once per epoch or
 * iteration, after `optimizer.step()`. Groups added later get their current lr as base.
 *
 * @throws {TypeError} / {RangeError} from the constructor for a bad optimizer or schedule list, and from `step()` when a schedule gives a negative or non-finite rate.
 * @example
 * ```ts
 * const opt = new SGD(params, { lr: 0.1 });
 * const sched = new LRScheduler(opt, sequentialLr([linearWarmup({ warmupSteps: 5 }), cosineAnnealingLr({ tMax: 95 })], [5]));
 * for (let epoch = 0; epoch < 100; epoch++) { train(opt); sched.step(); }
 * sched.getLastLr(); // current rate of each group
 * ```
 */
export class LRScheduler {
  /** The optimizer whose groups are scheduled. */
  readonly optimizer: HasParamGroups;
  /** Initial learning rate of each group. */
  readonly baseLrs: number[];
  private readonly schedules: Schedule[];
  private epoch: number;

  /**
   * @param schedule one schedule for all groups, or one per group.
   * @throws {TypeError} for a bad optimizer or schedule; {RangeError} for a schedule list whose
   * length differs from the number of groups, or when a schedule gives a negative or non-finite
   * rate at step 0 (the constructor applies it).
   * @example
   * ```ts
   * const sched = new LRScheduler(opt, [cosineAnnealingLr({ tMax: 100 }), constantLr()]); // one per group
   * ```
   */
  constructor(optimizer: HasParamGroups, schedule: Schedule | readonly Schedule[]) {
    if (!optimizer || !Array.isArray(optimizer.paramGroups)) throw new TypeError(`LRScheduler: expected an optimizer with paramGroups (got ${fmtValue(optimizer)})`);
    const list = typeof schedule === "function" ? optimizer.paramGroups.map(() => schedule) : Array.from(schedule ?? []);
    if (list.length !== optimizer.paramGroups.length) throw new RangeError(`LRScheduler: expected ${optimizer.paramGroups.length} schedules, one per parameter group (got ${list.length})`);
    list.forEach((s, i) => {
      if (typeof s !== "function") throw new TypeError(`LRScheduler: schedule ${i} must be a function (got ${fmtValue(s)})`);
    });
    this.optimizer = optimizer;
    this.schedules = list;
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
    this.epoch = 0;
    this.apply();
  }

  /**
   * Number of `step()` calls so far (PyTorch's `last_epoch`).
   *
   * @throws Never throws.
   * @example
   * ```ts
   * sched.lastEpoch; // 0 right after construction
   * ```
   */
  get lastEpoch(): number {
    return this.epoch;
  }

  /**
   * Advances the schedule by one step and writes the new learning rates.
   *
   * @throws {RangeError} when a schedule returns a negative or non-finite rate.
   * @example
   * ```ts
   * opt.step(); sched.step();
   * ```
   */
  step(): void {
    this.epoch++;
    this.apply();
  }

  /**
   * The learning rate of each group as last set.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * sched.getLastLr(); // [0.05]
   * ```
   */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /**
   * `{ lastEpoch, baseLrs }`, for checkpoints.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * const saved = sched.stateDict();
   * ```
   */
  stateDict(): { lastEpoch: number; baseLrs: number[] } {
    return { lastEpoch: this.epoch, baseLrs: this.baseLrs.slice() };
  }

  /**
   * Restores `{ lastEpoch, baseLrs }` and re-applies the rate of that step.
   *
   * @throws {TypeError} / {RangeError} for a malformed state.
   * @example
   * ```ts
   * sched.loadStateDict(saved);
   * ```
   */
  loadStateDict(state: { lastEpoch: number; baseLrs: readonly number[] }): void {
    const op = "LRScheduler.loadStateDict";
    if (state === null || typeof state !== "object") throw new TypeError(`${op}: expected an object (got ${fmtValue(state)})`);
    const epoch = checkInt(op, "lastEpoch", state.lastEpoch, 0);
    const b = state.baseLrs;
    if (!Array.isArray(b) || b.length !== this.baseLrs.length || b.some((x) => typeof x !== "number" || !(x >= 0) || !Number.isFinite(x))) {
      throw new TypeError(`${op}: baseLrs must be ${this.baseLrs.length} finite numbers >= 0 (got ${fmtValue(b)})`);
    }
    this.baseLrs.splice(0, this.baseLrs.length, ...b);
    this.epoch = epoch;
    this.apply();
  }

  private apply(): void {
    const groups = this.optimizer.paramGroups;
    for (let i = this.baseLrs.length; i < groups.length; i++) {
      this.baseLrs.push(groups[i]!.lr);
      this.schedules.push(this.schedules[this.schedules.length - 1]!);
    }
    groups.forEach((g, i) => {
      const lr = this.schedules[i]!(this.epoch, this.baseLrs[i]!);
      if (typeof lr !== "number" || !(lr >= 0) || !Number.isFinite(lr)) {
        throw new RangeError(`LRScheduler: the schedule of group ${i} gave lr ${fmtValue(lr)} at step ${this.epoch} (must be finite and >= 0)`);
      }
      g.lr = lr;
    });
  }
}
