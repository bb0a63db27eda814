/**
 * @file The row kernel of reductions: one strided row of input folded into a float64
 * accumulator, either into one output (`so = 0`: a reduced inner dimension) or into a row of
 * outputs (`so ≠ 0`: a kept inner dimension). One tight loop per kind, chosen outside the loop.
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

/**
 * Folds `n` elements `d[ix + k·sx]` into `acc[io + k·so]` (for `so = 0`, all into `acc[io]`);
 * `center` is read at the same output index (SQDEV and EXPSUM only). MAX and MIN let NaN win.
 *
 * @throws never.
 * @example
 * ```ts
 * reduceRow(ReduceKind.SUM, x, 0, 1, acc, 0, 0, n, EMPTY); // acc[0] += Σ x
 * ```
 */
export function reduceRow(kind: ReduceKind, d: Float32Array, ix: number, sx: number, acc: Float64Array, io: number, so: number, n: number, center: Float64Array): void {
  if (so === 0) {
    let a = acc[io]!;
    switch (kind) {
      case SUM: for (let k = 0; k < n; k++, ix += sx) a += d[ix]!; break;
      case PROD: for (let k = 0; k < n; k++, ix += sx) a *= d[ix]!; break;
      case MAX: for (let k = 0; k < n; k++, ix += sx) { const v = d[ix]!; if (v > a || v !== v) a = v; } break;
      case MIN: for (let k = 0; k < n; k++, ix += sx) { const v = d[ix]!; if (v < a || v !== v) a = v; } break;
      case SQDEV: { const c = center[io]!; for (let k = 0; k < n; k++, ix += sx) { const v = d[ix]! - c; a += v * v; } break; }
      case EXPSUM: { const c = center[io]!; for (let k = 0; k < n; k++, ix += sx) a += Math.exp(d[ix]! - c); break; }
    }
    acc[io] = a;
    return;
  }
  switch (kind) {
    case SUM: for (let k = 0; k < n; k++, ix += sx, io += so) acc[io]! += d[ix]!; break;
    case PROD: for (let k = 0; k < n; k++, ix += sx, io += so) acc[io]! *= d[ix]!; break;
    case MAX: for (let k = 0; k < n; k++, ix += sx, io += so) { const v = d[ix]!; const a = acc[io]!; if (v > a || v !== v) acc[io] = v; } break;
    case MIN: for (let k = 0; k < n; k++, ix += sx, io += so) { const v = d[ix]!; const a = acc[io]!; if (v < a || v !== v) acc[io] = v; } break;
    case SQDEV: for (let k = 0; k < n; k++, ix += sx, io += so) { const v = d[ix]! - center[io]!; acc[io]! += v * v; } break;
    case EXPSUM: for (let k = 0; k < n; k++, ix += sx, io += so) acc[io]! += Math.exp(d[ix]! - center[io]!); break;
  }
}
