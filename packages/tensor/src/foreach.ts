/**
 * @file In-place kernels over lists of float32 arrays, in the spirit of PyTorch's `_foreach_*`
 * ops, for optimizers and gradient clipping: sum of squares (global norms), scale, axpy, a fused
 * (clip-scaled) SGD step, and clip-by-global-norm.
 *
 * Callers need not know where memory lives: an array in the wasm heap (`heapAlloc`) is processed
 * in wasm, in place, on several threads when the lists are large and `setNumThreads` allows it;
 * any other `Float32Array` by a JS loop (the sum of squares copies it through a small wasm
 * buffer instead, which is faster). Both paths compute the same expressions with the same
 * roundings, so results are identical bit for bit whatever the path, the thread count or the
 * environment (the sum of squares uses a fixed summation order, see `wasm/vector-kernel.ts`).
 */
import { heapArena } from "./heap.js";
import { mainArena } from "./wasm/runtime.js";
import { VecOp } from "./wasm/vector-kernel.js";
import {
  axpyJs, paramBlock, runVecJob, scaleJs, scaleStaged, sgdJs, sumsq64Js, sumsqJs, sumsqStaged, vecThreads, writeSgdHyper, type SgdHyper,
} from "./wasm/vector.js";
import type { WasmArena } from "./wasm/arena.js";

/** The heap arena when every array of every list lives in it, else undefined. */
function allIn(lists: readonly (readonly Float32Array[])[]): WasmArena | undefined {
  const ar = heapArena();
  if (!ar) return undefined;
  for (const l of lists) for (const x of l) if (!ar.owns(x)) return undefined;
  return ar;
}

function totalLength(xs: readonly Float32Array[]): number {
  let n = 0;
  for (const x of xs) n += x.length;
  return n;
}

function checkPaired(op: string, a: readonly Float32Array[], b: readonly Float32Array[], what: string): void {
  if (a.length !== b.length) throw new RangeError(`${op}: ${what} has ${b.length} arrays for ${a.length}`);
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.length !== b[i]!.length) throw new RangeError(`${op}: ${what}[${i}] has ${b[i]!.length} elements, expected ${a[i]!.length}`);
  }
}

/**
 * Σx² over all elements of all arrays: squares and sums of 4 in float32, accumulated in float64
 * in a fixed order (relative error about 1e-7/√(n/16), independent of where the arrays live and
 * of the thread count); when that total is not finite or is tiny (float32 squares overflow above
 * 1.8e19 and underflow below 1e-19), it is recomputed with exact float64 squares, so `[1e20, 1e20]`
 * gives 2e40, not Infinity. NaN if any element is NaN, Infinity if any is infinite. With
 * `exact: true`, always the exact float64 squares (float64-grade: relative error about 1e-16,
 * as a float64 loop; slower where memory is not the bottleneck).
 *
 * @throws never.
 * @example
 * ```ts
 * const norm = Math.sqrt(foreachSumSquares(grads)); // global L2 norm
 * foreachSumSquares(grads, { exact: true });         // float64 squares
 * ```
 */
export function foreachSumSquares(xs: readonly Float32Array[], options: { exact?: boolean } = {}): number {
  const count = totalLength(xs);
  if (options.exact === true) return sumSquares(xs, count, true);
  const s = sumSquares(xs, count, false);
  // float32 squares may have overflowed or underflowed: redo with exact squares
  return s < Infinity && s >= count * 1e-30 ? s : sumSquares(xs, count, true);
}

function sumSquares(xs: readonly Float32Array[], count: number, exact: boolean): number {
  const ar = allIn([xs]);
  if (ar) {
    const t = vecThreads(ar, count);
    if (t > 1) return runVecJob(ar, exact ? VecOp.sumsq64 : VecOp.sumsq, [xs], 0, null, t, 0);
  }
  const heap = ar ?? heapArena(), scratch = mainArena();
  let acc = 0;
  for (const x of xs) {
    if (heap?.owns(x)) acc = exact ? heap.exports.sumsq64(x.byteOffset, x.length, acc) : heap.exports.sumsq(x.byteOffset, x.length, acc);
    else if (scratch && x.length >= 64) acc = sumsqStaged(scratch, x, acc, exact);
    else acc = exact ? sumsq64Js(x, acc) : sumsqJs(x, acc);
  }
  return acc;
}

/**
 * `x ← fround(x·c)` for every element of every array (the float64 product rounded once, as
 * `x[i] *= c` does on a Float32Array). `c = 1` is skipped (the identity, also for NaN and -0).
 *
 * @throws never.
 * @example
 * ```ts
 * foreachScale(grads, 0.5);
 * ```
 */
export function foreachScale(xs: readonly Float32Array[], c: number): void {
  if (c === 1) return;
  const op = Math.fround(c) === c || Number.isNaN(c) ? VecOp.scale32 : VecOp.scale64;
  const ar = allIn([xs]);
  if (ar) {
    const t = vecThreads(ar, totalLength(xs));
    if (t > 1) return void runVecJob(ar, op, [xs], c, null, t, 0);
  }
  const heap = ar ?? heapArena(), scratch = mainArena();
  for (const x of xs) {
    if (heap?.owns(x)) {
      if (op === VecOp.scale32) heap.exports.scale32(x.byteOffset, x.length, c);
      else heap.exports.scale64(x.byteOffset, x.length, c);
    } else if (scratch && x.length >= 4096) scaleStaged(scratch, x, c, op === VecOp.scale32);
    else scaleJs(x, c);
  }
}

/**
 * `y ← fround(y + a·x)` element-wise for each pair `(ys[i], xs[i])`.
 *
 * @throws {RangeError} when the lists or paired arrays differ in length.
 * @example
 * ```ts
 * foreachAxpy(params, -lr, grads); // plain SGD
 * ```
 */
export function foreachAxpy(ys: readonly Float32Array[], a: number, xs: readonly Float32Array[]): void {
  checkPaired("foreachAxpy", ys, xs, "xs");
  const ar = allIn([ys, xs]);
  if (ar) {
    const t = vecThreads(ar, totalLength(ys));
    if (t > 1) return void runVecJob(ar, VecOp.axpy, [ys, xs], a, null, t, 0);
  }
  const heap = ar ?? heapArena();
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i]!, x = xs[i]!;
    if (heap?.owns(y) && heap.owns(x)) heap.exports.axpy(y.byteOffset, x.byteOffset, y.length, a);
    else axpyJs(y, a, x);
  }
}

/** Options of {@link foreachSgdStep}: PyTorch's SGD hyper-parameters plus a gradient scale. */
export interface SgdStepOptions {
  /** Learning rate. */
  readonly lr: number;
  /** Momentum factor μ (default 0: no buffers needed). */
  readonly momentum?: number;
  /** Dampening τ (default 0). */
  readonly dampening?: number;
  /** L2 penalty λ added to the gradient (default 0). */
  readonly weightDecay?: number;
  /** Nesterov momentum (default false). */
  readonly nesterov?: boolean;
  /** Maximize instead of minimize (default false). */
  readonly maximize?: boolean;
  /** Factor applied to each gradient first, e.g. a clip coefficient (default 1). */
  readonly gradScale?: number;
  /** First momentum step: buffers are set to the gradient (PyTorch), not blended (default false). */
  readonly firstStep?: boolean;
}

/**
 * One SGD step over parameter/gradient(/momentum buffer) lists, PyTorch's rule with float32
 * rounding of every stored intermediate, per element:
 * `g = fround(grad·s)` (s = gradScale, negated to maximize); `g = fround(g + λθ)` when λ ≠ 0;
 * with μ ≠ 0: `b = firstStep ? g : fround(fround(μb) + (1−τ)g)`, `d = nesterov ? fround(g + μb) : b`
 * (else `d = g`); `θ = fround(θ − lr·d)`. Gradients are read, never written (scale them with
 * {@link foreachScale} too if the clipped values are wanted afterwards). Equals
 * `foreachScale(grads, s)` followed by `@tapegrad/optim`'s SGD update, without the extra pass.
 *
 * @throws {RangeError} when list lengths or array lengths differ, or momentum ≠ 0 without buffers.
 * @example
 * ```ts
 * const norm = foreachClipByGlobalNorm(grads, 1.0, { scale: false }); // norm only
 * foreachSgdStep(params, grads, bufs, { lr: 0.01, momentum: 0.9, gradScale: clipCoef(norm, 1.0) });
 * ```
 */
export function foreachSgdStep(params: readonly Float32Array[], grads: readonly Float32Array[], momentumBuffers: readonly Float32Array[] | null, options: SgdStepOptions): void {
  const mu = options.momentum ?? 0;
  const h: SgdHyper = {
    lr: options.lr,
    mu,
    keep: 1 - (options.dampening ?? 0),
    wd: options.weightDecay ?? 0,
    gs: (options.maximize ? -1 : 1) * (options.gradScale ?? 1),
    first: options.firstStep ?? false,
    nesterov: options.nesterov ?? false,
  };
  checkPaired("foreachSgdStep", params, grads, "grads");
  if (mu !== 0) {
    if (!momentumBuffers) throw new RangeError("foreachSgdStep: momentum != 0 needs momentum buffers");
    checkPaired("foreachSgdStep", params, momentumBuffers, "momentumBuffers");
  }
  const bufs = mu !== 0 ? momentumBuffers! : params; // unused by the kernels when μ = 0
  const ar = allIn([params, grads, bufs]);
  if (ar) {
    const t = vecThreads(ar, totalLength(params));
    if (t > 1) return void runVecJob(ar, VecOp.sgd, [params, grads, bufs], 0, h, t, 0);
  }
  const heap = ar ?? heapArena();
  let hp = -1;
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!, g = grads[i]!, b = bufs[i]!;
    if (heap?.owns(p) && heap.owns(g) && heap.owns(b)) {
      if (hp < 0) writeSgdHyper(heap, (hp = paramBlock(heap)), h);
      heap.exports.sgd(p.byteOffset, g.byteOffset, b.byteOffset, p.length, hp);
    } else sgdJs(p, g, mu !== 0 ? b : null, h);
  }
}

/**
 * The clip coefficient of PyTorch's `clip_grad_norm_`, `maxNorm / (norm + eps)`, rounded to
 * float32 (PyTorch multiplies by a float32 tensor) and capped at 1; NaN for a NaN norm.
 *
 * @throws never.
 * @example
 * ```ts
 * clipCoef(10, 1); // 0.0999999...
 * ```
 */
export function clipCoef(norm: number, maxNorm: number, eps = 1e-6): number {
  const coef = Math.fround(maxNorm / (norm + eps));
  return coef >= 1 ? 1 : coef;
}

/**
 * Clip by global L2 norm, in place: `n = √Σx²` over all arrays; when {@link clipCoef} < 1, every
 * element is scaled by it (a NaN norm scales by NaN, as PyTorch does). Returns `n`, the norm
 * before clipping. With `scale: false` only the norm is computed (for a fused update).
 *
 * @throws {RangeError} when `maxNorm` is negative or NaN.
 * @example
 * ```ts
 * const before = foreachClipByGlobalNorm(grads, 1.0);
 * ```
 */
export function foreachClipByGlobalNorm(xs: readonly Float32Array[], maxNorm: number, options: { eps?: number; scale?: boolean } = {}): number {
  if (!(maxNorm >= 0)) throw new RangeError(`foreachClipByGlobalNorm: maxNorm must be >= 0 (got ${maxNorm})`);
  const norm = Math.sqrt(foreachSumSquares(xs));
  if (options.scale !== false) {
    const coef = clipCoef(norm, maxNorm, options.eps);
    if (coef !== 1) foreachScale(xs, coef);
  }
  return norm;
}
