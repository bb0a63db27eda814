/**
 * @file Memory over a long training run (opt-in: `pnpm bench --memory`): the tapegrad MLP step of
 * mlp.ts repeated `--memory-steps` times (default 10,000), sampling after a forced GC
 * (`global.gc`, the process runs with `--expose-gc`) every 1/50 of the run:
 * `process.memoryUsage().heapUsed` (the JS heap: tensor objects, autograd nodes, closures) and
 * `arrayBuffers` (the float32 storage of tensors lives in ArrayBuffers, outside the JS heap, so a
 * tensor leak shows there first), `external` (which also counts wasm memories) and `rss` (for
 * information only: the allocator keeps freed pages).
 *
 * Flatness: a least-squares line through the last 80% of the samples (the first 20% include
 * warm-up: JIT code, lazily built buffers). The run is flat when, for both series, the line's
 * drift over that window (heapUsed, arrayBuffers, external) is under {@link FLAT_MB} MB or {@link FLAT_FRACTION} of the mean.
 * One record (`bench: "memory"`, `unit: "MB"`, `value`: heapUsed at the end) carries the samples,
 * slopes and the verdict.
 */
import { tapegradStep } from "./mlp.js";
import type { ProbeOptions, ResultRecord, TargetContext, Topic } from "./types.js";

/** Drift (MB over the fitted window) below which a series counts as flat... */
const FLAT_MB = 1;
/** ...or below this fraction of its mean. */
const FLAT_FRACTION = 0.02;
/** Samples taken over the run (plus one before the first step). */
const SAMPLES = 50;
const MB = 1e6;

/** Slope (per step) of the least-squares line through `(xs, ys)`. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

interface Series {
  slopePer1k: number;
  driftMB: number;
  meanMB: number;
  flat: boolean;
}

function analyse(steps: readonly number[], ys: readonly number[]): Series {
  const from = Math.floor(steps.length * 0.2);
  const xs = steps.slice(from);
  const tail = ys.slice(from);
  const s = slope(xs, tail);
  const driftMB = s * (xs[xs.length - 1]! - xs[0]!);
  const meanMB = tail.reduce((a, b) => a + b, 0) / tail.length;
  return { slopePer1k: s * 1000, driftMB, meanMB, flat: Math.abs(driftMB) < Math.max(FLAT_MB, FLAT_FRACTION * meanMB) };
}

function run(ctx: TargetContext, opts: ProbeOptions): ResultRecord[] {
  const gc = (globalThis as { gc?: () => void }).gc;
  const collect = () => {
    if (gc) {
      gc();
      gc();
    }
  };
  const total = opts.memorySteps;
  const every = Math.max(1, Math.floor(total / SAMPLES));
  const step = tapegradStep();
  const steps: number[] = [];
  const heap: number[] = [];
  const buffers: number[] = [];
  const external: number[] = [];
  const rss: number[] = [];
  const sample = (s: number) => {
    collect();
    const m = process.memoryUsage();
    steps.push(s);
    heap.push(m.heapUsed / MB);
    buffers.push(m.arrayBuffers / MB);
    external.push(m.external / MB);
    rss.push(m.rss / MB);
  };
  sample(0);
  const t0 = performance.now();
  let loss = NaN;
  for (let s = 1; s <= total; s++) {
    loss = step();
    if (s % every === 0 || s === total) sample(s);
  }
  const msPerStep = (performance.now() - t0) / total; // includes the sampling GCs
  const h = analyse(steps, heap);
  const b = analyse(steps, buffers);
  const e = analyse(steps, external);
  const flat = h.flat && b.flat && e.flat;
  const fmt = (x: number) => x.toFixed(1);
  const signed = (x: number) => (x >= 0 ? "+" : "") + x.toFixed(3);
  opts.log(
    `memory verdict (${ctx.library} ${ctx.backend}, ${total} steps): ${flat ? "FLAT" : "GROWING"} — ` +
      `heapUsed ${fmt(heap[0]!)} → ${fmt(heap[heap.length - 1]!)} MB (peak ${fmt(Math.max(...heap))}), slope ${signed(h.slopePer1k)} MB/1k steps over the last 80%; ` +
      `arrayBuffers ${fmt(buffers[0]!)} → ${fmt(buffers[buffers.length - 1]!)} MB, slope ${signed(b.slopePer1k)}; ` +
      `external ${fmt(external[0]!)} → ${fmt(external[external.length - 1]!)} MB, slope ${signed(e.slopePer1k)}; rss ${fmt(rss[0]!)} → ${fmt(rss[rss.length - 1]!)} MB` +
      `${gc ? "" : " (no global.gc: run with --expose-gc for meaningful samples)"}; final loss ${loss.toFixed(4)}`,
  );
  return [
    {
      bench: "memory", library: ctx.library, size: total, threads: ctx.threads, value: heap[heap.length - 1]!, unit: "MB",
      backend: ctx.backend, name: `memory ${total} steps heapUsed`, rme: 0, samples: steps.length,
      flat, heapFlat: h.flat, arrayBuffersFlat: b.flat, externalFlat: e.flat,
      heapSlopeMBPer1kSteps: h.slopePer1k, heapDriftMB: h.driftMB,
      arrayBuffersSlopeMBPer1kSteps: b.slopePer1k, arrayBuffersDriftMB: b.driftMB,
      externalSlopeMBPer1kSteps: e.slopePer1k, externalDriftMB: e.driftMB,
      sampleSteps: steps, heapUsedMB: heap, arrayBuffersMB: buffers, externalMB: external, rssMB: rss,
      msPerStep, gcExposed: gc !== undefined, finalLoss: loss,
    },
  ];
}

/** The memory topic (tapegrad only; opt-in). */
export const memoryTopic: Topic = {
  bench: "memory",
  perBackend: false,
  optIn: true,
  nodeFlags: ["--expose-gc"],
  caseNames: ["memory"],
  probes: { tapegrad: { name: "memory", run } },
};
