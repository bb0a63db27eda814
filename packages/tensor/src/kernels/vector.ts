/**
 * @file The pure-TS vector kernels over lists of float32 arrays: the sum of squares (one fixed
 * summation order, shared with the wasm kernel in `wasm/vector-kernel.ts`, so every kernel set and
 * thread count gives the same bits) and scaling in place.
 */

/**
 * Floats per chunk of the sum of squares (also the piece size when threads split one).
 *
 * @throws never (a constant).
 * @example
 * ```ts
 * const pieces = Math.ceil(x.length / SUMSQ_CHUNK); // pieces of a threaded sum of squares
 * ```
 */
export const SUMSQ_CHUNK = 16384;

/**
 * `acc + Σx²` with exact float64 squares, in the order of `wasm/vector-kernel.ts`: chunks of
 * {@link SUMSQ_CHUNK} floats, each summed in 8 partial sums `((s0+s2)+(s4+s6)) + ((s1+s3)+(s5+s7))`
 * plus its last `len mod 8` squares in order, chunk sums added to `acc` in order.
 *
 * @throws never.
 * @example
 * ```ts
 * sumsqJs(Float32Array.of(1e20), 0); // 1e40 (float32 squares would overflow)
 * ```
 */
export function sumsqJs(x: Float32Array, acc: number): number {
  const n = x.length;
  for (let c = 0; c < n; c += SUMSQ_CHUNK) acc += chunkSumsq(x, c, Math.min(c + SUMSQ_CHUNK, n));
  return acc;
}

/** Σx² of `x[start .. end)` (one chunk). Kept short: see the NOTE in `linear.ts` on long first loops. */
function chunkSumsq(x: Float32Array, start: number, end: number): number {
  const vecEnd = start + ((end - start) & ~7);
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  let i = start;
  for (; i < vecEnd; i += 8) {
    const x0 = x[i]!, x1 = x[i + 1]!, x2 = x[i + 2]!, x3 = x[i + 3]!;
    const x4 = x[i + 4]!, x5 = x[i + 5]!, x6 = x[i + 6]!, x7 = x[i + 7]!;
    s0 += x0 * x0;
    s1 += x1 * x1;
    s2 += x2 * x2;
    s3 += x3 * x3;
    s4 += x4 * x4;
    s5 += x5 * x5;
    s6 += x6 * x6;
    s7 += x7 * x7;
  }
  let r = s0 + s2 + (s4 + s6) + (s1 + s3 + (s5 + s7));
  for (; i < end; i++) r += x[i]! * x[i]!;
  return r;
}

/**
 * `x ← fround(x·c)` in place (the float64 product rounded once, as `x[i] *= c` does).
 *
 * @throws never.
 * @example
 * ```ts
 * scaleJs(x, 0.5);
 * ```
 */
export function scaleJs(x: Float32Array, c: number): void {
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * c;
}

/**
 * Σx² over every array of `xs` (see {@link sumsqJs}).
 *
 * @throws never.
 * @example
 * ```ts
 * sumSquaresJs([Float32Array.of(3), Float32Array.of(4)]); // 25
 * ```
 */
export function sumSquaresJs(xs: readonly Float32Array[]): number {
  let acc = 0;
  for (const x of xs) acc = sumsqJs(x, acc);
  return acc;
}

/**
 * `x ← fround(x·c)` for every array of `xs`; `c = 1` is skipped (the identity, also for NaN and -0).
 *
 * @throws never.
 * @example
 * ```ts
 * scaleAllJs([g1, g2], 0.5);
 * ```
 */
export function scaleAllJs(xs: readonly Float32Array[], c: number): void {
  if (c === 1) return;
  for (const x of xs) scaleJs(x, c);
}
