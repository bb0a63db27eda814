/**
 * @file The active kernel set. Ops call hot kernels (GEMM, ...) through {@link kernels} so a
 * faster implementation (WebAssembly, threads) can be swapped in at run time without touching
 * op code. The pure TypeScript kernels are always available and are the default.
 */
import { gemmTs, type GemmFn } from "./kernels/gemm.js";

/** A named set of hot kernels. */
export interface KernelSet {
  /** Backend name, e.g. `"js"`. */
  readonly name: string;
  /** Matrix multiply, see {@link GemmFn}. */
  readonly gemm: GemmFn;
}

/** The pure TypeScript kernels (no WebAssembly, no threads). */
export const jsKernels: KernelSet = { name: "js", gemm: gemmTs };

let active: KernelSet = jsKernels;

/**
 * The kernel set ops use right now.
 *
 * @example
 * ```ts
 * kernels().name; // "js"
 * ```
 */
export function kernels(): KernelSet {
  return active;
}

/**
 * Makes `set` the active kernel set; returns the previous one (to restore it later).
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
  const prev = active;
  active = set;
  return prev;
}
