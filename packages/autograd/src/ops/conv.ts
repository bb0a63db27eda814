/**
 * @file Convolution and pooling ops (NCHW): `conv2d` and `maxPool2d`, with the tensor package's
 * im2col/col2im kernels doing forward and backward.
 */
import * as T from "@tapegrad/tensor";
import type { Var } from "../var.js";
import { apply, type VarLike } from "../apply.js";
import { defineRule } from "../rule.js";

/** Attributes of the `conv2d` primitive (part of its entry in the op table). */
export interface ConvAttrs { stride: number | [number, number]; padding: number | [number, number]; hasBias: boolean }

/**
 * Rules of `conv2d` and `maxPool2d`, each declared with its attribute type (`defineRule<A, S>`).
 * `rules.ts` merges them into the op table; the functions below run them by name with
 * `apply(name, attrs, inputs)`.
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
    backward: (dy, c) => {
      const r = T.conv2dBackward(dy, c.x[0]!, c.x[1]!, c.attrs, { dx: c.needs[0], dw: c.needs[1], db: c.attrs.hasBias && (c.needs[2] ?? false) });
      return c.attrs.hasBias ? [r.dx, r.dw, r.db] : [r.dx, r.dw];
    },
  }),
  maxPool2d: defineRule<T.MaxPool2dOptions, Int32Array>({
    forward: ([x], a) => {
      const { value, indices } = T.maxPool2d(x!, a);
      return { value, saved: indices };
    },
    backward: (dy, c) => [T.maxPool2dBackward(dy, c.saved, c.x[0]!.shape)], // gradient goes to each window's max
  }),
};

/**
 * 2-D convolution (cross-correlation) of `x [N,C,H,W]` with `weight [O,C,kH,kW]` and optional
 * `bias [O]`.
 *
 * @throws {ShapeError} for incompatible shapes; {RangeError} for bad stride/padding.
 * @example
 * ```ts
 * conv2d(x, w, b, { stride: 1, padding: 1 });
 * ```
 */
export function conv2d(x: VarLike, weight: VarLike, bias: VarLike | null = null, opts: T.Conv2dOptions = {}): Var {
  const attrs: ConvAttrs = { stride: (opts.stride ?? 1) as ConvAttrs["stride"], padding: (opts.padding ?? 0) as ConvAttrs["padding"], hasBias: bias !== null };
  return apply("conv2d", attrs, bias === null ? [x, weight] : [x, weight, bias]);
}

/**
 * Max pooling over windows of `x [N,C,H,W]` (no padding, floor mode).
 *
 * @throws {ShapeError} for a non-4-D input or a window larger than the input.
 * @example
 * ```ts
 * maxPool2d(x, { kernelSize: 2 });
 * ```
 */
export function maxPool2d(x: VarLike, opts: T.MaxPool2dOptions): Var {
  return apply("maxPool2d", opts, [x]);
}
