/**
 * @file The seed article's problem, shared by `linear-regression.ts` and the demo: data
 * `y = 2x + 1 + noise`, the model `ŷ = x·w + b` with MSE loss, the hand-derived gradient
 * `−(2/n)·Xᵀ(y − Xθ)`, the closed-form least-squares solution, and a gradient-descent trainer
 * whose clipping runs as the optimizer's `clip` option (so every step's telemetry is recorded).
 */
import { Rng, Tensor, rand } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import { SGD, clipGradNorm, clipGradValue, type GradTransform } from "@tapegrad/optim";

/** The data set. */
export interface LinregProblem {
  n: number;
  x: Float32Array;
  y: Float32Array;
  X: A.Var;
  Y: A.Var;
}

/** Draws `n` points `y = 2x + 1 + u`, `x, u ~ U[0, 1)` from a seeded generator. */
export function makeProblem(n = 100, seed = 2024): LinregProblem {
  const rng = new Rng(seed);
  const x = rand([n, 1], rng).data;
  const noise = rand([n, 1], rng).data;
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = 2 * x[i]! + 1 + noise[i]!;
  return { n, x, y, X: A.constant(new Tensor(x, [n, 1]), "X"), Y: A.constant(new Tensor(y, [n, 1]), "y") };
}

/** Initial parameters used throughout (far from the solution, so clipping matters at first). */
export const W_INIT = 0.87;
export const B_INIT = -0.7;

/** `mean((X·w + b − y)²)` as an autograd graph. */
export function lossOf(p: LinregProblem, w: A.Var, b: A.Var): A.Var {
  return A.mseLoss(A.add(A.matmul(p.X, w), b), p.Y);
}

/** The hand-derived gradient `−(2/n)·Xᵀ(y − Xθ)` for θ = [w, b] (design-matrix rows [xᵢ, 1]). */
export function handGradient(p: LinregProblem, w: number, b: number): [number, number] {
  let gw = 0;
  let gb = 0;
  for (let i = 0; i < p.n; i++) {
    const r = p.y[i]! - (p.x[i]! * w + b); // residual yᵢ − xᵢᵀθ
    gw += p.x[i]! * r; // (Xᵀr)_w
    gb += r; // (Xᵀr)_b: the bias column is all ones
  }
  return [(-2 / p.n) * gw, (-2 / p.n) * gb];
}

/** The article's formula `2(X − Xθ)` with a scalar weight: one value per sample, and no y. */
export function articleGradient(p: LinregProblem, w: number): Float32Array {
  const g = new Float32Array(p.n);
  for (let i = 0; i < p.n; i++) g[i] = 2 * (p.x[i]! - p.x[i]! * w);
  return g;
}

/** Float64 least squares for [w, b] by the 2×2 normal equations, and its MSE. */
export function closedForm(p: LinregProblem): { w: number; b: number; loss: number } {
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let i = 0; i < p.n; i++) {
    sx += p.x[i]!;
    sy += p.y[i]!;
    sxx += p.x[i]! * p.x[i]!;
    sxy += p.x[i]! * p.y[i]!;
  }
  const w = (p.n * sxy - sx * sy) / (p.n * sxx - sx * sx);
  const b = (sy - w * sx) / p.n;
  let loss = 0;
  for (let i = 0; i < p.n; i++) loss += (w * p.x[i]! + b - p.y[i]!) ** 2;
  return { w, b, loss: loss / p.n };
}

/** A clipping configuration of the experiment. */
export type LinregClip = { type: "none" } | { type: "value"; clipValue: number } | { type: "norm"; maxNorm: number };

/** Per-step record of a run (values at θ_k, before update k). */
export interface LinregRun {
  label: string;
  lr: number;
  clip: LinregClip;
  loss: number[];
  preClipNorm: number[];
  clipped: boolean[];
  w: number[];
  b: number[];
  final: { w: number; b: number; loss: number };
}

/** Full-batch gradient descent from (W_INIT, B_INIT) with the given clipping. */
export function trainLinreg(p: LinregProblem, label: string, lr: number, clip: LinregClip, steps = 1000): LinregRun {
  const w = A.variable(new Tensor(Float32Array.of(W_INIT), [1, 1]), { name: "w" });
  const b = A.variable(new Tensor(Float32Array.of(B_INIT), [1]), { name: "b" });
  const transform: GradTransform[] = clip.type === "value" ? [clipGradValue.transform(clip.clipValue)] : clip.type === "norm" ? [clipGradNorm.transform(clip.maxNorm)] : [];
  const opt = new SGD([w, b], { lr, clip: transform });
  const run: LinregRun = { label, lr, clip, loss: [], preClipNorm: [], clipped: [], w: [], b: [], final: { w: NaN, b: NaN, loss: NaN } };
  for (let k = 0; k < steps; k++) {
    run.w.push(w.value.item());
    run.b.push(b.value.item());
    opt.zeroGrad();
    const l = lossOf(p, w, b);
    l.backward();
    run.loss.push(l.item());
    opt.step();
    const s = opt.lastStats!;
    run.preClipNorm.push(s.preClipNorm);
    run.clipped.push(s.clipped);
  }
  run.final = { w: w.value.item(), b: b.value.item(), loss: A.noGrad(() => lossOf(p, w, b).item()) };
  return run;
}
