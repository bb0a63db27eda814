/**
 * @file ZClip (Kumar et al. 2025, arXiv 2504.02507; reference `bluorion-com/ZClip`
 * `zclip/zclip.py`): spike detection on the global gradient norm with EMA statistics.
 *
 * Defaults are the published ones: `alpha 0.97, zThresh 2.5, maxGradNorm 1.0, eps 1e-6,
 * warmupSteps 25, mode "zscore", clipOption "adaptiveScaling", clipFactor 1.0,
 * skipUpdateOnSpike false`. Per step, with `g` the global L2 norm:
 *
 * 1. Warm-up (first `warmupSteps` steps): record `g`; clip like `clip_grad_norm_(maxGradNorm)`
 *    (`coef = min(1, max/(g + 1e-6))`, skipped when `maxGradNorm` is null). When the buffer is
 *    full: `μ = mean`, `σ² = population variance` of it.
 * 2. Then `z = (g − μ)/(σ + eps)`. A spike is `z > zThresh`; its threshold is
 *    `adaptiveScaling`: `(μ + zThresh·σ/(z/zThresh))·clipFactor = (μ + zThresh²σ/z)·clipFactor`,
 *    or `mean`: `μ`. (`mode: "percentile"`: spike when `g > μ + zThresh·σ`, threshold
 *    `μ + zThresh·σ`.) Without a spike the threshold is `g` itself.
 * 3. Effective clip `c = min(threshold, maxGradNorm)`; if `g > c` every gradient is multiplied
 *    by `c/(g + 1e-6)`.
 * 4. EMA update with the spike threshold (or `g`): `μ ← αμ + (1−α)x`, `σ² ← ασ² + (1−α)(x − μ)²`
 *    with the *new* μ; skipped on spikes when `skipUpdateOnSpike` (which skips the statistics
 *    update, not the optimizer step).
 *
 * Unlike the reference, a non-finite norm leaves the gradients and the statistics untouched
 * (the reference would poison μ with NaN forever); the optimizer's non-finite policy decides.
 *
 * The norm is `sqrt(sumSquares(grads))`. A `ZClip` instance is itself the optimizer stage
 * (`clip: new ZClip()`); `.clip(params)` runs it by hand. Both return a `ClipResult` named
 * `"ZClip"` with the spike statistics in `detail`.
 */
import { checkBool, checkChoice, checkInt, checkNonNegative, checkRange, fmtValue } from "./errors.js";
import { countNonFinite, scaleInPlace, sumSquares } from "./norms.js";
import { gatherGrads, type GradBatch, type ParamsLike } from "./params.js";
import type { ClipResultWith, GradTransform } from "./transform.js";

/** Options of {@link ZClip} (published defaults in the file comment). */
export interface ZClipOptions {
  /** EMA smoothing factor of μ and σ² (0.97). */
  alpha?: number;
  /** z-score above which a norm is a spike (2.5). */
  zThresh?: number;
  /** Static cap on the norm, also used during warm-up (1.0); `null` disables it. */
  maxGradNorm?: number | null;
  /** Added to σ in the z-score (1e-6). */
  eps?: number;
  /** Steps whose norms initialise μ and σ² (25). */
  warmupSteps?: number;
  /** Spike rule: z-score (default) or `g > μ + zThresh·σ`. */
  mode?: "zscore" | "percentile";
  /** Threshold of a z-score spike: adaptive scaling (default) or μ. */
  clipOption?: "adaptiveScaling" | "mean";
  /** Multiplies the adaptive threshold (1.0; 0.5–0.9 clip more aggressively). */
  clipFactor?: number;
  /** Do not update μ and σ² on spikes (false). */
  skipUpdateOnSpike?: boolean;
}

/** The `detail` of a ZClip result: the spike detector's state for this step. */
export interface ZClipDetail {
  /** True during warm-up. */
  warmup: boolean;
  /** True when a spike was detected. */
  spike: boolean;
  /** z-score of this norm (NaN during warm-up). */
  z: number;
  /** EMA mean after this step (NaN before initialisation). */
  mean: number;
  /** EMA standard deviation after this step (NaN before initialisation). */
  std: number;
}

/**
 * ZClip as a stateful gradient transform: use the instance as an optimizer stage
 * (`clip: new ZClip()`) or call `clip()` between `backward()` and `step()`, like the reference's
 * `zclip.step(model)`. Its results ({@link ClipResult}, named `"ZClip"`) carry the global
 * `totalNorm`, the effective `threshold` (Infinity when nothing could clip) and `coef`;
 * `numClipped` counts the *tensors* scaled (all of them when `coef` is not 1); `detail` holds
 * warm-up, spike, z-score and the EMA statistics.
 *
 * @throws {RangeError} / {TypeError} from the constructor for invalid options.
 * @example
 * ```ts
 * const opt = new AdamW(params, { lr: 3e-4, clip: new ZClip({ zThresh: 2.5 }) });
 * opt.step(); opt.lastStats!.transforms[0]; // { name: "ZClip", threshold, detail: { spike, z, ... }, ... }
 * ```
 */
export class ZClip implements GradTransform<ZClipDetail> {
  readonly name = "ZClip";
  /** The resolved options. */
  readonly options: Readonly<Required<ZClipOptions>>;
  private buffer: number[] = [];
  private initialized = false;
  private mean = NaN;
  private variance = NaN;

  /**
   * @throws {RangeError} for out-of-range options; {TypeError} for wrong kinds.
   * @example
   * ```ts
   * const zc = new ZClip({ alpha: 0.97, zThresh: 2.5, warmupSteps: 25 });
   * ```
   */
  constructor(opts: ZClipOptions = {}) {
    const op = "ZClip";
    const maxGradNorm = opts.maxGradNorm === undefined ? 1.0 : opts.maxGradNorm;
    this.options = {
      alpha: checkRange(op, "alpha", opts.alpha ?? 0.97, 0, 1),
      zThresh: checkRange(op, "zThresh", opts.zThresh ?? 2.5, 0, Infinity, { loOpen: true }),
      maxGradNorm: maxGradNorm === null ? null : checkRange(op, "maxGradNorm", maxGradNorm, 0, Infinity),
      eps: checkNonNegative(op, "eps", opts.eps ?? 1e-6),
      warmupSteps: checkInt(op, "warmupSteps", opts.warmupSteps ?? 25, 0),
      mode: checkChoice(op, "mode", opts.mode ?? "zscore", ["zscore", "percentile"] as const),
      clipOption: checkChoice(op, "clipOption", opts.clipOption ?? "adaptiveScaling", ["adaptiveScaling", "mean"] as const),
      clipFactor: checkRange(op, "clipFactor", opts.clipFactor ?? 1.0, 0, Infinity, { loOpen: true }),
      skipUpdateOnSpike: checkBool(op, "skipUpdateOnSpike", opts.skipUpdateOnSpike ?? false),
    };
  }

  /**
   * Clips the parameters' gradients in place and updates the statistics.
   *
   * @throws {TypeError} for entries that are not Vars or Tensors.
   * @example
   * ```ts
   * const { totalNorm, detail } = zclip.clip([w, b]);
   * detail!.spike;
   * ```
   */
  clip(params: ParamsLike): ClipResultWith<"totalNorm" | "coef" | "threshold" | "detail", ZClipDetail> {
    return this.apply(gatherGrads("ZClip.clip", params));
  }

  /** The spike threshold for norm `g`, or null without a spike; and the z-score. */
  private spikeThreshold(g: number): [number | null, number] {
    const { zThresh, eps, mode, clipOption, clipFactor } = this.options;
    const std = Math.sqrt(this.variance);
    const z = (g - this.mean) / (std + eps);
    if (mode === "percentile") {
      const t = this.mean + zThresh * std;
      return [g > t ? t : null, z];
    }
    if (!(z > zThresh)) return [null, z];
    if (clipOption === "mean") return [this.mean, z];
    const eta = z / zThresh; // larger outliers get a lower threshold
    return [(this.mean + (zThresh * std) / eta) * clipFactor, z];
  }

  /**
   * Transform protocol: see {@link GradTransform.apply}.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * zclip.apply(gatherGrads("ZClip", params)).threshold;
   * ```
   */
  apply(batch: GradBatch): ClipResultWith<"totalNorm" | "coef" | "threshold" | "detail", ZClipDetail> {
    const g = Math.sqrt(sumSquares(batch.grads));
    const n = batch.grads.length;
    const { maxGradNorm, warmupSteps, alpha } = this.options;
    const bad = Number.isFinite(g) ? 0 : countNonFinite(batch.grads);
    const result = (threshold: number, coef: number, warmup: boolean, spike: boolean, z: number): ClipResultWith<"totalNorm" | "coef" | "threshold" | "detail", ZClipDetail> => ({
      name: this.name, clipped: coef !== 1, numClipped: coef !== 1 ? n : 0, nonFiniteCount: bad, skipped: false, totalNorm: g, coef, threshold,
      detail: { warmup, spike, z, mean: this.mean, std: Math.sqrt(this.variance) },
    });
    if (!Number.isFinite(g) || n === 0) return result(Infinity, 1, !this.initialized, false, NaN);
    if (!this.initialized) {
      this.buffer.push(g);
      if (this.buffer.length >= warmupSteps) {
        const k = this.buffer.length;
        this.mean = this.buffer.reduce((a, b) => a + b, 0) / k;
        this.variance = this.buffer.reduce((a, b) => a + (b - this.mean) ** 2, 0) / k;
        this.initialized = true;
        this.buffer = [];
      }
      const coef = maxGradNorm === null ? 1 : Math.fround(Math.min(maxGradNorm / (g + 1e-6), 1)); // float32, as clipCoefficient
      scaleInPlace(batch.grads, coef);
      return result(maxGradNorm ?? Infinity, coef, true, false, NaN);
    }
    const [spikeT, z] = this.spikeThreshold(g);
    const adaptive = spikeT ?? g;
    const threshold = maxGradNorm === null ? adaptive : Math.min(adaptive, maxGradNorm);
    const coef = g > threshold ? Math.fround(threshold / (g + 1e-6)) : 1;
    scaleInPlace(batch.grads, coef);
    if (!(spikeT !== null && this.options.skipUpdateOnSpike)) {
      const x = spikeT ?? g;
      this.mean = alpha * this.mean + (1 - alpha) * x;
      this.variance = alpha * this.variance + (1 - alpha) * (x - this.mean) ** 2;
    }
    return result(threshold, coef, false, spikeT !== null, z);
  }

  /**
   * The warm-up buffer and EMA statistics.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * zc2.loadStateDict(zc.stateDict());
   * ```
   */
  stateDict(): Record<string, unknown> {
    return { buffer: this.buffer.slice(), initialized: this.initialized, mean: this.mean, variance: this.variance };
  }

  /**
   * Restores a state saved by {@link stateDict}.
   *
   * @throws {TypeError} for a malformed state (nothing is changed then).
   * @example
   * ```ts
   * zc.loadStateDict({ buffer: [], initialized: true, mean: 0.8, variance: 0.01 });
   * ```
   */
  loadStateDict(state: Record<string, unknown>): void {
    const op = "ZClip.loadStateDict";
    if (state === null || typeof state !== "object") throw new TypeError(`${op}: expected an object (got ${fmtValue(state)})`);
    const { buffer, initialized, mean, variance } = state;
    if (!Array.isArray(buffer) || !buffer.every((x) => typeof x === "number" && Number.isFinite(x))) throw new TypeError(`${op}: buffer must be an array of finite numbers (got ${fmtValue(buffer)})`);
    if (typeof initialized !== "boolean") throw new TypeError(`${op}: initialized must be a boolean (got ${fmtValue(initialized)})`);
    const num = (v: unknown, name: string): number => {
      // NaN before initialisation may arrive as null after a JSON round trip.
      if (v === null && !initialized) return NaN;
      if (typeof v !== "number" || (initialized && !Number.isFinite(v))) throw new TypeError(`${op}: ${name} must be a ${initialized ? "finite " : ""}number (got ${fmtValue(v)})`);
      return v;
    };
    const m = num(mean, "mean");
    const v = num(variance, "variance");
    if (initialized && v < 0) throw new RangeError(`${op}: variance must be >= 0 (got ${v})`);
    this.buffer = buffer.slice();
    this.initialized = initialized;
    this.mean = m;
    this.variance = v;
  }

  /**
   * Starts over with a fresh warm-up.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * zc.reset();
   * ```
   */
  reset(): void {
    this.buffer = [];
    this.initialized = false;
    this.mean = NaN;
    this.variance = NaN;
  }
}
