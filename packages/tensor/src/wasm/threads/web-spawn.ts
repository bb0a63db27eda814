/**
 * @file Browsers: starts a pool worker as a classic Web Worker from a Blob URL. Needs
 * cross-origin isolation (`crossOriginIsolated`, i.e. COOP/COEP headers) for `SharedArrayBuffer`
 * and shared wasm memory, and a Content-Security-Policy that allows `worker-src blob:`.
 */
import { WEB_BOOTSTRAP, type WorkerInit } from "./protocol.js";
import type { SpawnedWorker } from "./pool.js";

let url: string | undefined;

/**
 * Starts a Web Worker running the pool program with `init`; resolves once it reports ready.
 *
 * @throws {Error} (as a rejection) when the worker cannot be created or fails to start.
 * @example
 * ```ts
 * const w = await spawnWebWorker({ module, memory, control, id: 1, jobs: ["gemm_job"] });
 * ```
 */
export function spawnWebWorker(init: WorkerInit): Promise<SpawnedWorker> {
  url ??= URL.createObjectURL(new Blob([WEB_BOOTSTRAP], { type: "text/javascript" }));
  const worker = new Worker(url, { name: `tapegrad-${init.id}` });
  return new Promise<SpawnedWorker>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent) => {
      worker.onmessage = null;
      if (e.data === "ready") resolve({ terminate: () => worker.terminate() });
      else reject(new Error("tapegrad worker: could not instantiate the kernel module"));
    };
    worker.onerror = (e: ErrorEvent) => reject(new Error(`tapegrad worker: ${e.message}`));
    worker.postMessage(init);
  });
}
