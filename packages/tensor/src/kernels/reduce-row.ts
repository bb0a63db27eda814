/**
 * @file The row kernel of reductions: one strided row of input folded into a float64
 * accumulator, either into one output (`so = 0`: a reduced inner dimension) or into a row of
 * outputs (`so ≠ 0`: a kept inner dimension). One small function per kind and case (V8 compiles
 * a tight loop in a small function several times faster than inside a large one).
 *
 * Fold order (`so = 0`), the same in every backend (the wasm set's `reduce-kernel.ts` folds two
 * float64 lanes per SIMD register in exactly this order): element `k` of the row goes to lane
 * `k mod 4`, the lanes are combined as `(l0 ∘ l1) ∘ (l2 ∘ l3)`, and that into the accumulator.
 * Four independent chains also run about four times faster than one.
 */

/**
 * Reduction kinds. `SQDEV` sums `(x − center)²`, `EXPSUM` sums `exp(x − center)`.
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * const acc = new Float64Array(1);
 * kernels().reduceRow(ReduceKind.SUM, Float32Array.of(1, 2, 3), 0, 1, acc, 0, 0, 3, acc); // acc[0] === 6
 * ```
 */
export const ReduceKind = { SUM: 0, PROD: 1, MAX: 2, MIN: 3, SQDEV: 4, EXPSUM: 5 } as const;
/** A reduction kind. */
export type ReduceKind = (typeof ReduceKind)[keyof typeof ReduceKind];

const { SUM, PROD, MAX, MIN, SQDEV, EXPSUM } = ReduceKind;

/** `a` or `b`, whichever MAX keeps: `b` when `b > a` or `b` is NaN (so NaN wins). */
const maxOf = (a: number, b: number) => (b > a || b !== b ? b : a);
/** `a` or `b`, whichever MIN keeps: `b` when `b < a` or `b` is NaN. */
const minOf = (a: number, b: number) => (b < a || b !== b ? b : a);

/**
 * Combines two partial results of `kind` (the lane and accumulator step of the fold order).
 *
 * @throws never.
 * @example
 * ```ts
 * combine(ReduceKind.SUM, 1, 2); // 3
 * ```
 */
export function combine(kind: ReduceKind, a: number, b: number): number {
  return kind === PROD ? a * b : kind === MAX ? maxOf(a, b) : kind === MIN ? minOf(a, b) : a + b;
}

function foldSum(d: Float32Array, ix: number, sx: number, n: number): number {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, k = 0;
  for (; k + 4 <= n; k += 4, ix += 4 * sx) { a0 += d[ix]!; a1 += d[ix + sx]!; a2 += d[ix + 2 * sx]!; a3 += d[ix + 3 * sx]!; }
  if (k < n) a0 += d[ix]!;
  if (k + 1 < n) a1 += d[ix + sx]!;
  if (k + 2 < n) a2 += d[ix + 2 * sx]!;
  return a0 + a1 + (a2 + a3);
}
function foldProd(d: Float32Array, ix: number, sx: number, n: number): number {
  let a0 = 1, a1 = 1, a2 = 1, a3 = 1, k = 0;
  for (; k + 4 <= n; k += 4, ix += 4 * sx) { a0 *= d[ix]!; a1 *= d[ix + sx]!; a2 *= d[ix + 2 * sx]!; a3 *= d[ix + 3 * sx]!; }
  if (k < n) a0 *= d[ix]!;
  if (k + 1 < n) a1 *= d[ix + sx]!;
  if (k + 2 < n) a2 *= d[ix + 2 * sx]!;
  return a0 * a1 * (a2 * a3);
}
function foldMax(d: Float32Array, ix: number, sx: number, n: number): number {
  let a0 = -Infinity, a1 = -Infinity, a2 = -Infinity, a3 = -Infinity, k = 0;
  for (; k + 4 <= n; k += 4, ix += 4 * sx) { a0 = maxOf(a0, d[ix]!); a1 = maxOf(a1, d[ix + sx]!); a2 = maxOf(a2, d[ix + 2 * sx]!); a3 = maxOf(a3, d[ix + 3 * sx]!); }
  if (k < n) a0 = maxOf(a0, d[ix]!);
  if (k + 1 < n) a1 = maxOf(a1, d[ix + sx]!);
  if (k + 2 < n) a2 = maxOf(a2, d[ix + 2 * sx]!);
  return maxOf(maxOf(a0, a1), maxOf(a2, a3));
}
function foldMin(d: Float32Array, ix: number, sx: number, n: number): number {
  let a0 = Infinity, a1 = Infinity, a2 = Infinity, a3 = Infinity, k = 0;
  for (; k + 4 <= n; k += 4, ix += 4 * sx) { a0 = minOf(a0, d[ix]!); a1 = minOf(a1, d[ix + sx]!); a2 = minOf(a2, d[ix + 2 * sx]!); a3 = minOf(a3, d[ix + 3 * sx]!); }
  if (k < n) a0 = minOf(a0, d[ix]!);
  if (k + 1 < n) a1 = minOf(a1, d[ix + sx]!);
  if (k + 2 < n) a2 = minOf(a2, d[ix + 2 * sx]!);
  return minOf(minOf(a0, a1), minOf(a2, a3));
}
function foldSqdev(d: Float32Array, ix: number, sx: number, n: number, c: number): number {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, k = 0;
  for (; k + 4 <= n; k += 4, ix += 4 * sx) {
    const v0 = d[ix]! - c, v1 = d[ix + sx]! - c, v2 = d[ix + 2 * sx]! - c, v3 = d[ix + 3 * sx]! - c;
    a0 += v0 * v0; a1 += v1 * v1; a2 += v2 * v2; a3 += v3 * v3;
  }
  if (k < n) { const v = d[ix]! - c; a0 += v * v; }
  if (k + 1 < n) { const v = d[ix + sx]! - c; a1 += v * v; }
  if (k + 2 < n) { const v = d[ix + 2 * sx]! - c; a2 += v * v; }
  return a0 + a1 + (a2 + a3);
}
function foldExpsum(d: Float32Array, ix: number, sx: number, n: number, c: number): number {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, k = 0;
  for (; k + 4 <= n; k += 4, ix += 4 * sx) { a0 += Math.exp(d[ix]! - c); a1 += Math.exp(d[ix + sx]! - c); a2 += Math.exp(d[ix + 2 * sx]! - c); a3 += Math.exp(d[ix + 3 * sx]! - c); }
  if (k < n) a0 += Math.exp(d[ix]! - c);
  if (k + 1 < n) a1 += Math.exp(d[ix + sx]! - c);
  if (k + 2 < n) a2 += Math.exp(d[ix + 2 * sx]! - c);
  return a0 + a1 + (a2 + a3);
}

/**
 * Folds one row of `kind` (see the file comment for the order); `c` is the center of SQDEV and
 * EXPSUM.
 *
 * @throws never.
 * @example
 * ```ts
 * foldRow(ReduceKind.SUM, Float32Array.of(1, 2, 3), 0, 1, 3, 0); // 6
 * ```
 */
export function foldRow(kind: ReduceKind, d: Float32Array, ix: number, sx: number, n: number, c: number): number {
  switch (kind) {
    case SUM: return foldSum(d, ix, sx, n);
    case PROD: return foldProd(d, ix, sx, n);
    case MAX: return foldMax(d, ix, sx, n);
    case MIN: return foldMin(d, ix, sx, n);
    case SQDEV: return foldSqdev(d, ix, sx, n, c);
    default: return foldExpsum(d, ix, sx, n, c);
  }
}

function addRow(d: Float32Array, ix: number, sx: number, acc: Float64Array, io: number, so: number, n: number): void {
  for (let k = 0; k < n; k++, ix += sx, io += so) acc[io]! += d[ix]!;
}
function mulRow(d: Float32Array, ix: number, sx: number, acc: Float64Array, io: number, so: number, n: number): void {
  for (let k = 0; k < n; k++, ix += sx, io += so) acc[io]! *= d[ix]!;
}
function maxRow(d: Float32Array, ix: number, sx: number, acc: Float64Array, io: number, so: number, n: number): void {
  for (let k = 0; k < n; k++, ix += sx, io += so) acc[io] = maxOf(acc[io]!, d[ix]!);
}
function minRow(d: Float32Array, ix: number, sx: number, acc: Float64Array, io: number, so: number, n: number): void {
  for (let k = 0; k < n; k++, ix += sx, io += so) acc[io] = minOf(acc[io]!, d[ix]!);
}
function sqdevRow(d: Float32Array, ix: number, sx: number, acc: Float64Array, io: number, so: number, n: number, center: Float64Array): void {
  for (let k = 0; k < n; k++, ix += sx, io += so) { const v = d[ix]! - center[io]!; acc[io]! += v * v; }
}
function expsumRow(d: Float32Array, ix: number, sx: number, acc: Float64Array, io: number, so: number, n: number, center: Float64Array): void {
  for (let k = 0; k < n; k++, ix += sx, io += so) acc[io]! += Math.exp(d[ix]! - center[io]!);
}

/**
 * Folds `n` elements `d[ix + k·sx]` into `acc[io + k·so]` (for `so = 0`, all into `acc[io]`, in
 * the fold order of the file comment); `center` is read at the same output index (SQDEV and
 * EXPSUM only). MAX and MIN let NaN win.
 *
 * @throws never.
 * @example
 * ```ts
 * reduceRow(ReduceKind.SUM, x, 0, 1, acc, 0, 0, n, EMPTY); // acc[0] += Σ x
 * ```
 */
export function reduceRow(kind: ReduceKind, d: Float32Array, ix: number, sx: number, acc: Float64Array, io: number, so: number, n: number, center: Float64Array): void {
  if (so === 0) {
    acc[io] = combine(kind, acc[io]!, foldRow(kind, d, ix, sx, n, kind === SQDEV || kind === EXPSUM ? center[io]! : 0));
    return;
  }
  switch (kind) {
    case SUM: return addRow(d, ix, sx, acc, io, so, n);
    case PROD: return mulRow(d, ix, sx, acc, io, so, n);
    case MAX: return maxRow(d, ix, sx, acc, io, so, n);
    case MIN: return minRow(d, ix, sx, acc, io, so, n);
    case SQDEV: return sqdevRow(d, ix, sx, acc, io, so, n, center);
    default: return expsumRow(d, ix, sx, acc, io, so, n, center);
  }
}
