/**
 * @file `FakeQuantize` (`torch.ao.quantization.FakeQuantize`): an observer plus fake
 * quantization with the observer's current parameters, for quantization-aware training. The
 * observer can be frozen (`disableObserver`: the last parameters are kept) and the fake
 * quantization switched off (`disableFakeQuant`: identity).
 */
import { toVar, type Var, type VarLike } from "@tapegrad/autograd";
import { Module } from "@tapegrad/nn";
import { MinMaxObserver } from "./observer.js";
import { PerChannelMinMaxObserver } from "./per-channel-observer.js";
import { fakeQuantizePerChannelAffine, fakeQuantizePerTensorAffine } from "./fake-quantize.js";

/** Any observer a {@link FakeQuantize} can drive. */
export type AnyObserver = MinMaxObserver | PerChannelMinMaxObserver;

/**
 * Observes its input (while the observer is enabled), updates its scale/zero point from the
 * observer, and fake-quantizes the input with them (while fake quantization is enabled) with
 * the observer's effective `[quantMin, quantMax]`; per-channel observers give per-channel fake
 * quantization along their `chAxis`. Before anything was observed the parameters are scale 1,
 * zero point 0 (as torch).
 *
 * @throws {TypeError} from the constructor when `observer` is not one of the observers.
 * @example
 * ```ts
 * const fq = new FakeQuantize(new MovingAverageMinMaxObserver({ dtype: "quint8" }));
 * const y = fq.forward(x); // observed, then fake-quantized; gradients pass straight through
 * fq.disableObserver(); // freeze the parameters
 * ```
 */
export class FakeQuantize extends Module {
  /** The observer whose statistics give the parameters. */
  readonly observer: AnyObserver;
  /** Whether `forward` fake-quantizes (else identity). */
  fakeQuantEnabled = true;
  /** Whether `forward` feeds the observer and refreshes the parameters. */
  observerEnabled = true;
  /** Current scales (one entry per tensor, or one per channel). */
  scales: Float32Array = Float32Array.of(1);
  /** Current zero points. */
  zeroPoints: Int32Array = Int32Array.of(0);

  constructor(observer: AnyObserver) {
    super();
    if (!(observer instanceof MinMaxObserver) && !(observer instanceof PerChannelMinMaxObserver)) {
      throw new TypeError("FakeQuantize: observer must be a MinMaxObserver, PerChannelMinMaxObserver or one of their moving-average variants");
    }
    this.observer = this.addModule("activationPostProcess", observer);
  }

  /** True for a per-channel observer. @throws never. @example `x.isPerChannel` */
  get isPerChannel(): boolean {
    return this.observer instanceof PerChannelMinMaxObserver;
  }

  /**
   * Observes `x` (if enabled), refreshes the parameters, and fake-quantizes (if enabled).
   *
   * @throws {RangeError} for NaN/Inf inputs (from the observer or the fake quantization);
   * {ShapeError} when a per-channel input's channel count differs from the parameters'.
   * @example
   * ```ts
   * const wq = weightFq.forward(linear.weight);
   * ```
   */
  forward(x: VarLike): Var {
    const v = toVar(x, "FakeQuantize");
    if (this.observerEnabled) {
      this.observer.forward(v.value);
      this.refreshQparams();
    }
    if (!this.fakeQuantEnabled) return v;
    const o = this.observer;
    if (o instanceof PerChannelMinMaxObserver) {
      return fakeQuantizePerChannelAffine(v, this.scales, this.zeroPoints, o.chAxis < 0 ? o.chAxis + v.ndim : o.chAxis, o.quantMin, o.quantMax);
    }
    return fakeQuantizePerTensorAffine(v, this.scales[0]!, this.zeroPoints[0]!, o.quantMin, o.quantMax);
  }

  private refreshQparams(): void {
    const o = this.observer;
    if (o instanceof PerChannelMinMaxObserver) {
      const q = o.calculateQparams();
      this.scales = q.scales;
      this.zeroPoints = q.zeroPoints;
    } else {
      const q = o.calculateQparams();
      this.scales = Float32Array.of(q.scale);
      this.zeroPoints = Int32Array.of(q.zeroPoint);
    }
  }

  /**
   * The current parameters (copies): the last ones computed while the observer was enabled.
   *
   * @throws never.
   * @example
   * ```ts
   * const { scales, zeroPoints } = fq.calculateQparams();
   * ```
   */
  calculateQparams(): { scales: Float32Array; zeroPoints: Int32Array } {
    return { scales: this.scales.slice(), zeroPoints: this.zeroPoints.slice() };
  }

  /**
   * Switches fake quantization on (or off with `false`); returns this.
   *
   * @throws never.
   * @example
   * ```ts
   * fq.enableFakeQuant(false);
   * ```
   */
  enableFakeQuant(enabled = true): this {
    this.fakeQuantEnabled = enabled;
    return this;
  }

  /**
   * Switches fake quantization off (`forward` is the identity); returns this.
   *
   * @throws never.
   * @example
   * ```ts
   * fq.disableFakeQuant();
   * ```
   */
  disableFakeQuant(): this {
    return this.enableFakeQuant(false);
  }

  /**
   * Lets the observer run (or freezes it with `false`); returns this.
   *
   * @throws never.
   * @example
   * ```ts
   * fq.enableObserver();
   * ```
   */
  enableObserver(enabled = true): this {
    this.observerEnabled = enabled;
    return this;
  }

  /**
   * Freezes the observer: the parameters stay as they are; returns this.
   *
   * @throws never.
   * @example
   * ```ts
   * model.namedModules().forEach(([, m]) => m instanceof FakeQuantize && m.disableObserver());
   * ```
   */
  disableObserver(): this {
    return this.enableObserver(false);
  }

  protected override describe(): string {
    return `fakeQuant=${this.fakeQuantEnabled}, observer=${this.observerEnabled}, scales=[${Array.from(this.scales.slice(0, 4)).join(", ")}${this.scales.length > 4 ? ", ..." : ""}]`;
  }
}
