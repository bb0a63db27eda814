/**
 * @file Convolution and pooling ops (NCHW / NCL), as PyTorch 1.13's functional API: `conv1d`,
 * `conv2d`, `convTranspose2d`, `maxPool2d`, `avgPool2d`, `adaptiveAvgPool2d`. The tensor
 * package's kernels (im2col + blocked GEMM, direct pooling loops) do forward and backward.
 */
import * as T from "@tapegrad/tensor";
import type { Var } from "../var.js";
import { apply, type VarLike } from "../apply.js";
import { defineRule } from "../rule.js";

/**
 * Attributes of the `conv2d` primitive: the options and whether a bias is the third input.
 *
 * @example
 * ```ts
 * const a: ConvAttrs = { stride: 2, padding: "valid", hasBias: true };
 * ```
 */
export interface ConvAttrs extends T.Conv2dOptions { hasBias: boolean }
/**
 * Attributes of the `conv1d` primitive.
 *
 * @example
 * ```ts
 * const a: Conv1dAttrs = { padding: "same", dilation: 2, hasBias: false };
 * ```
 */
export interface Conv1dAttrs extends T.Conv1dOptions { hasBias: boolean }
/**
 * Attributes of the `convTranspose2d` primitive.
 *
 * @example
 * ```ts
 * const a: ConvTransposeAttrs = { stride: 2, outputPadding: 1, hasBias: true };
 * ```
 */
export interface ConvTransposeAttrs extends T.ConvTranspose2dOptions { hasBias: boolean }
/**
 * Attributes of the `adaptiveAvgPool2d` primitive.
 *
 * @example
 * ```ts
 * const a: AdaptiveAttrs = { outputSize: [3, 4] };
 * ```
 */
export interface AdaptiveAttrs { outputSize: T.Spatial2 }

/** The rule's gradient list: `[dx, dw]`, plus `db` when the op has a bias. */
const grads = (r: T.ConvGrads, hasBias: boolean): (T.Tensor | null)[] => (hasBias ? [r.dx, r.dw, r.db] : [r.dx, r.dw]);
const needs = (n: readonly boolean[], hasBias: boolean): T.ConvNeeds => ({ dx: n[0] ?? false, dw: n[1] ?? false, db: hasBias && (n[2] ?? false) });

/**
 * Rules of the convolution and pooling ops, each declared with its attribute type
 * (`defineRule<A, S>`). `rules.ts` merges them into the op table; the functions below run them
 * by name with `apply(name, attrs, inputs)`.
 *
 * @throws whatever a rule's forward or backward throws (e.g. ShapeError); reading it never throws.
 * @example
 * ```ts
 * convRules.maxPool2d.forward([x], { kernelSize: 2 });
 * ```
 */
export const convRules = {
  conv2d: defineRule<ConvAttrs>({
    forward: (xs, a) => T.conv2d(xs[0]!, xs[1]!, a.hasBias ? xs[2]! : null, a),
    // y = W ⋆ x + b ⇒ dx = col2im(Wᵀ·dy), dW = Σ_n dy_n·colsᵀ, db = Σ dy over batch and space
    backward: (dy, c) => grads(T.conv2dBackward(dy, c.x[0]!, c.x[1]!, c.attrs, needs(c.needs, c.attrs.hasBias)), c.attrs.hasBias),
  }),
  conv1d: defineRule<Conv1dAttrs>({
    forward: (xs, a) => T.conv1d(xs[0]!, xs[1]!, a.hasBias ? xs[2]! : null, a),
    // the 2-D rule with H = 1: dx = col2im(Wᵀ·dy), dW = Σ_n dy_n·colsᵀ, db = Σ dy
    backward: (dy, c) => grads(T.conv1dBackward(dy, c.x[0]!, c.x[1]!, c.attrs, needs(c.needs, c.attrs.hasBias)), c.attrs.hasBias),
  }),
  convTranspose2d: defineRule<ConvTransposeAttrs>({
    forward: (xs, a) => T.convTranspose2d(xs[0]!, xs[1]!, a.hasBias ? xs[2]! : null, a),
    // y = Cᵀx + b for the convolution C with weight W ⇒ dx = C·dy = conv2d(dy, W), dW = Σ_n x_n·cols(dy_n)ᵀ, db = Σ dy
    backward: (dy, c) => grads(T.convTranspose2dBackward(dy, c.x[0]!, c.x[1]!, c.attrs, needs(c.needs, c.attrs.hasBias)), c.attrs.hasBias),
  }),
  maxPool2d: defineRule<T.MaxPool2dOptions, Int32Array>({
    forward: ([x], a) => {
      const { value, indices } = T.maxPool2d(x!, a);
      return { value, saved: indices };
    },
    backward: (dy, c) => [T.maxPool2dBackward(dy, c.saved, c.x[0]!.shape)], // ∂max/∂x = 1 at each window's arg-max, else 0
  }),
  avgPool2d: defineRule<T.AvgPool2dOptions>({
    forward: ([x], a) => T.avgPool2d(x!, a),
    backward: (dy, c) => [T.avgPool2dBackward(dy, c.x[0]!.shape, c.attrs)], // y = Σ_window x / divisor ⇒ dx += dy / divisor over the window
  }),
  adaptiveAvgPool2d: defineRule<AdaptiveAttrs>({
    forward: ([x], a) => T.adaptiveAvgPool2d(x!, a.outputSize),
    backward: (dy, c) => [T.adaptiveAvgPool2dBackward(dy, c.x[0]!.shape)], // y = mean(window) ⇒ dx += dy / |window| over the window
  }),
};

/**
 * 2-D convolution (cross-correlation, `F.conv2d`) of `x [N,C,H,W]` with `weight [O, C/groups,
 * kH, kW]` and optional `bias [O]`: stride, padding (number, pair, `"same"`, `"valid"`),
 * dilation, groups.
 *
 * @throws {ShapeError} for incompatible shapes, channels not divisible by `groups`, `"same"`
 * with a stride > 1 or a kernel larger than the padded input; {RangeError} for bad options.
 * @example
 * ```ts
 * conv2d(x, w, b, { stride: 1, padding: "same", groups: 2 });
 * ```
 */
export function conv2d(x: VarLike, weight: VarLike, bias: VarLike | null = null, opts: T.Conv2dOptions = {}): Var {
  return apply("conv2d", { ...opts, hasBias: bias !== null }, bias === null ? [x, weight] : [x, weight, bias]);
}

/**
 * 1-D convolution (`F.conv1d`) of `x [N,C,L]` with `weight [O, C/groups, k]` and optional
 * `bias [O]`.
 *
 * @throws {ShapeError} for incompatible shapes (as {@link conv2d}); {RangeError} for bad options.
 * @example
 * ```ts
 * conv1d(x, w, null, { padding: "same", dilation: 2 });
 * ```
 */
export function conv1d(x: VarLike, weight: VarLike, bias: VarLike | null = null, opts: T.Conv1dOptions = {}): Var {
  return apply("conv1d", { ...opts, hasBias: bias !== null }, bias === null ? [x, weight] : [x, weight, bias]);
}

/**
 * Transposed 2-D convolution (`F.conv_transpose2d`) of `x [N,Cin,H,W]` with `weight [Cin,
 * Cout/groups, kH, kW]` (input channels first) and optional `bias [Cout]`.
 *
 * @throws {ShapeError} for incompatible shapes; {RangeError} for bad options (e.g. an
 * `outputPadding` not smaller than the stride or the dilation).
 * @example
 * ```ts
 * convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1 });
 * ```
 */
export function convTranspose2d(x: VarLike, weight: VarLike, bias: VarLike | null = null, opts: T.ConvTranspose2dOptions = {}): Var {
  return apply("convTranspose2d", { ...opts, hasBias: bias !== null }, bias === null ? [x, weight] : [x, weight, bias]);
}

/**
 * Max pooling (`F.max_pool2d`) of `x [N,C,H,W]`: kernel, stride (default the kernel), padding
 * (at most half the kernel), dilation, ceil mode.
 *
 * @throws {ShapeError} for a non-4-D input or a window larger than the padded input;
 * {RangeError} for bad options.
 * @example
 * ```ts
 * maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 });
 * ```
 */
export function maxPool2d(x: VarLike, opts: T.MaxPool2dOptions): Var {
  return apply("maxPool2d", opts, [x]);
}

/**
 * Average pooling (`F.avg_pool2d`) of `x [N,C,H,W]`: kernel, stride, padding, ceil mode,
 * `countIncludePad`, `divisorOverride`.
 *
 * @throws {ShapeError} for a non-4-D input or a window larger than the padded input;
 * {RangeError} for bad options.
 * @example
 * ```ts
 * avgPool2d(x, { kernelSize: 2 });
 * ```
 */
export function avgPool2d(x: VarLike, opts: T.AvgPool2dOptions): Var {
  return apply("avgPool2d", opts, [x]);
}

/**
 * Adaptive average pooling (`F.adaptive_avg_pool2d`) of `x [N,C,H,W]` to `[N, C, oH, oW]`.
 *
 * @throws {ShapeError} for a non-4-D input; {RangeError} for a bad output size.
 * @example
 * ```ts
 * adaptiveAvgPool2d(x, 1); // global average pooling
 * ```
 */
export function adaptiveAvgPool2d(x: VarLike, outputSize: T.Spatial2): Var {
  return apply("adaptiveAvgPool2d", { outputSize }, [x]);
}
