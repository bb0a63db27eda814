/**
 * @file The seed's example, done right: fit `y = 2x + 1 + noise` by gradient descent.
 *
 * The article this project grew out of trains the model `ŷ = Xθ` with gradient clipping
 * `θ ← θ − ε·clip(g, −c, c)`, but computes the gradient as `g = 2(X − Xθ)`. That is wrong:
 *
 * 1. The loss is `L(θ) = (1/n)·Σᵢ (yᵢ − xᵢᵀθ)² = (1/n)‖y − Xθ‖²`. Its gradient is
 *    `∇L = −(2/n)·Xᵀ(y − Xθ)`: the chain rule brings the factor `2·(residual)` from the square and
 *    `−Xᵀ` from `d(y − Xθ)/dθ = −X`, and the mean brings `1/n`.
 * 2. `2(X − Xθ)` has `X` where the targets `y` belong, so it does not depend on the data's labels at
 *    all: every dataset with the same inputs gets the same "gradient", and it vanishes at `θ = 1`
 *    whatever `y` is. The model cannot learn `w = 2, b = 1` from it.
 * 3. It lacks the `Xᵀ` contraction, so it has one entry per *sample* (shape `[n, …]`), not one per
 *    *parameter*; and it lacks the minus sign, so even where it points along the data it points
 *    uphill. It also lacks `1/n`, so its size grows with the dataset (which clipping then hides).
 *
 * Below: the hand-derived gradient is checked against autograd, the article's formula is shown to
 * ignore `y`, and the model is trained without clipping, with clip-by-value and with
 * clip-by-norm, then compared with the closed-form least-squares solution.
 *
 * Run: `npx tsx --conditions=source examples/linear-regression.ts`
 */
import { Rng, Tensor, rand } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import { SGD, clipByGlobalNorm, clipGradValue, getTotalNorm } from "@tapegrad/optim";

const N = 100;
const rng = new Rng(2024);
const x = rand([N, 1], rng).data; // uniform [0, 1)
const noise = rand([N, 1], rng).data;
const yData = new Float32Array(N);
for (let i = 0; i < N; i++) yData[i] = 2 * x[i]! + 1 + noise[i]!;

const X = A.constant(new Tensor(x, [N, 1]), "X");
const y = A.constant(new Tensor(yData, [N, 1]), "y");
const W_INIT = 0.87;
const B_INIT = -0.7;

/** `mean((X·w + b − y)²)`, the model's loss as an autograd graph. */
const lossOf = (w: A.Var, b: A.Var): A.Var => A.mseLoss(A.add(A.matmul(X, w), b), y);

/** The hand-derived gradient `−(2/n)·Xᵀ(y − Xθ)` for θ = [w, b] (design matrix rows [xᵢ, 1]). */
function handGradient(w: number, b: number): [number, number] {
  let gw = 0;
  let gb = 0;
  for (let i = 0; i < N; i++) {
    const r = yData[i]! - (x[i]! * w + b); // residual yᵢ − xᵢᵀθ
    gw += x[i]! * r; // (Xᵀr)_w
    gb += r; // (Xᵀr)_b: the bias column is all ones
  }
  return [(-2 / N) * gw, (-2 / N) * gb];
}

/** The article's formula `2(X − Xθ)` with a scalar weight: one value per sample, no y anywhere. */
function articleGradient(w: number): Float32Array {
  const g = new Float32Array(N);
  for (let i = 0; i < N; i++) g[i] = 2 * (x[i]! - x[i]! * w);
  return g;
}

/** Float64 least squares for [w, b] by the 2×2 normal equations. */
function closedForm(): { w: number; b: number; loss: number } {
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let i = 0; i < N; i++) {
    sx += x[i]!;
    sy += yData[i]!;
    sxx += x[i]! * x[i]!;
    sxy += x[i]! * yData[i]!;
  }
  const w = (N * sxy - sx * sy) / (N * sxx - sx * sx);
  const b = (sy - w * sx) / N;
  let loss = 0;
  for (let i = 0; i < N; i++) loss += (w * x[i]! + b - yData[i]!) ** 2;
  return { w, b, loss: loss / N };
}

// 1. The hand-derived gradient agrees with autograd (at a few points).
for (const [w0, b0] of [[W_INIT, B_INIT], [2, 1], [-3, 5]] as const) {
  const wv = A.variable(new Tensor(Float32Array.of(w0), [1, 1]), { name: "w" });
  const bv = A.variable(new Tensor(Float32Array.of(b0), [1]), { name: "b" });
  lossOf(wv, bv).backward();
  const auto = [wv.grad!.item(), bv.grad!.item()];
  const hand = handGradient(w0, b0);
  const err = Math.max(...hand.map((h, i) => Math.abs(h - auto[i]!) / Math.max(1, Math.abs(h))));
  console.log(`θ = (${w0}, ${b0}): autograd [${auto.map((v) => v.toFixed(6))}]  hand [${hand.map((v) => v.toFixed(6))}]  rel. err ${err.toExponential(1)}`);
  if (err > 1e-4) throw new Error(`hand-derived gradient disagrees with autograd at θ = (${w0}, ${b0})`);
}

// 2. The article's formula does not see y: same values for any labels, zero at w = 1.
const art = articleGradient(W_INIT);
console.log(`\narticle's "gradient" 2(X − Xθ) at w = ${W_INIT}: ${art.length} values (one per sample, none per parameter), e.g. ${art[0]!.toFixed(4)}`);
console.log(`  it contains no y: the same for y = 2x + 1 + noise and for y = −5x; at w = 1 it is ${articleGradient(1)[0]} everywhere`);
let wArticle = W_INIT;
for (let k = 0; k < 1000; k++) {
  const g = articleGradient(wArticle).reduce((a, v) => a + v, 0) / N; // even averaged over samples…
  wArticle -= 0.01 * Math.max(-0.1, Math.min(0.1, g)); // …and clipped as in the article
}
console.log(`  descending it (lr 0.01, clip ±0.1) for 1000 steps moves w from ${W_INIT} to ${wArticle.toFixed(3)}, away from 2 and even from 1`);

// 3. Train with autograd: no clipping, clip-by-value (by hand, between backward and step), and
//    clip-by-norm (as the optimizer's clip option, with telemetry).
function train(label: string, lr: number, mode: "none" | "value" | "norm"): void {
  const w = A.variable(new Tensor(Float32Array.of(W_INIT), [1, 1]), { name: "w" });
  const b = A.variable(new Tensor(Float32Array.of(B_INIT), [1]), { name: "b" });
  const opt = new SGD([w, b], { lr, clip: mode === "norm" ? clipByGlobalNorm(0.5) : [], history: true });
  let valueClipped = 0;
  let loss = NaN;
  let firstNorm = NaN;
  for (let k = 0; k < 1000; k++) {
    opt.zeroGrad();
    const l = lossOf(w, b);
    l.backward();
    loss = l.item();
    if (k === 0) firstNorm = getTotalNorm([w, b]); // unclipped
    if (mode === "value") valueClipped += clipGradValue([w, b], 0.1).clipped ? 1 : 0; // clip(g, −0.1, 0.1)
    opt.step();
  }
  opt.zeroGrad();
  const final = lossOf(w, b);
  final.backward();
  const clippedSteps = mode === "value" ? valueClipped : opt.history.filter((s) => s.clipped).length;
  if (mode === "norm" && opt.history[0]!.preClipNorm !== firstNorm) throw new Error("telemetry disagrees with getTotalNorm");
  console.log(
    `${label.padEnd(26)} w ${w.value.item().toFixed(4)}  b ${b.value.item().toFixed(4)}  loss ${final.item().toFixed(5)}` +
      `  |grad| ${getTotalNorm([w, b]).toExponential(2)}  (clipped ${clippedSteps}/1000 steps; |grad| at step 0: ${firstNorm.toFixed(3)}; last loss ${loss.toFixed(5)})`,
  );
}

console.log("");
train("no clipping, lr 0.1", 0.1, "none");
train("clip by value 0.1, lr 0.01", 0.01, "value");
train("clip by value 0.1, lr 0.1", 0.1, "value");
train("clip by norm 0.5, lr 0.1", 0.1, "norm");
const cf = closedForm();
console.log(`${"closed-form least squares".padEnd(26)} w ${cf.w.toFixed(4)}  b ${cf.b.toFixed(4)}  loss ${cf.loss.toFixed(5)}`);
console.log("(clip-by-value with lr 0.01 moves each parameter at most 0.001 per step, so 1000 steps are not enough to converge)");
