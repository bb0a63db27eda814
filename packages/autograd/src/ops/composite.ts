/**
 * @file Composite ops built only from primitives (no backward rules of their own): regression
 * losses, variance/std, dropout, layer normalisation.
 */
import * as T from "@tapegrad/tensor";
import { Rng, ShapeError, defaultRng, normalizeAxes, shapesEqual } from "@tapegrad/tensor";
import type { Var } from "../var.js";
import { toVar, type VarLike } from "../apply.js";
import { add, div, mul, sub } from "./arith.js";
import { abs, sqrt, square } from "./unary.js";
import { mean, sum } from "./reduce.js";
import { where } from "./movement.js";
import { reduceLoss, type Reduction } from "./loss.js";

function sameShape(op: string, a: Var, b: Var): void {
  if (!shapesEqual(a.shape, b.shape)) throw new ShapeError(op, "input and target must have the same shape", [a.shape, b.shape]);
}

/**
 * Mean squared error `(input − target)²`, reduced (`"mean"` over all elements by default).
 *
 * @throws {ShapeError} when the shapes differ; {TypeError} for an unknown `reduction`.
 * @example
 * ```ts
 * const loss = mseLoss(pred, y);
 * ```
 */
export function mseLoss(input: VarLike, target: VarLike, opts: { reduction?: Reduction } = {}): Var {
  const a = toVar(input, "mseLoss");
  const b = toVar(target, "mseLoss");
  sameShape("mseLoss", a, b);
  return reduceLoss(square(sub(a, b)), opts.reduction ?? "mean", "mseLoss");
}

/**
 * Mean absolute error `|input − target|`, reduced.
 *
 * @throws {ShapeError} when the shapes differ; {TypeError} for an unknown `reduction`.
 * @example
 * ```ts
 * l1Loss(pred, y);
 * ```
 */
export function l1Loss(input: VarLike, target: VarLike, opts: { reduction?: Reduction } = {}): Var {
  const a = toVar(input, "l1Loss");
  const b = toVar(target, "l1Loss");
  sameShape("l1Loss", a, b);
  return reduceLoss(abs(sub(a, b)), opts.reduction ?? "mean", "l1Loss");
}

/**
 * Huber loss: `½d²` for `|d| < delta`, else `delta(|d| − ½delta)`, `d = input − target`.
 *
 * @throws {ShapeError} when the shapes differ; {RangeError} for `delta <= 0`; {TypeError} for an
 * unknown `reduction`.
 * @example
 * ```ts
 * huberLoss(pred, y, { delta: 1 });
 * ```
 */
export function huberLoss(input: VarLike, target: VarLike, opts: { reduction?: Reduction; delta?: number } = {}): Var {
  const delta = opts.delta ?? 1;
  if (!(delta > 0)) throw new RangeError(`huberLoss: delta must be > 0 (got ${delta})`);
  const a = toVar(input, "huberLoss");
  const b = toVar(target, "huberLoss");
  sameShape("huberLoss", a, b);
  const d = sub(a, b);
  const ad = abs(d);
  const small = T.lt(ad.value, delta);
  const l = where(small, mul(square(d), 0.5), mul(sub(ad, 0.5 * delta), delta));
  return reduceLoss(l, opts.reduction ?? "mean", "huberLoss");
}

/**
 * Variance with Bessel's `correction` (1 = unbiased, as `torch.var`; 0 = population).
 *
 * @throws {ShapeError} for bad axes.
 * @example
 * ```ts
 * variance(x, -1, { correction: 0, keepDims: true });
 * ```
 */
export function variance(x: VarLike, axes?: T.Axes, opts: { correction?: number; keepDims?: boolean } = {}): Var {
  return varianceOf("variance", x, axes, opts);
}

/** {@link variance}, with the op name its errors carry (`variance` or `std`). */
function varianceOf(op: string, x: VarLike, axes: T.Axes | undefined, opts: { correction?: number; keepDims?: boolean }): Var {
  const v = toVar(x, op);
  const correction = opts.correction ?? 1;
  if (typeof correction !== "number" || !Number.isFinite(correction)) throw new RangeError(`${op}: correction must be a finite number (got ${String(correction)})`);
  const ax = normalizeAxes(op, axes, v.ndim, v.shape);
  const n = ax.reduce((p, i) => p * v.shape[i]!, 1);
  const dev = sub(v, mean(v, ax, true));
  return mul(sum(square(dev), ax, opts.keepDims ?? false), 1 / Math.max(0, n - correction));
}

/**
 * Standard deviation, `sqrt(variance(x, axes, opts))`.
 *
 * @throws {ShapeError} for bad axes.
 * @example
 * ```ts
 * std(x, 0);
 * ```
 */
export function std(x: VarLike, axes?: T.Axes, opts: { correction?: number; keepDims?: boolean } = {}): Var {
  return sqrt(varianceOf("std", x, axes, opts));
}

/**
 * Inverted dropout: during training zeroes each element with probability `p` (seeded by `rng`)
 * and scales the rest by `1/(1−p)`; identity when `training` is false or `p` is 0.
 *
 * @throws {RangeError} unless `0 <= p < 1`.
 * @example
 * ```ts
 * dropout(h, 0.5, { training: true, rng: new Rng(0) });
 * ```
 */
export function dropout(x: VarLike, p = 0.5, opts: { training?: boolean; rng?: Rng } = {}): Var {
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout: p must be in [0, 1) (got ${p})`);
  const v = toVar(x, "dropout");
  if (!(opts.training ?? true) || p === 0) return v;
  const rng = opts.rng ?? defaultRng;
  const mask = rng.fillUniform(new Float32Array(v.size));
  const keep = 1 / (1 - p);
  for (let i = 0; i < mask.length; i++) mask[i] = mask[i]! >= p ? keep : 0;
  return mul(v, new T.Tensor(mask, v.shape));
}

/**
 * Layer normalisation over the trailing `normalizedShape` dims: `(x − μ)/√(σ² + eps)·γ + β`
 * with population variance (as `torch.nn.functional.layer_norm`).
 *
 * @throws {ShapeError} when the trailing dims differ from `normalizedShape`.
 * @example
 * ```ts
 * layerNorm(h, [64], gamma, beta);
 * ```
 */
export function layerNorm(x: VarLike, normalizedShape: readonly number[], weight?: VarLike | null, bias?: VarLike | null, eps = 1e-5): Var {
  const v = toVar(x, "layerNorm");
  const k = normalizedShape.length;
  const tail = v.shape.slice(v.ndim - k);
  if (k > v.ndim || !shapesEqual(tail, normalizedShape)) throw new ShapeError("layerNorm", "trailing dims must equal normalizedShape", [v.shape, normalizedShape]);
  if (typeof eps !== "number" || !Number.isFinite(eps) || eps < 0) throw new RangeError(`layerNorm: eps must be a finite number >= 0 (got ${String(eps)})`);
  for (const [name, p] of [["weight", weight], ["bias", bias]] as const) {
    if (p === undefined || p === null) continue;
    const pv = toVar(p, "layerNorm");
    if (!shapesEqual(pv.shape, normalizedShape)) throw new ShapeError("layerNorm", `${name} must have the normalized shape`, [pv.shape, normalizedShape]);
  }
  const axes = Array.from({ length: k }, (_, i) => v.ndim - k + i);
  const mu = mean(v, axes, true);
  const dev = sub(v, mu);
  const varPop = mean(square(dev), axes, true);
  let y = div(dev, sqrt(add(varPop, eps)));
  if (weight !== undefined && weight !== null) y = mul(y, weight);
  if (bias !== undefined && bias !== null) y = add(y, bias);
  return y;
}
