/**
 * @file The per-thread part of the multi-threaded GEMM, shared verbatim by the calling thread
 * and the helper workers: the functions here are serialised with `Function.prototype.toString`
 * into the worker source, so they must stay self-contained (no imports, closures or globals
 * other than `Math` and `Atomics`).
 */
import type { KernelExports } from "../module.js";

/** Indices of a row-range job's parameters in its `Int32Array`. */
export const JobParam = {
  rowStart: 0, rowEnd: 1, k: 2, nPad: 3, aLayout: 4, stagedA: 5, ldaBytes: 6,
  packedB: 7, c: 8, ldcBytes: 9, packedA: 10, first: 11, kc: 12, mc: 13,
} as const;

/** Number of job parameters. */
export const JOB_PARAMS = 14;

/** Control words of the shared control block (`Int32Array` indices). */
export const Control = { seq: 0, done: 1, params: 8 } as const;

/**
 * Runs rows `rowStart..rowEnd` (multiples of 4) of a GEMM whose A is staged in wasm memory
 * (row-major when `aLayout` is 0, k-major otherwise) and whose B is fully packed (K panels of
 * `kc`, each `nPad·kc` floats): packs each `mc`-row block of A and calls `gemm_block`.
 *
 * @example
 * ```ts
 * gemmRowRange(instance.exports, params); // params laid out as JobParam
 * ```
 */
export function gemmRowRange(ex: KernelExports, q: Int32Array): void {
  const rowStart = q[0]!, rowEnd = q[1]!, k = q[2]!, nPad = q[3]!, aLayout = q[4]!, sa = q[5]!, lda = q[6]!;
  const pb = q[7]!, pc = q[8]!, ldc = q[9]!, pa = q[10]!, first = q[11]!, kcMax = q[12]!, mcMax = q[13]!;
  for (let p0 = 0; p0 < k; p0 += kcMax) {
    const depth = Math.min(kcMax, k - p0);
    const bAt = pb + p0 * nPad * 4;
    for (let ic = rowStart; ic < rowEnd; ic += mcMax) {
      const mc = Math.min(mcMax, rowEnd - ic);
      if (aLayout === 0) ex.pack_tr4(sa + ic * lda + p0 * 4, lda, mc / 4, depth, pa);
      else ex.pack_copy4(sa + p0 * lda + ic * 4, lda, mc / 4, depth, pa);
      ex.gemm_block(pa, bAt, pc + ic * ldc, mc, nPad, depth, ldc, first === 1 && p0 === 0 ? 1 : 0);
    }
  }
}

/**
 * A helper thread's main loop: waits for the job sequence number to change, runs the job,
 * publishes the sequence number as done. A negative sequence number ends the loop.
 *
 * @example
 * ```ts
 * serveRowRanges(instance.exports, new Int32Array(controlBuffer), gemmRowRange);
 * ```
 */
export function serveRowRanges(ex: KernelExports, ctl: Int32Array, run: (ex: KernelExports, q: Int32Array) => void): void {
  let seq = 0;
  for (;;) {
    Atomics.wait(ctl, 0, seq);
    seq = Atomics.load(ctl, 0);
    if (seq < 0) return;
    run(ex, ctl.subarray(8, 8 + 14));
    Atomics.store(ctl, 1, seq);
    Atomics.notify(ctl, 1);
  }
}
