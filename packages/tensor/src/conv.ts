/**
 * @file 2-D convolution (cross-correlation, as `torch.nn.functional.conv2d` with dilation 1 and
 * groups 1) and max pooling, NCHW layout, with the kernels their gradients need.
 *
 * Convolution lowers each image to columns (im2col: `[C·kH·kW, OH·OW]`) and runs one GEMM per
 * image, `W [O, C·kH·kW] · cols`; the input gradient is the transpose product scattered back
 * (col2im), the weight gradient `dy · colsᵀ` summed over the batch.
 */
import { ShapeError } from "./errors.js";
import { Tensor } from "./tensor.js";
import { kernels } from "./backend.js";
import { checkLive } from "./memory.js";

/** Stride and zero padding, one number for both spatial dims or `[h, w]`. */
export interface Conv2dOptions {
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number];
}

interface Geometry {
  n: number; c: number; h: number; w: number; o: number; kh: number; kw: number;
  sh: number; sw: number; ph: number; pw: number; oh: number; ow: number;
}

function pair(op: string, v: number | readonly [number, number] | undefined, def: number, name: string, min: number): [number, number] {
  const p: [number, number] = v === undefined ? [def, def] : typeof v === "number" ? [v, v] : [v[0], v[1]];
  if (!p.every((x) => Number.isInteger(x) && x >= min)) throw new RangeError(`${op}: ${name} must be integers >= ${min} (got ${JSON.stringify(v)})`);
  return p;
}

function geometry(x: readonly number[], wShape: readonly number[], opts: Conv2dOptions): Geometry {
  if (x.length !== 4 || wShape.length !== 4) throw new ShapeError("conv2d", "input must be [N,C,H,W] and weight [O,C,kH,kW]", [x, wShape]);
  const [n, c, h, w] = x as [number, number, number, number];
  const [o, wc, kh, kw] = wShape as [number, number, number, number];
  if (wc !== c) throw new ShapeError("conv2d", `weight expects ${wc} input channels but the input has ${c}`, [x, wShape]);
  const [sh, sw] = pair("conv2d", opts.stride, 1, "stride", 1);
  const [ph, pw] = pair("conv2d", opts.padding, 0, "padding", 0);
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
  if (oh <= 0 || ow <= 0) throw new ShapeError("conv2d", "the kernel is larger than the padded input", [x, wShape]);
  return { n, c, h, w, o, kh, kw, sh, sw, ph, pw, oh, ow };
}

/**
 * The im2col layout, defined once for {@link im2col} and its adjoint {@link col2im}: for each entry
 * of one image's columns `[C·kH·kW, OH·OW]`, the offset within the image `[C, H, W]` of the pixel
 * it holds, or -1 where it falls on the zero padding.
 */
function patchOffsets(g: Geometry): Int32Array {
  const { c, h, w, kh, kw, sh, sw, ph, pw, oh, ow } = g;
  const offsets = new Int32Array(c * kh * kw * oh * ow);
  let i = 0;
  for (let ci = 0; ci < c; ci++) {
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        for (let y = 0; y < oh; y++) {
          const iy = y * sh - ph + ki;
          for (let xo = 0; xo < ow; xo++, i++) {
            const ix = xo * sw - pw + kj;
            offsets[i] = iy >= 0 && iy < h && ix >= 0 && ix < w ? (ci * h + iy) * w + ix : -1;
          }
        }
      }
    }
  }
  return offsets;
}

/** Writes image `img` (offset into x) as columns `[C·kH·kW, OH·OW]` laid out by `offsets`. */
function im2col(x: Float32Array, img: number, offsets: Int32Array, cols: Float32Array): void {
  for (let i = 0; i < offsets.length; i++) {
    const at = offsets[i]!;
    cols[i] = at >= 0 ? x[img + at]! : 0;
  }
}

/** Adds columns back into image `img` of `dx` (the adjoint of im2col). */
function col2im(cols: Float32Array, offsets: Int32Array, dx: Float32Array, img: number): void {
  for (let i = 0; i < offsets.length; i++) {
    const at = offsets[i]!;
    if (at >= 0) dx[img + at]! += cols[i]!;
  }
}

/**
 * 2-D cross-correlation: `x [N,C,H,W]`, `weight [O,C,kH,kW]`, optional `bias [O]` →
 * `[N, O, ⌊(H+2p−kH)/s⌋+1, ⌊(W+2p−kW)/s⌋+1]`.
 *
 * @throws {ShapeError} for incompatible shapes; {RangeError} for bad stride/padding.
 * @example
 * ```ts
 * conv2d(images, filters, bias, { stride: 1, padding: 1 });
 * ```
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  for (const t of [x, weight, bias]) if (t instanceof Tensor) checkLive("conv2d", t.data);
  const g = geometry(x.shape, weight.shape, opts);
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== g.o)) throw new ShapeError("conv2d", `bias must be [${g.o}]`, [bias.shape]);
  const xd = x.contiguous(), wd = weight.contiguous();
  const k = g.c * g.kh * g.kw, p = g.oh * g.ow;
  const out = new Float32Array(g.n * g.o * p);
  const cols = new Float32Array(k * p);
  const offsets = patchOffsets(g);
  const gemm = kernels().gemm;
  const bd = bias?.toFloat32Array();
  for (let i = 0; i < g.n; i++) {
    im2col(xd.data, xd.offset + i * g.c * g.h * g.w, offsets, cols);
    const at = i * g.o * p;
    if (bd) for (let oc = 0; oc < g.o; oc++) out.fill(bd[oc]!, at + oc * p, at + (oc + 1) * p);
    gemm(g.o, p, k, wd.data, wd.offset, k, 1, cols, 0, p, 1, out, at, p, bd !== undefined);
  }
  return new Tensor(out, [g.n, g.o, g.oh, g.ow]);
}

/**
 * Gradients of {@link conv2d}: with respect to the input, the weight and the bias, for upstream
 * gradient `dy` `[N,O,OH,OW]`. Pass `need` to skip the ones not wanted.
 *
 * @throws {ShapeError} when `dy` does not match the convolution's output shape.
 * @example
 * ```ts
 * const { dx, dw, db } = conv2dBackward(dy, x, w, { padding: 1 });
 * ```
 */
export function conv2dBackward(dy: Tensor, x: Tensor, weight: Tensor, opts: Conv2dOptions = {}, need: { dx?: boolean; dw?: boolean; db?: boolean } = {}): { dx: Tensor | null; dw: Tensor | null; db: Tensor | null } {
  const g = geometry(x.shape, weight.shape, opts);
  if (dy.ndim !== 4 || dy.shape[0] !== g.n || dy.shape[1] !== g.o || dy.shape[2] !== g.oh || dy.shape[3] !== g.ow) {
    throw new ShapeError("conv2dBackward", "dy does not match the output shape", [dy.shape, [g.n, g.o, g.oh, g.ow]]);
  }
  const k = g.c * g.kh * g.kw, p = g.oh * g.ow;
  const gy = dy.contiguous(), xd = x.contiguous(), wd = weight.contiguous();
  const gemm = kernels().gemm;
  const cols = new Float32Array(k * p);
  const offsets = patchOffsets(g);
  const wantDx = need.dx ?? true, wantDw = need.dw ?? true, wantDb = need.db ?? true;
  const dx = wantDx ? new Float32Array(g.n * g.c * g.h * g.w) : null;
  const dw = wantDw ? new Float32Array(g.o * k) : null;
  const db = wantDb ? new Float64Array(g.o) : null;
  for (let i = 0; i < g.n; i++) {
    const dyAt = gy.offset + i * g.o * p;
    if (dw) {
      im2col(xd.data, xd.offset + i * g.c * g.h * g.w, offsets, cols);
      gemm(g.o, k, p, gy.data, dyAt, p, 1, cols, 0, 1, p, dw, 0, k, i > 0); // dW += dy_i · colsᵀ
    }
    if (dx) {
      gemm(k, p, g.o, wd.data, wd.offset, 1, k, gy.data, dyAt, p, 1, cols, 0, p, false); // cols = Wᵀ · dy_i
      col2im(cols, offsets, dx, i * g.c * g.h * g.w);
    }
    if (db) for (let oc = 0; oc < g.o; oc++) { let s = 0; const at = dyAt + oc * p; for (let j = 0; j < p; j++) s += gy.data[at + j]!; db[oc]! += s; }
  }
  return {
    dx: dx ? new Tensor(dx, x.shape) : null,
    dw: dw ? new Tensor(dw, weight.shape) : null,
    db: db ? new Tensor(Float32Array.from(db), [g.o]) : null,
  };
}

/** Options of {@link maxPool2d} (no padding; floor mode: incomplete windows are dropped). */
export interface MaxPool2dOptions {
  kernelSize: number | readonly [number, number];
  /** Defaults to the kernel size. */
  stride?: number | readonly [number, number];
}

/**
 * Max pooling over `kH×kW` windows of `x [N,C,H,W]`; also returns, for each output, the flat
 * index (within its `H·W` plane) of the maximum, for the backward pass. NaN wins.
 *
 * @throws {ShapeError} for a non-4-D input or a window larger than the input.
 * @example
 * ```ts
 * const { value, indices } = maxPool2d(x, { kernelSize: 2 });
 * ```
 */
export function maxPool2d(x: Tensor, opts: MaxPool2dOptions): { value: Tensor; indices: Int32Array } {
  if (x instanceof Tensor) checkLive("maxPool2d", x.data);
  if (x.ndim !== 4) throw new ShapeError("maxPool2d", "input must be [N,C,H,W]", [x.shape]);
  const [kh, kw] = pair("maxPool2d", opts.kernelSize, 1, "kernelSize", 1);
  const [sh, sw] = pair("maxPool2d", opts.stride ?? opts.kernelSize, 1, "stride", 1);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const oh = Math.floor((h - kh) / sh) + 1, ow = Math.floor((w - kw) / sw) + 1;
  if (oh <= 0 || ow <= 0) throw new ShapeError("maxPool2d", `window ${kh}x${kw} is larger than the input`, [x.shape]);
  const xd = x.contiguous();
  const d = xd.data;
  const out = new Float32Array(n * c * oh * ow);
  const idx = new Int32Array(out.length);
  let o = 0;
  for (let plane = 0; plane < n * c; plane++) {
    const base = xd.offset + plane * h * w;
    for (let y = 0; y < oh; y++) {
      for (let xo = 0; xo < ow; xo++, o++) {
        let best = -Infinity, bi = (y * sh) * w + xo * sw;
        for (let i = 0; i < kh; i++) {
          const row = (y * sh + i) * w + xo * sw;
          for (let j = 0; j < kw; j++) {
            const v = d[base + row + j]!;
            if (v > best || v !== v) { best = v; bi = row + j; if (v !== v) { i = kh; break; } }
          }
        }
        out[o] = best;
        idx[o] = bi;
      }
    }
  }
  return { value: new Tensor(out, [n, c, oh, ow]), indices: idx };
}

/**
 * Gradient of {@link maxPool2d}: routes each upstream gradient to its window's maximum.
 *
 * @throws {ShapeError} when sizes disagree.
 * @example
 * ```ts
 * const dx = maxPool2dBackward(dy, indices, x.shape);
 * ```
 */
export function maxPool2dBackward(dy: Tensor, indices: Int32Array, inputShape: readonly number[]): Tensor {
  if (dy.size !== indices.length || inputShape.length !== 4) throw new ShapeError("maxPool2dBackward", "dy and indices disagree", [dy.shape, inputShape]);
  const [n, c, h, w] = inputShape as [number, number, number, number];
  const per = dy.size / (n * c);
  const g = dy.toFloat32Array();
  const dx = new Float32Array(n * c * h * w);
  for (let k = 0; k < g.length; k++) dx[Math.floor(k / per) * h * w + indices[k]!]! += g[k]!;
  return new Tensor(dx, inputShape);
}
