/**
 * @file Layout arithmetic behind the `Tensor` view methods (pure functions on shapes and strides,
 * no data access): argument flattening, `-1` inference, Python slice ranges, NumPy's no-copy
 * reshape rule, and the shapes, permutations and ranges of `flatten`, `transpose`, `expand`,
 * `narrow` and `get`.
 */
import { ShapeError, fmt } from "./errors.js";
import { checkShape, contiguousStrides, normalizeAxis, shapeSize, type Shape } from "./shape.js";

/**
 * A short description of a value's kind for error messages.
 *
 * @throws never.
 * @example
 * ```ts
 * describe([1]); // "Array"
 * describe(null); // "null"
 * ```
 */
export function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "object") return (x as object).constructor?.name ?? "object";
  return typeof x;
}

/**
 * Accepts `f(2, 3)` and `f([2, 3])` alike.
 *
 * @throws never.
 * @example
 * ```ts
 * flatArgs([[2, 3]]); // [2, 3]
 * ```
 */
export function flatArgs(args: number[] | [ArrayLike<number>]): number[] {
  if (args.length === 1 && typeof args[0] === "object" && args[0] !== null) return Array.from(args[0] as ArrayLike<number>);
  return args as number[];
}

/**
 * Resolves one -1 in a target shape and checks the element count.
 *
 * @throws {ShapeError} naming `op` for invalid sizes, two -1s, or a count mismatch.
 * @example
 * ```ts
 * inferShape("reshape", [2, -1], 6, [6]); // [2, 3]
 * ```
 */
export function inferShape(op: string, target: number[], size: number, from: Shape): number[] {
  let infer = -1;
  let known = 1;
  for (let i = 0; i < target.length; i++) {
    const d = target[i]!;
    if (d === -1 && infer === -1) infer = i;
    else if (!Number.isInteger(d) || d < 0) throw new ShapeError(op, `invalid target shape ${fmt(target)}`, [from]);
    else known *= d;
  }
  const out = target.slice();
  if (infer >= 0) {
    if (known === 0 || size % known !== 0) throw new ShapeError(op, `cannot infer -1 in ${fmt(target)} for ${size} elements`, [from]);
    out[infer] = size / known;
  } else if (known !== size) {
    throw new ShapeError(op, `cannot reshape ${size} elements into ${fmt(target)}`, [from]);
  }
  return out;
}

/**
 * First index and length of the Python slice `start:end:step` on an axis of size `n`
 * (negative bounds count from the end; out-of-range bounds are clamped). `step` must be a
 * non-zero integer.
 *
 * @throws never (it does not check `step`: the caller does, as `Tensor.slice` does).
 * @example
 * ```ts
 * sliceRange(10, null, null, -3); // [9, 4]: indices 9, 6, 3, 0
 * ```
 */
export function sliceRange(n: number, start: number | null | undefined, end: number | null | undefined, step: number): [number, number] {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
  let s: number, e: number;
  if (step > 0) {
    s = start == null ? 0 : clamp(start, 0, n);
    e = end == null ? n : clamp(end, 0, n);
  } else {
    s = start == null ? n - 1 : clamp(start, -1, n - 1);
    e = end == null ? -1 : end < -n ? -1 : clamp(end, -1, n - 1);
  }
  const len = step > 0 ? Math.max(0, Math.ceil((e - s) / step)) : Math.max(0, Math.ceil((s - e) / -step));
  return [s, len];
}

/**
 * Strides that present a strided tensor in a new shape without copying, or null when impossible
 * (NumPy's "attempt no-copy reshape": each group of old dims that maps to a group of new dims must
 * be contiguous within itself). The sizes must multiply to the same count.
 *
 * @throws never. The element counts are not checked: with counts that differ it does not return
 * (the size-matching loop never ends), so callers validate first, as `reshape` does with
 * {@link inferShape}.
 * @example
 * ```ts
 * viewStrides([4, 2, 3], [1, 12, 4], [4, 6]); // [1, 4]
 * viewStrides([3, 2], [1, 3], [6]); // null (a transposed matrix cannot be flattened in place)
 * ```
 */
export function viewStrides(oldShape: Shape, oldStrides: readonly number[], newShape: readonly number[]): number[] | null {
  const os: number[] = [];
  const ost: number[] = [];
  for (let i = 0; i < oldShape.length; i++) {
    if (oldShape[i] !== 1) {
      os.push(oldShape[i]!);
      ost.push(oldStrides[i]!);
    }
  }
  if (shapeSize(newShape) === 0) return contiguousStrides(newShape);
  const nst = new Array<number>(newShape.length).fill(0);
  let oi = 0, ni = 0;
  while (ni < newShape.length && oi < os.length) {
    let np = newShape[ni]!, op = os[oi]!;
    let oj = oi + 1, nj = ni + 1;
    while (np !== op) {
      if (np < op) np *= newShape[nj++]!;
      else op *= os[oj++]!;
    }
    for (let k = oi; k < oj - 1; k++) if (ost[k] !== ost[k + 1]! * os[k + 1]!) return null;
    nst[nj - 1] = ost[oj - 1]!;
    for (let k = nj - 1; k > ni; k--) nst[k - 1] = nst[k]! * newShape[k]!;
    ni = nj;
    oi = oj;
  }
  for (let k = ni; k < newShape.length; k++) nst[k] = 1; // trailing size-1 dims
  for (let k = 0; k < newShape.length; k++) if (newShape[k] === 1 && k < ni && nst[k] === 0) nst[k] = 1;
  return nst;
}

/**
 * Validates a tensor layout: sizes are non-negative integers, strides integers of the same rank,
 * the offset a non-negative integer, and every addressable element inside `data`. Returns the
 * normalised shape and strides, the element count and whether the layout is row-major contiguous.
 *
 * @throws {TypeError} when `data` is not a Float32Array; {ShapeError} for any invalid part.
 * @example
 * ```ts
 * checkLayout(new Float32Array(6), [3, 2], [1, 3], 0).isContiguous; // false (a transposed view)
 * ```
 */
export function checkLayout(data: Float32Array, shape: ArrayLike<number>, strides: ArrayLike<number> | undefined, offset: number): { shape: number[]; strides: number[]; size: number; isContiguous: boolean } {
  if (!(data instanceof Float32Array)) throw new TypeError(`Tensor: data must be a Float32Array (got ${describe(data)})`);
  const sh = checkShape("Tensor", shape);
  const st = strides === undefined ? contiguousStrides(sh) : Array.from(strides);
  if (st.length !== sh.length) throw new ShapeError("Tensor", `strides ${fmt(st)} do not match the shape's rank`, [sh]);
  if (!Number.isInteger(offset) || offset < 0) throw new ShapeError("Tensor", `offset ${offset} is not a non-negative integer`, [sh]);
  let size = 1;
  let lo = offset;
  let hi = offset;
  for (let i = 0; i < sh.length; i++) {
    const d = sh[i]!;
    const s = st[i]!;
    if (!Number.isInteger(s)) throw new ShapeError("Tensor", `strides ${fmt(st)} must be integers`, [sh]);
    size *= d;
    if (d > 0) {
      if (s > 0) hi += (d - 1) * s;
      else lo += (d - 1) * s;
    }
  }
  if (size > 0 && (lo < 0 || hi >= data.length)) {
    throw new ShapeError("Tensor", `layout (strides ${fmt(st)}, offset ${offset}) reaches outside data of length ${data.length}`, [sh]);
  }
  let isContiguous = true;
  let expect = 1;
  for (let i = sh.length - 1; i >= 0; i--) {
    if (sh[i] !== 1 && st[i] !== expect) isContiguous = false;
    expect *= sh[i]!;
  }
  return { shape: sh, strides: st, size, isContiguous };
}

/** A view's layout: sizes, strides and offset into the same data. */
export interface Layout {
  readonly shape: number[];
  readonly strides: number[];
  readonly offset: number;
}

/**
 * The layout of `permute(dims)`: output dimension `i` is input dimension `dims[i]`.
 *
 * @throws {ShapeError} when `dims` is not a permutation of the axes.
 * @example
 * ```ts
 * permuteLayout([2, 3], [3, 1], 0, [1, 0]); // { shape: [3, 2], strides: [1, 3], offset: 0 }
 * ```
 */
export function permuteLayout(shape: Shape, strides: readonly number[], offset: number, dims: readonly number[]): Layout {
  const n = shape.length;
  if (dims.length !== n) throw new ShapeError("permute", `dims ${fmt(dims)} must name each of the ${n} axes once`, [shape]);
  const seen = new Array<boolean>(n).fill(false);
  const out: Layout = { shape: new Array<number>(n), strides: new Array<number>(n), offset };
  for (let i = 0; i < n; i++) {
    const ax = normalizeAxis("permute", dims[i]!, n, shape);
    if (seen[ax]) throw new ShapeError("permute", `dims ${fmt(dims)} repeat axis ${dims[i]}`, [shape]);
    seen[ax] = true;
    out.shape[i] = shape[ax]!;
    out.strides[i] = strides[ax]!;
  }
  return out;
}

/**
 * The layout of `slice(axis, start, end, step)` (Python's rules, see {@link sliceRange}).
 *
 * @throws {ShapeError} when `step` is 0 or a bound is not an integer.
 * @example
 * ```ts
 * sliceLayout([10], [1], 0, 0, 2, 8, 3); // { shape: [2], strides: [3], offset: 2 }
 * ```
 */
export function sliceLayout(shape: Shape, strides: readonly number[], offset: number, axis: number, start: number | null | undefined, end: number | null | undefined, step: number): Layout {
  const ax = normalizeAxis("slice", axis, shape.length, shape);
  if (!Number.isInteger(step) || step === 0) throw new ShapeError("slice", `step ${step} is not a non-zero integer`, [shape]);
  for (const b of [start, end]) {
    if (b !== undefined && b !== null && !Number.isInteger(b)) throw new ShapeError("slice", `bound ${b} is not an integer`, [shape]);
  }
  const [s, len] = sliceRange(shape[ax]!, start, end, step);
  const out: Layout = { shape: shape.slice(), strides: strides.slice(), offset: len > 0 ? offset + s * strides[ax]! : offset };
  out.shape[ax] = len;
  out.strides[ax] = strides[ax]! * step;
  return out;
}

/**
 * The layout of `select(axis, index)`: the sub-tensor at `index`, that axis removed.
 *
 * @throws {ShapeError} when the index is out of range.
 * @example
 * ```ts
 * selectLayout([2, 3], [3, 1], 0, 0, 1); // { shape: [3], strides: [1], offset: 3 }
 * ```
 */
export function selectLayout(shape: Shape, strides: readonly number[], offset: number, axis: number, index: number): Layout {
  const ax = normalizeAxis("select", axis, shape.length, shape);
  const n = shape[ax]!;
  if (!Number.isInteger(index) || index < -n || index >= n) throw new ShapeError("select", `index ${index} is out of range for axis ${axis} of size ${n}`, [shape]);
  const i = index < 0 ? index + n : index;
  return { shape: shape.filter((_, k) => k !== ax), strides: strides.filter((_, k) => k !== ax), offset: offset + i * strides[ax]! };
}

/**
 * The layout of `squeeze(axes)`: size-1 dimensions removed (all, or the given ones).
 *
 * @throws {ShapeError} when a named axis does not have size 1.
 * @example
 * ```ts
 * squeezeLayout([1, 3, 1], [3, 1, 1], 0, []); // { shape: [3], strides: [1], offset: 0 }
 * ```
 */
export function squeezeLayout(shape: Shape, strides: readonly number[], offset: number, axes: readonly number[]): Layout {
  const list = axes.map((a) => normalizeAxis("squeeze", a, shape.length, shape));
  for (const a of list) if (shape[a] !== 1) throw new ShapeError("squeeze", `axis ${a} has size ${shape[a]}, not 1`, [shape]);
  const keep = shape.map((_, k) => k).filter((k) => !(list.length === 0 ? shape[k] === 1 : list.includes(k)));
  return { shape: keep.map((k) => shape[k]!), strides: keep.map((k) => strides[k]!), offset };
}

/**
 * The layout of `unsqueeze(axis)`: a size-1 dimension inserted at `axis` (in `[-ndim-1, ndim]`).
 *
 * @throws {ShapeError} for an out-of-range axis.
 * @example
 * ```ts
 * unsqueezeLayout([3], [1], 0, 0); // { shape: [1, 3], strides: [3, 1], offset: 0 }
 * ```
 */
export function unsqueezeLayout(shape: Shape, strides: readonly number[], offset: number, axis: number): Layout {
  const ax = normalizeAxis("unsqueeze", axis, shape.length + 1, shape);
  const out: Layout = { shape: shape.slice(), strides: strides.slice(), offset };
  out.shape.splice(ax, 0, 1);
  out.strides.splice(ax, 0, ax < shape.length ? strides[ax]! * shape[ax]! : 1);
  return out;
}

/**
 * The stride-0 layout of a view broadcast to `target` (NumPy rules); errors name `op`.
 *
 * @throws {ShapeError} when `shape` does not broadcast to `target`.
 * @example
 * ```ts
 * broadcastLayout("broadcastTo", [2], [1], 0, [3, 2]); // { shape: [3, 2], strides: [0, 1], offset: 0 }
 * ```
 */
export function broadcastLayout(op: string, shape: Shape, strides: readonly number[], offset: number, target: ArrayLike<number>): Layout {
  const t = checkShape(op, target);
  const lead = t.length - shape.length;
  if (lead < 0) throw new ShapeError(op, "cannot broadcast to fewer dimensions", [shape, t]);
  const out: Layout = { shape: t.slice(), strides: new Array<number>(t.length).fill(0), offset };
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === t[lead + i]) out.strides[lead + i] = strides[i]!;
    else if (d !== 1) throw new ShapeError(op, `cannot broadcast axis ${i} of size ${d} to ${t[lead + i]}`, [shape, t]);
  }
  return out;
}

/**
 * The shape of `flatten(startDim, endDim)`: dimensions `startDim..endDim` (inclusive, negative
 * allowed) collapsed into one; a 0-d shape flattens to `[1]`.
 *
 * @throws {ShapeError} for out-of-range dimensions or `startDim` after `endDim`.
 * @example
 * ```ts
 * flattenShape([2, 3, 4], 1, -1); // [2, 12]
 * ```
 */
export function flattenShape(shape: Shape, startDim: number, endDim: number): number[] {
  if (shape.length === 0) return [1];
  const s = normalizeAxis("flatten", startDim, shape.length, shape);
  const e = normalizeAxis("flatten", endDim, shape.length, shape);
  if (s > e) throw new ShapeError("flatten", `startDim ${startDim} comes after endDim ${endDim}`, [shape]);
  const mid = shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
  return [...shape.slice(0, s), mid, ...shape.slice(e + 1)];
}

/**
 * The permutation of `transpose(dim0, dim1)`, or null for a 0-d shape (PyTorch's rule: it has one
 * implicit axis, named 0 or -1, and transposes to itself).
 *
 * @throws {ShapeError} for out-of-range dimensions.
 * @example
 * ```ts
 * transposePerm([2, 3, 4], 0, -1); // [2, 1, 0]
 * ```
 */
export function transposePerm(shape: Shape, dim0: number, dim1: number): number[] | null {
  const n = Math.max(shape.length, 1);
  const a = normalizeAxis("transpose", dim0, n, shape);
  const b = normalizeAxis("transpose", dim1, n, shape);
  if (shape.length === 0) return null;
  const perm = Array.from({ length: n }, (_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return perm;
}

/**
 * The target shape of `expand(sizes)`: `-1` keeps the size of the matching trailing dimension.
 *
 * @throws never (`broadcastLayout` checks the result).
 * @example
 * ```ts
 * expandTarget([3, 1], [2, -1, 4]); // [2, 3, 4]
 * ```
 */
export function expandTarget(shape: Shape, sizes: readonly number[]): number[] {
  const lead = sizes.length - shape.length;
  return sizes.map((d, i) => (d === -1 && i >= lead ? shape[i - lead]! : d));
}

/**
 * `[axis, start]` of `narrow(dim, start, length)` with `dim` normalised and a negative `start`
 * counted from the end.
 *
 * @throws {ShapeError} when the range does not fit in the dimension.
 * @example
 * ```ts
 * narrowRange([4, 6], -1, -3, 3); // [1, 3]
 * ```
 */
export function narrowRange(shape: Shape, dim: number, start: number, length: number): [number, number] {
  const ax = normalizeAxis("narrow", dim, shape.length, shape);
  const n = shape[ax]!;
  const s = Number.isInteger(start) && start < 0 ? start + n : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > n) {
    throw new ShapeError("narrow", `start ${start} and length ${length} do not fit axis ${dim} of size ${n}`, [shape]);
  }
  return [ax, s];
}

/**
 * The position in `data` of the element at a full `index` (negative indices count from the end).
 *
 * @throws {ShapeError} when the index has the wrong length or is out of range.
 * @example
 * ```ts
 * elementIndex([2, 2], [2, 1], 0, [1, -1]); // 3
 * ```
 */
export function elementIndex(shape: Shape, strides: readonly number[], offset: number, index: readonly number[]): number {
  if (index.length !== shape.length) throw new ShapeError("get", `${index.length} indices given for ${shape.length} dimensions`, [shape]);
  let at = offset;
  for (let i = 0; i < index.length; i++) {
    const d = shape[i]!;
    let k = index[i]!;
    if (!Number.isInteger(k) || k < -d || k >= d) throw new ShapeError("get", `index ${k} is out of range for axis ${i} of size ${d}`, [shape]);
    if (k < 0) k += d;
    at += k * strides[i]!;
  }
  return at;
}
