/**
 * @file `CyclicLR` (Smith, "Cyclical Learning Rates"): the lr goes back and forth between
 * `baseLr` and `maxLr` in triangles of `stepSizeUp + stepSizeDown` steps, the amplitude scaled per
 * cycle or per iteration; the momentum cycles the opposite way.
 */
import { checkBool, checkChoice, checkFinite, checkNonNegative, checkRange, fmtValue } from "./errors.js";
import {
  LRSchedulerBase, initialLrOf, momentumSlot, perGroup, setMomentum, type MomentumSlot, type SchedulableOptimizer,
} from "./lr-scheduler-base.js";

/**
 * The built-in amplitude policies of {@link CyclicLR}.
 *
 * @throws never (a constant).
 * @example `CYCLIC_MODES.includes(mode) // "triangular" | "triangular2" | "exp_range"`
 */
export const CYCLIC_MODES = ["triangular", "triangular2", "exp_range"] as const;

/** Options of {@link CyclicLR} (PyTorch's arguments, camelCase). */
export interface CyclicLROptions {
  /** Lower bound of the cycle: one number or one per group. */
  baseLr: number | readonly number[];
  /** Upper bound (the amplitude is `maxLr − baseLr`): one number or one per group. */
  maxLr: number | readonly number[];
  /** Steps of the increasing half (default 2000). */
  stepSizeUp?: number;
  /** Steps of the decreasing half (default: `stepSizeUp`). */
  stepSizeDown?: number | null;
  /** `"triangular"` (default, constant amplitude), `"triangular2"` (halved each cycle), `"exp_range"` (`gamma^t`). */
  mode?: (typeof CYCLIC_MODES)[number];
  /** Base of `exp_range` (default 1). */
  gamma?: number;
  /** A custom amplitude `scaleFn(x)` (replaces `mode`); `x` is the cycle number or the step. */
  scaleFn?: ((x: number) => number) | null;
  /** What `scaleFn` receives: `"cycle"` (default) or `"iterations"`. */
  scaleMode?: "cycle" | "iterations";
  /** Cycle the momentum between `maxMomentum` and `baseMomentum` (default true). */
  cycleMomentum?: boolean;
  /** Momentum at the peak lr (default 0.8; number or one per group). */
  baseMomentum?: number | readonly number[];
  /** Momentum at the base lr (default 0.9; number or one per group). */
  maxMomentum?: number | readonly number[];
}

/**
 * PyTorch `CyclicLR`. Construction **overwrites** each group's lr with `baseLr` (and, with
 * `cycleMomentum`, its momentum with `baseMomentum`; step 0 then sets `maxMomentum`). With
 * `total = up + down`, `cycle = ⌊1 + t/total⌋`, `x = 1 + t/total − cycle`, `scale = x/ratio` on
 * the way up and `(x − 1)/(ratio − 1)` on the way down (`ratio = up/total`):
 * `lr = baseLr + (maxLr − baseLr)·scale·f`, `momentum = maxM − (maxM − baseM)·scale·f`, with
 * `f = 1`, `1/2^(cycle−1)` or `gamma^t`. Momentum cycling works on SGD/RMSprop groups (`momentum`)
 * and, as in torch >= 2.0, on Adam-like groups (`betas[0]`; torch 1.13 refuses those).
 *
 * @throws {RangeError} for step sizes < 1 (non-integers are allowed, as in torch), negative lrs,
 * or per-group lists of the wrong length; {TypeError} for an unknown `mode` / `scaleMode`, or
 * momentum cycling with an optimizer without momentum.
 * @example
 * ```ts
 * const sched = new CyclicLR(opt, { baseLr: 0.001, maxLr: 0.01, stepSizeUp: 4, stepSizeDown: 6, mode: "triangular2" });
 * for (const batch of loader) { trainStep(batch); opt.step(); sched.step(); }
 * ```
 */
export class CyclicLR extends LRSchedulerBase {
  /** Upper bound of each group's cycle. */
  readonly maxLrs: number[];
  /** Steps per cycle (`stepSizeUp + stepSizeDown`). */
  readonly totalSize: number;
  /** Fraction of the cycle spent going up. */
  readonly stepRatio: number;
  /** Amplitude policy (ignored when a `scaleFn` is given). */
  readonly mode: (typeof CYCLIC_MODES)[number];
  /** Base of `exp_range`. */
  readonly gamma: number;
  /** What the amplitude function receives. */
  readonly scaleMode: "cycle" | "iterations";
  /** Whether the momentum (or `betas[0]`) is cycled. */
  readonly cycleMomentum: boolean;
  /** Each group's momentum at the peak lr. */
  readonly baseMomentums: number[] = [];
  /** Each group's momentum at the base lr. */
  readonly maxMomentums: number[] = [];
  private readonly scaleFn: (x: number) => number;
  private readonly slot: MomentumSlot | null = null;

  /**
   * @throws {RangeError} / {TypeError} as described on the class.
   * @example
   * ```ts
   * new CyclicLR(opt, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 5, mode: "exp_range", gamma: 0.95 });
   * ```
   */
  constructor(optimizer: SchedulableOptimizer, opts: CyclicLROptions) {
    super("CyclicLR", optimizer, false);
    const op = this.op, groups = this.optimizer.paramGroups, n = groups.length;
    if (opts === null || typeof opts !== "object") throw new TypeError(`${op}: expected options with baseLr and maxLr (got ${fmtValue(opts)})`);
    const baseLrs = perGroup(op, "baseLr", opts.baseLr, n, checkNonNegative);
    this.maxLrs = perGroup(op, "maxLr", opts.maxLr, n, checkNonNegative);
    const up = checkRange(op, "stepSizeUp", opts.stepSizeUp ?? 2000, 1, Infinity, { hiOpen: true });
    const down = opts.stepSizeDown === undefined || opts.stepSizeDown === null ? up : checkRange(op, "stepSizeDown", opts.stepSizeDown, 1, Infinity, { hiOpen: true });
    this.totalSize = up + down;
    this.stepRatio = up / this.totalSize;
    this.gamma = checkFinite(op, "gamma", opts.gamma ?? 1);
    this.mode = checkChoice(op, "mode", opts.mode ?? "triangular", CYCLIC_MODES);
    if (opts.scaleFn !== undefined && opts.scaleFn !== null) {
      if (typeof opts.scaleFn !== "function") throw new TypeError(`${op}: scaleFn must be a function (got ${fmtValue(opts.scaleFn)})`);
      this.scaleFn = opts.scaleFn;
      this.scaleMode = checkChoice(op, "scaleMode", opts.scaleMode ?? "cycle", ["cycle", "iterations"] as const);
    } else if (this.mode === "triangular") {
      this.scaleFn = () => 1;
      this.scaleMode = "cycle";
    } else if (this.mode === "triangular2") {
      this.scaleFn = (x) => 1 / Math.pow(2, x - 1);
      this.scaleMode = "cycle";
    } else {
      const gamma = this.gamma;
      this.scaleFn = (x) => Math.pow(gamma, x);
      this.scaleMode = "iterations";
    }
    groups.forEach((g, i) => (g.lr = baseLrs[i]!));
    this.cycleMomentum = checkBool(op, "cycleMomentum", opts.cycleMomentum ?? true);
    if (this.cycleMomentum) {
      this.slot = momentumSlot(op, groups);
      const baseM = perGroup(op, "baseMomentum", opts.baseMomentum ?? 0.8, n, checkNonNegative);
      groups.forEach((g, i) => setMomentum(g, this.slot!, baseM[i]!));
      this.baseMomentums = baseM;
      this.maxMomentums = perGroup(op, "maxMomentum", opts.maxMomentum ?? 0.9, n, checkNonNegative);
    }
    // NOTE: as in torch, step 0 runs with the groups' initial lrs as base (= baseLr unless another
    // scheduler set them first); the base lrs are baseLr from then on.
    this.baseLrs = groups.map(initialLrOf);
    this.initialStep();
    this.baseLrs = baseLrs;
  }

  protected override getLr(): number[] {
    const t = this.lastEpoch;
    const cycle = Math.floor(1 + t / this.totalSize);
    const x = 1 + t / this.totalSize - cycle;
    const scale = x <= this.stepRatio ? x / this.stepRatio : (x - 1) / (this.stepRatio - 1);
    const f = this.scaleFn(this.scaleMode === "cycle" ? cycle : t);
    if (this.slot !== null) {
      const groups = this.optimizer.paramGroups;
      for (let i = 0; i < groups.length; i++) {
        const height = (this.maxMomentums[i]! - this.baseMomentums[i]!) * scale;
        setMomentum(groups[i]!, this.slot, this.maxMomentums[i]! - height * f);
      }
    }
    return this.baseLrs.map((b, i) => b + (this.maxLrs[i]! - b) * scale * f);
  }
}
