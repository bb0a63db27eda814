/**
 * @file The im2col lowering of a convolution and its adjoint col2im, for one channel group of a
 * chunk of images. Columns are `[K, nb·P]` with `K = (C/groups)·kH·kW` rows (in the weight's
 * `[c, a, b]` order) and one column per output pixel of each image (`P = OH·OW`, image-major), so
 * the whole chunk is one GEMM. Each row of taps is copied with a precomputed valid range: no
 * per-element bounds checks, no allocation.
 */
import type { ConvGeometry } from "./conv-geometry.js";

/** First output column `xo` whose input column `xo·sw − pl + b·dw` is `>= 0` (kernel column `b`). */
function validLo(pl: number, b: number, dw: number, sw: number, ow: number): number {
  const off = b * dw - pl; // ix = xo*sw + off >= 0
  return off >= 0 ? 0 : Math.min(ow, Math.ceil(-off / sw));
}
/** One past the last output column `xo` whose input column `xo·sw − pl + b·dw` is `< w`. */
function validHi(pl: number, b: number, dw: number, sw: number, ow: number, w: number): number {
  const off = b * dw - pl; // ix = xo*sw + off <= w - 1
  const hi = w - 1 - off < 0 ? 0 : Math.floor((w - 1 - off) / sw) + 1;
  return Math.min(ow, hi);
}

/**
 * Writes columns `[K, nb·P]` (row stride `ld`) of images `i0 .. i0+nb−1` of `x` (contiguous
 * `[N, C, H, W]` starting at `xOff`), channel group `grp`.
 *
 * @throws never (callers validate the geometry).
 * @example
 * ```ts
 * im2col(g, x.data, x.offset, 0, 4, 0, cols, 4 * g.oh * g.ow);
 * ```
 */
export function im2col(g: ConvGeometry, x: Float32Array, xOff: number, i0: number, nb: number, grp: number, cols: Float32Array, ld: number): void {
  const { c, h, w, cg, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow } = g;
  const plane = h * w, p = oh * ow;
  let row = 0;
  for (let ci = 0; ci < cg; ci++) {
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++, row++) {
        const lo = validLo(pl, b, dw, sw, ow), hi = validHi(pl, b, dw, sw, ow, w);
        const colOff = b * dw - pl;
        for (let img = 0; img < nb; img++) {
          const src = xOff + ((i0 + img) * c + grp * cg + ci) * plane;
          let dst = row * ld + img * p;
          for (let y = 0; y < oh; y++, dst += ow) {
            const iy = y * sh - pt + a * dh;
            if (iy < 0 || iy >= h || lo >= hi) { for (let xo = 0; xo < ow; xo++) cols[dst + xo] = 0; continue; }
            for (let xo = 0; xo < lo; xo++) cols[dst + xo] = 0;
            const s = src + iy * w + colOff;
            if (sw === 1) for (let xo = lo; xo < hi; xo++) cols[dst + xo] = x[s + xo]!;
            else for (let xo = lo; xo < hi; xo++) cols[dst + xo] = x[s + xo * sw]!;
            for (let xo = hi; xo < ow; xo++) cols[dst + xo] = 0;
          }
        }
      }
    }
  }
}

/**
 * Adds columns `[K, nb·P]` (row stride `ld`) back into images `i0 .. i0+nb−1` of `dx`
 * (contiguous `[N, C, H, W]`), channel group `grp`: the adjoint of {@link im2col}.
 *
 * @throws never (callers validate the geometry).
 * @example
 * ```ts
 * col2im(g, cols, 4 * g.oh * g.ow, dx, 0, 4, 0);
 * ```
 */
export function col2im(g: ConvGeometry, cols: Float32Array, ld: number, dx: Float32Array, i0: number, nb: number, grp: number): void {
  const { c, h, w, cg, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow } = g;
  const plane = h * w, p = oh * ow;
  let row = 0;
  for (let ci = 0; ci < cg; ci++) {
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++, row++) {
        const lo = validLo(pl, b, dw, sw, ow), hi = validHi(pl, b, dw, sw, ow, w);
        if (lo >= hi) continue;
        const colOff = b * dw - pl;
        for (let img = 0; img < nb; img++) {
          const dst = ((i0 + img) * c + grp * cg + ci) * plane;
          let src = row * ld + img * p;
          for (let y = 0; y < oh; y++, src += ow) {
            const iy = y * sh - pt + a * dh;
            if (iy < 0 || iy >= h) continue;
            const d = dst + iy * w + colOff;
            for (let xo = lo; xo < hi; xo++) dx[d + xo * sw] += cols[src + xo]!;
          }
        }
      }
    }
  }
}
