/**
 * @file Printing: one line per measurement, the table of tapegrad/tfjs ratios and the check of
 * the issues' targets (issue 12's speed-ups over tfjs-wasm in the same run, and issue 6's absolute
 * numbers; both Markdown tables, so a run can be pasted into BENCHMARKS.md).
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
 * The tfjs record comparable to `r`: same bench and case, same thread count, else 1 thread.
 */
function counterpart(results: readonly ResultRecord[], r: ResultRecord, library: string): ResultRecord | undefined {
  const same = results.filter((x) => x.library === library && x.bench === r.bench && x.name === r.name);
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
  /** Whether a record meets the target (ratios look up tfjs-wasm in the same run). */
  check: (r: ResultRecord) => boolean | undefined;
  /** How a record is shown. */
  show: (r: ResultRecord) => string;
}

/**
 * The issues' measurable targets, checked against this run's tapegrad numbers (the best matching
 * record: e.g. the 1-thread targets take any non-`js` backend at 1 thread), once per SIMD mode
 * measured (`plain`, `relaxed`): a target is only "met" in the mode whose record meets it.
 * Issue 12's are speed-ups over tfjs-wasm (1 thread; tfjs-wasm has no working 2-thread target in
 * Node) measured in the same run.
 */
export function issueTargets(results: readonly ResultRecord[], opts: { memoryRequested: boolean }): string {
  const modes = [...new Set(results.filter((r) => r.library === "tapegrad").map((r) => r.simd ?? "plain"))].sort((a, b) => (a === "plain" ? -1 : b === "plain" ? 1 : 0));
  const tfjsWasm = results.filter((r) => r.library === "tfjs-wasm" && r.threads === 1);
  if (modes.length <= 1) return targetTable(results.filter((r) => r.library === "tapegrad"), tfjsWasm, opts, modes[0] ?? "plain");
  // js records have no relaxed mode: they count for every mode
  return modes.map((m) => targetTable(results.filter((r) => r.library === "tapegrad" && ((r.simd ?? "plain") === m || r.backend === "js")), tfjsWasm, opts, m)).join("\n\n");
}

function targetTable(tg: readonly ResultRecord[], tfjsWasm: readonly ResultRecord[], opts: { memoryRequested: boolean }, mode: string): string {
  const pick = (f: (r: ResultRecord) => boolean) => tg.filter(f);
  const mm512 = (r: ResultRecord) => r.bench === "matmul" && r.size === 512;
  const mlp = (r: ResultRecord) => r.bench === "mlp-step";
  const clip = (r: ResultRecord) => r.bench === "clip-global-norm";
  const plain = (r: ResultRecord) => `${num(r.value)} ${r.unit} (${r.backend}, ${r.threads} thread${r.threads === 1 ? "" : "s"})`;
  const ratio = (r: ResultRecord) => {
    const o = tfjsWasm.find((x) => x.bench === r.bench && x.name === r.name);
    return o ? speedup(r, o) : undefined;
  };
  const vsWasm = (r: ResultRecord) => {
    const x = ratio(r);
    return `${plain(r)}: ${x === undefined ? "no tfjs-wasm number" : `${num(x)}× tfjs-wasm`}`;
  };
  const atLeast = (k: number) => (r: ResultRecord) => {
    const x = ratio(r);
    return x === undefined ? undefined : x >= k;
  };
  const targets: TargetRow[] = [
    { target: "#12 MLP step ≥ 10× tfjs-wasm, 1 thread", records: pick((r) => mlp(r) && r.threads === 1 && r.backend !== "js"), check: atLeast(10), show: vsWasm },
    { target: "#12 MLP step ≥ 16× tfjs-wasm, 2 threads", records: pick((r) => mlp(r) && r.threads === 2), check: atLeast(16), show: vsWasm },
    { target: "#12 clipGradNorm 10M ≥ 3.5× tfjs-wasm, 1 thread", records: pick((r) => clip(r) && r.threads === 1 && r.backend !== "js"), check: atLeast(3.5), show: vsWasm },
    { target: "#6 matmul 512×512, 1 thread ≥ 38 GFLOP/s", records: pick((r) => mm512(r) && r.threads === 1 && r.backend !== "js"), check: (r) => r.value >= 38, show: plain },
    { target: "#6 matmul 512×512, 2 threads ≥ 70 GFLOP/s", records: pick((r) => mm512(r) && r.threads === 2), check: (r) => r.value >= 70, show: plain },
    { target: "#6 pure-TS matmul (512×512) ≥ 4 GFLOP/s", records: pick((r) => mm512(r) && r.backend === "js"), check: (r) => r.value >= 4, show: plain },
  ];
  const rows = targets.map(({ target, records, check, show }) => {
    if (records.length === 0) return [target, "not measured", "—"];
    const best = records.reduce((a, b) => (higherIsBetter(a.unit) ? (b.value > a.value ? b : a) : b.value < a.value ? b : a));
    const met = check(best);
    return [target, show(best), met === undefined ? "—" : met ? "yes" : "no"];
  });
  const mem = tg.filter((r) => r.bench === "memory");
  if (mem.length === 0) {
    rows.push(["#12 heap flat over a 10,000-step training run", opts.memoryRequested ? "not measured (failed)" : "not run (pnpm bench --memory)", "—"]);
  } else {
    for (const m of mem) {
      const steps = Number(m.size);
      const slope = Number(m.heapSlopeMBPer1kSteps);
      const measured = `${m.flat ? "flat" : "growing"} over ${steps} steps: heapUsed ${num(m.value)} MB at the end, slope ${slope >= 0 ? "+" : ""}${slope.toFixed(3)} MB/1k steps (${m.backend})`;
      rows.push(["#12 heap flat over a 10,000-step training run", measured, m.flat === true && steps >= 10_000 ? "yes" : "no"]);
    }
  }
  return `## targets of issues 12 and 6 (this run, this machine; SIMD: ${mode})\n\n${table(["target", "measured", "met"], rows)}`;
}
