/**
 * @file The worker pool's life cycle: shutdown (an idle pool never keeps Node alive); the browser
 * path (Web Workers from a Blob URL), simulated on worker_threads; a worker that traps (reported,
 * the pool degrades to one thread); publishing a job, and a worker lagging behind a finished job
 * (it takes no item of it or of a later one); and the back-off when workers are starved. (Results on 2 and
 * 3 threads: wasm-threads.test.ts.)
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it, vi } from "vitest";
import { wasmKernels, wasmStatus } from "@tapegrad/tensor";

const supported = wasmKernels() !== undefined && wasmStatus().shared;

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

describe.runIf(supported)("publishing a job", () => {
  it("keeps seq odd while the caller rewrites the job words, even once the job is out", async () => {
    // A worker lagging behind a job the caller finished alone reads the job words only under an
    // even seq and checks it again afterwards; the caller's item-count queries run between
    // writing the words and publishing them, so they must see an odd seq, and items an even one.
    const { WorkerPool, arena, sumsqJob, vecJob } = await poolInternals();
    const { spawnNodeWorker } = await import("../../packages/tensor/src/wasm/threads/node-spawn.js");
    const { Ctl } = await import("../../packages/tensor/src/wasm/threads/protocol.js");
    const pool = new WorkerPool(arena, 2, spawnNodeWorker, 50);
    try {
      expect(await pool.started).toBe(2);
      const base = arena.alloc(4096), x = arena.alloc(400);
      sumsqJob(base, base + 2048, 100, () => x);
      const job = arena.exports.vec_job;
      const counts: number[] = [], items: number[] = [];
      const local = (d: number, ph: number, item: number, tid: number) => {
        (item < 0 ? counts : items).push(Atomics.load(pool.ctl, Ctl.seq) & 1);
        return job(d, ph, item, tid);
      };
      for (let r = 0; r < 3; r++) pool.run(vecJob, base, 1, 2, local);
      expect(counts).toContain(1); // the count queries before publishing
      expect(items.length).toBeGreaterThan(0);
      expect(items.every((p) => p === 0)).toBe(true);
      expect(Atomics.load(pool.ctl, Ctl.seq) & 1).toBe(0);
      arena.free(base);
      arena.free(x);
    } finally {
      pool.dispose();
    }
  });
});

/** A spawner of Node workers that run `program` (a variant of `WORKER_PROGRAM`). */
async function spawnerOf(program: string) {
  const { Worker } = await import("node:worker_threads");
  return (init: import("../../packages/tensor/src/wasm/threads/protocol.js").WorkerInit) =>
    new Promise<{ terminate(): void }>((resolve, reject) => {
      const w = new Worker(`${program}\nconst wt = require("node:worker_threads"); const serve = tapegradWorker(wt.workerData); wt.parentPort.postMessage("ready"); serve();`, { eval: true, workerData: init });
      w.once("message", () => (w.unref(), resolve({ terminate: () => void w.terminate() })));
      w.once("error", reject);
    });
}

/**
 * A job module for protocol tests: `job(desc, phase, item, tid)` answers `item = −1` with the
 * word at `desc + 4·phase` and otherwise adds 1 to the item's tally at
 * `desc + 64 + 4·(32·phase + item)`; placed in the shared memory for the workers.
 */
async function tallyModule(arena: import("../../packages/tensor/src/wasm/arena.js").WasmArena) {
  const { ModuleBuilder } = await import("../../packages/tensor/src/wasm/emitter.js");
  const { ValType } = await import("../../packages/tensor/src/wasm/opcodes.js");
  const { sharedMaxPages } = await import("../../packages/tensor/src/wasm/runtime.js");
  const I = ValType.i32;
  const mod = new ModuleBuilder().importMemory("env", "memory", { initial: 1, maximum: sharedMaxPages(), shared: true });
  mod.addFunction([I, I, I, I], [I], (f) => {
    f.get(2).i32Const(0).i32LtS().if(() => void f.get(0).get(1).i32Const(2).i32Shl().i32Add().i32Load().return());
    const a = f.local(I);
    f.get(0).get(1).i32Const(5).i32Shl().get(2).i32Add().i32Const(2).i32Shl().i32Add().set(a);
    f.get(a).get(a).i32Load(64).i32Const(1).i32Add().i32Store(64);
    f.i32Const(0);
  }, "job");
  const bytes = mod.finish();
  const ptr = arena.alloc(bytes.length);
  new Uint8Array(arena.memory.buffer, ptr, bytes.length).set(bytes);
  const job = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: arena.memory } }).exports.job as (d: number, p: number, i: number, t: number) => number;
  const desc = arena.alloc(1024);
  arena.i32.fill(0, desc >> 2, (desc + 1024) >> 2);
  const tallies = (phase: number, n: number) => Array.from(arena.i32.subarray(((desc + 64) >> 2) + 32 * phase, ((desc + 64) >> 2) + 32 * phase + n));
  const setCounts = (...counts: number[]) => counts.forEach((c, p) => (arena.i32[(desc >> 2) + p] = c));
  return { job, desc, tallies, setCounts, extra: { id: 0x7ffffff0, ptr, len: bytes.length }, free: () => (arena.free(desc), arena.free(ptr)) };
}

describe.runIf(supported)("a worker lagging behind a finished job", () => {
  it("takes none of its items once the caller has rewritten the job's descriptor for the next job", async () => {
    // The worker stalls 150 ms when it first reaches phase 1; the caller finishes the job alone
    // meanwhile, then writes new item counts into the same descriptor (as the next GEMM does)
    // and waits. The worker must not take the finished job's items by the new counts.
    const { WorkerPool, arena } = await poolInternals();
    const { WORKER_PROGRAM } = await import("../../packages/tensor/src/wasm/threads/protocol.js");
    const t = await tallyModule(arena);
    const compile = "new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: init.memory } }).exports.job";
    const stalling = WORKER_PROGRAM.replace(compile, `stallOnce(${compile})`).replace(
      "function tapegradWorker(init) {",
      "function stallOnce(fn) { var once = true; return function (d, p, i, t) { if (p === 1 && once) { once = false; Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 150); } return fn(d, p, i, t); }; }\nfunction tapegradWorker(init) {",
    );
    expect(stalling).not.toBe(WORKER_PROGRAM);
    expect(stalling).toContain("stallOnce(new WebAssembly.Instance");
    const spawn = await spawnerOf(stalling);
    const pool = new WorkerPool(arena, 2, spawn, 1000, false);
    try {
      expect(await pool.started).toBe(2);
      // the caller's first item takes 20 ms, so the worker joins and takes its phase-0 item
      const local = (d: number, ph: number, item: number, tid: number) => {
        if (ph === 0 && item === 0) for (const t0 = performance.now(); performance.now() - t0 < 20; );
        return t.job(d, ph, item, tid);
      };
      t.setCounts(2, 2);
      pool.run(0, t.desc, 2, 2, local, undefined, t.extra);
      expect([t.tallies(0, 2), t.tallies(1, 2)]).toEqual([[1, 1], [1, 1]]);
      t.setCounts(2, 6); // the next job's descriptor, at the same address
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300); // the worker wakes up meanwhile
      expect(t.tallies(1, 6)).toEqual([1, 1, 0, 0, 0, 0]); // no item of the finished job ran again
      pool.run(0, t.desc, 2, 2, local, undefined, t.extra);
      expect([t.tallies(0, 2), t.tallies(1, 6)]).toEqual([[2, 2], [2, 2, 1, 1, 1, 1]]);
    } finally {
      pool.dispose();
      t.free();
    }
  });

  it("the caller gives no job the tag a worker still declares as its job's", async () => {
    const { WorkerPool, arena } = await poolInternals();
    const { Ctl, MAX_PHASES } = await import("../../packages/tensor/src/wasm/threads/protocol.js");
    const t = await tallyModule(arena);
    // no worker ever starts: the jobs run on the caller (limit 1), and worker 1's `inside` word is set by hand
    const pool = new WorkerPool(arena, 2, () => new Promise(() => {}), 1000, false);
    try {
      t.setCounts(3);
      pool.run(0, t.desc, 1, 1, t.job, undefined, t.extra);
      const held = (Atomics.load(pool.ctl, Ctl.tag) % 255) + 1; // the tag the next job would get
      Atomics.store(pool.ctl, Ctl.inside + 1, held);
      const tags = new Set<number>();
      for (let r = 0; r < 600; r++) {
        pool.run(0, t.desc, 1, 1, t.job, undefined, t.extra);
        tags.add(Atomics.load(pool.ctl, Ctl.tag));
      }
      expect(tags.has(held)).toBe(false);
      expect(tags.size).toBe(254); // every other tag is used
      expect(t.tallies(0, 3)).toEqual([601, 601, 601]);
      Atomics.store(pool.ctl, Ctl.inside + 1, 0); // the worker left that job
      for (let r = 0; r < 255; r++) {
        pool.run(0, t.desc, 1, 1, t.job, undefined, t.extra);
        tags.add(Atomics.load(pool.ctl, Ctl.tag));
      }
      expect(tags.has(held)).toBe(true);
      t.setCounts(1, 1, 1, 1, 1, 1, 1, 1, 1);
      expect(() => pool.run(0, t.desc, MAX_PHASES + 1, 1, t.job, undefined, t.extra)).toThrow(/^internal: WorkerPool.run: a job has 1\.\.8 phases \(got 9\)/);
    } finally {
      pool.dispose();
      t.free();
    }
  });
});

describe.runIf(supported)("back-off when workers are starved", () => {
  it("a worker whose items stall (as if preempted) makes the pool use one thread for a while", async () => {
    const { WorkerPool, arena, sumsqJob, vecJob } = await poolInternals();
    const { WORKER_PROGRAM } = await import("../../packages/tensor/src/wasm/threads/protocol.js");
    // Worker items take 40 ms and are counted in the wasm memory word at `tally`.
    const tally = arena.alloc(64);
    Atomics.store(arena.i32, tally >> 2, 0);
    const slowProgram = WORKER_PROGRAM.replace(
      "fns = init.jobs.map(function (name) { return ex[name]; });",
      `fns = init.jobs.map(function (name) { return function (d, p, i, t) { if (i >= 0) { Atomics.add(new Int32Array(init.memory.buffer), ${tally >> 2}, 1); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 40); } return ex[name](d, p, i, t); }; });`,
    );
    expect(slowProgram).not.toBe(WORKER_PROGRAM);
    const spawn = await spawnerOf(slowProgram);
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
      if (Atomics.load(arena.i32, tally >> 2) >= 4) {
        // (on a machine too busy to schedule the worker at all there is nothing to observe)
        expect(pool.backoffs).toBe(1);
        for (let r = 0; r < 64; r++) expect(pool.usable()).toBe(1);
        expect(pool.usable()).toBe(2); // then it tries the workers again
      }
      arena.free(base);
      arena.free(x);
      arena.free(tally);
    } finally {
      pool.dispose();
    }
  });
});
