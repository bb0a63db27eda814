/**
 * @file Per-channel observers (`torch.ao.quantization.PerChannelMinMaxObserver`,
 * `MovingAveragePerChannelMinMaxObserver`): running min/max per index along `chAxis` (over all
 * other axes), and per-channel scales and zero points from them.
 */
import { ShapeError, type Tensor } from "@tapegrad/tensor";
import type { Var } from "@tapegrad/autograd";
import { Module } from "@tapegrad/nn";
import { checkAxis, splitAtAxis } from "./common.js";
import { qparamsInto } from "./qparams.js";
import { averagingConstant, observedValues, observerSettings, type ObserverOptions, type ObserverSettings } from "./observer.js";

/** Options of the per-channel observers. */
export interface PerChannelObserverOptions extends ObserverOptions {
  /** The channel axis (negative counts from the end), default 0. */
  chAxis?: number;
  /** Moving-average observers only: weight of each new batch, default 0.01. */
  averagingConstant?: number;
}

/** Per-channel scales (float32) and zero points. */
export interface PerChannelQParams {
  scales: Float32Array;
  zeroPoints: Int32Array;
}

/**
 * Records per-channel running minima and maxima (channel = index along `chAxis`; empty tensors
 * are ignored) and derives per-channel quantization parameters. Before any data `minVal` and
 * `maxVal` are empty and `calculateQparams()` gives one scale 1 and zero point 0 (as torch).
 *
 * @throws from the constructor: {TypeError}/{RangeError}/{Error} for invalid options (see
 * `observerSettings`), {RangeError} for a non-integer chAxis.
 * @example
 * ```ts
 * const obs = new PerChannelMinMaxObserver({ dtype: "qint8", qscheme: "per_channel_symmetric", chAxis: 0 });
 * obs.forward(weight); // [out, in]
 * const { scales, zeroPoints } = obs.calculateQparams(); // [out] each
 * ```
 */
export class PerChannelMinMaxObserver extends Module {
  /** Validated settings (dtype, qscheme, effective quantMin/quantMax, eps, ...). */
  readonly settings: ObserverSettings;
  /** The channel axis as given (normalised per input). */
  readonly chAxis: number;
  /** Running minimum per channel (empty before any data). */
  minVal: Float32Array = new Float32Array(0);
  /** Running maximum per channel (empty before any data). */
  maxVal: Float32Array = new Float32Array(0);
  protected readonly fnName: string;

  constructor(opts: PerChannelObserverOptions = {}, name = "PerChannelMinMaxObserver") {
    super();
    this.fnName = name;
    this.settings = observerSettings(name, opts, true);
    const ax = opts.chAxis ?? 0;
    if (!Number.isInteger(ax)) throw new RangeError(`${name}: chAxis must be an integer (got ${opts.chAxis})`);
    this.chAxis = ax;
  }

  /** Effective lower end of the integer range. @throws never. @example `x.quantMin` */
  get quantMin(): number {
    return this.settings.quantMin;
  }
  /** Effective upper end of the integer range. @throws never. @example `x.quantMax` */
  get quantMax(): number {
    return this.settings.quantMax;
  }
  /** True once a non-empty tensor was observed. @throws never. @example `x.hasData` */
  get hasData(): boolean {
    return this.minVal.length > 0;
  }

  /**
   * Updates the per-channel statistics with `x` and returns `x` unchanged.
   *
   * @throws {RangeError} when chAxis is out of range for `x` or an element is NaN/Inf;
   * {ShapeError} when the number of channels differs from earlier batches.
   * @example
   * ```ts
   * obs.forward(tensor([[1, -2], [3, 4]])); // minVal [-2, 3], maxVal [1, 4] with chAxis 0
   * ```
   */
  forward<X extends Tensor | Var>(x: X): X {
    const fn = `${this.fnName}.forward`;
    const { values, shape } = observedValues(fn, x);
    if (values.length === 0) return x;
    const ax = checkAxis(fn, this.chAxis, shape);
    const [outer, C, inner] = splitAtAxis(shape, ax);
    if (this.hasData && this.minVal.length !== C) {
      throw new ShapeError(fn, `x has ${C} channels along axis ${ax}, earlier batches had ${this.minVal.length}`, [shape]);
    }
    const lo = new Float32Array(C).fill(Infinity), hi = new Float32Array(C).fill(-Infinity);
    for (let o = 0, i = 0; o < outer; o++) {
      for (let c = 0; c < C; c++) {
        let l = lo[c]!, h = hi[c]!;
        for (let k = 0; k < inner; k++, i++) {
          const v = values[i]!;
          if (v < l) l = v;
          if (v > h) h = v;
        }
        lo[c] = l;
        hi[c] = h;
      }
    }
    if (!this.hasData) {
      this.minVal = lo;
      this.maxVal = hi;
    } else this.update(lo, hi);
    return x;
  }

  /** Folds one batch's per-channel min/max into the running values (min/max here). */
  protected update(lo: Float32Array, hi: Float32Array): void {
    for (let c = 0; c < lo.length; c++) {
      this.minVal[c] = Math.min(this.minVal[c]!, lo[c]!);
      this.maxVal[c] = Math.max(this.maxVal[c]!, hi[c]!);
    }
  }

  /**
   * Per-channel scales and zero points (float32 steps, see `qparams.ts`); one scale 1 and zero
   * point 0 before any data.
   *
   * @throws never.
   * @example
   * ```ts
   * const { scales, zeroPoints } = obs.calculateQparams();
   * ```
   */
  calculateQparams(): PerChannelQParams {
    if (!this.hasData) return { scales: Float32Array.of(1), zeroPoints: Int32Array.of(0) };
    const C = this.minVal.length;
    const scales = new Float32Array(C), zeroPoints = new Int32Array(C);
    for (let c = 0; c < C; c++) qparamsInto(this.settings, this.minVal[c]!, this.maxVal[c]!, scales, zeroPoints, c);
    return { scales, zeroPoints };
  }

  /**
   * Forgets the statistics.
   *
   * @throws never.
   * @example
   * ```ts
   * obs.reset();
   * ```
   */
  reset(): void {
    this.minVal = new Float32Array(0);
    this.maxVal = new Float32Array(0);
  }

  protected override describe(): string {
    const s = this.settings;
    return `${s.dtype}, ${s.qscheme}, chAxis=${this.chAxis}, range=[${s.quantMin}, ${s.quantMax}], channels=${this.minVal.length}`;
  }
}

/**
 * A {@link PerChannelMinMaxObserver} with per-channel exponential moving averages: the first
 * non-empty batch sets min/max, then `min_c = fl32(min_c + fl32(c · fl32(batchMin_c − min_c)))`.
 *
 * @throws from the constructor: as {@link PerChannelMinMaxObserver}, and {RangeError} for an
 * averaging constant outside (0, 1].
 * @example
 * ```ts
 * const obs = new MovingAveragePerChannelMinMaxObserver({ chAxis: 1, averagingConstant: 0.2 });
 * ```
 */
export class MovingAveragePerChannelMinMaxObserver extends PerChannelMinMaxObserver {
  /** fl32(averagingConstant). */
  readonly averagingConstant: number;
  constructor(opts: PerChannelObserverOptions = {}) {
    super(opts, "MovingAveragePerChannelMinMaxObserver");
    this.averagingConstant = averagingConstant(this.fnName, opts.averagingConstant);
  }
  protected override update(lo: Float32Array, hi: Float32Array): void {
    const c = this.averagingConstant;
    for (let i = 0; i < lo.length; i++) {
      const m = this.minVal[i]!, M = this.maxVal[i]!;
      this.minVal[i] = m + Math.fround(c * Math.fround(lo[i]! - m));
      this.maxVal[i] = M + Math.fround(c * Math.fround(hi[i]! - M));
    }
  }
}
