/**
 * @file Runs {@link Case}s with benchmark.js and turns its timings into {@link ResultRecord}s:
 * the value is `work / median seconds per call` (GFLOP/s = 1e9 FLOP/s, GB/s = 1e9 bytes/s), or
 * the median in ms. The median of benchmark.js's samples, not the mean, because shared
 * machines are noisy; `rme` (benchmark.js's relative margin of error of the mean) is kept too.
 */
import Benchmark from "benchmark";
import type { Case, ResultRecord, Target, Topic } from "./types.js";

/** Knobs of a run (see `run.ts --help`). */
export interface RunOptions {
  /** Seconds benchmark.js may spend sampling one case (after a WARMUP_MS untimed warm-up). */
  maxTime: number;
  /** Only cases whose printed name (e.g. "matmul 512x512") matches run. */
  filter?: RegExp;
  /** Only these backends run (e.g. `["js"]`); all when absent. */
  backends?: readonly string[];
  /** Called with each record as soon as it is measured. */
  onResult?: (record: ResultRecord) => void;
}

/** Milliseconds each case runs untimed before benchmark.js starts (JIT warm-up). */
const WARMUP_MS = 300;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** Runs `fn` for about WARMUP_MS (at least 3 calls) so it is optimized before sampling starts. */
function warmUp(fn: () => void): void {
  const t0 = performance.now();
  for (let i = 0; i < 3 || performance.now() - t0 < WARMUP_MS; i++) fn();
}

/**
 * Times one case of topic `bench` on the current target.
 *
 * @throws {Error} what the case threw, or if benchmark.js took no sample.
 */
export function measure(bench: string, c: Case, target: Target, opts: RunOptions): ResultRecord {
  warmUp(c.fn);
  const b = new Benchmark(c.name, c.fn, { maxTime: opts.maxTime, minSamples: 5 });
  b.run();
  if (b.error !== undefined && b.error !== null) throw b.error;
  const sample = b.stats.sample;
  if (sample.length === 0) throw new Error(`${c.name}: benchmark.js took no sample`);
  const seconds = median(sample);
  const value = c.unit === "ms" ? seconds * 1e3 : c.work / seconds / 1e9;
  return {
    bench, library: target.library, size: c.size, threads: target.threads, value, unit: c.unit,
    backend: target.backend, name: c.name, rme: b.stats.rme, samples: sample.length,
  };
}

/** Runs every case of `topics` on `targets` (see {@link Topic.perBackend}); returns the records. */
export function runTopics(topics: readonly Topic[], targets: readonly Target[], opts: RunOptions): ResultRecord[] {
  const records: ResultRecord[] = [];
  for (const topic of topics) {
    const seen = new Set<string>();
    for (const target of targets) {
      const make = topic.cases[target.library];
      if (make === undefined) continue;
      if (opts.backends !== undefined && !opts.backends.includes(target.backend)) continue;
      if (!topic.perBackend && seen.has(target.library)) continue;
      seen.add(target.library);
      const restore = target.enter();
      try {
        for (const c of make(target)) {
          if (opts.filter !== undefined && !opts.filter.test(c.name)) continue;
          const record = measure(topic.bench, c, target, opts);
          records.push(record);
          opts.onResult?.(record);
        }
      } finally {
        restore();
      }
    }
  }
  return records;
}

/** `matmul 512x512: 5.3 GFLOP/s  (tapegrad js, 1 thread, ±1.1%, 9 samples)` */
export function formatRecord(r: ResultRecord): string {
  const v = r.value >= 100 ? r.value.toFixed(0) : r.value >= 1 ? r.value.toFixed(1) : r.value.toPrecision(2);
  const threads = r.threads === 1 ? "1 thread" : `${r.threads} threads`;
  return `${r.name}: ${v} ${r.unit}  (${r.library} ${r.backend}, ${threads}, ±${r.rme.toFixed(1)}%, ${r.samples} samples)`;
}
