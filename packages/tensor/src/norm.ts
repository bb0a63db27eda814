/**
 * @file Normalisation kernels (`torch.nn.functional.batch_norm` and `group_norm` semantics) on
 * `[N, C, *]` tensors, forward and backward: statistics accumulate in float64 (JS numbers) with a
 * two-pass variance, outputs are float32. One pass per statistic, no per-element allocation.
 *
 * Batch norm normalises each channel over its `n = N·prod(*)` values; group norm normalises each
 * (sample, group of `C/G` consecutive channels) block, which is contiguous in memory. Both then
 * apply a per-channel affine map `y = x̂·weight[c] + bias[c]`.
 */
import { ShapeError } from "./errors.js";
import { Tensor, checkTensor } from "./tensor.js";

/**
 * Options of {@link batchNorm} (torch's `F.batch_norm` arguments).
 *
 * @example
 * ```ts
 * const opts: BatchNormOptions = { training: true, momentum: 0.1, eps: 1e-5 };
 * ```
 */
export interface BatchNormOptions {
  /** Use the batch statistics (and update running statistics when given). */
  training: boolean;
  /** Weight of the new statistic in the running average (torch's convention). */
  momentum: number;
  /** Added to the variance before the square root. */
  eps: number;
}

/**
 * A normalised output and the statistics its backward needs: `mean` and `invstd = 1/√(var+eps)`
 * per channel (batch norm) or per (sample, group) (group norm).
 *
 * @example
 * ```ts
 * const { value, mean, invstd }: NormResult = groupNorm(x, 2, null, null, 1e-5);
 * ```
 */
export interface NormResult {
  value: Tensor;
  mean: Float64Array;
  invstd: Float64Array;
}

/**
 * Gradients of a normalisation op (null where not requested).
 *
 * @example
 * ```ts
 * const { dx, dweight, dbias }: NormGrads = groupNormBackward(dy, x, 2, w, r.mean, r.invstd, needs);
 * ```
 */
export interface NormGrads {
  dx: Tensor | null;
  dweight: Tensor | null;
  dbias: Tensor | null;
}

/**
 * Which gradients to compute.
 *
 * @example
 * ```ts
 * const needs: NormNeeds = { dx: true, dweight: false, dbias: false };
 * ```
 */
export interface NormNeeds {
  dx: boolean;
  dweight: boolean;
  dbias: boolean;
}

/** `[N, C, S]` view sizes of an `[N, C, *]` input. */
function layoutOf(op: string, x: Tensor): { n: number; c: number; s: number } {
  if (x.ndim < 2) throw new ShapeError(op, "input must be [N, C, *] (at least 2-D)", [x.shape]);
  const n = x.shape[0]!, c = x.shape[1]!;
  return { n, c, s: c === 0 || n === 0 ? 0 : x.size / (n * c) };
}

/** Contiguous data and offset of an optional per-channel tensor `[C]`. */
function perChannel(op: string, name: string, t: Tensor | null, c: number, x: Tensor): { d: Float32Array; o: number } | null {
  if (t === null) return null;
  if (t.ndim !== 1 || t.shape[0] !== c) throw new ShapeError(op, `${name} must be [${c}] for an input with ${c} channels`, [x.shape, t.shape]);
  const u = t.contiguous();
  return { d: u.data, o: u.offset };
}

/** eps must be a finite non-negative number (NaN would make every output NaN). */
function checkEps(op: string, eps: number): void {
  if (typeof eps !== "number" || !Number.isFinite(eps) || eps < 0) throw new RangeError(`${op}: eps must be a finite non-negative number (got ${String(eps)})`);
}

/**
 * Batch normalisation of `x [N, C, *]` over every axis but the channel axis 1, as
 * `F.batch_norm(x, runningMean, runningVar, weight, bias, training, momentum, eps)`. With batch
 * statistics (`training`, or no running statistics) the variance is biased; when `training` and
 * the running statistics are given they are **updated in place** (as torch does):
 * `r ← (1−momentum)·r + momentum·stat`, with the unbiased variance `var·n/(n−1)` for
 * `runningVar`. In eval mode the running statistics normalise and are left unchanged.
 *
 * @throws {ShapeError} for an input below 2-D, per-channel tensors that are not `[C]`, only one
 * of the running statistics, or training with one value per channel.
 * @example
 * ```ts
 * const rm = zeros([3]), rv = ones([3]);
 * const { value } = batchNorm(x, weight, bias, rm, rv, { training: true, momentum: 0.1, eps: 1e-5 }); // rm, rv updated
 * ```
 */
export function batchNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, runningMean: Tensor | null, runningVar: Tensor | null, opts: BatchNormOptions): NormResult {
  const op = "batchNorm";
  checkTensor(op, "x", x);
  checkEps(op, opts.eps);
  const { n, c, s } = layoutOf(op, x);
  const w = perChannel(op, "weight", weight, c, x), b = perChannel(op, "bias", bias, c, x);
  if ((runningMean === null) !== (runningVar === null)) throw new ShapeError(op, "runningMean and runningVar must both be given or both be null", [x.shape]);
  const rm = perChannel(op, "runningMean", runningMean, c, x), rv = perChannel(op, "runningVar", runningVar, c, x);
  const count = n * s;
  if (opts.training && count <= 1) throw new ShapeError(op, "expected more than 1 value per channel when training", [x.shape]);
  const xc = x.contiguous();
  const xd = xc.data, xo = xc.offset;
  const out = new Float32Array(x.size);
  const mean = new Float64Array(c), invstd = new Float64Array(c);
  const useBatch = opts.training || rm === null;
  const chStride = c * s;
  for (let ch = 0; ch < c; ch++) {
    let mu: number, is: number;
    if (useBatch) {
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const base = xo + i * chStride + ch * s;
        for (let j = 0; j < s; j++) sum += xd[base + j]!;
      }
      mu = count > 0 ? sum / count : 0;
      let sq = 0;
      for (let i = 0; i < n; i++) {
        const base = xo + i * chStride + ch * s;
        for (let j = 0; j < s; j++) {
          const d = xd[base + j]! - mu;
          sq += d * d;
        }
      }
      const variance = count > 0 ? sq / count : 0;
      is = 1 / Math.sqrt(variance + opts.eps);
      if (opts.training && rm !== null && rv !== null) {
        const m = opts.momentum;
        rm.d[rm.o + ch] = (1 - m) * rm.d[rm.o + ch]! + m * mu;
        rv.d[rv.o + ch] = (1 - m) * rv.d[rv.o + ch]! + (m * variance * count) / (count - 1);
      }
    } else {
      mu = rm!.d[rm!.o + ch]!;
      is = 1 / Math.sqrt(rv!.d[rv!.o + ch]! + opts.eps);
    }
    mean[ch] = mu;
    invstd[ch] = is;
    const scale = w === null ? is : is * w.d[w.o + ch]!;
    const shift = b === null ? 0 : b.d[b.o + ch]!;
    for (let i = 0; i < n; i++) {
      const base = i * chStride + ch * s;
      for (let j = 0; j < s; j++) out[base + j] = (xd[xo + base + j]! - mu) * scale + shift;
    }
  }
  return { value: new Tensor(out, x.shape), mean, invstd };
}

/**
 * Gradients of {@link batchNorm} given the upstream gradient `dy` and the forward's `mean` and
 * `invstd`. With batch statistics (`batchStats`), per channel over its `n` values:
 * `dx = weight·invstd·(g − mean(g) − x̂·mean(g·x̂))`; with running statistics
 * `dx = g·weight·invstd`; always `dweight = Σ g·x̂`, `dbias = Σ g`.
 *
 * @throws {ShapeError} when `dy` and `x` differ in shape.
 * @example
 * ```ts
 * const r = batchNorm(x, w, b, null, null, opts);
 * const { dx, dweight, dbias } = batchNormBackward(dy, x, w, r.mean, r.invstd, true, { dx: true, dweight: true, dbias: true });
 * ```
 */
export function batchNormBackward(dy: Tensor, x: Tensor, weight: Tensor | null, mean: Float64Array, invstd: Float64Array, batchStats: boolean, needs: NormNeeds): NormGrads {
  const op = "batchNormBackward";
  const { n, c, s } = layoutOf(op, x);
  if (dy.shape.length !== x.shape.length || dy.shape.some((d, i) => d !== x.shape[i])) throw new ShapeError(op, "gradient and input shapes differ", [dy.shape, x.shape]);
  const w = perChannel(op, "weight", weight, c, x);
  const xc = x.contiguous(), gc = dy.contiguous();
  const xd = xc.data, xo = xc.offset, gd = gc.data, go = gc.offset;
  const dx = needs.dx ? new Float32Array(x.size) : null;
  const dw = needs.dweight ? new Float32Array(c) : null;
  const db = needs.dbias ? new Float32Array(c) : null;
  const count = n * s, chStride = c * s;
  for (let ch = 0; ch < c; ch++) {
    const mu = mean[ch]!, is = invstd[ch]!;
    let sg = 0, sgx = 0;
    for (let i = 0; i < n; i++) {
      const base = i * chStride + ch * s;
      for (let j = 0; j < s; j++) {
        const g = gd[go + base + j]!;
        sg += g;
        sgx += g * (xd[xo + base + j]! - mu) * is;
      }
    }
    if (dw !== null) dw[ch] = sgx;
    if (db !== null) db[ch] = sg;
    if (dx === null) continue;
    const scale = w === null ? is : is * w.d[w.o + ch]!;
    const mg = batchStats && count > 0 ? sg / count : 0;
    const mgx = batchStats && count > 0 ? sgx / count : 0;
    for (let i = 0; i < n; i++) {
      const base = i * chStride + ch * s;
      for (let j = 0; j < s; j++) {
        const xhat = (xd[xo + base + j]! - mu) * is;
        dx[base + j] = scale * (gd[go + base + j]! - mg - xhat * mgx);
      }
    }
  }
  return {
    dx: dx === null ? null : new Tensor(dx, x.shape),
    dweight: dw === null ? null : new Tensor(dw, [c]),
    dbias: db === null ? null : new Tensor(db, [c]),
  };
}

/** Checks `numGroups` against `C`; returns the channels per group. */
function groupSize(op: string, x: Tensor, c: number, numGroups: number): number {
  if (!Number.isInteger(numGroups) || numGroups < 1) throw new RangeError(`${op}: numGroups must be a positive integer (got ${String(numGroups)})`);
  if (c % numGroups !== 0) throw new ShapeError(op, `channels ${c} not divisible by numGroups ${numGroups}`, [x.shape]);
  return c / numGroups;
}

/**
 * Group normalisation of `x [N, C, *]` (`F.group_norm`): per sample and group of `C/G`
 * consecutive channels, mean and biased variance over the group's values, then the per-channel
 * affine map. `G = C` is instance norm, `G = 1` layer norm over `(C, *)`. The returned `mean` and
 * `invstd` are `[N·G]`, sample-major.
 *
 * @throws {ShapeError} for an input below 2-D, `C` not divisible by `numGroups`, or per-channel
 * tensors that are not `[C]`; {RangeError} for a `numGroups` that is not a positive integer.
 * @example
 * ```ts
 * const { value } = groupNorm(x, 2, weight, bias, 1e-5); // x [N, 4, H, W]
 * ```
 */
export function groupNorm(x: Tensor, numGroups: number, weight: Tensor | null, bias: Tensor | null, eps: number): NormResult {
  const op = "groupNorm";
  checkTensor(op, "x", x);
  checkEps(op, eps);
  const { n, c, s } = layoutOf(op, x);
  const cpg = groupSize(op, x, c, numGroups);
  const w = perChannel(op, "weight", weight, c, x), b = perChannel(op, "bias", bias, c, x);
  const xc = x.contiguous();
  const xd = xc.data, xo = xc.offset;
  const out = new Float32Array(x.size);
  const blocks = n * numGroups, len = cpg * s;
  const mean = new Float64Array(blocks), invstd = new Float64Array(blocks);
  for (let k = 0; k < blocks; k++) {
    const start = k * len;
    let sum = 0;
    for (let j = 0; j < len; j++) sum += xd[xo + start + j]!;
    const mu = len > 0 ? sum / len : 0;
    let sq = 0;
    for (let j = 0; j < len; j++) {
      const d = xd[xo + start + j]! - mu;
      sq += d * d;
    }
    const is = 1 / Math.sqrt((len > 0 ? sq / len : 0) + eps);
    mean[k] = mu;
    invstd[k] = is;
    const ch0 = (k % numGroups) * cpg;
    for (let cc = 0; cc < cpg; cc++) {
      const ch = ch0 + cc;
      const scale = w === null ? is : is * w.d[w.o + ch]!;
      const shift = b === null ? 0 : b.d[b.o + ch]!;
      const base = start + cc * s;
      for (let j = 0; j < s; j++) out[base + j] = (xd[xo + base + j]! - mu) * scale + shift;
    }
  }
  return { value: new Tensor(out, x.shape), mean, invstd };
}

/**
 * Gradients of {@link groupNorm}: per block with `gy = g·weight[c]`,
 * `dx = invstd·(gy − mean(gy) − x̂·mean(gy·x̂))`; `dweight[c] = Σ g·x̂`, `dbias[c] = Σ g` over
 * samples and positions.
 *
 * @throws {ShapeError} when `dy` and `x` differ in shape or `C` is not divisible by `numGroups`.
 * @example
 * ```ts
 * const r = groupNorm(x, 2, w, b, 1e-5);
 * const g = groupNormBackward(dy, x, 2, w, r.mean, r.invstd, { dx: true, dweight: true, dbias: true });
 * ```
 */
export function groupNormBackward(dy: Tensor, x: Tensor, numGroups: number, weight: Tensor | null, mean: Float64Array, invstd: Float64Array, needs: NormNeeds): NormGrads {
  const op = "groupNormBackward";
  const { n, c, s } = layoutOf(op, x);
  if (dy.shape.length !== x.shape.length || dy.shape.some((d, i) => d !== x.shape[i])) throw new ShapeError(op, "gradient and input shapes differ", [dy.shape, x.shape]);
  const cpg = groupSize(op, x, c, numGroups);
  const w = perChannel(op, "weight", weight, c, x);
  const xc = x.contiguous(), gc = dy.contiguous();
  const xd = xc.data, xo = xc.offset, gd = gc.data, go = gc.offset;
  const dx = needs.dx ? new Float32Array(x.size) : null;
  const dw = needs.dweight ? new Float64Array(c) : null;
  const db = needs.dbias ? new Float64Array(c) : null;
  const blocks = n * numGroups, len = cpg * s;
  for (let k = 0; k < blocks; k++) {
    const start = k * len, mu = mean[k]!, is = invstd[k]!;
    const ch0 = (k % numGroups) * cpg;
    let s1 = 0, s2 = 0;
    for (let cc = 0; cc < cpg; cc++) {
      const ch = ch0 + cc;
      const wc = w === null ? 1 : w.d[w.o + ch]!;
      const base = start + cc * s;
      let sg = 0, sgx = 0;
      for (let j = 0; j < s; j++) {
        const g = gd[go + base + j]!;
        sg += g;
        sgx += g * (xd[xo + base + j]! - mu) * is;
      }
      if (dw !== null) dw[ch] += sgx;
      if (db !== null) db[ch] += sg;
      s1 += sg * wc;
      s2 += sgx * wc;
    }
    if (dx === null) continue;
    const m1 = len > 0 ? s1 / len : 0, m2 = len > 0 ? s2 / len : 0;
    for (let cc = 0; cc < cpg; cc++) {
      const ch = ch0 + cc;
      const wc = w === null ? 1 : w.d[w.o + ch]!;
      const base = start + cc * s;
      for (let j = 0; j < s; j++) {
        const xhat = (xd[xo + base + j]! - mu) * is;
        dx[base + j] = is * (gd[go + base + j]! * wc - m1 - xhat * m2);
      }
    }
  }
  return {
    dx: dx === null ? null : new Tensor(dx, x.shape),
    dweight: dw === null ? null : new Tensor(Float32Array.from(dw), [c]),
    dbias: db === null ? null : new Tensor(Float32Array.from(db), [c]),
  };
}
