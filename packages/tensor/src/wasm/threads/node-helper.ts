/**
 * @file Node-only: starts a helper thread with `worker_threads`. Loaded only through a dynamic
 * `import()` from `parallel-gemm.ts`, and it reaches `node:worker_threads` without a static or
 * literal import (`process.getBuiltinModule`, else an opaque dynamic import), so browser
 * bundlers neither fail on nor bundle it.
 */
import type { HelperInit, HelperThread } from "./parallel-gemm.js";

/** The part of `node:worker_threads` used here (no dependency on @types/node). */
interface WorkerThreadsModule {
  Worker: new (code: string, options: { eval: true; workerData: unknown }) => { unref(): void; terminate(): Promise<number> };
}

/** Kept in a variable so bundlers do not try to resolve it. */
const WORKER_THREADS = "node:worker_threads";

async function loadWorkerThreads(): Promise<WorkerThreadsModule> {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const builtin = proc?.getBuiltinModule?.(WORKER_THREADS); // Node ≥ 20.16
  return (builtin ?? (await import(/* @vite-ignore */ /* webpackIgnore: true */ WORKER_THREADS))) as WorkerThreadsModule;
}

/**
 * Starts a `worker_threads` Worker running `source` (CommonJS, evaluated) with `init` as its
 * `workerData`. The worker is unref'd: an idle helper never keeps the process alive.
 *
 * @throws {Error} when `node:worker_threads` cannot be loaded.
 * @example
 * ```ts
 * const helper = await spawnNodeHelper(source, { module, memory, control });
 * ```
 */
export async function spawnNodeHelper(source: string, init: HelperInit): Promise<HelperThread> {
  const { Worker } = await loadWorkerThreads();
  const worker = new Worker(`const { workerData } = require("node:worker_threads");\n${source}`, { eval: true, workerData: init });
  worker.unref();
  return { terminate: () => void worker.terminate() };
}
