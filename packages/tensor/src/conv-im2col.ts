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
      const yLo = validLo(pt, a, dh, sh, oh), yHi = validHi(pt, a, dh, sh, oh, h), rowOff = a * dh - pt;
      for (let b = 0; b < kw; b++, row++) {
        const lo = validLo(pl, b, dw, sw, ow), hi = validHi(pl, b, dw, sw, ow, w), colOff = b * dw - pl;
        const empty = yLo >= yHi || lo >= hi;
        // whole rows of x, back to back: the valid block is one contiguous copy
        const block = !empty && lo === 0 && hi === ow && ow === w && sw === 1 && sh === 1;
        for (let img = 0; img < nb; img++) {
          const src = xOff + ((i0 + img) * c + grp * cg + ci) * plane + colOff;
          const d0 = row * ld + img * p;
          if (empty) { for (let k = d0, e = d0 + p; k < e; k++) cols[k] = 0; continue; }
          for (let k = d0, e = d0 + yLo * ow; k < e; k++) cols[k] = 0;
          if (block) {
            const s = src + (yLo + rowOff) * w - d0 - yLo * ow;
            for (let k = d0 + yLo * ow, e = d0 + yHi * ow; k < e; k++) cols[k] = x[s + k]!;
          } else {
            for (let y = yLo; y < yHi; y++) {
              const dst = d0 + y * ow, s = src + (y * sh + rowOff) * w;
              for (let xo = 0; xo < lo; xo++) cols[dst + xo] = 0;
              if (sw === 1) for (let xo = lo; xo < hi; xo++) cols[dst + xo] = x[s + xo]!;
              else for (let xo = lo; xo < hi; xo++) cols[dst + xo] = x[s + xo * sw]!;
              for (let xo = hi; xo < ow; xo++) cols[dst + xo] = 0;
            }
          }
          for (let k = d0 + yHi * ow, e = d0 + p; k < e; k++) cols[k] = 0;
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
      const yLo = validLo(pt, a, dh, sh, oh), yHi = validHi(pt, a, dh, sh, oh, h), rowOff = a * dh - pt;
      for (let b = 0; b < kw; b++, row++) {
        const lo = validLo(pl, b, dw, sw, ow), hi = validHi(pl, b, dw, sw, ow, w), colOff = b * dw - pl;
        if (yLo >= yHi || lo >= hi) continue;
        for (let img = 0; img < nb; img++) {
          const dst = ((i0 + img) * c + grp * cg + ci) * plane + colOff;
          const s0 = row * ld + img * p;
          for (let y = yLo; y < yHi; y++) {
            const d = dst + (y * sh + rowOff) * w, src = s0 + y * ow;
            if (sw === 1) for (let xo = lo; xo < hi; xo++) dx[d + xo] += cols[src + xo]!;
            else for (let xo = lo; xo < hi; xo++) dx[d + xo * sw] += cols[src + xo]!;
          }
        }
      }
    }
  }
}
