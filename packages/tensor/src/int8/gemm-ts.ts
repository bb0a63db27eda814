/**
 * @file The pure TypeScript int8 GEMM over packed weights (the `js` backend's kernel, and the
 * wasm backend's fallback): `acc[b, o] = Σ_i (x[b, i] − zp)·w[o, i]` in exact integer arithmetic.
 *
 * The products of one K panel (256 inputs) are summed in float64, exactly: a product is at most
 * 255·128 in magnitude, so a panel's sum stays far below 2⁵³. Each panel's sum is added into the
 * `Int32Array` result, whose stores wrap to int32 exactly as the wasm kernel's i32 lanes do (a
 * wrap needs more than 65,793 inputs of extreme values). The direct loop of tiny products and of
 * fewer than 3 rows sums the whole K in float64, which is exact up to about 10¹¹ inputs.
 *
 * The float64 buffers (about 1.2 MiB, as for `gemmTs`) are allocated once at module load.
 */
import { INT8_NR, type PackedInt8 } from "./packed.js";

/** Rows of the register tile (rows of x per packed micro-panel). */
const MR = 3;
/** Columns of the register tile (output features per packed micro-panel). */
const NR = 2;
/** K panel depth (inputs): a panel's float64 sums of integer products stay exact. */
const KC = 256;
/** Rows of x per packed block (a multiple of MR). */
const MC = 96;
/** Output features per packed panel (a multiple of NR and of 8). */
const NC = 512;
/** Products with `m·n·k` at most this, or fewer than MR rows, use the direct 1×8 loop. */
const SMALL = 256;

/** Packed activations: row `i` of micro-panel `r` at `PAi[r·kc + p]` (minus the zero point, as float64). */
const PA0 = new Float64Array((MC / MR) * KC), PA1 = new Float64Array((MC / MR) * KC), PA2 = new Float64Array((MC / MR) * KC);
/** Packed weights: feature `j` of micro-panel `r` at `PBj[r·kc + p]`. */
const PB0 = new Float64Array((NC / NR) * KC), PB1 = new Float64Array((NC / NR) * KC);
/** The micro-kernel's MR×NR result, row-major. */
const TILE = new Float64Array(MR * NR);
/** Activations minus the zero point of one row (the direct loop), reused across calls. */
let xs = new Int32Array(64);

/**
 * `acc[b·n + o] = Σ_i (x[b·K + i] − zp)·w[o, i]` for `b < batch`, `o < n` (`n = w.outFeatures`,
 * `K = w.inFeatures`), written to `out` (int32, row stride `n`). Arguments are not validated.
 *
 * Blocked like the float32 `gemmTs` (`kernels/gemm.ts`, whose notes on V8 apply): per K panel of
 * 256 inputs, blocks of activations (minus the zero point) and of weights are unpacked into
 * float64 module buffers and a 3×2 register tile runs over them; a panel's sums are exact and
 * are added into the int32 result (wrapping like int32). Tiny products and fewer than 3 rows use
 * a direct loop over the packed weights (1×8 tiles).
 *
 * @throws never for valid arguments.
 * @example
 * ```ts
 * gemmU8I8Ts(x, 128, batch, packed, packed.data(), out);
 * ```
 */
export function gemmU8I8Ts(x: Uint8Array, zp: number, batch: number, w: PackedInt8, data: Int16Array, out: Int32Array): void {
  const n = w.outFeatures, k = w.inFeatures;
  if (batch * n * k <= SMALL || batch < MR || n < NR) {
    const pairs = w.pairs;
    if (xs.length < 2 * pairs) xs = new Int32Array(2 * pairs + 64);
    const a = xs;
    a[2 * pairs - 1] = 0; // the pad of an odd K (overwritten below when K is even)
    for (let b = 0; b < batch; b++) {
      const xo = b * k;
      for (let i = 0; i < k; i++) a[i] = x[xo + i]! - zp;
      row(a, w, data, out, b);
    }
    return;
  }
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packB(w, data, jc, nc, pc, kc);
      const first = pc === 0;
      for (let ic = 0; ic < batch; ic += MC) {
        const mc = Math.min(MC, batch - ic);
        packA(x, zp, k, ic, mc, pc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            micro(kc, (ir / MR) * kc, (jr / NR) * kc);
            storeTile(out, (ic + ir) * n + jc + jr, n, Math.min(MR, mc - ir), nr, first);
          }
        }
      }
    }
  }
}

/** Unpacks rows `ic .. ic+mc` of x, inputs `pc .. pc+kc`, minus `zp`, into PA0..PA2 (zero rows past `mc`). */
function packA(x: Uint8Array, zp: number, k: number, ic: number, mc: number, pc: number, kc: number): void {
  const p0 = PA0, p1 = PA1, p2 = PA2;
  for (let ir = 0, o = 0; ir < mc; ir += MR, o += kc) {
    const rows = mc - ir, s = (ic + ir) * k + pc;
    unpackRow(x, s, zp, kc, p0, o);
    if (rows > 1) unpackRow(x, s + k, zp, kc, p1, o);
    else p1.fill(0, o, o + kc);
    if (rows > 2) unpackRow(x, s + 2 * k, zp, kc, p2, o);
    else p2.fill(0, o, o + kc);
  }
}

function unpackRow(x: Uint8Array, s: number, zp: number, kc: number, dst: Float64Array, o: number): void {
  for (let p = 0; p < kc; p++) dst[o + p] = x[s + p]! - zp;
}

/** Unpacks features `jc .. jc+nc`, inputs `pc .. pc+kc` of the packed weights into PB0, PB1 (zeros past `nc`). */
function packB(w: PackedInt8, data: Int16Array, jc: number, nc: number, pc: number, kc: number): void {
  const p0 = PB0, p1 = PB1, panelLen = w.pairs * 2 * INT8_NR;
  for (let jr = 0, o = 0; jr < nc; jr += NR, o += kc) {
    const j = jc + jr;
    // feature j's weights: pairs 16 int16 apart from its panel's start (pc is even: KC is)
    const base = ((j / INT8_NR) | 0) * panelLen + 2 * (j % INT8_NR) + (pc >> 1) * 16;
    unpackFeature(data, base, kc, p0, o);
    if (nc - jr > 1) unpackFeature(data, base + 2, kc, p1, o);
    else p1.fill(0, o, o + kc);
  }
}

function unpackFeature(data: Int16Array, q: number, kc: number, dst: Float64Array, o: number): void {
  let p = 0;
  for (; p + 1 < kc; p += 2, q += 16) {
    dst[o + p] = data[q]!;
    dst[o + p + 1] = data[q + 1]!;
  }
  if (p < kc) dst[o + p] = data[q]!;
}

/**
 * TILE = (activation micro-panel at `PA*[ia ..]`) · (weight micro-panel at `PB*[ib ..]`) over
 * `kc` steps. NOTE: keep this loop free of anything that needs more registers (see `kernels/gemm.ts`).
 */
function micro(kc: number, ia: number, ib: number): void {
  const pa0 = PA0, pa1 = PA1, pa2 = PA2, pb0 = PB0, pb1 = PB1;
  let c00 = 0, c01 = 0, c10 = 0, c11 = 0, c20 = 0, c21 = 0;
  for (const end = (ia + kc) | 0; ia < end; ia = (ia + 1) | 0, ib = (ib + 1) | 0) {
    const a0 = pa0[ia]!, a1 = pa1[ia]!, a2 = pa2[ia]!;
    const b0 = pb0[ib]!, b1 = pb1[ib]!;
    c00 += a0 * b0; c01 += a0 * b1;
    c10 += a1 * b0; c11 += a1 * b1;
    c20 += a2 * b0; c21 += a2 * b1;
  }
  const t = TILE;
  t[0] = c00; t[1] = c01; t[2] = c10; t[3] = c11; t[4] = c20; t[5] = c21;
}

/** Writes (`first`) or adds the valid `mr × nr` part of TILE to `out` at `at` (the store wraps to int32). */
function storeTile(out: Int32Array, at: number, ld: number, mr: number, nr: number, first: boolean): void {
  const t = TILE;
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < nr; j++) {
      const q = at + i * ld + j;
      out[q] = first ? t[i * NR + j]! : out[q]! + t[i * NR + j]!;
    }
  }
}

/** Row `b` of the result from its activations `a` (1×8 tiles). */
function row(a: Int32Array, w: PackedInt8, data: Int16Array, out: Int32Array, b: number): void {
  const n = w.outFeatures, len = 2 * w.pairs, panelLen = len * INT8_NR;
  for (let p = 0; p < w.panels; p++) {
    let c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0;
    let q = p * panelLen;
    for (let i = 0; i < len; i += 2, q += 16) {
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
    const o = p * INT8_NR, live = n - o, at = b * n + o;
    store4(out, at, live, c0, c1, c2, c3);
    if (live > 4) store4(out, at + 4, live - 4, c4, c5, c6, c7);
  }
}

/** Stores the first `min(live, 4)` of four sums (wrapped to int32 by the store). */
function store4(out: Int32Array, at: number, live: number, s0: number, s1: number, s2: number, s3: number): void {
  out[at] = s0;
  if (live > 1) out[at + 1] = s1;
  if (live > 2) out[at + 2] = s2;
  if (live > 3) out[at + 3] = s3;
}
