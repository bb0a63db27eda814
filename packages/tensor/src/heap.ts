/**
 * @file The wasm heap: `Float32Array`s allocated inside WebAssembly memory, for buffers that live
 * as long as a training run (parameters, gradients, optimizer state, reused activations). Kernels
 * work on them in place: the `foreach*` functions (`foreach.ts`) run in wasm with no copy, and
 * `matmul` reads operands and writes `out` where they are, on as many threads as configured.
 *
 * A heap array is an ordinary `Float32Array` (every op accepts it; `slice()` copies out of the
 * heap). Free it with {@link heapFree} when done; nothing is garbage-collected.
 *
 * Memory model, by environment:
 * - shared memory (Node; browsers when cross-origin isolated): the heap is the main arena's
 *   `SharedArrayBuffer`-backed memory, which never detaches on growth, so it grows on demand and
 *   every array stays valid for good; matmul and worker threads use it in place;
 * - otherwise: a separate plain memory, reserved once (64 MiB by default, see
 *   {@link heapReserve}). A plain memory detaches its old views when it grows, so it grows only
 *   while no heap array is live; once arrays are live, an allocation that does not fit returns
 *   an ordinary `Float32Array` instead (counted in `heapStats().fallbacks`), which every function
 *   still accepts, just without the in-place wasm path. matmul copies heap operands there.
 * - no WebAssembly SIMD: every allocation is an ordinary `Float32Array`.
 */
import { Tensor } from "./tensor.js";
import { checkShape, shapeSize, type Shape } from "./shape.js";
import { initWasmSync, mainArena, plainArena } from "./wasm/runtime.js";
import type { WasmArena } from "./wasm/arena.js";

/** Default reservation of a non-shared heap, in bytes. */
const DEFAULT_PLAIN_HEAP = 64 << 20;

let arena: WasmArena | null | undefined; // null: unavailable
let plainBytes = DEFAULT_PLAIN_HEAP;
const live = new Map<number, number>(); // user blocks: byte address → length in floats
let fallbacks = 0;

/** The arena holding heap arrays, created on first use; undefined where wasm is unavailable. */
export function heapArena(): WasmArena | undefined {
  if (arena !== undefined) return arena ?? undefined;
  if (!initWasmSync()) return undefined; // maybe later, after initWasm()
  const main = mainArena()!;
  arena = main.shared ? main : (plainArena(plainBytes) ?? null);
  return arena ?? undefined;
}

/**
 * Allocates `length` zeroed floats in the wasm heap (see the file comment); where that is not
 * possible, returns an ordinary `Float32Array` (check with {@link isHeapArray}).
 *
 * @throws {RangeError} for a negative or non-integer length.
 * @example
 * ```ts
 * const w = heapAlloc(784 * 256);        // parameter
 * const g = heapAlloc(784 * 256);        // its gradient
 * // ... use them like any Float32Array; foreach* kernels run on them in place ...
 * heapFree(g); heapFree(w);
 * ```
 */
export function heapAlloc(length: number): Float32Array {
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`heapAlloc: length must be a non-negative integer (got ${length})`);
  const ar = heapArena();
  if (!ar) return new Float32Array(length);
  const addr = ar.tryAlloc(length * 4, ar.shared || live.size === 0);
  if (addr < 0) {
    fallbacks++;
    return new Float32Array(length);
  }
  live.set(addr, length);
  const view = ar.view(addr, length);
  view.fill(0);
  return view;
}

/**
 * Returns a heap array's memory to the heap; the array must not be used afterwards. A no-op for
 * ordinary `Float32Array`s (so arrays from a fallback can be freed alike).
 *
 * @throws {RangeError} when `x` is in the heap but is not a live allocation (freed twice, or a
 * subarray of one).
 * @example
 * ```ts
 * const x = heapAlloc(1000);
 * heapFree(x);
 * ```
 */
export function heapFree(x: Float32Array): void {
  const ar = arena ?? undefined;
  if (!ar || !ar.owns(x)) return;
  const addr = x.byteOffset;
  if (live.get(addr) !== x.length) throw new RangeError(`heapFree: not a live heap allocation (freed twice, or a subarray; byte ${addr}, length ${x.length})`);
  live.delete(addr);
  ar.free(addr);
}

/**
 * True when `x` lives in the wasm heap (so kernels can use it in place).
 *
 * @throws never.
 * @example
 * ```ts
 * isHeapArray(heapAlloc(10)); // true where wasm SIMD works
 * isHeapArray(new Float32Array(10)); // false
 * ```
 */
export function isHeapArray(x: Float32Array): boolean {
  return arena ? arena.owns(x) : false;
}

/**
 * Makes room for `bytes` more of heap arrays without growing later. For a non-shared heap this
 * is the way to get a larger heap: call it before allocating (growing is impossible while arrays
 * are live); before the heap exists it sets the initial reservation.
 *
 * @throws {RangeError} for a negative size, or when a non-shared heap with live arrays would have
 * to grow, or when memory cannot grow that far.
 * @example
 * ```ts
 * heapReserve(300 << 20); // parameters + grads + state of a larger model
 * ```
 */
export function heapReserve(bytes: number): void {
  if (!(bytes >= 0)) throw new RangeError(`heapReserve: bytes must be >= 0 (got ${bytes})`);
  if (arena === undefined && !(mainArena()?.shared ?? false)) plainBytes = Math.max(plainBytes, Math.ceil(bytes));
  const ar = heapArena();
  if (!ar) return;
  const need = ar.top + Math.ceil(bytes);
  if (need <= ar.byteLength) return;
  if (!ar.shared && live.size > 0) throw new RangeError(`heapReserve: a non-shared heap cannot grow while ${live.size} arrays are live (reserve before allocating)`);
  if (!ar.growTo(need)) throw new RangeError(`heapReserve: cannot grow the heap to ${need} bytes`);
}

/** What {@link heapStats} reports. */
export interface HeapStats {
  /** Heap arrays are available (wasm SIMD works). */
  readonly available: boolean;
  /** The heap's memory is shared (grows freely; matmul and threads use arrays in place). */
  readonly shared: boolean;
  /** Live heap arrays. */
  readonly arrays: number;
  /** Bytes held by live heap arrays (64-byte granularity). */
  readonly bytesInUse: number;
  /** Current size of the heap's memory (includes GEMM scratch when shared). */
  readonly byteLength: number;
  /** Allocations that returned an ordinary `Float32Array` because a non-shared heap was full. */
  readonly fallbacks: number;
}

/**
 * Heap usage counters.
 *
 * @throws never.
 * @example
 * ```ts
 * heapStats(); // { available: true, shared: true, arrays: 6, bytesInUse: 1070336, ... }
 * ```
 */
export function heapStats(): HeapStats {
  const ar = heapArena();
  let bytesInUse = 0;
  for (const len of live.values()) bytesInUse += Math.max(64, Math.ceil((len * 4) / 64) * 64);
  return { available: ar !== undefined, shared: ar?.shared ?? false, arrays: live.size, bytesInUse, byteLength: ar?.byteLength ?? 0, fallbacks };
}

/**
 * A zero-filled contiguous tensor whose data is a heap array.
 *
 * @throws {ShapeError} for an invalid shape.
 * @example
 * ```ts
 * const w = heapZeros([256, 784]);
 * matmul(x, w.mT, heapZeros([128, 256])); // reads w and writes out in place
 * ```
 */
export function heapZeros(shape: Shape): Tensor {
  const sh = checkShape("heapZeros", shape);
  return new Tensor(heapAlloc(shapeSize(sh)), sh);
}

/**
 * A contiguous copy of `t` whose data is a heap array.
 *
 * @throws {TypeError} when `t` is not a Tensor.
 * @example
 * ```ts
 * const w = toHeap(randn([256, 784], rng)); // free later with heapFree(w.data)
 * ```
 */
export function toHeap(t: Tensor): Tensor {
  if (!(t instanceof Tensor)) throw new TypeError("toHeap: expected a Tensor");
  const out = heapZeros(t.shape);
  const c = t.contiguous();
  out.data.set(c.data.subarray(c.offset, c.offset + c.size));
  return out;
}
