/**
 * @file Loss primitives with fused, numerically stable rules: `crossEntropy` (integer labels or
 * class probabilities, label smoothing, ignoreIndex), `nllLoss`, the pointwise parts of
 * `bceWithLogits` and `klDiv`. Reductions (`"mean"`, `"sum"`, `"none"`) follow PyTorch.
 */
import * as T from "@tapegrad/tensor";
import { Tensor, ShapeError, shapesEqual } from "@tapegrad/tensor";
import { Var } from "../var.js";
import { apply, toVar, type VarLike } from "../apply.js";
import { defineRule, type NoAttrs } from "../rule.js";
import { add, mul, neg } from "./arith.js";
import { reshape } from "./movement.js";
import { mean, sum } from "./reduce.js";
import { logSoftmax } from "./softmax.js";

/** How per-element losses are combined. */
export type Reduction = "mean" | "sum" | "none";

/** Attributes of the `crossEntropy` primitive (part of its entry in the op table). */
export interface CEAttrs {
  labels: Int32Array; // length N (ignored rows hold ignoreIndex)
  smoothing: number;
  ignoreIndex: number;
  reduction: Reduction;
}
/** What the `crossEntropy` primitive's forward saves for its backward. */
export interface CESaved {
  probs: Float32Array; // softmax of each row, [N*C]
  count: number; // rows not ignored
}

function checkReduction(op: string, r: string): Reduction {
  if (r !== "mean" && r !== "sum" && r !== "none") throw new TypeError(`${op}: reduction must be "mean", "sum" or "none" (got ${String(r)})`);
  return r;
}

/**
 * Rules of the fused losses (`crossEntropy`, `nllLoss`, and the pointwise parts of `bceWithLogits`
 * and `klDiv`), each declared with its attribute type (`defineRule<A, S>`). `rules.ts` merges them
 * into the op table; the functions below run them by name with `apply(name, attrs, inputs)`.
 *
 * @throws whatever a rule's forward or backward throws (e.g. ShapeError); reading it never throws.
 * @example
 * ```ts
 * lossRules.bceWithLogits.forward([logits, targets], {});
 * ```
 */
export const lossRules = {
  crossEntropy: defineRule<CEAttrs, CESaved>({
    freshGrads: true,
    // l_i = (1-ε)(-log p_{i,y_i}) + (ε/C) Σ_c (-log p_{i,c}),  p = softmax(logits_i)
    forward: ([logits], a) => {
      const x = logits!.contiguous();
      const [n, cls] = x.shape as [number, number];
      const d = x.data, off = x.offset;
      const probs = new Float32Array(n * cls);
      const per = new Float32Array(n);
      let count = 0;
      for (let i = 0; i < n; i++) {
        const y = a.labels[i]!;
        if (y === a.ignoreIndex) continue;
        count++;
        const row = off + i * cls;
        let m = -Infinity;
        for (let c = 0; c < cls; c++) if (d[row + c]! > m || d[row + c] !== d[row + c]) m = d[row + c]!;
        let s = 0;
        for (let c = 0; c < cls; c++) s += Math.exp(d[row + c]! - m);
        const lse = m + Math.log(s);
        let sumNeg = 0;
        for (let c = 0; c < cls; c++) {
          probs[i * cls + c] = Math.exp(d[row + c]! - lse);
          sumNeg += lse - d[row + c]!;
        }
        per[i] = (1 - a.smoothing) * (lse - d[row + y]!) + (a.smoothing / cls) * sumNeg;
      }
      let value: Tensor;
      if (a.reduction === "none") value = new Tensor(per, [n]);
      else {
        let total = 0;
        for (let i = 0; i < n; i++) total += per[i]!;
        value = T.tensor(a.reduction === "mean" ? total / count : total);
      }
      return { value, saved: { probs, count } };
    },
    // ∂l_i/∂logits_i = p_i − q_i,  q = (1-ε)·onehot(y_i) + ε/C
    backward: (dy, c) => {
      const { probs, count } = c.saved;
      const a = c.attrs;
      const [n, cls] = c.x[0]!.shape as [number, number];
      const g = new Float32Array(n * cls);
      const dyv = dy.toFloat32Array();
      const scale = a.reduction === "mean" ? 1 / count : 1;
      for (let i = 0; i < n; i++) {
        const y = a.labels[i]!;
        if (y === a.ignoreIndex) continue;
        const gi = (a.reduction === "none" ? dyv[i]! : dyv[0]!) * scale;
        const row = i * cls;
        for (let k = 0; k < cls; k++) g[row + k] = gi * (probs[row + k]! - a.smoothing / cls);
        g[row + y]! -= gi * (1 - a.smoothing);
      }
      return [new Tensor(g, [n, cls])];
    },
  }),
  nllLoss: defineRule<{ labels: Int32Array; ignoreIndex: number; reduction: Reduction }>({
    // l_i = -input[i, y_i]
    forward: ([input], a) => {
      const x = input!;
      const n = x.shape[0]!;
      const per = new Float32Array(n);
      let total = 0;
      let count = 0;
      for (let i = 0; i < n; i++) {
        const y = a.labels[i]!;
        if (y === a.ignoreIndex) continue;
        per[i] = -x.get(i, y);
        total += per[i]!;
        count++;
      }
      if (a.reduction === "none") return new Tensor(per, [n]);
      return T.tensor(a.reduction === "mean" ? total / count : total);
    },
    // ∂l_i/∂input[i, y_i] = -1, 0 elsewhere
    backward: (dy, c) => {
      const a = c.attrs;
      const [n, cls] = c.x[0]!.shape as [number, number];
      let count = 0;
      for (let i = 0; i < n; i++) if (a.labels[i] !== a.ignoreIndex) count++;
      const g = new Float32Array(n * cls);
      const dyv = dy.toFloat32Array();
      for (let i = 0; i < n; i++) {
        const y = a.labels[i]!;
        if (y === a.ignoreIndex) continue;
        g[i * cls + y] = -(a.reduction === "none" ? dyv[i]! : a.reduction === "mean" ? dyv[0]! / count : dyv[0]!);
      }
      return [new Tensor(g, [n, cls])];
    },
  }),
  bceWithLogits: defineRule<NoAttrs>({
    broadcast: true,
    // l = max(x,0) − x·t + log(1+e^(−|x|))   (stable form)
    forward: ([x, t]) => {
      const relu = T.relu(x!);
      return T.add(T.sub(relu, T.mul(x!, t!)), T.log1p(T.exp(T.neg(T.abs(x!)))));
    },
    // ∂l/∂x = σ(x) − t,  ∂l/∂t = −x
    backward: (dy, c) => [c.needs[0] ? T.mul(dy, T.sub(T.sigmoid(c.x[0]!), c.x[1]!)) : null, c.needs[1] ? T.neg(T.mul(dy, c.x[0]!)) : null],
  }),
  klDiv: defineRule<{ logTarget: boolean }>({
    broadcast: true,
    // l = p (log p − q) with 0 where p = 0;  log-target form: e^t (t − q)
    forward: ([q, t], a) => {
      if (a.logTarget) return T.mul(T.exp(t!), T.sub(t!, q!));
      const raw = T.mul(t!, T.sub(T.log(t!), q!));
      return T.where(T.eq(t!, 0), 0, raw);
    },
    // ∂l/∂q = −p;  ∂l/∂p = log p + 1 − q (0 where p = 0);  log-target: ∂l/∂q = −e^t, ∂l/∂t = e^t (t − q + 1)
    backward: (dy, c) => {
      const [q, t] = c.x as [Tensor, Tensor];
      if (c.attrs.logTarget) {
        const et = T.exp(t);
        return [c.needs[0] ? T.neg(T.mul(dy, et)) : null, c.needs[1] ? T.mul(dy, T.mul(et, T.add(T.sub(t, q), 1))) : null];
      }
      const dq = c.needs[0] ? T.neg(T.mul(dy, t)) : null;
      const dt = c.needs[1] ? T.where(T.eq(t, 0), 0, T.mul(dy, T.add(T.sub(T.log(t), q), 1))) : null;
      return [dq, dt];
    },
  }),
};

/** Class labels as an Int32Array of length `n`. */
function labelArray(op: string, target: T.Indices | Var, n: number, classes: number, ignoreIndex: number): Int32Array {
  if (!(target instanceof Tensor || target instanceof Var || target instanceof Int32Array || Array.isArray(target))) {
    throw new TypeError(`${op}: target must be labels (an array, Int32Array or Tensor) or a Var (got ${target === null ? "null" : typeof target})`);
  }
  const src: ArrayLike<number> = target instanceof Tensor ? target.toFloat32Array() : target instanceof Int32Array || Array.isArray(target) ? target : (target as Var).value.toFloat32Array();
  if (src.length !== n) throw new ShapeError(op, `expected ${n} labels, got ${src.length}`, [[n], [src.length]]);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = src[i]!;
    if (v === ignoreIndex) { out[i] = v; continue; }
    if (!Number.isInteger(v) || v < 0 || v >= classes) throw new RangeError(`${op}: label ${v} at position ${i} is not a class index in [0, ${classes})`);
    out[i] = v;
  }
  return out;
}

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  reduction?: Reduction;
  /** ε of label smoothing in [0, 1]. */
  labelSmoothing?: number;
  /** Label value whose rows are skipped (default -100, as PyTorch). */
  ignoreIndex?: number;
}

/**
 * Cross-entropy between `logits` `[N, C]` (or `[C]` for one sample) and integer `target` labels
 * `[N]` (an Int32Array, a number array or a 1-D tensor), or class-probability targets of the
 * logits' shape (a float Var/Tensor). Stable (log-softmax inside), with label smoothing and
 * ignoreIndex as in PyTorch.
 *
 * @throws {ShapeError} for mismatched shapes; {RangeError} for labels outside `[0, C)`.
 * @example
 * ```ts
 * const loss = crossEntropy(logits, [3, 0, 1], { labelSmoothing: 0.1 });
 * ```
 */
export function crossEntropy(logits: VarLike, target: T.Indices | Var, opts: CrossEntropyOptions = {}): Var {
  const z = toVar(logits, "crossEntropy");
  const reduction = checkReduction("crossEntropy", opts.reduction ?? "mean");
  const smoothing = opts.labelSmoothing ?? 0;
  if (!(smoothing >= 0 && smoothing <= 1)) throw new RangeError(`crossEntropy: labelSmoothing must be in [0, 1] (got ${smoothing})`);
  if (z.ndim === 1) {
    // one sample: [C] logits with a single label (or a [C] probability target)
    const z2 = reshape(z, [1, z.shape[0]!]);
    const t2 = target instanceof Var || (target instanceof Tensor && target.ndim === 1 && target.size === z.size && z.size !== 1)
      ? reshape(toVar(target as VarLike), [1, z.shape[0]!])
      : target;
    const one = crossEntropy(z2, t2, { ...opts, reduction: "sum" });
    return reduction === "none" ? reshape(one, []) : one;
  }
  if (z.ndim !== 2) throw new ShapeError("crossEntropy", "logits must be [N, C] or [C]", [z.shape]);
  if (target instanceof Var || (target instanceof Tensor && shapesEqual(target.shape, z.shape))) {
    const t = toVar(target, "crossEntropy");
    return softTargetCrossEntropy(z, t, smoothing, reduction);
  }
  const [n, cls] = z.shape as [number, number];
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const labels = labelArray("crossEntropy", target, n, cls, ignoreIndex);
  return apply("crossEntropy", { labels, smoothing, ignoreIndex, reduction }, [z]);
}

/** Cross-entropy with class-probability targets: `-Σ_c q'_c log p_c`, `q' = (1-ε) q + ε/C` (composite). */
function softTargetCrossEntropy(z: Var, t: Var, smoothing: number, reduction: Reduction): Var {
  if (!shapesEqual(t.shape, z.shape)) throw new ShapeError("crossEntropy", "probability targets must have the logits' shape", [z.shape, t.shape]);
  const cls = z.shape[1]!;
  const q = smoothing > 0 ? add(mul(t, 1 - smoothing), smoothing / cls) : t;
  const per = neg(sum(mul(q, logSoftmax(z, 1)), 1));
  return reduction === "none" ? per : reduction === "sum" ? sum(per) : mean(per);
}

/**
 * Negative log-likelihood of log-probabilities `input` `[N, C]` at integer `target` labels.
 *
 * @throws {ShapeError} for mismatched shapes; {RangeError} for labels outside `[0, C)`.
 * @example
 * ```ts
 * nllLoss(logSoftmax(logits), labels);
 * ```
 */
export function nllLoss(input: VarLike, target: T.Indices, opts: { reduction?: Reduction; ignoreIndex?: number } = {}): Var {
  const x = toVar(input, "nllLoss");
  if (x.ndim !== 2) throw new ShapeError("nllLoss", "input must be [N, C]", [x.shape]);
  const reduction = checkReduction("nllLoss", opts.reduction ?? "mean");
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const labels = labelArray("nllLoss", target, x.shape[0]!, x.shape[1]!, ignoreIndex);
  return apply("nllLoss", { labels, ignoreIndex, reduction }, [x]);
}

/**
 * Applies a reduction to per-element losses: `"none"` returns `l`, `"sum"` its sum, `"mean"` its
 * mean; errors name `op` (the loss that called it).
 *
 * @throws {TypeError} for any other `reduction`; {Error} when `l`'s value was released by `dispose()`.
 * @example
 * ```ts
 * const l = reduceLoss(square(sub(pred, target)), "mean"); // an MSE
 * ```
 */
export function reduceLoss(l: Var, reduction: Reduction, op = "reduceLoss"): Var {
  checkReduction(op, reduction);
  if (!(l instanceof Var)) throw new TypeError(`${op}: the loss must be a Var (got ${l === null ? "null" : typeof l})`);
  return reduction === "none" ? l : reduction === "sum" ? sum(l) : mean(l);
}

/**
 * Binary cross-entropy on logits (stable form), with targets in [0, 1] of the same (or a
 * broadcastable) shape. Both inputs get gradients.
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * bceWithLogits(scores, labels01);
 * ```
 */
export function bceWithLogits(logits: VarLike, target: VarLike, opts: { reduction?: Reduction } = {}): Var {
  const reduction = checkReduction("bceWithLogits", opts.reduction ?? "mean");
  const z = toVar(logits, "bceWithLogits"), y = toVar(target, "bceWithLogits");
  if (!shapesEqual(z.shape, y.shape)) throw new ShapeError("bceWithLogits", "target must have the shape of the logits", [z.shape, y.shape]);
  return reduceLoss(apply("bceWithLogits", {}, [z, y]), reduction);
}

/** Reductions accepted by {@link klDiv}. */
export type KLReduction = Reduction | "batchmean";

/**
 * Kullback–Leibler divergence in PyTorch's convention: `input` holds log-probabilities `q`,
 * `target` probabilities `p` (or log-probabilities with `logTarget`); pointwise
 * `p (log p − q)`, 0 where `p = 0`. `"batchmean"` divides the sum by `input.shape[0]` (the
 * mathematically correct KL per sample); `"mean"` divides by the element count.
 *
 * @throws {ShapeError} when shapes do not broadcast.
 * @example
 * ```ts
 * klDiv(logSoftmax(student), softmax(teacher), { reduction: "batchmean" });
 * ```
 */
export function klDiv(input: VarLike, target: VarLike, opts: { reduction?: KLReduction; logTarget?: boolean } = {}): Var {
  const r = opts.reduction ?? "mean";
  if (r !== "batchmean") checkReduction("klDiv", r);
  const q = toVar(input, "klDiv");
  const p = toVar(target, "klDiv");
  T.broadcastShapes("klDiv", q.shape, p.shape);
  const l = apply("klDiv", { logTarget: opts.logTarget ?? false }, [q, p]);
  if (r === "batchmean") return mul(sum(l), 1 / (q.ndim === 0 ? 1 : q.shape[0]!));
  return reduceLoss(l, r);
}
