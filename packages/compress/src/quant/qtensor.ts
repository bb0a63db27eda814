/**
 * @file Quantized tensors (`QTensor`) and torch's quantize/dequantize: `quantizePerTensor`,
 * `quantizePerChannel`, `dequantize`, `intRepr`. Arithmetic is exactly torch's:
 * `q = clamp(zp + rne(fl32(x · fl32(1/scale))), qmin, qmax)`, `x̂ = fl32((q − zp) · scale)`.
 */
import { Tensor, ShapeError } from "@tapegrad/tensor";
import {
  checkAxis, checkScale, checkZeroPoint, dtypeRange, flatValues, nonFiniteError, quantizeValue, splitAtAxis, type QDtype,
} from "./common.js";

/** Integer storage of a quantized tensor: int8 for `qint8`, uint8 for `quint8`. */
export type QData = Int8Array | Uint8Array;

/** Per-tensor quantization parameters of a {@link QTensor}. */
export interface PerTensorQParams {
  readonly scale: number;
  readonly zeroPoint: number;
}

/** Per-channel quantization parameters of a {@link QTensor}. */
export interface PerChannelQParams {
  readonly scales: Float32Array;
  readonly zeroPoints: Int32Array;
  readonly axis: number;
}

/**
 * A quantized tensor: row-major integers `data` (int8 or uint8) with `shape`, and either one
 * `scale`/`zeroPoint` (per tensor) or `scales`/`zeroPoints` along `axis` (per channel). Scales
 * are float32 values. The value of element `i` (channel `c`) is `(data[i] − zp_c) · scale_c`.
 *
 * @throws {RangeError} or {ShapeError} from the constructor when the data length, dtype,
 * scales or zero points do not fit (see the constructor).
 * @example
 * ```ts
 * const q = quantizePerTensor(tensor([0.1, -0.2]), 0.1, 0, "qint8");
 * q.data; // Int8Array [1, -2]
 * ```
 */
export class QTensor {
  /** The stored integers, row-major. */
  readonly data: QData;
  /** Sizes per dimension. */
  readonly shape: readonly number[];
  /** Number of elements. */
  readonly size: number;
  /** `qint8` or `quint8`. */
  readonly dtype: QDtype;
  /** Per-tensor parameters, or null for a per-channel tensor. */
  readonly perTensor: PerTensorQParams | null;
  /** Per-channel parameters, or null for a per-tensor tensor. */
  readonly perChannel: PerChannelQParams | null;

  /**
   * Wraps integer data with its parameters (validated; the arrays are kept, not copied).
   *
   * @throws {TypeError} when `data` does not match `dtype`; {ShapeError} when its length or the
   * per-channel arrays do not match the shape; {RangeError} for a bad scale, zero point or axis.
   * @example
   * ```ts
   * new QTensor(new Int8Array([1, -2]), [2], "qint8", { scale: 0.1, zeroPoint: 0 });
   * ```
   */
  constructor(data: QData, shape: readonly number[], dtype: QDtype, params: PerTensorQParams | PerChannelQParams) {
    const [qmin, qmax] = dtypeRange(dtype, "QTensor");
    if (dtype === "qint8" ? !(data instanceof Int8Array) : !(data instanceof Uint8Array)) {
      throw new TypeError(`QTensor: ${dtype} data must be a${dtype === "qint8" ? "n Int8Array" : " Uint8Array"}`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new ShapeError("QTensor", `data has ${data.length} elements for shape ${JSON.stringify(shape)}`, [shape]);
    this.data = data;
    this.shape = Object.freeze(Array.from(shape));
    this.size = size;
    this.dtype = dtype;
    if ("scales" in params) {
      const axis = checkAxis("QTensor", params.axis, shape);
      const c = shape[axis]!;
      if (params.scales.length !== c || params.zeroPoints.length !== c) {
        throw new ShapeError("QTensor", `per-channel scales (${params.scales.length}) and zero points (${params.zeroPoints.length}) must have shape[${axis}] = ${c} entries`, [shape]);
      }
      for (let i = 0; i < c; i++) {
        checkScale("QTensor", params.scales[i]!, `scales[${i}]`);
        checkZeroPoint("QTensor", params.zeroPoints[i]!, qmin, qmax, `zeroPoints[${i}]`);
      }
      this.perChannel = { scales: params.scales, zeroPoints: params.zeroPoints, axis };
      this.perTensor = null;
    } else {
      this.perTensor = { scale: checkScale("QTensor", params.scale), zeroPoint: checkZeroPoint("QTensor", params.zeroPoint, qmin, qmax) };
      this.perChannel = null;
    }
  }

  /** `"per_tensor_affine"` or `"per_channel_affine"` (torch's `qscheme()`). @throws never. @example `x.qscheme` */
  get qscheme(): "per_tensor_affine" | "per_channel_affine" {
    return this.perChannel ? "per_channel_affine" : "per_tensor_affine";
  }
}

/**
 * Quantizes `x` with one scale and zero point to the full range of `dtype`
 * (`torch.quantize_per_tensor`).
 *
 * @throws {RangeError} for a scale that is not positive and finite, a zero point outside the
 * dtype's range, or a NaN/Inf element (naming its index); {TypeError} for an unknown dtype.
 * @example
 * ```ts
 * quantizePerTensor(tensor([0.125, 0.375]), 0.25, 0, "qint8").data; // Int8Array [0, 2] (ties to even)
 * ```
 */
export function quantizePerTensor(x: Tensor, scale: number, zeroPoint: number, dtype: QDtype): QTensor {
  const fn = "quantizePerTensor";
  if (!(x instanceof Tensor)) throw new TypeError(`${fn}: x must be a Tensor`);
  const [qmin, qmax] = dtypeRange(dtype, fn);
  const s = checkScale(fn, scale);
  checkZeroPoint(fn, zeroPoint, qmin, qmax);
  const inv = Math.fround(1 / s);
  const src = flatValues(x);
  const out = dtype === "qint8" ? new Int8Array(src.length) : new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    if (v - v !== 0) throw nonFiniteError(fn, i, v);
    out[i] = quantizeValue(v, inv, zeroPoint, qmin, qmax);
  }
  return new QTensor(out, x.shape, dtype, { scale: s, zeroPoint });
}

/** Per-channel scales/zero points as typed arrays (a Tensor, a typed array or a plain array). */
function channelArray(v: Tensor | ArrayLike<number>): Float64Array {
  return Float64Array.from(v instanceof Tensor ? v.toFloat32Array() : v);
}

/**
 * Quantizes `x` with one scale and zero point per index along `axis`
 * (`torch.quantize_per_channel(x, scales, zero_points, axis, dtype)`).
 *
 * @throws {ShapeError} when `scales`/`zeroPoints` do not have `x.shape[axis]` entries;
 * {RangeError} for a bad axis, scale or zero point, or a NaN/Inf element; {TypeError} for an
 * unknown dtype.
 * @example
 * ```ts
 * quantizePerChannel(tensor([[1, 2], [3, 4]]), [0.1, 0.5], [0, 0], 0, "qint8").data; // [10, 20, 6, 8]
 * ```
 */
export function quantizePerChannel(x: Tensor, scales: Tensor | ArrayLike<number>, zeroPoints: Tensor | ArrayLike<number>, axis: number, dtype: QDtype): QTensor {
  const fn = "quantizePerChannel";
  if (!(x instanceof Tensor)) throw new TypeError(`${fn}: x must be a Tensor`);
  const [qmin, qmax] = dtypeRange(dtype, fn);
  const ax = checkAxis(fn, axis, x.shape);
  const [outer, C, inner] = splitAtAxis(x.shape, ax);
  const sc = channelArray(scales), zp = channelArray(zeroPoints);
  if (sc.length !== C || zp.length !== C) {
    throw new ShapeError(fn, `scales (${sc.length}) and zeroPoints (${zp.length}) must have x.shape[${ax}] = ${C} entries`, [x.shape]);
  }
  const s32 = new Float32Array(C), inv = new Float32Array(C), z32 = new Int32Array(C);
  for (let c = 0; c < C; c++) {
    s32[c] = checkScale(fn, sc[c]!, `scales[${c}]`);
    inv[c] = 1 / s32[c]!;
    z32[c] = checkZeroPoint(fn, zp[c]!, qmin, qmax, `zeroPoints[${c}]`);
  }
  const src = flatValues(x);
  const out = dtype === "qint8" ? new Int8Array(src.length) : new Uint8Array(src.length);
  for (let o = 0, i = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      const ic = inv[c]!, zc = z32[c]!;
      for (let k = 0; k < inner; k++, i++) {
        const v = src[i]!;
        if (v - v !== 0) throw nonFiniteError(fn, i, v);
        out[i] = quantizeValue(v, ic, zc, qmin, qmax);
      }
    }
  }
  return new QTensor(out, x.shape, dtype, { scales: s32, zeroPoints: z32, axis: ax });
}

/**
 * The float values of a quantized tensor: `fl32((q − zp) · scale)` per element (per channel
 * with that channel's parameters), as a new float32 Tensor (`Tensor.dequantize()`).
 *
 * @throws {TypeError} when `q` is not a QTensor.
 * @example
 * ```ts
 * dequantize(quantizePerTensor(tensor([0.26]), 0.25, 0, "qint8")).toArray(); // [0.25]
 * ```
 */
export function dequantize(q: QTensor): Tensor {
  if (!(q instanceof QTensor)) throw new TypeError("dequantize: q must be a QTensor");
  const src = q.data;
  const out = new Float32Array(q.size);
  if (q.perTensor) {
    const { scale, zeroPoint } = q.perTensor;
    for (let i = 0; i < out.length; i++) out[i] = (src[i]! - zeroPoint) * scale;
  } else {
    const { scales, zeroPoints, axis } = q.perChannel!;
    const [outer, C, inner] = splitAtAxis(q.shape, axis);
    for (let o = 0, i = 0; o < outer; o++) {
      for (let c = 0; c < C; c++) {
        const s = scales[c]!, z = zeroPoints[c]!;
        for (let k = 0; k < inner; k++, i++) out[i] = (src[i]! - z) * s;
      }
    }
  }
  return new Tensor(out, q.shape);
}

/**
 * The stored integers of a quantized tensor as a float32 Tensor of the same shape (exact:
 * every int8/uint8 value is a float32) — torch's `int_repr()`. The raw typed array is `q.data`.
 *
 * @throws {TypeError} when `q` is not a QTensor.
 * @example
 * ```ts
 * intRepr(quantizePerTensor(tensor([1, -1]), 0.5, 3, "quint8")).toArray(); // [5, 1]
 * ```
 */
export function intRepr(q: QTensor): Tensor {
  if (!(q instanceof QTensor)) throw new TypeError("intRepr: q must be a QTensor");
  return new Tensor(Float32Array.from(q.data), q.shape);
}
