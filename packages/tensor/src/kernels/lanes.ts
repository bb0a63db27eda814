/**
 * @file Lane addressing for single-axis ops (softmax, argmax, cumsum, ...): a "lane" is the 1-d
 * run of elements along one axis at a fixed position of all other axes.
 */
import { makeWalker } from "./walker.js";

/**
 * Start offsets of every lane along `axis` of a layout, in row-major order of the other axes.
 *
 * @throws never.
 * @example
 * ```ts
 * laneStarts([2, 3], [3, 1], 0, 1); // Float64Array [0, 3]: two rows of a contiguous [2,3]
 * ```
 */
export function laneStarts(shape: readonly number[], strides: readonly number[], offset: number, axis: number): Float64Array {
  const outerShape = shape.filter((_, i) => i !== axis);
  const outerStrides = strides.filter((_, i) => i !== axis);
  let lanes = 1;
  for (const d of outerShape) lanes *= d;
  const starts = new Float64Array(lanes);
  if (lanes === 0) return starts;
  const w = makeWalker(outerShape, [outerStrides], [offset]);
  const s = w.rowStrides[0]!;
  let k = 0;
  for (let r = 0; r < w.rows; r++) {
    let o = w.offsets[0]!;
    for (let e = 0; e < w.n; e++, o += s) starts[k++] = o;
    w.next();
  }
  return starts;
}
