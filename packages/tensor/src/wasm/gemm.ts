/**
 * @file WebAssembly SIMD GEMM with the {@link GemmFn} signature: operands live in JS
 * `Float32Array`s, so each call packs them into the kernel instance's memory, runs the
 * `gemm_block` macro-kernel (see `gemm-kernel.ts`) and copies C back.
 *
 * Blocking, BLIS style: C is processed in super-blocks of up to `MB × NB`; for each K panel of
 * `KC` the B panel (`KC × NB`) is packed once into `NR`-column micro-panels and each `MC`-row
 * block of A into `MR`-row micro-panels, both k-major. Padded rows and columns (m, n not
 * multiples of the tile) are computed on zeros and never copied out.
 *
 * Packing handles the strides, so transposed operands need no copy by the caller. When an
 * operand's rows or columns are contiguous (the usual case, including `x.mT` views), runs are
 * staged into wasm memory with `TypedArray.set` (a memcpy) and packed by SIMD kernels
 * (`pack-kernel.ts`), about 5× cheaper than packing element by element in JS; other strides
 * (broadcast or sliced views) are packed in JS.
 *
 * The scratch memory grows to the largest problem seen and is reused (no allocation per call in
 * steady state). Tiny products, where packing costs more than it saves, go to `gemmTs`.
 */
import { gemmTs, type GemmFn } from "../kernels/gemm.js";
import { DEFAULT_GEMM_KERNEL } from "./gemm-kernel.js";
import { scratchInstance } from "./runtime.js";

const MR = DEFAULT_GEMM_KERNEL.mr;
const NR = DEFAULT_GEMM_KERNEL.nr;
/** K panel depth: a B micro-panel (KC·NR floats, 8 KB) stays in L1. */
const KC = 256;
/** Rows of A per packed block: an A block (MC·KC floats, 96 KB) stays in L2. */
const MC = 96;
/**
 * Columns of B per packed panel (and of the C super-block): per A block the working set is then
 * B panel 512 KB + A block 96 KB + C block 192 KB, comfortably inside a 1–2 MB L2.
 */
const NB = 512;
/** Rows of the C super-block kept in wasm memory. */
const MB = 1024;
/** Columns of A staged at once (a multiple of KC): contiguous A is staged with one memcpy. */
const KB = 2048;
/** The blocking parameters (for benchmarks and tests). */
export const GEMM_BLOCKING = Object.freeze({ MR, NR, KC, MC, NB, MB, KB });

/**
 * Below this many multiply-adds the pure TS kernel is faster (call and packing overhead dominate);
 * measured crossover ≈ 12³ on V8/x64. Thin shapes (m < 4 or n < 8, e.g. matrix·vector) still win
 * 1.5–6× in wasm despite the padded tile, so they have no special case.
 */
export const WASM_GEMM_MIN_WORK = 2048;

/**
 * `C[i,j] (+)= Σ_p A[i,p]·B[p,j]` in WebAssembly SIMD; same contract as {@link gemmTs}. Falls
 * back to `gemmTs` when the wasm runtime is not initialised, for tiny products, and when
 * the scratch memory cannot grow.
 *
 * NOTE: accumulates in float32 per K panel (like BLAS sgemm), where `gemmTs` uses float64; the
 * difference is within a few float32 ulps of Σ|A||B| for typical K.
 *
 * @example
 * ```ts
 * await initWasm();
 * gemmWasm(m, n, k, a, 0, k, 1, b, 0, n, 1, c, 0, n, false); // C = A·B, all row-major
 * ```
 */
export const gemmWasm: GemmFn = (m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, accumulate) => {
  const inst = scratchInstance();
  if (!inst || k === 0 || m * n * k < WASM_GEMM_MIN_WORK) {
    gemmTs(m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, accumulate);
    return;
  }
  const mb = Math.min(MB, roundUp(m, MR));
  const nb = Math.min(NB, roundUp(n, NR));
  const kc = Math.min(KC, k);
  const kb = Math.min(KB, k);
  const mc = Math.min(MC, mb);
  // Scratch layout (byte offsets): packed A | packed B | C super-block | A staging | B staging.
  const pa = 0;
  const pb = pa + mc * kc * 4;
  const pc = pb + kc * nb * 4;
  const sa = pc + mb * nb * 4;
  const sb = sa + mb * kb * 4;
  let mem: Float32Array;
  try {
    mem = inst.ensure(sb + kc * nb * 4);
  } catch {
    gemmTs(m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, accumulate);
    return;
  }
  const ex = inst.exports;
  const aLayout = acs === 1 ? ROWS : ars === 1 ? COLS : STRIDED;
  const bLayout = bcs === 1 ? ROWS : brs === 1 ? COLS : STRIDED;
  for (let i0 = 0; i0 < m; i0 += MB) {
    const rows = Math.min(MB, m - i0);
    const rowsPad = roundUp(rows, MR);
    for (let j0 = 0; j0 < n; j0 += NB) {
      const cols = Math.min(NB, n - j0);
      const colsPad = roundUp(cols, NR);
      const cAt = cOff + i0 * ldc + j0;
      if (accumulate) copyIn(c, cAt, ldc, rows, cols, mem, pc >> 2, colsPad);
      for (let q0 = 0; q0 < k; q0 += KB) {
        // Stage rows i0.. × columns q0.. of A: row-major (ld kw) or k-major (ld rowsPad).
        const kw = Math.min(KB, k - q0);
        const aAt = aOff + i0 * ars + q0 * acs;
        if (aLayout === ROWS) {
          stage(a, aAt, ars, rows, kw, kw, mem, sa >> 2, kw);
          padRows(mem, (sa >> 2) + rows * kw, rowsPad - rows, kw);
        } else if (aLayout === COLS) stage(a, aAt, acs, kw, rows, rowsPad, mem, sa >> 2, rowsPad);
        for (let p0 = q0; p0 < q0 + kw; p0 += KC) {
          const depth = Math.min(KC, k - p0);
          const bAt = bOff + p0 * brs + j0 * bcs;
          if (bLayout === ROWS) {
            // B rows are contiguous: stage depth rows of `cols` floats, copy 8-wide panels.
            stage(b, bAt, brs, depth, cols, colsPad, mem, sb >> 2, colsPad);
            ex.pack_copy8(sb, colsPad * 4, colsPad / NR, depth, pb);
          } else if (bLayout === COLS) {
            // B columns are contiguous (a transposed view): stage columns, transpose into panels.
            stage(b, bAt, bcs, cols, depth, depth, mem, sb >> 2, kc);
            padRows(mem, (sb >> 2) + cols * kc, colsPad - cols, kc);
            ex.pack_tr8(sb, kc * 4, colsPad / NR, depth, pb);
          } else packB(b, bAt, brs, bcs, depth, cols, mem, pb >> 2);
          const first = accumulate || p0 > 0 ? 0 : 1;
          const dp = p0 - q0;
          for (let ic = 0; ic < rowsPad; ic += MC) {
            const mcNow = Math.min(MC, rowsPad - ic);
            if (aLayout === ROWS) ex.pack_tr4(sa + (ic * kw + dp) * 4, kw * 4, mcNow / MR, depth, pa);
            else if (aLayout === COLS) ex.pack_copy4(sa + (dp * rowsPad + ic) * 4, rowsPad * 4, mcNow / MR, depth, pa);
            else packA(a, aOff + (i0 + ic) * ars + p0 * acs, ars, acs, Math.min(mcNow, rows - ic), mcNow, depth, mem, pa >> 2);
            ex.gemm_block(pa, pb, pc + ic * colsPad * 4, mcNow, colsPad, depth, colsPad * 4, first);
          }
        }
      }
      copyOut(mem, pc >> 2, colsPad, rows, cols, c, cAt, ldc);
    }
  }
};

const ROWS = 0;
const COLS = 1;
const STRIDED = 2;

/**
 * Copies `count` runs of `len` contiguous floats (run `r` starts at `at + r·step` in `src`) into
 * scratch rows `o + r·ld`, zero-filling each row from `len` to `padTo`. Long runs use `set`
 * (a memcpy); short ones a loop, which is cheaper than creating a subarray.
 *
 * @example
 * ```ts
 * stage(b, 0, n, kc, n, nPad, mem, base, nPad); // kc rows of row-major B, padded to nPad
 * ```
 */
export function stage(src: Float32Array, at: number, step: number, count: number, len: number, padTo: number, mem: Float32Array, o: number, ld: number): void {
  if (step === len && ld === len && count > 1) {
    mem.set(src.subarray(at, at + count * len), o); // runs are back to back in both: one memcpy
    return;
  }
  for (let r = 0; r < count; r++, at += step, o += ld) {
    if (len >= 32) mem.set(src.subarray(at, at + len), o);
    else for (let i = 0; i < len; i++) mem[o + i] = src[at + i]!;
    if (padTo > len) mem.fill(0, o + len, o + padTo);
  }
}

/**
 * Zero-fills `count` scratch rows of `len` floats starting at `o` (padding rows of a tile).
 *
 * @example
 * ```ts
 * padRows(mem, base + rows * ld, rowsPad - rows, ld);
 * ```
 */
export function padRows(mem: Float32Array, o: number, count: number, len: number): void {
  if (count > 0) mem.fill(0, o, o + count * len);
}

/**
 * `x` rounded up to a multiple of `to`.
 *
 * @example
 * ```ts
 * roundUp(10, 4); // 12
 * ```
 */
export function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

/**
 * Packs `rows` (≤ `rowsPad`) rows × `kc` columns of A starting at `at` into MR-row micro-panels,
 * k-major: `dst[o + ir·kc + p·MR + i] = A[ir + i, p]`; rows `rows..rowsPad` are zeros.
 */
function packA(a: Float32Array, at: number, ars: number, acs: number, rows: number, rowsPad: number, kc: number, dst: Float32Array, o: number): void {
  for (let ir = 0; ir < rowsPad; ir += MR) {
    const r0 = at + ir * ars;
    if (rows - ir >= MR) {
      let p0 = r0, p1 = r0 + ars, p2 = r0 + 2 * ars, p3 = r0 + 3 * ars;
      for (let p = 0; p < kc; p++, o += MR, p0 += acs, p1 += acs, p2 += acs, p3 += acs) {
        dst[o] = a[p0]!;
        dst[o + 1] = a[p1]!;
        dst[o + 2] = a[p2]!;
        dst[o + 3] = a[p3]!;
      }
    } else {
      const live = Math.max(0, rows - ir);
      for (let p = 0; p < kc; p++, o += MR) {
        for (let i = 0; i < MR; i++) dst[o + i] = i < live ? a[r0 + i * ars + p * acs]! : 0;
      }
    }
  }
}

/**
 * Packs `kc` rows × `cols` columns of B starting at `at` into NR-column micro-panels, k-major:
 * `dst[o + jr·kc + p·NR + j] = B[p, jr + j]`; columns past `cols` (up to a multiple of NR) are zeros.
 */
function packB(b: Float32Array, at: number, brs: number, bcs: number, kc: number, cols: number, dst: Float32Array, o: number): void {
  for (let jr = 0; jr < cols; jr += NR) {
    const base = at + jr * bcs;
    if (cols - jr >= NR) {
      if (bcs === 1) {
        for (let p = 0, q = base; p < kc; p++, o += NR, q += brs) {
          dst[o] = b[q]!;
          dst[o + 1] = b[q + 1]!;
          dst[o + 2] = b[q + 2]!;
          dst[o + 3] = b[q + 3]!;
          dst[o + 4] = b[q + 4]!;
          dst[o + 5] = b[q + 5]!;
          dst[o + 6] = b[q + 6]!;
          dst[o + 7] = b[q + 7]!;
        }
      } else {
        for (let p = 0, q = base; p < kc; p++, o += NR, q += brs) {
          for (let j = 0, qj = q; j < NR; j++, qj += bcs) dst[o + j] = b[qj]!;
        }
      }
    } else {
      const live = cols - jr;
      for (let p = 0, q = base; p < kc; p++, o += NR, q += brs) {
        for (let j = 0; j < NR; j++) dst[o + j] = j < live ? b[q + j * bcs]! : 0;
      }
    }
  }
}

/**
 * Copies the `rows × cols` block of C at `at` (row stride `ldc`) into scratch (row stride `ld`).
 *
 * @example
 * ```ts
 * copyIn(c, cOff, ldc, m, n, mem, base, nPad); // before accumulating into C
 * ```
 */
export function copyIn(c: Float32Array, at: number, ldc: number, rows: number, cols: number, mem: Float32Array, o: number, ld: number): void {
  if (ldc === cols && ld === cols) return void mem.set(c.subarray(at, at + rows * cols), o);
  for (let i = 0; i < rows; i++) mem.set(c.subarray(at + i * ldc, at + i * ldc + cols), o + i * ld);
}

/**
 * Copies `rows × cols` of scratch (row stride `ld`) back to C at `at` (row stride `ldc`).
 *
 * @example
 * ```ts
 * copyOut(mem, base, nPad, m, n, c, cOff, ldc);
 * ```
 */
export function copyOut(mem: Float32Array, o: number, ld: number, rows: number, cols: number, c: Float32Array, at: number, ldc: number): void {
  if (ldc === cols && ld === cols) return void c.set(mem.subarray(o, o + rows * cols), at);
  for (let i = 0; i < rows; i++) c.set(mem.subarray(o + i * ld, o + i * ld + cols), at + i * ldc);
}
