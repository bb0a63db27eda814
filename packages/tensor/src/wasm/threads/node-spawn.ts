/**
 * @file Node-only: starts a pool worker with `worker_threads`. Loaded only through a dynamic
 * `import()` from `pool.ts`, and it reaches `node:worker_threads` without a static or literal
 * import (`process.getBuiltinModule`, else an opaque dynamic import), so browser bundlers neither
 * fail on nor bundle it.
 */
import { NODE_BOOTSTRAP, type WorkerInit } from "./protocol.js";
import type { SpawnedWorker } from "./pool.js";

/** The part of `node:worker_threads` used here (no dependency on @types/node). */
interface NodeWorker {
  once(event: "message", fn: (msg: unknown) => void): void;
  once(event: "error", fn: (err: unknown) => void): void;
  once(event: "exit", fn: (code: number) => void): void;
  unref(): void;
  terminate(): Promise<number>;
}
interface WorkerThreadsModule {
  Worker: new (code: string, options: { eval: true; workerData: unknown; execArgv: string[]; name: string }) => NodeWorker;
}

/** Kept in a variable so bundlers do not try to resolve it. */
const WORKER_THREADS = "node:worker_threads";

async function loadWorkerThreads(): Promise<WorkerThreadsModule> {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const builtin = proc?.getBuiltinModule?.(WORKER_THREADS); // Node ≥ 20.16
  return (builtin ?? (await import(/* @vite-ignore */ /* webpackIgnore: true */ WORKER_THREADS))) as WorkerThreadsModule;
}

/**
 * Starts a worker running the pool program with `init`; resolves once it reports ready. The
 * worker is kept referenced until then (so an awaiting process does not exit early) and
 * unref'd afterwards: an idle pool never keeps the process alive.
 *
 * @throws {Error} (as a rejection) when the worker fails to start or to instantiate the module.
 * @example
 * ```ts
 * const w = await spawnNodeWorker({ module, memory, control, id: 1, jobs: ["gemm_job"] });
 * ```
 */
export async function spawnNodeWorker(init: WorkerInit): Promise<SpawnedWorker> {
  const { Worker } = await loadWorkerThreads();
  // execArgv []: no loader hooks (tsx, vitest) in the worker; V8 flags are process-wide anyway.
  const worker = new Worker(NODE_BOOTSTRAP, { eval: true, workerData: init, execArgv: [], name: `tapegrad-${init.id}` });
  return new Promise<SpawnedWorker>((resolve, reject) => {
    worker.once("message", (msg) => {
      worker.unref();
      if (msg === "ready") resolve({ terminate: () => void worker.terminate() });
      else reject(new Error("tapegrad worker: could not instantiate the kernel module"));
    });
    worker.once("error", (err) => reject(err instanceof Error ? err : new Error(String(err))));
    worker.once("exit", (code) => reject(new Error(`tapegrad worker exited during start-up (code ${code})`)));
  });
}
