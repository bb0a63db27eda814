/**
 * @file Renders the demo's results as one self-contained HTML page (inline CSS and SVG, no
 * scripts, no external resources). Every sentence with a number is computed from the summary.
 */
import { lineChart, type Series } from "../lib/svg.js";
import type { LinregSection, MlpSection, RnnSection } from "./sections.js";

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const f = (v: number, d = 4) => (Number.isFinite(v) ? v.toFixed(d) : String(v));
const e = (v: number) => (Number.isFinite(v) ? v.toExponential(2) : String(v));

/** Moving average over `window` steps (non-finite values skipped; NaN where none are finite). */
export function smooth(values: readonly number[], window = 50): number[] {
  const out: number[] = [];
  let sum = 0, count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) { sum += v; count++; }
    if (i >= window) { const o = values[i - window]!; if (Number.isFinite(o)) { sum -= o; count--; } }
    out.push(count > 0 ? sum / count : NaN);
  }
  return out;
}

function table(head: string[], rows: (string | number)[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

function linregHtml(s: LinregSection): string {
  const rows = s.runs.map((r) => [r.label, f(r.final.w), f(r.final.b), f(r.final.loss, 5), `${r.clippedSteps}/${r.loss.length}`, f(r.preClipNorm[0]!, 3)]);
  rows.push(["closed-form least squares (float64)", f(s.closedForm.w), f(s.closedForm.b), f(s.closedForm.loss, 5), "–", "–"]);
  const loss: Series[] = s.runs.map((r, i) => ({ name: r.label, values: r.loss, color: COLORS[i]! }));
  const norm: Series[] = s.runs.map((r, i) => ({ name: r.label, values: r.preClipNorm, color: COLORS[i]! }));
  const clip: Series[] = s.runs.filter((r) => r.clip.type !== "none").map((r, i) => ({ name: r.label, values: r.clipRate, color: COLORS[i + 1]! }));
  return `<section><h2>1. The article's linear regression, done right</h2>
<p>Data: <code>y = 2x + 1 + noise</code>, 100 points; model <code>ŷ = x·w + b</code>, loss MSE, full-batch gradient descent for 1,000 steps from <code>w = 0.87, b = −0.7</code>.
The gradient is <code>−(2/n)·Xᵀ(y − Xθ)</code> (checked against autograd in <code>examples/linear-regression.ts</code>), not the article's <code>2(X − Xθ)</code>, which does not even contain <code>y</code>.
Clipping runs as the optimizer's <code>clip</code> option, so every step records the pre-clip gradient norm.</p>
${table(["run", "w", "b", "final MSE", "clipped steps", "‖g‖ at step 0"], rows)}
<div class="charts">${lineChart(loss, { title: "Loss", xLabel: "step", yLabel: "MSE", logY: true })}
${lineChart(norm, { title: "Pre-clip gradient norm", xLabel: "step", yLabel: "‖g‖₂", logY: true, hLines: [{ y: 0.5, label: "max norm 0.5" }] })}
${lineChart(clip, { title: "Clip rate (moving average over 50 steps)", xLabel: "step", yLabel: "fraction of steps clipped" })}</div>
<p>With lr 0.1, both clipping methods reach the least-squares solution; they only change the first steps, where the gradient is large.
Clip-by-value with lr 0.01 moves each parameter by at most 0.001 per step and is still far from the solution after 1,000 steps (w = ${f(s.runs[3]!.final.w)}, b = ${f(s.runs[3]!.final.b)}).</p></section>`;
}

/** "With clipping: 4/5 learned, 1/5 partly learned, 0/5 no progress, 0/5 diverged." */
export function outcomeLine(label: string, c: Record<string, number>, n: number): string {
  return `${label}: ${["learned", "partly learned", "no progress", "diverged"].map((k) => `${c[k] ?? 0}/${n} ${k}`).join(", ")}.`;
}

function rnnHtml(s: RnnSection): string {
  const c = s.config;
  const rows = s.runs.map((r) => [
    r.config.seed, r.clipped ? `clip ${s.maxNorm}` : "no clipping", r.outcome, f(r.testLoss), f(r.finalLoss),
    r.firstNonFinite === null ? "–" : String(r.firstNonFinite), e(Math.max(...r.preClipNorm.filter(Number.isFinite))), `${r.clippedSteps}/${c.steps}`,
  ]);
  const clippedRuns = s.runs.filter((r) => r.clipped);
  const unclipped = s.runs.filter((r) => !r.clipped);
  const label = (r: RnnSection["runs"][number]) => `seed ${r.config.seed} ${r.clipped ? "clip" : "no clip"}`;
  const color = (r: RnnSection["runs"][number]) => COLORS[r.config.seed % COLORS.length]!;
  const firstSteps = Math.max(60, ...unclipped.map((r) => (r.firstNonFinite ?? 0) + 10));
  const early = (pick: (r: RnnSection["runs"][number]) => number[]): Series[] =>
    s.runs.map((r) => ({ name: label(r), values: pick(r).slice(0, firstSteps), color: color(r), dashed: !r.clipped }));
  const lossSmooth: Series[] = clippedRuns.map((r) => ({ name: label(r), values: smooth(r.loss), color: color(r) }));
  const normSmooth: Series[] = clippedRuns.map((r) => ({ name: label(r), values: smooth(r.preClipNorm), color: color(r) }));
  const clip: Series[] = clippedRuns.map((r) => ({ name: `seed ${r.config.seed}`, values: r.clipRate, color: color(r) }));
  const cc = s.counts.clipped, uc = s.counts.unclipped;
  const n = s.seeds.length;
  return `<section><h2>2. Exploding gradients in a vanilla RNN: the adding problem</h2>
<p>Each sequence has ${c.seqLen} steps of <code>(value, marker)</code>; the target is the sum of the two marked values, so the network must remember the first one across the sequence.
Predicting the mean gives MSE ${f(s.baselineMse)}; a run counts as <b>learned</b> when its MSE on 4,096 fresh sequences is below ${f(s.learnedBelow)}, <b>partly learned</b> below ${f(s.partlyBelow)}, <b>diverged</b> when its loss or gradient became non-finite (or its test MSE exceeds 10× the baseline), else <b>no progress</b>.
Model: tanh RNN, ${c.hidden} hidden units (orthogonal recurrent init, gain ${c.recurrentGain}), linear read-out; plain SGD, lr ${c.lr}, batch ${c.batch}, ${c.steps} steps.
For each seed the two runs start from the same weights and see the same batches; the only difference is <code>clipGradNorm.transform(${s.maxNorm})</code>.</p>
<p class="claim">${outcomeLine("With clipping", cc, n)}<br>${outcomeLine("Without clipping", uc, n)}</p>
${table(["seed", "clipping", "outcome", "test MSE", "mean loss, last 10%", "first non-finite step", "max pre-clip ‖g‖", "clipped steps"], rows)}
<div class="charts">${lineChart(early((r) => r.loss), { title: `Training loss, first ${firstSteps} steps (dashed: no clipping)`, xLabel: "step", yLabel: "MSE", logY: true, hLines: [{ y: s.baselineMse, label: "predict-the-mean baseline" }] })}
${lineChart(early((r) => r.preClipNorm), { title: `Pre-clip gradient norm, first ${firstSteps} steps`, xLabel: "step", yLabel: "‖g‖₂", logY: true, hLines: [{ y: s.maxNorm, label: `max norm ${s.maxNorm}` }] })}
${lineChart(lossSmooth, { title: "Training loss of the clipped runs (moving average, 50 steps)", xLabel: "step", yLabel: "MSE", logY: true, hLines: [{ y: s.baselineMse, label: "baseline" }, { y: s.learnedBelow, label: "learned", color: "#2a2" }] })}
${lineChart(normSmooth, { title: "Pre-clip gradient norm of the clipped runs (moving average)", xLabel: "step", yLabel: "‖g‖₂", logY: true, hLines: [{ y: s.maxNorm, label: `max norm ${s.maxNorm}` }] })}
${lineChart(clip, { title: "Clip rate of the clipped runs (moving average, 50 steps)", xLabel: "step", yLabel: "fraction clipped" })}</div>
<p>Without clipping, one large gradient makes a large update, which makes the next gradient larger: the norm grows by orders of magnitude within a few steps until the weights overflow.
Clipping caps every update at <code>lr · ${s.maxNorm}</code> while keeping its direction, so the same spikes (the pre-clip norm still exceeds the threshold on many steps) only slow training down.</p></section>`;
}

function mlpHtml(s: MlpSection): string {
  const rows = s.runs.map((r) => [r.label, `${(100 * r.testAccuracy).toFixed(1)}%`, `${r.clippedSteps}/${r.steps}`, f(r.loss[r.loss.length - 1]!)]);
  const loss: Series[] = s.runs.map((r, i) => ({ name: r.label, values: smooth(r.loss), color: COLORS[i]! }));
  const norm: Series[] = s.runs.flatMap((r, i) => [
    { name: `${r.label}: pre-clip norm`, values: smooth(r.preClipNorm), color: COLORS[i]! },
    { name: `${r.label}: threshold`, values: r.threshold, color: COLORS[i + 2]!, dashed: true },
  ]);
  const clip: Series[] = s.runs.map((r, i) => ({ name: r.label, values: r.clipRate, color: COLORS[i]! }));
  return `<section><h2>3. A small MLP classifier with clipping telemetry</h2>
<p>${s.data.classes} interleaved spirals (${s.data.trainPerClass} training and ${s.data.testPerClass} test points per class, noise ${s.data.noise}); MLP 2-64-64-${s.data.classes} with ReLU; SGD with momentum 0.9, lr 0.1, batch 32.
The optimizer's telemetry (<code>opt.history</code>) records, for every step, the pre-clip norm, the norm after clipping, the threshold the clip transform used and whether it clipped.</p>
${table(["clipping", "test accuracy", "clipped steps", "last batch loss"], rows)}
<div class="charts">${lineChart(loss, { title: "Training loss (moving average, 50 steps)", xLabel: "step", yLabel: "cross-entropy", logY: true })}
${lineChart(norm, { title: "Pre-clip gradient norm (moving average) and clip threshold", xLabel: "step", yLabel: "‖g‖₂", logY: true })}
${lineChart(clip, { title: "Clip rate (moving average over 50 steps)", xLabel: "step", yLabel: "fraction clipped" })}</div>
<p>AutoClip sets its threshold to the 10th percentile of all gradient norms seen so far, so it clips most steps by design; the fixed threshold clips only while the norm is above it.</p></section>`;
}

/** The whole report page. */
export function renderReport(summary: { generatedAt: string; seconds: number; backend: string; linreg: LinregSection; rnn: RnnSection; mlp: MlpSection }): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tapegrad demo: gradient clipping</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:1340px;margin:2em auto;padding:0 1em;color:#222}h1{margin-bottom:.2em}
section{margin:2.5em 0}table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:8px}.claim{font-weight:600}
code{background:#f3f3f3;padding:0 3px}footer{color:#777;font-size:12px}</style></head><body>
<h1>Gradient clipping, shown</h1>
<p>Generated by <code>pnpm demo</code> (tapegrad, ${esc(summary.backend)} kernels) in ${summary.seconds.toFixed(1)} s. All numbers are in <code>out/summary.json</code>.</p>
${linregHtml(summary.linreg)}
${rnnHtml(summary.rnn)}
${mlpHtml(summary.mlp)}
<footer>${esc(summary.generatedAt)}</footer></body></html>`;
}
