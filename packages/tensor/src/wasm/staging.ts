/**
 * @file Copies between JS `Float32Array`s and wasm memory for the GEMM: staging operands that do
 * not live in wasm memory (or have no unit stride) into contiguous scratch, and moving blocks of
 * C in and out. Long runs use `TypedArray.set` (a memcpy); short ones a plain loop, which is
 * cheaper than creating a subarray. No allocation per element.
 */

/**
 * Copies `count` runs of `len` contiguous floats (run `r` starts at `at + r·step` in `src`) to
 * `dst` rows `o + r·ld`.
 *
 * @example
 * ```ts
 * stage(b, 0, n, k, n, mem, base, n); // k rows of row-major B, back to back
 * ```
 * @throws never.
 */
export function stage(src: Float32Array, at: number, step: number, count: number, len: number, dst: Float32Array, o: number, ld: number): void {
  if (step === len && ld === len && count > 1) {
    dst.set(src.subarray(at, at + count * len), o); // runs are back to back in both: one memcpy
    return;
  }
  for (let r = 0; r < count; r++, at += step, o += ld) {
    if (len >= 32) dst.set(src.subarray(at, at + len), o);
    else for (let i = 0; i < len; i++) dst[o + i] = src[at + i]!;
  }
}

/**
 * Copies a `rows × cols` matrix with arbitrary strides (`src[at + i·rs + j·cs]`) to row-major
 * `dst` starting at `o`.
 *
 * @example
 * ```ts
 * stageStrided(a, off, 2 * k, 2, m, k, mem, base); // every other element of every other row
 * ```
 * @throws never.
 */
export function stageStrided(src: Float32Array, at: number, rs: number, cs: number, rows: number, cols: number, dst: Float32Array, o: number): void {
  for (let i = 0; i < rows; i++, at += rs) {
    for (let j = 0, q = at; j < cols; j++, q += cs) dst[o++] = src[q]!;
  }
}

/**
 * Copies the `rows × cols` block at `at` (row stride `lds`) of `src` to `dst` at `o` (row stride
 * `ldd`): C into scratch before accumulating, and scratch back to C.
 *
 * @example
 * ```ts
 * copyBlock(c, cOff, ldc, m, n, mem, base, nPad);
 * ```
 * @throws never.
 */
export function copyBlock(src: Float32Array, at: number, lds: number, rows: number, cols: number, dst: Float32Array, o: number, ldd: number): void {
  if (rows <= 0 || cols <= 0) return;
  if (lds === cols && ldd === cols) return void dst.set(src.subarray(at, at + rows * cols), o);
  for (let i = 0; i < rows; i++, at += lds, o += ldd) {
    if (cols >= 16) dst.set(src.subarray(at, at + cols), o);
    else for (let j = 0; j < cols; j++) dst[o + j] = src[at + j]!;
  }
}

/**
 * `x` rounded up to a multiple of `to`.
 *
 * @example
 * ```ts
 * roundUp(10, 4); // 12
 * ```
 * @throws never.
 */
export function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}
