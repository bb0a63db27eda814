/**
 * @file Per-sample (per-example) gradients: one backward walk in which every op that uses a
 * parameter hands its output gradient to the parameter's per-sample rule instead of summing over
 * the batch (the sum is what an ordinary backward computes). The result object then gives, per
 * parameter, the per-sample gradients, their norms, or any weighted sum of them (DP-SGD's clipped
 * sum) — the last two without building `[B, *shape]` tensors where a rule knows better.
 */
import { Tensor, ShapeError, full } from "@tapegrad/tensor";
import { Var } from "../var.js";
import type { Node } from "../node.js";
import { runBackward, type NodeObserver } from "../backward.js";
import { type PerSampleUse, addWeightedRows } from "./use.js";
import { BATCH_MIXING_OPS, perSampleRuleOf } from "./rules.js";

/** Options of {@link perSampleGrads}. */
export interface PerSampleOptions {
  /** `B`: the batch size (the first axis of the model's batched input). */
  readonly batchSize: number;
  /**
   * Seed of the walk (default 1). The root must be the **sum** of the per-sample losses; for a
   * mean-reduced loss pass `seed: B` (Opacus' `loss_reduction="mean"` scaling).
   */
  readonly seed?: number;
  /** Keep the graph (default false). */
  readonly retainGraph?: boolean;
}

/** A use of a parameter by an op without a per-sample rule (or outside the rule's convention). */
export interface UnsupportedUse {
  /** Index of the parameter in the `params` list. */
  readonly param: number;
  /** The op that used it. */
  readonly op: string;
  /** Why no per-sample rule applies. */
  readonly reason: string;
}

/**
 * The per-sample gradients of one backward walk (a per-call object: nothing is stored on the
 * graph or the parameters; no `.grad` is touched).
 *
 * @example
 * ```ts
 * const ps = perSampleGrads(loss, [w, b], { batchSize: 32 });
 * ps.normsSquared(0);                    // Float64Array [32]: ‖g_i(w)‖²
 * ps.materialize(0).shape;               // [32, ...w.shape]
 * ps.weightedSum(0, factors);            // Σ_i factors[i]·g_i(w)
 * ```
 * @throws never when constructed (by {@link perSampleGrads}); its methods document theirs.
 */
export class PerSampleGrads {
  private readonly cache = new Map<number, Float32Array>();

  /** @internal built by {@link perSampleGrads}. */
  constructor(
    /** `B`. */
    readonly batchSize: number,
    /** The parameters, in the order given. */
    readonly params: readonly Var[],
    private readonly uses: readonly PerSampleUse[][],
    /** Parameter uses no rule covers; their per-sample gradients are incomplete. */
    readonly unsupported: readonly UnsupportedUse[],
  ) {}

  /**
   * `‖g_i‖²` of parameter `p` for every sample, in float64: from the rule's ghost norms when the
   * parameter has one use whose rule has them, else from the materialised gradients.
   *
   * @throws {RangeError} for a bad index; {Error} when `p` has an unsupported use.
   * @example
   * ```ts
   * const n2 = ps.normsSquared(0); // Float64Array [B]
   * ```
   */
  normsSquared(p: number): Float64Array {
    this.check(p, "normsSquared");
    const out = new Float64Array(this.batchSize);
    const uses = this.uses[p]!;
    if (uses.length === 1 && uses[0]!.addNormsSquared && !this.cache.has(p)) {
      uses[0]!.addNormsSquared(out);
      return out;
    }
    const g = this.values(p), size = this.params[p]!.size;
    for (let i = 0; i < this.batchSize; i++) {
      let s = 0;
      for (let j = i * size, e = j + size; j < e; j++) s += g[j]! * g[j]!;
      out[i] = s;
    }
    return out;
  }

  /**
   * Parameter `p`'s per-sample gradients, `[B, *shape]` (a new tensor the caller owns).
   *
   * @throws {RangeError} for a bad index; {Error} when `p` has an unsupported use.
   * @example
   * ```ts
   * ps.materialize(0).shape; // [B, out, in] for a Linear weight
   * ```
   */
  materialize(p: number): Tensor {
    this.check(p, "materialize");
    return new Tensor(this.values(p).slice(), [this.batchSize, ...this.params[p]!.shape]);
  }

  /**
   * `Σ_i factors[i]·g_i` for parameter `p` (DP-SGD's sum of clipped gradients), with the
   * parameter's shape; a GEMM on scaled row gradients for `linear`/`matmul`.
   *
   * @throws {RangeError} for a bad index or `factors` of the wrong length; {Error} when `p` has an
   * unsupported use.
   * @example
   * ```ts
   * ps.weightedSum(0, new Float32Array(B).fill(1)); // the batch gradient
   * ```
   */
  weightedSum(p: number, factors: Float32Array): Tensor {
    this.check(p, "weightedSum");
    if (factors.length !== this.batchSize) throw new RangeError(`weightedSum: need ${this.batchSize} factors (one per sample), got ${factors.length}`);
    const param = this.params[p]!;
    const out = new Float32Array(param.size);
    const g = this.cache.get(p);
    if (g !== undefined) addWeightedRows(g, factors, this.batchSize, param.size, out);
    else for (const u of this.uses[p]!) u.addWeightedSum(factors, out);
    return new Tensor(out, param.shape);
  }

  /** The per-sample gradients of `p` as `[B·size]`, summed over its uses once and cached. */
  private values(p: number): Float32Array {
    let g = this.cache.get(p);
    if (g === undefined) {
      g = new Float32Array(this.batchSize * this.params[p]!.size);
      for (const u of this.uses[p]!) u.addMaterialized(g);
      this.cache.set(p, g);
    }
    return g;
  }

  private check(p: number, what: string): void {
    if (!Number.isInteger(p) || p < 0 || p >= this.params.length) throw new RangeError(`${what}: parameter index ${p} is out of range for ${this.params.length} parameters`);
    const bad = this.unsupported.find((u) => u.param === p);
    if (bad) throw new Error(`${what}: parameter ${p} (${this.params[p]!.describe()}) is used by op "${bad.op}", which has no per-sample rule here: ${bad.reason}`);
  }
}

/** The observer of the walk: routes parameter inputs to their per-sample rules. */
class PerSampleObserver implements NodeObserver {
  readonly uses: PerSampleUse[][];
  readonly unsupported: UnsupportedUse[] = [];
  constructor(private readonly index: ReadonlyMap<Var, number>, private readonly batch: number) {
    this.uses = Array.from({ length: index.size }, () => []);
  }

  visit(node: Node, dy: Tensor): readonly boolean[] | null {
    if (BATCH_MIXING_OPS.has(node.op as never) && (node.attrs as { training?: boolean }).training !== false) {
      throw new Error(`perSampleGrads: op "${node.op}" mixes the samples of a batch, so per-sample gradients are not defined (use GroupNorm or LayerNorm, as Opacus requires, or evaluation mode)`);
    }
    let needs: boolean[] | null = null;
    for (let k = 0; k < node.inputs.length; k++) {
      const v = node.inputs[k];
      const p = v ? this.index.get(v) : undefined;
      if (p === undefined) continue;
      const rule = perSampleRuleOf(node.op);
      const use = rule ? rule({ x: node.xs!, y: node.y!, attrs: node.attrs }, dy, k, this.batch) : "no per-sample rule for this op";
      if (typeof use === "string") {
        this.unsupported.push({ param: p, op: node.op, reason: use });
        continue;
      }
      this.uses[p]!.push(use);
      (needs ??= node.needs.slice())[k] = false; // its batch gradient is not needed
    }
    return needs;
  }
}

/**
 * Per-sample gradients of `root` (the **sum** of per-sample losses, or a mean with `seed: B`)
 * with respect to `params` (leaves), in one backward walk (functorch's `vmap(grad(l_i))`, Opacus'
 * `GradSampleModule`). Ops with rules: `linear`, `matmul`, `conv2d`, `conv1d`, `embedding`, and
 * parameters broadcast into `add`/`sub`/`mul` (biases, `layerNorm`'s affine part); a parameter
 * shared by several ops (an RNN weight over time steps) sums its uses. The batch must be the first
 * axis of each op's batched operand, with rows grouped by sample. Parameters used by any other op
 * are listed in `unsupported` (callers fall back to micro-batches). Parameters the root does not
 * depend on get zeros. No `.grad` is touched and the graph is released unless `retainGraph`.
 *
 * @throws {RangeError} for a batch size that is not a non-negative integer or a parameter that is
 * not a leaf Var requiring grad (named with its index).
 * @throws {Error} when the graph contains an op that mixes samples (`batchNorm` in training);
 * otherwise as `backward` (a released graph, a root that does not require grad).
 * @throws {ShapeError} when the root has more than one element.
 * @example
 * ```ts
 * const logits = linear(constant(x), w, b);
 * const loss = crossEntropy(logits, labels, { reduction: "sum" });
 * const ps = perSampleGrads(loss, [w, b], { batchSize: x.shape[0] });
 * ps.materialize(0); // [B, out, in]
 * ```
 */
export function perSampleGrads(root: Var, params: readonly Var[], opts: PerSampleOptions): PerSampleGrads {
  const B = opts.batchSize;
  if (!(root instanceof Var)) throw new TypeError(`perSampleGrads: root must be a Var (got ${root === null ? "null" : typeof root})`);
  if (!Number.isInteger(B) || B < 0) throw new RangeError(`perSampleGrads: batchSize must be a non-negative integer, got ${String(B)}`);
  const index = new Map<Var, number>();
  params.forEach((v, i) => {
    if (!(v instanceof Var) || v.node !== null || !v.requiresGrad) throw new RangeError(`perSampleGrads: params[${i}] must be a leaf Var that requires grad`);
    if (index.has(v)) throw new RangeError(`perSampleGrads: params[${i}] repeats params[${index.get(v)}]`);
    index.set(v, i);
  });
  if (root.size !== 1) throw new ShapeError("perSampleGrads", "the root must be the scalar sum of the per-sample losses", [root.shape]);
  const observer = new PerSampleObserver(index, B);
  if (root.requiresGrad) runBackward(root, full(root.shape, opts.seed ?? 1), { retainGraph: opts.retainGraph ?? false }, [], observer);
  return new PerSampleGrads(B, params, observer.uses, observer.unsupported);
}

