/**
 * @file PROTOTYPE (phase 1, not wired into other packages): wasm-resident float32 buffers.
 *
 * Long-lived arrays (parameters, gradients, optimizer state) are allocated inside a kernel
 * instance's linear memory, so reductions such as the global gradient norm run in wasm without
 * copying: clip-by-global-norm over 10M floats reads 40 MB once for the norm and, when clipping,
 * reads and writes it once more for the scale. Copying the same data into wasm memory first would
 * cost about as much again as the kernel itself.
 *
 * The catch is `memory.grow`: it detaches a non-shared memory's `ArrayBuffer`, so every
 * `Float32Array` view made before the grow becomes empty. Two mitigations, both offered here:
 * - `shared: true` backs the heap with a `SharedArrayBuffer` (Node; browsers only when
 *   cross-origin isolated). Shared memories never detach: old views stay valid after a grow.
 * - otherwise {@link WasmHeap.reserve} grows once up front; views stay valid until an allocation
 *   exceeds the reservation, and {@link ResidentArray.data} always returns a live view.
 *
 * The heap has its own memory, separate from the GEMM scratch, so matmuls never move it.
 * The allocator is a bump pointer with per-size free lists (enough for a fixed set of
 * parameter-shaped buffers that are allocated once and reused every step).
 */
import { kernelModuleBytes } from "./module.js";
import { DEFAULT_GEMM_KERNEL } from "./gemm-kernel.js";
import { KernelInstance, relaxedSimdSupported, simdSupported } from "./runtime.js";

const PAGE = 65536;
const ALIGN = 64; // bytes: one cache line, and a multiple of the 16-byte SIMD width
const MAX_PAGES = 65536; // 4 GiB, the wasm32 limit (declared maximum of shared memories)

/** Options of {@link WasmHeap.create}. */
export interface WasmHeapOptions {
  /** Bytes to reserve up front (avoids later grows). */
  readonly reserveBytes?: number;
  /** Back the heap with shared memory (views never detach); needs `SharedArrayBuffer`. */
  readonly shared?: boolean;
  /** Maximum size in bytes of a shared heap (virtual address space is reserved for it). */
  readonly maximumBytes?: number;
}

/** A float32 array living in a {@link WasmHeap}. */
export class ResidentArray {
  private view: Float32Array;
  private freed = false;

  /** @internal Use {@link WasmHeap.alloc}. */
  constructor(
    private readonly heap: WasmHeap,
    /** Byte offset in the heap's memory. */
    readonly byteOffset: number,
    /** Number of floats. */
    readonly length: number,
  ) {
    this.view = heap.viewAt(byteOffset, length);
  }

  /**
   * A live view of the elements (re-created if a non-shared heap grew since the last call).
   *
   * @throws {Error} after {@link WasmHeap.free}.
   */
  get data(): Float32Array {
    if (this.freed) throw new Error("ResidentArray: used after free");
    if (this.view.length !== this.length) this.view = this.heap.viewAt(this.byteOffset, this.length);
    return this.view;
  }

  /** @internal Called by {@link WasmHeap.free}. */
  markFreed(): void {
    this.freed = true;
  }
}

/**
 * A growable heap of wasm-resident float32 arrays with SIMD reductions over them.
 *
 * @example
 * ```ts
 * const heap = WasmHeap.create({ reserveBytes: 40e6 })!;
 * const grads = sizes.map((n) => heap.alloc(n));
 * // ... backward writes into grads[i].data ...
 * const norm = heap.clipByGlobalNorm(grads, 1.0);
 * ```
 */
export class WasmHeap {
  private top = ALIGN; // keep address 0 unused
  private readonly freeLists = new Map<number, number[]>();

  private constructor(private readonly inst: KernelInstance, readonly shared: boolean) {}

  /**
   * Creates a heap, or returns `undefined` when WebAssembly SIMD (or, for `shared`,
   * `SharedArrayBuffer`) is unavailable.
   *
   * @throws {RangeError} when `reserveBytes` cannot be allocated.
   */
  static create(opts: WasmHeapOptions = {}): WasmHeap | undefined {
    if (!simdSupported()) return undefined;
    const shared = opts.shared ?? false;
    if (shared && typeof SharedArrayBuffer === "undefined") return undefined;
    const maximum = Math.min(MAX_PAGES, Math.ceil((opts.maximumBytes ?? MAX_PAGES * PAGE) / PAGE));
    const bytes = kernelModuleBytes({
      gemm: { ...DEFAULT_GEMM_KERNEL, relaxedMadd: relaxedSimdSupported() },
      ...(shared ? { shared: true, maximumPages: maximum } : {}),
    });
    const memory = new WebAssembly.Memory(shared ? { initial: 1, maximum, shared: true } : { initial: 1 });
    const heap = new WasmHeap(KernelInstance.create(new WebAssembly.Module(bytes), memory), shared);
    if (opts.reserveBytes) heap.reserve(opts.reserveBytes);
    return heap;
  }

  /** Current size of the heap's memory in bytes. */
  get byteLength(): number {
    return this.inst.memory.buffer.byteLength;
  }

  /**
   * Grows the memory so that `bytes` more can be allocated without another grow.
   *
   * @throws {RangeError} when the engine cannot grow the memory.
   */
  reserve(bytes: number): void {
    this.inst.ensure(this.top + bytes);
  }

  /**
   * Allocates `length` zeroed floats (64-byte aligned).
   *
   * @throws {RangeError} for a negative or non-integer length, or when memory cannot grow.
   */
  alloc(length: number): ResidentArray {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`WasmHeap.alloc: length must be a non-negative integer (got ${length})`);
    const size = Math.ceil((length * 4) / ALIGN) * ALIGN || ALIGN;
    let offset = this.freeLists.get(size)?.pop();
    if (offset === undefined) {
      offset = this.top;
      this.inst.ensure(offset + size);
      this.top += size;
    }
    const arr = new ResidentArray(this, offset, length);
    arr.data.fill(0);
    return arr;
  }

  /** Returns `arr`'s storage to the heap; `arr` must not be used afterwards. */
  free(arr: ResidentArray): void {
    const size = Math.ceil((arr.length * 4) / ALIGN) * ALIGN || ALIGN;
    let list = this.freeLists.get(size);
    if (!list) this.freeLists.set(size, (list = []));
    list.push(arr.byteOffset);
    arr.markFreed();
  }

  /** Σ x² over all arrays (float32 partial sums per 4096-float chunk, float64 across chunks). */
  sumOfSquares(arrays: readonly ResidentArray[]): number {
    const sumsq = this.inst.exports.sumsq;
    let total = 0;
    for (const a of arrays) total += sumsq(a.byteOffset, a.length);
    return total;
  }

  /** `x ← x·s` for every element of every array. */
  scale(arrays: readonly ResidentArray[], s: number): void {
    const scale = this.inst.exports.scale;
    for (const a of arrays) scale(a.byteOffset, a.length, s);
  }

  /**
   * Clip by global norm (PyTorch `clip_grad_norm_` formula): `n = √Σx²`; when `n > maxNorm`,
   * every element is scaled by `maxNorm / (n + 1e-6)` (a NaN norm scales by NaN, as PyTorch
   * does). Returns `n`, the norm before clipping.
   *
   * @throws {RangeError} when `maxNorm` is negative or NaN.
   */
  clipByGlobalNorm(arrays: readonly ResidentArray[], maxNorm: number): number {
    if (!(maxNorm >= 0)) throw new RangeError(`clipByGlobalNorm: maxNorm must be >= 0 (got ${maxNorm})`);
    const norm = Math.sqrt(this.sumOfSquares(arrays));
    const coef = maxNorm / (norm + 1e-6);
    if (!(coef >= 1)) this.scale(arrays, coef);
    return norm;
  }

  /** @internal A view of `length` floats at `byteOffset` of the current buffer. */
  viewAt(byteOffset: number, length: number): Float32Array {
    return new Float32Array(this.inst.memory.buffer, byteOffset, length);
  }
}
