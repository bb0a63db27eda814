/**
 * @file `Linear`: `y = x Wᵀ + b` with PyTorch's layout (`weight` `[out, in]`, `bias` `[out]`)
 * and default initialisation (`U(−1/√in, 1/√in)` for both, i.e. Kaiming-uniform with a = √5).
 */
import { Rng, defaultRng, type LinearActivation } from "@tapegrad/tensor";
import { linear, type Var, type VarLike } from "@tapegrad/autograd";
import { Module } from "../module.js";
import { uniform } from "../init.js";

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Add a learnable bias (default true). */
  bias?: boolean;
  /** Generator for the initial weights (default: the global one). */
  rng?: Rng;
}

/**
 * Fully connected layer.
 *
 * @throws {RangeError} for non-positive sizes.
 * @example
 * ```ts
 * const fc = new Linear(784, 256, { rng: new Rng(0) });
 * const h = fc.forward(x); // [B, 784] -> [B, 256]
 * ```
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Var;
  readonly bias: Var | null;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}) {
    super();
    if (!Number.isInteger(inFeatures) || !Number.isInteger(outFeatures) || inFeatures <= 0 || outFeatures <= 0) {
      throw new RangeError(`Linear: sizes must be positive integers (got ${inFeatures}, ${outFeatures})`);
    }
    if (opts.rng !== undefined && !(opts.rng instanceof Rng)) throw new TypeError(`Linear: rng must be an Rng (got ${opts.rng === null ? "null" : typeof opts.rng})`);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const rng = opts.rng ?? defaultRng;
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.addParameter("weight", uniform([outFeatures, inFeatures], -bound, bound, { rng }));
    this.bias = opts.bias === false ? null : this.addParameter("bias", uniform([outFeatures], -bound, bound, { rng }));
  }

  /**
   * `x Wᵀ + b` for `x` of shape `[..., in]`; with `activation: "relu"`, `relu(x Wᵀ + b)` as one
   * fused op (what `Sequential` uses for a `Linear` followed by a `ReLU`).
   *
   * @throws {ShapeError} when the last dim is not `in`; {TypeError} for an unknown activation.
   * @example
   * ```ts
   * new Linear(784, 256).forward(constant(zeros([32, 784]))).shape; // [32, 256]
   * ```
   */
  forward(x: VarLike, activation: LinearActivation = "none"): Var {
    return linear(x, this.weight, this.bias, activation);
  }

  protected override describe(): string {
    return `in=${this.inFeatures}, out=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
