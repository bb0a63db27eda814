/**
 * @file Times {@link Case}s and turns the timings into {@link ResultRecord}s: the value is
 * `work / median seconds per call` (GFLOP/s = 1e9 FLOP/s, GB/s = 1e9 bytes/s), or the median in
 * ms. The median of the samples, not the mean, because shared machines are noisy; `rme`
 * (benchmark.js's relative margin of error of the mean) is kept too.
 *
 * Fast cases go through benchmark.js. A case whose single call takes longer than a quarter of
 * `maxTime` (tfjs-cpu's 1024² matmul takes seconds) is timed directly instead: one warm-up call,
 * then `max(3, maxTime / call)` timed calls, each a sample (benchmark.js would insist on 5+
 * samples after its own calibration cycles and take half a minute).
 */
import Benchmark from "benchmark";
import { loadavg } from "node:os";
import type { Case, ResultRecord, TargetContext } from "./types.js";

/** Knobs of one measuring process. */
export interface MeasureOptions {
  /** Seconds benchmark.js may spend sampling one case (after a WARMUP_MS untimed warm-up). */
  maxTime: number;
}

/** Milliseconds each case runs untimed before sampling starts (JIT warm-up). */
const WARMUP_MS = 300;
/** benchmark.js margins of error (percent) above which a fast case is measured once more. */
const RERUN_RME = 15;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** Runs `fn` for about WARMUP_MS (at least 3 calls; stops after a call slower than `slowSeconds`); returns the last call's seconds. */
function warmUp(fn: () => void, slowSeconds: number): number {
  const t0 = performance.now();
  let last = 0;
  for (let i = 0; i < 3 || performance.now() - t0 < WARMUP_MS; i++) {
    const t = performance.now();
    fn();
    last = (performance.now() - t) / 1e3;
    if (last > slowSeconds) break;
  }
  return last;
}

function benchmarkJs(c: Case, maxTime: number): { seconds: number; rme: number; samples: number } {
  const b = new Benchmark(c.name, c.fn, { maxTime, minSamples: 5 });
  b.run();
  if (b.error !== undefined && b.error !== null) throw b.error;
  const sample = b.stats.sample;
  if (sample.length === 0) throw new Error(`${c.name}: benchmark.js took no sample`);
  return { seconds: median(sample), rme: b.stats.rme, samples: sample.length };
}

function direct(c: Case, maxTime: number, perCall: number): { seconds: number; rme: number; samples: number } {
  const n = Math.max(3, Math.floor(maxTime / perCall));
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    c.fn();
    times.push((performance.now() - t) / 1e3);
  }
  return { seconds: median(times), rme: 0, samples: n };
}

/**
 * Times one case of topic `bench` on `target`.
 *
 * @throws {Error} what the case threw, or if benchmark.js took no sample.
 */
export function measure(bench: string, c: Case, target: TargetContext, opts: MeasureOptions): ResultRecord {
  const slow = opts.maxTime / 4;
  const perCall = warmUp(c.fn, slow);
  let m: { seconds: number; rme: number; samples: number };
  let reran = false;
  if (perCall > slow) {
    m = direct(c, opts.maxTime, perCall);
  } else {
    m = benchmarkJs(c, opts.maxTime);
    if (m.rme > RERUN_RME) {
      const again = benchmarkJs(c, opts.maxTime);
      if (again.rme < m.rme) m = again;
      reran = true;
    }
  }
  const value = c.unit === "ms" ? m.seconds * 1e3 : c.work / m.seconds / 1e9;
  return {
    bench, library: target.library, size: c.size, threads: target.threads, value, unit: c.unit,
    backend: c.backend ?? target.backend, name: c.name, rme: m.rme, samples: m.samples,
    load: Math.round(loadavg()[0]! * 100) / 100,
    ...(perCall > slow ? { timing: "direct" } : {}),
    ...(reran ? { reran: true } : {}),
    ...c.extra,
  };
}
