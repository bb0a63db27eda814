/**
 * @file `matmul` with NumPy/PyTorch semantics: 2-D·2-D, 1-D operands promoted (vector·matrix,
 * matrix·vector, vector·vector → 0-d) and N-D batches of matrices over the last two axes with
 * broadcast batch dimensions. Operands are passed to the GEMM kernel through their strides, so
 * transposed views (`x.mT`) are never copied.
 */
import { ShapeError } from "./errors.js";
import { broadcastShapes, contiguousStrides, shapeSize } from "./shape.js";
import { Tensor } from "./tensor.js";
import { broadcastStrides, makeWalker } from "./kernels/walker.js";
import { kernels } from "./backend.js";
import { checkOut } from "./elementwise.js";
import { checkLive } from "./memory.js";

/**
 * Matrix product of `a` and `b` (see the file comment for the accepted shapes).
 *
 * @throws {ShapeError} for 0-d operands, mismatched inner dimensions or batch dims that do not
 * broadcast, e.g. `matmul: inner dimensions differ (got [2,3] and [4,5])`; for an `out` of the
 * wrong shape, non-contiguous, or sharing storage with an operand.
 * @throws {TypeError} when an argument is not a Tensor.
 * @example
 * ```ts
 * matmul(ones([2, 3]), ones([3, 4])).shape; // [2, 4]
 * matmul(ones([5, 2, 3]), ones([3, 4])).shape; // [5, 2, 4]
 * matmul(ones([3]), ones([3])).item(); // 3
 * ```
 */
export function matmul(a: Tensor, b: Tensor, out?: Tensor): Tensor {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) throw new TypeError("matmul: both arguments must be Tensors");
  checkLive("matmul", a.data);
  checkLive("matmul", b.data);
  if (a.ndim === 0 || b.ndim === 0) throw new ShapeError("matmul", "both arguments need at least 1 dimension", [a.shape, b.shape]);
  const a2 = a.ndim === 1 ? a.unsqueeze(0) : a;
  const b2 = b.ndim === 1 ? b.unsqueeze(1) : b;
  const m = a2.shape[a2.ndim - 2]!;
  const k = a2.shape[a2.ndim - 1]!;
  const n = b2.shape[b2.ndim - 1]!;
  if (b2.shape[b2.ndim - 2] !== k) throw new ShapeError("matmul", "inner dimensions differ", [a.shape, b.shape]);
  const aBatch = a2.shape.slice(0, -2);
  const bBatch = b2.shape.slice(0, -2);
  const batch = broadcastBatch(aBatch, bBatch, a.shape, b.shape);
  const fullShape = [...batch, m, n];
  const shape = fullShape.filter((_, i) => !((a.ndim === 1 && i === fullShape.length - 2) || (b.ndim === 1 && i === fullShape.length - 1)));
  let result: Tensor;
  if (out !== undefined) {
    checkOut("matmul", out, shape, []);
    if (out.data === a.data || out.data === b.data) throw new ShapeError("matmul", "out must not share storage with an operand", [out.shape]);
    result = out;
  } else result = new Tensor(new Float32Array(shapeSize(shape)), shape);
  if (result.size === 0 && k > 0) return result;
  const ars = a2.strides[a2.ndim - 2]!, acs = a2.strides[a2.ndim - 1]!;
  const brs = b2.strides[b2.ndim - 2]!, bcs = b2.strides[b2.ndim - 1]!;
  const gemm = kernels().gemm;
  const o = result.data;
  if (batch.length === 0) {
    gemm(m, n, k, a2.data, a2.offset, ars, acs, b2.data, b2.offset, brs, bcs, o, result.offset, n, false);
    return result;
  }
  const nb = shapeSize(batch);
  if (nb === 0) return result;
  const w = makeWalker(
    batch,
    [broadcastStrides(aBatch, a2.strides.slice(0, -2), batch), broadcastStrides(bBatch, b2.strides.slice(0, -2), batch), contiguousStrides(batch).map((s) => s * m * n)],
    [a2.offset, b2.offset, result.offset],
  );
  const [sa, sb, so] = w.rowStrides as [number, number, number];
  for (let r = 0; r < w.rows; r++) {
    let ia = w.offsets[0]!, ib = w.offsets[1]!, io = w.offsets[2]!;
    for (let e = 0; e < w.n; e++, ia += sa, ib += sb, io += so) gemm(m, n, k, a2.data, ia, ars, acs, b2.data, ib, brs, bcs, o, io, n, false);
    w.next();
  }
  return result;
}

/** Broadcast batch dims; the error shows the full operand shapes (the batch dims alone confuse). */
function broadcastBatch(aBatch: readonly number[], bBatch: readonly number[], aShape: readonly number[], bShape: readonly number[]): number[] {
  try {
    return broadcastShapes("matmul", aBatch, bBatch);
  } catch (e) {
    if (!(e instanceof ShapeError)) throw e;
    throw new ShapeError("matmul", "batch dimensions cannot be broadcast together", [aShape, bShape]);
  }
}
