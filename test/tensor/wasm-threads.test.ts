/**
 * @file The worker pool (Node worker_threads over the shared wasm memory): GEMMs and vector
 * kernels on 2 and 3 threads give exactly the single-thread bits for every layout, with operands
 * in persistent storage placed in wasm memory or in plain arrays; calls made while workers start,
 * interleaved async callers and resizing; the thread threshold. (Shutdown, the browser path and
 * workers that trap or starve: wasm-threads-lifecycle.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Rng, add, allocate, exp, zeros, dispose, foreachMap, foreachScale, foreachSumSquares, mapKernel, gemmWasm, gemmWasmOn, isInKernelMemory, matmul, numThreads, randn, setNumThreads,
  threadsReady, useKernels, wasmKernels, wasmStatus, type KernelSet,
} from "@tapegrad/tensor";
import { currentPool } from "../../packages/tensor/src/wasm/threads/pool.js";
import { THREAD_MIN_WORK } from "../../packages/tensor/src/wasm/gemm.js";
import { VEC_THREAD_MIN } from "../../packages/tensor/src/wasm/vector.js";

const supported = wasmKernels() !== undefined && wasmStatus().shared;

type Layout = "rows" | "cols" | "strided";

/** `len` floats of persistent storage, placed in wasm memory (the wasm set is pinned below). */
function placed(len: number): Float32Array {
  const x = allocate(len, { persistent: true });
  if (!isInKernelMemory(x)) expect.fail(`persistent storage of ${len} floats was not placed in wasm memory`);
  return x;
}

function operand(rng: Rng, r: number, c: number, layout: Layout, inWasm: boolean): { data: Float32Array; rs: number; cs: number } {
  const [rs, cs] = layout === "rows" ? [c, 1] : layout === "cols" ? [1, r] : [2 * c + 1, 2];
  const len = Math.max(0, (r - 1) * rs + (c - 1) * cs + 1);
  const data = inWasm ? placed(len) : new Float32Array(len);
  for (let i = 0; i < len; i++) data[i] = rng.normal();
  return { data, rs, cs };
}

/** C from `threads` threads equals C from gemmWasm (1 thread), bit for bit; returns C. */
function sameAsOneThread(rng: Rng, threads: number, m: number, n: number, k: number, la: Layout, lb: Layout, acc: boolean, inWasm: boolean): void {
  const A = operand(rng, m, k, la, inWasm), B = operand(rng, k, n, lb, inWasm);
  const c0 = Float32Array.from({ length: m * n }, () => rng.normal());
  const c = inWasm ? placed(m * n) : new Float32Array(m * n);
  c.set(c0);
  const c1 = c0.slice();
  gemmWasmOn(threads, m, n, k, A.data, 0, A.rs, A.cs, B.data, 0, B.rs, B.cs, c, 0, n, acc);
  gemmWasm(m, n, k, A.data, 0, A.rs, A.cs, B.data, 0, B.rs, B.cs, c1, 0, n, acc);
  for (let i = 0; i < c.length; i++) {
    if (!Object.is(c[i], c1[i])) expect.fail(`${threads} threads m=${m} n=${n} k=${k} ${la}/${lb} acc=${acc} placed=${inWasm}: element ${i} ${c[i]} vs ${c1[i]}`);
  }
  if (inWasm) for (const x of [A.data, B.data, c]) dispose(x);
}

describe.runIf(supported)("worker pool", () => {
  let prevKernels: KernelSet | null = null;
  beforeAll(async () => {
    prevKernels = useKernels(wasmKernels()!); // also on the js run: these tests are about the wasm set
    setNumThreads(2, { adaptive: false }); // these tests count threaded runs: no back-off on a busy machine
    expect(await threadsReady()).toBe(2);
  });
  afterAll(() => {
    setNumThreads(1);
    useKernels(prevKernels);
  });

  it("identical results on 2 threads: layouts, placed or plain, accumulate, edges", () => {
    const rng = new Rng(11);
    const before = currentPool()!.runs;
    for (const la of ["rows", "cols", "strided"] as const) {
      for (const lb of ["rows", "cols", "strided"] as const) {
        for (let t = 0; t < 6; t++) {
          const m = rng.int(17, 260), n = rng.int(1, 700), k = rng.int(40, 600);
          sameAsOneThread(rng, 2, m, n, k, la, lb, t % 2 === 1, t % 3 !== 0);
        }
      }
    }
    for (const [m, n, k] of [[128, 256, 784], [256, 784, 128], [128, 10, 256], [203, 1030, 301], [1030, 9, 300], [64, 64, 64], [9, 2000, 80]]) {
      sameAsOneThread(rng, 2, m!, n!, k!, "rows", "rows", false, true);
      sameAsOneThread(rng, 2, m!, n!, k!, "cols", "rows", true, false);
    }
    expect(currentPool()!.runs).toBeGreaterThan(before + 40); // the workers really took part
  });

  it("a product wider than four N blocks (2,048 columns) runs as several jobs with the single-thread bits", () => {
    const rng = new Rng(17);
    const pool = currentPool()!;
    for (const [m, n, k, jobs] of [[64, 2600, 70, 2], [33, 4700, 50, 3], [40, 2048, 60, 1], [40, 2049, 60, 2]] as const) {
      for (const [acc, inWasm] of [[false, false], [true, true], [true, false]] as const) {
        const before = pool.runs;
        sameAsOneThread(rng, 2, m, n, k, "rows", "cols", acc, inWasm);
        expect(pool.runs - before).toBe(jobs);
      }
    }
  });

  it("memory grown after the workers started is usable by them", () => {
    const filler = placed(48 << 20); // 192 MB: the shared memory grows well past its size at start-up
    const rng = new Rng(13);
    const before = currentPool()!.runs;
    for (let t = 0; t < 3; t++) sameAsOneThread(rng, 2, 300, 500, 400, "rows", "cols", t === 1, true); // operands above the filler
    expect(currentPool()!.runs).toBe(before + 3);
    expect(dispose(filler)).toBe(true);
  });

  it("small or thin products stay on one thread", () => {
    const pool = currentPool()!;
    const before = pool.runs;
    const rng = new Rng(3);
    sameAsOneThread(rng, 2, 20, 20, 20, "rows", "rows", false, false); // below THREAD_MIN_WORK
    sameAsOneThread(rng, 2, 7, 3000, 300, "rows", "rows", false, false); // fewer than 2 row tiles per thread
    expect(20 ** 3).toBeLessThan(THREAD_MIN_WORK);
    expect(pool.runs).toBe(before);
  });

  it("interleaved async callers and many calls in a row", async () => {
    const rng = new Rng(5);
    const a = randn([150, 300], rng), b = randn([300, 170], rng);
    const want = matmul(a, b).data; // the default set follows numThreads() = 2
    const task = async (i: number) => {
      for (let r = 0; r < 20; r++) {
        await Promise.resolve();
        const got = matmul(i % 2 ? a : a.contiguous(), b).data;
        for (let j = 0; j < want.length; j++) if (got[j] !== want[j]) expect.fail(`task ${i} call ${r}: element ${j} differs`);
      }
    };
    await Promise.all([0, 1, 2, 3].map(task));
  });

  it("vector kernels on threads give the single-thread bits", async () => {
    const rng = new Rng(8);
    const half = VEC_THREAD_MIN / 2; // two of these and more: past the threshold for threads
    const xs = [half + 3, 17, half + 1, 65_536].map((n) => {
      const x = placed(n);
      for (let i = 0; i < n; i++) x[i] = rng.normal();
      return x;
    });
    const plain = xs.map((x) => x.slice());
    let before = currentPool()!.runs;
    const two = foreachSumSquares(xs);
    expect(currentPool()!.runs).toBe(before + 1);
    setNumThreads(1);
    const one = foreachSumSquares(xs);
    setNumThreads(2, { adaptive: false });
    expect(await threadsReady()).toBe(2);
    const pool = currentPool()!;
    expect(two).toBe(one);
    expect(foreachSumSquares(plain)).toBe(one); // and the paths for arrays outside wasm memory
    // scaling: a float32 factor (scale32) and a float64 one (scale64), on the pool and on plain copies
    for (const c of [Math.fround(0.3), 0.3]) {
      before = pool.runs;
      foreachScale(xs, c);
      expect(pool.runs).toBe(before + 1);
      foreachScale(plain, c);
      xs.forEach((x, i) => {
        for (let j = 0; j < x.length; j++) if (!Object.is(x[j], plain[i]![j])) expect.fail(`scale ${c}: array ${i} element ${j}: ${x[j]} vs ${plain[i]![j]}`);
      });
    }
    // small lists stay on the calling thread
    before = pool.runs;
    foreachSumSquares([xs[1]!]);
    foreachScale([xs[1]!], 0.5);
    expect(pool.runs).toBe(before);
    for (const x of xs) dispose(x);
  });

  it("map kernels run on the pool (workers compile the kernel's module) and give the single-thread bits", async () => {
    const rng = new Rng(9);
    // A kernel new to the workers (a constant unique to this test), with float32 and float64 steps.
    const k = mapKernel("pool-map", { arrays: ["p", "g", "b"], scalars: ["lr", "mu"] }, ({ p, g, b }, { lr, mu }) => {
      const b1 = mu.mul(b).f32().add(g).f32();
      return { b: b1, p: p.sub(lr.mul(b1)).add(0.000123) };
    });
    const sizes = [150_001, 40_000, 9];
    const make = () => sizes.map((n) => {
      const x = placed(n);
      for (let i = 0; i < n; i++) x[i] = rng.normal();
      return x;
    });
    const lists = [make(), make(), make()];
    const copies = lists.map((l) => l.map((x) => x.slice()));
    const pool = currentPool()!;
    const before = pool.runs;
    foreachMap(k, lists, [0.01, 0.9]);
    expect(pool.runs).toBe(before + 1); // all tuples placed, 190k floats: one pool job
    setNumThreads(1);
    foreachMap(k, copies, [0.01, 0.9]); // plain arrays, one thread: staged through wasm memory
    setNumThreads(2, { adaptive: false });
    expect(await threadsReady()).toBe(2);
    lists.forEach((l, j) => l.forEach((x, t) => {
      for (let i = 0; i < x.length; i++) if (!Object.is(x[i], copies[j]![t]![i])) expect.fail(`list ${j} array ${t} element ${i}: ${x[i]} vs ${copies[j]![t]![i]}`);
    }));
    for (const l of lists) for (const x of l) dispose(x);
  });

  it("a long elementwise op on tensors in wasm memory runs on the pool with the single-thread bits", () => {
    const rng = new Rng(31);
    const n = 300_001;
    const a = zeros([n], { persistent: true }), b = zeros([n], { persistent: true }), out = zeros([n], { persistent: true });
    for (let i = 0; i < n; i++) {
      a.data[i] = rng.normal() * 5;
      b.data[i] = rng.normal();
    }
    const pool = currentPool()!;
    const before = pool.runs;
    add(exp(a), b); // warm up
    exp(a, out);
    expect(pool.runs).toBeGreaterThan(before); // the exp into placed storage used the workers
    const one = exp(a.clone()).toFloat32Array(); // JS heap: staged, on the calling thread
    for (let i = 0; i < n; i++) if (!Object.is(out.data[i], one[i])) expect.fail(`exp element ${i}: ${out.data[i]} vs ${one[i]}`);
    for (const t of [a, b, out]) t.dispose();
  });

  it("resizing: 3 threads, calls before the workers are ready, back to 2", async () => {
    const rng = new Rng(21);
    setNumThreads(3, { spinMicros: 100 });
    expect(numThreads()).toBe(3);
    sameAsOneThread(rng, 3, 300, 200, 250, "rows", "rows", false, true); // workers may still be starting
    expect(await threadsReady()).toBe(3);
    const before = currentPool()!.runs;
    for (let t = 0; t < 5; t++) sameAsOneThread(rng, 3, rng.int(50, 300), rng.int(50, 400), rng.int(50, 400), "rows", "cols", t % 2 === 0, t % 2 === 1);
    expect(currentPool()!.runs).toBe(before + 5); // each check runs the threaded call once
    setNumThreads(2);
    expect(await threadsReady()).toBe(2);
    sameAsOneThread(rng, 2, 300, 200, 250, "cols", "rows", true, true);
  });

  it("wasmKernels({ threads }) gives a set that uses that many threads", async () => {
    const set = wasmKernels({ threads: 2 })!;
    expect(set.threads).toBe(2);
    expect(wasmKernels({ threads: 2 })).toBe(set);
    expect(() => wasmKernels({ threads: 0 })).toThrow(RangeError);
    const prev = useKernels(set);
    try {
      const rng = new Rng(4);
      const a = randn([200, 300], rng), b = randn([300, 100], rng);
      const runs = currentPool()!.runs;
      const c = matmul(a, b);
      expect(currentPool()!.runs).toBe(runs + 1);
      const ref = new Float32Array(200 * 100);
      gemmWasm(200, 100, 300, a.data, 0, 300, 1, b.data, 0, 100, 1, ref, 0, 100, false);
      expect(Array.from(c.data)).toEqual(Array.from(ref));
    } finally {
      useKernels(prev);
    }
  });

  it("validates setNumThreads arguments", () => {
    expect(() => setNumThreads(0)).toThrow(RangeError);
    expect(() => setNumThreads(1.5)).toThrow(RangeError);
    expect(() => setNumThreads(2, { spinMicros: -1 })).toThrow(RangeError);
  });
});
