/**
 * @file How scales and zero points are chosen: the observers' `calculate_qparams` (torch
 * `_ObserverBase._calculate_qparams`, float32 arithmetic with `Math.fround` after each step), the
 * observers' effective integer range (`calculate_qmin_qmax`) and the per-batch choice of dynamic
 * quantization (`quant_utils::ChooseQuantizationParams`, double arithmetic, as torch's dynamic
 * Linear does).
 */
import { dtypeRange, roundHalfEven, type QDtype } from "./common.js";

/**
 * `torch.finfo(torch.float32).eps` = 2^-23, the observers' default minimum scale (not 1e-8).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * new MinMaxObserver({ eps: DEFAULT_EPS }); // the default
 * ```
 */
export const DEFAULT_EPS = 1.1920928955078125e-7;

/** What `calculateQparamsInto` needs to know about an observer. */
export interface QparamsConfig {
  readonly dtype: QDtype;
  readonly symmetric: boolean;
  readonly quantMin: number;
  readonly quantMax: number;
  /** True when the user gave quant_min/quant_max (changes the quint8 symmetric zero point). */
  readonly customRange: boolean;
  /** fl32(eps). */
  readonly eps: number;
}

/**
 * The effective integer range of an observer: the dtype's range (halved to 7 bits with
 * `reduceRange`), or the custom `[quantMin, quantMax]` (halved with floor division with
 * `reduceRange`), as torch's `calculate_qmin_qmax`.
 *
 * @throws {RangeError} for a custom range that does not contain 0, is empty, or is wider than
 * 256 values for qint8; or when only one of quantMin/quantMax is given.
 * @example
 * ```ts
 * observerRange("MinMaxObserver", "quint8", true, null, null); // [0, 127]
 * observerRange("MinMaxObserver", "quint8", true, 0, 15); // [0, 7]
 * ```
 */
export function observerRange(fn: string, dtype: QDtype, reduceRange: boolean, quantMin: number | null | undefined, quantMax: number | null | undefined): [number, number] {
  const [dmin, dmax] = dtypeRange(dtype, fn);
  const hasMin = quantMin !== null && quantMin !== undefined, hasMax = quantMax !== null && quantMax !== undefined;
  if (hasMin !== hasMax) throw new RangeError(`${fn}: give both quantMin and quantMax or neither (got ${quantMin}, ${quantMax})`);
  if (!hasMin) return reduceRange ? [Math.floor(dmin / 2), Math.floor(dmax / 2)] : [dmin, dmax];
  const lo = quantMin!, hi = quantMax!;
  if (!Number.isInteger(lo) || !Number.isInteger(hi)) throw new RangeError(`${fn}: quantMin and quantMax must be integers (got ${lo}, ${hi})`);
  if (!(lo <= 0 && 0 <= hi)) throw new RangeError(`${fn}: the range [quantMin, quantMax] must include 0 (got [${lo}, ${hi}])`);
  if (lo >= hi) throw new RangeError(`${fn}: quantMin must be strictly less than quantMax (got ${lo}, ${hi})`);
  if (dtype === "qint8" && hi - lo + 1 > 256) throw new RangeError(`${fn}: a qint8 range must not exceed 256 values (got [${lo}, ${hi}])`);
  return reduceRange ? [Math.floor(lo / 2), Math.floor(hi / 2)] : [lo, hi];
}

/**
 * Scale and zero point for one running `[minVal, maxVal]` (an observer's qparams for one tensor
 * or channel), with torch's float32 steps:
 * affine `scale = max(fl32(fl32(maxPos − minNeg) / (qmax − qmin)), eps)`,
 * `zp = clamp(qmin − rne(fl32(minNeg / scale)), qmin, qmax)`;
 * symmetric `scale = max(fl32(max(−minNeg, maxPos) / ((qmax − qmin) / 2)), eps)`, `zp` 0 (qint8)
 * or 128 / the floored midpoint of a custom range (quint8). Writes `scales[i]`, `zeroPoints[i]`.
 *
 * @throws never.
 * @example
 * ```ts
 * const s = new Float32Array(1), z = new Int32Array(1);
 * qparamsInto(cfg, -1, 3, s, z, 0); // quint8 affine: s[0] = fl32(4/255), z[0] = 64
 * ```
 */
export function qparamsInto(cfg: QparamsConfig, minVal: number, maxVal: number, scales: Float32Array, zeroPoints: Int32Array, i: number): void {
  const { quantMin: qmin, quantMax: qmax, eps } = cfg;
  const minNeg = Math.min(minVal, 0), maxPos = Math.max(maxVal, 0);
  let scale: number, zp: number;
  if (cfg.symmetric) {
    const amax = Math.max(-minNeg, maxPos);
    scale = Math.max(Math.fround(amax / ((qmax - qmin) / 2)), eps);
    zp = cfg.dtype === "quint8" ? (cfg.customRange ? Math.floor((qmin + qmax) / 2) : 128) : 0;
  } else {
    scale = Math.max(Math.fround(Math.fround(maxPos - minNeg) / (qmax - qmin)), eps);
    zp = qmin - roundHalfEven(Math.fround(minNeg / scale));
    zp = zp < qmin ? qmin : zp > qmax ? qmax : zp;
  }
  scales[i] = scale;
  zeroPoints[i] = zp;
}

/** Scale and zero point of per-tensor quantization. */
export interface QParams {
  /** A float32 value. */
  scale: number;
  zeroPoint: number;
}

const SMALL_SCALE_THRESHOLD = Math.fround(6.1e-5);

/**
 * Per-batch activation parameters of dynamic quantization, as torch's dynamic quantized Linear
 * chooses them (`quant_utils::ChooseQuantizationParams(min, max, qmin, qmax,
 * preserve_sparsity=false, force_scale_power_of_two=false, reduce_range)`): the range is extended
 * to contain 0, `scale = (max − min) / (qmax − qmin)` in double (0.1 when it or its reciprocal
 * degenerates, at least 6.1e-5), the zero point from whichever end gives the smaller rounding
 * error, clamped and rounded half to even. `reduceRange` halves `[qmin, qmax]` (C++ division).
 *
 * @throws {RangeError} when `min > max` or either is NaN.
 * @example
 * ```ts
 * chooseQparamsDynamic(-1, 3, 0, 255, false); // { scale: fl32(4/255), zeroPoint: 64 }
 * ```
 */
export function chooseQparamsDynamic(min: number, max: number, qmin: number, qmax: number, reduceRange: boolean): QParams {
  if (!(min <= max)) throw new RangeError(`chooseQparamsDynamic: min must be <= max (got ${min}, ${max})`);
  if (reduceRange) {
    qmin = Math.trunc(qmin / 2);
    qmax = Math.trunc(qmax / 2);
  }
  min = Math.fround(Math.min(min, 0));
  max = Math.fround(Math.max(max, 0));
  let scale = (max - min) / (qmax - qmin);
  if (Math.fround(scale) === 0 || !Number.isFinite(Math.fround(1 / Math.fround(scale)))) scale = 0.1;
  if (scale < SMALL_SCALE_THRESHOLD) {
    const orgScale = Math.fround(scale);
    scale = SMALL_SCALE_THRESHOLD;
    if (min === 0) max = Math.fround(SMALL_SCALE_THRESHOLD * (qmax - qmin));
    else if (max === 0) min = Math.fround(-SMALL_SCALE_THRESHOLD * (qmax - qmin));
    else {
      const amplifier = Math.fround(SMALL_SCALE_THRESHOLD / orgScale);
      min = Math.fround(min * amplifier);
      max = Math.fround(max * amplifier);
    }
  }
  const fromMin = qmin - min / scale, fromMax = qmax - max / scale;
  const errMin = Math.abs(qmin) - Math.abs(min / scale), errMax = Math.abs(qmax) - Math.abs(max / scale);
  const initial = errMin < errMax ? fromMin : fromMax;
  const zeroPoint = initial < qmin ? qmin : initial > qmax ? qmax : roundHalfEven(initial);
  return { scale: Math.fround(scale), zeroPoint };
}
