/**
 * @file `OneCycleLR` (Smith & Topin, "super-convergence"): the lr rises from `maxLr/divFactor` to
 * `maxLr` and anneals to `initial/finalDivFactor` over a fixed number of steps, while the momentum
 * (SGD's `momentum` or Adam's `betas[0]`) moves the opposite way.
 */
import { checkBool, checkChoice, checkInt, checkNonNegative, checkRange, fmtValue } from "./errors.js";
import {
  LRSchedulerBase, momentumSlot, perGroup, setInitialLr, setMomentum, type MomentumSlot, type SchedulableOptimizer,
} from "./lr-scheduler-base.js";

/** Options of {@link OneCycleLR} (PyTorch's arguments, camelCase). */
export interface OneCycleLROptions {
  /** Peak lr: one number or one per group. */
  maxLr: number | readonly number[];
  /** Number of steps of the cycle; or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the lr (default 0.3). */
  pctStart?: number;
  /** `"cos"` (default) or `"linear"`. */
  annealStrategy?: "cos" | "linear";
  /** Cycle the momentum inversely to the lr (default true). */
  cycleMomentum?: boolean;
  /** Lowest momentum, reached at the peak lr (default 0.85; number or one per group). */
  baseMomentum?: number | readonly number[];
  /** Highest momentum, at the start and end (default 0.95; number or one per group). */
  maxMomentum?: number | readonly number[];
  /** Initial lr = `maxLr / divFactor` (default 25). */
  divFactor?: number;
  /** Final lr = initial lr / `finalDivFactor` (default 1e4). */
  finalDivFactor?: number;
  /** Three phases: up, back down to the initial lr, then to the final lr (default false). */
  threePhase?: boolean;
}

/** A phase: it ends at step `end` (a float, not rounded) and anneals `from → to`. */
interface Phase {
  end: number;
  lr: readonly [number[], number[]];
  momentum: readonly [number[], number[]];
}

// `cos`: to + (from − to)/2·(1 + cos(π·pct));  `linear`: from + (to − from)·pct
const annealCos = (from: number, to: number, pct: number): number => to + ((from - to) / 2) * (Math.cos(Math.PI * pct) + 1);
const annealLinear = (from: number, to: number, pct: number): number => (to - from) * pct + from;

/**
 * PyTorch `OneCycleLR`. Construction **overwrites** each group's lr with `maxLr/divFactor` (and,
 * with `cycleMomentum`, its momentum or `betas[0]` with `maxMomentum`). Call `step()` after every
 * batch: at most `totalSteps` times (the files step `totalSteps − 1` times; one more is allowed,
 * as in torch, and extrapolates the last phase).
 *
 * @throws {RangeError} for bad lengths, factors or fractions, and from `step()` past `totalSteps`;
 * {TypeError} for an unknown `annealStrategy` or momentum cycling on an optimizer without momentum.
 * @example
 * ```ts
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * const sched = new OneCycleLR(opt, { maxLr: 0.1, epochs: 10, stepsPerEpoch: loader.length });
 * for (const batch of loader) { trainStep(batch); opt.step(); sched.step(); }
 * ```
 */
export class OneCycleLR extends LRSchedulerBase {
  /** Length of the cycle in steps. */
  readonly totalSteps: number;
  /** Shape of each phase. */
  readonly annealStrategy: "cos" | "linear";
  /** Whether the momentum (or `betas[0]`) is cycled. */
  readonly cycleMomentum: boolean;
  private readonly phases: Phase[];
  private readonly slot: MomentumSlot | null;

  /**
   * @throws {RangeError} for `totalSteps` (or `epochs`·`stepsPerEpoch`) < 1, `pctStart` outside
   * [0, 1], non-positive factors or per-group lists of the wrong length; {TypeError} for an
   * unknown `annealStrategy`, or `cycleMomentum` with an optimizer that has no momentum.
   * @example
   * ```ts
   * new OneCycleLR(opt, { maxLr: [0.1, 0.02], totalSteps: 1000, threePhase: true });
   * ```
   */
  constructor(optimizer: SchedulableOptimizer, opts: OneCycleLROptions) {
    super("OneCycleLR", optimizer);
    const op = this.op, groups = this.optimizer.paramGroups, n = groups.length;
    if (opts === null || typeof opts !== "object") throw new TypeError(`${op}: expected options with maxLr (got ${fmtValue(opts)})`);
    this.totalSteps = totalStepsOf(op, opts);
    const pct = checkRange(op, "pctStart", opts.pctStart ?? 0.3, 0, 1);
    this.annealStrategy = checkChoice(op, "annealStrategy", opts.annealStrategy ?? "cos", ["cos", "linear"] as const);
    this.cycleMomentum = checkBool(op, "cycleMomentum", opts.cycleMomentum ?? true);
    const div = checkRange(op, "divFactor", opts.divFactor ?? 25, 0, Infinity, { loOpen: true, hiOpen: true });
    const finalDiv = checkRange(op, "finalDivFactor", opts.finalDivFactor ?? 1e4, 0, Infinity, { loOpen: true, hiOpen: true });
    const maxLr = perGroup(op, "maxLr", opts.maxLr, n, checkNonNegative);
    const initial = maxLr.map((m) => m / div);
    const minLr = initial.map((x) => x / finalDiv);
    groups.forEach((g, i) => setInitialLr(g, initial[i]!));
    this.baseLrs = initial.slice();

    let baseM: number[] = [], maxM: number[] = [];
    this.slot = null;
    if (this.cycleMomentum) {
      this.slot = momentumSlot(op, groups);
      baseM = perGroup(op, "baseMomentum", opts.baseMomentum ?? 0.85, n, checkNonNegative);
      maxM = perGroup(op, "maxMomentum", opts.maxMomentum ?? 0.95, n, checkNonNegative);
      groups.forEach((g, i) => setMomentum(g, this.slot!, maxM[i]!));
    }
    const T = this.totalSteps;
    this.phases = checkBool(op, "threePhase", opts.threePhase ?? false)
      ? [
          { end: pct * T - 1, lr: [initial, maxLr], momentum: [maxM, baseM] },
          { end: 2 * pct * T - 2, lr: [maxLr, initial], momentum: [baseM, maxM] },
          { end: T - 1, lr: [initial, minLr], momentum: [maxM, maxM] },
        ]
      : [
          { end: pct * T - 1, lr: [initial, maxLr], momentum: [maxM, baseM] },
          { end: T - 1, lr: [maxLr, minLr], momentum: [baseM, maxM] },
        ];
    this.initialStep();
  }

  /**
   * Advances one step (one batch).
   *
   * @throws {RangeError} when stepped more than `totalSteps` times (nothing is changed then).
   * @example
   * ```ts
   * opt.step(); sched.step();
   * ```
   */
  override step(): void {
    if (this.lastEpoch + 1 > this.totalSteps) {
      throw new RangeError(`${this.op}: tried to step ${this.lastEpoch + 1} times, but totalSteps is ${this.totalSteps} (build the scheduler with more totalSteps or epochs)`);
    }
    super.step();
  }

  protected override getLr(): number[] {
    const t = this.lastEpoch, anneal = this.annealStrategy === "cos" ? annealCos : annealLinear;
    const groups = this.optimizer.paramGroups;
    return groups.map((g, i) => {
      let start = 0;
      for (let k = 0; k < this.phases.length; k++) {
        const ph = this.phases[k]!;
        if (t <= ph.end || k === this.phases.length - 1) {
          const pct = (t - start) / (ph.end - start);
          if (this.slot !== null) setMomentum(g, this.slot, anneal(ph.momentum[0][i]!, ph.momentum[1][i]!, pct));
          return anneal(ph.lr[0][i]!, ph.lr[1][i]!, pct);
        }
        start = ph.end; // the next phase starts at this phase's (fractional) end
      }
      throw new Error(`internal: ${this.op} found no phase for step ${t}`);
    });
  }

  /**
   * Jumps to step `epoch` (the phases evaluated there; OneCycleLR has no separate closed form).
   *
   * @throws {TypeError} / {RangeError} for an `epoch` that is not an integer in [0, totalSteps].
   * @example
   * ```ts
   * sched.stepTo(0); // back to the start of the cycle
   * ```
   */
  override stepTo(epoch: number): void {
    const e = checkInt(`${this.op}.stepTo`, "epoch", epoch, 0);
    if (e > this.totalSteps) throw new RangeError(`${this.op}.stepTo: epoch ${e} is past totalSteps ${this.totalSteps}`);
    super.stepTo(e);
  }
}

function totalStepsOf(op: string, o: OneCycleLROptions): number {
  if (o.totalSteps !== undefined && o.totalSteps !== null) return checkInt(op, "totalSteps", o.totalSteps, 1);
  if (o.epochs === undefined || o.stepsPerEpoch === undefined) {
    throw new TypeError(`${op}: give totalSteps, or epochs and stepsPerEpoch (got totalSteps ${fmtValue(o.totalSteps)}, epochs ${fmtValue(o.epochs)}, stepsPerEpoch ${fmtValue(o.stepsPerEpoch)})`);
  }
  return checkInt(op, "epochs", o.epochs, 1) * checkInt(op, "stepsPerEpoch", o.stepsPerEpoch, 1);
}
