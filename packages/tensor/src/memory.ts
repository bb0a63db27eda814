/**
 * @file Where a tensor's bytes live, and how long.
 *
 * Ordinary tensors (op results, inputs, activations) are `Float32Array`s on the JS heap, freed by
 * the garbage collector like any object. Long-lived tensors — parameters, their gradients and
 * optimizer state, which the engine asks for with `{ persistent: true }` — are placed by the
 * active kernel set where its kernels use them in place: with the wasm kernels, in WebAssembly
 * memory (the GEMM reads and writes them without copies, the vector kernels run on them in
 * wasm); with the pure-TS kernels, on the JS heap. Every op accepts every placement.
 *
 * Lifecycle of persistent storage outside the JS heap:
 * - `tensor.dispose()` (or `dispose(array)`) returns it at once; the tensor, its views and arrays
 *   taken from it must not be used afterwards (ops and views then throw).
 * - Without `dispose()`, a `FinalizationRegistry` returns it once the garbage collector has
 *   collected the array. Collectors do that late (V8 only at a full collection), so persistent
 *   placement has a budget (default 512 MiB, {@link setMemoryBudget}); beyond it persistent
 *   storage is an ordinary JS array until collected blocks come back. Creating and dropping
 *   models in a loop therefore keeps memory bounded without any call.
 */
import { kernels } from "./backend.js";
import { isPlaced, placementStats, releasePlaced, setPlacementBudget } from "./wasm/placement.js";

/** Arrays released by `dispose`. */
const released = new WeakSet<Float32Array>();

/** Options of {@link allocate}. */
export interface AllocOptions {
  /**
   * Long-lived storage (parameters, gradients, optimizer state): placed by the active kernel set
   * where its kernels work in place; release it early with {@link dispose}. Default false.
   */
  readonly persistent?: boolean;
}

/**
 * `length` zero-filled floats: an ordinary `Float32Array`, or with `persistent` storage placed by
 * the active kernel set (see the file comment).
 *
 * @throws {RangeError} for a negative or non-integer length.
 * @example
 * ```ts
 * const m = allocate(784 * 256, { persistent: true }); // e.g. an optimizer's moment buffer
 * ```
 */
export function allocate(length: number, options: AllocOptions = {}): Float32Array {
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`allocate: length must be a non-negative integer (got ${length})`);
  return options.persistent === true ? kernels().alloc(length) : new Float32Array(length);
}

/**
 * Releases storage now: persistent storage outside the JS heap goes back to its memory; any
 * array is marked released, so tensors over it (and views of them) throw when used. Returns
 * whether memory outside the JS heap was returned. Releasing twice is a no-op.
 *
 * @throws {RangeError} for part of persistent storage in wasm memory (release the whole array);
 * {TypeError} when `data` is not a Float32Array.
 * @example
 * ```ts
 * const m = allocate(1024, { persistent: true });
 * dispose(m); // true where it was in wasm memory
 * ```
 */
export function dispose(data: Float32Array): boolean {
  checkArray("dispose", data);
  if (released.has(data)) return false;
  const placed = releasePlaced(data); // throws for part of a placed array: nothing is marked then
  released.add(data);
  return placed;
}

/**
 * True when `data` was released by {@link dispose}.
 *
 * @throws {TypeError} when `data` is not a Float32Array.
 * @example
 * ```ts
 * isReleased(t.data); // false until t.dispose()
 * ```
 */
export function isReleased(data: Float32Array): boolean {
  checkArray("isReleased", data);
  return released.has(data);
}

/**
 * Throws when `data` was released (used by ops and views on their inputs).
 *
 * @throws {Error} naming `op` when the storage was disposed.
 * @example
 * ```ts
 * checkLive("matmul", a.data);
 * ```
 */
export function checkLive(op: string, data: Float32Array): void {
  if (released.has(data)) throw new Error(`${op}: a tensor's storage was released by dispose() and cannot be used any more`);
}

/**
 * True when `data` lives outside the JS heap, in memory the wasm kernels use in place.
 *
 * @throws {TypeError} when `data` is not a Float32Array.
 * @example
 * ```ts
 * isInKernelMemory(allocate(8, { persistent: true })); // true with the wasm kernels
 * ```
 */
export function isInKernelMemory(data: Float32Array): boolean {
  checkArray("isInKernelMemory", data);
  return isPlaced(data);
}

/** What {@link memoryStats} reports. */
export interface MemoryStats {
  /** Persistent arrays alive outside the JS heap. */
  readonly placedArrays: number;
  /** Bytes they hold. */
  readonly placedBytes: number;
  /** The budget for them ({@link setMemoryBudget}). */
  readonly budget: number;
  /** Persistent allocations that became ordinary arrays because of the budget or a full memory. */
  readonly fallbacks: number;
  /** Blocks returned by the garbage collector's finalizer (not by `dispose`). */
  readonly finalized: number;
  /** Size of the WebAssembly memory holding them (GEMM scratch included), in bytes. */
  readonly kernelMemoryBytes: number;
}

/**
 * Counters of persistent storage outside the JS heap.
 *
 * @throws never.
 * @example
 * ```ts
 * memoryStats(); // { placedArrays: 12, placedBytes: 3250176, budget: 536870912, ... }
 * ```
 */
export function memoryStats(): MemoryStats {
  const s = placementStats();
  return { placedArrays: s.arrays, placedBytes: s.bytes, budget: s.budget, fallbacks: s.fallbacks, finalized: s.finalized, kernelMemoryBytes: s.memoryBytes };
}

/**
 * Sets the budget for persistent storage outside the JS heap, in bytes (default 512 MiB);
 * returns the previous budget. Raise it for models whose parameters, gradients and optimizer
 * state exceed it; storage already placed stays where it is.
 *
 * @throws {RangeError} for a negative or non-finite budget.
 * @example
 * ```ts
 * setMemoryBudget(2 ** 31); // 2 GiB
 * ```
 */
export function setMemoryBudget(bytes: number): number {
  return setPlacementBudget(bytes);
}

/** Throws unless `data` is a Float32Array (a tensor's storage). */
function checkArray(fn: string, data: unknown): void {
  if (!(data instanceof Float32Array)) throw new TypeError(`${fn}: expected a Float32Array (a tensor's storage) (got ${data === null ? "null" : typeof data})`);
}
