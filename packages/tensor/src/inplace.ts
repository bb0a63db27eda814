/**
 * @file `addInto`: accumulate into an existing tensor (or a view of one) in place. Used by
 * autograd to add sparse gradient contributions (slices, selections) into a gradient buffer
 * without materialising full-size zero tensors.
 */
import { ShapeError } from "./errors.js";
import { broadcastShapes, shapesEqual } from "./shape.js";
import { Tensor } from "./tensor.js";
import { runMap } from "./kernels/map-layout.js";
import { BINARY_KERNELS, BinOp } from "./map/elementwise-defs.js";
import { checkLive } from "./memory.js";
import { asTensor, type TensorOrScalar } from "./elementwise.js";

/**
 * `out += src` through `out`'s strides (`src` broadcast to `out`'s shape). `out` may be any
 * non-broadcast view, e.g. a slice of a gradient buffer; its storage is mutated. Returns `out`.
 *
 * @throws {ShapeError} when `src` does not broadcast to `out`, or `out` has stride-0 dimensions.
 * @example
 * ```ts
 * const g = zeros([4, 3]);
 * addInto(tensor([1, 2, 3]), g.select(0, 2)); // g[2] += [1, 2, 3]
 * ```
 */
export function addInto(src: TensorOrScalar, out: Tensor): Tensor {
  if (!(out instanceof Tensor)) throw new TypeError("addInto: out must be a Tensor");
  checkLive("addInto", out.data);
  const s = asTensor(src, "addInto");
  const b = broadcastShapes("addInto", s.shape, out.shape);
  if (!shapesEqual(b, out.shape)) throw new ShapeError("addInto", "src does not broadcast to the shape of out", [s.shape, out.shape]);
  let x = s.broadcastTo(out.shape);
  for (let i = 0; i < out.ndim; i++) {
    if (out.strides[i] === 0 && out.shape[i]! > 1) throw new ShapeError("addInto", "out must not have broadcast (stride 0) dimensions", [out.shape]);
  }
  if (x.data === out.data) x = new Tensor(x.toFloat32Array(), x.shape); // source overlaps the destination
  const o = { data: out.data, offset: out.offset, strides: out.strides };
  runMap(BINARY_KERNELS[BinOp.ADD], out.shape, [o, o, { data: x.data, offset: x.offset, strides: x.strides }], NO_PARAMS);
  return out;
}

const NO_PARAMS: readonly number[] = [0, 0];
