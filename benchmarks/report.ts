/**
 * @file Printing: one line per measurement and the table of tapegrad's ratios to every peer
 * (tfjs-cpu, tfjs-wasm, jax-js, torch; a Markdown table, so a run can be pasted into
 * BENCHMARKS.md). The issues' targets are checked in `issue-targets.ts`.
 */
import { higherIsBetter, type ResultRecord } from "./types.js";

/** The peers of the ratio table, in column order. */
export const PEERS = ["tfjs-cpu", "tfjs-wasm", "jax-js", "torch"] as const;

/** A value with 3 significant digits at most (no exponent). */
export function num(v: number): string {
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
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** How many times faster tapegrad is than `other` (>1: tapegrad faster), for either kind of unit. */
export function speedup(tapegrad: ResultRecord, other: ResultRecord): number {
  return higherIsBetter(tapegrad.unit) ? tapegrad.value / other.value : other.value / tapegrad.value;
}

/**
 * The `library` record comparable to `r`: same bench and case, same thread count, else 1 thread.
 */
export function counterpart(results: readonly ResultRecord[], r: ResultRecord, library: string): ResultRecord | undefined {
  const same = results.filter((x) => x.library === library && x.bench === r.bench && x.name === r.name);
  return same.find((x) => x.threads === r.threads) ?? same.find((x) => x.threads === 1);
}

/**
 * The ratio table: one row per tapegrad measurement (backend, threads), with each peer's value
 * of the same case and tapegrad's speed-up over it (`tapegrad / peer` for throughput,
 * `peer / tapegrad` for times in ms; above 1× tapegrad is faster). Peers at the same thread count
 * where they have it, else at 1 thread, marked `(1t)`.
 */
export function ratioTable(results: readonly ResultRecord[], rounds: number): string {
  const rows: string[][] = [];
  for (const r of results) {
    if (r.library !== "tapegrad" || r.bench === "memory") continue;
    const cells = [r.bench, r.name.startsWith(r.bench) ? r.name.slice(r.bench.length).trim() || r.name : r.name, r.backend, r.simd ?? "plain", String(r.threads), `${num(r.value)} ${r.unit}`];
    const others = PEERS.map((lib) => counterpart(results, r, lib));
    for (const o of others) cells.push(o ? `${num(o.value)}${o.threads !== r.threads ? ` (${o.threads}t)` : ""}` : "—");
    for (const o of others) cells.push(o ? `${num(speedup(r, o))}×` : "—");
    rows.push(cells);
  }
  const title =
    `## tapegrad vs its peers${rounds > 1 ? ` (median of ${rounds} rounds)` : ""}: speed-up = tapegrad/peer for GFLOP/s and GB/s, ` +
    "peer/tapegrad for ms; above 1× tapegrad is faster. Peer columns: same unit, same thread count unless marked.";
  return `${title}\n\n${table(["bench", "case", "tapegrad backend", "simd", "threads", "tapegrad", ...PEERS, ...PEERS.map((p) => `vs ${p}`)], rows)}`;
}
