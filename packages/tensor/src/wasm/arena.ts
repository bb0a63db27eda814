/**
 * @file A wasm linear memory with one instance of the kernel module over it and an allocator:
 * the place where placed arrays (persistent storage), GEMM scratch and job descriptors live.
 *
 * Two kinds (see `runtime.ts` for which is used where):
 * - shared (`SharedArrayBuffer`-backed; Node, cross-origin-isolated browsers): growing never
 *   detaches the old buffer, so every `Float32Array` view handed out stays valid forever, and
 *   worker threads can instantiate the same module over the same memory;
 * - non-shared: `memory.grow` detaches the buffer and empties every old view, so an arena whose
 *   views were handed to users must never grow again (`placement.ts` enforces that).
 *
 * {@link WasmArena.owns} tells whether a `Float32Array` lives in this memory: the arena records
 * every `ArrayBuffer`/`SharedArrayBuffer` object its memory has exposed (a shared memory exposes
 * a new, longer one after each grow) and compares `array.buffer` against them.
 */
import { FreeList } from "./allocator.js";
import type { KernelExports } from "./module.js";
import type { WasmMemory, WasmModule } from "./webassembly-types.js";

const PAGE = 65536;
/** Growth step floor: grow by at least this much (or double, up to 256 MiB at once). */
const MIN_GROW = 16 * PAGE;

/**
 * One memory + kernel instance + allocator. Construct with {@link WasmArena.create}.
 *
 * @throws {WebAssembly.LinkError} from `create` when the memory does not match the module's
 * import; the methods document their own.
 * @example
 * ```ts
 * const arena = WasmArena.create(module, new WebAssembly.Memory({ initial: 1 }));
 * const p = arena.alloc(4 * 1024);
 * arena.f32.fill(1, p >>> 2, (p >>> 2) + 1024);
 * ```
 */
export class WasmArena {
  /** The kernel functions of this arena's instance. */
  readonly exports: KernelExports;
  /** True for a `SharedArrayBuffer`-backed memory. */
  readonly shared: boolean;
  private readonly list = new FreeList(64); // keep address 0 (null) unused
  private readonly seen = new WeakSet<ArrayBufferLike>();
  private readonly scratchBlocks = new Map<string, { addr: number; bytes: number }>();
  private buf: ArrayBufferLike;
  private f32v: Float32Array;
  private i32v: Int32Array;
  private f64v: Float64Array;

  /**
   * @param module the compiled kernel module (its memory import must match `memory`).
   * @param memory the memory to instantiate over.
   * @param maxBytes the most the memory may grow to.
   */
  private constructor(readonly module: WasmModule, readonly memory: WasmMemory, private readonly maxBytes: number) {
    this.exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
    this.buf = memory.buffer;
    this.shared = typeof SharedArrayBuffer !== "undefined" && this.buf instanceof SharedArrayBuffer;
    this.seen.add(this.buf);
    this.f32v = new Float32Array(this.buf);
    this.i32v = new Int32Array(this.buf);
    this.f64v = new Float64Array(this.buf);
  }

  /**
   * Instantiates `module` over `memory`.
   *
   * @throws {WebAssembly.LinkError} when the memory does not match the module's import.
   * @example
   * ```ts
   * WasmArena.create(module, memory, 1 << 30);
   * ```
   */
  static create(module: WasmModule, memory: WasmMemory, maxBytes = 65536 * PAGE): WasmArena {
    return new WasmArena(module, memory, maxBytes);
  }

  /** Current size of the memory in bytes. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** End of the highest allocated block (bytes). */
  get top(): number {
    return this.list.top;
  }

  /** Bytes in live blocks. */
  get bytesInUse(): number {
    return this.list.bytesInUse;
  }

  /** Number of live blocks. */
  get blocks(): number {
    return this.list.count;
  }

  /** A float32 view of the whole memory (refreshed after growth). */
  get f32(): Float32Array {
    if (this.memory.buffer !== this.buf) this.refresh();
    return this.f32v;
  }

  /** An int32 view of the whole memory (refreshed after growth). */
  get i32(): Int32Array {
    if (this.memory.buffer !== this.buf) this.refresh();
    return this.i32v;
  }

  /** A float64 view of the whole memory (refreshed after growth). */
  get f64(): Float64Array {
    if (this.memory.buffer !== this.buf) this.refresh();
    return this.f64v;
  }

  /**
   * True when `x` is a view of this arena's memory (any buffer object it ever exposed).
   *
   * @throws never.
   * @example
   * ```ts
   * arena.owns(arena.view(p, 10)); // true
   * arena.owns(new Float32Array(10)); // false
   * ```
   */
  owns(x: ArrayBufferView): boolean {
    return this.seen.has(x.buffer);
  }

  /**
   * Allocates `bytes` (64-byte aligned), growing the memory when `grow` allows it; returns the
   * byte address, or -1 when the block does not fit and growing is not allowed or fails.
   *
   * @throws {RangeError} for a negative or non-integer size.
   * @example
   * ```ts
   * const p = arena.tryAlloc(4096, true);
   * ```
   */
  tryAlloc(bytes: number, grow: boolean): number {
    const at = this.list.alloc(bytes);
    if (this.list.top <= this.byteLength) return at;
    if (grow && this.growTo(this.list.top)) return at;
    this.list.free(at);
    return -1;
  }

  /**
   * Allocates `bytes`, growing the memory as needed.
   *
   * @throws {RangeError} when the memory cannot grow that far.
   * @example
   * ```ts
   * const p = arena.alloc(1 << 20);
   * ```
   */
  alloc(bytes: number): number {
    const at = this.tryAlloc(bytes, true);
    if (at < 0) throw new RangeError(`wasm: cannot grow memory to ${this.list.top + bytes} bytes`);
    return at;
  }

  /**
   * Frees the block at `addr`.
   *
   * @throws {RangeError} when no live block starts there.
   * @example
   * ```ts
   * arena.free(p);
   * ```
   */
  free(addr: number): void {
    this.list.free(addr);
  }

  /**
   * The address of a scratch block of at least `bytes` for `purpose`, kept and reused by later
   * calls; a larger request replaces it with one `slack` times larger (rounded up to 4 KiB).
   *
   * @throws {RangeError} when the memory cannot grow that far.
   * @example
   * ```ts
   * const at = arena.scratch("gemm", 1 << 20);
   * ```
   */
  scratch(purpose: string, bytes: number, slack = 1.25): number {
    const have = this.scratchBlocks.get(purpose);
    if (have && have.bytes >= bytes) return have.addr;
    if (have) this.free(have.addr);
    this.scratchBlocks.delete(purpose);
    const size = Math.ceil((bytes * slack) / 4096) * 4096;
    const addr = this.alloc(size);
    this.scratchBlocks.set(purpose, { addr, bytes: size });
    return addr;
  }

  /**
   * Size in bytes of the live block at `addr`, or `undefined`.
   *
   * @throws never.
   * @example
   * ```ts
   * arena.sizeOf(arena.alloc(1000)); // 1024 (64-byte blocks)
   * ```
   */
  sizeOf(addr: number): number | undefined {
    return this.list.sizeOf(addr);
  }

  /**
   * A `Float32Array` of `length` floats at byte `addr` of the current buffer.
   *
   * @throws {RangeError} (from the `Float32Array` constructor) when `addr` is not a multiple of 4
   * or the range reaches past the memory's end.
   * @example
   * ```ts
   * const x = arena.view(arena.alloc(40), 10);
   * ```
   */
  view(addr: number, length: number): Float32Array {
    if (this.memory.buffer !== this.buf) this.refresh();
    return new Float32Array(this.buf, addr, length);
  }

  /**
   * Grows the memory to at least `bytes` (by at least 1 MiB, or doubling up to +256 MiB).
   * Returns false when the engine refuses or `bytes` exceeds the maximum.
   *
   * @throws never (a refused growth returns false).
   * @example
   * ```ts
   * arena.growTo(64 << 20);
   * ```
   */
  growTo(bytes: number): boolean {
    const have = this.byteLength;
    if (bytes <= have) return true;
    if (bytes > this.maxBytes) return false;
    const want = Math.min(this.maxBytes, Math.max(bytes, have + MIN_GROW, Math.min(2 * have, have + 4096 * PAGE)));
    try {
      this.memory.grow(Math.ceil((want - have) / PAGE));
    } catch {
      try {
        this.memory.grow(Math.ceil((bytes - have) / PAGE));
      } catch {
        return false;
      }
    }
    this.refresh();
    return true;
  }

  private refresh(): void {
    this.buf = this.memory.buffer;
    this.seen.add(this.buf);
    this.f32v = new Float32Array(this.buf);
    this.i32v = new Int32Array(this.buf);
    this.f64v = new Float64Array(this.buf);
  }
}
