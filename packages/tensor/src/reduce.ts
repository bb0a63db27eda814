/**
 * @file Reductions over one axis, several axes (negative allowed) or all elements, with
 * `keepDims`: sum, mean, prod, max, min, variance, std, logsumexp, and argmax/argmin.
 *
 * Sums accumulate in float64 (then round once to float32), so long reductions do not drift;
 * `variance` and `logsumexp` make their second pass in float64 too (no float32 temporaries). The
 * walk visits the input in memory order (dimensions sorted by stride), with the output addressed
 * through strides that are 0 on reduced dimensions: an inner reduced dimension accumulates in a
 * register, an inner kept dimension accumulates a whole row of outputs.
 */
import { ShapeError } from "./errors.js";
import { contiguousStrides, normalizeAxes, normalizeAxis, shapeSize } from "./shape.js";
import { Tensor } from "./tensor.js";
import { makeWalker } from "./kernels/walker.js";
import { ReduceKind } from "./kernels/reduce-row.js";
import { kernels } from "./backend.js";
import { laneStarts } from "./kernels/lanes.js";
import { asTensor, type TensorOrScalar } from "./elementwise.js";
import { UnOp } from "./map/elementwise-defs.js";
import { unaryOp } from "./unary.js";

/**
 * Axes to reduce: one axis, a list, or `null`/`undefined` for all. A 0-d tensor accepts 0 or -1
 * (as PyTorch does) and stays 0-d.
 */
export type Axes = number | readonly number[] | null | undefined;

// SQDEV (second pass of `variance`) and EXPSUM (of `logsumexp`) sum in float64 too.
const { SUM, PROD, MAX, MIN, SQDEV, EXPSUM } = ReduceKind;

interface Plan {
  axes: number[];
  keptShape: number[]; // output shape with reduced axes kept as 1
  outShape: number[]; // final output shape (keepDims applied)
  count: number; // elements reduced into each output
}

function plan(op: string, x: Tensor, axes: Axes, keepDims: boolean): Plan {
  const ax = x.ndim === 0 ? scalarAxes(op, axes) : normalizeAxes(op, axes, x.ndim, x.shape);
  const keptShape = x.shape.slice();
  let count = 1;
  for (const a of ax) {
    count *= keptShape[a]!;
    keptShape[a] = 1;
  }
  const outShape = keepDims ? keptShape : keptShape.filter((_, i) => !ax.includes(i));
  return { axes: ax, keptShape, outShape, count };
}

/**
 * Axes of a 0-d tensor, as PyTorch allows them: 0 and -1 name the (implicit, size-1) only axis,
 * so reducing over them reduces nothing and the result stays 0-d.
 */
function scalarAxes(op: string, axes: Axes): number[] {
  if (axes === undefined || axes === null) return [];
  const list = typeof axes === "number" ? [axes] : Array.from(axes);
  if (list.length > 1) throw new ShapeError(op, `axes ${JSON.stringify(list)} are too many for a 0-d tensor`, [[]]);
  for (const a of list) normalizeAxis(op, a, 1, []);
  return [];
}

/** Reduces into a float64 accumulator of the kept shape (`center`: SQDEV and EXPSUM only). */
function reduceRaw(kind: ReduceKind, x: Tensor, p: Plan, center: Float64Array = EMPTY): Float64Array {
  const outSize = shapeSize(p.keptShape);
  const acc = new Float64Array(outSize);
  const init = kind === PROD ? 1 : kind === MAX ? -Infinity : kind === MIN ? Infinity : 0;
  if (init !== 0) acc.fill(init);
  if (x.size === 0) return acc;
  const outStrides = contiguousStrides(p.keptShape).map((s, i) => (p.axes.includes(i) ? 0 : s));
  // Visit dimensions in memory order of the input (largest |stride| outermost).
  const order = x.shape.map((_, i) => i).sort((i, j) => Math.abs(x.strides[j]!) - Math.abs(x.strides[i]!));
  const w = makeWalker(order.map((i) => x.shape[i]!), [order.map((i) => x.strides[i]!), order.map((i) => outStrides[i]!)], [x.offset, 0]);
  const [sx, so] = w.rowStrides as [number, number];
  const d = x.data, n = w.n, off = w.offsets, row = kernels().reduceRow;
  for (let r = 0; r < w.rows; r++) {
    row(kind, d, off[0]!, sx, acc, off[1]!, so, n, center);
    w.next();
  }
  return acc; // NaN wins in max/min: once an accumulator is NaN no comparison replaces it
}

const EMPTY = new Float64Array(0);

function finish(acc: Float64Array, shape: number[], scale = 1): Tensor {
  const out = new Float32Array(acc.length);
  if (scale === 1) for (let i = 0; i < acc.length; i++) out[i] = acc[i]!;
  else for (let i = 0; i < acc.length; i++) out[i] = acc[i]! * scale;
  return new Tensor(out, shape);
}

/**
 * Sum over `axes` (all when omitted); the sum of no elements is 0.
 *
 * @throws {ShapeError} for out-of-range or repeated axes.
 * @example
 * ```ts
 * sum(tensor([[1, 2], [3, 4]]), 0).toArray(); // [4, 6]
 * sum(tensor([[1, 2], [3, 4]]), -1, true).shape; // [2, 1]
 * ```
 */
export function sum(x: TensorOrScalar, axes?: Axes, keepDims = false): Tensor {
  const t = asTensor(x, "sum");
  const p = plan("sum", t, axes, keepDims);
  return finish(reduceRaw(SUM, t, p), p.outShape);
}

/**
 * Mean over `axes` (all when omitted); the mean of no elements is NaN.
 *
 * @throws {ShapeError} for out-of-range or repeated axes.
 * @example
 * ```ts
 * mean(tensor([1, 2, 3, 4])).item(); // 2.5
 * ```
 */
export function mean(x: TensorOrScalar, axes?: Axes, keepDims = false): Tensor {
  const t = asTensor(x, "mean");
  const p = plan("mean", t, axes, keepDims);
  return finish(reduceRaw(SUM, t, p), p.outShape, 1 / p.count);
}

/**
 * Product over `axes` (all when omitted); the product of no elements is 1.
 *
 * @throws {ShapeError} for out-of-range or repeated axes.
 * @example
 * ```ts
 * prod(tensor([1, 2, 3, 4])).item(); // 24
 * ```
 */
export function prod(x: TensorOrScalar, axes?: Axes, keepDims = false): Tensor {
  const t = asTensor(x, "prod");
  const p = plan("prod", t, axes, keepDims);
  return finish(reduceRaw(PROD, t, p), p.outShape);
}

function extreme(op: "max" | "min", kind: ReduceKind, x: TensorOrScalar, axes: Axes, keepDims: boolean): Tensor {
  const t = asTensor(x, op);
  const p = plan(op, t, axes, keepDims);
  if (t.size === 0 && p.axes.length === t.ndim) throw new ShapeError(op, "cannot reduce a tensor with no elements", [t.shape]);
  if (p.count === 0 && shapeSize(p.keptShape) > 0) throw new ShapeError(op, "cannot reduce over an empty dimension", [t.shape]);
  return finish(reduceRaw(kind, t, p), p.outShape);
}

/**
 * Maximum over `axes` (all when omitted); NaN wins (as in PyTorch).
 *
 * @throws {ShapeError} for an empty reduction or bad axes.
 * @example
 * ```ts
 * max(tensor([[1, 5], [7, 2]]), 1).toArray(); // [5, 7]
 * ```
 */
export function max(x: TensorOrScalar, axes?: Axes, keepDims = false): Tensor {
  return extreme("max", MAX, x, axes, keepDims);
}

/**
 * Minimum over `axes` (all when omitted); NaN wins (as in PyTorch).
 *
 * @throws {ShapeError} for an empty reduction or bad axes.
 * @example
 * ```ts
 * min(tensor([[1, 5], [7, 2]]), 1).toArray(); // [1, 2]
 * ```
 */
export function min(x: TensorOrScalar, axes?: Axes, keepDims = false): Tensor {
  return extreme("min", MIN, x, axes, keepDims);
}

/**
 * Index of the maximum along `axis` (first occurrence on ties; NaN counts as the maximum), or in
 * the flattened tensor when `axis` is omitted. Indices are returned as float32 values (exact up
 * to 2^24).
 *
 * @throws {ShapeError} for an empty axis or a bad axis.
 * @example
 * ```ts
 * argmax(tensor([[1, 5], [7, 2]]), 1).toArray(); // [1, 0]
 * ```
 */
export function argmax(x: TensorOrScalar, axis?: number | null, keepDims = false): Tensor {
  return argExtreme("argmax", true, asTensor(x, "argmax"), axis, keepDims);
}

/**
 * Index of the minimum along `axis` (first occurrence on ties; NaN counts as the minimum), or in
 * the flattened tensor when `axis` is omitted.
 *
 * @throws {ShapeError} for an empty axis or a bad axis.
 * @example
 * ```ts
 * argmin(tensor([3, 1, 2])).item(); // 1
 * ```
 */
export function argmin(x: TensorOrScalar, axis?: number | null, keepDims = false): Tensor {
  return argExtreme("argmin", false, asTensor(x, "argmin"), axis, keepDims);
}

/**
 * Positions (along `axis`) of the max or min of every lane, as an Int32Array in row-major order of
 * the other axes. Used by `argmax`/`argmin` and by autograd to route max/min gradients.
 *
 * @throws {ShapeError} when the axis is empty or out of range.
 * @example
 * ```ts
 * argExtremeIndices(tensor([[1, 5], [7, 2]]), 1, true); // Int32Array [1, 0]
 * ```
 */
export function argExtremeIndices(t: Tensor, axis: number, isMax: boolean, op = isMax ? "argmax" : "argmin"): Int32Array {
  const ax = normalizeAxis(op, axis, t.ndim, t.shape);
  const n = t.shape[ax]!;
  const starts = laneStarts(t.shape, t.strides, t.offset, ax);
  if (n === 0 && starts.length > 0) throw new ShapeError(op, `cannot take ${op} of an empty axis ${axis}`, [t.shape]);
  const s = t.strides[ax]!;
  const d = t.data;
  const idx = new Int32Array(starts.length);
  for (let l = 0; l < starts.length; l++) {
    let i = starts[l]!;
    let best = d[i]!;
    let bi = 0;
    if (best === best) {
      i += s;
      for (let k = 1; k < n; k++, i += s) {
        const v = d[i]!;
        if (v !== v) { bi = k; break; }
        if (isMax ? v > best : v < best) { best = v; bi = k; }
      }
    }
    idx[l] = bi;
  }
  return idx;
}

function argExtreme(op: string, isMax: boolean, t: Tensor, axis: number | null | undefined, keepDims: boolean): Tensor {
  if (axis === undefined || axis === null) {
    if (t.size === 0) throw new ShapeError(op, "cannot take the arg of an empty tensor", [t.shape]);
    const flat = t.reshape(t.size);
    const idx = argExtremeIndices(flat, 0, isMax, op);
    return new Tensor(Float32Array.of(idx[0]!), keepDims ? t.shape.map(() => 1) : []);
  }
  if (t.ndim === 0) {
    normalizeAxis(op, axis, 1, t.shape); // PyTorch accepts axis 0 / -1 on a 0-d tensor
    return new Tensor(new Float32Array(1), []);
  }
  const ax = normalizeAxis(op, axis, t.ndim, t.shape);
  const idx = argExtremeIndices(t, ax, isMax, op);
  const shape = keepDims ? t.shape.map((d, i) => (i === ax ? 1 : d)) : t.shape.filter((_, i) => i !== ax);
  return new Tensor(Float32Array.from(idx), shape);
}

/**
 * `log(Σ exp(x))` over `axes`, computed stably (shifted by the max; `-Infinity` entries contribute
 * 0, an all `-Infinity` slice gives `-Infinity`, a `+Infinity` entry gives `+Infinity`).
 *
 * @throws {ShapeError} for bad axes.
 * @example
 * ```ts
 * logsumexp(tensor([1000, 1000])).item(); // ≈ 1000.6931
 * ```
 */
export function logsumexp(x: TensorOrScalar, axes?: Axes, keepDims = false): Tensor {
  const t = asTensor(x, "logsumexp");
  const p = plan("logsumexp", t, axes, keepDims);
  const m = reduceRaw(MAX, t, p);
  for (let i = 0; i < m.length; i++) if (m[i] === Infinity || m[i] === -Infinity) m[i] = 0;
  const s = reduceRaw(EXPSUM, t, p, m);
  const out = new Float32Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = Math.log(s[i]!) + m[i]!;
  return new Tensor(out, p.outShape);
}

/**
 * Variance over `axes` with Bessel's `correction` (1 = unbiased, as `torch.var`; 0 = population).
 * Two-pass in float64 (the float64 mean, then the sum of squared deviations from it), rounded
 * once to float32. The divisor is `max(0, N - correction)`: when it is 0 the result is NaN (no
 * spread, e.g. a single element with correction 1) or Infinity, as in PyTorch.
 *
 * @throws {ShapeError} for bad axes.
 * @example
 * ```ts
 * variance(tensor([1, 2, 3, 4])).item(); // ≈ 1.6667
 * variance(tensor([1, 2, 3, 4]), null, { correction: 0 }).item(); // 1.25
 * ```
 */
export function variance(x: TensorOrScalar, axes?: Axes, opts: { correction?: number; keepDims?: boolean } = {}): Tensor {
  return varianceOf("variance", x, axes, opts);
}

/** {@link variance}, with the op name its errors carry (`variance` or `std`). */
function varianceOf(op: string, x: TensorOrScalar, axes: Axes | undefined, opts: { correction?: number; keepDims?: boolean }): Tensor {
  const t = asTensor(x, op);
  const correction = opts.correction ?? 1;
  if (typeof correction !== "number" || !Number.isFinite(correction)) throw new RangeError(`${op}: correction must be a finite number (got ${String(correction)})`);
  const p = plan(op, t, axes, opts.keepDims ?? false);
  const mu = reduceRaw(SUM, t, p);
  for (let i = 0; i < mu.length; i++) mu[i] = mu[i]! / p.count;
  const sq = reduceRaw(SQDEV, t, p, mu);
  const denom = Math.max(0, p.count - correction);
  return finish(sq, p.outShape, 1 / denom);
}

/**
 * Standard deviation: `sqrt(variance(x, axes, opts))`.
 *
 * @throws {ShapeError} for bad axes.
 * @example
 * ```ts
 * std(tensor([1, 3]), null, { correction: 0 }).item(); // 1
 * ```
 */
export function std(x: TensorOrScalar, axes?: Axes, opts: { correction?: number; keepDims?: boolean } = {}): Tensor {
  return unaryOp("std", UnOp.SQRT, varianceOf("std", x, axes, opts));
}
