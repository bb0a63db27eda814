/**
 * @file Pure TypeScript GEMM: `C (+)= A·B` for strided A and B, blocked for caches and
 * register-tiled, in the style of BLIS/GotoBLAS:
 *
 * - the K dimension is cut into panels of `KC`, N into blocks of `NC`, M into blocks of `MC`;
 * - each B panel is packed once into `NR`-column micro-panels and each A block into `MR`-row
 *   micro-panels, both k-major and in float64 (no float32→float64 conversion in the inner loop);
 *   packing reads A and B through their strides, so transposed operands cost nothing extra;
 * - a 4×4 micro-kernel keeps 16 accumulators in registers and streams the two micro-panels;
 * - edges are handled by zero-padding the packed panels and writing back only the valid part.
 *
 * Accumulation is in float64 across the whole K, rounded once to float32 when stored.
 * Packing buffers are allocated once and reused across calls (no allocation per call).
 */

const MR = 4;
const NR = 4;
const KC = 256;
const MC = 64;
const NC = 1024;

let packA = new Float64Array(MC * KC);
let packB = new Float64Array(KC * NC);
const edge = new Float64Array(MR * NR);

/** Signature shared by every GEMM implementation (pure TS, WebAssembly, threaded). */
export type GemmFn = (
  m: number, n: number, k: number,
  a: Float32Array, aOff: number, ars: number, acs: number,
  b: Float32Array, bOff: number, brs: number, bcs: number,
  c: Float32Array, cOff: number, ldc: number,
  accumulate: boolean,
) => void;

/**
 * `C[i,j] (+)= Σ_p A[i,p]·B[p,j]` where `A[i,p] = a[aOff + i*ars + p*acs]`,
 * `B[p,j] = b[bOff + p*brs + j*bcs]` and `C[i,j] = c[cOff + i*ldc + j]`. With `accumulate`
 * false, C is overwritten.
 *
 * @example
 * ```ts
 * // C = A·Bᵀ for row-major A [m,k] and B [n,k]:
 * gemmTs(m, n, k, a, 0, k, 1, b, 0, 1, k, c, 0, n, false);
 * ```
 */
export const gemmTs: GemmFn = (m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, accumulate) => {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate) for (let i = 0; i < m; i++) c.fill(0, cOff + i * ldc, cOff + i * ldc + n);
    return;
  }
  if (m * n * k <= 8192 || m < MR || n < NR) {
    gemmSmall(m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, accumulate);
    return;
  }
  const kcMax = Math.min(KC, k);
  const ncMax = Math.min(NC, roundUp(n, NR));
  if (packB.length < kcMax * ncMax) packB = new Float64Array(kcMax * ncMax);
  if (packA.length < MC * kcMax) packA = new Float64Array(MC * kcMax);
  const pa = packA;
  const pb = packB;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packPanelB(b, bOff + pc * brs + jc * bcs, brs, bcs, kc, nc, pb);
      const first = pc === 0 && !accumulate;
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packBlockA(a, aOff + ic * ars + pc * acs, ars, acs, mc, kc, pa);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = Math.min(MR, mc - ir);
            const cAt = cOff + (ic + ir) * ldc + jc + jr;
            if (mr === MR && nr === NR) micro4x4(kc, pa, ir * kc, pb, jr * kc, c, cAt, ldc, first);
            else microEdge(kc, pa, ir * kc, pb, jr * kc, c, cAt, ldc, first, mr, nr);
          }
        }
      }
    }
  }
};

function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

/** Packs rows `0..mc` × cols `0..kc` of A into MR-row micro-panels, k-major, zero-padded. */
function packBlockA(a: Float32Array, at: number, ars: number, acs: number, mc: number, kc: number, pa: Float64Array): void {
  let o = 0;
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = Math.min(MR, mc - ir);
    const base = at + ir * ars;
    if (rows === MR) {
      let p0 = base, p1 = base + ars, p2 = base + 2 * ars, p3 = base + 3 * ars;
      for (let p = 0; p < kc; p++, o += 4, p0 += acs, p1 += acs, p2 += acs, p3 += acs) {
        pa[o] = a[p0]!;
        pa[o + 1] = a[p1]!;
        pa[o + 2] = a[p2]!;
        pa[o + 3] = a[p3]!;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let i = 0; i < MR; i++) pa[o++] = i < rows ? a[base + i * ars + p * acs]! : 0;
      }
    }
  }
}

/** Packs rows `0..kc` × cols `0..nc` of B into NR-column micro-panels, k-major, zero-padded. */
function packPanelB(b: Float32Array, at: number, brs: number, bcs: number, kc: number, nc: number, pb: Float64Array): void {
  let o = 0;
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = Math.min(NR, nc - jr);
    let base = at + jr * bcs;
    if (cols === NR) {
      for (let p = 0; p < kc; p++, o += 4, base += brs) {
        pb[o] = b[base]!;
        pb[o + 1] = b[base + bcs]!;
        pb[o + 2] = b[base + 2 * bcs]!;
        pb[o + 3] = b[base + 3 * bcs]!;
      }
    } else {
      for (let p = 0; p < kc; p++, base += brs) {
        for (let j = 0; j < NR; j++) pb[o++] = j < cols ? b[base + j * bcs]! : 0;
      }
    }
  }
}

function micro4x4(kc: number, pa: Float64Array, ia: number, pb: Float64Array, ib: number, c: Float32Array, ic: number, ldc: number, first: boolean): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let p = 0; p < kc; p++, ia += 4, ib += 4) {
    const a0 = pa[ia]!, a1 = pa[ia + 1]!, a2 = pa[ia + 2]!, a3 = pa[ia + 3]!;
    const b0 = pb[ib]!, b1 = pb[ib + 1]!, b2 = pb[ib + 2]!, b3 = pb[ib + 3]!;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  if (first) {
    c[ic] = c00; c[ic + 1] = c01; c[ic + 2] = c02; c[ic + 3] = c03; ic += ldc;
    c[ic] = c10; c[ic + 1] = c11; c[ic + 2] = c12; c[ic + 3] = c13; ic += ldc;
    c[ic] = c20; c[ic + 1] = c21; c[ic + 2] = c22; c[ic + 3] = c23; ic += ldc;
    c[ic] = c30; c[ic + 1] = c31; c[ic + 2] = c32; c[ic + 3] = c33;
  } else {
    // NOTE: partial K panels are summed in float32 storage; the per-panel sum is float64.
    c[ic] += c00; c[ic + 1] += c01; c[ic + 2] += c02; c[ic + 3] += c03; ic += ldc;
    c[ic] += c10; c[ic + 1] += c11; c[ic + 2] += c12; c[ic + 3] += c13; ic += ldc;
    c[ic] += c20; c[ic + 1] += c21; c[ic + 2] += c22; c[ic + 3] += c23; ic += ldc;
    c[ic] += c30; c[ic + 1] += c31; c[ic + 2] += c32; c[ic + 3] += c33;
  }
}

function microEdge(kc: number, pa: Float64Array, ia: number, pb: Float64Array, ib: number, c: Float32Array, ic: number, ldc: number, first: boolean, mr: number, nr: number): void {
  const t = edge;
  t.fill(0);
  for (let p = 0; p < kc; p++, ia += MR, ib += NR) {
    for (let i = 0; i < MR; i++) {
      const av = pa[ia + i]!;
      const row = i * NR;
      for (let j = 0; j < NR; j++) t[row + j]! += av * pb[ib + j]!;
    }
  }
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < nr; j++) {
      if (first) c[ic + i * ldc + j] = t[i * NR + j]!;
      else c[ic + i * ldc + j]! += t[i * NR + j]!;
    }
  }
}

/** Direct loops for small or thin products (no packing), float64 accumulation per output. */
function gemmSmall(m: number, n: number, k: number, a: Float32Array, aOff: number, ars: number, acs: number, b: Float32Array, bOff: number, brs: number, bcs: number, c: Float32Array, cOff: number, ldc: number, accumulate: boolean): void {
  for (let i = 0; i < m; i++) {
    const ar = aOff + i * ars;
    const cr = cOff + i * ldc;
    for (let j = 0; j < n; j++) {
      let s = 0;
      let ai = ar;
      let bi = bOff + j * bcs;
      for (let p = 0; p < k; p++, ai += acs, bi += brs) s += a[ai]! * b[bi]!;
      if (accumulate) c[cr + j]! += s;
      else c[cr + j] = s;
    }
  }
}
