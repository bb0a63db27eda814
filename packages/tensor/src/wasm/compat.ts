/**
 * @file Thin wrappers keeping the phase-1 prototype names working on top of the new API:
 * `initWasmThreads` (a threaded kernel set, awaited until its workers run) and `WasmHeap` (an
 * object-style view of the heap). New code should use `setNumThreads` / `wasmKernels({ threads })`
 * and `heapAlloc` / `foreach*`.
 */
import type { KernelSet } from "../backend.js";
import { foreachClipByGlobalNorm, foreachScale, foreachSumSquares } from "../foreach.js";
import { heapAlloc, heapFree, heapReserve, isHeapArray } from "../heap.js";
import { wasmKernels } from "./kernels.js";
import { setNumThreads, threadsReady } from "./threads/pool.js";

/** A kernel set backed by worker threads; `dispose()` stops them. */
export interface ThreadedKernelSet extends KernelSet {
  /** Threads the set uses (the caller included). */
  readonly threads: number;
  /** Stops the workers (`setNumThreads(1)`). */
  dispose(): void;
}

/**
 * Starts workers for `threads` threads and resolves with a kernel set using them once they run,
 * or `undefined` where threads are unavailable (no SIMD, no `SharedArrayBuffer`, no workers).
 *
 * @throws {RangeError} (as a rejection) when `threads` is not an integer in 2..65.
 * @example
 * ```ts
 * const set = await initWasmThreads(2);
 * if (set) useKernels(set);
 * ```
 */
export async function initWasmThreads(threads = 2): Promise<ThreadedKernelSet | undefined> {
  if (!Number.isInteger(threads) || threads < 2 || threads > 65) throw new RangeError(`initWasmThreads: threads must be an integer in 2..65 (got ${threads})`);
  const set = wasmKernels({ threads });
  if (!set || (await threadsReady()) < 2) return undefined;
  return { name: set.name, gemm: set.gemm, threads, dispose: () => setNumThreads(1) };
}

/** A heap array in the object form of the prototype. */
export interface ResidentArray {
  /** The elements (a heap `Float32Array`). */
  readonly data: Float32Array;
}

/**
 * The prototype's heap object over the process-wide heap (see `heap.ts`).
 *
 * @deprecated use `heapAlloc`, `heapFree` and the `foreach*` kernels.
 * @example
 * ```ts
 * const heap = WasmHeap.create()!;
 * const g = heap.alloc(1000);
 * heap.clipByGlobalNorm([g], 1);
 * ```
 */
export class WasmHeap {
  private constructor() {}

  /**
   * The heap, or `undefined` where heap arrays are unavailable.
   *
   * @throws {RangeError} when `reserveBytes` cannot be reserved.
   */
  static create(opts: { reserveBytes?: number } = {}): WasmHeap | undefined {
    if (!isHeapArray(heapAlloc(0))) return undefined;
    if (opts.reserveBytes) heapReserve(opts.reserveBytes);
    return new WasmHeap();
  }

  /** Allocates `length` zeroed floats. @throws {RangeError} for an invalid length. */
  alloc(length: number): ResidentArray {
    return { data: heapAlloc(length) };
  }

  /** Frees `arr`. @throws {RangeError} on a double free. */
  free(arr: ResidentArray): void {
    heapFree(arr.data);
  }

  /** Σx² over all arrays (float64). */
  sumOfSquares(arrays: readonly ResidentArray[]): number {
    return foreachSumSquares(arrays.map((a) => a.data));
  }

  /** `x ← x·s` in place. */
  scale(arrays: readonly ResidentArray[], s: number): void {
    foreachScale(arrays.map((a) => a.data), s);
  }

  /** Clip by global norm; returns the norm before clipping. @throws {RangeError} for a bad maxNorm. */
  clipByGlobalNorm(arrays: readonly ResidentArray[], maxNorm: number): number {
    return foreachClipByGlobalNorm(arrays.map((a) => a.data), maxNorm);
  }
}
