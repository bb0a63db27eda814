/**
 * @file Normalisation ops: `batchNorm` (training and eval, optional affine, optional running
 * statistics updated in place as torch does) and `groupNorm` (with `instanceNorm` = one group per
 * channel), each a primitive whose forward and backward run the tensor package's norm kernels.
 */
import * as T from "@tapegrad/tensor";
import { ShapeError, Tensor } from "@tapegrad/tensor";
import type { Var } from "../var.js";
import { apply, toVar, type VarLike } from "../apply.js";
import { defineRule } from "../rule.js";

/**
 * Attributes of the `batchNorm` primitive; inputs are `[x, weight?, bias?, runningMean?, runningVar?]`.
 *
 * @example
 * ```ts
 * apply("batchNorm", { training: true, momentum: 0.1, eps: 1e-5, hasWeight: false, hasBias: false, hasRunning: false }, [x]);
 * ```
 */
export interface BatchNormAttrs { training: boolean; momentum: number; eps: number; hasWeight: boolean; hasBias: boolean; hasRunning: boolean }

/**
 * Attributes of the `groupNorm` primitive; inputs are `[x, weight?, bias?]`.
 *
 * @example
 * ```ts
 * apply("groupNorm", { numGroups: 2, eps: 1e-5, hasWeight: true, hasBias: true }, [x, w, b]);
 * ```
 */
export interface GroupNormAttrs { numGroups: number; eps: number; hasWeight: boolean; hasBias: boolean }

/**
 * What the norm forwards save for backward: the statistics that normalised each channel (batch
 * norm) or each (sample, group) (group norm), `invstd = 1/√(var+eps)`.
 *
 * @example
 * ```ts
 * const r = normRules.groupNorm.forward([x], { numGroups: 2, eps: 1e-5, hasWeight: false, hasBias: false });
 * const stats: NormStats = (r as Saved<NormStats>).saved;
 * ```
 */
export interface NormStats { mean: Float64Array; invstd: Float64Array }

/** The optional inputs of a norm op in order, by flag (null when absent). */
function pick(xs: readonly Tensor[], hasWeight: boolean, hasBias: boolean): { w: Tensor | null; b: Tensor | null; next: number } {
  let k = 1;
  const w = hasWeight ? xs[k++]! : null;
  const b = hasBias ? xs[k++]! : null;
  return { w, b, next: k };
}

/** `[dx, dweight?, dbias?, ...nulls]` in the op's input order. */
function gradList(g: T.NormGrads, a: { hasWeight: boolean; hasBias: boolean }, extra: number): (Tensor | null)[] {
  const out: (Tensor | null)[] = [g.dx];
  if (a.hasWeight) out.push(g.dweight);
  if (a.hasBias) out.push(g.dbias);
  for (let i = 0; i < extra; i++) out.push(null);
  return out;
}

/**
 * Rules of `batchNorm` and `groupNorm`, each declared with its attribute type (`defineRule<A, S>`).
 * `rules.ts` merges them into the op table; the functions below run them by name with
 * `apply(name, attrs, inputs)`.
 *
 * @throws whatever a rule's forward or backward throws (e.g. ShapeError); reading it never throws.
 * @example
 * ```ts
 * normRules.groupNorm.forward([x], { numGroups: 2, eps: 1e-5, hasWeight: false, hasBias: false });
 * ```
 */
export const normRules = {
  batchNorm: defineRule<BatchNormAttrs, NormStats>({
    forward: (xs, a) => {
      const { w, b, next } = pick(xs, a.hasWeight, a.hasBias);
      const rm = a.hasRunning ? xs[next]! : null, rv = a.hasRunning ? xs[next + 1]! : null;
      const r = T.batchNorm(xs[0]!, w, b, rm, rv, a);
      return { value: r.value, saved: { mean: r.mean, invstd: r.invstd } };
    },
    // batch stats: dx = w·invstd·(g − mean(g) − x̂·mean(g·x̂)); running stats: dx = g·w·invstd;
    // dw = Σ g·x̂, db = Σ g per channel (running statistics are buffers: no gradient)
    backward: (dy, c) => {
      const a = c.attrs;
      const { w } = pick(c.x, a.hasWeight, a.hasBias);
      const batchStats = a.training || !a.hasRunning;
      const g = T.batchNormBackward(dy, c.x[0]!, w, c.saved.mean, c.saved.invstd, batchStats, {
        dx: c.needs[0] ?? false,
        dweight: a.hasWeight && (c.needs[1] ?? false),
        dbias: a.hasBias && (c.needs[a.hasWeight ? 2 : 1] ?? false),
      });
      return gradList(g, a, a.hasRunning ? 2 : 0);
    },
  }),
  groupNorm: defineRule<GroupNormAttrs, NormStats>({
    forward: (xs, a) => {
      const { w, b } = pick(xs, a.hasWeight, a.hasBias);
      const r = T.groupNorm(xs[0]!, a.numGroups, w, b, a.eps);
      return { value: r.value, saved: { mean: r.mean, invstd: r.invstd } };
    },
    // per (sample, group), gy = g·w[c]: dx = invstd·(gy − mean(gy) − x̂·mean(gy·x̂)); dw = Σ g·x̂, db = Σ g
    backward: (dy, c) => {
      const a = c.attrs;
      const { w } = pick(c.x, a.hasWeight, a.hasBias);
      const g = T.groupNormBackward(dy, c.x[0]!, a.numGroups, w, c.saved.mean, c.saved.invstd, {
        dx: c.needs[0] ?? false,
        dweight: a.hasWeight && (c.needs[1] ?? false),
        dbias: a.hasBias && (c.needs[a.hasWeight ? 2 : 1] ?? false),
      });
      return gradList(g, a, 0);
    },
  }),
};

/**
 * Options of {@link batchNorm} (torch's `F.batch_norm` keyword arguments).
 *
 * @example
 * ```ts
 * batchNorm(x, rm, rv, { weight: gamma, bias: beta, training: true, momentum: 0.1, eps: 1e-5 });
 * ```
 */
export interface BatchNormOptions {
  /** Per-channel scale `[C]` (absent: 1). */
  weight?: VarLike | null;
  /** Per-channel shift `[C]` (absent: 0). */
  bias?: VarLike | null;
  /** Batch statistics, and running-statistic updates (default false, as torch). */
  training?: boolean;
  /** Weight of the new statistic in the running averages (default 0.1). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

function checkEps(op: string, eps: number): void {
  if (typeof eps !== "number" || !(eps >= 0)) throw new RangeError(`${op}: eps must be a number >= 0 (got ${String(eps)})`);
}

/**
 * Batch normalisation of `x [N, C, *]` per channel (`F.batch_norm`). With `training` (or without
 * running statistics) it uses the batch mean and biased variance; with `training` and running
 * statistics it also updates `runningMean`/`runningVar` **in place** (momentum-weighted, unbiased
 * variance for `runningVar`), as torch does. In eval mode the running statistics normalise.
 *
 * @throws {ShapeError} for an input below 2-D, per-channel tensors that are not `[C]`, only one
 * running statistic, or training with one value per channel; {RangeError} for a bad momentum or
 * eps.
 * @example
 * ```ts
 * const rm = zeros([16]), rv = ones([16]);
 * const y = batchNorm(x, rm, rv, { weight: gamma, bias: beta, training: true }); // rm, rv updated
 * ```
 */
export function batchNorm(x: VarLike, runningMean: Tensor | null, runningVar: Tensor | null, opts: BatchNormOptions = {}): Var {
  const op = "batchNorm";
  const v = toVar(x, op);
  const momentum = opts.momentum ?? 0.1, eps = opts.eps ?? 1e-5;
  if (typeof momentum !== "number" || !(momentum >= 0 && momentum <= 1)) throw new RangeError(`${op}: momentum must be in [0, 1] (got ${String(momentum)})`);
  checkEps(op, eps);
  if ((runningMean === null) !== (runningVar === null)) throw new ShapeError(op, "runningMean and runningVar must both be given or both be null", [v.shape]);
  const weight = opts.weight ?? null, bias = opts.bias ?? null;
  const inputs: VarLike[] = [v];
  if (weight !== null) inputs.push(weight);
  if (bias !== null) inputs.push(bias);
  if (runningMean !== null && runningVar !== null) {
    if (!(runningMean instanceof Tensor) || !(runningVar instanceof Tensor)) throw new TypeError(`${op}: running statistics must be Tensors`);
    inputs.push(runningMean, runningVar);
  }
  const attrs: BatchNormAttrs = { training: opts.training ?? false, momentum, eps, hasWeight: weight !== null, hasBias: bias !== null, hasRunning: runningMean !== null };
  return apply("batchNorm", attrs, inputs);
}

/**
 * Group normalisation of `x [N, C, *]` (`F.group_norm`): per sample, `C` is split into
 * `numGroups` blocks of consecutive channels, each normalised by its mean and biased variance,
 * then scaled and shifted per channel.
 *
 * @throws {ShapeError} for an input below 2-D, `C` not divisible by `numGroups`, or a weight/bias
 * that is not `[C]`; {RangeError} for a `numGroups` that is not a positive integer or a bad eps.
 * @example
 * ```ts
 * const y = groupNorm(x, 2, gamma, beta); // x [N, 4, H, W]
 * ```
 */
export function groupNorm(x: VarLike, numGroups: number, weight: VarLike | null = null, bias: VarLike | null = null, eps = 1e-5): Var {
  const v = toVar(x, "groupNorm");
  checkEps("groupNorm", eps);
  const inputs: VarLike[] = [v];
  if (weight !== null) inputs.push(weight);
  if (bias !== null) inputs.push(bias);
  return apply("groupNorm", { numGroups, eps, hasWeight: weight !== null, hasBias: bias !== null }, inputs);
}

/**
 * Instance normalisation of `x [N, C, *]` (`F.instance_norm` with `use_input_stats`, no running
 * statistics): each sample's channel normalised over its spatial positions, i.e.
 * `groupNorm(x, C, weight, bias, eps)`.
 *
 * @throws {ShapeError} for an input below 2-D or a weight/bias that is not `[C]`; {RangeError}
 * for a bad eps.
 * @example
 * ```ts
 * const y = instanceNorm(x, gamma, beta); // x [N, C, H, W]
 * ```
 */
export function instanceNorm(x: VarLike, weight: VarLike | null = null, bias: VarLike | null = null, eps = 1e-5): Var {
  const v = toVar(x, "instanceNorm");
  if (v.ndim < 2) throw new ShapeError("instanceNorm", "input must be [N, C, *] (at least 2-D)", [v.shape]);
  if (typeof eps !== "number" || !(eps >= 0)) throw new RangeError(`instanceNorm: eps must be a number >= 0 (got ${String(eps)})`);
  return groupNorm(v, v.shape[1]!, weight, bias, eps);
}
