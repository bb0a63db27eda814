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
 * clip-by-norm (the optimizer's `clip` option, with telemetry), then compared with the closed-form
 * least-squares solution. The same code is section 1 of `pnpm demo`.
 *
 * Run: `npx tsx --conditions=source examples/linear-regression.ts`
 */
import { Tensor } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import { B_INIT, W_INIT, articleGradient, closedForm, handGradient, lossOf, makeProblem, trainLinreg } from "./lib/linreg.js";

const p = makeProblem();

// 1. The hand-derived gradient agrees with autograd (at a few points).
for (const [w0, b0] of [[W_INIT, B_INIT], [2, 1], [-3, 5]] as const) {
  const wv = A.variable(new Tensor(Float32Array.of(w0), [1, 1]), { name: "w" });
  const bv = A.variable(new Tensor(Float32Array.of(b0), [1]), { name: "b" });
  lossOf(p, wv, bv).backward();
  const auto = [wv.grad!.item(), bv.grad!.item()];
  const hand = handGradient(p, w0, b0);
  const err = Math.max(...hand.map((h, i) => Math.abs(h - auto[i]!) / Math.max(1, Math.abs(h))));
  console.log(`θ = (${w0}, ${b0}): autograd [${auto.map((v) => v.toFixed(6))}]  hand [${hand.map((v) => v.toFixed(6))}]  rel. err ${err.toExponential(1)}`);
  if (err > 1e-4) throw new Error(`hand-derived gradient disagrees with autograd at θ = (${w0}, ${b0})`);
}

// 2. The article's formula does not see y: same values for any labels, zero at w = 1.
const art = articleGradient(p, W_INIT);
console.log(`\narticle's "gradient" 2(X − Xθ) at w = ${W_INIT}: ${art.length} values (one per sample, none per parameter), e.g. ${art[0]!.toFixed(4)}`);
console.log(`  it contains no y: the same for y = 2x + 1 + noise and for y = −5x; at w = 1 it is ${articleGradient(p, 1)[0]} everywhere`);
let wArticle = W_INIT;
for (let k = 0; k < 1000; k++) {
  const g = articleGradient(p, wArticle).reduce((a, v) => a + v, 0) / p.n; // even averaged over samples…
  wArticle -= 0.01 * Math.max(-0.1, Math.min(0.1, g)); // …and clipped as in the article
}
console.log(`  descending it (lr 0.01, clip ±0.1) for 1000 steps moves w from ${W_INIT} to ${wArticle.toFixed(3)}, away from 2 and even from 1`);

// 3. Train with autograd: no clipping, clip-by-value and clip-by-norm.
console.log("");
for (const run of [
  trainLinreg(p, "no clipping, lr 0.1", 0.1, { type: "none" }),
  trainLinreg(p, "clip by value 0.1, lr 0.01", 0.01, { type: "value", clipValue: 0.1 }),
  trainLinreg(p, "clip by value 0.1, lr 0.1", 0.1, { type: "value", clipValue: 0.1 }),
  trainLinreg(p, "clip by norm 0.5, lr 0.1", 0.1, { type: "norm", maxNorm: 0.5 }),
]) {
  const clipped = run.clipped.filter(Boolean).length;
  console.log(
    `${run.label.padEnd(26)} w ${run.final.w.toFixed(4)}  b ${run.final.b.toFixed(4)}  loss ${run.final.loss.toFixed(5)}` +
      `  (clipped ${clipped}/${run.loss.length} steps; |grad| at step 0: ${run.preClipNorm[0]!.toFixed(3)})`,
  );
}
const cf = closedForm(p);
console.log(`${"closed-form least squares".padEnd(26)} w ${cf.w.toFixed(4)}  b ${cf.b.toFixed(4)}  loss ${cf.loss.toFixed(5)}`);
console.log("(clip-by-value with lr 0.01 moves each parameter at most 0.001 per step, so 1000 steps are not enough to converge)");
