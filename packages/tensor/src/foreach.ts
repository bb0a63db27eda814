/**
 * @file Kernels over lists of float32 arrays, in the spirit of PyTorch's `_foreach_*` ops: the
 * generic primitives optimizers and gradient clipping are built from — a sum of squares, scaling
 * in place, and map kernels (`map/expr.ts`), elementwise programs over several arrays at once.
 *
 * They run on the active kernel set (`kernels()`): with the wasm set, arrays placed in wasm memory
 * (persistent storage, see `memory.ts`) are processed there in place — the sum of squares and
 * scaling on several threads when the lists are large and `setNumThreads` allows it, map kernels
 * on the calling thread — and other arrays are staged through wasm memory. Every set, placement and
 * thread count gives the same bits (for map kernels, NaN payloads aside).
 */
import { kernels } from "./backend.js";
import type { MapKernel } from "./map/compile.js";

/**
 * Σx² over all elements of all arrays, with exact float64 squares summed in one fixed order
 * (chunks of 16384 floats, 8 partial sums each; see `kernels/vector.ts`): float64-grade accuracy,
 * no overflow for finite float32 input (`[1e20, 1e20]` gives 2e40), NaN if any element is NaN,
 * Infinity if any is infinite, and the same bits whatever the kernel set, the placement or the
 * thread count.
 *
 * @throws {TypeError} unless `xs` is an array of Float32Array.
 * @example
 * ```ts
 * const norm = Math.sqrt(foreachSumSquares(grads)); // global L2 norm
 * ```
 */
export function foreachSumSquares(xs: readonly Float32Array[]): number {
  checkList("foreachSumSquares", xs);
  return kernels().sumSquares(xs);
}

/**
 * `x ← fround(x·c)` for every element of every array (the float64 product rounded once, as
 * `x[i] *= c` does on a Float32Array). `c = 1` is skipped (the identity, also for NaN and -0).
 *
 * @throws {TypeError} unless `xs` is an array of Float32Array and `c` a number (NaN is propagated, as clipping's "propagate" policy needs).
 * @example
 * ```ts
 * foreachScale(grads, 0.5);
 * ```
 */
export function foreachScale(xs: readonly Float32Array[], c: number): void {
  checkList("foreachScale", xs);
  if (typeof c !== "number") throw new TypeError(`foreachScale: c must be a number (got ${typeof c})`);
  kernels().scale(xs, c);
}

/**
 * Runs a map kernel in place over tuples of arrays: `lists[k]` holds operand `k` (in the order of
 * the kernel's `arrays`) for every tuple, and `scalars` the values of its scalar parameters.
 *
 * @throws {RangeError} when the lists or scalars do not match the kernel, or the arrays of a tuple
 * differ in length.
 * @example
 * ```ts
 * foreachMap(sgdKernel, [params, grads, momentumBuffers], [lr, momentum]);
 * ```
 */
export function foreachMap(kernel: MapKernel, lists: readonly (readonly Float32Array[])[], scalars: readonly number[]): void {
  if (lists.length !== kernel.numArrays) throw new RangeError(`foreachMap(${kernel.name}): expected ${kernel.numArrays} lists of arrays (got ${lists.length})`);
  if (scalars.length !== kernel.numScalars) throw new RangeError(`foreachMap(${kernel.name}): expected ${kernel.numScalars} scalars (got ${scalars.length})`);
  const tuples = lists[0]?.length ?? 0;
  for (let k = 1; k < lists.length; k++) {
    if (lists[k]!.length !== tuples) throw new RangeError(`foreachMap(${kernel.name}): list ${k} has ${lists[k]!.length} arrays for ${tuples}`);
  }
  for (let t = 0; t < tuples; t++) {
    const n = lists[0]![t]!.length;
    for (let k = 1; k < lists.length; k++) {
      if (lists[k]![t]!.length !== n) throw new RangeError(`foreachMap(${kernel.name}): array ${t} of list ${k} has ${lists[k]![t]!.length} elements, expected ${n}`);
    }
  }
  if (tuples > 0) kernels().map(kernel, lists, scalars);
}

/** Throws unless `xs` is an array of Float32Arrays (O(list length)). */
function checkList(fn: string, xs: unknown): void {
  if (!Array.isArray(xs)) throw new TypeError(`${fn}: expected an array of Float32Array (got ${xs === null ? "null" : typeof xs})`);
  for (let i = 0; i < xs.length; i++) if (!(xs[i] instanceof Float32Array)) throw new TypeError(`${fn}: entry ${i} is not a Float32Array`);
}
