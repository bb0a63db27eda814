/**
 * @file Long-lived storage in WebAssembly memory: the `alloc` of the wasm kernel set (see
 * `memory.ts` for the lifecycle every backend follows).
 *
 * Arrays placed here are ordinary `Float32Array` views of the arena's memory, so the GEMM reads
 * and writes them in place and the vector and map kernels run on them without copies.
 *
 * - Which memory: where `SharedArrayBuffer` exists (Node; cross-origin-isolated pages) the main
 *   arena's shared memory, which grows on demand and never detaches views, and which worker
 *   threads share. Elsewhere a separate plain memory reserved once (64 MiB); a plain memory
 *   detaches its views when it grows, so it grows only while no array is placed in it.
 * - Budget: placed arrays count against a budget (default 512 MiB, `setMemoryBudget`). Beyond
 *   it, or when memory cannot grow, `alloc` returns an ordinary `Float32Array` instead (every
 *   kernel accepts both; counted in `memoryStats().fallbacks`).
 * - Release: `release(x)` returns the block at once; otherwise a `FinalizationRegistry` returns it
 *   after the garbage collector has collected the array. NOTE: V8 runs finalizers only after a
 *   full (mark-compact) collection, which a loop that drops short-lived objects may not trigger
 *   for a long time: the budget is what keeps memory bounded then, not the finalizer.
 */
import { initWasmSync, mainArena, plainArena } from "./runtime.js";
import type { WasmArena } from "./arena.js";

/** Reservation of a non-shared memory for placed arrays, in bytes. */
const PLAIN_BYTES = 64 << 20;
/**
 * Default budget for placed arrays, in bytes (512 MiB).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * setPlacementBudget(DEFAULT_BUDGET); // back to the default
 * ```
 */
export const DEFAULT_BUDGET = 512 << 20;

let arena: WasmArena | null | undefined; // null: unavailable
let budget = DEFAULT_BUDGET;
/** Live placed blocks: byte address → bytes (64-byte granularity). */
const live = new Map<number, number>();
let liveBytes = 0;
let fallbacks = 0;
let finalized = 0;

/** Returns a placed block to its arena once its array was garbage-collected. */
const registry = new FinalizationRegistry<number>((addr) => {
  if (!live.has(addr)) return;
  finalized++;
  freeBlock(addr);
});

function freeBlock(addr: number): void {
  liveBytes -= live.get(addr)!;
  live.delete(addr);
  arena!.free(addr);
}

/**
 * The arena placed arrays live in, created on first use; undefined where wasm is unavailable.
 *
 * @throws never.
 * @example
 * ```ts
 * placementArena()?.owns(x); // is x in wasm memory?
 * ```
 */
export function placementArena(): WasmArena | undefined {
  if (arena !== undefined) return arena ?? undefined;
  if (!initWasmSync()) return undefined; // maybe later, after initWasm()
  const main = mainArena()!;
  arena = main.shared ? main : (plainArena(PLAIN_BYTES) ?? null);
  return arena ?? undefined;
}

/**
 * `length` zeroed floats in wasm memory, or an ordinary `Float32Array` when the budget is used
 * up or the memory cannot grow (see the file comment).
 *
 * @throws {RangeError} for a negative or non-integer length.
 * @example
 * ```ts
 * const w = placeFloats(784 * 256); // a view of wasm memory where wasm SIMD works
 * ```
 */
export function placeFloats(length: number): Float32Array {
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`alloc: length must be a non-negative integer (got ${length})`);
  const ar = placementArena();
  const bytes = Math.max(64, Math.ceil((length * 4) / 64) * 64);
  if (!ar || liveBytes + bytes > budget) return fallback(length);
  const addr = ar.tryAlloc(length * 4, ar.shared || live.size === 0);
  if (addr < 0) return fallback(length);
  live.set(addr, bytes);
  liveBytes += bytes;
  const view = ar.view(addr, length);
  view.fill(0);
  registry.register(view, addr, view);
  return view;
}

function fallback(length: number): Float32Array {
  fallbacks++;
  return new Float32Array(length);
}

/**
 * Returns a placed array's block now (a no-op for arrays outside wasm memory); true when it was
 * placed. The array must not be used afterwards.
 *
 * @throws {RangeError} for an array in wasm memory that is not a whole live placed block (a
 * subarray, scratch, or a block released before).
 * @example
 * ```ts
 * releasePlaced(w); // true
 * ```
 */
export function releasePlaced(x: Float32Array): boolean {
  if (!arena || !arena.owns(x)) return false;
  const addr = x.byteOffset;
  if (!live.has(addr) || Math.max(64, Math.ceil((x.length * 4) / 64) * 64) !== live.get(addr)) {
    throw new RangeError(`dispose: not a whole array of persistent storage (byte ${addr}, length ${x.length}): dispose the array allocate() returned, or the tensor`);
  }
  registry.unregister(x);
  freeBlock(addr);
  return true;
}

/**
 * True when `x` is a view of the placement arena's memory (so wasm kernels use it in place).
 *
 * @throws never.
 * @example
 * ```ts
 * isPlaced(placeFloats(4)); // true where wasm SIMD works
 * ```
 */
export function isPlaced(x: Float32Array): boolean {
  return arena ? arena.owns(x) : false;
}

/** Counters of the wasm placement (see `memoryStats`). */
export interface PlacementStats {
  /** Placed arrays alive (neither released nor collected). */
  readonly arrays: number;
  /** Bytes they hold (64-byte granularity). */
  readonly bytes: number;
  /** The budget for placed arrays, in bytes. */
  readonly budget: number;
  /** Allocations that got an ordinary array because of the budget or a full memory. */
  readonly fallbacks: number;
  /** Blocks returned after the garbage collector collected their array. */
  readonly finalized: number;
  /** Size of the wasm memory holding them (GEMM scratch included when shared), in bytes. */
  readonly memoryBytes: number;
}

/**
 * The placement counters.
 *
 * @throws never.
 * @example
 * ```ts
 * placementStats().bytes;
 * ```
 */
export function placementStats(): PlacementStats {
  return { arrays: live.size, bytes: liveBytes, budget, fallbacks, finalized, memoryBytes: arena ? arena.byteLength : 0 };
}

/**
 * Sets the budget for placed arrays (bytes); returns the previous one. Arrays already placed
 * stay where they are.
 *
 * @throws {RangeError} for a negative or non-finite budget.
 * @example
 * ```ts
 * setPlacementBudget(2 << 30); // a large model: keep all its state in wasm memory
 * ```
 */
export function setPlacementBudget(bytes: number): number {
  if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new RangeError(`setMemoryBudget: bytes must be a finite number >= 0 (got ${bytes})`);
  const prev = budget;
  budget = bytes;
  return prev;
}
