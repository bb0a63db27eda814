/**
 * @file The sparse building blocks of the format: which elements are stored (a bitmask, LSB
 * first), gathering the stored values, building CSR row pointers and column indices from the
 * bitmask, and the inverse scatters used by the decoder (which validate the indices as they go).
 * Float32 values move as their 32-bit patterns (`Uint32Array` views), so every bit survives.
 */

/** Element arrays the gathers and scatters move: float32 bit patterns or 8-bit integers. */
export type Lanes = Uint32Array | Int8Array | Uint8Array;
/** Unsigned index arrays of the CSR sections. */
export type IndexArray = Uint8Array | Uint16Array | Uint32Array;

/**
 * The bitmask of the float32 elements to store and their count: every element whose bit pattern
 * is not `+0` (`signedZeros`), or not `±0` (`!signedZeros`). NaN is always stored.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * floatStoredMask(new Float32Array([0, 2, -0, 0]), true); // { mask: [0b0110], nnz: 2 }
 * ```
 */
export function floatStoredMask(data: Float32Array, signedZeros: boolean): { mask: Uint8Array; nnz: number } {
  const n = data.length;
  const bits = new Uint32Array(data.buffer, data.byteOffset, n);
  const keep = signedZeros ? 0xffffffff : 0x7fffffff;
  const mask = new Uint8Array((n + 7) >>> 3);
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    if ((bits[i]! & keep) !== 0) {
      mask[i >>> 3] |= 1 << (i & 7);
      nnz++;
    }
  }
  return { mask, nnz };
}

/**
 * The bitmask of the 8-bit elements that differ from their channel's zero point (per tensor:
 * `zeroPoints[0]`; per channel along `axis`: `zeroPoints[c]`) and their count.
 *
 * @throws Never throws (the caller validated shapes and lengths).
 * @example
 * ```ts
 * int8StoredMask(new Int8Array([0, 3, 0, 0]), [4], null, [0]); // { mask: [0b0010], nnz: 1 }
 * ```
 */
export function int8StoredMask(data: Int8Array | Uint8Array, shape: readonly number[], axis: number | null, zeroPoints: ArrayLike<number>): { mask: Uint8Array; nnz: number } {
  const n = data.length;
  const mask = new Uint8Array((n + 7) >>> 3);
  const [outer, channels, inner] = channelDims(shape, axis);
  let nnz = 0;
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const zp = zeroPoints[axis === null ? 0 : c]!;
      for (let k = 0; k < inner; k++, i++) {
        if (data[i] !== zp) {
          mask[i >>> 3] |= 1 << (i & 7);
          nnz++;
        }
      }
    }
  }
  return { mask, nnz };
}

/**
 * `[outer, channels, inner]` sizes around the channel axis (`axis` null: one channel, everything
 * inner), so that element `i = (o·channels + c)·inner + k` belongs to channel `c`.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * channelDims([4, 3, 2], 1); // [4, 3, 2]
 * ```
 */
export function channelDims(shape: readonly number[], axis: number | null): [outer: number, channels: number, inner: number] {
  let size = 1;
  for (const d of shape) size *= d;
  if (axis === null) return [1, 1, size];
  let outer = 1, inner = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d]!;
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d]!;
  return [outer, shape[axis]!, inner];
}

/**
 * Copies the elements of `src` whose mask bit is set, in order, into `dst` (which has room for
 * them). Zero bytes of the mask are skipped whole, so very sparse tensors are fast.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * gatherMasked(bits, mask, new Uint32Array(nnz));
 * ```
 */
export function gatherMasked(src: Lanes, mask: Uint8Array, dst: Lanes): void {
  let k = 0;
  for (let b = 0; b < mask.length; b++) {
    let m = mask[b]!;
    const base = b << 3;
    while (m !== 0) {
      const low = m & -m;
      dst[k++] = src[base + 31 - Math.clz32(low)]!;
      m ^= low;
    }
  }
}

/**
 * Writes the CSR row pointers (`rows + 1`) and column indices (one per set bit) of `mask` over
 * a `[rows, cols]` view.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * csrFromMask(mask, rows, cols, new Uint16Array(rows + 1), new Uint8Array(nnz));
 * ```
 */
export function csrFromMask(mask: Uint8Array, rows: number, cols: number, rowPtr: IndexArray, colIdx: IndexArray): void {
  let k = 0;
  let r = 0;
  let rowStart = 0;
  rowPtr[0] = 0;
  for (let b = 0; b < mask.length; b++) {
    let m = mask[b]!;
    const base = b << 3;
    while (m !== 0) {
      const low = m & -m;
      const i = base + 31 - Math.clz32(low);
      m ^= low;
      while (i >= rowStart + cols) {
        rowPtr[++r] = k;
        rowStart += cols;
      }
      colIdx[k++] = i - rowStart;
    }
  }
  while (r < rows) rowPtr[++r] = k;
}

/**
 * Inverse of {@link gatherMasked}: puts `values[k]` at the position of the k-th set bit of `mask`
 * in `dst` (other positions untouched). Checks that `mask` has exactly `values.length` set bits
 * and no bits past `n`, else throws with `what` in the message.
 *
 * @throws {Error} `"<what>: bitmask has ... set bits, header says ..."` for an inconsistent mask.
 * @example
 * ```ts
 * scatterMasked(values, mask, out, n, "decodeModel: tensor \"fc1.weight\"");
 * ```
 */
export function scatterMasked(values: Lanes, mask: Uint8Array, dst: Lanes, n: number, what: string): void {
  const nnz = values.length;
  let count = 0;
  for (let b = 0; b < mask.length; b++) {
    let m = mask[b]!;
    count += popcount8(m);
    if (count > nnz) throw new Error(`${what}: bitmask has more than ${nnz} set bits, the header says ${nnz} stored values`);
    const base = b << 3;
    while (m !== 0) {
      const low = m & -m;
      const i = base + 31 - Math.clz32(low);
      if (i >= n) throw new Error(`${what}: bitmask marks element ${i} but the tensor has ${n} elements`);
      dst[i] = values[count - popcount8(m)]!;
      m ^= low;
    }
  }
  if (count !== nnz) throw new Error(`${what}: bitmask has ${count} set bits, the header says ${nnz} stored values`);
}

/**
 * Inverse of {@link csrFromMask} plus the gather: puts `values[k]` at row `r`, column
 * `colIdx[k]` of the `[rows, cols]` view of `dst`. Validates as it goes: `rowPtr[0] = 0`,
 * non-decreasing, `rowPtr[rows] = values.length`, column indices below `cols` and strictly
 * increasing within a row.
 *
 * @throws {Error} naming `what` and the offending row/index for any violation.
 * @example
 * ```ts
 * scatterCsr(rowPtr, colIdx, values, rows, cols, out, "decodeModel: tensor \"fc1.weight\"");
 * ```
 */
export function scatterCsr(rowPtr: IndexArray, colIdx: IndexArray, values: Lanes, rows: number, cols: number, dst: Lanes, what: string): void {
  const nnz = values.length;
  if (rowPtr[0] !== 0) throw new Error(`${what}: CSR row pointer 0 is ${rowPtr[0]}, expected 0`);
  if (rowPtr[rows] !== nnz) throw new Error(`${what}: CSR row pointer ${rows} is ${rowPtr[rows]}, expected ${nnz} (the stored values)`);
  for (let r = 0; r < rows; r++) {
    const start = rowPtr[r]!, end = rowPtr[r + 1]!;
    if (end < start || end > nnz) throw new Error(`${what}: CSR row pointers of row ${r} go from ${start} to ${end} (must be non-decreasing and at most ${nnz})`);
    let prev = -1;
    const base = r * cols;
    for (let k = start; k < end; k++) {
      const c = colIdx[k]!;
      if (c >= cols || c <= prev) throw new Error(`${what}: CSR column index ${c} at position ${k} (row ${r}) is ${c >= cols ? `not below ${cols} columns` : `not above the previous ${prev}`}`);
      dst[base + c] = values[k]!;
      prev = c;
    }
  }
}

/** Number of set bits of a byte. */
function popcount8(m: number): number {
  m = m - ((m >>> 1) & 0x55);
  m = (m & 0x33) + ((m >>> 2) & 0x33);
  return (m + (m >>> 4)) & 0x0f;
}
