/**
 * @file Shared pieces of int8 quantization: the quantized dtypes and schemes, their integer
 * ranges, round-half-to-even, the one-value quantize step torch uses (multiply by the float32
 * reciprocal, round half to even, add the zero point, saturate) and argument checks.
 */

/** Quantized element types: `qint8` = int8 `[-128, 127]`, `quint8` = uint8 `[0, 255]`. */
export type QDtype = "qint8" | "quint8";

/** Quantization schemes (`torch.per_tensor_affine`, ...). */
export type QScheme = "per_tensor_affine" | "per_tensor_symmetric" | "per_channel_affine" | "per_channel_symmetric";

const QSCHEMES: readonly string[] = ["per_tensor_affine", "per_tensor_symmetric", "per_channel_affine", "per_channel_symmetric"];

/**
 * The full integer range `[qmin, qmax]` of a quantized dtype.
 *
 * @throws {TypeError} for an unknown dtype.
 * @example
 * ```ts
 * dtypeRange("qint8"); // [-128, 127]
 * ```
 */
export function dtypeRange(dtype: QDtype, fn = "dtypeRange"): [number, number] {
  if (dtype === "qint8") return [-128, 127];
  if (dtype === "quint8") return [0, 255];
  throw new TypeError(`${fn}: dtype must be "qint8" or "quint8" (got ${JSON.stringify(dtype)})`);
}

/**
 * Checks a qscheme name.
 *
 * @throws {TypeError} for an unknown scheme.
 * @example
 * ```ts
 * checkQScheme("MinMaxObserver", "per_tensor_affine");
 * ```
 */
export function checkQScheme(fn: string, qscheme: string): QScheme {
  if (!QSCHEMES.includes(qscheme)) throw new TypeError(`${fn}: qscheme must be one of ${QSCHEMES.join(", ")} (got ${JSON.stringify(qscheme)})`);
  return qscheme as QScheme;
}

/**
 * Round half to even (C `nearbyint`, NumPy `rint`, torch `round`): 0.5 → 0, 1.5 → 2, 2.5 → 2,
 * −1.5 → −2. `Math.round` rounds halves up and is wrong here.
 *
 * @throws never.
 * @example
 * ```ts
 * roundHalfEven(2.5); // 2
 * ```
 */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * `clamp(zeroPoint + rne(fl32(x · inv)), qmin, qmax)`: torch's quantize step for one finite
 * value, with `inv = fl32(1 / scale)`. Huge finite values saturate (torch's x86 build maps
 * `|x·inv| >= 2^63` to qmin through an undefined int64 conversion; see the README).
 *
 * @throws never (callers reject non-finite values first).
 * @example
 * ```ts
 * quantizeValue(0.125, 4, 3, 0, 255); // 3 + rne(0.5) = 3
 * ```
 */
export function quantizeValue(x: number, inv: number, zeroPoint: number, qmin: number, qmax: number): number {
  const q = zeroPoint + roundHalfEven(Math.fround(x * inv));
  return q < qmin ? qmin : q > qmax ? qmax : q;
}

/**
 * The error for a NaN or infinite value met by `fn` at flat index `index`.
 *
 * @throws never (it returns the error).
 * @example
 * ```ts
 * throw nonFiniteError("quantizePerTensor", 3, NaN); // "quantizePerTensor: cannot quantize non-finite value NaN at index 3"
 * ```
 */
export function nonFiniteError(fn: string, index: number, value: number): RangeError {
  return new RangeError(`${fn}: cannot quantize non-finite value ${value} at index ${index}`);
}

/**
 * Checks a quantization scale: a positive finite number whose float32 value and float32
 * reciprocal are finite and non-zero. Returns `fl32(scale)` (torch quantizes with float32 scales).
 *
 * @throws {RangeError} otherwise, naming `fn` and the value.
 * @example
 * ```ts
 * checkScale("quantizePerTensor", 0.1); // 0.10000000149011612
 * ```
 */
export function checkScale(fn: string, scale: number, what = "scale"): number {
  const s = Math.fround(scale);
  if (typeof scale !== "number" || !(s > 0) || !Number.isFinite(s) || !Number.isFinite(Math.fround(1 / s))) {
    throw new RangeError(`${fn}: ${what} must be a positive finite float32 number with a finite reciprocal (got ${scale})`);
  }
  return s;
}

/**
 * Checks that a zero point is an integer in `[qmin, qmax]`.
 *
 * @throws {RangeError} otherwise, naming `fn` and the value.
 * @example
 * ```ts
 * checkZeroPoint("quantizePerTensor", 300, 0, 255); // throws "... zero point must be an integer in [0, 255] (got 300)"
 * ```
 */
export function checkZeroPoint(fn: string, zeroPoint: number, qmin: number, qmax: number, what = "zero point"): number {
  if (!Number.isInteger(zeroPoint) || zeroPoint < qmin || zeroPoint > qmax) {
    throw new RangeError(`${fn}: ${what} must be an integer in [${qmin}, ${qmax}] (got ${zeroPoint})`);
  }
  return zeroPoint;
}

/**
 * Checks an integer range `[quantMin, quantMax]` with `quantMin <= quantMax`.
 *
 * @throws {RangeError} otherwise.
 * @example
 * ```ts
 * checkRange("fakeQuantizePerTensorAffine", 0, 255);
 * ```
 */
export function checkRange(fn: string, quantMin: number, quantMax: number): void {
  if (!Number.isInteger(quantMin) || !Number.isInteger(quantMax) || quantMin > quantMax) {
    throw new RangeError(`${fn}: quantMin and quantMax must be integers with quantMin <= quantMax (got ${quantMin}, ${quantMax})`);
  }
}

/**
 * Normalises an axis (negative counts from the end) for a tensor of `ndim` dimensions.
 *
 * @throws {RangeError} when it is not an integer in `[-ndim, ndim)`.
 * @example
 * ```ts
 * checkAxis("quantizePerChannel", -1, [4, 3]); // 1
 * ```
 */
export function checkAxis(fn: string, axis: number, shape: readonly number[]): number {
  const n = shape.length;
  if (!Number.isInteger(axis) || axis < -n || axis >= n) throw new RangeError(`${fn}: axis ${axis} is out of range for shape ${JSON.stringify(shape)}`);
  return axis < 0 ? axis + n : axis;
}

/**
 * `[outer, channels, inner]` of a row-major tensor split at `axis`: element `(o, c, i)` is at
 * `(o·channels + c)·inner + i`.
 *
 * @throws never.
 * @example
 * ```ts
 * splitAtAxis([2, 3, 4], 1); // [2, 3, 4]
 * ```
 */
export function splitAtAxis(shape: readonly number[], axis: number): [number, number, number] {
  let outer = 1, inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return [outer, shape[axis]!, inner];
}

/**
 * The logical elements of a tensor-like in row-major order, without a copy when contiguous
 * (a `subarray` view: read only).
 *
 * @throws whatever `toFloat32Array` throws for released storage.
 * @example
 * ```ts
 * const v = flatValues(x); // v[i] is element i of x
 * ```
 */
export function flatValues(x: { data: Float32Array; offset: number; size: number; isContiguous: boolean; toFloat32Array(): Float32Array }): Float32Array {
  return x.isContiguous ? x.data.subarray(x.offset, x.offset + x.size) : x.toFloat32Array();
}
