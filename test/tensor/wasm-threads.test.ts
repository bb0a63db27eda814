/**
 * @file The worker pool (Node worker_threads over the shared wasm memory): GEMMs and vector
 * kernels on 2 and 3 threads give exactly the single-thread bits for every layout, with operands
 * in persistent storage placed in wasm memory or in plain arrays; calls made while workers start, interleaved async callers and resizing; the
 * thread threshold; shutdown (an idle pool never keeps Node alive); and the browser path (Web
 * Workers from a Blob URL), simulated on worker_threads.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
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

describe.runIf(supported)("shutdown", () => {
  it("an idle pool does not keep Node alive, and a program can stop it explicitly", () => {
    const script = (stop: boolean) => `
      import { setNumThreads, threadsReady, matmul, randn, Rng } from "@tapegrad/tensor";
      setNumThreads(2);
      const n = await threadsReady();
      const r = new Rng(1);
      const c = matmul(randn([256, 256], r), randn([256, 256], r));
      ${stop ? "setNumThreads(1);" : ""}
      console.log("threads", n, c.shape.join("x"));
    `;
    for (const stop of [false, true]) {
      const t0 = Date.now();
      const res = spawnSync(process.execPath, ["--import", "tsx", "--conditions=source", "--input-type=module", "-e", script(stop)], { encoding: "utf8", timeout: 60_000 });
      expect(res.stderr).toBe("");
      expect(res.stdout.trim()).toBe("threads 2 256x256");
      expect(res.status).toBe(0);
      expect(Date.now() - t0).toBeLessThan(30_000);
    }
  });
});

/**
 * A stand-in for the browser's `Worker` on top of worker_threads: runs the Blob URL's classic
 * script with `self.postMessage` / `self.onmessage` bridged to the parent port.
 */
class SimulatedWebWorker {
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onerror: ((e: { message: string }) => void) | null = null;
  private readonly started: Promise<import("node:worker_threads").Worker>;

  constructor(url: string) {
    this.started = (async () => {
      const { resolveObjectURL } = await import("node:buffer");
      const { Worker } = await import("node:worker_threads");
      const source = await resolveObjectURL(url)!.text();
      const shim = `const { parentPort } = require("node:worker_threads");
        globalThis.self = globalThis;
        self.postMessage = (m) => parentPort.postMessage(m);
        parentPort.on("message", (m) => self.onmessage && self.onmessage({ data: m }));\n`;
      const w = new Worker(shim + source, { eval: true });
      w.unref();
      w.on("message", (m) => this.onmessage?.({ data: m }));
      w.on("error", (e) => this.onerror?.({ message: String(e) }));
      return w;
    })();
  }

  postMessage(m: unknown): void {
    void this.started.then((w) => w.postMessage(m));
  }

  terminate(): void {
    void this.started.then((w) => w.terminate());
  }
}

describe.runIf(supported)("Web Worker path (simulated: cross-origin-isolated page)", () => {
  it("spawns classic workers from a Blob URL and gives the single-thread bits", async () => {
    vi.stubGlobal("Worker", SimulatedWebWorker);
    vi.stubGlobal("crossOriginIsolated", true);
    vi.resetModules();
    const lib = (await import("@tapegrad/tensor")) as typeof import("@tapegrad/tensor");
    const poolMod = (await import("../../packages/tensor/src/wasm/threads/pool.js")) as typeof import("../../packages/tensor/src/wasm/threads/pool.js");
    try {
      lib.setNumThreads(2, { adaptive: false });
      expect(await lib.threadsReady()).toBe(2);
      const rng = new lib.Rng(2);
      expect(lib.kernels().name).toBe("wasm"); // a fresh package: automatic selection
      const a = lib.randn([200, 300], rng).clone({ persistent: true }), b = lib.randn([300, 150], rng);
      expect(lib.isInKernelMemory(a.data)).toBe(true);
      const runs = poolMod.currentPool()!.runs;
      const c2 = lib.matmul(a, b).data;
      expect(poolMod.currentPool()!.runs).toBe(runs + 1);
      lib.setNumThreads(1);
      const c1 = lib.matmul(a, b).data;
      for (let i = 0; i < c1.length; i++) if (c1[i] !== c2[i]) expect.fail(`element ${i} differs`);
    } finally {
      lib.setNumThreads(1);
      vi.unstubAllGlobals();
      vi.resetModules();
    }
  });
});

/**
 * The internals the pool tests below drive directly, imported when a test runs: the `WorkerPool`
 * class, the main arena (wasm initialised), the index of the `vec_job` export, and
 * `sumsqJob(base, out, len, at)`, which writes at `base` the descriptor of a `sumsq` vector job of
 * 64 pieces (piece table at `base + 1024`, sums at `out`), piece `p` being `len` floats at `at(p)`.
 */
async function poolInternals() {
  const { WorkerPool } = await import("../../packages/tensor/src/wasm/threads/pool.js");
  const { mainArena, initWasmSync } = await import("../../packages/tensor/src/wasm/runtime.js");
  const { VecDesc, VecOp } = await import("../../packages/tensor/src/wasm/vector-kernel.js");
  const { JOB_EXPORTS } = await import("../../packages/tensor/src/wasm/module.js");
  expect(initWasmSync()).toBe(true);
  const arena = mainArena()!;
  const sumsqJob = (base: number, out: number, len: number, at: (p: number) => number): void => {
    const i32 = arena.i32;
    i32[(base + VecDesc.op) >> 2] = VecOp.sumsq;
    i32[(base + VecDesc.table) >> 2] = base + 1024;
    i32[(base + VecDesc.count) >> 2] = 64;
    i32[(base + VecDesc.out) >> 2] = out;
    for (let p = 0; p < 64; p++) {
      i32[((base + 1024) >> 2) + 4 * p] = len;
      i32[((base + 1024) >> 2) + 4 * p + 1] = at(p);
    }
  };
  return { WorkerPool, arena, sumsqJob, vecJob: JOB_EXPORTS.indexOf("vec_job") };
}

describe.runIf(supported)("a worker that traps", () => {
  it("is reported, releases the caller, and the pool degrades to one thread", async () => {
    const { WorkerPool, arena, sumsqJob, vecJob } = await poolInternals();
    const { spawnNodeWorker } = await import("../../packages/tensor/src/wasm/threads/node-spawn.js");
    const pool = new WorkerPool(arena, 2, spawnNodeWorker, 50);
    try {
      expect(await pool.started).toBe(2);
      const base = arena.alloc(4096);
      // 64 pieces of 100 floats; the last 32 point far outside memory (whoever takes them traps)
      sumsqJob(base, base + 2048, 100, (p) => (p < 32 ? base : 0x7ffffff0));
      const job = arena.exports.vec_job;
      expect(() => pool.run(vecJob, base, 1, 2, job)).toThrow();
      expect(pool.usable()).toBe(1);
      arena.free(base);
    } finally {
      pool.dispose();
    }
  });
});

describe.runIf(supported)("back-off when workers are starved", () => {
  it("a worker whose items stall (as if preempted) makes the pool use one thread for a while", async () => {
    const { WorkerPool, arena, sumsqJob, vecJob } = await poolInternals();
    const { WORKER_PROGRAM } = await import("../../packages/tensor/src/wasm/threads/protocol.js");
    const { Worker } = await import("node:worker_threads");
    // Worker items take 40 ms and are counted in control word 13 (unused by the protocol).
    const slowProgram = WORKER_PROGRAM.replace(
      "fns = init.jobs.map(function (name) { return ex[name]; });",
      "fns = init.jobs.map(function (name) { return function (d, p, i, t) { if (i >= 0) { Atomics.add(ctl, 13, 1); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 40); } return ex[name](d, p, i, t); }; });",
    );
    expect(slowProgram).not.toBe(WORKER_PROGRAM);
    const spawn = (init: import("../../packages/tensor/src/wasm/threads/protocol.js").WorkerInit) =>
      new Promise<{ terminate(): void }>((resolve, reject) => {
        const w = new Worker(`${slowProgram}\nconst wt = require("node:worker_threads"); const serve = tapegradWorker(wt.workerData); wt.parentPort.postMessage("ready"); serve();`, { eval: true, workerData: init });
        w.once("message", () => (w.unref(), resolve({ terminate: () => void w.terminate() })));
        w.once("error", reject);
      });
    const pool = new WorkerPool(arena, 2, spawn, 1000, true);
    try {
      expect(await pool.started).toBe(2);
      const base = arena.alloc(8192), x = arena.alloc(4096);
      sumsqJob(base, base + 4096, 1000, () => x);
      const job = arena.exports.vec_job;
      // The caller's first item of each job takes 5 ms, so the worker gets to take an item; then
      // the caller finishes the rest quickly and waits ~35 ms for the worker's.
      const local = (d: number, ph: number, item: number, tid: number) => {
        if (item === 0) for (const t0 = performance.now(); performance.now() - t0 < 5; );
        return job(d, ph, item, tid);
      };
      for (let r = 0; r < 20 && pool.backoffs === 0; r++) pool.run(vecJob, base, 1, 2, local);
      if (pool.ctl[13]! >= 4) {
        // (on a machine too busy to schedule the worker at all there is nothing to observe)
        expect(pool.backoffs).toBe(1);
        for (let r = 0; r < 64; r++) expect(pool.usable()).toBe(1);
        expect(pool.usable()).toBe(2); // then it tries the workers again
      }
      arena.free(base);
      arena.free(x);
    } finally {
      pool.dispose();
    }
  });
});
