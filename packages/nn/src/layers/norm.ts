/**
 * @file Normalisation layers with PyTorch's parameters, buffers and state-dict keys:
 * `BatchNorm1d`/`BatchNorm2d` (`weight`, `bias`, buffers `running_mean`, `running_var`,
 * `num_batches_tracked`; batch statistics and running-average updates in training mode, running
 * statistics in eval mode) and `GroupNorm` (`weight`, `bias`).
 */
import { ShapeError, Tensor, ones, zeros } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import type { Var, VarLike } from "@tapegrad/autograd";
import { Module } from "../module.js";

/**
 * Options of `BatchNorm1d`/`BatchNorm2d` (torch's keyword arguments).
 *
 * @example
 * ```ts
 * new BatchNorm2d(16, { momentum: null, affine: false, trackRunningStats: true, eps: 1e-3 });
 * ```
 */
export interface BatchNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /**
   * Weight of the new batch statistic in the running averages (default 0.1); `null` is torch's
   * cumulative average (`1/num_batches_tracked`).
   */
  momentum?: number | null;
  /** Learnable `weight` (ones) and `bias` (zeros) (default true). */
  affine?: boolean;
  /** Keep running statistics and use them in eval mode (default true). */
  trackRunningStats?: boolean;
}

function positiveInt(layer: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${layer}: ${name} must be a positive integer (got ${String(v)})`);
}

function checkEps(layer: string, eps: number): void {
  if (typeof eps !== "number" || !(eps >= 0)) throw new RangeError(`${layer}: eps must be a number >= 0 (got ${String(eps)})`);
}

/** Shared implementation of BatchNorm1d/2d; subclasses only declare the accepted input ranks. */
abstract class BatchNormBase extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  /** `[C]` scale, or null without `affine`. */
  readonly weight: Var | null;
  /** `[C]` shift, or null without `affine`. */
  readonly bias: Var | null;

  constructor(numFeatures: number, opts: BatchNormOptions) {
    super();
    const layer = this.constructor.name;
    positiveInt(layer, "numFeatures", numFeatures);
    const eps = opts.eps ?? 1e-5, momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    checkEps(layer, eps);
    if (momentum !== null && (typeof momentum !== "number" || !(momentum >= 0 && momentum <= 1))) throw new RangeError(`${layer}: momentum must be in [0, 1] or null (got ${String(momentum)})`);
    this.numFeatures = numFeatures;
    this.eps = eps;
    this.momentum = momentum;
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    this.weight = this.affine ? this.addParameter("weight", ones([numFeatures])) : null;
    this.bias = this.affine ? this.addParameter("bias", zeros([numFeatures])) : null;
    if (this.trackRunningStats) {
      this.registerBuffer("running_mean", zeros([numFeatures]));
      this.registerBuffer("running_var", ones([numFeatures]));
      this.registerBuffer("num_batches_tracked", zeros([]));
    }
  }

  /** The input ranks this layer accepts, and how to describe them in errors. */
  protected abstract readonly ranks: readonly number[];
  protected abstract readonly layoutName: string;

  /**
   * Normalises `x [N, C, *]` per channel: in training mode with the batch's mean and biased
   * variance (updating `running_mean`, `running_var` with the unbiased variance, and
   * `num_batches_tracked`, when tracking); in eval mode with the running statistics (batch
   * statistics when `trackRunningStats` is false).
   *
   * @throws {ShapeError} for an input of the wrong rank or channel count, or training with one
   * value per channel; {TypeError} for an input that is not a Var, Tensor or number.
   * @example
   * ```ts
   * const bn = new BatchNorm2d(16);
   * const y = bn.forward(x); // x [N, 16, H, W]; bn.getBuffer("running_mean") updated
   * ```
   */
  forward(x: VarLike): Var {
    const layer = this.constructor.name;
    const v = A.toVar(x, layer);
    if (!this.ranks.includes(v.ndim)) throw new ShapeError(layer, `expected ${this.layoutName} input (${this.ranks.join("-D or ")}-D)`, [v.shape]);
    if (v.shape[1] !== this.numFeatures) throw new ShapeError(layer, `expected ${this.numFeatures} channels (dim 1), got ${v.shape[1]}`, [v.shape]);
    const rm = this.getBuffer("running_mean") ?? null, rv = this.getBuffer("running_var") ?? null;
    const useBatch = this.training || rm === null;
    // torch checks this whenever batch statistics are used (eval without running statistics too)
    if (useBatch && v.size / this.numFeatures <= 1) throw new ShapeError(layer, "expected more than 1 value per channel when using batch statistics (training)", [v.shape]);
    const tracked = this.getBuffer("num_batches_tracked");
    let momentum = this.momentum ?? 0;
    if (this.training && this.trackRunningStats && tracked instanceof Tensor) {
      tracked.data[tracked.offset] = tracked.data[tracked.offset]! + 1;
      if (this.momentum === null) momentum = 1 / tracked.data[tracked.offset]!;
    }
    return A.batchNorm(v, rm, rv, { weight: this.weight, bias: this.bias, training: useBatch, momentum, eps: this.eps });
  }

  protected override describe(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/**
 * Batch normalisation over `[N, C]` or `[N, C, L]` inputs (torch.nn.BatchNorm1d).
 *
 * @throws {RangeError} from the constructor for a `numFeatures` that is not a positive integer,
 * a momentum outside [0, 1] (or null) or a negative eps; {ShapeError} from `forward` (see there).
 * @example
 * ```ts
 * const bn = new BatchNorm1d(64, { momentum: 0.01 });
 * bn.forward(h); // h [N, 64]
 * bn.eval(); bn.forward(h1); // running statistics, batch of one allowed
 * ```
 */
export class BatchNorm1d extends BatchNormBase {
  protected readonly ranks = [2, 3] as const;
  protected readonly layoutName = "[N, C] or [N, C, L]";
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super(numFeatures, opts);
  }
}

/**
 * Batch normalisation over `[N, C, H, W]` inputs (torch.nn.BatchNorm2d).
 *
 * @throws {RangeError} from the constructor for a `numFeatures` that is not a positive integer,
 * a momentum outside [0, 1] (or null) or a negative eps; {ShapeError} from `forward` (see there).
 * @example
 * ```ts
 * const bn = new BatchNorm2d(16, { affine: false });
 * const y = bn.forward(conv.forward(x));
 * ```
 */
export class BatchNorm2d extends BatchNormBase {
  protected readonly ranks = [4] as const;
  protected readonly layoutName = "[N, C, H, W]";
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super(numFeatures, opts);
  }
}

/**
 * Group normalisation (torch.nn.GroupNorm): the `numChannels` channels are split into
 * `numGroups` groups of consecutive channels, each normalised per sample, then scaled and shifted
 * per channel (`weight` ones, `bias` zeros, with `affine`). Same in train and eval mode.
 *
 * @throws {RangeError} from the constructor for counts that are not positive integers or a
 * negative eps; {ShapeError} when `numChannels` is not divisible by `numGroups`, and from
 * `forward` for an input that is not `[N, numChannels, *]`.
 * @example
 * ```ts
 * const gn = new GroupNorm(4, 32);
 * const y = gn.forward(x); // x [N, 32, H, W]
 * ```
 */
export class GroupNorm extends Module {
  readonly numGroups: number;
  readonly numChannels: number;
  readonly eps: number;
  readonly affine: boolean;
  readonly weight: Var | null;
  readonly bias: Var | null;
  constructor(numGroups: number, numChannels: number, opts: { eps?: number; affine?: boolean } = {}) {
    super();
    positiveInt("GroupNorm", "numGroups", numGroups);
    positiveInt("GroupNorm", "numChannels", numChannels);
    if (numChannels % numGroups !== 0) throw new ShapeError("GroupNorm", `numChannels ${numChannels} not divisible by numGroups ${numGroups}`);
    const eps = opts.eps ?? 1e-5;
    checkEps("GroupNorm", eps);
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = eps;
    this.affine = opts.affine ?? true;
    this.weight = this.affine ? this.addParameter("weight", ones([numChannels])) : null;
    this.bias = this.affine ? this.addParameter("bias", zeros([numChannels])) : null;
  }
  /**
   * Normalises `x [N, numChannels, *]` per sample and group.
   *
   * @throws {ShapeError} for an input below 2-D or with another channel count; {TypeError} for
   * an input that is not a Var, Tensor or number.
   * @example
   * ```ts
   * new GroupNorm(2, 4).forward(x); // x [N, 4, L]
   * ```
   */
  forward(x: VarLike): Var {
    const v = A.toVar(x, "GroupNorm");
    if (v.ndim < 2 || v.shape[1] !== this.numChannels) throw new ShapeError("GroupNorm", `expected input [N, ${this.numChannels}, *]`, [v.shape]);
    return A.groupNorm(v, this.numGroups, this.weight, this.bias, this.eps);
  }
  protected override describe(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.affine}`;
  }
}
