/**
 * @file `CosineAnnealingWarmRestarts` (SGDR, Loshchilov & Hutter): cosine annealing from the base
 * lr to `etaMin` over cycles of `t0`, `t0·tMult`, `t0·tMult²`, … steps, restarting at the base lr.
 */
import { checkInt, checkNonNegative, checkNumber } from "./errors.js";
import { LRSchedulerBase, type SchedulableOptimizer } from "./lr-scheduler-base.js";

/**
 * PyTorch `CosineAnnealingWarmRestarts`: `lr = etaMin + (base − etaMin)(1 + cos(π·tCur/tI))/2`,
 * where `tCur` counts the steps since the last restart and `tI` is the current cycle length.
 * `step()` advances one step; `step(epoch)` jumps to a (possibly fractional) epoch, e.g.
 * `epoch + i/itersPerEpoch` inside an epoch.
 *
 * @throws {TypeError} / {RangeError} for `t0 < 1`, `tMult < 1` (both integers) or a negative `etaMin`.
 * @example
 * ```ts
 * const sched = new CosineAnnealingWarmRestarts(opt, { t0: 10, tMult: 2, etaMin: 1e-4 });
 * for (let epoch = 0; epoch < 70; epoch++) { train(opt); sched.step(); } // restarts at 10, 30
 * ```
 */
export class CosineAnnealingWarmRestarts extends LRSchedulerBase {
  /** Length of the first cycle. */
  readonly t0: number;
  /** Growth factor of the cycle length. */
  readonly tMult: number;
  /** Lowest lr. */
  readonly etaMin: number;
  /** Length of the current cycle. */
  tI: number;
  /** Steps (or fractional epochs) since the last restart. */
  tCur: number;

  /**
   * @throws {TypeError} / {RangeError} for `t0 < 1`, `tMult < 1` (both integers) or a negative `etaMin`.
   * @example
   * ```ts
   * new CosineAnnealingWarmRestarts(opt, { t0: 5 });
   * ```
   */
  constructor(optimizer: SchedulableOptimizer, opts: { t0: number; tMult?: number; etaMin?: number }) {
    super("CosineAnnealingWarmRestarts", optimizer);
    this.t0 = checkInt(this.op, "t0", opts?.t0, 1);
    this.tMult = checkInt(this.op, "tMult", opts.tMult ?? 1, 1);
    this.etaMin = checkNonNegative(this.op, "etaMin", opts.etaMin ?? 0);
    this.tI = this.t0;
    this.tCur = -1;
    this.step(0);
  }

  /**
   * Advances one step, or jumps to `epoch` (an epoch count >= 0, fractions allowed) when given.
   *
   * @throws {TypeError} / {RangeError} for a negative or non-finite `epoch`.
   * @example
   * ```ts
   * sched.step();              // next step
   * sched.step(epoch + i / n); // within an epoch
   * ```
   */
  override step(epoch?: number): void {
    if (epoch === undefined && this.lastEpoch < 0) epoch = 0; // torch: the first step is epoch 0
    if (epoch === undefined) {
      this.lastEpoch++;
      this.tCur++;
      if (this.tCur >= this.tI) {
        this.tCur -= this.tI;
        this.tI *= this.tMult;
      }
    } else {
      const e = checkNumber(this.op, "epoch", epoch);
      if (!(e >= 0) || !Number.isFinite(e)) throw new RangeError(`${this.op}: epoch must be finite and >= 0 (got ${e})`);
      this.jump(e);
      this.lastEpoch = Math.floor(e);
    }
    this.apply(this.getLr());
  }

  /**
   * Same as `step(epoch)` for an integer epoch.
   *
   * @throws {TypeError} / {RangeError} for a negative or non-integer `epoch`.
   * @example
   * ```ts
   * sched.stepTo(0);
   * ```
   */
  override stepTo(epoch: number): void {
    this.step(checkInt(`${this.op}.stepTo`, "epoch", epoch, 0));
  }

  /** Sets `tCur`/`tI` for epoch `e` from the closed form of the cycle boundaries. */
  private jump(e: number): void {
    const T0 = this.t0, m = this.tMult;
    if (e < T0) {
      this.tI = T0;
      this.tCur = e;
    } else if (m === 1) {
      this.tCur = e % T0;
      this.tI = T0;
    } else {
      // cycle n starts at T0·(m^n − 1)/(m − 1): n = ⌊log_m(e/T0·(m − 1) + 1)⌋
      const n = Math.floor(Math.log((e / T0) * (m - 1) + 1) / Math.log(m));
      this.tCur = e - (T0 * (Math.pow(m, n) - 1)) / (m - 1);
      this.tI = T0 * Math.pow(m, n);
    }
  }

  protected override getLr(): number[] {
    const c = 1 + Math.cos((Math.PI * this.tCur) / this.tI);
    return this.baseLrs.map((b) => this.etaMin + ((b - this.etaMin) * c) / 2);
  }

  protected override stateKeys(): readonly string[] {
    return ["tI", "tCur"];
  }
}
