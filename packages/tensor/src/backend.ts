/**
 * @file The active kernel set. Ops call hot kernels (GEMM, ...) through {@link kernels} so a
 * faster implementation (WebAssembly, threads) can be swapped in at run time without touching
 * op code.
 *
 * Default ("auto"): the WebAssembly SIMD kernels when the engine supports them and they
 * initialise, otherwise the pure TypeScript kernels. The choice is made on the first
 * {@link kernels} call and revisited once `initWasm()` succeeds later; {@link useKernels} pins a
 * set explicitly (e.g. `useKernels(jsKernels)` for pure TS and float64-accumulated GEMM).
 */
import { gemmTs, type GemmFn } from "./kernels/gemm.js";
import { wasmKernels } from "./wasm/kernels.js";

/** A named set of hot kernels. */
export interface KernelSet {
  /** Backend name, e.g. `"js"`. */
  readonly name: string;
  /**
   * Threads this set's kernels use at most (the caller included); absent for sets that follow
   * the process-wide `setNumThreads` setting or are single-threaded.
   */
  readonly threads?: number;
  /** Matrix multiply, see {@link GemmFn}. */
  readonly gemm: GemmFn;
}

/** The pure TypeScript kernels (no WebAssembly, no threads). */
export const jsKernels: KernelSet = { name: "js", gemm: gemmTs };

/** The explicitly chosen set, or undefined for automatic selection. */
let pinned: KernelSet | undefined;
/** The automatic choice once made (wasm, or js when wasm was unavailable at that moment). */
let auto: KernelSet | undefined;

/**
 * The kernel set ops use right now.
 *
 * @example
 * ```ts
 * kernels().name; // "wasm" where WebAssembly SIMD works, else "js"
 * ```
 * @throws never.
 */
export function kernels(): KernelSet {
  if (pinned) return pinned;
  if (auto === undefined || auto === jsKernels) auto = wasmKernels() ?? jsKernels;
  return auto;
}

/**
 * Makes `set` the active kernel set; returns the previous one (to restore it later). Under
 * automatic selection the previous one is the set it had picked, so restoring it pins that set;
 * call {@link useDefaultKernels} to return to automatic selection instead.
 *
 * @throws {TypeError} when `set` lacks a kernel.
 * @example
 * ```ts
 * const prev = useKernels(jsKernels);
 * // ... run with pure TS kernels ...
 * useKernels(prev);
 * ```
 */
export function useKernels(set: KernelSet): KernelSet {
  if (!set || typeof set.gemm !== "function") throw new TypeError("useKernels: a kernel set needs a gemm function");
  const prev = kernels();
  pinned = set;
  return prev;
}

/**
 * Returns to automatic selection (wasm when available, else js); returns the previous set.
 *
 * @example
 * ```ts
 * useKernels(jsKernels);
 * useDefaultKernels(); // back to wasm where available
 * ```
 * @throws never.
 */
export function useDefaultKernels(): KernelSet {
  const prev = kernels();
  pinned = undefined;
  return prev;
}
