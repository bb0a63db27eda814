/**
 * @file Printing: one line per measurement, the table of tapegrad/tfjs ratios and the check of
 * issue 6's targets (both Markdown tables, so a run can be pasted into BENCHMARKS.md).
 */
import { higherIsBetter, type ResultRecord } from "./types.js";

/** A value with 3 significant digits at most (no exponent). */
function num(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2);
}

/** `matmul 512x512: 5.3 GFLOP/s  (tapegrad js, 1 thread, ±1.1%, 9 samples)` */
export function formatRecord(r: ResultRecord): string {
  const v = r.value >= 100 ? r.value.toFixed(0) : r.value >= 1 ? r.value.toFixed(1) : r.value.toPrecision(2);
  const threads = r.threads === 1 ? "1 thread" : `${r.threads} threads`;
  const margin = r.timing === "direct" ? "direct timing" : r.bench === "memory" ? "after GC" : `±${r.rme.toFixed(1)}%`;
  const flags = [r.reran ? "re-measured: margin was large" : "", r.detached ? "after an ArrayBuffer detach" : ""].filter(Boolean);
  const simd = r.simd === "relaxed" ? ", relaxed SIMD" : "";
  return `${r.name}: ${v} ${r.unit}  (${r.library} ${r.backend}, ${threads}${simd}, ${margin}, ${r.samples} samples)${flags.length ? `  [${flags.join("; ")}]` : ""}`;
}

/** A Markdown table with padded columns. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** How many times faster tapegrad is than `other` (>1: tapegrad faster), for either kind of unit. */
export function speedup(tapegrad: ResultRecord, other: ResultRecord): number {
  return higherIsBetter(tapegrad.unit) ? tapegrad.value / other.value : other.value / tapegrad.value;
}

/**
 * The tfjs record comparable to `r`: same bench and case (`r.compareAs` names the case a variant
 * stands in for), same thread count, else 1 thread.
 */
function counterpart(results: readonly ResultRecord[], r: ResultRecord, library: string): ResultRecord | undefined {
  const name = typeof r.compareAs === "string" ? r.compareAs : r.name;
  const same = results.filter((x) => x.library === library && x.bench === r.bench && x.name === name);
  return same.find((x) => x.threads === r.threads) ?? same.find((x) => x.threads === 1);
}

/**
 * The ratio table: one row per tapegrad measurement (backend, threads), with the tfjs-cpu and
 * tfjs-wasm values of the same case and tapegrad's speed-up over each (`tapegrad / tfjs` for
 * throughput, `tfjs / tapegrad` for times in ms; above 1× tapegrad is faster).
 */
export function ratioTable(results: readonly ResultRecord[], rounds: number): string {
  const rows: string[][] = [];
  for (const r of results) {
    if (r.library !== "tapegrad" || r.bench === "memory") continue;
    const cells = [r.bench, r.name.startsWith(r.bench) ? r.name.slice(r.bench.length).trim() || r.name : r.name, r.backend, r.simd ?? "plain", String(r.threads), `${num(r.value)} ${r.unit}`];
    for (const lib of ["tfjs-cpu", "tfjs-wasm"]) {
      const o = counterpart(results, r, lib);
      cells.push(o ? `${num(o.value)}${o.threads !== r.threads ? ` (${o.threads}t)` : ""}` : "—");
    }
    for (const lib of ["tfjs-cpu", "tfjs-wasm"]) {
      const o = counterpart(results, r, lib);
      cells.push(o ? `${num(speedup(r, o))}×` : "—");
    }
    rows.push(cells);
  }
  const title =
    `## tapegrad vs tfjs${rounds > 1 ? ` (median of ${rounds} rounds)` : ""}: speed-up = tapegrad/tfjs for GFLOP/s and GB/s, ` +
    "tfjs/tapegrad for ms; above 1× tapegrad is faster. tfjs columns: same unit, same thread count unless marked.";
  return `${title}\n\n${table(["bench", "case", "tapegrad backend", "simd", "threads", "tapegrad", "tfjs-cpu", "tfjs-wasm", "vs tfjs-cpu", "vs tfjs-wasm"], rows)}`;
}

interface TargetRow {
  target: string;
  records: ResultRecord[];
  check: (v: number) => boolean;
}

/**
 * Issue 6's measurable targets, checked against this run's tapegrad numbers (the best matching
 * record: e.g. the 1-thread targets take any non-`js` backend at 1 thread), once per SIMD mode
 * measured (`plain`, `relaxed`): a target is only "met" in the mode whose record meets it.
 */
export function issueTargets(results: readonly ResultRecord[], opts: { memoryRequested: boolean }): string {
  const modes = [...new Set(results.filter((r) => r.library === "tapegrad").map((r) => r.simd ?? "plain"))].sort((a, b) => (a === "plain" ? -1 : b === "plain" ? 1 : 0));
  if (modes.length <= 1) return targetTable(results.filter((r) => r.library === "tapegrad"), opts, modes[0] ?? "plain");
  // js records have no relaxed mode: they count for every mode
  return modes.map((m) => targetTable(results.filter((r) => r.library === "tapegrad" && ((r.simd ?? "plain") === m || r.backend === "js")), opts, m)).join("\n\n");
}

function targetTable(tg: readonly ResultRecord[], opts: { memoryRequested: boolean }, mode: string): string {
  const pick = (f: (r: ResultRecord) => boolean) => tg.filter(f);
  const mm512 = (r: ResultRecord) => r.bench === "matmul" && r.size === 512;
  const mlp = (r: ResultRecord) => r.bench === "mlp-step";
  const targets: TargetRow[] = [
    { target: "matmul 512×512, 1 thread ≥ 38 GFLOP/s", records: pick((r) => mm512(r) && r.threads === 1 && r.backend !== "js"), check: (v) => v >= 38 },
    { target: "matmul 512×512, 2 threads ≥ 70 GFLOP/s", records: pick((r) => mm512(r) && r.threads === 2), check: (v) => v >= 70 },
    { target: "pure-TS matmul (512×512) ≥ 4 GFLOP/s", records: pick((r) => mm512(r) && r.backend === "js"), check: (v) => v >= 4 },
    { target: "MLP step, 1 thread ≤ 6 ms", records: pick((r) => mlp(r) && r.threads === 1 && r.backend !== "js"), check: (v) => v <= 6 },
    { target: "MLP step, 2 threads ≤ 4 ms", records: pick((r) => mlp(r) && r.threads === 2), check: (v) => v <= 4 },
    { target: "clip-global-norm 10M (clipGradNorm) ≤ 3 ms", records: pick((r) => r.bench === "clip-global-norm" && !/kernel/.test(r.name)), check: (v) => v <= 3 },
    { target: "clip-global-norm 10M (bare wasm-heap kernel) ≤ 3 ms", records: pick((r) => r.bench === "clip-global-norm" && /kernel/.test(r.name)), check: (v) => v <= 3 },
  ];
  const rows = targets.map(({ target, records, check }) => {
    if (records.length === 0) return [target, "not measured", "—"];
    const best = records.reduce((a, b) => (higherIsBetter(a.unit) ? (b.value > a.value ? b : a) : b.value < a.value ? b : a));
    const label = best.bench === "clip-global-norm" || best.bench === "mlp-step" ? `${best.name.replace(/^(clip-global-norm|mlp-step) /, "")}, ${best.backend}` : best.backend;
    return [target, `${num(best.value)} ${best.unit} (${label}, ${best.threads} thread${best.threads === 1 ? "" : "s"})`, check(best.value) ? "yes" : "no"];
  });
  const mem = tg.filter((r) => r.bench === "memory");
  if (mem.length === 0) {
    rows.push(["heap flat over a 10,000-step training run", opts.memoryRequested ? "not measured (failed)" : "not run (pnpm bench --memory)", "—"]);
  } else {
    for (const m of mem) {
      const steps = Number(m.size);
      const slope = Number(m.heapSlopeMBPer1kSteps);
      const measured = `${m.flat ? "flat" : "growing"} over ${steps} steps: heapUsed ${num(m.value)} MB at the end, slope ${slope >= 0 ? "+" : ""}${slope.toFixed(3)} MB/1k steps (${m.backend})`;
      rows.push(["heap flat over a 10,000-step training run", measured, m.flat === true && steps >= 10_000 ? "yes" : "no"]);
    }
  }
  return `## issue 6 targets (this run, this machine; SIMD: ${mode})\n\n${table(["target", "measured", "met"], rows)}`;
}
