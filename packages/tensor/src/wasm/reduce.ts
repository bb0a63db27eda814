/**
 * @file The wasm kernel set's reduction row kernel: rows folded into one output (`so = 0`) that
 * are contiguous and long run the SIMD folds of `reduce-kernel.ts` — in place where the row lives
 * in wasm memory, through scratch in pieces otherwise — with the pure-TS kernel's fold order, so
 * the bits are the same; every other row (kept inner dimensions, strided rows, EXPSUM) uses the
 * pure-TS kernel.
 */
import { ReduceKind, combine, reduceRow } from "../kernels/reduce-row.js";
import { mainArena } from "./runtime.js";
import { placementArena } from "./placement.js";
import { FOLD_EXPORTS } from "./reduce-kernel.js";
import type { WasmArena } from "./arena.js";

/** Shorter rows use the pure-TS kernel (a call costs more than it saves). */
const FOLD_MIN = 64;
/** Floats per staged piece (a multiple of 4, so pieces keep the lane order). */
const STAGE = 16384;

function identity(kind: ReduceKind): number {
  return kind === ReduceKind.PROD ? 1 : kind === ReduceKind.MAX ? -Infinity : kind === ReduceKind.MIN ? Infinity : 0;
}

/**
 * The wasm set's `reduceRow` (same contract as `reduceRow` in `kernels/reduce-row.ts`).
 *
 * @throws {RangeError} when scratch memory cannot grow.
 * @example
 * ```ts
 * wasmReduceRow(ReduceKind.SUM, x, 0, 1, acc, 0, 0, x.length, acc); // acc[0] += Σ x
 * ```
 */
export function wasmReduceRow(kind: ReduceKind, d: Float32Array, ix: number, sx: number, acc: Float64Array, io: number, so: number, n: number, center: Float64Array): void {
  const name = FOLD_EXPORTS[kind];
  const placed = placementArena();
  if (so !== 0 || sx !== 1 || name === undefined || n < FOLD_MIN || !placed) return reduceRow(kind, d, ix, sx, acc, io, so, n, center);
  // a plain (non-shared) placement memory must not grow: scratch lives in the main arena then
  const ar: WasmArena = placed.shared ? placed : mainArena()!;
  const fold = ar.exports[name];
  const lanes = ar.scratch("fold-lanes", 32, 1), l = lanes >>> 3;
  const c = kind === ReduceKind.SQDEV ? center[io]! : 0;
  ar.f64.fill(identity(kind), l, l + 4);
  if (ar.owns(d)) fold(d.byteOffset + 4 * ix, n, c, lanes);
  else {
    const buf = ar.scratch("fold-stage", STAGE * 4, 1);
    for (let s = 0; s < n; s += STAGE) {
      const len = Math.min(STAGE, n - s);
      ar.f32.set(d.subarray(ix + s, ix + s + len), buf >>> 2);
      fold(buf, len, c, lanes);
    }
  }
  const f64 = ar.f64;
  acc[io] = combine(kind, acc[io]!, combine(kind, combine(kind, f64[l]!, f64[l + 1]!), combine(kind, f64[l + 2]!, f64[l + 3]!)));
}
