/**
 * @file Binary elementwise ops with NumPy broadcasting (`add`, `mul`, comparisons, `where`, ...),
 * plus the generic {@link binaryOp} entry point used by autograd's fused backward rules.
 *
 * Numbers are accepted wherever a tensor is (as 0-d float32 tensors). Every op takes an optional
 * `out`: a contiguous tensor of the result's shape to write into (it may be one of the inputs when
 * that input has exactly the output's layout, i.e. an explicit in-place update).
 */
import { ShapeError } from "./errors.js";
import { broadcastShapes, contiguousStrides, shapesEqual, shapeSize } from "./shape.js";
import { Tensor } from "./tensor.js";
import { broadcastStrides } from "./kernels/walker.js";
import { runMap } from "./kernels/map-layout.js";
import { BINARY_KERNELS, BinOp, WHERE_KERNEL } from "./map/elementwise-defs.js";
import { checkLive } from "./memory.js";

const NO_SCALARS: readonly number[] = [];
const ZERO_STRIDES = (n: number): number[] => new Array<number>(n).fill(0);

/** A tensor or a plain number (treated as a 0-d tensor). */
export type TensorOrScalar = Tensor | number;

/**
 * Lifts a number to a 0-d tensor; passes tensors through.
 *
 * @throws {TypeError} for anything else; {Error} for a tensor released by `dispose()`.
 * @example
 * ```ts
 * asTensor(2).shape; // []
 * ```
 */
export function asTensor(x: TensorOrScalar, op = "asTensor"): Tensor {
  if (x instanceof Tensor) {
    checkLive(op, x.data);
    return x;
  }
  if (typeof x === "number") return new Tensor(Float32Array.of(x), []);
  throw new TypeError(`${op}: expected a Tensor or a number (got ${x === null ? "null" : typeof x})`);
}

/**
 * Checks an `out` argument: a contiguous tensor of exactly `shape` that does not partially overlap
 * any input. Sharing storage is allowed with an identical layout (an explicit in-place update) or
 * when the memory ranges the two tensors address are disjoint.
 *
 * @throws {ShapeError} or {TypeError} describing the problem.
 * @example
 * ```ts
 * checkOut("add", x, [2, 3], [x, y]); // fine: in place into x (same layout)
 * ```
 */
export function checkOut(op: string, out: Tensor, shape: readonly number[], inputs: readonly Tensor[]): void {
  if (!(out instanceof Tensor)) throw new TypeError(`${op}: out must be a Tensor`);
  checkLive(op, out.data);
  if (!shapesEqual(out.shape, shape)) throw new ShapeError(op, "out has the wrong shape", [out.shape, shape]);
  if (!out.isContiguous) throw new ShapeError(op, "out must be contiguous", [out.shape]);
  for (const x of inputs) {
    if (x.data !== out.data || x.size === 0 || out.size === 0) continue;
    if (x.isContiguous && x.offset === out.offset && shapesEqual(x.shape, shape)) continue;
    if (extentEnd(x) < out.offset || x.offset - extentBack(x) > out.offset + out.size - 1) continue;
    throw new ShapeError(op, "out partially overlaps an input (same storage, different layout)", [x.shape, out.shape]);
  }
}

/** Highest index addressed by a non-empty tensor. */
function extentEnd(x: Tensor): number {
  let hi = x.offset;
  for (let i = 0; i < x.ndim; i++) if (x.strides[i]! > 0) hi += (x.shape[i]! - 1) * x.strides[i]!;
  return hi;
}

/** How far below `offset` a non-empty tensor reaches (negative strides). */
function extentBack(x: Tensor): number {
  let back = 0;
  for (let i = 0; i < x.ndim; i++) if (x.strides[i]! < 0) back -= (x.shape[i]! - 1) * x.strides[i]!;
  return back;
}

/**
 * Applies binary op `code` with broadcasting. `p0`/`p1` are op parameters (see `BinOp`).
 *
 * @throws {ShapeError} when shapes do not broadcast or `out` is unsuitable.
 * @example
 * ```ts
 * binaryOp("add", BinOp.ADD, a, b); // same as add(a, b)
 * ```
 */
export function binaryOp(name: string, code: BinOp, a: TensorOrScalar, b: TensorOrScalar, out?: Tensor, p0 = 0, p1 = 0): Tensor {
  const x = asTensor(a, name);
  const y = asTensor(b, name);
  const shape = shapesEqual(x.shape, y.shape) ? x.shape.slice() : broadcastShapes(name, x.shape, y.shape);
  let result: Tensor;
  if (out !== undefined) {
    checkOut(name, out, shape, [x, y]);
    result = out;
  } else {
    result = new Tensor(new Float32Array(shapeSize(shape)), shape);
  }
  const kernel = BINARY_KERNELS[code];
  if (kernel === undefined) throw new Error(`internal: unknown binary op code ${code as number}`);
  const strides = contiguousStrides(shape);
  runMap(kernel, shape, [
    { data: result.data, offset: result.offset, strides },
    { data: x.data, offset: x.offset, strides: x.size === 1 ? ZERO_STRIDES(shape.length) : broadcastStrides(x.shape, x.strides, shape) },
    { data: y.data, offset: y.offset, strides: y.size === 1 ? ZERO_STRIDES(shape.length) : broadcastStrides(y.shape, y.strides, shape) },
  ], [p0, p1]);
  return result;
}

/**
 * `a + b`, broadcasting.
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * add(tensor([[1], [2]]), tensor([10, 20])).toArray(); // [[11, 21], [12, 22]]
 * ```
 */
export function add(a: TensorOrScalar, b: TensorOrScalar, out?: Tensor): Tensor {
  return binaryOp("add", BinOp.ADD, a, b, out);
}

/**
 * `a - b`, broadcasting.
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * sub(tensor([3, 4]), 1).toArray(); // [2, 3]
 * ```
 */
export function sub(a: TensorOrScalar, b: TensorOrScalar, out?: Tensor): Tensor {
  return binaryOp("sub", BinOp.SUB, a, b, out);
}

/**
 * `a * b`, broadcasting.
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * mul(tensor([1, 2]), tensor([[1], [10]])).toArray(); // [[1, 2], [10, 20]]
 * ```
 */
export function mul(a: TensorOrScalar, b: TensorOrScalar, out?: Tensor): Tensor {
  return binaryOp("mul", BinOp.MUL, a, b, out);
}

/**
 * `a / b`, broadcasting (IEEE semantics: `x/0` is ±Infinity or NaN).
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * div(tensor([1, 2]), 4).toArray(); // [0.25, 0.5]
 * ```
 */
export function div(a: TensorOrScalar, b: TensorOrScalar, out?: Tensor): Tensor {
  return binaryOp("div", BinOp.DIV, a, b, out);
}

/**
 * `a ** b` elementwise, broadcasting, with IEEE-754 `pow` semantics as in PyTorch: a negative
 * base with a fractional exponent gives NaN, `pow(x, 0) = 1` and `pow(1, y) = 1` even for NaN.
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * pow(tensor([2, 3]), 2).toArray(); // [4, 9]
 * ```
 */
export function pow(a: TensorOrScalar, b: TensorOrScalar, out?: Tensor): Tensor {
  return binaryOp("pow", BinOp.POW, a, b, out);
}

/**
 * Elementwise maximum; NaN in either input gives NaN (as `torch.maximum`).
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * maximum(tensor([1, 5]), 3).toArray(); // [3, 5]
 * ```
 */
export function maximum(a: TensorOrScalar, b: TensorOrScalar, out?: Tensor): Tensor {
  return binaryOp("maximum", BinOp.MAXIMUM, a, b, out);
}

/**
 * Elementwise minimum; NaN in either input gives NaN (as `torch.minimum`).
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * minimum(tensor([1, 5]), 3).toArray(); // [1, 3]
 * ```
 */
export function minimum(a: TensorOrScalar, b: TensorOrScalar, out?: Tensor): Tensor {
  return binaryOp("minimum", BinOp.MINIMUM, a, b, out);
}

/**
 * `atan2(a, b)` elementwise, broadcasting.
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * atan2(tensor([1]), tensor([1])).item(); // ≈ 0.7854
 * ```
 */
export function atan2(a: TensorOrScalar, b: TensorOrScalar, out?: Tensor): Tensor {
  return binaryOp("atan2", BinOp.ATAN2, a, b, out);
}

/**
 * `a == b` as 1/0.
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * eq(tensor([1, 2]), 2).toArray(); // [0, 1]
 * ```
 */
export function eq(a: TensorOrScalar, b: TensorOrScalar, out?: Tensor): Tensor {
  return binaryOp("eq", BinOp.EQ, a, b, out);
}

/**
 * `a != b` as 1/0 (NaN != NaN is 1).
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * ne(tensor([1, 2]), 2).toArray(); // [1, 0]
 * ```
 */
export function ne(a: TensorOrScalar, b: TensorOrScalar, out?: Tensor): Tensor {
  return binaryOp("ne", BinOp.NE, a, b, out);
}

/**
 * `a < b` as 1/0.
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * lt(tensor([1, 2]), 2).toArray(); // [1, 0]
 * ```
 */
export function lt(a: TensorOrScalar, b: TensorOrScalar, out?: Tensor): Tensor {
  return binaryOp("lt", BinOp.LT, a, b, out);
}

/**
 * `a <= b` as 1/0.
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * le(tensor([1, 2]), 2).toArray(); // [1, 1]
 * ```
 */
export function le(a: TensorOrScalar, b: TensorOrScalar, out?: Tensor): Tensor {
  return binaryOp("le", BinOp.LE, a, b, out);
}

/**
 * `a > b` as 1/0.
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * gt(tensor([1, 2]), 1).toArray(); // [0, 1]
 * ```
 */
export function gt(a: TensorOrScalar, b: TensorOrScalar, out?: Tensor): Tensor {
  return binaryOp("gt", BinOp.GT, a, b, out);
}

/**
 * `a >= b` as 1/0.
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * ge(tensor([1, 2]), 2).toArray(); // [0, 1]
 * ```
 */
export function ge(a: TensorOrScalar, b: TensorOrScalar, out?: Tensor): Tensor {
  return binaryOp("ge", BinOp.GE, a, b, out);
}

/**
 * `cond ? a : b` elementwise with broadcasting over all three; `cond` is true where non-zero
 * (NaN counts as true, as in NumPy's `bool(nan)`).
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * where(tensor([1, 0]), tensor([1, 2]), -1).toArray(); // [1, -1]
 * ```
 */
export function where(cond: TensorOrScalar, a: TensorOrScalar, b: TensorOrScalar, out?: Tensor): Tensor {
  const c = asTensor(cond, "where");
  const x = asTensor(a, "where");
  const y = asTensor(b, "where");
  const shape = broadcastShapes("where", c.shape, x.shape, y.shape);
  let result: Tensor;
  if (out !== undefined) {
    checkOut("where", out, shape, [c, x, y]);
    result = out;
  } else result = new Tensor(new Float32Array(shapeSize(shape)), shape);
  const operand = (t: Tensor) => ({ data: t.data, offset: t.offset, strides: broadcastStrides(t.shape, t.strides, shape) });
  runMap(WHERE_KERNEL, shape, [{ data: result.data, offset: result.offset, strides: contiguousStrides(shape) }, operand(c), operand(x), operand(y)], NO_SCALARS);
  return result;
}
