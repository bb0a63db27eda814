/**
 * @file Pooling layers as `torch.nn.MaxPool2d`, `AvgPool2d` and `AdaptiveAvgPool2d` (no
 * parameters). Inputs are `[N, C, H, W]` or unbatched `[C, H, W]`; the stride defaults to the
 * kernel size, as in torch.
 */
import { avgPool2dOutputShape, maxPool2dOutputShape, spatialPair, type AvgPool2dOptions, type MaxPool2dOptions, type Spatial2 } from "@tapegrad/tensor";
import { adaptiveAvgPool2d, avgPool2d, maxPool2d, squeeze, toVar, unsqueeze, type Var, type VarLike } from "@tapegrad/autograd";
import { ShapeError } from "@tapegrad/tensor";
import { Module } from "../module.js";

/** Runs `f` on `[N,C,H,W]`; an unbatched `[C,H,W]` input gets a batch dim of 1. */
function batched4(layer: string, x: VarLike, f: (v: Var) => Var): Var {
  const v = toVar(x, layer);
  if (v.ndim === 3) return squeeze(f(unsqueeze(v, 0)), 0);
  if (v.ndim !== 4) throw new ShapeError(layer, "input must be [N,C,H,W] or [C,H,W]", [v.shape]);
  return f(v);
}

/**
 * Options of {@link MaxPool2d} (all but the kernel size).
 *
 * @example
 * ```ts
 * const opts: MaxPool2dLayerOptions = { stride: 2, padding: 1, ceilMode: true };
 * ```
 */
export type MaxPool2dLayerOptions = Omit<MaxPool2dOptions, "kernelSize">;

/**
 * Options of {@link AvgPool2d} (all but the kernel size).
 *
 * @example
 * ```ts
 * const opts: AvgPool2dLayerOptions = { padding: 1, countIncludePad: false };
 * ```
 */
export type AvgPool2dLayerOptions = Omit<AvgPool2dOptions, "kernelSize">;

/**
 * Max pooling layer (`torch.nn.MaxPool2d`): padding (implicit `-inf`, at most half the kernel),
 * dilation, ceil mode.
 *
 * @throws {RangeError} for bad options (checked by the constructor); `forward` throws
 * {ShapeError} naming `MaxPool2d` for a wrong rank or an input smaller than the window.
 * @example
 * ```ts
 * new MaxPool2d(2).forward(x); // [N, C, H/2, W/2]
 * ```
 */
export class MaxPool2d extends Module {
  readonly opts: MaxPool2dOptions;

  constructor(kernelSize: Spatial2, opts: MaxPool2dLayerOptions = {}) {
    super();
    this.opts = { ...opts, kernelSize, stride: opts.stride ?? kernelSize };
    maxPool2dOutputShape("MaxPool2d", [1, 1, 1 << 20, 1 << 20], this.opts); // validates the options
  }

  /**
   * Max over each window of `x`.
   *
   * @throws {ShapeError} naming `MaxPool2d` for a wrong rank or an input smaller than the window.
   * @example
   * ```ts
   * new MaxPool2d(3, { stride: 2, padding: 1 }).forward(zeros([1, 2, 7, 7])).shape; // [1, 2, 4, 4]
   * ```
   */
  forward(x: VarLike): Var {
    return batched4("MaxPool2d", x, (v) => {
      maxPool2dOutputShape("MaxPool2d", v.shape, this.opts);
      return maxPool2d(v, this.opts);
    });
  }

  protected override describe(): string {
    return JSON.stringify(this.opts);
  }
}

/**
 * Average pooling layer (`torch.nn.AvgPool2d`): padding, ceil mode, `countIncludePad` (default
 * true), `divisorOverride`.
 *
 * @throws {RangeError} for bad options (checked by the constructor); `forward` throws
 * {ShapeError} naming `AvgPool2d` for a wrong rank or an input smaller than the window.
 * @example
 * ```ts
 * new AvgPool2d(2).forward(x); // [N, C, H/2, W/2]
 * ```
 */
export class AvgPool2d extends Module {
  readonly opts: AvgPool2dOptions;

  constructor(kernelSize: Spatial2, opts: AvgPool2dLayerOptions = {}) {
    super();
    this.opts = { ...opts, kernelSize, stride: opts.stride ?? kernelSize };
    avgPool2dOutputShape("AvgPool2d", [1, 1, 1 << 20, 1 << 20], this.opts); // validates the options
  }

  /**
   * Mean over each window of `x` (divisor as in torch).
   *
   * @throws {ShapeError} naming `AvgPool2d` for a wrong rank or an input smaller than the window.
   * @example
   * ```ts
   * new AvgPool2d(2, { ceilMode: true }).forward(zeros([1, 1, 5, 5])).shape; // [1, 1, 3, 3]
   * ```
   */
  forward(x: VarLike): Var {
    return batched4("AvgPool2d", x, (v) => {
      avgPool2dOutputShape("AvgPool2d", v.shape, this.opts);
      return avgPool2d(v, this.opts);
    });
  }

  protected override describe(): string {
    return JSON.stringify(this.opts);
  }
}

/**
 * Adaptive average pooling layer (`torch.nn.AdaptiveAvgPool2d`) to a fixed `[oH, oW]`; a `null`
 * entry keeps the input's size in that dim.
 *
 * @throws {RangeError} for a non-positive output size; `forward` throws {ShapeError} naming
 * `AdaptiveAvgPool2d` for a wrong rank.
 * @example
 * ```ts
 * new AdaptiveAvgPool2d(1).forward(features); // [N, C, 1, 1]
 * ```
 */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: number | readonly [number | null, number | null];

  constructor(outputSize: number | readonly [number | null, number | null]) {
    super();
    const parts = typeof outputSize === "number" ? [outputSize] : outputSize;
    for (const p of parts) if (p !== null) spatialPair("AdaptiveAvgPool2d", p, 1, "outputSize", 1);
    this.outputSize = outputSize;
  }

  /**
   * Mean over each adaptive window of `x`.
   *
   * @throws {ShapeError} naming `AdaptiveAvgPool2d` for a wrong rank.
   * @example
   * ```ts
   * new AdaptiveAvgPool2d([2, null]).forward(zeros([1, 3, 6, 5])).shape; // [1, 3, 2, 5]
   * ```
   */
  forward(x: VarLike): Var {
    return batched4("AdaptiveAvgPool2d", x, (v) => {
      const s = this.outputSize;
      const size: Spatial2 = typeof s === "number" ? s : [s[0] ?? v.shape[2]!, s[1] ?? v.shape[3]!];
      return adaptiveAvgPool2d(v, size);
    });
  }

  protected override describe(): string {
    return `outputSize=${JSON.stringify(this.outputSize)}`;
  }
}
