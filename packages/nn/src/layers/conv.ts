/**
 * @file Convolution layers with PyTorch's parameter names, layouts and default initialisation:
 * `Conv1d` and `Conv2d` (`weight [out, in/groups, ...kernel]`), `ConvTranspose2d` (`weight [in,
 * out/groups, kH, kW]`), each with an optional `bias [out]`. Weights and biases are drawn from
 * `U(−1/√fanIn, 1/√fanIn)` (torch's Kaiming-uniform with a = √5), `fanIn = weight.shape[1] ·
 * kernel size`. Inputs may be batched or unbatched (`[C, ...]`), as in torch.
 */
import { Rng, defaultRng, convGeometry, convTransposeGeometry, conv1dAs2d, spatialPair, type ConvPadding, type Spatial2 } from "@tapegrad/tensor";
import { conv1d, conv2d, convTranspose2d, squeeze, toVar, unsqueeze, type Var, type VarLike } from "@tapegrad/autograd";
import { Module } from "../module.js";
import { uniform } from "../init.js";

/** Options common to the convolution layers. */
interface ConvLayerCommon {
  /** Input and output channels split into `groups` blocks (default 1). */
  groups?: number;
  /** Add a learnable bias (default true). */
  bias?: boolean;
  /** Generator for the initial weights (default: the global one). */
  rng?: Rng;
}

/**
 * Options of {@link Conv2d} (stride, padding, dilation: a number or `[h, w]`).
 *
 * @example
 * ```ts
 * const opts: Conv2dLayerOptions = { stride: 1, padding: "same", groups: 4, bias: false };
 * ```
 */
export interface Conv2dLayerOptions extends ConvLayerCommon {
  stride?: Spatial2;
  padding?: ConvPadding;
  dilation?: Spatial2;
}

/**
 * Options of {@link Conv1d}.
 *
 * @example
 * ```ts
 * const opts: Conv1dLayerOptions = { stride: 2, padding: 1 };
 * ```
 */
export interface Conv1dLayerOptions extends ConvLayerCommon {
  stride?: number;
  padding?: number | "same" | "valid";
  dilation?: number;
}

/**
 * Options of {@link ConvTranspose2d}.
 *
 * @example
 * ```ts
 * const opts: ConvTranspose2dLayerOptions = { stride: 2, padding: 1, outputPadding: 1 };
 * ```
 */
export interface ConvTranspose2dLayerOptions extends ConvLayerCommon {
  stride?: Spatial2;
  padding?: Spatial2;
  outputPadding?: Spatial2;
  dilation?: Spatial2;
}

/** Checks the channel counts against `groups` (torch checks them in the constructor). */
function checkChannels(layer: string, inC: number, outC: number, groups: number): void {
  if (!Number.isInteger(inC) || !Number.isInteger(outC) || inC <= 0 || outC <= 0) {
    throw new RangeError(`${layer}: channel counts must be positive integers (got in ${inC}, out ${outC})`);
  }
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError(`${layer}: groups must be a positive integer (got ${groups})`);
  if (inC % groups !== 0) throw new RangeError(`${layer}: inChannels ${inC} not divisible by groups ${groups}`);
  if (outC % groups !== 0) throw new RangeError(`${layer}: outChannels ${outC} not divisible by groups ${groups}`);
}

/** Runs `f` on a batched input; an unbatched one (rank `batched − 1`) gets a batch dim of 1. */
function batched(layer: string, x: VarLike, rank: number, f: (v: Var) => Var): Var {
  const v = toVar(x, layer);
  return v.ndim === rank - 1 ? squeeze(f(unsqueeze(v, 0)), 0) : f(v);
}

/** Base of the convolution layers: parameters, options and the shape checks of `forward`. */
abstract class ConvBase extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly groups: number;
  weight!: Var;
  bias!: Var | null;

  constructor(layer: string, inC: number, outC: number, groups: number | undefined) {
    super();
    checkChannels(layer, inC, outC, groups ?? 1);
    this.inChannels = inC;
    this.outChannels = outC;
    this.groups = groups ?? 1;
  }

  /**
   * Registers `weight` (shape `shape`) and, when `withBias`, `bias [outChannels]`, both drawn
   * from `U(−1/√fanIn, 1/√fanIn)` with `fanIn = shape[1]·kernel size` (torch's default).
   */
  protected initParams(shape: number[], withBias: boolean, rng: Rng): void {
    const bound = 1 / Math.sqrt(shape.slice(1).reduce((a, b) => a * b, 1));
    this.weight = this.addParameter("weight", uniform(shape, -bound, bound, { rng }));
    this.bias = withBias ? this.addParameter("bias", uniform([this.outChannels], -bound, bound, { rng })) : null;
  }
}

/**
 * 2-D convolution layer (`torch.nn.Conv2d`): `[N, inChannels, H, W]` (or `[inChannels, H, W]`)
 * → `[N, outChannels, OH, OW]`.
 *
 * @throws {RangeError} for non-positive channel counts, channels not divisible by `groups`,
 * `"same"` padding with a stride > 1, or bad option values; `forward` throws {ShapeError}
 * naming `Conv2d` for an input with the wrong rank or channel count, or smaller than the kernel.
 * @example
 * ```ts
 * const conv = new Conv2d(1, 32, 3, { padding: 1, rng: new Rng(0) });
 * conv.forward(images).shape; // [B, 32, 28, 28]
 * ```
 */
export class Conv2d extends ConvBase {
  readonly kernelSize: [number, number];
  readonly opts: { stride: [number, number]; padding: [number, number] | "same" | "valid"; dilation: [number, number]; groups: number };

  constructor(inChannels: number, outChannels: number, kernelSize: Spatial2, opts: Conv2dLayerOptions = {}) {
    super("Conv2d", inChannels, outChannels, opts.groups);
    this.kernelSize = spatialPair("Conv2d", kernelSize, 0, "kernelSize", 1);
    const stride = spatialPair("Conv2d", opts.stride ?? 1, 0, "stride", 1);
    const pad = opts.padding ?? 0;
    if (pad === "same" && (stride[0] !== 1 || stride[1] !== 1)) throw new RangeError(`Conv2d: padding "same" needs stride 1 (got stride [${stride}])`);
    const padding = pad === "same" || pad === "valid" ? pad : spatialPair("Conv2d", pad, 0, "padding", 0);
    this.opts = { stride, padding, dilation: spatialPair("Conv2d", opts.dilation ?? 1, 0, "dilation", 1), groups: this.groups };
    this.initParams([outChannels, inChannels / this.groups, ...this.kernelSize], opts.bias !== false, opts.rng ?? defaultRng);
  }

  /**
   * Cross-correlation of `x` with the layer's weight, plus its bias.
   *
   * @throws {ShapeError} naming `Conv2d` for a wrong rank or channel count, or an input smaller
   * than the (dilated) kernel after padding.
   * @example
   * ```ts
   * new Conv2d(3, 8, 3).forward(zeros([2, 3, 5, 5])).shape; // [2, 8, 3, 3]
   * ```
   */
  forward(x: VarLike): Var {
    return batched("Conv2d", x, 4, (v) => {
      convGeometry("Conv2d", v.shape, this.weight.shape, this.opts);
      return conv2d(v, this.weight, this.bias, this.opts);
    });
  }

  protected override describe(): string {
    return `${this.inChannels}, ${this.outChannels}, kernel=[${this.kernelSize}], stride=[${this.opts.stride}], padding=${JSON.stringify(this.opts.padding)}, dilation=[${this.opts.dilation}], groups=${this.groups}, bias=${this.bias !== null}`;
  }
}

/**
 * 1-D convolution layer (`torch.nn.Conv1d`): `[N, inChannels, L]` (or `[inChannels, L]`) →
 * `[N, outChannels, Lout]`.
 *
 * @throws {RangeError} for non-positive channel counts, channels not divisible by `groups`,
 * `"same"` padding with a stride > 1, or bad option values; `forward` throws {ShapeError}
 * naming `Conv1d` for a wrong input.
 * @example
 * ```ts
 * const conv = new Conv1d(4, 8, 5, { padding: "same" });
 * conv.forward(signal).shape; // [B, 8, L]
 * ```
 */
export class Conv1d extends ConvBase {
  readonly kernelSize: number;
  readonly opts: { stride: number; padding: number | "same" | "valid"; dilation: number; groups: number };

  constructor(inChannels: number, outChannels: number, kernelSize: number, opts: Conv1dLayerOptions = {}) {
    super("Conv1d", inChannels, outChannels, opts.groups);
    this.kernelSize = spatialPair("Conv1d", kernelSize, 0, "kernelSize", 1)[0];
    this.opts = { stride: opts.stride ?? 1, padding: opts.padding ?? 0, dilation: opts.dilation ?? 1, groups: this.groups };
    conv1dAs2d("Conv1d", this.opts);
    spatialPair("Conv1d", this.opts.stride, 0, "stride", 1);
    spatialPair("Conv1d", this.opts.dilation, 0, "dilation", 1);
    if (typeof this.opts.padding === "number") spatialPair("Conv1d", this.opts.padding, 0, "padding", 0);
    if (this.opts.padding === "same" && this.opts.stride !== 1) throw new RangeError(`Conv1d: padding "same" needs stride 1 (got stride ${this.opts.stride})`);
    this.initParams([outChannels, inChannels / this.groups, this.kernelSize], opts.bias !== false, opts.rng ?? defaultRng);
  }

  /**
   * Cross-correlation of `x` with the layer's weight, plus its bias.
   *
   * @throws {ShapeError} naming `Conv1d` for a wrong rank or channel count, or an input shorter
   * than the (dilated) kernel after padding.
   * @example
   * ```ts
   * new Conv1d(2, 4, 3).forward(zeros([1, 2, 10])).shape; // [1, 4, 8]
   * ```
   */
  forward(x: VarLike): Var {
    return batched("Conv1d", x, 3, (v) => {
      convGeometry("Conv1d", v.shape, this.weight.shape, conv1dAs2d("Conv1d", this.opts), true);
      return conv1d(v, this.weight, this.bias, this.opts);
    });
  }

  protected override describe(): string {
    return `${this.inChannels}, ${this.outChannels}, kernel=${this.kernelSize}, stride=${this.opts.stride}, padding=${JSON.stringify(this.opts.padding)}, dilation=${this.opts.dilation}, groups=${this.groups}, bias=${this.bias !== null}`;
  }
}

/**
 * Transposed 2-D convolution layer (`torch.nn.ConvTranspose2d`): `[N, inChannels, H, W]` →
 * `[N, outChannels, (H−1)·s − 2p + d·(k−1) + outputPadding + 1, …]`; weight `[inChannels,
 * outChannels/groups, kH, kW]`.
 *
 * @throws {RangeError} for non-positive channel counts, channels not divisible by `groups`, or
 * bad options (e.g. an `outputPadding` not smaller than the stride or the dilation); `forward`
 * throws {ShapeError} naming `ConvTranspose2d` for a wrong input.
 * @example
 * ```ts
 * const up = new ConvTranspose2d(16, 8, 3, { stride: 2, padding: 1, outputPadding: 1 });
 * up.forward(x).shape; // [B, 8, 2H, 2W]
 * ```
 */
export class ConvTranspose2d extends ConvBase {
  readonly kernelSize: [number, number];
  readonly opts: { stride: [number, number]; padding: [number, number]; outputPadding: [number, number]; dilation: [number, number]; groups: number };

  constructor(inChannels: number, outChannels: number, kernelSize: Spatial2, opts: ConvTranspose2dLayerOptions = {}) {
    super("ConvTranspose2d", inChannels, outChannels, opts.groups);
    this.kernelSize = spatialPair("ConvTranspose2d", kernelSize, 0, "kernelSize", 1);
    const stride = spatialPair("ConvTranspose2d", opts.stride ?? 1, 0, "stride", 1);
    const dilation = spatialPair("ConvTranspose2d", opts.dilation ?? 1, 0, "dilation", 1);
    const outputPadding = spatialPair("ConvTranspose2d", opts.outputPadding ?? 0, 0, "outputPadding", 0);
    if ((outputPadding[0] >= stride[0] && outputPadding[0] >= dilation[0]) || (outputPadding[1] >= stride[1] && outputPadding[1] >= dilation[1])) {
      throw new RangeError(`ConvTranspose2d: outputPadding [${outputPadding}] must be smaller than the stride [${stride}] or the dilation [${dilation}]`);
    }
    this.opts = { stride, padding: spatialPair("ConvTranspose2d", opts.padding ?? 0, 0, "padding", 0), outputPadding, dilation, groups: this.groups };
    this.initParams([inChannels, outChannels / this.groups, ...this.kernelSize], opts.bias !== false, opts.rng ?? defaultRng);
  }

  /**
   * The transposed convolution of `x` with the layer's weight, plus its bias.
   *
   * @throws {ShapeError} naming `ConvTranspose2d` for a wrong rank or channel count, or an empty
   * output.
   * @example
   * ```ts
   * new ConvTranspose2d(2, 3, 3).forward(zeros([1, 2, 4, 4])).shape; // [1, 3, 6, 6]
   * ```
   */
  forward(x: VarLike): Var {
    return batched("ConvTranspose2d", x, 4, (v) => {
      convTransposeGeometry("ConvTranspose2d", v.shape, this.weight.shape, this.opts);
      return convTranspose2d(v, this.weight, this.bias, this.opts);
    });
  }

  protected override describe(): string {
    return `${this.inChannels}, ${this.outChannels}, kernel=[${this.kernelSize}], stride=[${this.opts.stride}], padding=[${this.opts.padding}], outputPadding=[${this.opts.outputPadding}], dilation=[${this.opts.dilation}], groups=${this.groups}, bias=${this.bias !== null}`;
  }
}
