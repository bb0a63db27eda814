/**
 * @file Layout arithmetic behind the `Tensor` view methods (pure functions on shapes and strides,
 * no data access): argument flattening, `-1` inference, Python slice ranges, and NumPy's no-copy
 * reshape rule.
 */
import { ShapeError, fmt } from "./errors.js";
import { checkShape, contiguousStrides, shapeSize, type Shape } from "./shape.js";

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
