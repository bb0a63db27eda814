/**
 * @file Fake quantization for quantization-aware training (`torch.fake_quantize_per_tensor_affine`,
 * `torch.fake_quantize_per_channel_affine`): the forward rounds to the integer grid and back,
 * `fl32((clamp(q_raw, qmin, qmax) − zp) · scale)` with `q_raw = zp + rne(fl32(x · fl32(1/scale)))`;
 * the backward is the straight-through estimator `dx = dy · [qmin <= q_raw <= qmax]` (the test is
 * on the unclamped rounded integer, so inputs up to half a step past the range still pass).
 */
import { Tensor, ShapeError } from "@tapegrad/tensor";
import { defineOp, type Var, type VarLike } from "@tapegrad/autograd";
import { checkAxis, checkRange, checkScale, checkZeroPoint, flatValues, nonFiniteError, roundHalfEven, splitAtAxis } from "./common.js";

/** Output and straight-through mask (1 = the gradient passes) of a fake quantization. */
export interface FakeQuantResult {
  output: Tensor;
  mask: Uint8Array;
}

/** Per-channel parameters as validated float32 scales, reciprocals and integer zero points. */
interface ChannelParams {
  scales: Float32Array;
  inv: Float32Array;
  zeroPoints: Int32Array;
}

/** One channel's values `src[from..to)` fake-quantized into `out`/`mask`. */
function fakeQuantRun(fn: string, src: Float32Array, out: Float32Array, mask: Uint8Array, from: number, to: number, scale: number, inv: number, zp: number, qmin: number, qmax: number): void {
  for (let i = from; i < to; i++) {
    const v = src[i]!;
    if (v - v !== 0) throw nonFiniteError(fn, i, v);
    const q = zp + roundHalfEven(Math.fround(v * inv));
    const inRange = q >= qmin && q <= qmax;
    mask[i] = inRange ? 1 : 0;
    out[i] = ((inRange ? q : q < qmin ? qmin : qmax) - zp) * scale;
  }
}

/**
 * Fake quantization with one scale/zero point on plain tensors, returning the output and the
 * mask (torch's `fake_quantize_per_tensor_affine_cachemask`).
 *
 * @throws {RangeError} for a bad scale, a zero point outside `[quantMin, quantMax]`, a bad range
 * or a NaN/Inf element; {TypeError} when `x` is not a Tensor.
 * @example
 * ```ts
 * const { output, mask } = fakeQuantizePerTensorAffineCachemask(tensor([31.875]), 0.25, 0, -128, 127);
 * // output [31.75], mask [0] (127.5 rounds to 128, outside the range)
 * ```
 */
export function fakeQuantizePerTensorAffineCachemask(x: Tensor, scale: number, zeroPoint: number, quantMin: number, quantMax: number): FakeQuantResult {
  const fn = "fakeQuantizePerTensorAffine";
  if (!(x instanceof Tensor)) throw new TypeError(`${fn}: x must be a Tensor`);
  checkRange(fn, quantMin, quantMax);
  const s = checkScale(fn, scale);
  checkZeroPoint(fn, zeroPoint, quantMin, quantMax);
  const src = flatValues(x);
  const out = new Float32Array(src.length), mask = new Uint8Array(src.length);
  fakeQuantRun(fn, src, out, mask, 0, src.length, s, Math.fround(1 / s), zeroPoint, quantMin, quantMax);
  return { output: new Tensor(out, x.shape), mask };
}

function channelParams(fn: string, scales: Tensor | ArrayLike<number>, zeroPoints: Tensor | ArrayLike<number>, C: number, shape: readonly number[], axis: number, qmin: number, qmax: number): ChannelParams {
  const sc = scales instanceof Tensor ? scales.toFloat32Array() : scales;
  const zp = zeroPoints instanceof Tensor ? zeroPoints.toFloat32Array() : zeroPoints;
  if (sc.length !== C || zp.length !== C) throw new ShapeError(fn, `scales (${sc.length}) and zeroPoints (${zp.length}) must have x.shape[${axis}] = ${C} entries`, [shape]);
  const p: ChannelParams = { scales: new Float32Array(C), inv: new Float32Array(C), zeroPoints: new Int32Array(C) };
  for (let c = 0; c < C; c++) {
    p.scales[c] = checkScale(fn, sc[c]!, `scales[${c}]`);
    p.inv[c] = 1 / p.scales[c]!;
    p.zeroPoints[c] = checkZeroPoint(fn, zp[c]!, qmin, qmax, `zeroPoints[${c}]`);
  }
  return p;
}

/**
 * Fake quantization with one scale/zero point per index along `axis`, on plain tensors,
 * returning the output and the mask (torch's `fake_quantize_per_channel_affine_cachemask`).
 *
 * @throws {ShapeError} when scales/zeroPoints do not have `x.shape[axis]` entries; {RangeError}
 * for a bad axis, scale, zero point, range or a NaN/Inf element.
 * @example
 * ```ts
 * const { output } = fakeQuantizePerChannelAffineCachemask(w, scales, zeroPoints, 0, -128, 127);
 * ```
 */
export function fakeQuantizePerChannelAffineCachemask(x: Tensor, scales: Tensor | ArrayLike<number>, zeroPoints: Tensor | ArrayLike<number>, axis: number, quantMin: number, quantMax: number): FakeQuantResult {
  const fn = "fakeQuantizePerChannelAffine";
  if (!(x instanceof Tensor)) throw new TypeError(`${fn}: x must be a Tensor`);
  checkRange(fn, quantMin, quantMax);
  const ax = checkAxis(fn, axis, x.shape);
  const [outer, C, inner] = splitAtAxis(x.shape, ax);
  const p = channelParams(fn, scales, zeroPoints, C, x.shape, ax, quantMin, quantMax);
  const src = flatValues(x);
  const out = new Float32Array(src.length), mask = new Uint8Array(src.length);
  for (let o = 0, i = 0; o < outer; o++) {
    for (let c = 0; c < C; c++, i += inner) fakeQuantRun(fn, src, out, mask, i, i + inner, p.scales[c]!, p.inv[c]!, p.zeroPoints[c]!, quantMin, quantMax);
  }
  return { output: new Tensor(out, x.shape), mask };
}

/** `dy · mask` as a new tensor (torch multiplies by the 0/1 mask: −0 and NaN propagate as there). */
function maskGrad(dy: Tensor, mask: Uint8Array): Tensor {
  const g = dy.toFloat32Array();
  for (let i = 0; i < g.length; i++) g[i] = g[i]! * mask[i]!;
  return new Tensor(g, dy.shape);
}

/**
 * Differentiable per-tensor fake quantization (`torch.fake_quantize_per_tensor_affine`):
 * forward as {@link fakeQuantizePerTensorAffineCachemask}, backward the straight-through
 * estimator `dx = dy · mask`.
 *
 * @throws as {@link fakeQuantizePerTensorAffineCachemask}; {TypeError} when `x` is not a Var,
 * Tensor or number.
 * @example
 * ```ts
 * const x = variable(tensor([0.3, 40]));
 * const y = fakeQuantizePerTensorAffine(x, 0.25, 0, -128, 127); // [0.25, 31.75]
 * sum(y).backward(); // x.grad = [1, 0]
 * ```
 */
export function fakeQuantizePerTensorAffine(x: VarLike, scale: number, zeroPoint: number, quantMin: number, quantMax: number): Var {
  return defineOp<Uint8Array>("fakeQuantizePerTensorAffine", {
    freshGrads: true,
    forward: ([t]) => {
      const r = fakeQuantizePerTensorAffineCachemask(t!, scale, zeroPoint, quantMin, quantMax);
      return { value: r.output, saved: r.mask };
    },
    backward: (dy, c) => [maskGrad(dy, c.saved)], // STE: d out / dx = 1 inside the range, 0 outside
  })(x);
}

/**
 * Differentiable per-channel fake quantization (`torch.fake_quantize_per_channel_affine`):
 * forward as {@link fakeQuantizePerChannelAffineCachemask}, backward `dx = dy · mask`.
 *
 * @throws as {@link fakeQuantizePerChannelAffineCachemask}; {TypeError} when `x` is not a Var,
 * Tensor or number.
 * @example
 * ```ts
 * const wq = fakeQuantizePerChannelAffine(weight, scales, zeroPoints, 0, -128, 127);
 * ```
 */
export function fakeQuantizePerChannelAffine(x: VarLike, scales: Tensor | ArrayLike<number>, zeroPoints: Tensor | ArrayLike<number>, axis: number, quantMin: number, quantMax: number): Var {
  return defineOp<Uint8Array>("fakeQuantizePerChannelAffine", {
    freshGrads: true,
    forward: ([t]) => {
      const r = fakeQuantizePerChannelAffineCachemask(t!, scales, zeroPoints, axis, quantMin, quantMax);
      return { value: r.output, saved: r.mask };
    },
    backward: (dy, c) => [maskGrad(dy, c.saved)], // STE per element, as per tensor
  })(x);
}
