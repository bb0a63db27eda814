/**
 * @file The worker side of the thread pool and the control-block layout both sides share.
 *
 * A worker is tiny on purpose: it instantiates the kernel module over the shared memory and then
 * loops: wait for a job, take work items and run them with the job's wasm export
 * `fn(desc, phase, item, tid)`. All the computing is in wasm, which the calling thread runs too,
 * so the program below is a plain string constant: nothing of it comes from
 * `Function.prototype.toString`, and bundlers, minifiers or coverage instrumentation cannot
 * break it.
 *
 * Items are dealt out dynamically, which keeps a late or descheduled thread from holding the
 * others up (this matters on a busy machine: a static split with barriers waits for the slowest
 * thread at every phase). A job has at most `MAX_PHASES` phases:
 * 1. the caller makes `seq` odd, picks a job tag (1..255) that no worker has declared in its
 *    `inside` word, writes the job words (each phase's item count among them; the workers never
 *    ask the job's descriptor for counts), each phase's cursor block and `done = 0`, makes `seq`
 *    even again and notifies `seq`. All these are atomic stores;
 * 2. a worker spins on `seq` for `spinMicros` after its last job (so back-to-back matmuls need
 *    no wake-up), then sleeps in `Atomics.wait`. It reads the job words only under an even `seq`,
 *    stores the job's tag in its `inside` word, and only then re-reads `seq`: if `seq` changed,
 *    the words may mix two jobs and it starts over; if not, no later job gets that tag until the
 *    worker clears `inside` (the caller reads `inside` after making `seq` odd), so none of its
 *    compare-and-swaps below can take an item of another job;
 * 3. in each phase of N items, thread `t` of `n` owns items `⌊t·N/n⌋ .. ⌊(t+1)·N/n⌋` and takes
 *    them in order through its own word of that phase's cursor block (`tag << 24 | next item`,
 *    a compare-and-swap that fails once the tag changed); when its range is used up it takes from
 *    the other threads' cursors, in turn, then moves on to the next phase. An item of phase `p`
 *    starts only when `done` says every item of the earlier phases has finished;
 * 4. after each item a thread adds 1 to `done` (and notifies when that ends a phase); the caller
 *    returns when `done` reaches the job's item total. A trap sets `error`, which releases every
 *    wait.
 * The caller may publish a job before it has finished preparing it (staging the operands of a
 * later phase): items of phases after the first then also wait until `gate` holds the job's tag.
 *
 * Why a worker never reads a job's descriptor outside an item it holds: the caller writes the
 * next job's descriptor (at the same address, for GEMMs) as soon as the last item is done, and a
 * worker that lagged behind (it finished its items, then was descheduled) would otherwise compute
 * its ranges from the new counts and take items of the finished job's cursor words (same tag,
 * below the new bounds), running them on the new descriptor and adding them to the new job's
 * `done`. Measured before the fix: 7 of 2.75 million small 2-thread products wrong with four
 * processes on two cores.
 *
 * The ranges give a thread the same part of the data at every call, which stays in that core's
 * cache, while a late thread is still relieved of its items. This matters where two cores do not
 * share a cache (measured on a 2-vCPU EPYC VM: a cache line between the threads took 125 ns in
 * some periods and 480 ns in others, and with items dealt out first-come the 2-thread clip ran
 * 2-3× slower than one thread in the slow periods).
 *
 * The calling thread takes items with the same steps, written a second time in TypeScript
 * (`take.ts`, and `work` in `pool.ts`) because the worker program below is a string:
 * a change to one must be made to the other.
 *
 * Jobs of kind `jobs.length` run code that is not in the kernel module (a map kernel's module,
 * see `map-emitter.ts`): `module` names it and `modulePtr`/`moduleLen` say where its bytes lie in
 * the shared memory; a worker compiles and instantiates it the first time it sees that id (a
 * synchronous compile of a few hundred bytes, allowed in workers everywhere) and keeps it.
 */
import type { WasmMemory, WasmModule } from "../webassembly-types.js";

/**
 * Most worker threads a pool may have.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * setNumThreads(MAX_WORKERS + 1); // the largest accepted setting: the caller and 64 workers
 * ```
 */
export const MAX_WORKERS = 64;

/**
 * Most phases a job may have (one item count and one block of cursors per phase). A GEMM with
 * more N blocks than fit runs as several jobs.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * if (phases > MAX_PHASES) throw new Error("internal: too many phases");
 * ```
 */
export const MAX_PHASES = 8;

/**
 * Word indices of the control block.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * Atomics.load(pool.ctl, Ctl.state + id); // worker id's state: 0 starting, 1 ready, -1 failed
 * ```
 */
export const Ctl = {
  seq: 0,
  /** Threads `id < limit` take part (the caller is 0). */
  limit: 1,
  kind: 2,
  desc: 3,
  phases: 4,
  /** The job's tag (1..255): the high byte of its cursor words. */
  tag: 5,
  done: 6,
  error: 7,
  spinMicros: 8,
  stop: 9,
  /** Set to the job's tag once the caller's preparation is done: items after phase 0 wait for it. */
  gate: 10,
  /** For a job of kind `jobs.length`: the id of the module whose `job` export runs it... */
  module: 11,
  /** ...and the byte range of its bytes in the shared memory. */
  modulePtr: 12,
  moduleLen: 13,
  /** `state + id`: 0 starting, 1 ready, -1 failed (worker ids start at 1; 0 is the caller). */
  state: 14,
  /** `inside + id`: the tag of the job worker id is working on, 0 between jobs (the caller never reuses it meanwhile). */
  inside: 14 + MAX_WORKERS + 1,
  /** `count + ph`: the number of items of phase ph of the job, for ph below {@link MAX_PHASES}. */
  count: 14 + 2 * (MAX_WORKERS + 1),
  /**
   * `cursor + ph·(MAX_WORKERS + 1) + id`, for ph below {@link MAX_PHASES}: `tag << 24 | next
   * item` of thread id's own range of phase ph.
   */
  cursor: 14 + 2 * (MAX_WORKERS + 1) + MAX_PHASES,
} as const;

/**
 * Words in the control block.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * const ctl = new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS));
 * ```
 */
export const CONTROL_WORDS = Ctl.cursor + MAX_PHASES * (MAX_WORKERS + 1);

/** What a worker receives at start-up. */
export interface WorkerInit {
  /** The compiled kernel module (shared-memory variant). */
  readonly module: WasmModule;
  /** The shared memory. */
  readonly memory: WasmMemory;
  /** The control block. */
  readonly control: SharedArrayBuffer;
  /** This worker's id (1-based; the calling thread is 0). */
  readonly id: number;
  /** Export names of the job functions, indexed by job kind. */
  readonly jobs: readonly string[];
}

/**
 * How long a thread spins for a phase to finish before it blocks (µs), where it may block.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * this.waitDone(start, PHASE_SPIN_MICROS / 1000); // in WorkerPool: spin 50 µs, then block
 * ```
 */
export const PHASE_SPIN_MICROS = 50;

/**
 * The worker program (classic script / CommonJS, ES2017): defines `tapegradWorker(init)`, which
 * returns the serve loop to run after reporting readiness, or null when instantiation failed.
 *
 * @throws never (a constant). Running it does not throw either: a failed instantiation makes
 * `tapegradWorker` return null, and a trap in a job sets the control block's `error` word.
 * @example
 * ```ts
 * const bootstrap = `${WORKER_PROGRAM}\nvar serve = tapegradWorker(init); if (serve) serve();`;
 * ```
 */
export const WORKER_PROGRAM = `"use strict";
function tapegradWorker(init) {
  var ctl = new Int32Array(init.control), id = init.id, fns, extra = {}, counts = new Int32Array(${MAX_PHASES});
  try {
    var ex = new WebAssembly.Instance(init.module, { env: { memory: init.memory } }).exports;
    fns = init.jobs.map(function (name) { return ex[name]; });
  } catch (e) {
    Atomics.store(ctl, ${Ctl.state} + id, -1);
    return null;
  }
  function jobFn(kind, m, ptr, len) {
    if (kind < fns.length) return fns[kind];
    var f = extra[m];
    if (!f) {
      var bytes = new Uint8Array(init.memory.buffer, ptr, len).slice();
      f = extra[m] = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: init.memory } }).exports.job;
    }
    return f;
  }
  function take(w, tag, hi) {
    for (;;) {
      var o = Atomics.load(ctl, w);
      if ((o >>> 24) !== tag || (o & 0xffffff) >= hi) return -1;
      if (Atomics.compareExchange(ctl, w, o, o + 1) === o) return o & 0xffffff;
    }
  }
  function grab(base, tag, n, items) {
    for (var k = 0; k < n; k++) {
      var v = (id + k) % n, g = take(base + v, tag, Math.floor(((v + 1) * items) / n));
      if (g >= 0) return g;
    }
    return -1;
  }
  function waitDone(target, tag) {
    var t0 = 0;
    for (var i = 1; ; i++) {
      var d = Atomics.load(ctl, ${Ctl.done});
      if (d >= target && (tag === 0 || Atomics.load(ctl, ${Ctl.gate}) === tag)) return true;
      if (Atomics.load(ctl, ${Ctl.error}) !== 0) return false;
      if ((i & 63) === 0) {
        if (t0 === 0) t0 = performance.now();
        else if (performance.now() - t0 > ${PHASE_SPIN_MICROS / 1000}) Atomics.wait(ctl, ${Ctl.done}, d, 1);
      }
    }
  }
  function work(fn, desc, phases, tag, n) {
    for (var ph = 0, start = 0; ph < phases; ph++) {
      var total = counts[ph], base = ${Ctl.cursor} + ph * ${MAX_WORKERS + 1};
      for (;;) {
        var g = grab(base, tag, n, total);
        if (g < 0) break;
        if (!waitDone(start, ph === 0 ? 0 : tag)) return;
        fn(desc, ph, g, id);
        if (Atomics.add(ctl, ${Ctl.done}, 1) + 1 === start + total) Atomics.notify(ctl, ${Ctl.done});
      }
      start += total;
    }
  }
  var seq = Atomics.load(ctl, ${Ctl.seq});
  Atomics.store(ctl, ${Ctl.state} + id, 1);
  return function serve() {
    for (;;) {
      var s = Atomics.load(ctl, ${Ctl.seq});
      if (s === seq) {
        var limit = Atomics.load(ctl, ${Ctl.spinMicros}) / 1000, t0 = performance.now();
        for (var i = 1; (s = Atomics.load(ctl, ${Ctl.seq})) === seq; i++) {
          if ((i & 1023) === 0 && performance.now() - t0 >= limit) Atomics.wait(ctl, ${Ctl.seq}, seq);
        }
      }
      if (Atomics.load(ctl, ${Ctl.stop}) !== 0) return;
      if ((s & 1) !== 0) continue; // the caller is rewriting the job words
      var n = Atomics.load(ctl, ${Ctl.limit}), kind = Atomics.load(ctl, ${Ctl.kind}), desc = Atomics.load(ctl, ${Ctl.desc});
      var phases = Atomics.load(ctl, ${Ctl.phases}), tag = Atomics.load(ctl, ${Ctl.tag});
      var m = Atomics.load(ctl, ${Ctl.module}), ptr = Atomics.load(ctl, ${Ctl.modulePtr}), len = Atomics.load(ctl, ${Ctl.moduleLen});
      for (var p = 0; p < phases && p < ${MAX_PHASES}; p++) counts[p] = Atomics.load(ctl, ${Ctl.count} + p);
      // declare the tag before checking that the job is still current: from then on the caller
      // gives no later job this tag, so this worker can take no item but this job's
      Atomics.store(ctl, ${Ctl.inside} + id, tag);
      if (Atomics.load(ctl, ${Ctl.seq}) !== s) {
        Atomics.store(ctl, ${Ctl.inside} + id, 0);
        continue; // lagged behind: take the newest job
      }
      seq = s;
      if (id >= n) {
        Atomics.store(ctl, ${Ctl.inside} + id, 0);
        continue;
      }
      try {
        work(jobFn(kind, m, ptr, len), desc, phases, tag, n);
      } catch (e) {
        Atomics.store(ctl, ${Ctl.error}, 1);
        Atomics.notify(ctl, ${Ctl.done});
      }
      Atomics.store(ctl, ${Ctl.inside} + id, 0);
    }
  };
}
`;

/**
 * Bootstrap for a Node `worker_threads` Worker evaluated as CommonJS.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * new Worker(NODE_BOOTSTRAP, { eval: true, workerData: init }); // Worker from node:worker_threads
 * ```
 */
export const NODE_BOOTSTRAP = `${WORKER_PROGRAM}
var wt = require("node:worker_threads");
var serve = tapegradWorker(wt.workerData);
wt.parentPort.postMessage(serve ? "ready" : "failed");
if (serve) serve();
`;

/**
 * Bootstrap for a browser Web Worker (classic script from a Blob URL).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * const worker = new Worker(URL.createObjectURL(new Blob([WEB_BOOTSTRAP], { type: "text/javascript" })));
 * worker.postMessage(init); // answers "ready" or "failed"
 * ```
 */
export const WEB_BOOTSTRAP = `${WORKER_PROGRAM}
self.onmessage = function (e) {
  self.onmessage = null;
  var serve = tapegradWorker(e.data);
  self.postMessage(serve ? "ready" : "failed");
  if (serve) serve();
};
`;
