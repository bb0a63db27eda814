/**
 * @file 2-D pooling, NCHW, as PyTorch 1.13's `max_pool2d` (padding, dilation, ceil mode),
 * `avg_pool2d` (padding, ceil mode, `count_include_pad`, `divisor_override`) and
 * `adaptive_avg_pool2d`, with their gradients. Direct loops over each plane (pooling is memory
 * bound); window bounds are computed per output row and column, never per element.
 */
import { ShapeError, fmt } from "./errors.js";
import { Tensor, checkTensor } from "./tensor.js";
import { checkLive } from "./memory.js";
import { spatialPair, type Spatial2 } from "./conv-geometry.js";

/**
 * Options of {@link maxPool2d}.
 *
 * @example
 * ```ts
 * const opts: MaxPool2dOptions = { kernelSize: 3, stride: 2, padding: 1, ceilMode: true };
 * ```
 */
export interface MaxPool2dOptions {
  kernelSize: Spatial2;
  /** Defaults to the kernel size. */
  stride?: Spatial2;
  /** Implicit `-inf` padding, at most half the kernel (default 0). */
  padding?: Spatial2;
  /** Default 1. */
  dilation?: Spatial2;
  /** Round the output size up (the last window must start inside the input or the left padding). */
  ceilMode?: boolean;
}

/**
 * Options of {@link avgPool2d}.
 *
 * @example
 * ```ts
 * const opts: AvgPool2dOptions = { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false };
 * ```
 */
export interface AvgPool2dOptions {
  kernelSize: Spatial2;
  /** Defaults to the kernel size. */
  stride?: Spatial2;
  /** Zero padding, at most half the kernel (default 0). */
  padding?: Spatial2;
  ceilMode?: boolean;
  /** Count the zero padding in the divisor (default true). */
  countIncludePad?: boolean;
  /** Divide every window by this instead (default null). */
  divisorOverride?: number | null;
}

/** One pooled dim: input `l`, kernel `k`, stride `s`, padding `p`, dilation `d`, output `out`. */
interface Dim { l: number; k: number; s: number; p: number; d: number; out: number }

/** PyTorch's pooling output size, with the ceil-mode rule that the last window starts inside. */
function pooledSize(l: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = l + 2 * p - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= l + p) out--;
  return out;
}

interface PoolGeometry { n: number; c: number; h: number; w: number; y: Dim; x: Dim }

function poolGeometry(op: string, shape: readonly number[], kernelSize: Spatial2, stride: Spatial2 | undefined, padding: Spatial2 | undefined, dilation: Spatial2 | undefined, ceil: boolean): PoolGeometry {
  if (shape.length !== 4) throw new ShapeError(op, "input must be [N,C,H,W]", [shape]);
  const [n, c, h, w] = shape as [number, number, number, number];
  const [kh, kw] = spatialPair(op, kernelSize, 1, "kernelSize", 1);
  const [sh, sw] = spatialPair(op, stride ?? kernelSize, 1, "stride", 1);
  const [ph, pw] = spatialPair(op, padding, 0, "padding", 0);
  const [dh, dw] = spatialPair(op, dilation, 1, "dilation", 1);
  if (2 * ph > kh || 2 * pw > kw) throw new RangeError(`${op}: padding ${fmt([ph, pw])} must be at most half the kernel size ${fmt([kh, kw])}`);
  const oh = pooledSize(h, kh, sh, ph, dh, ceil), ow = pooledSize(w, kw, sw, pw, dw, ceil);
  if (oh < 1 || ow < 1) {
    throw new ShapeError(op, `kernel ${kh}x${kw} (dilation ${fmt([dh, dw])}) is larger than the padded input ${h + 2 * ph}x${w + 2 * pw}`, [shape]);
  }
  return { n, c, h, w, y: { l: h, k: kh, s: sh, p: ph, d: dh, out: oh }, x: { l: w, k: kw, s: sw, p: pw, d: dw, out: ow } };
}

/**
 * Per output position of one dim, the kernel taps `[lo, hi)` whose input index
 * `i·s − p + tap·d` lies inside `[0, l)`; empty only when a dilated window's taps all fall in
 * the padding (its max is then `-inf`, as in torch).
 */
function tapRange(D: Dim): { lo: Int32Array; hi: Int32Array } {
  const lo = new Int32Array(D.out), hi = new Int32Array(D.out);
  for (let i = 0; i < D.out; i++) {
    const s0 = i * D.s - D.p;
    let a = 0, b = D.k;
    while (a < D.k && s0 + a * D.d < 0) a++;
    while (b > a && s0 + (b - 1) * D.d >= D.l) b--;
    lo[i] = a;
    hi[i] = b;
  }
  return { lo, hi };
}

/**
 * Max pooling (`torch.nn.functional.max_pool2d`) of `x [N,C,H,W]`; also returns, per output, the
 * flat index within its `H·W` plane of the window's maximum (for the backward pass; -1 for a
 * window whose taps all fall in the padding, whose max is `-inf`). Positions outside the input
 * are ignored; NaN wins (the last NaN, as torch's CPU kernel).
 *
 * @throws {ShapeError} for a non-4-D input or a window larger than the padded input;
 * {RangeError} for bad options (e.g. padding more than half the kernel).
 * @example
 * ```ts
 * const { value, indices } = maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 });
 * ```
 */
export function maxPool2d(x: Tensor, opts: MaxPool2dOptions): { value: Tensor; indices: Int32Array } {
  checkTensor("maxPool2d", "x", x);
  checkLive("maxPool2d", x.data);
  const g = poolGeometry("maxPool2d", x.shape, opts.kernelSize, opts.stride, opts.padding, opts.dilation, opts.ceilMode === true);
  const { h, w, y: Y, x: X } = g;
  const xd = x.contiguous(), d = xd.data;
  const out = new Float32Array(g.n * g.c * Y.out * X.out);
  const idx = new Int32Array(out.length);
  if (Y.k === 2 && X.k === 2 && Y.s === 2 && X.s === 2 && Y.p === 0 && X.p === 0 && Y.d === 1 && X.d === 1 && 2 * Y.out <= h && 2 * X.out <= w) {
    maxPool2x2(d, xd.offset, g.n * g.c, h, w, Y.out, X.out, out, idx);
    return { value: new Tensor(out, [g.n, g.c, Y.out, X.out]), indices: idx };
  }
  const R = tapRange(Y), C = tapRange(X);
  const oh = Y.out, ow = X.out, sh = Y.s, sw = X.s, ph = Y.p, pw = X.p, dh = Y.d, dw = X.d, planes = g.n * g.c;
  const rLo = R.lo, rHi = R.hi, cLo = C.lo, cHi = C.hi;
  let o = 0;
  for (let plane = 0; plane < planes; plane++) {
    const base = xd.offset + plane * h * w;
    for (let i = 0; i < oh; i++) {
      const r0 = i * sh - ph, aLo = rLo[i]!, aHi = rHi[i]!;
      for (let j = 0; j < ow; j++, o++) {
        const c0 = j * sw - pw, bLo = cLo[j]!, bHi = cHi[j]!;
        if (aLo >= aHi || bLo >= bHi) { out[o] = -Infinity; idx[o] = -1; continue; } // every tap in the padding (dilation)
        let bi = (r0 + aLo * dh) * w + c0 + bLo * dw, best = d[base + bi]!;
        for (let a = aLo; a < aHi; a++) {
          const row = (r0 + a * dh) * w + c0;
          for (let b = bLo; b < bHi; b++) {
            const at = row + b * dw, v = d[base + at]!;
            if (v > best || (v !== v && at !== bi)) { best = v; bi = at; }
          }
        }
        out[o] = best;
        idx[o] = bi;
      }
    }
  }
  return { value: new Tensor(out, [g.n, g.c, Y.out, X.out]), indices: idx };
}

/** The common 2×2, stride-2 window without padding, every window inside: straight-line, same tie and NaN rules. */
function maxPool2x2(d: Float32Array, off: number, planes: number, h: number, w: number, oh: number, ow: number, out: Float32Array, idx: Int32Array): void {
  let o = 0;
  for (let plane = 0; plane < planes; plane++) {
    const base = off + plane * h * w;
    for (let i = 0; i < oh; i++) {
      const r = 2 * i * w;
      for (let j = 0; j < ow; j++, o++) {
        const at = r + 2 * j, at2 = at + w;
        const v0 = d[base + at]!, v1 = d[base + at + 1]!, v2 = d[base + at2]!, v3 = d[base + at2 + 1]!;
        let best = v0, bi = at;
        if (v1 > best || (v1 !== v1)) { best = v1; bi = at + 1; }
        if (v2 > best || (v2 !== v2)) { best = v2; bi = at2; }
        if (v3 > best || (v3 !== v3)) { best = v3; bi = at2 + 1; }
        out[o] = best;
        idx[o] = bi;
      }
    }
  }
}

/**
 * Gradient of {@link maxPool2d}: each upstream gradient goes to its window's maximum (summed
 * where windows share it).
 *
 * @throws {ShapeError} when `dy`, `indices` and `inputShape` disagree.
 * @example
 * ```ts
 * const dx = maxPool2dBackward(dy, indices, x.shape);
 * ```
 */
export function maxPool2dBackward(dy: Tensor, indices: Int32Array, inputShape: readonly number[]): Tensor {
  checkTensor("maxPool2dBackward", "dy", dy);
  if (dy.size !== indices.length || inputShape.length !== 4 || dy.ndim !== 4 || dy.shape[0] !== inputShape[0] || dy.shape[1] !== inputShape[1]) {
    throw new ShapeError("maxPool2dBackward", "dy and indices disagree with the input", [dy.shape, inputShape]);
  }
  const [n, c, h, w] = inputShape as [number, number, number, number];
  const per = dy.shape[2]! * dy.shape[3]!;
  const gd = dy.contiguous(), g = gd.data;
  const dx = new Float32Array(n * c * h * w);
  for (let plane = 0, k = 0; plane < n * c; plane++) {
    const base = plane * h * w, src = gd.offset + plane * per;
    for (let q = 0; q < per; q++, k++) if (indices[k]! >= 0) dx[base + indices[k]!] += g[src + q]!;
  }
  return new Tensor(dx, inputShape);
}

/** Row/col bounds of every avg-pool window of one dim: in-input `[lo, hi)` and padded size. */
function avgBounds(D: Dim): { lo: Int32Array; hi: Int32Array; size: Int32Array } {
  const lo = new Int32Array(D.out), hi = new Int32Array(D.out), size = new Int32Array(D.out);
  for (let i = 0; i < D.out; i++) {
    const s0 = i * D.s - D.p, s1 = Math.min(s0 + D.k, D.l + D.p);
    size[i] = s1 - s0;
    lo[i] = Math.max(s0, 0);
    hi[i] = Math.min(s1, D.l);
  }
  return { lo, hi, size };
}

function avgGeometry(op: string, shape: readonly number[], opts: AvgPool2dOptions): PoolGeometry {
  const dv = opts.divisorOverride;
  if (dv !== undefined && dv !== null && (!Number.isInteger(dv) || dv === 0)) throw new RangeError(`${op}: divisorOverride must be a non-zero integer (got ${dv})`);
  return poolGeometry(op, shape, opts.kernelSize, opts.stride, opts.padding, 1, opts.ceilMode === true);
}

/**
 * Average pooling (`torch.nn.functional.avg_pool2d`) of `x [N,C,H,W]`. Divisor per window: the
 * override, else the window clipped to the padded input (`countIncludePad`), else the number of
 * in-input elements.
 *
 * @throws {ShapeError} for a non-4-D input or a window larger than the padded input;
 * {RangeError} for bad options.
 * @example
 * ```ts
 * avgPool2d(x, { kernelSize: 2 }); // [N, C, H/2, W/2]
 * ```
 */
export function avgPool2d(x: Tensor, opts: AvgPool2dOptions): Tensor {
  checkTensor("avgPool2d", "x", x);
  checkLive("avgPool2d", x.data);
  const g = avgGeometry("avgPool2d", x.shape, opts);
  const xd = x.contiguous(), d = xd.data, hw = g.h * g.w, w = g.w;
  const out = new Float32Array(g.n * g.c * g.y.out * g.x.out);
  const R = avgBounds(g.y), C = avgBounds(g.x);
  const include = opts.countIncludePad ?? true, over = opts.divisorOverride ?? null;
  for (let plane = 0, o = 0; plane < g.n * g.c; plane++) {
    const base = xd.offset + plane * hw;
    for (let i = 0; i < g.y.out; i++) {
      const r0 = R.lo[i]!, r1 = R.hi[i]!;
      for (let j = 0; j < g.x.out; j++, o++) {
        const c0 = C.lo[j]!, c1 = C.hi[j]!;
        let s = 0;
        for (let r = r0; r < r1; r++) for (let cc = c0; cc < c1; cc++) s += d[base + r * w + cc]!;
        out[o] = s / (over ?? (include ? R.size[i]! * C.size[j]! : (r1 - r0) * (c1 - c0)));
      }
    }
  }
  return new Tensor(out, [g.n, g.c, g.y.out, g.x.out]);
}

/**
 * Gradient of {@link avgPool2d}: each window's `dy / divisor` spread over its in-input elements.
 *
 * @throws {ShapeError} when `dy` does not match the output shape, or as {@link avgPool2d}.
 * @example
 * ```ts
 * const dx = avgPool2dBackward(dy, x.shape, { kernelSize: 2 });
 * ```
 */
export function avgPool2dBackward(dy: Tensor, inputShape: readonly number[], opts: AvgPool2dOptions): Tensor {
  checkTensor("avgPool2dBackward", "dy", dy);
  const g = avgGeometry("avgPool2dBackward", inputShape, opts);
  const want = [g.n, g.c, g.y.out, g.x.out];
  if (dy.ndim !== 4 || dy.shape.some((v, i) => v !== want[i])) throw new ShapeError("avgPool2dBackward", "dy does not match the output shape", [dy.shape, want]);
  const gd = dy.contiguous(), gv = gd.data, hw = g.h * g.w, w = g.w;
  const dx = new Float32Array(g.n * g.c * hw);
  const R = avgBounds(g.y), C = avgBounds(g.x);
  const include = opts.countIncludePad ?? true, over = opts.divisorOverride ?? null;
  for (let plane = 0, o = gd.offset; plane < g.n * g.c; plane++) {
    const base = plane * hw;
    for (let i = 0; i < g.y.out; i++) {
      const r0 = R.lo[i]!, r1 = R.hi[i]!;
      for (let j = 0; j < g.x.out; j++, o++) {
        const c0 = C.lo[j]!, c1 = C.hi[j]!;
        const v = gv[o]! / (over ?? (include ? R.size[i]! * C.size[j]! : (r1 - r0) * (c1 - c0)));
        for (let r = r0; r < r1; r++) for (let cc = c0; cc < c1; cc++) dx[base + r * w + cc] += v;
      }
    }
  }
  return new Tensor(dx, inputShape);
}

/** Reads an adaptive output size `[oH, oW]`. */
function adaptiveSize(shape: readonly number[], outputSize: Spatial2): [number, number] {
  if (shape.length !== 4) throw new ShapeError("adaptiveAvgPool2d", "input must be [N,C,H,W]", [shape]);
  if (shape[2] === 0 || shape[3] === 0) throw new ShapeError("adaptiveAvgPool2d", "input must not have empty spatial dims", [shape]);
  return spatialPair("adaptiveAvgPool2d", outputSize, 1, "outputSize", 1);
}

/**
 * Adaptive average pooling (`torch.nn.functional.adaptive_avg_pool2d`): window `(i, j)` covers
 * rows `⌊i·H/oH⌋ .. ⌈(i+1)·H/oH⌉ − 1` (cols alike); windows overlap when `H` is not a multiple
 * of `oH`.
 *
 * @throws {ShapeError} for a non-4-D input or empty spatial dims; {RangeError} for a bad size.
 * @example
 * ```ts
 * adaptiveAvgPool2d(features, 1); // global average pooling: [N, C, 1, 1]
 * ```
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Spatial2): Tensor {
  checkTensor("adaptiveAvgPool2d", "x", x);
  checkLive("adaptiveAvgPool2d", x.data);
  const [oh, ow] = adaptiveSize(x.shape, outputSize);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const xd = x.contiguous(), d = xd.data;
  const out = new Float32Array(n * c * oh * ow);
  let o = 0;
  for (let plane = 0; plane < n * c; plane++) {
    const base = xd.offset + plane * h * w;
    for (let i = 0; i < oh; i++) {
      const r0 = Math.floor((i * h) / oh), r1 = Math.ceil(((i + 1) * h) / oh);
      for (let j = 0; j < ow; j++, o++) {
        const c0 = Math.floor((j * w) / ow), c1 = Math.ceil(((j + 1) * w) / ow);
        let s = 0;
        for (let r = r0; r < r1; r++) for (let cc = c0; cc < c1; cc++) s += d[base + r * w + cc]!;
        out[o] = s / ((r1 - r0) * (c1 - c0));
      }
    }
  }
  return new Tensor(out, [n, c, oh, ow]);
}

/**
 * Gradient of {@link adaptiveAvgPool2d}: each window's `dy / size` spread over the window.
 *
 * @throws {ShapeError} when `dy` is not `[N, C, oH, oW]` for the input shape.
 * @example
 * ```ts
 * const dx = adaptiveAvgPool2dBackward(dy, x.shape);
 * ```
 */
export function adaptiveAvgPool2dBackward(dy: Tensor, inputShape: readonly number[]): Tensor {
  if (dy.ndim !== 4 || inputShape.length !== 4 || dy.shape[0] !== inputShape[0] || dy.shape[1] !== inputShape[1]) {
    throw new ShapeError("adaptiveAvgPool2dBackward", "dy does not match the input", [dy.shape, inputShape]);
  }
  const [n, c, h, w] = inputShape as [number, number, number, number];
  const oh = dy.shape[2]!, ow = dy.shape[3]!;
  const gd = dy.contiguous(), g = gd.data;
  const dx = new Float32Array(n * c * h * w);
  let o = gd.offset;
  for (let plane = 0; plane < n * c; plane++) {
    const base = plane * h * w;
    for (let i = 0; i < oh; i++) {
      const r0 = Math.floor((i * h) / oh), r1 = Math.ceil(((i + 1) * h) / oh);
      for (let j = 0; j < ow; j++, o++) {
        const c0 = Math.floor((j * w) / ow), c1 = Math.ceil(((j + 1) * w) / ow);
        const v = g[o]! / ((r1 - r0) * (c1 - c0));
        for (let r = r0; r < r1; r++) for (let cc = c0; cc < c1; cc++) dx[base + r * w + cc] += v;
      }
    }
  }
  return new Tensor(dx, inputShape);
}

/**
 * Output shape of {@link maxPool2d} for `inputShape`, validated with errors naming `op` (e.g. a
 * layer's name).
 *
 * @throws {ShapeError} for a non-4-D input or a window larger than the padded input;
 * {RangeError} for bad options.
 * @example
 * ```ts
 * maxPool2dOutputShape("MaxPool2d", [1, 3, 7, 7], { kernelSize: 3, stride: 2, padding: 1 }); // [1, 3, 4, 4]
 * ```
 */
export function maxPool2dOutputShape(op: string, inputShape: readonly number[], opts: MaxPool2dOptions): number[] {
  const g = poolGeometry(op, inputShape, opts.kernelSize, opts.stride, opts.padding, opts.dilation, opts.ceilMode === true);
  return [g.n, g.c, g.y.out, g.x.out];
}

/**
 * Output shape of {@link avgPool2d} for `inputShape`, validated with errors naming `op`.
 *
 * @throws {ShapeError} for a non-4-D input or a window larger than the padded input;
 * {RangeError} for bad options.
 * @example
 * ```ts
 * avgPool2dOutputShape("AvgPool2d", [1, 3, 5, 5], { kernelSize: 2, ceilMode: true }); // [1, 3, 3, 3]
 * ```
 */
export function avgPool2dOutputShape(op: string, inputShape: readonly number[], opts: AvgPool2dOptions): number[] {
  const g = avgGeometry(op, inputShape, opts);
  return [g.n, g.c, g.y.out, g.x.out];
}
