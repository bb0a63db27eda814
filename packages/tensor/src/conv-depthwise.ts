/**
 * @file Direct kernels for convolutions whose groups hold one input channel each (`C/groups = 1`:
 * depthwise, with any channel multiplier `O/groups`). Lowered to im2col, such a convolution is
 * `groups` GEMMs with one row each, dominated by writing the columns; here every output plane is
 * accumulated straight from its input plane instead: per kernel tap, one contiguous run of each
 * output row (`[lo, hi)` precomputed), no bounds checks, no allocation.
 */
import type { ConvGeometry } from "./conv-geometry.js";

/** First output index whose input index `o·s − p + tap·d` is `>= 0`. */
function lo(p: number, tap: number, d: number, s: number, out: number): number {
  const off = tap * d - p;
  return off >= 0 ? 0 : Math.min(out, Math.ceil(-off / s));
}
/** One past the last output index whose input index `o·s − p + tap·d` is `< len`. */
function hi(p: number, tap: number, d: number, s: number, out: number, len: number): number {
  const off = tap * d - p;
  return len - 1 - off < 0 ? 0 : Math.min(out, Math.floor((len - 1 - off) / s) + 1);
}

/** Per tap of one dim: the valid output range `[lo, hi)` and the input offset `tap·d − p`. */
function taps(k: number, p: number, d: number, s: number, out: number, len: number): Int32Array {
  const t = new Int32Array(3 * k);
  for (let a = 0; a < k; a++) {
    t[3 * a] = lo(p, a, d, s, out);
    t[3 * a + 1] = hi(p, a, d, s, out, len);
    t[3 * a + 2] = a * d - p;
  }
  return t;
}

/**
 * `out [N, O, OH, OW] += conv(x, w)` for a geometry with `cg = 1`; `x`, `w` contiguous from their
 * offsets, `out` zero-filled (float32 accumulation over the kH·kW taps).
 *
 * @throws never (callers check `g.cg === 1`).
 * @example
 * ```ts
 * depthwiseForward(g, x.data, x.offset, w.data, w.offset, out);
 * ```
 */
export function depthwiseForward(g: ConvGeometry, x: Float32Array, xOff: number, w: Float32Array, wOff: number, out: Float32Array): void {
  const { n, c, h, w: wd, o, og, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow } = g;
  const R = taps(kh, pt, dh, sh, oh, h), C = taps(kw, pl, dw, sw, ow, wd);
  const plane = h * wd, p = oh * ow;
  for (let img = 0; img < n; img++) {
    for (let oc = 0; oc < o; oc++) {
      const src = xOff + (img * c + Math.floor(oc / og)) * plane, dst = (img * o + oc) * p;
      for (let a = 0; a < kh; a++) {
        const yLo = R[3 * a]!, yHi = R[3 * a + 1]!, rowOff = R[3 * a + 2]!;
        for (let b = 0; b < kw; b++) {
          const xLo = C[3 * b]!, xHi = C[3 * b + 1]!, colOff = C[3 * b + 2]!;
          const wv = w[wOff + (oc * kh + a) * kw + b]!;
          for (let y = yLo; y < yHi; y++) {
            const s = src + (y * sh + rowOff) * wd + colOff, d = dst + y * ow;
            if (sw === 1) for (let j = xLo; j < xHi; j++) out[d + j] += wv * x[s + j]!;
            else for (let j = xLo; j < xHi; j++) out[d + j] += wv * x[s + j * sw]!;
          }
        }
      }
    }
  }
}

/**
 * Gradients of a `cg = 1` convolution for upstream `dy [N, O, OH, OW]`: `dx` (zero-filled
 * `[N, C, H, W]`, accumulated) and/or `dw` (`[O, 1, kH, kW]`, overwritten; float64 sums).
 *
 * @throws never (callers check `g.cg === 1`).
 * @example
 * ```ts
 * depthwiseBackward(g, dy.data, dy.offset, x.data, x.offset, w.data, w.offset, dx, dw);
 * ```
 */
export function depthwiseBackward(g: ConvGeometry, dy: Float32Array, dyOff: number, x: Float32Array, xOff: number, w: Float32Array, wOff: number, dx: Float32Array | null, dwOut: Float32Array | null): void {
  const { n, c, h, w: wd, o, og, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow } = g;
  const R = taps(kh, pt, dh, sh, oh, h), C = taps(kw, pl, dw, sw, ow, wd);
  const plane = h * wd, p = oh * ow;
  const acc = dwOut ? new Float64Array(dwOut.length) : null;
  for (let img = 0; img < n; img++) {
    for (let oc = 0; oc < o; oc++) {
      const xAt = (img * c + Math.floor(oc / og)) * plane, gAt = dyOff + (img * o + oc) * p;
      for (let a = 0; a < kh; a++) {
        const yLo = R[3 * a]!, yHi = R[3 * a + 1]!, rowOff = R[3 * a + 2]!;
        for (let b = 0; b < kw; b++) {
          const xLo = C[3 * b]!, xHi = C[3 * b + 1]!, colOff = C[3 * b + 2]!;
          const wi = (oc * kh + a) * kw + b, wv = w[wOff + wi]!;
          let s = 0;
          for (let y = yLo; y < yHi; y++) {
            const at = xAt + (y * sh + rowOff) * wd + colOff, gr = gAt + y * ow;
            if (dx) for (let j = xLo; j < xHi; j++) dx[at + j * sw] += wv * dy[gr + j]!; // dx += w·dy
            if (acc) for (let j = xLo; j < xHi; j++) s += dy[gr + j]! * x[xOff + at + j * sw]!; // dw += dy·x
          }
          if (acc) acc[wi] += s;
        }
      }
    }
  }
  if (dwOut && acc) for (let i = 0; i < acc.length; i++) dwOut[i] = acc[i]!;
}
