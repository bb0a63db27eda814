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
 *
 * Async cases (`Case.async`, jax-js) are awaited call by call: the warm-up and direct timing await
 * each call, and benchmark.js runs them in its deferred mode (each call resolves the deferred when
 * its promise settles; a sample is still many calls timed together).
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

/** Seconds one call of `c` takes (awaited when the case is async). */
async function timeCall(c: Case): Promise<number> {
  const t = performance.now();
  if (c.async) await c.fn();
  else void c.fn();
  return (performance.now() - t) / 1e3;
}

/** Runs `c` for about WARMUP_MS (at least 3 calls; stops after a call slower than `slowSeconds`); returns the last call's seconds. */
async function warmUp(c: Case, slowSeconds: number): Promise<number> {
  const t0 = performance.now();
  let last = 0;
  for (let i = 0; i < 3 || performance.now() - t0 < WARMUP_MS; i++) {
    last = await timeCall(c);
    if (last > slowSeconds) break;
  }
  return last;
}

type Timing = { seconds: number; rme: number; samples: number };

function summary(c: Case, b: Benchmark): Timing {
  if (b.error !== undefined && b.error !== null) throw b.error;
  const sample = b.stats.sample;
  if (sample.length === 0) throw new Error(`${c.name}: benchmark.js took no sample`);
  return { seconds: median(sample), rme: b.stats.rme, samples: sample.length };
}

function benchmarkJs(c: Case, maxTime: number): Timing {
  const b = new Benchmark(c.name, c.fn as () => void, { maxTime, minSamples: 5 });
  b.run();
  return summary(c, b);
}

/** benchmark.js in deferred mode: each call of the async `c.fn` resolves the deferred when it settles. */
function benchmarkJsDeferred(c: Case, maxTime: number): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const b: Benchmark = new Benchmark(c.name, {
      defer: true,
      maxTime,
      minSamples: 5,
      fn: (deferred: Benchmark.Deferred) => {
        (c.fn() as Promise<void>).then(() => deferred.resolve(), (e: unknown) => {
          b.abort();
          reject(e);
        });
      },
      onComplete: () => {
        try {
          resolve(summary(c, b));
        } catch (e) {
          reject(e);
        }
      },
    });
    b.run({ async: true });
  });
}

async function direct(c: Case, maxTime: number, perCall: number): Promise<Timing> {
  const n = Math.max(3, Math.floor(maxTime / perCall));
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(await timeCall(c));
  return { seconds: median(times), rme: 0, samples: n };
}

/**
 * Times one case of topic `bench` on `target`.
 *
 * @throws {Error} what the case threw, or if benchmark.js took no sample.
 */
export async function measure(bench: string, c: Case, target: TargetContext, opts: MeasureOptions): Promise<ResultRecord> {
  const slow = opts.maxTime / 4;
  const perCall = await warmUp(c, slow);
  const sampled = () => (c.async ? benchmarkJsDeferred(c, opts.maxTime) : benchmarkJs(c, opts.maxTime));
  let m: Timing;
  let reran = false;
  if (perCall > slow) {
    m = await direct(c, opts.maxTime, perCall);
  } else {
    m = await sampled();
    if (m.rme > RERUN_RME) {
      const again = await sampled();
      if (again.rme < m.rme) m = again;
      reran = true;
    }
  }
  return toRecord(bench, c, target, { ...m, direct: perCall > slow, reran });
}

/** How a case was timed, for {@link toRecord}. */
export interface TimingResult {
  /** Median seconds per call. */
  seconds: number;
  /** Relative margin of error of the mean, percent (0 for direct timing). */
  rme: number;
  samples: number;
  /** Timed call by call (a call took more than a quarter of the sampling time). */
  direct: boolean;
  /** Measured twice because the first margin was above 15%. */
  reran: boolean;
}

/**
 * The record of one timed case: `work / median seconds` in GFLOP/s or GB/s, or the median in ms.
 * Shared by this runner and the torch peer (timed in Python, see `torch.ts`).
 */
export function toRecord(bench: string, c: Pick<Case, "name" | "size" | "unit" | "work" | "backend" | "extra">, target: TargetContext, m: TimingResult): ResultRecord {
  const value = c.unit === "ms" ? m.seconds * 1e3 : c.work / m.seconds / 1e9;
  return {
    bench, library: target.library, size: c.size, threads: target.threads, value, unit: c.unit,
    backend: c.backend ?? target.backend, name: c.name, rme: m.rme, samples: m.samples,
    load: Math.round(loadavg()[0]! * 100) / 100,
    ...(m.direct ? { timing: "direct" } : {}),
    ...(m.reran ? { reran: true } : {}),
    ...c.extra,
  };
}
