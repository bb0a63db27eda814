/**
 * @file `linear` (`y = x·Wᵀ + b`, PyTorch's `F.linear` layout: `W` is `[out, in]`, `b` is
 * `[out]`) in one GEMM call, and for its backward pass `linearWeightGrad` (`dyᵀ·x` summed over
 * every batch row) and `linearBiasGrad` (`Σ_rows dy`).
 *
 * All leading dimensions of `x` are treated as one batch of rows (`[..., in]` → `M × in`), so an
 * N-D input costs one GEMM, not one per batch element. `Wᵀ` is read through W's strides (no
 * copy). With a bias, the output is first filled with copies of `b` (doubling `copyWithin`
 * copies: log₂M memcpys) and the GEMM accumulates onto it, so the bias costs no separate
 * elementwise pass; in float64-accumulating kernels the sum is then rounded once.
 */
import { ShapeError } from "./errors.js";
import { shapeSize } from "./shape.js";
import { Tensor } from "./tensor.js";
import { kernels } from "./backend.js";
import { checkOut } from "./elementwise.js";
import { sum } from "./reduce.js";
import { checkLive } from "./memory.js";
import { UNARY_KERNELS, UnOp } from "./map/elementwise-defs.js";

/**
 * `x` viewed as `rows × cols` (all leading dimensions merged); a view whenever the layout
 * allows it, else a contiguous copy. `rows` is given explicitly so that `cols = 0` works.
 */
function asRows(x: Tensor, rows: number, cols: number): Tensor {
  if (x.ndim === 2) return x;
  return x.reshape(rows, cols);
}

/** Activations {@link linear} can apply in the GEMM's epilogue. */
export type LinearActivation = "none" | "relu";

/**
 * `x · Wᵀ + b` for `x` of shape `[..., in]`, `weight` `[out, in]` and an optional `bias` `[out]`;
 * the result has shape `[..., out]` (a 1-D `x` gives `[out]`). With `activation: "relu"` the
 * result is `relu(x · Wᵀ + b)`, applied by the GEMM to its output while that is in cache (the
 * same values as `relu(linear(x, W, b))`).
 *
 * @throws {ShapeError} for a 0-d `x`, a `weight` that is not 2-D, `x`'s last dimension differing
 * from `in`, a `bias` that is not `[out]`, or an unsuitable `out` (wrong shape, non-contiguous,
 * or sharing storage with an operand).
 * @throws {TypeError} when an argument is not a Tensor, or for an unknown activation.
 * @example
 * ```ts
 * const y = linear(randn([128, 784]), randn([256, 784]), zeros([256])); // [128, 256]
 * linear(ones([2, 5, 3]), ones([4, 3])).shape; // [2, 5, 4]
 * const h = linear(x, w, b, undefined, "relu"); // one fused op: relu(x·Wᵀ + b)
 * ```
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null, out?: Tensor, activation: LinearActivation = "none"): Tensor {
  if (activation !== "none" && activation !== "relu") throw new TypeError(`linear: activation must be "none" or "relu" (got ${String(activation)})`);
  if (!(x instanceof Tensor) || !(weight instanceof Tensor) || (bias != null && !(bias instanceof Tensor))) {
    throw new TypeError("linear: x, weight and bias must be Tensors");
  }
  for (const t of [x, weight, bias]) if (t != null) checkLive("linear", t.data);
  if (x.ndim === 0) throw new ShapeError("linear", "x needs at least 1 dimension", [x.shape, weight.shape]);
  if (weight.ndim !== 2) throw new ShapeError("linear", "weight must be 2-D [out, in]", [x.shape, weight.shape]);
  const [nOut, nIn] = weight.shape as [number, number];
  if (x.shape[x.ndim - 1] !== nIn) throw new ShapeError("linear", "the last dimension of x differs from weight's in", [x.shape, weight.shape]);
  if (bias != null && (bias.ndim !== 1 || bias.shape[0] !== nOut)) throw new ShapeError("linear", "bias must be 1-D [out]", [bias.shape, weight.shape]);
  const shape = [...x.shape.slice(0, -1), nOut];
  const m = shapeSize(x.shape.slice(0, -1));
  let y: Tensor;
  if (out !== undefined) {
    checkOut("linear", out, shape, []);
    for (const t of [x, weight, bias]) {
      if (t != null && t.data === out.data) throw new ShapeError("linear", "out must not share storage with an operand", [out.shape]);
    }
    y = out;
  } else y = new Tensor(new Float32Array(m * nOut), shape);
  if (m === 0 || nOut === 0) return y;
  const epilogue = activation === "relu" ? UNARY_KERNELS[UnOp.RELU] : null;
  const o = y.data, at = y.offset, len = m * nOut;
  if (bias != null) {
    // Row 0 gets b, then the filled prefix is copied onto the rest, doubling each time.
    const b = bias.isContiguous ? bias.data.subarray(bias.offset, bias.offset + nOut) : bias.toFloat32Array();
    o.set(b, at);
    for (let filled = nOut; filled < len; filled *= 2) o.copyWithin(at + filled, at, at + Math.min(filled, len - filled));
  }
  const a = asRows(x, m, nIn);
  kernels().gemm(m, nOut, nIn, a.data, a.offset, a.strides[0]!, a.strides[1]!, weight.data, weight.offset, weight.strides[1]!, weight.strides[0]!, o, at, nOut, bias != null, epilogue);
  return y;
}

/**
 * The weight gradient of {@link linear}: `dW = Σ_rows dyᵀ·x`, i.e. `dyᵀ·x` with all leading
 * dimensions of `dy` (`[..., out]`) and `x` (`[..., in]`) merged into one batch of rows, as one
 * GEMM straight into a contiguous `[out, in]` tensor (both operands are read through strides).
 * With `out` (e.g. a gradient buffer in long-lived storage), the GEMM overwrites `out` in place
 * and returns it; the values are the same as without.
 *
 * @throws {ShapeError} when the leading dimensions of `dy` and `x` differ, or either is 0-d; for
 * an `out` that is not a contiguous `[out, in]` tensor or shares storage with `dy` or `x`.
 * @throws {TypeError} when an argument is not a Tensor.
 * @example
 * ```ts
 * linearWeightGrad(ones([8, 4]), ones([8, 3])).toArray(); // [[8, 8, 8], ×4]
 * linearWeightGrad(dy, x, zeros([4, 3], { persistent: true })); // written in place
 * ```
 */
export function linearWeightGrad(dy: Tensor, x: Tensor, out?: Tensor): Tensor {
  if (!(dy instanceof Tensor) || !(x instanceof Tensor)) throw new TypeError("linearWeightGrad: dy and x must be Tensors");
  const lead = x.ndim - 1;
  let ok = x.ndim >= 1 && dy.ndim === x.ndim;
  for (let i = 0; ok && i < lead; i++) ok = dy.shape[i] === x.shape[i];
  if (!ok) throw new ShapeError("linearWeightGrad", "dy and x must have the same leading dimensions", [dy.shape, x.shape]);
  const nOut = dy.shape[lead]!, nIn = x.shape[lead]!;
  const m = shapeSize(x.shape.slice(0, -1));
  let g: Tensor;
  if (out !== undefined) {
    checkOut("linearWeightGrad", out, [nOut, nIn], []);
    if (out.data === dy.data || out.data === x.data) throw new ShapeError("linearWeightGrad", "out must not share storage with an operand", [out.shape]);
    g = out;
    if (m === 0) out.data.fill(0, out.offset, out.offset + out.size);
  } else g = new Tensor(new Float32Array(nOut * nIn), [nOut, nIn]);
  if (g.size === 0 || m === 0) return g;
  const d = asRows(dy, m, nOut), a = asRows(x, m, nIn);
  // A = dyᵀ (A[i,p] = dy[p,i]), B = x: C[i,j] = Σ_p dy[p,i]·x[p,j].
  kernels().gemm(nOut, nIn, m, d.data, d.offset, d.strides[1]!, d.strides[0]!, a.data, a.offset, a.strides[0]!, a.strides[1]!, g.data, g.offset, nIn, false);
  return g;
}

/**
 * The bias gradient of {@link linear}: `db = Σ_rows dy` over all leading dimensions of `dy`
 * (`[..., out]` → `[out]`), accumulated in float64 and rounded once. With `out` (a contiguous
 * `[out]` tensor, e.g. a gradient buffer), the result overwrites it and `out` is returned.
 *
 * @throws {ShapeError} for a 0-d `dy`, or an `out` that is not a contiguous `[out]` tensor or
 * shares storage with `dy`.
 * @throws {TypeError} when `dy` is not a Tensor.
 * @example
 * ```ts
 * linearBiasGrad(ones([8, 4])).toArray(); // [8, 8, 8, 8]
 * ```
 */
export function linearBiasGrad(dy: Tensor, out?: Tensor): Tensor {
  if (!(dy instanceof Tensor)) throw new TypeError("linearBiasGrad: dy must be a Tensor");
  if (dy.ndim === 0) throw new ShapeError("linearBiasGrad", "dy needs at least 1 dimension", [dy.shape]);
  const n = dy.shape[dy.ndim - 1]!;
  const rows = shapeSize(dy.shape.slice(0, -1));
  if (out !== undefined) {
    checkOut("linearBiasGrad", out, [n], []);
    if (out.data === dy.data) throw new ShapeError("linearBiasGrad", "out must not share storage with dy", [out.shape]);
  }
  const d = asRows(dy, rows, n);
  if (d.strides[1] !== 1 || rows === 0 || n === 0) {
    const s = sum(d, 0);
    if (out === undefined) return s;
    out.data.set(s.data.subarray(s.offset, s.offset + n), out.offset);
    return out;
  }
  const acc = new Float64Array(n);
  addRows(acc, d.data, d.offset, d.strides[0]!, rows, n);
  const res = out ?? new Tensor(new Float32Array(n), [n]);
  const o = res.data, at = res.offset;
  for (let j = 0; j < n; j++) o[at + j] = acc[j]!;
  return res;
}

/**
 * `acc[j] += Σ_r d[at + r·rs + j]` for `r < rows`, `j < n`: four rows per sweep over `acc` (a
 * quarter of the accumulator loads and stores). NOTE: the leftover rows go first, so no code
 * that may not have run yet follows the long loop (see norms in @tapegrad/optim).
 */
function addRows(acc: Float64Array, d: Float32Array, at: number, rs: number, rows: number, n: number): void {
  let r = rows & 3;
  for (let q = 0; q < r; q++, at += rs) for (let j = 0; j < n; j++) acc[j]! += d[at + j]!;
  for (; r < rows; r += 4, at += 4 * rs) {
    const a1 = at + rs, a2 = a1 + rs, a3 = a2 + rs;
    for (let j = 0; j < n; j++) acc[j]! += d[at + j]! + d[a1 + j]! + (d[a2 + j]! + d[a3 + j]!);
  }
}
