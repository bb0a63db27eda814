/**
 * @file Convolutions, NCHW / NCL layout, as PyTorch 1.13's `conv1d`, `conv2d` and
 * `conv_transpose2d` (stride, padding incl. `"same"`/`"valid"`, dilation, groups), with their
 * gradients.
 *
 * Every pass is one of three GEMMs over im2col columns (`conv-im2col.ts`), run on a chunk of
 * images at a time (about 4 MiB of columns), per channel group, through the backend's GEMM (wasm
 * SIMD and the thread pool when active):
 * - forward: `Y_g [O/g, nb·P] = W_g [O/g, K] · cols_g [K, nb·P]`;
 * - input gradient: `cols_g = W_gᵀ · dY_g`, added back into the image by col2im;
 * - weight gradient: `dW_g += dY_g · cols_gᵀ`.
 * A transposed convolution is the adjoint of a convolution: its forward is that convolution's
 * input gradient, its input gradient that convolution's forward.
 */
import { ShapeError } from "./errors.js";
import { Tensor, checkTensor } from "./tensor.js";
import { kernels } from "./backend.js";
import { checkLive, dispose } from "./memory.js";
import { im2col, col2im } from "./conv-im2col.js";
import { depthwiseForward, depthwiseBackward } from "./conv-depthwise.js";
import {
  convGeometry, convTransposeGeometry, conv1dAs2d,
  type ConvGeometry, type Conv2dOptions, type Conv1dOptions, type ConvTranspose2dOptions,
} from "./conv-geometry.js";

export type { Conv2dOptions, Conv1dOptions, ConvTranspose2dOptions, ConvPadding, Spatial2 } from "./conv-geometry.js";

/**
 * Which gradients a backward call computes (each defaults to true).
 *
 * @example
 * ```ts
 * const need: ConvNeeds = { dx: false }; // weight and bias gradients only
 * ```
 */
export interface ConvNeeds { dx?: boolean; dw?: boolean; db?: boolean }

/**
 * Gradients of a convolution; null where not requested.
 *
 * @example
 * ```ts
 * const { dx, dw, db }: ConvGrads = conv2dBackward(dy, x, w);
 * ```
 */
export interface ConvGrads { dx: Tensor | null; dw: Tensor | null; db: Tensor | null }

/** Floats of im2col columns per chunk of images (4 MiB). */
const CHUNK = 1 << 20;
/**
 * Scratch buffers, grown on demand and reused: columns, GEMM output, gathered dY. They are placed
 * by the active kernel set (`alloc`: wasm memory with the wasm kernels), so its GEMM reads and
 * writes them in place instead of staging copies; a buffer outgrown or from another set is
 * released at once.
 */
let colsBuf: Float32Array = new Float32Array(0), tmpBuf: Float32Array = new Float32Array(0), dyBuf: Float32Array = new Float32Array(0);
let scratchSet: unknown = null;
function grow(b: Float32Array, n: number): Float32Array {
  const set = kernels();
  if (set !== scratchSet) {
    for (const old of [colsBuf, tmpBuf, dyBuf]) if (old.length > 0) dispose(old);
    colsBuf = tmpBuf = dyBuf = b = new Float32Array(0);
    scratchSet = set;
  }
  if (b.length >= n) return b;
  if (b.length > 0) dispose(b);
  return set.alloc(Math.max(n, Math.min(b.length * 2, CHUNK)));
}

/** Images per chunk so that the columns stay near {@link CHUNK} floats (at least one). */
function chunkOf(g: ConvGeometry): number {
  const per = Math.max(g.cg * g.kh * g.kw, g.o) * g.oh * g.ow;
  return Math.max(1, Math.min(g.n, Math.floor(CHUNK / Math.max(1, per))));
}

/**
 * Whether the direct kernels of `conv-depthwise.ts` run instead of im2col + GEMM: groups of one
 * input channel (depthwise), where each GEMM would have `O/groups` rows only.
 */
const direct = (g: ConvGeometry): boolean => g.cg === 1 && g.groups > 1 && g.og <= 4;

/** Copies `dy [N, O, P]` of images `i0 .. i0+m−1` into `dyT [O, m·P]` (channel-major). */
function gatherDy(g: ConvGeometry, dy: Float32Array, dyOff: number, i0: number, m: number, out: Float32Array): void {
  const p = g.oh * g.ow, ld = m * p;
  for (let oc = 0; oc < g.o; oc++) {
    for (let img = 0; img < m; img++) {
      const s = dyOff + ((i0 + img) * g.o + oc) * p;
      out.set(dy.subarray(s, s + p), oc * ld + img * p);
    }
  }
}

/** `out [N, O, OH, OW] = conv(x, w) + bias`; `x`, `w` contiguous from their offsets. */
function convForward(g: ConvGeometry, x: Float32Array, xOff: number, w: Float32Array, wOff: number, bias: Float32Array | null, out: Float32Array): void {
  if (direct(g)) {
    depthwiseForward(g, x, xOff, w, wOff, out);
    if (bias) for (let i = 0, p = g.oh * g.ow; i < g.n * g.o; i++) for (let j = i * p, e = j + p, bv = bias[i % g.o]!; j < e; j++) out[j] += bv;
    return;
  }
  const gemm = kernels().gemm;
  const k = g.cg * g.kh * g.kw, p = g.oh * g.ow, nb = chunkOf(g);
  colsBuf = grow(colsBuf, k * nb * p);
  if (nb > 1) tmpBuf = grow(tmpBuf, g.og * nb * p);
  const cols = colsBuf, tmp = tmpBuf;
  for (let i0 = 0; i0 < g.n; i0 += nb) {
    const m = Math.min(nb, g.n - i0), ld = m * p;
    for (let grp = 0; grp < g.groups; grp++) {
      im2col(g, x, xOff, i0, m, grp, cols, ld);
      const wAt = wOff + grp * g.og * k;
      if (m === 1) {
        const at = (i0 * g.o + grp * g.og) * p;
        gemm(g.og, p, k, w, wAt, k, 1, cols, 0, ld, 1, out, at, p, false);
        // bias added after the product, as on the chunked path: the same rounding for any batch size
        if (bias) for (let oc = 0; oc < g.og; oc++) for (let j = at + oc * p, e = j + p, bv = bias[grp * g.og + oc]!; j < e; j++) out[j] += bv;
        continue;
      }
      gemm(g.og, ld, k, w, wAt, k, 1, cols, 0, ld, 1, tmp, 0, ld, false);
      for (let oc = 0; oc < g.og; oc++) {
        const bv = bias ? bias[grp * g.og + oc]! : 0;
        for (let img = 0; img < m; img++) {
          const src = oc * ld + img * p, dst = ((i0 + img) * g.o + grp * g.og + oc) * p;
          if (bias) for (let j = 0; j < p; j++) out[dst + j] = tmp[src + j]! + bv;
          else out.set(tmp.subarray(src, src + p), dst);
        }
      }
    }
  }
}

/**
 * Input gradient `dx += col2im(Wᵀ·dy)` and/or weight gradient `dw = Σ dy·colsᵀ` of the
 * convolution `g`; `dy`, `x`, `w` contiguous from their offsets, `dx` zero-filled `[N,C,H,W]`,
 * `dw` `[O, K]` (overwritten).
 */
function convBackward(g: ConvGeometry, dy: Float32Array, dyOff: number, x: Float32Array | null, xOff: number, w: Float32Array, wOff: number, dx: Float32Array | null, dw: Float32Array | null): void {
  if (direct(g) && (x !== null || dw === null)) {
    depthwiseBackward(g, dy, dyOff, x ?? dy, xOff, w, wOff, dx, dw);
    return;
  }
  const gemm = kernels().gemm;
  const k = g.cg * g.kh * g.kw, p = g.oh * g.ow, nb = chunkOf(g);
  colsBuf = grow(colsBuf, k * nb * p);
  if (nb > 1) dyBuf = grow(dyBuf, g.o * nb * p);
  const cols = colsBuf, dyT = dyBuf;
  for (let i0 = 0; i0 < g.n; i0 += nb) {
    const m = Math.min(nb, g.n - i0), ld = m * p;
    if (m > 1) gatherDy(g, dy, dyOff, i0, m, dyT);
    const a = m > 1 ? dyT : dy;
    for (let grp = 0; grp < g.groups; grp++) {
      const aAt = m > 1 ? grp * g.og * ld : dyOff + (i0 * g.o + grp * g.og) * p;
      const wAt = wOff + grp * g.og * k;
      if (dw && x) {
        im2col(g, x, xOff, i0, m, grp, cols, ld);
        gemm(g.og, k, ld, a, aAt, ld, 1, cols, 0, 1, ld, dw, grp * g.og * k, k, i0 > 0); // dW_g += dY_g · colsᵀ
      }
      if (dx) {
        gemm(k, ld, g.og, w, wAt, 1, k, a, aAt, ld, 1, cols, 0, ld, false); // cols = W_gᵀ · dY_g
        col2im(g, cols, ld, dx, i0, m, grp);
      }
    }
  }
}

/** Σ of `dy [N, O, P]` over the batch and space, per channel (float64 sums). */
function biasGrad(dy: Float32Array, dyOff: number, n: number, o: number, p: number): Tensor {
  const db = new Float32Array(o);
  for (let oc = 0; oc < o; oc++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const at = dyOff + (i * o + oc) * p;
      for (let j = 0; j < p; j++) s += dy[at + j]!;
    }
    db[oc] = s;
  }
  return new Tensor(db, [o]);
}

function checkBias(op: string, bias: Tensor | null, o: number): Float32Array | null {
  if (bias === null) return null;
  if (bias.ndim !== 1 || bias.shape[0] !== o) throw new ShapeError(op, `bias must be [${o}]`, [bias.shape]);
  return bias.toFloat32Array();
}

function checkDy(op: string, dy: Tensor, shape: readonly number[]): Tensor {
  if (dy.ndim !== shape.length || dy.shape.some((d, i) => d !== shape[i])) throw new ShapeError(op, "dy does not match the output shape", [dy.shape, shape]);
  return dy.contiguous();
}

function convNd(op: string, x: Tensor, weight: Tensor, bias: Tensor | null, opts: Conv2dOptions, oneD: boolean): Tensor {
  for (const t of [x, weight, bias]) if (t instanceof Tensor) checkLive(op, t.data);
  const g = convGeometry(op, x.shape, weight.shape, opts, oneD);
  const bd = checkBias(op, bias, g.o);
  const xd = x.contiguous(), wd = weight.contiguous();
  const out = new Float32Array(g.n * g.o * g.oh * g.ow);
  convForward(g, xd.data, xd.offset, wd.data, wd.offset, bd, out);
  return new Tensor(out, oneD ? [g.n, g.o, g.ow] : [g.n, g.o, g.oh, g.ow]);
}

function convNdBackward(op: string, dy: Tensor, x: Tensor, weight: Tensor, opts: Conv2dOptions, need: ConvNeeds, oneD: boolean): ConvGrads {
  const g = convGeometry(op, x.shape, weight.shape, opts, oneD);
  const gy = checkDy(op, dy, oneD ? [g.n, g.o, g.ow] : [g.n, g.o, g.oh, g.ow]);
  const xd = x.contiguous(), wd = weight.contiguous();
  const dx = need.dx ?? true ? new Float32Array(g.n * g.c * g.h * g.w) : null;
  const dw = need.dw ?? true ? new Float32Array(weight.size) : null;
  if (dx || dw) convBackward(g, gy.data, gy.offset, xd.data, xd.offset, wd.data, wd.offset, dx, dw);
  return {
    dx: dx ? new Tensor(dx, x.shape) : null,
    dw: dw ? new Tensor(dw, weight.shape) : null,
    db: need.db ?? true ? biasGrad(gy.data, gy.offset, g.n, g.o, g.oh * g.ow) : null,
  };
}

/**
 * 2-D cross-correlation (`torch.nn.functional.conv2d`): `x [N,C,H,W]`, `weight [O, C/groups, kH,
 * kW]`, optional `bias [O]` → `[N, O, OH, OW]` with `OH = ⌊(H + 2pH − dH·(kH−1) − 1)/sH⌋ + 1`.
 *
 * @throws {ShapeError} for wrong ranks, channels not divisible by `groups`, a weight or bias that
 * does not match, `"same"` with a stride > 1, or a kernel larger than the padded input;
 * {RangeError} for bad option values.
 * @example
 * ```ts
 * conv2d(images, filters, bias, { stride: 1, padding: "same", dilation: 2, groups: 1 });
 * ```
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  checkTensor("conv2d", "x", x);
  checkTensor("conv2d", "weight", weight);
  return convNd("conv2d", x, weight, bias, opts, false);
}

/**
 * 1-D cross-correlation (`torch.nn.functional.conv1d`): `x [N,C,L]`, `weight [O, C/groups, k]`,
 * optional `bias [O]` → `[N, O, Lout]`.
 *
 * @throws {ShapeError} as {@link conv2d}; {RangeError} for bad option values.
 * @example
 * ```ts
 * conv1d(signal, filters, null, { padding: "same", dilation: 2 });
 * ```
 */
export function conv1d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv1dOptions = {}): Tensor {
  checkTensor("conv1d", "x", x);
  checkTensor("conv1d", "weight", weight);
  return convNd("conv1d", x, weight, bias, conv1dAs2d("conv1d", opts), true);
}

/**
 * Gradients of {@link conv2d} with respect to the input, the weight and the bias for upstream
 * gradient `dy [N,O,OH,OW]`; `need` skips the ones not wanted.
 *
 * @throws {ShapeError} when `dy` does not match the output shape, or as {@link conv2d}.
 * @example
 * ```ts
 * const { dx, dw, db } = conv2dBackward(dy, x, w, { padding: 1 });
 * ```
 */
export function conv2dBackward(dy: Tensor, x: Tensor, weight: Tensor, opts: Conv2dOptions = {}, need: ConvNeeds = {}): ConvGrads {
  checkTensor("conv2dBackward", "dy", dy);
  return convNdBackward("conv2d", dy, x, weight, opts, need, false);
}

/**
 * Gradients of {@link conv1d} (input, weight, bias) for upstream gradient `dy [N,O,Lout]`.
 *
 * @throws {ShapeError} when `dy` does not match the output shape, or as {@link conv1d}.
 * @example
 * ```ts
 * const { dx, dw } = conv1dBackward(dy, x, w, { stride: 2 }, { db: false });
 * ```
 */
export function conv1dBackward(dy: Tensor, x: Tensor, weight: Tensor, opts: Conv1dOptions = {}, need: ConvNeeds = {}): ConvGrads {
  return convNdBackward("conv1d", dy, x, weight, conv1dAs2d("conv1d", opts), need, true);
}

/**
 * Transposed 2-D convolution (`torch.nn.functional.conv_transpose2d`): `x [N,Cin,H,W]`,
 * `weight [Cin, Cout/groups, kH, kW]` (input channels first), optional `bias [Cout]` →
 * `[N, Cout, (H−1)·sH − 2pH + dH·(kH−1) + opH + 1, …]`; the adjoint of {@link conv2d}.
 *
 * @throws {ShapeError} for wrong ranks, channels not divisible by `groups`, a weight or bias that
 * does not match, or an empty output; {RangeError} for bad options (e.g. `outputPadding` not
 * smaller than the stride or the dilation).
 * @example
 * ```ts
 * convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1 }); // doubles H and W
 * ```
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: ConvTranspose2dOptions = {}): Tensor {
  for (const t of [x, weight, bias]) if (t instanceof Tensor) checkLive("convTranspose2d", t.data);
  const { conv: g, outShape } = convTransposeGeometry("convTranspose2d", x.shape, weight.shape, opts);
  const bd = checkBias("convTranspose2d", bias, g.c);
  const xd = x.contiguous(), wd = weight.contiguous();
  const out = new Float32Array(g.n * g.c * g.h * g.w);
  convBackward(g, xd.data, xd.offset, null, 0, wd.data, wd.offset, out, null);
  if (bd) {
    const p = g.h * g.w;
    for (let i = 0; i < g.n * g.c; i++) {
      const b = bd[i % g.c]!;
      for (let j = i * p, e = j + p; j < e; j++) out[j] += b;
    }
  }
  return new Tensor(out, outShape);
}

/**
 * Gradients of {@link convTranspose2d} (input, weight, bias) for upstream gradient `dy` (the
 * output's shape): the input gradient is a {@link conv2d} of `dy`.
 *
 * @throws {ShapeError} when `dy` does not match the output shape, or as {@link convTranspose2d}.
 * @example
 * ```ts
 * const { dx, dw, db } = convTranspose2dBackward(dy, x, w, { stride: 2 });
 * ```
 */
export function convTranspose2dBackward(dy: Tensor, x: Tensor, weight: Tensor, opts: ConvTranspose2dOptions = {}, need: ConvNeeds = {}): ConvGrads {
  const { conv: g, outShape } = convTransposeGeometry("convTranspose2d", x.shape, weight.shape, opts);
  const gy = checkDy("convTranspose2d", dy, outShape);
  const xd = x.contiguous(), wd = weight.contiguous();
  let dx: Float32Array | null = null, dw: Float32Array | null = null;
  if (need.dx ?? true) {
    dx = new Float32Array(x.size);
    convForward(g, gy.data, gy.offset, wd.data, wd.offset, null, dx);
  }
  if (need.dw ?? true) {
    dw = new Float32Array(weight.size);
    convBackward(g, xd.data, xd.offset, gy.data, gy.offset, wd.data, wd.offset, null, dw);
  }
  return {
    dx: dx ? new Tensor(dx, x.shape) : null,
    dw: dw ? new Tensor(dw, weight.shape) : null,
    db: need.db ?? true ? biasGrad(gy.data, gy.offset, g.n, g.c, g.h * g.w) : null,
  };
}
