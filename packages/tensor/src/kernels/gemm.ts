/**
 * @file Pure TypeScript GEMM: `C (+)= A·B` for strided A and B, blocked for caches and
 * register-tiled, in the style of BLIS/GotoBLAS:
 *
 * - K is cut into panels of `KC`, N into blocks of `NC` and M into blocks of `MC`;
 * - each B panel and each A block is packed once, in float64 (no conversion in the inner loop),
 *   reading A and B through their strides, so transposed operands cost nothing extra. Packed A
 *   is kept as one array per tile row (`PA0..PA2`) and packed B as one array per tile column
 *   (`PB0`, `PB1`), each holding its k-major micro-panels back to back;
 * - a 3×2 micro-kernel keeps 6 float64 accumulators in registers; its result goes through a
 *   6-entry tile buffer to C, so edges (m or n not a multiple of the tile) reuse the same kernel
 *   on zero-padded panels and store only the valid part;
 * - tiny products (`m·n·k <= 256`) and thin ones (`m < 3` or `n < 2`) use direct loops instead.
 *
 * Accumulation is in float64 within each K panel of `KC` = 256 (over the whole K on the direct
 * path); each panel's sum is then added into the float32 C, so for `k > 256` partial sums are
 * rounded to float32 between panels.
 *
 * Why this shape (TurboFan on x64, Node 20; numbers in benchmarks/README.md):
 * - the packing buffers are module constants, so TurboFan embeds their addresses and lengths:
 *   the loop has no map checks or base-pointer loads, and since all loads of one operand share
 *   one index (one array per tile row/column), they share one bounds check;
 * - TurboFan emits all products of a k-step before all the sums and allocates 15 XMM registers:
 *   3×2 (6 accumulators, 5 loads) runs without spills, while 2×4 spills 2 accumulators and 4×4
 *   about half of them, making their loop-carried sums go through memory. Measured at 512 on a
 *   2-core Sapphire Rapids VM: 3×2 about 7.4 GFLOP/s, 2×4 about 5.5, 4×4 about 4.5;
 * - loop counters use `| 0`, so they carry no overflow checks.
 * NOTE: once any ArrayBuffer in the process has been detached (transferred), V8 adds a
 * "detached?" check to every typed-array access in optimized code from then on; the kernel then
 * runs at about 4.5 GFLOP/s. Plain `node` programs rarely detach, but tsx on Node 20 does when it
 * loads a large CommonJS file (which is why benchmarks/ preloads benchmark.js).
 *
 * No Strassen-type algorithm: one level of it was about 9% faster at 512-1024 but is only
 * normwise accurate (rows of A scaled by 1e-4 got 1e-3 relative error instead of 1e-7).
 * The buffers (about 1.2 MiB) are allocated once at module load; nothing is allocated per call.
 */
import type { MapKernel } from "../map/compile.js";
import { mapBlockJs } from "../map/js-backend.js";

/** Rows of the register tile (rows of A per packed micro-panel). */
const MR = 3;
/** Columns of the register tile (columns of B per packed micro-panel). */
const NR = 2;
/** K panel depth. */
const KC = 256;
/** Rows of A per packed block (a multiple of MR). */
const MC = 96;
/** Columns of B per packed panel (a multiple of NR). */
const NC = 512;
/** Products with `m·n·k` at most this use the direct loops (packing would cost more). */
const SMALL = 256;

/** Length of each packed row of an A block: MC/MR micro-panels of KC steps. */
const LA = (MC / MR) * KC;
/** Length of each packed column of a B panel: NC/NR micro-panels of KC steps. */
const LB = (NC / NR) * KC;
/** Packed A block: row `i` of micro-panel `r` (rows `r*MR ..`) at `PAi[r*kc + p]`, `p < kc`. */
const PA0 = new Float64Array(LA), PA1 = new Float64Array(LA), PA2 = new Float64Array(LA);
/** Packed B panel: column `j` of micro-panel `r` (columns `r*NR ..`) at `PBj[r*kc + p]`. */
const PB0 = new Float64Array(LB), PB1 = new Float64Array(LB);
/** The micro-kernel's MR×NR result, row-major. */
const TILE = new Float64Array(MR * NR);

/**
 * Signature shared by every GEMM implementation (pure TS, WebAssembly, threaded). `epilogue`, a
 * unary map kernel with arrays `[o, x]` and parameters `[p0, p1]` (an activation of
 * `elementwise-defs.ts`, called with `[0, 0]`), is applied to C after the product, while C is
 * still in cache: `C ← epilogue(C)`.
 */
export type GemmFn = (
  m: number, n: number, k: number,
  a: Float32Array, aOff: number, ars: number, acs: number,
  b: Float32Array, bOff: number, brs: number, bcs: number,
  c: Float32Array, cOff: number, ldc: number,
  accumulate: boolean, epilogue?: MapKernel | null,
) => void;

const NO_PARAMS: readonly number[] = [0, 0];

/**
 * Applies a GEMM epilogue to C in place with the pure-TS map backend.
 *
 * @throws never.
 * @example
 * ```ts
 * applyEpilogueJs(UNARY_KERNELS[UnOp.RELU], c, 0, n, m, n);
 * ```
 */
export function applyEpilogueJs(epilogue: MapKernel, c: Float32Array, cOff: number, ldc: number, m: number, n: number): void {
  mapBlockJs(epilogue, [c, c], [cOff, cOff], [1, 1], [ldc, ldc], n, m, NO_PARAMS);
}

/**
 * `C[i,j] (+)= Σ_p A[i,p]·B[p,j]` where `A[i,p] = a[aOff + i*ars + p*acs]`,
 * `B[p,j] = b[bOff + p*brs + j*bcs]` and `C[i,j] = c[cOff + i*ldc + j]`. With `accumulate`
 * false, C is overwritten (with `k = 0`, zeroed). C must not overlap A or B. Sums are float64
 * within each K panel of 256 (see the file comment).
 *
 * @throws {RangeError} when an operand's offset and strides reach outside its buffer (an O(1)
 * check: a short buffer would otherwise read `undefined` and give NaN silently).
 * @example
 * ```ts
 * // C = A·Bᵀ for row-major A [m,k] and B [n,k]:
 * gemmTs(m, n, k, a, 0, k, 1, b, 0, 1, k, c, 0, n, false);
 * ```
 */
export const gemmTs: GemmFn = (m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, accumulate, epilogue) => {
  checkGemmExtents("gemmTs", m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc);
  gemmProduct(m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, accumulate);
  if (epilogue && m > 0 && n > 0) applyEpilogueJs(epilogue, c, cOff, ldc, m, n);
};

/** The product of {@link gemmTs}, without the epilogue. */
function gemmProduct(m: number, n: number, k: number, a: Float32Array, aOff: number, ars: number, acs: number, b: Float32Array, bOff: number, brs: number, bcs: number, c: Float32Array, cOff: number, ldc: number, accumulate: boolean): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) for (let i = 0; i < m; i++) c.fill(0, cOff + i * ldc, cOff + i * ldc + n);
    return;
  }
  if (m * n * k <= SMALL || m < MR || n < NR) {
    gemmSmall(m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, 1, accumulate);
    return;
  }
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packB(b, bOff + pc * brs + jc * bcs, brs, bcs, kc, nc);
      const first = pc === 0 && !accumulate;
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packA(a, aOff + ic * ars + pc * acs, ars, acs, mc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            micro(kc, (ir / MR) * kc, (jr / NR) * kc);
            storeTile(c, cOff + (ic + ir) * ldc + jc + jr, ldc, Math.min(MR, mc - ir), nr, first);
          }
        }
      }
    }
  }
}

/** Packs the `mc × kc` block of A at `at` into PA0..PA2, zero-padding rows past `mc`. */
function packA(a: Float32Array, at: number, ars: number, acs: number, mc: number, kc: number): void {
  const p0 = PA0, p1 = PA1, p2 = PA2;
  for (let ir = 0, o = 0; ir < mc; ir += MR, o += kc) {
    const rows = mc - ir;
    const s0 = at + ir * ars;
    const s1 = rows > 1 ? s0 + ars : -1;
    const s2 = rows > 2 ? s0 + 2 * ars : -1;
    packRow(a, s0, acs, kc, p0, o);
    packRow(a, s1, acs, kc, p1, o);
    packRow(a, s2, acs, kc, p2, o);
  }
}

/** Packs the `kc × nc` panel of B at `at` into PB0, PB1, zero-padding columns past `nc`. */
function packB(b: Float32Array, at: number, brs: number, bcs: number, kc: number, nc: number): void {
  const p0 = PB0, p1 = PB1;
  for (let jr = 0, o = 0; jr < nc; jr += NR, o += kc) {
    const s0 = at + jr * bcs;
    packRow(b, s0, brs, kc, p0, o);
    packRow(b, nc - jr > 1 ? s0 + bcs : -1, brs, kc, p1, o);
  }
}

/** `dst[o + p] = src[s + p*step]` for `p < kc`, or zeros when `s < 0` (a padding row). */
function packRow(src: Float32Array, s: number, step: number, kc: number, dst: Float64Array, o: number): void {
  if (s < 0) {
    dst.fill(0, o, o + kc);
    return;
  }
  for (let p = 0; p < kc; p++, s += step) dst[o + p] = src[s]!;
}

/**
 * TILE = (A micro-panel at `PA*[ia ..]`) · (B micro-panel at `PB*[ib ..]`) over `kc` steps.
 * NOTE: keep this loop free of anything that needs more registers (see the file comment).
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

/** Writes (`first`) or adds the valid `mr × nr` part of TILE to C at `at`. */
function storeTile(c: Float32Array, at: number, ldc: number, mr: number, nr: number, first: boolean): void {
  const t = TILE;
  if (mr === MR && nr === NR) {
    const at1 = at + ldc, at2 = at1 + ldc;
    if (first) {
      c[at] = t[0]!; c[at + 1] = t[1]!;
      c[at1] = t[2]!; c[at1 + 1] = t[3]!;
      c[at2] = t[4]!; c[at2 + 1] = t[5]!;
    } else {
      // NOTE: a K panel's float64 sum is rounded once when added to the float32 C.
      c[at]! += t[0]!; c[at + 1]! += t[1]!;
      c[at1]! += t[2]!; c[at1 + 1]! += t[3]!;
      c[at2]! += t[4]!; c[at2 + 1]! += t[5]!;
    }
    return;
  }
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < nr; j++) {
      if (first) c[at + i * ldc + j] = t[i * NR + j]!;
      else c[at + i * ldc + j]! += t[i * NR + j]!;
    }
  }
}

/**
 * Direct loops for tiny and thin (m or n = 1) products, no packing: C is computed four entries
 * of a row at a time (four independent float64 sums share each load of A). When C has fewer than
 * four columns but more rows, the product is done transposed (`Cᵀ = Bᵀ·Aᵀ`) so rows of C get
 * the same treatment. C is addressed through row and column strides `crs`, `ccs`.
 */
function gemmSmall(m: number, n: number, k: number, a: Float32Array, aOff: number, ars: number, acs: number, b: Float32Array, bOff: number, brs: number, bcs: number, c: Float32Array, cOff: number, crs: number, ccs: number, accumulate: boolean): void {
  if (n < 4 && m > n) {
    gemmSmall(n, m, k, b, bOff, bcs, brs, a, aOff, acs, ars, c, cOff, ccs, crs, accumulate);
    return;
  }
  const b1 = bcs, b2 = 2 * bcs, b3 = 3 * bcs;
  for (let i = 0; i < m; i++) {
    const ar = aOff + i * ars;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0, ai = ar, bi = bOff + j * bcs; p < k; p++, ai += acs, bi += brs) {
        const av = a[ai]!;
        s0 += av * b[bi]!;
        s1 += av * b[bi + b1]!;
        s2 += av * b[bi + b2]!;
        s3 += av * b[bi + b3]!;
      }
      const ci = cOff + i * crs + j * ccs;
      if (accumulate) {
        c[ci]! += s0; c[ci + ccs]! += s1; c[ci + 2 * ccs]! += s2; c[ci + 3 * ccs]! += s3;
      } else {
        c[ci] = s0; c[ci + ccs] = s1; c[ci + 2 * ccs] = s2; c[ci + 3 * ccs] = s3;
      }
    }
    for (; j < n; j++) {
      let s = 0;
      for (let p = 0, ai = ar, bi = bOff + j * bcs; p < k; p++, ai += acs, bi += brs) s += a[ai]! * b[bi]!;
      const ci = cOff + i * crs + j * ccs;
      if (accumulate) c[ci]! += s;
      else c[ci] = s;
    }
  }
}

/** The index range `[lo, hi]` an `rows × cols` operand at `off` with strides `rs`, `cs` touches. */
function extent(off: number, rows: number, cols: number, rs: number, cs: number): [number, number] {
  const r = (rows - 1) * rs, c = (cols - 1) * cs;
  return [off + Math.min(0, r) + Math.min(0, c), off + Math.max(0, r) + Math.max(0, c)];
}

/**
 * Throws unless each GEMM operand (A `m×k`, B `k×n`, C `m×n`) lies inside its buffer; empty
 * operands are not checked. O(1) per call.
 *
 * @throws {RangeError} `<fn>: …` naming the operand, its extent and the buffer's length.
 * @example
 * ```ts
 * checkGemmExtents("gemmTs", m, n, k, a, 0, k, 1, b, 0, n, 1, c, 0, n);
 * ```
 */
export function checkGemmExtents(fn: string, m: number, n: number, k: number, a: Float32Array, aOff: number, ars: number, acs: number, b: Float32Array, bOff: number, brs: number, bcs: number, c: Float32Array, cOff: number, ldc: number): void {
  if (!(Number.isInteger(m) && Number.isInteger(n) && Number.isInteger(k) && m >= 0 && n >= 0 && k >= 0)) throw new RangeError(`${fn}: m, n, k must be non-negative integers (got ${m}, ${n}, ${k})`);
  const check = (what: string, buf: Float32Array, off: number, rows: number, cols: number, rs: number, cs: number) => {
    if (rows === 0 || cols === 0) return;
    if (!(buf instanceof Float32Array)) throw new TypeError(`${fn}: ${what} must be a Float32Array`);
    const [lo, hi] = extent(off, rows, cols, rs, cs);
    if (!(lo >= 0 && hi < buf.length)) throw new RangeError(`${fn}: ${what} (${rows}×${cols} at offset ${off}, strides ${rs}, ${cs}) reaches elements ${lo}..${hi} of a ${buf.length}-element buffer`);
  };
  check("A", a, aOff, m, k, ars, acs);
  check("B", b, bOff, k, n, brs, bcs);
  check("C", c, cOff, m, n, ldc, 1);
}
