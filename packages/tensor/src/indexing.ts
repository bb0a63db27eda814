/**
 * @file Gathering and assembling: `indexSelect`, `gather`, `scatterAdd`, `concat`, `stack`,
 * `split`, `chunk`. Indices are integer arrays (`Int32Array` or `number[]`); negative indices count
 * from the end; every index is bounds-checked.
 */
import { ShapeError, fmt } from "./errors.js";
import { checkShape, contiguousStrides, normalizeAxis, shapeSize, shapesEqual } from "./shape.js";
import { Tensor, checkTensor } from "./tensor.js";
import { makeWalker, stridedCopy } from "./kernels/walker.js";
import { laneStarts } from "./kernels/lanes.js";
import { checkLive } from "./memory.js";

/** Integer indices: an `Int32Array`, a plain array, or a tensor holding integer values. */
export type Indices = Int32Array | readonly number[] | Tensor;

/**
 * Validates and normalises indices into an Int32Array (negatives wrapped) for an axis of size `n`.
 * `shape`, when given, is the indexed tensor's shape, shown in the error message.
 *
 * @throws {RangeError} for a non-integer or out-of-range index.
 * @throws {TypeError} when `indices` is not an array, Int32Array or Tensor.
 * @example
 * ```ts
 * toIndexArray("indexSelect", [0, -1], 5); // Int32Array [0, 4]
 * ```
 */
export function toIndexArray(op: string, indices: Indices, n: number, shape?: readonly number[]): Int32Array {
  const src: ArrayLike<number> = indices instanceof Tensor ? indices.toFloat32Array() : indices;
  if (src == null || typeof src.length !== "number") throw new TypeError(`${op}: indices must be an array, an Int32Array or a Tensor (got ${String(indices)})`);
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    if (!Number.isInteger(v) || v < -n || v >= n) throw indexError(op, v, n, shape, `at position ${i} `);
    out[i] = v < 0 ? v + n : v;
  }
  return out;
}

/** The RangeError for index `v` on an axis of size `n`, showing the indexed shape when known. */
function indexError(op: string, v: number, n: number, shape: readonly number[] | undefined, where = ""): RangeError {
  return new RangeError(`${op}: index ${v} ${where}is out of range for an axis of size ${n}${shape ? ` (got ${fmt(shape)})` : ""}`);
}

/** Index `j` read from an index tensor, for axis `axis` of size `n` of `shape`: checked, negatives wrapped. */
function axisIndex(op: string, j: number, n: number, shape: readonly number[], axis: number): number {
  if (!Number.isInteger(j) || j < -n || j >= n) throw indexError(op, j, n, shape, `on axis ${axis} `);
  return j < 0 ? j + n : j;
}

/** Checks that an index tensor of `gather`/`scatterAdd` fits the input: no larger on any axis but `ax`. */
function checkIndexFits(op: string, shape: readonly number[], indexShape: readonly number[], ax: number): void {
  for (let d = 0; d < shape.length; d++) {
    if (d !== ax && indexShape[d]! > shape[d]!) throw new ShapeError(op, `index size ${indexShape[d]} exceeds input size ${shape[d]} on axis ${d}`, [shape, indexShape]);
  }
}

/**
 * Selects entries along `axis` by index (like `torch.index_select`); the output has the axis size
 * replaced by the number of indices. Repeated indices are allowed.
 *
 * @throws {ShapeError} for a bad axis; {RangeError} for a bad index.
 * @example
 * ```ts
 * indexSelect(tensor([[1, 2], [3, 4], [5, 6]]), 0, [2, 0]).toArray(); // [[5, 6], [1, 2]]
 * ```
 */
export function indexSelect(x: Tensor, axis: number, indices: Indices): Tensor {
  checkTensor("indexSelect", "x", x);
  checkLive("indexSelect", x.data);
  const ax = normalizeAxis("indexSelect", axis, x.ndim, x.shape);
  const idx = toIndexArray("indexSelect", indices, x.shape[ax]!, x.shape);
  const shape = x.shape.slice();
  shape[ax] = idx.length;
  const out = new Tensor(new Float32Array(shapeSize(shape)), shape);
  const inner = shape.slice(ax + 1);
  const innerSize = shapeSize(inner);
  const outer = shapeSize(shape.slice(0, ax));
  const outerStrides = x.strides.slice(0, ax);
  const outerShape = x.shape.slice(0, ax);
  const innerStrides = x.strides.slice(ax + 1);
  const o = out.data;
  let oi = 0;
  // For each outer position and each index, copy one inner block.
  const outerStarts = outer === 0 ? new Float64Array(0) : laneStarts([...outerShape, 1], [...outerStrides, 0], x.offset, ax);
  const innerContig = shapesEqual(innerStrides, contiguousStrides(inner));
  for (let p = 0; p < outerStarts.length; p++) {
    for (let j = 0; j < idx.length; j++) {
      const base = outerStarts[p]! + idx[j]! * x.strides[ax]!;
      if (innerContig) {
        if (innerSize === 1) o[oi] = x.data[base]!;
        else o.set(x.data.subarray(base, base + innerSize), oi);
      } else stridedCopy(x.data, inner, innerStrides, base, o, oi);
      oi += innerSize;
    }
  }
  return out;
}

/**
 * Adds `src` into a zero tensor of `shape` at `indices` along `axis` (the adjoint of
 * `indexSelect`; repeated indices accumulate). `src` must have `shape` with the axis size replaced
 * by the number of indices.
 *
 * @throws {ShapeError} for mismatched shapes; {RangeError} for a bad index.
 * @example
 * ```ts
 * indexAdd([3], 0, [0, 0, 2], tensor([1, 2, 3])).toArray(); // [3, 0, 3]
 * ```
 */
export function indexAdd(shape: readonly number[], axis: number, indices: Indices, src: Tensor): Tensor {
  checkLive("indexAdd", src.data);
  checkShape("indexAdd", shape);
  const ax = normalizeAxis("indexAdd", axis, shape.length, shape);
  const idx = toIndexArray("indexAdd", indices, shape[ax]!, shape);
  const expect = shape.slice();
  expect[ax] = idx.length;
  if (!shapesEqual(expect, src.shape)) throw new ShapeError("indexAdd", `src must have shape ${fmt(expect)}`, [src.shape]);
  const out = new Tensor(new Float32Array(shapeSize(shape)), shape);
  const s = src.contiguous().data;
  const so = src.isContiguous ? src.offset : 0;
  const innerSize = shapeSize(shape.slice(ax + 1));
  const outer = shapeSize(shape.slice(0, ax));
  const axisSize = shape[ax]!;
  const o = out.data;
  let si = so;
  for (let p = 0; p < outer; p++) {
    const obase = p * axisSize * innerSize;
    for (let j = 0; j < idx.length; j++) {
      const ob = obase + idx[j]! * innerSize;
      for (let k = 0; k < innerSize; k++) o[ob + k]! += s[si + k]!;
      si += innerSize;
    }
  }
  return out;
}

/**
 * `out[i][j] = x[i][index[i][j]]` along `axis` (like `torch.gather`): `index` has the same rank as
 * `x` and its sizes must not exceed `x`'s on the other axes. Output has the index's shape.
 *
 * @throws {ShapeError} for incompatible shapes; {RangeError} for a bad index.
 * @example
 * ```ts
 * gather(tensor([[1, 2], [3, 4]]), 1, tensor([[1], [0]])).toArray(); // [[2], [3]]
 * ```
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  checkTensor("gather", "x", x);
  checkTensor("gather", "index", index);
  checkLive("gather", x.data);
  checkLive("gather", index.data);
  const ax = normalizeAxis("gather", axis, x.ndim, x.shape);
  if (index.ndim !== x.ndim) throw new ShapeError("gather", "index must have the same rank as the input", [x.shape, index.shape]);
  checkIndexFits("gather", x.shape, index.shape, ax);
  const n = x.shape[ax]!;
  const shape = index.shape.slice();
  const out = new Tensor(new Float32Array(shapeSize(shape)), shape);
  const strides = x.strides.map((s, d) => (d === ax ? 0 : s));
  const w = makeWalker(shape, [strides, index.strides, contiguousStrides(shape)], [x.offset, index.offset, 0]);
  const [sx, si, so] = w.rowStrides as [number, number, number];
  const xd = x.data, id = index.data, o = out.data;
  const sAx = x.strides[ax]!;
  for (let r = 0; r < w.rows; r++) {
    let ix = w.offsets[0]!, ii = w.offsets[1]!, io = w.offsets[2]!;
    for (let k = 0; k < w.n; k++, ix += sx, ii += si, io += so) {
      o[io] = xd[ix + axisIndex("gather", id[ii]!, n, x.shape, axis) * sAx]!;
    }
    w.next();
  }
  return out;
}

/**
 * Adds `src` into a copy of `base` at `index` along `axis` (like `torch.scatter_add`, not in
 * place): `out[i][index[i][j]] += src[i][j]`. The adjoint of {@link gather}.
 *
 * @throws {ShapeError} for incompatible shapes; {RangeError} for a bad index.
 * @example
 * ```ts
 * scatterAdd(zeros([2, 2]), 1, tensor([[1], [0]]), tensor([[5], [6]])).toArray(); // [[0, 5], [6, 0]]
 * ```
 */
export function scatterAdd(base: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  checkTensor("scatterAdd", "base", base);
  checkTensor("scatterAdd", "index", index);
  checkTensor("scatterAdd", "src", src);
  for (const t of [base, index, src]) checkLive("scatterAdd", t.data);
  const ax = normalizeAxis("scatterAdd", axis, base.ndim, base.shape);
  if (index.ndim !== base.ndim || !shapesEqual(index.shape, src.shape)) {
    throw new ShapeError("scatterAdd", "index and src must have the same shape and the input's rank", [base.shape, index.shape, src.shape]);
  }
  checkIndexFits("scatterAdd", base.shape, index.shape, ax);
  const out = base.clone();
  const n = base.shape[ax]!;
  const outStrides = contiguousStrides(base.shape);
  const strides = outStrides.map((s, d) => (d === ax ? 0 : s));
  const w = makeWalker(index.shape, [strides, index.strides, src.strides], [0, index.offset, src.offset]);
  const [so, si, ss] = w.rowStrides as [number, number, number];
  const o = out.data, id = index.data, sd = src.data;
  const sAx = outStrides[ax]!;
  for (let r = 0; r < w.rows; r++) {
    let io = w.offsets[0]!, ii = w.offsets[1]!, is = w.offsets[2]!;
    for (let k = 0; k < w.n; k++, io += so, ii += si, is += ss) {
      o[io + axisIndex("scatterAdd", id[ii]!, n, base.shape, axis) * sAx]! += sd[is]!;
    }
    w.next();
  }
  return out;
}

/**
 * Joins tensors along an existing `axis`; all other sizes must match.
 *
 * @throws {ShapeError} for an empty list, rank mismatch or size mismatch.
 * @example
 * ```ts
 * concat([zeros([2, 3]), ones([4, 3])], 0).shape; // [6, 3]
 * ```
 */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors)) throw new TypeError(`concat: tensors must be an array of Tensors (got ${tensors === null ? "null" : typeof tensors})`);
  if (tensors.length === 0) throw new ShapeError("concat", "needs at least one tensor");
  tensors.forEach((t, i) => checkTensor("concat", `tensors[${i}]`, t));
  for (const t of tensors) checkLive("concat", t.data);
  const first = tensors[0]!;
  if (first.ndim === 0) throw new ShapeError("concat", "cannot concatenate 0-d tensors (use stack)", tensors.map((t) => t.shape));
  const ax = normalizeAxis("concat", axis, first.ndim, first.shape);
  let total = 0;
  for (const t of tensors) {
    if (t.ndim !== first.ndim) throw new ShapeError("concat", "all tensors must have the same rank", tensors.map((x) => x.shape));
    for (let d = 0; d < t.ndim; d++) {
      if (d !== ax && t.shape[d] !== first.shape[d]) throw new ShapeError("concat", `sizes differ on axis ${d}`, tensors.map((x) => x.shape));
    }
    total += t.shape[ax]!;
  }
  const shape = first.shape.slice();
  shape[ax] = total;
  const out = new Tensor(new Float32Array(shapeSize(shape)), shape);
  const outStrides = contiguousStrides(shape);
  let start = 0;
  for (const t of tensors) {
    if (t.size > 0) {
      const w = makeWalker(t.shape, [t.strides, outStrides], [t.offset, start * outStrides[ax]!]);
      const [sx, so] = w.rowStrides as [number, number];
      for (let r = 0; r < w.rows; r++) {
        let ix = w.offsets[0]!, io = w.offsets[1]!;
        for (let k = 0; k < w.n; k++, ix += sx, io += so) out.data[io] = t.data[ix]!;
        w.next();
      }
    }
    start += t.shape[ax]!;
  }
  return out;
}

/**
 * Stacks same-shape tensors along a new axis inserted at `axis` of the output (-1 = new last axis).
 *
 * @throws {ShapeError} for an empty list or differing shapes.
 * @example
 * ```ts
 * stack([zeros([2, 3]), ones([2, 3])], -1).shape; // [2, 3, 2]
 * ```
 */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors)) throw new TypeError(`stack: tensors must be an array of Tensors (got ${tensors === null ? "null" : typeof tensors})`);
  if (tensors.length === 0) throw new ShapeError("stack", "needs at least one tensor");
  tensors.forEach((t, i) => checkTensor("stack", `tensors[${i}]`, t));
  const first = tensors[0]!;
  for (const t of tensors) if (!shapesEqual(t.shape, first.shape)) throw new ShapeError("stack", "all tensors must have the same shape", tensors.map((x) => x.shape));
  const ax = normalizeAxis("stack", axis, first.ndim + 1, first.shape);
  return concat(tensors.map((t) => t.unsqueeze(ax)), ax);
}

/**
 * Splits along `axis` into pieces of the given sizes, or into pieces of `size` (the last may be
 * smaller). Returns views.
 *
 * @throws {ShapeError} when the sizes do not add up to the axis length.
 * @example
 * ```ts
 * split(arange(5), 2).map((t) => t.toArray()); // [[0, 1], [2, 3], [4]]
 * split(arange(5), [1, 4]).map((t) => t.shape[0]); // [1, 4]
 * ```
 */
export function split(x: Tensor, sizeOrSizes: number | readonly number[], axis = 0): Tensor[] {
  checkTensor("split", "x", x);
  const ax = normalizeAxis("split", axis, x.ndim, x.shape);
  const n = x.shape[ax]!;
  let sizes: number[];
  if (typeof sizeOrSizes === "number") {
    if (!Number.isInteger(sizeOrSizes) || sizeOrSizes <= 0) throw new ShapeError("split", `size ${sizeOrSizes} is not a positive integer`, [x.shape]);
    sizes = [];
    for (let s = 0; s < n; s += sizeOrSizes) sizes.push(Math.min(sizeOrSizes, n - s));
    if (n === 0) sizes.push(0);
  } else {
    sizes = Array.from(sizeOrSizes);
    const total = sizes.reduce((a, b) => a + b, 0);
    if (sizes.some((s) => !Number.isInteger(s) || s < 0) || total !== n) throw new ShapeError("split", `sizes ${fmt(sizes)} must be non-negative integers adding up to ${n}`, [x.shape]);
  }
  const out: Tensor[] = [];
  let start = 0;
  for (const s of sizes) {
    out.push(x.narrow(ax, start, s));
    start += s;
  }
  return out;
}

/**
 * Splits into `chunks` nearly equal pieces along `axis` (as `torch.chunk`: pieces of
 * `ceil(n/chunks)`, so fewer pieces may be returned).
 *
 * @throws {ShapeError} for a non-positive chunk count.
 * @example
 * ```ts
 * chunk(arange(6), 3).length; // 3
 * ```
 */
export function chunk(x: Tensor, chunks: number, axis = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0) throw new ShapeError("chunk", `chunk count ${chunks} is not a positive integer`, [x.shape]);
  const ax = normalizeAxis("chunk", axis, x.ndim, x.shape);
  const n = x.shape[ax]!;
  return split(x, Math.max(1, Math.ceil(n / chunks)), ax);
}
