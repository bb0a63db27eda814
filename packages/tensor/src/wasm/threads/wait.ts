/**
 * @file How the calling thread waits for a job's workers ({@link waitDone}): it spins on the
 * control block's `done` word, then blocks in 1 ms slices where this thread may call
 * `Atomics.wait` (not on a browser's main thread), and gives up when a worker trapped or the
 * workers stopped answering. Used by `WorkerPool` (`pool.ts`); the control block is described in
 * `protocol.ts`.
 */
import { Ctl } from "./protocol.js";

/** Longest the caller waits for workers before declaring the pool broken (ms). */
const TIMEOUT_MS = 120_000;

let canBlockCache: boolean | undefined;
/** Whether this thread may call `Atomics.wait` (not on a browser's main thread). */
function canBlock(): boolean {
  if (canBlockCache === undefined) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
      canBlockCache = true;
    } catch {
      canBlockCache = false;
    }
  }
  return canBlockCache;
}

/**
 * Waits until the `done` word of the control block `c` reaches `target`: spins for `spinMs`,
 * then blocks in 1 ms slices where allowed. Returns how long it waited in milliseconds (0 when
 * `done` had already reached `target`).
 *
 * @throws {Error} `internal:` when a worker trapped (the block's `error` word is set) or the
 * workers did not answer within 120 s.
 * @example
 * ```ts
 * this.waited += waitDone(this.ctl, total, CALLER_SPIN_MS); // the caller's wait for a job's last items
 * ```
 */
export function waitDone(c: Int32Array, target: number, spinMs: number): number {
  if (Atomics.load(c, Ctl.done) >= target) return 0;
  const t0 = performance.now();
  const block = canBlock();
  for (let i = 1; ; i++) {
    const d = Atomics.load(c, Ctl.done);
    if (d >= target) return performance.now() - t0;
    if (Atomics.load(c, Ctl.error) !== 0) throw new Error("internal: a tapegrad worker thread trapped; running single-threaded from now on");
    if ((i & 63) !== 0) continue;
    const dt = performance.now() - t0;
    if (dt > TIMEOUT_MS) throw new Error(`internal: tapegrad worker threads did not answer within ${TIMEOUT_MS / 1000} s; running single-threaded from now on`);
    if (block && dt > spinMs) Atomics.wait(c, Ctl.done, d, 1);
  }
}
