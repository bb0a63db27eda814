/**
 * @file Small layers: `Sequential`, activation modules, `Identity`, `Flatten`, `Dropout`
 * (seeded), `Embedding` and `LayerNorm`.
 */
import { Rng, ShapeError, checkShape, defaultRng, fmt, ones, zeros, type Indices } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import type { Var, VarLike } from "@tapegrad/autograd";
import { Module } from "../module.js";
import { normal } from "../init.js";
import { Linear } from "./linear.js";

/** A module mapping one input to one output. */
export interface UnaryModule extends Module {
  forward(x: VarLike): Var;
}

/**
 * Chains modules: the output of each is the input of the next. Children are named "0", "1", ...
 * (as in PyTorch, so state-dict keys match).
 *
 * @throws {TypeError} from the constructor when a layer is not a Module.
 * @example
 * ```ts
 * const mlp = new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 10));
 * ```
 */
export class Sequential extends Module {
  readonly layers: UnaryModule[];
  constructor(...layers: UnaryModule[]) {
    super();
    layers.forEach((l, i) => {
      if (!(l instanceof Module)) throw new TypeError(`Sequential: layer ${i} must be a Module (got ${l === null ? "null" : typeof l})`);
    });
    this.layers = layers.map((l, i) => this.addModule(String(i), l));
  }
  /**
   * Applies every layer in order. A `Linear` directly followed by a `ReLU` runs as one fused op
   * (`linear(x, W, b, "relu")`: the GEMM applies the ReLU to its output), with the same values
   * and gradients as the two layers one after the other.
   *
   * @throws whatever a layer throws (e.g. `ShapeError` from a `Linear` whose input has the
   * wrong last dimension); {TypeError} when a layer returns something that is not a Var, Tensor
   * or number.
   * @example
   * ```ts
   * const logits = mlp.forward(constant(x)); // [B, 784] -> [B, 10]
   * ```
   */
  forward(x: VarLike): Var {
    let h: VarLike = x;
    const layers = this.layers;
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i]!;
      // exact classes only: a subclass may change what forward does
      if (l.constructor === Linear && layers[i + 1]?.constructor === ReLU) {
        h = (l as Linear).forward(h, "relu");
        i++;
      } else h = l.forward(h);
    }
    return A.toVar(h);
  }
}

/** `max(x, 0)`. @throws {TypeError} from `forward` for an input that is not a Var, Tensor or number; {Error} for a disposed tensor. @example `new ReLU().forward(x)` */
export class ReLU extends Module { forward(x: VarLike): Var { return A.relu(x); } }
/** tanh. @throws {TypeError} from `forward` for an input that is not a Var, Tensor or number; {Error} for a disposed tensor. @example `new Tanh().forward(x)` */
export class Tanh extends Module { forward(x: VarLike): Var { return A.tanh(x); } }
/** Logistic sigmoid. @throws {TypeError} from `forward` for an input that is not a Var, Tensor or number; {Error} for a disposed tensor. @example `new Sigmoid().forward(x)` */
export class Sigmoid extends Module { forward(x: VarLike): Var { return A.sigmoid(x); } }
/** Passes the input through (a Tensor or number becomes a constant Var). @throws {TypeError} from `forward` for an input that is not a Var, Tensor or number; {Error} for a disposed tensor. @example `new Identity().forward(x)` */
export class Identity extends Module { forward(x: VarLike): Var { return A.toVar(x, "Identity"); } }

/**
 * GELU (exact or tanh approximation).
 *
 * @throws {TypeError} from `forward` for an unknown `approximate` (it is not checked by the
 * constructor) or an input that is not a Var, Tensor or number.
 * @example `new GELU("tanh").forward(x)`
 */
export class GELU extends Module {
  constructor(readonly approximate: "none" | "tanh" = "none") { super(); }
  forward(x: VarLike): Var { return A.gelu(x, this.approximate); }
}
/** Leaky ReLU with the given negative slope. @throws {TypeError} from `forward` for an input that is not a Var, Tensor or number; {Error} for a disposed tensor. @example `new LeakyReLU(0.2).forward(x)` */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) { super(); }
  forward(x: VarLike): Var { return A.leakyRelu(x, this.negativeSlope); }
}
/**
 * Softplus with PyTorch's beta/threshold.
 *
 * @throws {RangeError} from `forward` for a zero or non-finite `beta` (it is not checked by the
 * constructor); {TypeError} for an input that is not a Var, Tensor or number.
 * @example `new Softplus().forward(x)`
 */
export class Softplus extends Module {
  constructor(readonly beta = 1, readonly threshold = 20) { super(); }
  forward(x: VarLike): Var { return A.softplus(x, this.beta, this.threshold); }
}
/**
 * Flattens dims `startDim..endDim` (default: all but the batch dim).
 *
 * @throws {ShapeError} from `forward` when `startDim`/`endDim` are out of range for the input or
 * `startDim` comes after `endDim` (they are not checked by the constructor); {TypeError} for an
 * input that is not a Var, Tensor or number.
 * @example `new Flatten().forward(images) // [B, 1, 28, 28] -> [B, 784]`
 */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) { super(); }
  forward(x: VarLike): Var { return A.flatten(x, this.startDim, this.endDim); }
}

/**
 * `torch.nn.Unflatten`: splits dimension `dim` (may be negative) into `sizes` (their product must
 * equal its length), a copy-free reshape.
 *
 * @throws {ShapeError} from `forward` when `dim` is out of range or the sizes do not multiply to
 * the dimension's length; {TypeError} for an input that is not a Var, Tensor or number.
 * @example `new Unflatten(1, [1, 28, 28]).forward(batch) // [B, 784] -> [B, 1, 28, 28]`
 */
export class Unflatten extends Module {
  constructor(readonly dim: number, readonly sizes: readonly number[]) { super(); }
  forward(x: VarLike): Var {
    const v = A.toVar(x, "Unflatten");
    const shape = v.shape, nd = shape.length;
    if (!this.sizes.every((s) => Number.isInteger(s) && s >= 0)) throw new ShapeError("Unflatten", `sizes must be non-negative integers (got ${fmt(this.sizes)})`, [shape]);
    const d = this.dim < 0 ? this.dim + nd : this.dim;
    if (!(d >= 0 && d < nd)) throw new ShapeError("Unflatten", `dim ${this.dim} out of range for a ${nd}-d input`, [shape]);
    const n = this.sizes.reduce((a, b) => a * b, 1);
    if (n !== shape[d]) throw new ShapeError("Unflatten", `sizes ${fmt(this.sizes)} multiply to ${n}, not to dimension ${d} of length ${shape[d]}`, [shape]);
    return A.reshape(v, [...shape.slice(0, d), ...this.sizes, ...shape.slice(d + 1)]);
  }
}

/**
 * Inverted dropout with its own seeded generator: active in training mode only.
 *
 * @throws {RangeError} unless `0 <= p < 1`.
 * @example
 * ```ts
 * const drop = new Dropout(0.2, { rng: new Rng(7) });
 * ```
 */
export class Dropout extends Module {
  readonly p: number;
  private readonly rng: Rng;
  constructor(p = 0.5, opts: { rng?: Rng } = {}) {
    super();
    if (!(p >= 0 && p < 1)) throw new RangeError(`Dropout: p must be in [0, 1) (got ${p})`);
    this.p = p;
    this.rng = opts.rng ?? defaultRng;
  }
  /**
   * Drops elements in training mode; identity in eval mode.
   *
   * @throws {TypeError} for an input that is not a Var, Tensor or number; {Error} for a disposed
   * tensor.
   * @example
   * ```ts
   * const h = drop.forward(relu(fc1.forward(x))); // after model.eval(): h is the input
   * ```
   */
  forward(x: VarLike): Var {
    return A.dropout(x, this.p, { training: this.training, rng: this.rng });
  }
  protected override describe(): string {
    return `p=${this.p}`;
  }
}

/**
 * A lookup table of `numEmbeddings` vectors of size `dim` (initialised `N(0, 1)` as in PyTorch);
 * gradients add up over repeated indices.
 *
 * @throws {RangeError} for non-positive sizes.
 * @example
 * ```ts
 * const emb = new Embedding(1000, 64);
 * emb.forward(tensor([[1, 5], [7, 1]])); // [2, 2, 64]
 * ```
 */
export class Embedding extends Module {
  readonly weight: Var;
  constructor(readonly numEmbeddings: number, readonly dim: number, opts: { rng?: Rng } = {}) {
    super();
    if (!Number.isInteger(numEmbeddings) || !Number.isInteger(dim) || numEmbeddings <= 0 || dim <= 0) {
      throw new RangeError(`Embedding: sizes must be positive integers (got ${numEmbeddings}, ${dim})`);
    }
    this.weight = this.addParameter("weight", normal([numEmbeddings, dim], 0, 1, opts));
  }
  /**
   * Rows at `indices` (any shape) -> `indices.shape + [dim]`.
   *
   * @throws {RangeError} for an index outside `[0, numEmbeddings)` or not an integer;
   * {ShapeError} when `indicesShape` does not match the number of indices.
   * @example
   * ```ts
   * emb.forward([3, 1, 4, 1], [2, 2]).shape; // [2, 2, 64]
   * ```
   */
  forward(indices: Indices, indicesShape?: readonly number[]): Var {
    return A.embedding(this.weight, indices, indicesShape);
  }
  protected override describe(): string {
    return `${this.numEmbeddings}, ${this.dim}`;
  }
}

/**
 * Layer normalisation over the trailing `normalizedShape` dims with learnable `weight` (ones)
 * and `bias` (zeros), as `torch.nn.LayerNorm`.
 *
 * @throws {ShapeError} from the constructor for negative or fractional sizes in
 * `normalizedShape`, and from `forward` when the input's trailing dims differ from it.
 * @example
 * ```ts
 * const ln = new LayerNorm([64]);
 * ```
 */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly weight: Var | null;
  readonly bias: Var | null;
  constructor(normalizedShape: number | readonly number[], readonly eps = 1e-5, elementwiseAffine = true) {
    super();
    this.normalizedShape = checkShape("LayerNorm", typeof normalizedShape === "number" ? [normalizedShape] : Array.from(normalizedShape));
    if (typeof eps !== "number" || !Number.isFinite(eps) || eps < 0) throw new RangeError(`LayerNorm: eps must be a finite number >= 0 (got ${String(eps)})`);
    this.weight = elementwiseAffine ? this.addParameter("weight", ones(this.normalizedShape)) : null;
    this.bias = elementwiseAffine ? this.addParameter("bias", zeros(this.normalizedShape)) : null;
  }
  /**
   * Normalises the trailing dims.
   *
   * @throws {ShapeError} when they differ from normalizedShape.
   * @example
   * ```ts
   * new LayerNorm(64).forward(h); // h [B, T, 64]: each [64] row to mean 0, variance 1
   * ```
   */
  forward(x: VarLike): Var {
    return A.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
  protected override describe(): string {
    return `${JSON.stringify(this.normalizedShape)}, eps=${this.eps}`;
  }
}
