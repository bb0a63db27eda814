/**
 * @file The backend interface: every kernel the ops run, and where long-lived storage is placed,
 * as one {@link KernelSet}, so a backend (pure TypeScript, WebAssembly SIMD, threads) is swapped
 * at run time without touching op code, and nothing of another backend runs meanwhile (with the
 * pure-TS set no WebAssembly is compiled or run).
 *
 * Default ("auto"): the WebAssembly set when the engine supports SIMD and it initialises,
 * otherwise the pure-TS set. The choice is made on the first {@link kernels} call and revisited
 * once `initWasm()` succeeds later; {@link useKernels} pins a set.
 */
import { gemmTs, type GemmFn } from "./kernels/gemm.js";
import { reduceRow } from "./kernels/reduce-row.js";
import { scaleAllJs, sumSquaresJs } from "./kernels/vector.js";
import { interpretBlock } from "./map/interpret.js";
import { mapBlockJs, mapJs } from "./map/js-backend.js";
import type { MapKernel } from "./map/compile.js";
import { wasmKernels } from "./wasm/kernels.js";

/** Runs a map kernel over a 2-D block of strided operands (see `interpretBlock` in `map/interpret.ts`). */
export type MapBlockFn = typeof interpretBlock;
/** The reduction row kernel (see `kernels/reduce-row.ts`). */
export type ReduceRowFn = typeof reduceRow;

/** A named set of kernels, with the placement of long-lived storage. */
export interface KernelSet {
  /** Backend name, e.g. `"js"` or `"wasm"`. */
  readonly name: string;
  /**
   * Threads this set's kernels use at most (the caller included); absent for sets that follow
   * the process-wide `setNumThreads` setting or are single-threaded.
   */
  readonly threads?: number;
  /** Zero-filled long-lived storage (`allocate(n, { persistent: true })`), placed where this set's kernels use it in place. */
  readonly alloc: (length: number) => Float32Array;
  /** Matrix multiply, see {@link GemmFn}. */
  readonly gemm: GemmFn;
  /**
   * Runs a map kernel over a 2-D block of strided operands: every elementwise op (forward and
   * the fused backward rules) is a map kernel (`map/elementwise-defs.ts`).
   */
  readonly mapBlock: MapBlockFn;
  /** One strided row of a reduction into a float64 accumulator. */
  readonly reduceRow: ReduceRowFn;
  /** Σx² over every array, exact float64 squares in one fixed order (the same bits in every set). */
  readonly sumSquares: (xs: readonly Float32Array[]) => number;
  /** `x ← fround(x·c)` in place for every array (`c = 1` skipped). */
  readonly scale: (xs: readonly Float32Array[], c: number) => void;
  /** Runs a map kernel over tuples of arrays in place (`lists[k][t]`: operand `k` of tuple `t`). */
  readonly map: (kernel: MapKernel, lists: readonly (readonly Float32Array[])[], scalars: readonly number[]) => void;
}

/** The names of every kernel a set must provide. */
const KERNEL_FIELDS = ["alloc", "gemm", "mapBlock", "reduceRow", "sumSquares", "scale", "map"] as const satisfies readonly (keyof KernelSet)[];

/**
 * The pure TypeScript kernels (no WebAssembly, no threads; storage on the JS heap).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * const prev = useKernels(jsKernels); // every op runs in pure TS from here on
 * useKernels(prev);
 * ```
 */
export const jsKernels: KernelSet = Object.freeze({
  name: "js",
  alloc: (length: number) => new Float32Array(length),
  gemm: gemmTs,
  mapBlock: mapBlockJs,
  reduceRow,
  sumSquares: sumSquaresJs,
  scale: scaleAllJs,
  map: mapJs,
});

/** The explicitly chosen set, or null for automatic selection. */
let pinned: KernelSet | null = null;
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
 * Pins `set` as the active kernel set (`null`: back to automatic selection); returns the previously
 * pinned set (`null` when selection was automatic), so `useKernels(prev)` restores it. Pinning the
 * pure-TS set before any op runs means WebAssembly is never compiled.
 *
 * @throws {TypeError} when `set` lacks a kernel.
 * @example
 * ```ts
 * const prev = useKernels(jsKernels);
 * // ... run with pure TS kernels ...
 * useKernels(prev);
 * ```
 */
export function useKernels(set: KernelSet | null): KernelSet | null {
  if (set !== null) {
    if (typeof set !== "object") throw new TypeError(`useKernels: expected a kernel set or null (got ${typeof set})`);
    for (const k of KERNEL_FIELDS) if (typeof set[k] !== "function") throw new TypeError(`useKernels: the kernel set "${String(set.name)}" has no ${k} function`);
  }
  const prev = pinned;
  pinned = set;
  return prev;
}

/**
 * Returns to automatic selection (wasm when available, else js); returns the previously pinned
 * set (`null` when selection was already automatic).
 *
 * @example
 * ```ts
 * useKernels(jsKernels);
 * useDefaultKernels(); // back to wasm where available
 * ```
 * @throws never.
 */
export function useDefaultKernels(): KernelSet | null {
  return useKernels(null);
}
