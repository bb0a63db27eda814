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
}

/** A forward result that also saves data for backward (e.g. softmax probabilities). */
export interface Saved<S> {
  readonly value: Tensor;
  readonly saved: S;
}

/**
 * A differentiation rule. `forward` computes the value; `backward` returns, for each input, the
 * gradient `dy · ∂y/∂x_i` (or null when `needs[i]` is false or the input is not differentiable).
 * With `broadcast: true` the engine sums each gradient down to its input's (broadcast) shape, so
 * rules never un-broadcast; otherwise every gradient must have exactly its input's shape.
 */
export interface OpRule<A, S = undefined> {
  readonly broadcast?: boolean;
  forward(x: readonly Tensor[], attrs: A): Tensor | Saved<S>;
  backward(dy: Tensor, ctx: BackwardCtx<A, S>): (Tensor | null)[];
}
