/**
 * @file The WebAssembly {@link KernelSet}s: the SIMD GEMM on the calling thread or on a worker
 * pool, the vector kernels (sum of squares, scaling), every elementwise op and optimizer rule as a
 * map kernel compiled to wasm (`map-exec.ts`), long-lived storage placed in wasm memory.
 * Reductions fold long contiguous rows in wasm (`reduce.ts`).
 */
import type { KernelSet } from "../backend.js";
import type { GemmFn } from "../kernels/gemm.js";
import { gemmWasmOn } from "./gemm.js";
import { initWasmSync } from "./runtime.js";
import { numThreads, setNumThreads } from "./threads/pool.js";
import { placeFloats } from "./placement.js";
import { wasmScale, wasmSumSquares } from "./vector.js";
import { wasmMap, wasmMapBlock } from "./map-exec.js";
import { wasmReduceRow } from "./reduce.js";

/** Follows {@link numThreads}: one thread unless `setNumThreads` asked for more. */
const followGemm: GemmFn = (m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, acc, epilogue) =>
  gemmWasmOn(numThreads(), m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, acc, epilogue);

function wasmSet(gemm: GemmFn, threads?: number): KernelSet {
  const set: KernelSet = {
    name: "wasm",
    alloc: placeFloats,
    gemm,
    mapBlock: wasmMapBlock,
    reduceRow: wasmReduceRow,
    sumSquares: wasmSumSquares,
    scale: wasmScale,
    map: wasmMap,
  };
  return Object.freeze(threads === undefined ? set : { ...set, threads });
}

let following: KernelSet | undefined;
const fixed = new Map<number, KernelSet>();

/** Options of {@link wasmKernels}. */
export interface WasmKernelOptions {
  /**
   * Threads the GEMM may use, the caller included. Omitted: follow {@link setNumThreads}
   * (default 1). A number larger than the current setting raises it (starting workers).
   */
  readonly threads?: number;
}

/**
 * A wasm kernel set, or `undefined` when WebAssembly SIMD is unavailable here (no SIMD, a
 * Content-Security-Policy without `'wasm-unsafe-eval'`, ...). Initialises synchronously on first
 * use; call `await initWasm()` first where synchronous compilation is restricted. With
 * `threads`, large products are split between that many threads (where threads are supported;
 * see `setNumThreads`); results are identical to one thread's.
 *
 * @throws {RangeError} when `threads` is not an integer in 1..65.
 * @example
 * ```ts
 * useKernels(wasmKernels({ threads: 2 }) ?? jsKernels);
 * await threadsReady();
 * ```
 */
export function wasmKernels(options: WasmKernelOptions = {}): KernelSet | undefined {
  const t = options.threads;
  if (t !== undefined && (!Number.isInteger(t) || t < 1 || t > 65)) throw new RangeError(`wasmKernels: threads must be an integer in 1..65 (got ${t})`);
  if (!initWasmSync()) return undefined;
  if (t === undefined) return (following ??= wasmSet(followGemm));
  if (t > numThreads()) setNumThreads(t);
  let set = fixed.get(t);
  if (!set) {
    const gemm: GemmFn = (m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, acc, epilogue) =>
      gemmWasmOn(t, m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, acc, epilogue);
    fixed.set(t, (set = wasmSet(gemm, t)));
  }
  return set;
}
