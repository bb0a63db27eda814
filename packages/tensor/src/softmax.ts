/**
 * @file Numerically stable `softmax` and `logSoftmax` along one axis (max-shifted, sums in
 * float64). Finite at logits of ±5000; `-Infinity` entries get probability 0 (log-prob
 * `-Infinity`); a lane that is entirely `-Infinity` gives NaN, as in PyTorch.
 */
import { contiguousStrides, normalizeAxis, shapeSize } from "./shape.js";
import { Tensor } from "./tensor.js";
import { laneStarts } from "./kernels/lanes.js";
import { asTensor, checkOut, type TensorOrScalar } from "./elementwise.js";

function softmaxLike(op: string, log: boolean, input: TensorOrScalar, axis: number, out?: Tensor): Tensor {
  const x = asTensor(input, op);
  const nd = Math.max(x.ndim, 1);
  const xv = x.ndim === 0 ? x.reshape(1) : x;
  const ax = normalizeAxis(op, axis, nd, x.shape);
  let result: Tensor;
  if (out !== undefined) {
    checkOut(op, out, x.shape, [x]);
    result = out;
  } else result = new Tensor(new Float32Array(shapeSize(x.shape)), x.shape);
  const n = xv.shape[ax]!;
  const xs = laneStarts(xv.shape, xv.strides, xv.offset, ax);
  const os = laneStarts(xv.shape, contiguousStrides(xv.shape), result.offset, ax);
  const sx = xv.strides[ax]!;
  const so = contiguousStrides(xv.shape)[ax]!;
  const d = xv.data;
  const o = result.data;
  for (let l = 0; l < xs.length; l++) {
    const x0 = xs[l]!;
    const o0 = os[l]!;
    let m = -Infinity;
    for (let k = 0, i = x0; k < n; k++, i += sx) {
      const v = d[i]!;
      if (v > m || v !== v) m = v;
    }
    let s = 0;
    if (log) {
      for (let k = 0, i = x0; k < n; k++, i += sx) s += Math.exp(d[i]! - m);
      const shift = m + Math.log(s);
      for (let k = 0, i = x0, j = o0; k < n; k++, i += sx, j += so) o[j] = d[i]! - shift;
    } else {
      for (let k = 0, i = x0, j = o0; k < n; k++, i += sx, j += so) {
        const e = Math.exp(d[i]! - m);
        o[j] = e;
        s += e;
      }
      const inv = 1 / s;
      for (let k = 0, j = o0; k < n; k++, j += so) o[j] = o[j]! * inv;
    }
  }
  return result;
}

/**
 * `exp(x) / Σ exp(x)` along `axis` (default last), stable for huge logits.
 *
 * @throws {ShapeError} for a bad axis or `out`.
 * @example
 * ```ts
 * softmax(tensor([1000, 1000])).toArray(); // [0.5, 0.5]
 * ```
 */
export function softmax(x: TensorOrScalar, axis = -1, out?: Tensor): Tensor {
  return softmaxLike("softmax", false, x, axis, out);
}

/**
 * `x - logsumexp(x)` along `axis` (default last), stable for huge logits.
 *
 * @throws {ShapeError} for a bad axis or `out`.
 * @example
 * ```ts
 * logSoftmax(tensor([0, 0])).toArray(); // [-0.6931, -0.6931]
 * ```
 */
export function logSoftmax(x: TensorOrScalar, axis = -1, out?: Tensor): Tensor {
  return softmaxLike("logSoftmax", true, x, axis, out);
}
