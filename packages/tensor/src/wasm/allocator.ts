/**
 * @file A first-fit free-list allocator over a linear address range (wasm memory): blocks are
 * 64-byte aligned (a cache line, a multiple of the SIMD width), free neighbours are coalesced,
 * and a free block at the top lowers the top again. It only does bookkeeping; growing the memory
 * is the caller's job (`top` says how far the used range reaches).
 *
 * Training allocates a fixed set of long-lived buffers plus a GEMM scratch area that grows a few
 * times, so the lists stay short and O(blocks) operations are fine.
 */

/**
 * Alignment and granularity of blocks, in bytes.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * new FreeList(0).alloc(1); // reserves one BLOCK_ALIGN (64-byte) block
 * ```
 */
export const BLOCK_ALIGN = 64;

/**
 * Bookkeeping for a heap starting at `base`.
 *
 * @throws never when constructed; `alloc` and `free` throw `RangeError` for a bad size or address.
 * @example
 * ```ts
 * const a = new FreeList(64);
 * const p = a.alloc(1000); // 64
 * a.free(p);
 * ```
 */
export class FreeList {
  /** End of the highest allocated block (bytes). */
  private topAddr: number;
  /** Free blocks below `top`, sorted by address: [address, size] pairs. */
  private readonly holes: number[] = [];
  /** Size of every live block by address. */
  private readonly live = new Map<number, number>();
  private usedBytes = 0;

  /**
   * @param base first usable address (rounded up to {@link BLOCK_ALIGN}).
   * @throws never (`base` is not checked).
   * @example
   * ```ts
   * const list = new FreeList(64); // keep address 0 (null) unused
   * ```
   */
  constructor(base: number) {
    this.topAddr = roundBlock(base);
  }

  /** End of the highest allocated block: the memory must be at least this large. */
  get top(): number {
    return this.topAddr;
  }

  /** Bytes in live blocks (after rounding). */
  get bytesInUse(): number {
    return this.usedBytes;
  }

  /** Number of live blocks. */
  get count(): number {
    return this.live.size;
  }

  /**
   * Reserves `bytes` (rounded up to a multiple of 64, at least 64) and returns the address.
   * First fit among the holes, else at the top (which may then exceed the memory: grow it).
   *
   * @throws {RangeError} for a negative or non-integer size.
   * @example
   * ```ts
   * const p = list.alloc(4 * n);
   * ```
   */
  alloc(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`internal: FreeList.alloc of ${bytes} bytes`);
    const size = Math.max(BLOCK_ALIGN, roundBlock(bytes));
    const h = this.holes;
    for (let i = 0; i < h.length; i += 2) {
      const at = h[i]!, len = h[i + 1]!;
      if (len < size) continue;
      if (len === size) h.splice(i, 2);
      else {
        h[i] = at + size;
        h[i + 1] = len - size;
      }
      return this.take(at, size);
    }
    const at = this.topAddr;
    this.topAddr += size;
    return this.take(at, size);
  }

  /**
   * Size of the live block at `addr`, or `undefined` when no block starts there.
   *
   * @throws never.
   * @example
   * ```ts
   * list.sizeOf(p); // 1024
   * ```
   */
  sizeOf(addr: number): number | undefined {
    return this.live.get(addr);
  }

  /**
   * Frees the block at `addr` and coalesces it with free neighbours (or the top).
   *
   * @throws {RangeError} when no live block starts at `addr` (double free, foreign address).
   * @example
   * ```ts
   * list.free(p);
   * ```
   */
  free(addr: number): void {
    const size = this.live.get(addr);
    if (size === undefined) throw new RangeError(`heap: no live allocation at byte ${addr} (freed twice, or not allocated here)`);
    this.live.delete(addr);
    this.usedBytes -= size;
    const h = this.holes;
    let i = 0;
    while (i < h.length && h[i]! < addr) i += 2;
    let start = addr, len = size;
    // merge with the hole before and the hole after
    if (i > 0 && h[i - 2]! + h[i - 1]! === start) {
      i -= 2;
      start = h[i]!;
      len += h[i + 1]!;
      h.splice(i, 2);
    }
    if (i < h.length && start + len === h[i]!) {
      len += h[i + 1]!;
      h.splice(i, 2);
    }
    if (start + len === this.topAddr) this.topAddr = start;
    else h.splice(i, 0, start, len);
  }

  private take(at: number, size: number): number {
    this.live.set(at, size);
    this.usedBytes += size;
    return at;
  }
}

function roundBlock(x: number): number {
  return Math.ceil(x / BLOCK_ALIGN) * BLOCK_ALIGN;
}
