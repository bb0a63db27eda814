/**
 * @file Per-tensor observers (`torch.ao.quantization.MinMaxObserver`,
 * `MovingAverageMinMaxObserver`): running min/max of the tensors passed through `forward`
 * (empty tensors are ignored) and `calculateQparams()` from them (see `qparams.ts`).
 */
import { Tensor } from "@tapegrad/tensor";
import { Var } from "@tapegrad/autograd";
import { Module } from "@tapegrad/nn";
import { checkQScheme, flatValues, type QDtype, type QScheme } from "./common.js";
import { DEFAULT_EPS, observerRange, qparamsInto, type QParams, type QparamsConfig } from "./qparams.js";

/** Options of every observer (torch's constructor arguments, camelCase). */
export interface ObserverOptions {
  /** Default `"quint8"` (torch's default). */
  dtype?: QDtype;
  /** Default `"per_tensor_affine"` (per-channel observers: `"per_channel_affine"`). */
  qscheme?: QScheme;
  /** Use 7 bits (`[0, 127]` / `[-64, 63]`, or a custom range halved). Default false. */
  reduceRange?: boolean;
  /** Custom range: give both or neither (null = the dtype's range). */
  quantMin?: number | null;
  quantMax?: number | null;
  /** Minimum scale, default 2^-23 (`torch.finfo(torch.float32).eps`). */
  eps?: number;
}

/** Validated settings shared by all observers. */
export interface ObserverSettings extends QparamsConfig {
  readonly qscheme: QScheme;
  readonly reduceRange: boolean;
}

/**
 * Validates observer options for `fn`; `perChannel` selects which qschemes are allowed.
 *
 * @throws {TypeError} for an unknown dtype/qscheme or one of the wrong granularity; {RangeError}
 * for a bad custom range or eps; {Error} for symmetric quint8 with reduceRange (as torch).
 * @example
 * ```ts
 * observerSettings("MinMaxObserver", {}, false).quantMax; // 255
 * ```
 */
export function observerSettings(fn: string, opts: ObserverOptions, perChannel: boolean): ObserverSettings {
  const dtype = opts.dtype ?? "quint8";
  const qscheme = checkQScheme(fn, opts.qscheme ?? (perChannel ? "per_channel_affine" : "per_tensor_affine"));
  if (qscheme.startsWith("per_channel") !== perChannel) {
    throw new TypeError(`${fn}: qscheme must be ${perChannel ? "per_channel_affine or per_channel_symmetric" : "per_tensor_affine or per_tensor_symmetric"} (got ${qscheme})`);
  }
  const reduceRange = opts.reduceRange ?? false;
  const symmetric = qscheme.endsWith("symmetric");
  if (symmetric && reduceRange && dtype === "quint8") throw new Error(`${fn}: cannot reduce range for symmetric quantization for quint8 (as torch, NotImplementedError)`);
  const [quantMin, quantMax] = observerRange(fn, dtype, reduceRange, opts.quantMin, opts.quantMax);
  const eps = Math.fround(opts.eps ?? DEFAULT_EPS);
  if (!(eps > 0) || !Number.isFinite(eps)) throw new RangeError(`${fn}: eps must be a positive finite number (got ${opts.eps})`);
  const customRange = opts.quantMin !== null && opts.quantMin !== undefined;
  return { dtype, qscheme, reduceRange, symmetric, quantMin, quantMax, customRange, eps };
}

/**
 * The row-major values of a Tensor or Var (no copy when contiguous), checked finite.
 *
 * @throws {TypeError} for something else than a Tensor or Var; {RangeError} naming `fn`, the
 * index and the value for a NaN/Inf element.
 * @example
 * ```ts
 * const { values, shape } = observedValues("MinMaxObserver.forward", x);
 * ```
 */
export function observedValues(fn: string, x: Tensor | Var): { values: Float32Array; shape: readonly number[] } {
  const t = x instanceof Var ? x.value : x;
  if (!(t instanceof Tensor)) throw new TypeError(`${fn}: x must be a Tensor or Var`);
  const values = flatValues(t);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) throw new RangeError(`${fn}: cannot observe non-finite value ${v} at index ${i}`);
  }
  return { values, shape: t.shape };
}

/**
 * Records the running minimum and maximum of every tensor passed to `forward` (empty tensors are
 * ignored) and derives per-tensor quantization parameters from them. With no data,
 * `calculateQparams()` gives scale 1, zero point 0 (as torch).
 *
 * @throws from the constructor: {TypeError}/{RangeError}/{Error} for invalid options (see
 * {@link observerSettings}).
 * @example
 * ```ts
 * const obs = new MinMaxObserver({ dtype: "quint8" });
 * obs.forward(tensor([-1, 0.5, 3]));
 * obs.calculateQparams(); // { scale: fl32(4/255), zeroPoint: 64 }
 * ```
 */
export class MinMaxObserver extends Module {
  /** Validated settings (dtype, qscheme, effective quantMin/quantMax, eps, ...). */
  readonly settings: ObserverSettings;
  /** Running minimum (Infinity before any data). */
  minVal = Infinity;
  /** Running maximum (−Infinity before any data). */
  maxVal = -Infinity;
  protected readonly fnName: string;

  constructor(opts: ObserverOptions = {}, name = "MinMaxObserver") {
    super();
    this.fnName = name;
    this.settings = observerSettings(name, opts, false);
  }

  /** Effective lower end of the integer range. @throws never. @example `x.quantMin` */
  get quantMin(): number {
    return this.settings.quantMin;
  }
  /** Effective upper end of the integer range. @throws never. @example `x.quantMax` */
  get quantMax(): number {
    return this.settings.quantMax;
  }

  /**
   * Updates the running statistics with `x` and returns `x` unchanged.
   *
   * @throws {RangeError} for a NaN/Inf element (naming its index); {TypeError} for a non-tensor.
   * @example
   * ```ts
   * const y = obs.forward(x); // y === x
   * ```
   */
  forward<X extends Tensor | Var>(x: X): X {
    const { values } = observedValues(`${this.fnName}.forward`, x);
    if (values.length === 0) return x;
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    this.update(lo, hi);
    return x;
  }

  /** Folds one non-empty batch's min/max into the running values. */
  protected update(lo: number, hi: number): void {
    this.minVal = Math.min(this.minVal, lo);
    this.maxVal = Math.max(this.maxVal, hi);
  }

  /** True once a non-empty tensor was observed. @throws never. @example `x.hasData` */
  get hasData(): boolean {
    return !(this.minVal === Infinity && this.maxVal === -Infinity);
  }

  /**
   * Scale and zero point from the running min/max (float32 steps, see `qparams.ts`); scale 1
   * and zero point 0 before any data.
   *
   * @throws never.
   * @example
   * ```ts
   * const { scale, zeroPoint } = obs.calculateQparams();
   * ```
   */
  calculateQparams(): QParams {
    if (!this.hasData) return { scale: 1, zeroPoint: 0 };
    const s = new Float32Array(1), z = new Int32Array(1);
    qparamsInto(this.settings, this.minVal, this.maxVal, s, z, 0);
    return { scale: s[0]!, zeroPoint: z[0]! };
  }

  /**
   * Forgets the statistics (as a new observer).
   *
   * @throws never.
   * @example
   * ```ts
   * obs.reset();
   * ```
   */
  reset(): void {
    this.minVal = Infinity;
    this.maxVal = -Infinity;
  }

  protected override describe(): string {
    const s = this.settings;
    return `${s.dtype}, ${s.qscheme}, range=[${s.quantMin}, ${s.quantMax}], min=${this.minVal}, max=${this.maxVal}`;
  }
}

/** Options of the moving-average observers. */
export interface MovingAverageOptions extends ObserverOptions {
  /** Weight `c` of each new batch, default 0.01. */
  averagingConstant?: number;
}

/**
 * Validates an averaging constant and returns fl32(c).
 *
 * @throws {RangeError} unless it is a finite number in (0, 1].
 * @example
 * ```ts
 * averagingConstant("MovingAverageMinMaxObserver", 0.01);
 * ```
 */
export function averagingConstant(fn: string, c: number | undefined): number {
  const v = c ?? 0.01;
  if (typeof v !== "number" || !(v > 0 && v <= 1)) throw new RangeError(`${fn}: averagingConstant must be in (0, 1] (got ${c})`);
  return Math.fround(v);
}

/**
 * A {@link MinMaxObserver} whose statistics are exponential moving averages: the first
 * non-empty batch sets min/max, then `min = fl32(min + fl32(c · fl32(batchMin − min)))` (same for
 * max), with `c = fl32(averagingConstant)`.
 *
 * @throws from the constructor: as {@link MinMaxObserver}, and {RangeError} for an averaging
 * constant outside (0, 1].
 * @example
 * ```ts
 * const obs = new MovingAverageMinMaxObserver({ averagingConstant: 0.1 });
 * for (const b of batches) obs.forward(b);
 * ```
 */
export class MovingAverageMinMaxObserver extends MinMaxObserver {
  /** fl32(averagingConstant). */
  readonly averagingConstant: number;
  constructor(opts: MovingAverageOptions = {}) {
    super(opts, "MovingAverageMinMaxObserver");
    this.averagingConstant = averagingConstant(this.fnName, opts.averagingConstant);
  }
  protected override update(lo: number, hi: number): void {
    if (!this.hasData) {
      this.minVal = lo;
      this.maxVal = hi;
      return;
    }
    const c = this.averagingConstant;
    this.minVal = Math.fround(this.minVal + Math.fround(c * Math.fround(lo - this.minVal)));
    this.maxVal = Math.fround(this.maxVal + Math.fround(c * Math.fround(hi - this.maxVal)));
  }
}
