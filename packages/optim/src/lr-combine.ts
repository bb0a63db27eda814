/**
 * @file Combining schedulers on one optimizer: `SequentialLR` (one after the other, switching at
 * milestones) and `ChainedScheduler` (all at once, each applying its recursive step to the lr
 * left by the previous one).
 */
import { checkInt, fmtValue } from "./errors.js";
import { LRSchedulerBase, checkOptimizer, checkStateKeys, initialLrOf, type SchedulableOptimizer, type SchedulerStateDict } from "./lr-scheduler-base.js";

function checkSchedulers(op: string, schedulers: unknown, optimizer: SchedulableOptimizer | null): LRSchedulerBase[] {
  if (!Array.isArray(schedulers) || schedulers.length === 0) throw new TypeError(`${op}: schedulers must be a non-empty array (got ${fmtValue(schedulers)})`);
  const opt = optimizer ?? (schedulers[0] as LRSchedulerBase | undefined)?.optimizer;
  schedulers.forEach((s, i) => {
    if (!(s instanceof LRSchedulerBase)) throw new TypeError(`${op}: schedulers[${i}] must be a scheduler such as LinearLR or CosineAnnealingLR (got ${s?.constructor?.name ?? fmtValue(s)})`);
    if (s.optimizer !== opt) throw new RangeError(`${op}: schedulers[${i}] drives another optimizer; all schedulers must share ${optimizer ? "the optimizer passed in" : "schedulers[0]'s optimizer"}`);
  });
  return schedulers.slice();
}

function loadChildren(op: string, children: readonly LRSchedulerBase[], saved: unknown): void {
  if (!Array.isArray(saved) || saved.length !== children.length) throw new TypeError(`${op}: schedulers must be ${children.length} state dicts (got ${fmtValue(saved)})`);
  children.forEach((c, i) => c.loadStateDict(saved[i] as SchedulerStateDict));
}

/**
 * Runs `schedulers[0]` until `milestones[0]`, then `schedulers[1]` restarted at its step 0 (from
 * its closed form), and so on (PyTorch 1.13 `SequentialLR`). Build the sub-schedulers on the same
 * optimizer first: construction resets every group's lr to its initial lr and redoes only the
 * first scheduler's step 0.
 *
 * @throws {TypeError} for a bad scheduler list; {RangeError} for schedulers on another optimizer,
 * or unless there is one milestone fewer than schedulers, in increasing order.
 * @example
 * ```ts
 * const warmup = new LinearLR(opt, { startFactor: 0.1, totalIters: 5 });
 * const cosine = new CosineAnnealingLR(opt, { tMax: 95 });
 * const sched = new SequentialLR(opt, [warmup, cosine], [5]);
 * ```
 */
export class SequentialLR {
  /** The optimizer whose groups are scheduled. */
  readonly optimizer: SchedulableOptimizer;
  /** The sub-schedulers, in order. */
  readonly schedulers: readonly LRSchedulerBase[];
  /** Steps at which the next scheduler takes over. */
  readonly milestones: readonly number[];
  /** Number of `step()` calls so far. */
  lastEpoch = 0;
  private lastLr: number[];

  /**
   * @throws {TypeError} / {RangeError} as described on the class.
   * @example
   * ```ts
   * new SequentialLR(opt, [new ConstantLR(opt, { factor: 0.1, totalIters: 2 }), new ExponentialLR(opt, { gamma: 0.9 })], [2]);
   * ```
   */
  constructor(optimizer: SchedulableOptimizer, schedulers: readonly LRSchedulerBase[], milestones: readonly number[]) {
    const op = "SequentialLR";
    const groups = checkOptimizer(op, optimizer);
    this.schedulers = checkSchedulers(op, schedulers, optimizer);
    if (!Array.isArray(milestones)) throw new TypeError(`${op}: milestones must be an array of integers (got ${fmtValue(milestones)})`);
    milestones.forEach((m, i) => {
      checkInt(op, `milestones[${i}]`, m, 0);
      if (i > 0 && m <= milestones[i - 1]!) throw new RangeError(`${op}: milestones must increase (got ${fmtValue(milestones)})`);
    });
    if (milestones.length !== schedulers.length - 1) {
      throw new RangeError(`${op}: expected ${schedulers.length - 1} milestones for ${schedulers.length} schedulers (got ${milestones.length}: ${fmtValue(milestones)})`);
    }
    this.optimizer = optimizer;
    this.milestones = milestones.slice();
    for (const g of groups) g.lr = initialLrOf(g); // undo the sub-schedulers' step 0 …
    for (const s of this.schedulers) s.lastEpoch--;
    this.schedulers[0]!.step(); // … and redo only the first one's
    this.lastLr = this.schedulers[0]!.getLastLr();
  }

  /**
   * Advances one step: the current scheduler steps, or the next one restarts at a milestone.
   *
   * @throws Whatever the sub-scheduler throws.
   * @example
   * ```ts
   * opt.step(); sched.step();
   * ```
   */
  step(): void {
    this.lastEpoch++;
    let idx = 0;
    while (idx < this.milestones.length && this.milestones[idx]! <= this.lastEpoch) idx++;
    const s = this.schedulers[idx]!;
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) s.stepTo(0);
    else s.step();
    this.lastLr = s.getLastLr();
  }

  /**
   * Each group's lr as last set.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * sched.getLastLr();
   * ```
   */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /**
   * `{ lastEpoch, lastLr, schedulers: [sub-scheduler state dicts] }`.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * const saved = sched.stateDict();
   * ```
   */
  stateDict(): SchedulerStateDict {
    return { lastEpoch: this.lastEpoch, lastLr: this.lastLr.slice(), schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  /**
   * Restores a {@link SequentialLR.stateDict}, sub-schedulers included.
   *
   * @throws {TypeError} / {RangeError} for missing or unexpected keys or bad values.
   * @example
   * ```ts
   * sched.loadStateDict(saved);
   * ```
   */
  loadStateDict(state: SchedulerStateDict): void {
    const op = "SequentialLR.loadStateDict";
    checkStateKeys(op, state, ["lastEpoch", "lastLr", "schedulers"]);
    const le = checkInt(op, "lastEpoch", state.lastEpoch, 0);
    const lr = state.lastLr;
    if (!Array.isArray(lr) || lr.length !== this.lastLr.length || lr.some((x) => typeof x !== "number")) throw new TypeError(`${op}: lastLr must be ${this.lastLr.length} numbers (got ${fmtValue(lr)})`);
    loadChildren(op, this.schedulers, state.schedulers);
    this.lastEpoch = le;
    this.lastLr = (lr as number[]).slice();
  }
}

/**
 * Steps several schedulers together on one optimizer, in list order, each applying its recursive
 * step to the lr left by the previous one (PyTorch `ChainedScheduler`), e.g. a cosine decay times
 * an exponential one.
 *
 * @throws {TypeError} for a bad scheduler list; {RangeError} for schedulers on different optimizers.
 * @example
 * ```ts
 * const sched = new ChainedScheduler([new CosineAnnealingLR(opt, { tMax: 15 }), new ExponentialLR(opt, { gamma: 0.95 })]);
 * ```
 */
export class ChainedScheduler {
  /** The optimizer whose groups are scheduled (shared by every sub-scheduler). */
  readonly optimizer: SchedulableOptimizer;
  /** The sub-schedulers, stepped in this order. */
  readonly schedulers: readonly LRSchedulerBase[];
  private lastLr: number[];

  /**
   * @throws {TypeError} / {RangeError} as described on the class.
   * @example
   * ```ts
   * new ChainedScheduler([new ConstantLR(opt, { factor: 0.5, totalIters: 3 }), new ExponentialLR(opt, { gamma: 0.9 })]);
   * ```
   */
  constructor(schedulers: readonly LRSchedulerBase[]) {
    this.schedulers = checkSchedulers("ChainedScheduler", schedulers, null);
    this.optimizer = this.schedulers[0]!.optimizer;
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /**
   * Steps every sub-scheduler once, in order.
   *
   * @throws Whatever a sub-scheduler throws.
   * @example
   * ```ts
   * opt.step(); sched.step();
   * ```
   */
  step(): void {
    for (const s of this.schedulers) s.step();
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /**
   * Each group's lr as last set.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * sched.getLastLr();
   * ```
   */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /**
   * `{ lastLr, schedulers: [sub-scheduler state dicts] }`.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * const saved = sched.stateDict();
   * ```
   */
  stateDict(): SchedulerStateDict {
    return { lastLr: this.lastLr.slice(), schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  /**
   * Restores a {@link ChainedScheduler.stateDict}, sub-schedulers included.
   *
   * @throws {TypeError} for missing or unexpected keys or bad values.
   * @example
   * ```ts
   * sched.loadStateDict(saved);
   * ```
   */
  loadStateDict(state: SchedulerStateDict): void {
    const op = "ChainedScheduler.loadStateDict";
    checkStateKeys(op, state, ["lastLr", "schedulers"]);
    const lr = state.lastLr;
    if (!Array.isArray(lr) || lr.length !== this.lastLr.length || lr.some((x) => typeof x !== "number")) throw new TypeError(`${op}: lastLr must be ${this.lastLr.length} numbers (got ${fmtValue(lr)})`);
    loadChildren(op, this.schedulers, state.schedulers);
    this.lastLr = (lr as number[]).slice();
  }
}
