/**
 * @file `pnpm demo`: runs the three clipping experiments (no downloads, about a minute or two on 2
 * cores), prints a progress bar per run (one summary line per run when not a TTY), and writes
 * `out/report.html` (self-contained, inline SVG charts) and `out/summary.json` (every number behind
 * the charts and claims).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kernels } from "@tapegrad/tensor";
import { runLinreg, runMlp, runRnn } from "./sections.js";
import { outcomeLine, renderReport } from "./report.js";

const outDir = join(process.cwd(), "out");
const t0 = performance.now();
console.log(`tapegrad demo: gradient clipping (${kernels().name} kernels)\n`);
const linreg = runLinreg();
const rnn = runRnn();
const mlp = runMlp();
const seconds = (performance.now() - t0) / 1000;
const summary = { generatedAt: new Date().toISOString(), seconds, backend: kernels().name, linreg, rnn, mlp };

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "summary.json"), JSON.stringify(summary, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v)));
writeFileSync(join(outDir, "report.html"), renderReport(summary));

const c = rnn.counts;
console.log(`\nRNN adding problem, ${rnn.seeds.length} seeds, same lr ${rnn.config.lr}:`);
console.log(`  ${outcomeLine(`with clipGradNorm.transform(${rnn.maxNorm})`, c.clipped, rnn.seeds.length)}`);
console.log(`  ${outcomeLine("without clipping", c.unclipped, rnn.seeds.length)}`);
console.log(`MLP test accuracy: ${mlp.runs.map((r) => `${r.label} ${(100 * r.testAccuracy).toFixed(1)}%`).join(", ")}`);
console.log(`\nwrote ${join("out", "report.html")} and ${join("out", "summary.json")} in ${seconds.toFixed(1)} s`);
