/**
 * @file The pure TypeScript int8 GEMM over packed weights (the `js` backend's kernel, and the
 * wasm backend's fallback): `acc[b, o] = Σ_i (x[b, i] − zp)·w[o, i]` in exact integer arithmetic.
 *
 * Per row of `x`, the activations minus the zero point are written once into a reused `Int32Array`
 * (padded with a zero to an even length); then each 8-feature panel of the packed weights (see
 * `packed.ts`) is swept with 8 accumulators in locals. A k-pair contributes at most
 * `2·255·128 = 65280` in magnitude, so the float64 accumulators stay exact for any realistic
 * `inFeatures` (below 2⁵³ / 65280 ≈ 1.4·10¹¹ pairs); the final `| 0` wraps to int32 exactly as
 * the wasm kernel's i32 lanes do (only possible beyond 65,793 inputs of extreme values).
 */
import { INT8_NR, type PackedInt8 } from "./packed.js";

/** Activations minus the zero point of one row, reused across calls. */
let xs = new Int32Array(64);

/**
 * `acc[b·n + o] = Σ_i (x[b·K + i] − zp)·w[o, i]` for `b < batch`, `o < n` (`n = w.outFeatures`,
 * `K = w.inFeatures`), written to `out` (int32, row stride `n`). Arguments are not validated.
 *
 * @throws never for valid arguments.
 * @example
 * ```ts
 * gemmU8I8Ts(x, 128, batch, packed, packed.data(), out);
 * ```
 */
export function gemmU8I8Ts(x: Uint8Array, zp: number, batch: number, w: PackedInt8, data: Int16Array, out: Int32Array): void {
  const n = w.outFeatures, k = w.inFeatures, pairs = w.pairs, panels = w.panels;
  const panelLen = pairs * 2 * INT8_NR;
  if (xs.length < 2 * pairs) xs = new Int32Array(2 * pairs + 64);
  const a = xs;
  a[2 * pairs - 1] = 0; // the pad of an odd K (overwritten below when K is even)
  for (let b = 0; b < batch; b++) {
    const xo = b * k, oo = b * n;
    for (let i = 0; i < k; i++) a[i] = x[xo + i]! - zp;
    for (let p = 0; p < panels; p++) {
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0;
      let q = p * panelLen;
      for (let i = 0; i < 2 * pairs; i += 2, q += 16) {
        const x0 = a[i]!, x1 = a[i + 1]!;
        c0 += x0 * data[q]! + x1 * data[q + 1]!;
        c1 += x0 * data[q + 2]! + x1 * data[q + 3]!;
        c2 += x0 * data[q + 4]! + x1 * data[q + 5]!;
        c3 += x0 * data[q + 6]! + x1 * data[q + 7]!;
        c4 += x0 * data[q + 8]! + x1 * data[q + 9]!;
        c5 += x0 * data[q + 10]! + x1 * data[q + 11]!;
        c6 += x0 * data[q + 12]! + x1 * data[q + 13]!;
        c7 += x0 * data[q + 14]! + x1 * data[q + 15]!;
      }
      const o = p * INT8_NR, live = n - o;
      const at = oo + o;
      if (live >= INT8_NR) {
        out[at] = c0;
        out[at + 1] = c1;
        out[at + 2] = c2;
        out[at + 3] = c3;
        out[at + 4] = c4;
        out[at + 5] = c5;
        out[at + 6] = c6;
        out[at + 7] = c7;
      } else {
        // the last, partial panel: only its live features
        out[at] = c0;
        if (live > 1) out[at + 1] = c1;
        if (live > 2) out[at + 2] = c2;
        if (live > 3) out[at + 3] = c3;
        if (live > 4) out[at + 4] = c4;
        if (live > 5) out[at + 5] = c5;
        if (live > 6) out[at + 6] = c6;
      }
    }
  }
}
