/**
 * @file A persistent pool of worker threads sharing the main arena's wasm memory, and the
 * process-wide thread setting ({@link setNumThreads}).
 *
 * Workers are started asynchronously (Node `worker_threads`, or Web Workers in cross-origin-
 * isolated browsers); until they report ready, jobs simply run on fewer threads, so nothing ever
 * waits for start-up. {@link WorkerPool.run} publishes a job in the control block described in
 * `protocol.ts` and works on it itself; workers join as they see it and take items dynamically:
 * no messages, no allocation, one atomic operation per item. How the caller waits for workers
 * is in `wait.ts`.
 *
 * No Node module is imported here: the Node spawner is loaded with a dynamic `import()` only when
 * running under Node, so this file loads in browsers as is.
 */
import { CONTROL_WORDS, Ctl, MAX_PHASES, MAX_WORKERS, PHASE_SPIN_MICROS, type WorkerInit } from "./protocol.js";
import { grab } from "./take.js";
import { waitDone } from "./wait.js";
import { JOB_EXPORTS } from "../module.js";
import type { WasmArena } from "../arena.js";

/** A started worker. */
export interface SpawnedWorker {
  /** Stops the thread. */
  terminate(): void;
}

/** Starts one worker; resolves when it is ready. */
export type Spawner = (init: WorkerInit) => Promise<SpawnedWorker>;

/** A job's item function, `(desc, phase, item, tid) → i32` (`item = −1`: the phase's item count). */
export type JobFn = (desc: number, phase: number, item: number, tid: number) => number;

/** A module outside the kernel module whose `job` export runs a job: its id and where its bytes are in the shared memory. */
export interface ExtraModule {
  readonly id: number;
  readonly ptr: number;
  readonly len: number;
}

/**
 * Default time a worker spins for the next job before sleeping, in microseconds.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * setNumThreads(4, { spinMicros: DEFAULT_SPIN_MICROS / 10 }); // spin less on a busy machine
 * ```
 */
export const DEFAULT_SPIN_MICROS = 1000;
/** How long the caller spins for the last items to finish before it blocks (ms, where it may block). */
const CALLER_SPIN_MS = 0.2;
/**
 * Back-off on a starved pool: when the caller spends more than WAIT_SHARE of a job waiting for
 * workers in SLOW_JOBS jobs in a row (workers preempted by other processes: on a busy machine
 * two threads can be slower than one), the next BACKOFF_CALLS calls run on the calling thread.
 */
const WAIT_SHARE = 0.4, SLOW_JOBS = 4, BACKOFF_CALLS = 64;

/**
 * Worker threads over one shared arena.
 *
 * @throws {RangeError} from the constructor for a thread count outside 1..65; {Error} from `run`
 * when a worker trapped or stopped answering.
 * @example
 * ```ts
 * const pool = new WorkerPool(arena, 2, spawnNodeWorker);
 * await pool.started; // 2 once the worker is ready
 * pool.run(JOB_EXPORTS.indexOf("gemm_job"), desc, phases, pool.usable(), arena.exports.gemm_job);
 * ```
 */
export class WorkerPool {
  /** The control block. */
  readonly ctl: Int32Array;
  /** Resolves with the number of usable threads once every worker started or failed. */
  readonly started: Promise<number>;
  /** Jobs run on more than one thread so far. */
  runs = 0;
  /** Times the pool backed off to one thread because workers were starved (see `adaptive`). */
  backoffs = 0;
  private waited = 0;
  private slowJobs = 0;
  private backoff = 0;
  private readonly workers: SpawnedWorker[] = [];
  private seq = 0;
  private tag = 0;
  private ready = 1;
  private broken = false;
  private disposed = false;

  /**
   * Starts `threads − 1` workers (the calling thread is the first of `threads`).
   *
   * @throws {RangeError} when `threads` is not an integer in 1..65.
   * @example
   * ```ts
   * const pool = new WorkerPool(arena, 4, spawnNodeWorker, 200); // 3 workers that spin 200 µs
   * ```
   */
  constructor(arena: WasmArena, readonly threads: number, spawn: Spawner, spinMicros = DEFAULT_SPIN_MICROS, readonly adaptive = true) {
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_WORKERS + 1) throw new RangeError(`WorkerPool: threads must be an integer in 1..${MAX_WORKERS + 1} (got ${threads})`);
    this.ctl = new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS));
    this.ctl[Ctl.spinMicros] = Math.max(0, Math.round(spinMicros));
    const starts: Promise<unknown>[] = [];
    for (let id = 1; id < threads; id++) {
      const init: WorkerInit = { module: arena.module, memory: arena.memory, control: this.ctl.buffer as SharedArrayBuffer, id, jobs: JOB_EXPORTS };
      starts.push(
        spawn(init).then(
          (w) => {
            if (this.disposed) w.terminate();
            else this.workers.push(w);
          },
          () => Atomics.store(this.ctl, Ctl.state + id, -1),
        ),
      );
    }
    this.started = Promise.all(starts).then(() => this.usable());
  }

  /**
   * Threads usable right now: the caller plus the workers `1..k` that are all ready (1 while the
   * pool backs off, or once it is broken or disposed).
   *
   * @throws never.
   * @example
   * ```ts
   * const threads = Math.min(want, pool.usable());
   * ```
   */
  usable(): number {
    if (this.broken || this.disposed) return 1;
    if (this.backoff > 0) {
      this.backoff--;
      return 1;
    }
    while (this.ready < this.threads && Atomics.load(this.ctl, Ctl.state + this.ready) === 1) this.ready++;
    return this.ready;
  }

  /**
   * Runs job `kind` (an index into `JOB_EXPORTS`) at `desc`: its `phases` phases (1 to
   * `MAX_PHASES`) of items (see {@link JobFn}; the counts are asked of `local` once, here, and
   * published with the job), taken dynamically by the calling thread (through `local`, the same
   * wasm export) and by workers `1..limit−1`. `prepare`, when given, runs on the calling thread after
   * the job is published and before items of phase 1 and later may start (workers can meanwhile
   * run phase 0). With `extra`, the job is the `job` export of another module (kind
   * `JOB_EXPORTS.length`), whose bytes workers find in the shared memory (see `protocol.ts`).
   * Returns when every item is done.
   *
   * @throws {Error} `internal:` when an item trapped or workers stopped answering (the pool is
   * then stopped and later jobs run on the calling thread only), for more than `MAX_PHASES`
   * phases or 2²⁴ items in a phase, or whatever `local` throws.
   * @example
   * ```ts
   * pool.run(JOB_EXPORTS.indexOf("vec_job"), desc, 1, threads, arena.exports.vec_job); // one phase
   * ```
   */
  run(kind: number, desc: number, phases: number, limit: number, local: JobFn, prepare?: () => void, extra?: ExtraModule): void {
    if (!(phases >= 1 && phases <= MAX_PHASES)) throw new Error(`internal: WorkerPool.run: a job has 1..${MAX_PHASES} phases (got ${phases})`);
    const c = this.ctl;
    this.runs++;
    // `seq` odd while the job words are rewritten, so a lagging worker never reads a mix of two
    // jobs' words (protocol.ts); it stays odd when the last run threw before publishing
    this.seq = ((this.seq & ~1) + 1) & 0x3fffffff;
    Atomics.store(c, Ctl.seq, this.seq);
    const tag = this.freeTag();
    Atomics.store(c, Ctl.limit, limit);
    Atomics.store(c, Ctl.kind, extra ? JOB_EXPORTS.length : kind);
    Atomics.store(c, Ctl.module, extra ? extra.id : 0);
    Atomics.store(c, Ctl.modulePtr, extra ? extra.ptr : 0);
    Atomics.store(c, Ctl.moduleLen, extra ? extra.len : 0);
    Atomics.store(c, Ctl.desc, desc);
    Atomics.store(c, Ctl.phases, phases);
    Atomics.store(c, Ctl.tag, tag);
    Atomics.store(c, Ctl.done, 0);
    Atomics.store(c, Ctl.error, 0);
    Atomics.store(c, Ctl.gate, prepare ? 0 : tag);
    // every phase's item count and cursors (thread-affine ranges, see protocol.ts)
    let total = 0;
    for (let ph = 0; ph < phases; ph++) {
      const items = local(desc, ph, -1, 0);
      if (!(items >= 0 && items < 0x1000000)) throw new Error(`internal: WorkerPool.run: phase ${ph} has ${items} items (at most ${0xffffff})`);
      total += items;
      Atomics.store(c, Ctl.count + ph, items);
      const base = Ctl.cursor + ph * (MAX_WORKERS + 1);
      for (let t = 0; t < limit; t++) Atomics.store(c, base + t, (tag << 24) | Math.floor((t * items) / limit));
    }
    this.seq = (this.seq + 1) & 0x3fffffff; // even again: published
    Atomics.store(c, Ctl.seq, this.seq);
    Atomics.notify(c, Ctl.seq);
    const t0 = performance.now();
    this.waited = 0;
    try {
      if (prepare) {
        prepare();
        Atomics.store(c, Ctl.gate, tag);
        Atomics.notify(c, Ctl.done);
      }
      this.work(local, desc, phases, tag, limit);
      this.waited += waitDone(c, total, CALLER_SPIN_MS);
    } catch (e) {
      Atomics.store(c, Ctl.error, 1);
      Atomics.notify(c, Ctl.done);
      this.broken = true;
      this.dispose();
      throw e;
    }
    if (Atomics.load(c, Ctl.error) !== 0) {
      this.broken = true;
      this.dispose();
      throw new Error("internal: a tapegrad worker thread trapped; running single-threaded from now on");
    }
    if (!this.adaptive) return;
    this.slowJobs = this.waited > WAIT_SHARE * (performance.now() - t0) ? this.slowJobs + 1 : 0;
    if (this.slowJobs >= SLOW_JOBS) {
      this.slowJobs = 0;
      this.backoff = BACKOFF_CALLS;
      this.backoffs++;
    }
  }

  /**
   * The next tag (1..255, cycling) that no worker has declared in its `inside` word: a worker
   * still working on an earlier job with that tag could otherwise take this job's items. Called
   * with `seq` odd (see protocol.ts). At most 64 workers hold a tag, so one is always free.
   */
  private freeTag(): number {
    const c = this.ctl;
    for (;;) {
      this.tag = (this.tag % 255) + 1;
      let used = false;
      for (let id = 1; id < this.threads && !used; id++) used = Atomics.load(c, Ctl.inside + id) === this.tag;
      if (!used) return this.tag;
    }
  }

  /** The calling thread's share of a job: the same loop as a worker's `work` (see `protocol.ts`). */
  private work(fn: JobFn, desc: number, phases: number, tag: number, limit: number): void {
    const c = this.ctl;
    for (let ph = 0, start = 0; ph < phases; ph++) {
      const total = Atomics.load(c, Ctl.count + ph), base = Ctl.cursor + ph * (MAX_WORKERS + 1);
      for (;;) {
        const g = grab(c, base, tag, limit, total);
        if (g < 0) break;
        this.waited += waitDone(c, start, PHASE_SPIN_MICROS / 1000);
        fn(desc, ph, g, 0);
        if (Atomics.add(c, Ctl.done, 1) + 1 === start + total) Atomics.notify(c, Ctl.done);
      }
      start += total;
    }
  }

  /**
   * Stops the workers (they exit their loop; then they are terminated). Idempotent; jobs run on
   * the calling thread afterwards.
   *
   * @throws never.
   * @example
   * ```ts
   * pool.dispose(); // what setNumThreads does before it makes a new pool
   * ```
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.ctl, Ctl.stop, 1);
    Atomics.store(this.ctl, Ctl.seq, (this.seq + 1) & 0x3fffffff);
    Atomics.notify(this.ctl, Ctl.seq);
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}

// ---- process-wide setting -----------------------------------------------------------------

let configured = 1;
let spin = DEFAULT_SPIN_MICROS;
let adaptive = true;
let pool: WorkerPool | undefined;
let arenaSource: (() => WasmArena | undefined) | undefined;

/**
 * Connects the pool to the runtime (called by `runtime.ts`; avoids an import cycle).
 *
 * @example
 * ```ts
 * setArenaSource(() => mainArena());
 * ```
 * @throws never.
 */
export function setArenaSource(fn: () => WasmArena | undefined): void {
  arenaSource = fn;
}

/** The environment's worker spawner, or undefined where threads are unavailable. */
function spawner(): Spawner | undefined {
  if (typeof SharedArrayBuffer === "undefined" || typeof Atomics === "undefined") return undefined;
  const g = globalThis as { process?: { versions?: { node?: string } }; crossOriginIsolated?: boolean; Worker?: unknown };
  if (typeof g.Worker === "function" && g.crossOriginIsolated === true) return async (init) => (await import("./web-spawn.js")).spawnWebWorker(init);
  if (g.process?.versions?.node) return async (init) => (await import("./node-spawn.js")).spawnNodeWorker(init);
  return undefined;
}

/**
 * The pool for the current setting, created on first need; undefined for one thread, and where
 * threads are unavailable (no shared wasm memory or no way to spawn workers).
 *
 * @throws never.
 * @example
 * ```ts
 * if (threads > 1) currentPool()!.run(kind, desc, phases, threads, job);
 * ```
 */
export function currentPool(): WorkerPool | undefined {
  if (pool || configured <= 1) return pool;
  const arena = arenaSource?.();
  const spawn = spawner();
  if (!arena || !arena.shared || !spawn) return undefined;
  pool = new WorkerPool(arena, configured, spawn, spin, adaptive);
  return pool;
}

/**
 * Threads usable right now by a job that wants up to `want` (at least 1).
 *
 * @example
 * ```ts
 * const t = usableThreads(numThreads());
 * ```
 * @throws never.
 */
export function usableThreads(want: number): number {
  if (want <= 1) return 1;
  return Math.min(want, currentPool()?.usable() ?? 1);
}

/**
 * Sets how many threads (the calling thread included) the wasm kernels may use: matmuls large
 * enough to profit, and in-place vector kernels over large heap arrays. Workers start in the
 * background; until they are ready, work runs on fewer threads (see {@link threadsReady}).
 * Workers never keep a Node process alive; `setNumThreads(1)` stops them. Where threads are
 * unavailable (no `SharedArrayBuffer`, a browser page without cross-origin isolation, no
 * WebAssembly SIMD) everything runs on the calling thread.
 *
 * @param n threads including the caller (1 = no workers), at most 65.
 * @param options `spinMicros`: how long an idle worker polls for the next job before sleeping
 * (default 1000; lower it to save CPU on a busy machine, raise it for lower latency between sparse
 * calls). `adaptive` (default true): when the workers are starved (other processes hold the
 * cores, so the caller mostly waits for them), run the next calls on the calling thread and try
 * again later; results are the same either way.
 * @throws {RangeError} when `n` is not an integer in 1..65 or `spinMicros` is negative.
 * @example
 * ```ts
 * setNumThreads(2);
 * await threadsReady(); // 2 where supported
 * ```
 */
export function setNumThreads(n: number, options: { spinMicros?: number; adaptive?: boolean } = {}): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS + 1) throw new RangeError(`setNumThreads: n must be an integer in 1..${MAX_WORKERS + 1} (got ${n})`);
  const s = options.spinMicros ?? spin, a = options.adaptive ?? adaptive;
  if (!(s >= 0)) throw new RangeError(`setNumThreads: spinMicros must be >= 0 (got ${s})`);
  if (n === configured && s === spin && a === adaptive) return;
  configured = n;
  spin = s;
  adaptive = a;
  pool?.dispose();
  pool = undefined;
  currentPool();
}

/**
 * The thread count set by {@link setNumThreads} (default 1).
 *
 * @example
 * ```ts
 * numThreads(); // 1
 * ```
 * @throws never.
 */
export function numThreads(): number {
  return configured;
}

/**
 * Resolves once the workers requested by {@link setNumThreads} have started (or failed), with
 * the number of threads jobs can use (1 where threads are unsupported).
 *
 * @example
 * ```ts
 * setNumThreads(2);
 * console.log(await threadsReady()); // 2 on Node
 * ```
 * @throws never.
 */
export async function threadsReady(): Promise<number> {
  const p = currentPool();
  return p ? p.started : 1;
}
