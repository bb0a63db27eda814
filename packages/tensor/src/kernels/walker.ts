/**
 * @file Strided N-d iteration without per-element work: the shared engine behind every
 * elementwise kernel, copy and reduction.
 *
 * Given a logical shape and, for each operand, its strides (0 on broadcast dimensions) and start
 * offset, {@link makeWalker} drops size-1 dimensions and merges neighbouring dimensions that are
 * laid out contiguously for *every* operand, then exposes the result as a sequence of "rows": the
 * innermost dimension, walked by a tight loop in the caller with one stride per operand. A
 * contiguous tensor therefore becomes a single row, whatever its rank.
 */
import { contiguousStrides } from "../shape.js";

/**
 * Iterates rows of a strided N-d index space; see the file comment. Build one with
 * {@link makeWalker}.
 *
 * @throws never (neither construction nor `next()` checks or throws).
 * @example
 * ```ts
 * const w = makeWalker([2, 3], [[1, 2]], [0]); // a transposed [3,2] buffer: 2 rows of 3
 * for (let r = 0; r < w.rows; r++, w.next()) console.log(w.offsets[0], w.rowStrides[0]); // 0 2, then 1 2
 * ```
 */
export class RowWalker {
  /** Number of rows. */
  readonly rows: number;
  /** Length of every row. */
  readonly n: number;
  /** Stride of each operand along the row. */
  readonly rowStrides: number[];
  /** Start offset of the current row, per operand (updated by {@link RowWalker.next}). */
  readonly offsets: number[];
  private readonly k: number;
  private readonly outerShape: number[];
  private readonly outerStrides: number[];
  private readonly counters: Int32Array;

  constructor(n: number, rows: number, rowStrides: number[], offsets: number[], outerShape: number[], outerStrides: number[]) {
    this.n = n;
    this.rows = rows;
    this.rowStrides = rowStrides;
    this.offsets = offsets;
    this.k = offsets.length;
    this.outerShape = outerShape;
    this.outerStrides = outerStrides;
    this.counters = new Int32Array(outerShape.length);
  }

  /**
   * Advances `offsets` to the next row (odometer order, last outer dimension fastest).
   *
   * @throws never.
   * @example
   * ```ts
   * for (let r = 0; r < w.rows; r++, w.next()) kernel(w.offsets[0]!, w.rowStrides[0]!, w.n);
   * ```
   */
  next(): void {
    this.advance(this.outerShape.length - 1);
  }

  /**
   * Rows per block: the size of the last outer dimension (1 when there is none). A block is `m`
   * rows `blockStrides[j]` apart, so a 2-D kernel can take a whole block per call.
   *
   * @throws never.
   * @example
   * ```ts
   * for (let b = 0; b < w.blocks; b++, w.nextBlock()) kernel2d(w.offsets, w.rowStrides, w.blockStrides, w.n, w.m);
   * ```
   */
  get m(): number {
    const d = this.outerShape.length;
    return d === 0 ? 1 : this.outerShape[d - 1]!;
  }

  /** Number of blocks (`rows / m`). @throws never. @example `w.blocks` */
  get blocks(): number {
    return this.rows === 0 ? 0 : this.rows / this.m;
  }

  /** Per operand: the distance between consecutive rows of a block (0 when `m` is 1). @throws never. @example `w.blockStrides[0]` */
  get blockStrides(): number[] {
    const d = this.outerShape.length;
    if (d === 0) return new Array<number>(this.k).fill(0);
    return this.outerStrides.slice((d - 1) * this.k, d * this.k);
  }

  /** Advances `offsets` to the first row of the next block. @throws never. @example `w.nextBlock()` */
  nextBlock(): void {
    this.advance(this.outerShape.length - 2);
  }

  private advance(from: number): void {
    const k = this.k;
    const off = this.offsets;
    const c = this.counters;
    const shape = this.outerShape;
    const st = this.outerStrides;
    for (let d = from; d >= 0; d--) {
      const base = d * k;
      if (++c[d]! < shape[d]!) {
        for (let j = 0; j < k; j++) off[j]! += st[base + j]!;
        return;
      }
      c[d] = 0;
      const back = shape[d]! - 1;
      for (let j = 0; j < k; j++) off[j]! -= st[base + j]! * back;
    }
  }
}

/**
 * Builds a {@link RowWalker} over `shape` for operands with the given strides and offsets.
 * `strides[j]` must have `shape.length` entries (use 0 for broadcast dimensions).
 *
 * @throws never (the stride lists are not checked).
 * @example
 * ```ts
 * const w = makeWalker([2, 3], [[3, 1], [0, 1]], [0, 0]); // a [2,3] and a broadcast [3]
 * for (let r = 0; r < w.rows; r++, w.next()) {
 *   // row r: w.n elements, operand j starts at w.offsets[j] with stride w.rowStrides[j]
 * }
 * ```
 */
export function makeWalker(shape: readonly number[], strides: readonly (readonly number[])[], offsets: readonly number[]): RowWalker {
  const k = strides.length;
  const dims: number[] = [];
  const st: number[][] = [];
  let size = 1;
  for (let d = 0; d < shape.length; d++) {
    size *= shape[d]!;
    if (shape[d] === 1) continue;
    dims.push(shape[d]!);
    st.push(strides.map((s) => s[d]!));
  }
  if (size === 0) return new RowWalker(0, 0, new Array<number>(k).fill(0), Array.from(offsets), [], []);
  // Merge dimension d into d+1 when every operand steps contiguously across them.
  const mDims: number[] = [];
  const mSt: number[][] = [];
  for (let d = 0; d < dims.length; d++) {
    const last = mDims.length - 1;
    if (last >= 0) {
      const inner = dims[d]!;
      const prev = mSt[last]!;
      const cur = st[d]!;
      let ok = true;
      for (let j = 0; j < k; j++) if (prev[j] !== cur[j]! * inner) { ok = false; break; }
      if (ok) {
        mDims[last] = mDims[last]! * inner;
        mSt[last] = cur.slice();
        continue;
      }
    }
    mDims.push(dims[d]!);
    mSt.push(st[d]!.slice());
  }
  if (mDims.length === 0) return new RowWalker(1, 1, new Array<number>(k).fill(0), Array.from(offsets), [], []);
  const nd = mDims.length;
  const n = mDims[nd - 1]!;
  const rowStrides = mSt[nd - 1]!;
  const outerShape = mDims.slice(0, nd - 1);
  const outerStrides: number[] = [];
  for (let d = 0; d < nd - 1; d++) for (let j = 0; j < k; j++) outerStrides.push(mSt[d]![j]!);
  return new RowWalker(n, size / n, rowStrides, Array.from(offsets), outerShape, outerStrides);
}

/**
 * Strides of an operand of shape `shape` (with `strides`) broadcast to `outShape`: leading
 * dimensions are added with stride 0, and size-1 dimensions get stride 0.
 *
 * @throws never (`shape` is assumed to broadcast to `outShape`; it is not checked).
 * @example
 * ```ts
 * broadcastStrides([4], [1], [3, 4]); // [0, 1]
 * ```
 */
export function broadcastStrides(shape: readonly number[], strides: readonly number[], outShape: readonly number[]): number[] {
  const nd = outShape.length;
  const lead = nd - shape.length;
  const out = new Array<number>(nd).fill(0);
  for (let i = 0; i < shape.length; i++) out[lead + i] = shape[i] === 1 ? 0 : strides[i]!;
  return out;
}

/**
 * Copies a strided view into a contiguous destination, in row-major order of `shape`.
 *
 * @throws {RangeError} (from `Float32Array.set`) when `dst` has no room for a row of 64 or more
 * unit-stride elements; never when `dst` holds `shapeSize(shape)` floats from `dstOffset`
 * (writes past the end of shorter rows are silently dropped).
 * @example
 * ```ts
 * stridedCopy(src, [2, 3], [1, 2], 0, dst, 0); // transpose-copy a [3,2] buffer
 * ```
 */
export function stridedCopy(
  src: Float32Array,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
  dst: Float32Array,
  dstOffset: number,
): void {
  const w = makeWalker(shape, [strides, contiguousStrides(shape)], [offset, dstOffset]);
  const n = w.n;
  const ss = w.rowStrides[0]!;
  const off = w.offsets;
  for (let r = 0; r < w.rows; r++) {
    let i = off[0]!;
    let o = off[1]!;
    if (ss === 1 && n >= 64) dst.set(src.subarray(i, i + n), o);
    else for (let e = 0; e < n; e++, i += ss) dst[o++] = src[i]!;
    w.next();
  }
}
