/**
 * @file Draws the clipping guide's plots (docs/guides/media/*.svg) from `pnpm demo`'s own
 * experiments (examples/demo/sections.ts), so the guide shows what the demo measures: the
 * linear-regression loss per clipping configuration and the exploding RNN's pre-clip gradient
 * norm with and without clipping. Deterministic (seeded); run with
 * `pnpm exec tsx --conditions=source scripts/guide-plots.ts` after changing the experiments.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runLinreg, runRnn } from "../examples/demo/sections.js";
import { lineChart } from "../examples/lib/svg.js";

const dir = join(import.meta.dirname, "../docs/guides/media");
mkdirSync(dir, { recursive: true });
const colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
const linreg = runLinreg();
writeFileSync(join(dir, "linreg-loss.svg"), lineChart(
  linreg.runs.map((r, i) => ({ name: r.label, values: r.loss.slice(0, 300), color: colors[i % colors.length]! })),
  { title: "Linear regression: loss per step", xLabel: "step", yLabel: "MSE", logY: true, hLines: [{ y: linreg.closedForm.loss, label: "least squares" }] },
));
const rnn = runRnn();
const pick = (clipped: boolean) => rnn.runs.find((r) => r.clipped === clipped)!;
writeFileSync(join(dir, "rnn-grad-norm.svg"), lineChart(
  [
    { name: "clipGradNorm 1.0 (pre-clip norm)", values: pick(true).preClipNorm.map((v) => (Number.isFinite(v) ? v : NaN)), color: colors[0]! },
    { name: "no clipping", values: pick(false).preClipNorm.map((v) => (Number.isFinite(v) ? v : NaN)), color: colors[1]! },
  ],
  { title: "Exploding RNN (adding problem): gradient norm per step", xLabel: "step", yLabel: "‖g‖", logY: true, hLines: [{ y: rnn.maxNorm, label: "max norm" }] },
));
console.log(`wrote ${dir}/linreg-loss.svg and rnn-grad-norm.svg`);
