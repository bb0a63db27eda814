/**
 * @file The `foreach*` primitives on large lists (past the thread threshold): 1 thread, 2 threads
 * and the js set give the same bits, on arrays placed in wasm memory (the pool's path), plain
 * arrays and both in one list.
 */
import { afterAll, describe, expect, it } from "vitest";
import { foreachMap, foreachScale, foreachSumSquares, jsKernels, numThreads, setNumThreads, threadsReady, wasmStatus, type KernelSet } from "@tapegrad/tensor";
import { SUMSQ_CHUNK } from "../../packages/tensor/src/kernels/vector.js";
import { currentPool } from "../../packages/tensor/src/wasm/threads/pool.js";
import { VEC_THREAD_MIN } from "../../packages/tensor/src/wasm/vector.js";
import {
  axpy, disposePlaced, expectSameBits, fround, onSet, release, sgdMomentum, store, values, wasmSet, type Placement,
} from "../helpers/foreach.js";

afterAll(disposePlaced);

describe.runIf(wasmSet !== undefined && wasmStatus().shared)("large lists: 1 thread, 2 threads and the js set give the same bits", () => {
  const initialThreads = numThreads();
  afterAll(async () => {
    setNumThreads(initialThreads);
    if (initialThreads > 1) await threadsReady();
  });

  // Large enough for the pool: at least 2^18 floats and VEC_THREAD_MIN (the threshold) per list.
  const half = Math.max(1 << 17, VEC_THREAD_MIN / 2);
  const sizes = [half + 1, 17, SUMSQ_CHUNK * 5 + 3, half + 7];
  let inputs: Float32Array[][] | undefined; // made on first use (params and grads with special values)
  const lists = () => (inputs ??= [1, 10, 20, 30].map((seed, k) => sizes.map((n, i) => values(n, seed + i, k < 2))));

  /** Runs every primitive on fresh copies of the large lists, stored as `how` says. */
  function run(set: KernelSet, how: Placement) {
    const [ps, gs, bs, ys] = lists().map((xs, k) => store(xs, how, k)) as [Float32Array[], Float32Array[], Float32Array[], Float32Array[]];
    return onSet(set, () => {
      const hs = store(ys.map((y) => y.map((v) => v * 1e18)), how); // squares past float32's range
      const out = { sumsq: foreachSumSquares(gs), finite: foreachSumSquares(ys), huge: foreachSumSquares(hs), arrays: [] as Float32Array[] };
      release(hs);
      foreachScale(gs, fround(0.7));
      foreachScale(ys, 0.3);
      foreachMap(sgdMomentum, [ps, gs, bs], [0.01, 0.9, 1e-4]);
      foreachMap(axpy, [ys, bs], [-0.5]);
      out.arrays = [...ps, ...gs, ...bs, ...ys].map((x) => x.slice());
      release([...ps, ...gs, ...bs, ...ys]);
      return out;
    });
  }

  it("on placed arrays (the pool's path), plain arrays and the js set", async () => {
    setNumThreads(1);
    const one = run(wasmSet!, "placed");
    expect(one.sumsq).toBeNaN(); // the gradients hold NaN
    expect(Number.isFinite(one.finite)).toBe(true);
    expect(one.huge).toBeGreaterThan(1e40); // no overflow
    setNumThreads(2, { adaptive: false });
    expect(await threadsReady()).toBe(2);
    const runs = currentPool()!.runs;
    const two = run(wasmSet!, "placed");
    expect(currentPool()!.runs).toBeGreaterThanOrEqual(runs + 5); // the sums of squares and the scalings went to the pool
    const results = { two, twoMixed: run(wasmSet!, "mixed"), twoPlain: run(wasmSet!, "plain"), js: run(jsKernels, "plain") };
    for (const [label, r] of Object.entries(results)) {
      expect(Object.is(r.sumsq, one.sumsq), `${label} sumsq`).toBe(true);
      expect(r.finite, `${label} finite`).toBe(one.finite);
      expect(r.huge, `${label} huge`).toBe(one.huge);
      r.arrays.forEach((x, i) => expectSameBits(x, one.arrays[i]!, `${label} array ${i}`));
    }
  });
});
