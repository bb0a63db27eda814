/**
 * @file Shape arithmetic: sizes, row-major strides, NumPy broadcasting and axis normalisation.
 * Shapes are plain `readonly number[]` of non-negative integers; a 0-d tensor has shape `[]`.
 */
import { ShapeError } from "./errors.js";

/** A tensor shape: non-negative integer sizes, outermost first. */
export type Shape = readonly number[];

/**
 * Number of elements of a shape (1 for the 0-d shape `[]`).
 *
 * @throws {TypeError} for a shape that is not array-like; {RangeError} for a negative or NaN size.
 * @example
 * ```ts
 * shapeSize([2, 3]); // 6
 * shapeSize([]); // 1
 * ```
 */
export function shapeSize(shape: Shape): number {
  if (shape == null || typeof shape.length !== "number") throw new TypeError(`shapeSize: shape must be an array of sizes (got ${String(shape)})`);
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (!(d >= 0)) throw new RangeError(`shapeSize: sizes must be non-negative (got ${d} at ${i})`);
    n *= d;
  }
  return n;
}

/**
 * Row-major (C order) strides of a shape, in elements.
 *
 * @throws {TypeError} for a shape that is not an array.
 * @example
 * ```ts
 * contiguousStrides([2, 3, 4]); // [12, 4, 1]
 * ```
 */
export function contiguousStrides(shape: Shape): number[] {
  if (!Array.isArray(shape) && !ArrayBuffer.isView(shape)) throw new TypeError(`contiguousStrides: shape must be an array of sizes (got ${typeof shape})`);
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/**
 * Validates a user-given shape: every entry a finite non-negative integer.
 *
 * @throws {ShapeError} naming `op` for NaN, negative, fractional or infinite sizes.
 * @example
 * ```ts
 * checkShape("zeros", [2, 3]); // returns [2, 3]
 * checkShape("zeros", [2, -1]); // throws "zeros: sizes must be non-negative integers (got [2,-1])"
 * ```
 */
export function checkShape(op: string, shape: ArrayLike<number>): number[] {
  if (shape == null || typeof shape.length !== "number") {
    throw new TypeError(`${op}: shape must be an array of sizes (got ${String(shape)})`);
  }
  const out = Array.from(shape);
  for (const d of out) {
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0) {
      throw new ShapeError(op, "sizes must be non-negative integers", [out]);
    }
  }
  return out;
}

/**
 * True when two shapes are equal element by element.
 *
 * @throws {TypeError} when a shape is null or undefined.
 * @example
 * ```ts
 * shapesEqual([2, 3], [2, 3]); // true
 * ```
 */
export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a == null || b == null) throw new TypeError(`shapesEqual: both shapes must be arrays (got ${String(a)} and ${String(b)})`);
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The NumPy broadcast of several shapes: align on the right; each dimension pair must be equal
 * or contain a 1.
 *
 * @throws {ShapeError} naming `op` when the shapes do not broadcast.
 * @example
 * ```ts
 * broadcastShapes("add", [3, 1, 4], [2, 4]); // [3, 2, 4]
 * ```
 */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  let nd = 0;
  for (const s of shapes) if (s.length > nd) nd = s.length;
  const out = new Array<number>(nd).fill(1);
  for (const s of shapes) {
    const lead = nd - s.length;
    for (let i = 0; i < s.length; i++) {
      const d = s[i]!;
      const o = out[lead + i]!;
      if (d === o || d === 1) continue;
      if (o === 1) out[lead + i] = d;
      else throw new ShapeError(op, "shapes cannot be broadcast together", shapes);
    }
  }
  return out;
}

/**
 * Maps a possibly negative axis into `[0, ndim)`.
 *
 * @throws {ShapeError} when the axis is not an integer or is out of range.
 * @example
 * ```ts
 * normalizeAxis("sum", -1, 3); // 2
 * ```
 */
export function normalizeAxis(op: string, axis: number, ndim: number, shape?: Shape): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    const range = ndim === 0 ? "a 0-d tensor has no axes" : `expected an integer in [${-ndim}, ${ndim - 1}]`;
    throw new ShapeError(op, `axis ${axis} is out of range: ${range}`, shape ? [shape] : []);
  }
  return axis < 0 ? axis + ndim : axis;
}

/**
 * Normalises an axis spec for reductions: `undefined`/`null` means all axes; a number or list of
 * numbers (negative allowed) becomes a sorted list of distinct axes.
 *
 * @throws {ShapeError} for out-of-range or repeated axes.
 * @example
 * ```ts
 * normalizeAxes("sum", [-1, 0], 3); // [0, 2]
 * ```
 */
export function normalizeAxes(
  op: string,
  axes: number | readonly number[] | null | undefined,
  ndim: number,
  shape?: Shape,
): number[] {
  if (axes === undefined || axes === null) {
    const all = new Array<number>(ndim);
    for (let i = 0; i < ndim; i++) all[i] = i;
    return all;
  }
  const list = typeof axes === "number" ? [axes] : Array.from(axes);
  const seen = new Array<boolean>(ndim).fill(false);
  const out: number[] = [];
  for (const a of list) {
    const ax = normalizeAxis(op, a, ndim, shape);
    if (seen[ax]) throw new ShapeError(op, `axis ${a} is repeated in ${JSON.stringify(list)}`, shape ? [shape] : []);
    seen[ax] = true;
    out.push(ax);
  }
  return out.sort((x, y) => x - y);
}
