/**
 * @file AutoClip (Seetharaman, Wichern, Pardo, Le Roux 2020, arXiv 2007.14469): clip to a
 * percentile of the history of gradient norms, so the threshold adapts to the run.
 *
 * Two published variants differ, and both are available:
 *
 * | | `variant: "paper"` (default) | `variant: "package"` |
 * | --- | --- | --- |
 * | source | the paper's reference `autoclip.py` | the `autoclip` package, `QuantileClip` |
 * | threshold | `percentile` 10 of the history | quantile 0.9 (`percentile` 90) |
 * | history | every step (`historyLength` Infinity) | last 1000 norms |
 * | current norm | appended *before* the percentile | excluded; first step: threshold Infinity |
 * | scope | one global L2 norm | per parameter (`global_threshold=False`) |
 *
 * Both then clip like `clip_grad_norm_(params, threshold)`: `coef = min(1, thr/(n + 1e-6))`. The
 * percentile is linear interpolation (`np.percentile`, `torch.quantile`). Every option can be set
 * explicitly; `variant` only chooses the defaults. Unlike both references, a non-finite norm is
 * neither recorded (it would make every later threshold NaN) nor acted on: the gradients are left
 * as they are for the optimizer's non-finite policy.
 *
 * Norms are `sqrt(sumSquares(...))`. An `AutoClip` instance is itself the optimizer stage
 * (`clip: new AutoClip()`); `.clip(params)` runs it by hand. Both return a `ClipResult` named
 * `"AutoClip"`.
 */
import { checkBool, checkChoice, checkNonNegative, checkRange, fmtValue } from "./errors.js";
import { SortedHistory } from "./history.js";
import { countNonFinite, scaleInPlace, sumSquares } from "./norms.js";
import { gatherGrads, type GradBatch, type ParamsLike } from "./params.js";
import type { ClipResultWith, GradTransform } from "./transform.js";

/** Which published AutoClip the defaults follow. */
export type AutoClipVariant = "paper" | "package";

/** Options of {@link AutoClip}; unset ones come from the `variant`. */
export interface AutoClipOptions {
  /** Default `"paper"`. */
  variant?: AutoClipVariant;
  /** Percentile in [0, 100] (paper 10, package 90). */
  percentile?: number;
  /** Number of norms kept (paper Infinity, package 1000). */
  historyLength?: number;
  /** Whether the current norm enters its own threshold (paper true, package false). */
  includeCurrent?: boolean;
  /** One global norm or one history per parameter (paper `"global"`, package `"perParameter"`). */
  scope?: "global" | "perParameter";
  /** Epsilon of the clip coefficient (1e-6). */
  eps?: number;
}

/**
 * The `detail` of an AutoClip result in the per-parameter scope (absent in the global scope):
 * for each gradient that was present, its flat index, norm, threshold and coefficient.
 */
export interface AutoClipDetail {
  indices: number[];
  norms: number[];
  thresholds: number[];
  coefs: number[];
}

const DEFAULTS: Record<AutoClipVariant, Required<Omit<AutoClipOptions, "variant">>> = {
  paper: { percentile: 10, historyLength: Infinity, includeCurrent: true, scope: "global", eps: 1e-6 },
  package: { percentile: 90, historyLength: 1000, includeCurrent: false, scope: "perParameter", eps: 1e-6 },
};

/**
 * AutoClip as a stateful gradient transform: use the instance as an optimizer stage
 * (`clip: new AutoClip()`) or call `clip()` between `backward()` and `step()`. Its results
 * ({@link ClipResult}, named `"AutoClip"`) carry the global `totalNorm`, `threshold` and `coef`
 * (NaN / 1 in the per-parameter scope, whose arrays are in `detail`); `numClipped` counts the
 * *tensors* scaled (all of them when the global `coef` is not 1; per parameter, those whose own
 * coefficient is not 1).
 *
 * @throws {RangeError} / {TypeError} from the constructor for invalid options.
 * @example
 * ```ts
 * const opt = new Adam(params, { lr: 1e-3, clip: new AutoClip({ percentile: 10 }) });
 * // or by hand:
 * const ac = new AutoClip({ variant: "package" });
 * loss.backward(); ac.clip(params); opt.step();
 * ```
 */
export class AutoClip implements GradTransform<AutoClipDetail | undefined> {
  readonly name = "AutoClip";
  /** The resolved options. */
  readonly options: Readonly<Required<AutoClipOptions>>;
  private global: SortedHistory;
  private perParam = new Map<number, SortedHistory>();

  /**
   * @throws {RangeError} for a percentile outside [0, 100] or a bad history length; {TypeError}
   * for an unknown variant or wrongly typed options.
   * @example
   * ```ts
   * const ac = new AutoClip({ variant: "package", historyLength: 500 });
   * ```
   */
  constructor(opts: AutoClipOptions = {}) {
    const op = "AutoClip";
    if (opts === null || typeof opts !== "object") throw new TypeError(`${op}: options must be an object (got ${fmtValue(opts)})`);
    const variant = checkChoice(op, "variant", opts.variant ?? "paper", ["paper", "package"] as const);
    const d = DEFAULTS[variant];
    const historyLength = opts.historyLength ?? d.historyLength;
    if (historyLength !== Infinity && (!Number.isInteger(historyLength) || historyLength < 1)) {
      throw new RangeError(`${op}: historyLength must be a positive integer or Infinity (got ${fmtValue(historyLength)})`);
    }
    this.options = {
      variant,
      percentile: checkRange(op, "percentile", opts.percentile ?? d.percentile, 0, 100),
      historyLength,
      includeCurrent: checkBool(op, "includeCurrent", opts.includeCurrent ?? d.includeCurrent),
      scope: checkChoice(op, "scope", opts.scope ?? d.scope, ["global", "perParameter"] as const),
      eps: checkNonNegative(op, "eps", opts.eps ?? d.eps),
    };
    this.global = new SortedHistory(historyLength);
  }

  /**
   * Clips the parameters' gradients in place and records their norm(s).
   *
   * @throws {TypeError} for entries that are not Vars or Tensors.
   * @example
   * ```ts
   * const { totalNorm, threshold, clipped } = ac.clip([w, b]);
   * ```
   */
  clip(params: ParamsLike): ClipResultWith<"totalNorm" | "coef" | "threshold", AutoClipDetail | undefined> {
    return this.apply(gatherGrads("AutoClip.clip", params));
  }

  /**
   * Transform protocol: see {@link GradTransform.apply}.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * ac.apply(gatherGrads("AutoClip", params)).threshold;
   * ```
   */
  apply(batch: GradBatch): ClipResultWith<"totalNorm" | "coef" | "threshold", AutoClipDetail | undefined> {
    const eps = this.options.eps;
    const n = batch.grads.length;
    const totalNorm = Math.sqrt(sumSquares(batch.grads));
    const bad = Number.isFinite(totalNorm) ? 0 : countNonFinite(batch.grads);
    const result = (threshold: number, coef: number, numClipped: number, detail?: AutoClipDetail): ClipResultWith<"totalNorm" | "coef" | "threshold", AutoClipDetail | undefined> => {
      const r: ClipResultWith<"totalNorm" | "coef" | "threshold", AutoClipDetail | undefined> = { name: this.name, clipped: numClipped > 0, numClipped, nonFiniteCount: bad, skipped: false, totalNorm, coef, threshold };
      if (detail) r.detail = detail;
      return r;
    };
    if (n === 0) return result(NaN, 1, 0); // nothing to record
    if (this.options.scope === "global") {
      if (!Number.isFinite(totalNorm)) return result(NaN, 1, 0);
      const threshold = this.threshold(this.global, totalNorm);
      const coef = Math.fround(Math.min(threshold / (totalNorm + eps), 1)); // float32 scalar, as clipCoefficient
      scaleInPlace(batch.grads, coef);
      return result(threshold, coef, coef !== 1 ? n : 0);
    }
    const pp: AutoClipDetail = { indices: [], norms: [], thresholds: [], coefs: [] };
    const one: Float32Array[] = [new Float32Array(0)];
    let numClipped = 0;
    for (let k = 0; k < n; k++) {
      one[0] = batch.grads[k]!;
      const key = batch.indices[k]!;
      const norm = Math.sqrt(sumSquares(one));
      let h = this.perParam.get(key);
      if (!h) this.perParam.set(key, (h = new SortedHistory(this.options.historyLength)));
      const t = Number.isFinite(norm) ? this.threshold(h, norm) : NaN;
      const coef = Number.isFinite(norm) ? Math.fround(Math.min(t / (norm + eps), 1)) : 1;
      scaleInPlace(one, coef);
      if (coef !== 1) numClipped++;
      pp.indices.push(key);
      pp.norms.push(norm);
      pp.thresholds.push(t);
      pp.coefs.push(coef);
    }
    return result(NaN, 1, numClipped, pp);
  }

  private threshold(h: SortedHistory, n: number): number {
    const q = this.options.percentile / 100;
    if (this.options.includeCurrent) {
      h.push(n);
      return h.quantile(q);
    }
    const t = h.size > 0 ? h.quantile(q) : Infinity;
    h.push(n);
    return t;
  }

  /**
   * The norm histories (oldest first), keyed by parameter position for the per-parameter scope.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * const saved = ac.stateDict(); ac2.loadStateDict(saved);
   * ```
   */
  stateDict(): Record<string, unknown> {
    const perParameter: Record<string, number[]> = {};
    for (const [k, h] of this.perParam) perParameter[String(k)] = h.values();
    return { global: this.global.values(), perParameter };
  }

  /**
   * Restores histories saved by {@link stateDict}.
   *
   * @throws {TypeError} for a malformed state (nothing is changed then).
   * @example
   * ```ts
   * ac.loadStateDict({ global: [0.5, 0.7], perParameter: {} });
   * ```
   */
  loadStateDict(state: Record<string, unknown>): void {
    const op = "AutoClip.loadStateDict";
    const isNums = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === "number" && !Number.isNaN(x));
    if (state === null || typeof state !== "object" || !isNums(state.global)) throw new TypeError(`${op}: "global" must be an array of numbers (got ${fmtValue(state?.global)})`);
    const pp = state.perParameter ?? {};
    if (pp === null || typeof pp !== "object") throw new TypeError(`${op}: "perParameter" must be an object (got ${fmtValue(pp)})`);
    for (const [k, v] of Object.entries(pp)) {
      if (!/^\d+$/.test(k) || !isNums(v)) throw new TypeError(`${op}: perParameter["${k}"] must be an array of numbers keyed by a parameter index`);
    }
    this.global.load(state.global);
    this.perParam.clear();
    for (const [k, v] of Object.entries(pp as Record<string, number[]>)) {
      const h = new SortedHistory(this.options.historyLength);
      h.load(v);
      this.perParam.set(Number(k), h);
    }
  }

  /**
   * Forgets every recorded norm.
   *
   * @throws Never throws.
   * @example
   * ```ts
   * ac.reset();
   * ```
   */
  reset(): void {
    this.global.clear();
    this.perParam.clear();
  }
}
