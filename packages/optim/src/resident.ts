/**
 * @file The resident path of optimizers and clipping: when parameters live in the wasm heap
 * (`Module.toHeap()` / `Var.toHeap()` of `@tapegrad/nn` / `@tapegrad/autograd`), their gradients
 * do too, optimizer state is allocated there ({@link HeapState}), and the lists an update or a
 * clip works on are handed to the `foreach*` kernels of `@tapegrad/tensor`, which run in wasm in
 * place (on several threads with `setNumThreads`). The kernels are only used when **every**
 * array involved is a heap array; anything else keeps the JS loops, so ordinary arrays behave
 * exactly as before.
 *
 * The update and scale kernels compute the JS loops' expressions with the same float32
 * roundings, so they give the same bits. Sums of squares use `foreachSumSquares` with
 * `exact: true`: float64 squares accumulated in float64, like the JS loop, but in another
 * (fixed) order, so a norm can differ from the ordinary path's in its last float64 bit (relative
 * 1e-16) — far below what could change a float32 result, except in rare ties.
 */
import { foreachScale, foreachSumSquares, heapAlloc, heapFree, isHeapArray } from "@tapegrad/tensor";
import type { Var } from "@tapegrad/autograd";
import type { ParamState } from "./state-dict.js";
import type { GradBatch } from "./params.js";

/** Float64 squares (see the file comment). */
const EXACT = { exact: true } as const;

/**
 * True when `arrays` is non-empty and every array lives in the wasm heap.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * allResident([heapAlloc(4)]); // true where WebAssembly SIMD works
 * ```
 */
export function allResident(arrays: readonly (Float32Array | null)[]): boolean {
  if (arrays.length === 0) return false;
  for (const a of arrays) if (a === null || !isHeapArray(a)) return false;
  return true;
}

/**
 * Σx² with the exact wasm kernel when every array is resident (see the file comment), else `null`.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * residentSumSquares(grads) ?? sumSquaresJs(grads);
 * ```
 */
export function residentSumSquares(arrays: readonly Float32Array[]): number | null {
  return allResident(arrays) ? foreachSumSquares(arrays, EXACT) : null;
}

/**
 * `x ← x·c` with the wasm kernel when every array is resident (bit-identical to the JS loop);
 * returns false (doing nothing) otherwise.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * if (!residentScale(grads, c)) scaleJs(grads, c);
 * ```
 */
export function residentScale(arrays: readonly Float32Array[], c: number): boolean {
  if (!allResident(arrays)) return false;
  foreachScale(arrays, c);
  return true;
}

/**
 * The optimizer-state buffers an optimizer allocated in the wasm heap, so it can free them
 * (`Optimizer.freeHeap`). Buffers for resident parameters are heap arrays, others ordinary.
 *
 * @example
 * ```ts
 * const heap = new HeapState();
 * const m = heap.alloc(value); // heap array when `value` is one
 * heap.release(opt.state);     // back to ordinary arrays, heap memory freed
 * ```
 */
export class HeapState {
  private readonly owned = new Set<Float32Array>();

  /**
   * A zeroed state buffer of `value.length` floats: in the heap when `value` is a heap array
   * (and the heap has room), else an ordinary `Float32Array`.
   *
   * @throws Never throws.
   */
  alloc(value: Float32Array): Float32Array {
    if (!isHeapArray(value)) return new Float32Array(value.length);
    const b = heapAlloc(value.length);
    if (isHeapArray(b)) this.owned.add(b);
    return b;
  }

  /**
   * `buf` itself when it is a heap array or `value` is not; else a heap copy (the original is
   * left to the garbage collector). Used to move state loaded or created before `toHeap()`.
   *
   * @throws Never throws.
   */
  resident(buf: Float32Array, value: Float32Array): Float32Array {
    if (isHeapArray(buf) || !isHeapArray(value)) return buf;
    const b = this.alloc(value);
    b.set(buf);
    return b;
  }

  /**
   * Replaces every heap buffer this object allocated that `states` still hold by an ordinary
   * copy and frees the heap memory (buffers no longer held are freed too). Returns how many
   * arrays were freed.
   *
   * @throws Never throws.
   */
  release(states: Iterable<ParamState>): number {
    for (const s of states) {
      for (const k of Object.keys(s)) {
        const b = s[k];
        if (b instanceof Float32Array && this.owned.has(b)) s[k] = b.slice();
      }
    }
    const n = this.owned.size;
    for (const b of this.owned) heapFree(b);
    this.owned.clear();
    return n;
  }

  /** Number of heap buffers currently owned. */
  get size(): number {
    return this.owned.size;
  }
}

/** The arrays of one parameter group, as a resident update takes them. */
export interface ResidentLists {
  values: Float32Array[];
  grads: Float32Array[];
  states: ParamState[];
}

/**
 * Splits a batch into per-group lists of values, gradients and states (`stateOf` creates missing
 * states), in batch order.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * residentGroups(batch, groupOf, opt.paramGroups.length, (p) => opt.state.get(p)!);
 * ```
 */
export function residentGroups(batch: GradBatch, groupOf: readonly number[], groups: number, stateOf: (p: Var) => ParamState): ResidentLists[] {
  const out: ResidentLists[] = [];
  for (let g = 0; g < groups; g++) out.push({ values: [], grads: [], states: [] });
  for (let k = 0; k < batch.grads.length; k++) {
    const l = out[groupOf[k]!]!;
    l.values.push(batch.values[k]!);
    l.grads.push(batch.grads[k]!);
    l.states.push(stateOf(batch.owners[k] as Var));
  }
  return out;
}

