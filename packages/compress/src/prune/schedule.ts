/**
 * @file Iterative pruning schedules: the cubic sparsity ramp of Zhu & Gupta (2017, "To prune, or
 * not to prune"), `s_t = s_f + (s_i − s_f)(1 − (t − t0)/(n·Δt))³` for `t = t0, t0 + Δt, …,
 * t0 + n·Δt`: prune fast early, when many weights are redundant, and slowly near the end.
 *
 * Pruning amounts apply to the entries that remain (torch's container rule), so the schedule
 * hands out counts: at each pruning step, `{ count: target − alreadyPruned }` with
 * `target = round_half_even(s_t · numel)`. Applying them in a prune-and-fine-tune loop reaches
 * exactly `round_half_even(s_f · numel)` pruned entries at the last step.
 */
import { type PruneAmount, roundHalfEven } from "./amount.js";

/** Options of {@link CubicSparsitySchedule}. */
export interface CubicScheduleOptions {
  /** Final sparsity `s_f` in `[0, 1]`. */
  finalSparsity: number;
  /** Sparsity `s_i` at the first pruning step (default 0). Must be `<= finalSparsity`. */
  initialSparsity?: number;
  /** First pruning step `t0` (default 0). */
  beginStep?: number;
  /** Number of pruning steps after the first, `n >= 1` (the last one is `t0 + n·Δt`). */
  numSteps: number;
  /** Steps between two pruning steps, `Δt >= 1` (default 1). */
  frequency?: number;
}

/**
 * The cubic sparsity ramp as a schedule of pruning steps (see the file comment). Steps are any
 * integers (optimizer steps or epochs, as you count them).
 *
 * @throws {RangeError} from the constructor for sparsities outside `[0, 1]`, `initialSparsity >
 * finalSparsity`, or non-integer / non-positive `numSteps`/`frequency`, or a non-integer
 * `beginStep`.
 * @example
 * ```ts
 * const s = new CubicSparsitySchedule({ finalSparsity: 0.9, numSteps: 9, frequency: 1 });
 * for (let epoch = 0; epoch <= 9; epoch++) {
 *   const pruned = pruneMask(fc, "weight") ? countZeros(pruneMask(fc, "weight")!.toFloat32Array()) : 0;
 *   if (s.isPruningStep(epoch)) l1Unstructured(fc, "weight", s.amountAt(epoch, fc.weight.size, pruned));
 *   trainOneEpoch();
 * }
 * ```
 */
export class CubicSparsitySchedule {
  readonly finalSparsity: number;
  readonly initialSparsity: number;
  readonly beginStep: number;
  readonly numSteps: number;
  readonly frequency: number;

  /** @param fn the name errors carry (`cubicSparsity` builds one to evaluate a single step). */
  constructor(opts: CubicScheduleOptions, fn = "CubicSparsitySchedule") {
    const sf = opts.finalSparsity, si = opts.initialSparsity ?? 0;
    const t0 = opts.beginStep ?? 0, n = opts.numSteps, dt = opts.frequency ?? 1;
    if (!(sf >= 0 && sf <= 1)) throw new RangeError(`${fn}: finalSparsity must be in [0, 1] (got ${String(sf)})`);
    if (!(si >= 0 && si <= sf)) throw new RangeError(`${fn}: initialSparsity must be in [0, finalSparsity=${sf}] (got ${String(si)})`);
    if (!Number.isInteger(t0)) throw new RangeError(`${fn}: beginStep must be an integer (got ${String(t0)})`);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`${fn}: numSteps must be an integer >= 1 (got ${String(n)})`);
    if (!Number.isInteger(dt) || dt < 1) throw new RangeError(`${fn}: frequency must be an integer >= 1 (got ${String(dt)})`);
    this.finalSparsity = sf;
    this.initialSparsity = si;
    this.beginStep = t0;
    this.numSteps = n;
    this.frequency = dt;
  }

  /**
   * The last pruning step, `t0 + n·Δt`.
   *
   * @throws never.
   * @example
   * ```ts
   * new CubicSparsitySchedule({ finalSparsity: 0.9, beginStep: 2, numSteps: 4, frequency: 3 }).endStep; // 14
   * ```
   */
  get endStep(): number {
    return this.beginStep + this.numSteps * this.frequency;
  }

  /**
   * True at `t0, t0 + Δt, …, t0 + n·Δt`.
   *
   * @throws never.
   * @example
   * ```ts
   * s.isPruningStep(0); // true for beginStep 0
   * ```
   */
  isPruningStep(step: number): boolean {
    const d = step - this.beginStep;
    return Number.isInteger(step) && d >= 0 && step <= this.endStep && d % this.frequency === 0;
  }

  /**
   * The target sparsity `s_t` after the last pruning step at or before `step` (0 before `t0`,
   * `s_f` from `t0 + n·Δt` on).
   *
   * @throws never.
   * @example
   * ```ts
   * new CubicSparsitySchedule({ finalSparsity: 0.8, numSteps: 4 }).sparsityAt(2); // 0.7
   * ```
   */
  sparsityAt(step: number): number {
    if (step < this.beginStep) return 0;
    if (step >= this.endStep) return this.finalSparsity;
    const j = Math.floor((step - this.beginStep) / this.frequency); // pruning steps done: 0..n-1
    const r = 1 - j / this.numSteps;
    return this.finalSparsity + (this.initialSparsity - this.finalSparsity) * r * r * r;
  }

  /**
   * Entries that should be pruned in total at `step`: `round_half_even(s_t · numel)`.
   *
   * @throws {RangeError} for a negative or non-integer `numel`.
   * @example
   * ```ts
   * s.targetCount(9, 1000); // 900 for finalSparsity 0.9 at the last step
   * ```
   */
  targetCount(step: number, numel: number): number {
    if (!Number.isInteger(numel) || numel < 0) throw new RangeError(`CubicSparsitySchedule.targetCount: numel must be a non-negative integer (got ${String(numel)})`);
    return Math.min(numel, roundHalfEven(this.sparsityAt(step) * numel));
  }

  /**
   * The amount to prune at `step` from a tensor (or global group) of `numel` entries of which
   * `alreadyPruned` are pruned: `{ count: max(0, target − alreadyPruned) }` — a count of the
   * remaining entries, so it is exact whatever was pruned before.
   *
   * @throws {RangeError} for invalid `numel`, or `alreadyPruned` outside `[0, numel]`.
   * @example
   * ```ts
   * l1Unstructured(fc, "weight", s.amountAt(epoch, 1000, 300)); // { count: ... }
   * ```
   */
  amountAt(step: number, numel: number, alreadyPruned: number): PruneAmount {
    const target = this.targetCount(step, numel);
    if (!Number.isInteger(alreadyPruned) || alreadyPruned < 0 || alreadyPruned > numel) {
      throw new RangeError(`CubicSparsitySchedule.amountAt: alreadyPruned must be an integer in [0, ${numel}] (got ${String(alreadyPruned)})`);
    }
    return { count: Math.max(0, target - alreadyPruned) };
  }

  /**
   * The fraction of the remaining entries to prune at `step` to go from the previous pruning
   * step's target to this one's: `(s_t − s_prev) / (1 − s_prev)` (0 when nothing remains). Use
   * counts ({@link CubicSparsitySchedule.amountAt}) when the exact final count matters: fractions
   * are rounded per call.
   *
   * @throws never.
   * @example
   * ```ts
   * s.fractionAt(1); // share of the survivors of step 0 to prune at step 1
   * ```
   */
  fractionAt(step: number): number {
    const prev = this.sparsityAt(step - this.frequency);
    const cur = this.sparsityAt(step);
    return prev >= 1 ? 0 : Math.min(1, Math.max(0, (cur - prev) / (1 - prev)));
  }
}

/**
 * Zhu & Gupta's cubic sparsity at `step` (see {@link CubicSparsitySchedule.sparsityAt}).
 *
 * @throws {RangeError} for invalid options (see {@link CubicSparsitySchedule}).
 * @example
 * ```ts
 * cubicSparsity(5, { finalSparsity: 0.9, numSteps: 10 }); // 0.7875
 * ```
 */
export function cubicSparsity(step: number, opts: CubicScheduleOptions): number {
  if (typeof step !== "number" || Number.isNaN(step)) throw new RangeError(`cubicSparsity: step must be a number (got ${String(step)})`);
  return new CubicSparsitySchedule(opts, "cubicSparsity").sparsityAt(step);
}
