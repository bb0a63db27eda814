/**
 * @file Unary elementwise math and activations (`exp`, `log`, `tanh`, `relu`, `gelu`, `clamp`,
 * ...), all through {@link unaryOp}. Each takes an optional contiguous `out` of the input's shape.
 */
import { ShapeError } from "./errors.js";
import { contiguousStrides, shapeSize } from "./shape.js";
import { Tensor } from "./tensor.js";
import { broadcastLayout } from "./view.js";
import { runMap } from "./kernels/map-layout.js";
import { UNARY_KERNELS, UnOp } from "./map/elementwise-defs.js";
import { checkLive } from "./memory.js";
import { asTensor, checkOut, type TensorOrScalar } from "./elementwise.js";

/**
 * Applies unary op `code` (with parameters `p0`, `p1`) elementwise.
 *
 * @throws {TypeError} when `input` is not a Tensor or number, or `out` is not a Tensor;
 * {ShapeError} when `out` has the wrong shape, is not contiguous or partially overlaps the input;
 * {Error} when a tensor's storage was released by `dispose()`.
 * @example
 * ```ts
 * unaryOp("exp", UnOp.EXP, x); // same as exp(x)
 * ```
 */
export function unaryOp(name: string, code: UnOp, input: TensorOrScalar, out?: Tensor, p0 = 0, p1 = 0): Tensor {
  const x = asTensor(input, name);
  if (code === UnOp.POW && p0 === 2) code = UnOp.SQUARE; // x·x exactly, as PyTorch
  let result: Tensor;
  if (out !== undefined) {
    checkOut(name, out, x.shape, [x]);
    result = out;
  } else result = new Tensor(new Float32Array(shapeSize(x.shape)), x.shape);
  const kernel = UNARY_KERNELS[code];
  if (kernel === undefined) throw new Error(`internal: unknown unary op code ${code as number}`);
  runMap(kernel, x.shape, [
    { data: result.data, offset: result.offset, strides: contiguousStrides(x.shape) },
    { data: x.data, offset: x.offset, strides: x.strides },
  ], [p0, p1]);
  return result;
}

/** `-x`. @throws as {@link unaryOp}. @example `neg(tensor([1, -2])).toArray(); // [-1, 2]` */
export function neg(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("neg", UnOp.NEG, x, out); }
/** `e^x`. @throws as {@link unaryOp}. @example `exp(tensor([0])).toArray(); // [1]` */
export function exp(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("exp", UnOp.EXP, x, out); }
/** Natural log (`log(0) = -Infinity`, negative gives NaN). @throws as {@link unaryOp}. @example `log(tensor([1])).toArray(); // [0]` */
export function log(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("log", UnOp.LOG, x, out); }
/** Square root. @throws as {@link unaryOp}. @example `sqrt(tensor([4])).toArray(); // [2]` */
export function sqrt(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("sqrt", UnOp.SQRT, x, out); }
/** `1/sqrt(x)`. @throws as {@link unaryOp}. @example `rsqrt(tensor([4])).toArray(); // [0.5]` */
export function rsqrt(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("rsqrt", UnOp.RSQRT, x, out); }
/** Absolute value. @throws as {@link unaryOp}. @example `abs(tensor([-2])).toArray(); // [2]` */
export function abs(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("abs", UnOp.ABS, x, out); }
/** Sign: -1, 0 or 1 (NaN stays NaN). @throws as {@link unaryOp}. @example `sign(tensor([-3, 0, 2])).toArray(); // [-1, 0, 1]` */
export function sign(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("sign", UnOp.SIGN, x, out); }
/** Hyperbolic tangent. @throws as {@link unaryOp}. @example `tanh(tensor([0])).toArray(); // [0]` */
export function tanh(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("tanh", UnOp.TANH, x, out); }
/** Logistic sigmoid `1/(1+e^-x)`, computed without overflow for large |x|, in float32 arithmetic (≤ 3 ulp; see `sigmoidF` in `map/math.ts`). @throws as {@link unaryOp}. @example `sigmoid(tensor([0])).toArray(); // [0.5]` */
export function sigmoid(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("sigmoid", UnOp.SIGMOID, x, out); }
/** `max(x, 0)` (NaN stays NaN). @throws as {@link unaryOp}. @example `relu(tensor([-1, 2])).toArray(); // [0, 2]` */
export function relu(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("relu", UnOp.RELU, x, out); }
/** `x*x`. @throws as {@link unaryOp}. @example `square(tensor([3])).toArray(); // [9]` */
export function square(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("square", UnOp.SQUARE, x, out); }
/** `1/x`. @throws as {@link unaryOp}. @example `reciprocal(tensor([4])).toArray(); // [0.25]` */
export function reciprocal(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("reciprocal", UnOp.RECIPROCAL, x, out); }
/** Sine. @throws as {@link unaryOp}. @example `sin(tensor([0])).toArray(); // [0]` */
export function sin(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("sin", UnOp.SIN, x, out); }
/** Cosine. @throws as {@link unaryOp}. @example `cos(tensor([0])).toArray(); // [1]` */
export function cos(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("cos", UnOp.COS, x, out); }
/** `log(1+x)`, accurate near 0. @throws as {@link unaryOp}. @example `log1p(tensor([0])).toArray(); // [0]` */
export function log1p(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("log1p", UnOp.LOG1P, x, out); }
/** `e^x - 1`, accurate near 0. @throws as {@link unaryOp}. @example `expm1(tensor([0])).toArray(); // [0]` */
export function expm1(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("expm1", UnOp.EXPM1, x, out); }
/** Round down. @throws as {@link unaryOp}. @example `floor(tensor([1.5])).toArray(); // [1]` */
export function floor(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("floor", UnOp.FLOOR, x, out); }
/** Round up. @throws as {@link unaryOp}. @example `ceil(tensor([1.5])).toArray(); // [2]` */
export function ceil(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("ceil", UnOp.CEIL, x, out); }
/** Round half to even (as `torch.round`). @throws as {@link unaryOp}. @example `round(tensor([0.5, 1.5])).toArray(); // [0, 2]` */
export function round(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("round", UnOp.ROUND, x, out); }
/** Round toward zero. @throws as {@link unaryOp}. @example `trunc(tensor([-1.5])).toArray(); // [-1]` */
export function trunc(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("trunc", UnOp.TRUNC, x, out); }
/** 1 where NaN. @throws as {@link unaryOp}. @example `isNaN(tensor([NaN, 1])).toArray(); // [1, 0]` */
export function isNaN(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("isNaN", UnOp.ISNAN, x, out); }
/** 1 where finite. @throws as {@link unaryOp}. @example `isFinite(tensor([Infinity, 1])).toArray(); // [0, 1]` */
export function isFinite(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("isFinite", UnOp.ISFINITE, x, out); }
/** 1 where ±Infinity. @throws as {@link unaryOp}. @example `isInf(tensor([-Infinity, 1])).toArray(); // [1, 0]` */
export function isInf(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("isInf", UnOp.ISINF, x, out); }
/** 1 where 0, else 0. @throws as {@link unaryOp}. @example `logicalNot(tensor([0, 2])).toArray(); // [1, 0]` */
export function logicalNot(x: TensorOrScalar, out?: Tensor): Tensor { return unaryOp("logicalNot", UnOp.NOT, x, out); }

/**
 * `x` where `x > 0`, else `negativeSlope * x`.
 *
 * @throws as {@link unaryOp}.
 * @example
 * ```ts
 * leakyRelu(tensor([-10, 1])).toArray(); // [-0.1, 1]
 * ```
 */
export function leakyRelu(x: TensorOrScalar, negativeSlope = 0.01, out?: Tensor): Tensor {
  if (typeof negativeSlope !== "number" || !Number.isFinite(negativeSlope)) throw new RangeError(`leakyRelu: negativeSlope must be a finite number (got ${String(negativeSlope)})`);
  return unaryOp("leakyRelu", UnOp.LEAKY_RELU, x, out, negativeSlope);
}

/**
 * GELU: exact `0.5x(1+erf(x/√2))` (`approximate: "none"`, default) or the tanh approximation.
 *
 * @throws {TypeError} for an unknown `approximate` value.
 * @example
 * ```ts
 * gelu(tensor([1]), "tanh").item(); // ≈ 0.8412
 * ```
 */
export function gelu(x: TensorOrScalar, approximate: "none" | "tanh" = "none", out?: Tensor): Tensor {
  if (approximate !== "none" && approximate !== "tanh") throw new TypeError(`gelu: approximate must be "none" or "tanh" (got ${String(approximate)})`);
  return unaryOp("gelu", approximate === "tanh" ? UnOp.GELU_TANH : UnOp.GELU, x, out);
}

/**
 * `log(1+e^(βx))/β`, or `x` where `βx > threshold` (PyTorch's rule).
 *
 * @throws {RangeError} for a zero or non-finite beta.
 * @example
 * ```ts
 * softplus(tensor([0])).item(); // ≈ 0.6931
 * ```
 */
export function softplus(x: TensorOrScalar, beta = 1, threshold = 20, out?: Tensor): Tensor {
  if (!Number.isFinite(beta) || beta === 0) throw new RangeError(`softplus: beta must be finite and non-zero (got ${beta})`);
  if (typeof threshold !== "number" || Number.isNaN(threshold)) throw new RangeError(`softplus: threshold must be a number, not NaN (got ${String(threshold)})`);
  return unaryOp("softplus", UnOp.SOFTPLUS, x, out, beta, threshold);
}

/**
 * Clamps into `[min, max]` (either bound may be omitted); NaN stays NaN.
 *
 * @throws {RangeError} when `min > max` or a bound is NaN.
 * @example
 * ```ts
 * clamp(tensor([-2, 0.5, 3]), -1, 1).toArray(); // [-1, 0.5, 1]
 * ```
 */
export function clamp(x: TensorOrScalar, min: number | null = null, max: number | null = null, out?: Tensor): Tensor {
  for (const b of [min, max]) if (b !== null && b !== undefined && typeof b !== "number") throw new TypeError(`clamp: min and max must be numbers or null (got ${typeof b})`);
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  if (Number.isNaN(lo) || Number.isNaN(hi) || lo > hi) throw new RangeError(`clamp: need min <= max (got min ${min}, max ${max})`);
  return unaryOp("clamp", UnOp.CLAMP, x, out, lo, hi);
}

/**
 * `scale * x + shift` in one pass.
 *
 * @throws as {@link unaryOp}.
 * @example
 * ```ts
 * affine(tensor([1, 2]), 2, 1).toArray(); // [3, 5]
 * ```
 */
export function affine(x: TensorOrScalar, scale: number, shift: number, out?: Tensor): Tensor {
  if (typeof scale !== "number" || typeof shift !== "number" || Number.isNaN(scale) || Number.isNaN(shift)) {
    throw new RangeError(`affine: scale and shift must be numbers, not NaN (got ${String(scale)}, ${String(shift)})`);
  }
  return unaryOp("affine", UnOp.AFFINE, x, out, scale, shift);
}

/**
 * Writes `src` (broadcast to `out`'s shape) into `out`, through `out`'s strides: `out` may be any
 * non-broadcast view (e.g. a slice of a larger tensor), and its storage is mutated — the one op
 * whose purpose is writing into an existing tensor. Returns `out`.
 *
 * @throws {ShapeError} when `src` cannot be broadcast to `out`, or `out` has stride-0 dimensions.
 * @example
 * ```ts
 * const buf = zeros([2, 3]);
 * copyInto(tensor([1, 2, 3]), buf); // every row becomes [1, 2, 3]
 * copyInto(tensor([9, 9]), buf.slice(1, 0, 2).select(0, 0)); // writes buf[0][0..2]
 * ```
 */
export function copyInto(src: TensorOrScalar, out: Tensor): Tensor {
  if (!(out instanceof Tensor)) throw new TypeError("copyInto: out must be a Tensor");
  checkLive("copyInto", out.data);
  const v = asTensor(src, "copyInto");
  const l = broadcastLayout("copyInto", v.shape, v.strides, v.offset, out.shape);
  let x = new Tensor(v.data, l.shape, l.strides, l.offset);
  for (let i = 0; i < out.ndim; i++) {
    if (out.strides[i] === 0 && out.shape[i]! > 1) throw new ShapeError("copyInto", "out must not have broadcast (stride 0) dimensions", [out.shape]);
  }
  if (x.data === out.data) x = new Tensor(x.toFloat32Array(), x.shape); // source and destination overlap
  runMap(UNARY_KERNELS[UnOp.COPY], out.shape, [
    { data: out.data, offset: out.offset, strides: out.strides },
    { data: x.data, offset: x.offset, strides: x.strides },
  ], [0, 0]);
  return out;
}
