/**
 * @file The shape of a differentiation rule: a forward computation on plain tensors and, beside
 * it, the vector-Jacobian product that maps the upstream gradient to one gradient per input.
 */
import type { Tensor } from "@tapegrad/tensor";


/** What a rule's backward sees. */
export interface BackwardCtx<A, S> {
  /** Input values, in order. */
  readonly x: readonly Tensor[];
  /** Output value. */
  readonly y: Tensor;
  /** The op's attributes. */
  readonly attrs: A;
  /** Whatever the forward chose to save (see {@link Saved}). */
  readonly saved: S;
  /** Which inputs need a gradient (others may return null). */
  readonly needs: readonly boolean[];
  /**
   * True when `dy` is a buffer only the engine holds (produced by a rule with `freshGrads`, not
   * seen by hooks, retained or captured): the rule may write its result into `dy` in place.
   */
  readonly dyOwned?: boolean;
  /**
   * Per input, a buffer the rule may write that input's gradient into directly, or null/absent:
   * the gradient storage of a leaf (see `Var`) whose gradient is empty and that receives no other
   * contribution and is not hooked, so nothing can observe the write (see `ownership.ts`). A rule
   * that overwrites `gradInto[i]` with exactly the gradient it would have returned returns
   * {@link GRAD_WRITTEN} for input `i`; it may also ignore the buffer and return a Tensor.
   */
  readonly gradInto?: readonly (Tensor | null)[];
}

/**
 * What a rule returns for an input whose gradient it wrote into `ctx.gradInto[i]` (see
 * {@link BackwardCtx.gradInto}).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * const into = c.gradInto?.[1];
 * return [dx, into ? (T.linearWeightGrad(dy, x, into), GRAD_WRITTEN) : T.linearWeightGrad(dy, x)];
 * ```
 */
export const GRAD_WRITTEN: unique symbol = Symbol("GRAD_WRITTEN");
/** The type of {@link GRAD_WRITTEN}. */
export type GradWritten = typeof GRAD_WRITTEN;

/** A forward result that also saves data for backward (e.g. softmax probabilities). */
export interface Saved<S> {
  readonly value: Tensor;
  readonly saved: S;
}

/**
 * A gradient that is zero except on one region of its input: `values` added into the region
 * `region(buffer)` (a view) of a buffer with the input's shape. Rules of slicing ops return it so
 * the engine can accumulate in place instead of materialising full-size zero tensors (which would
 * make backpropagation through T per-step slices O(T²)).
 *
 * @throws never (construction only stores its arguments).
 * @example
 * ```ts
 * // the backward rule of `select`: only the selected entry gets dy
 * backward: (dy, c) => [new RegionGrad(dy, (g) => g.select(c.attrs.axis, c.attrs.index))],
 * ```
 */
export class RegionGrad {
  constructor(
    /** The contribution. */
    readonly values: Tensor,
    /** Maps the full gradient buffer to the view where `values` go. */
    readonly region: (buffer: Tensor) => Tensor,
  ) {}
}

/**
 * A differentiation rule. `forward` computes the value; `backward` returns, for each input, the
 * gradient `dy · ∂y/∂x_i` (or null when `needs[i]` is false or the input is not differentiable).
 * With `broadcast: true` the engine sums each gradient down to its input's (broadcast) shape, so
 * rules never un-broadcast; otherwise every gradient must have exactly its input's shape.
 *
 * @example
 * ```ts
 * const cube: OpRule<NoAttrs> = {
 *   forward: ([x]) => T.mul(T.mul(x!, x!), x!),
 *   backward: (dy, c) => [T.mul(dy, T.mul(T.square(c.x[0]!), 3))], // d x³ = 3x²
 * };
 * ```
 */
export interface OpRule<A, S = undefined> {
  readonly broadcast?: boolean;
  /**
   * Promise that every gradient `backward` returns is a distinct buffer nobody else holds (newly
   * allocated, or `dy` itself when `dyOwned`), so the engine may let the next rule overwrite it.
   */
  readonly freshGrads?: boolean;
  forward(x: readonly Tensor[], attrs: A): Tensor | Saved<S>;
  backward(dy: Tensor, ctx: BackwardCtx<A, S>): (Tensor | RegionGrad | GradWritten | null)[];
}

/** The attribute type of an op that takes no attributes (an empty record: any key is an error). */
export type NoAttrs = Record<string, never>;

/**
 * The attribute type `A` of a rule typed `OpRule<A, S>` (as `defineRule<A, S>` declares it).
 *
 * @example
 * ```ts
 * type A = RuleAttrs<OpRule<{ slope: number }>>; // { slope: number }
 * ```
 */
export type RuleAttrs<R> = R extends OpRule<infer A, any> ? A : never;

/**
 * Declares a rule with its attribute type `A` and saved-data type `S` spelled out, so the rule
 * table (`rules.ts`) knows each op's attributes precisely and `apply` can check them at the call
 * site. It returns `rule` unchanged; the type arguments are the point.
 *
 * @throws never (an identity function).
 * @example
 * ```ts
 * const leakyRelu = defineRule<{ slope: number }>({
 *   forward: ([x], a) => T.leakyRelu(x!, a.slope),
 *   backward: (dy, c) => [T.mul(dy, T.where(T.gt(c.x[0]!, 0), 1, c.attrs.slope))], // 1 or slope
 * });
 * ```
 */
export function defineRule<A = NoAttrs, S = undefined>(rule: OpRule<A, S>): OpRule<A, S> {
  return rule;
}
