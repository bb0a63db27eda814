/**
 * @file Geometry of convolutions (`conv1d`, `conv2d`, `convTranspose2d`): option parsing and
 * validation, PyTorch 1.13's output sizes, `"same"`/`"valid"` padding (asymmetric for even
 * effective kernels: the extra zero goes to the right/bottom) and groups. Everything is
 * described as a 2-D problem; a 1-D convolution is the 2-D one with `H = kH = 1`.
 */
import { ShapeError, fmt } from "./errors.js";

/**
 * One value for every spatial dim, or one per dim (`[h, w]`).
 *
 * @example
 * ```ts
 * const stride: Spatial2 = [2, 1];
 * ```
 */
export type Spatial2 = number | readonly [number, number];

/**
 * Padding of a convolution: zeros on both sides (per dim), `"same"` or `"valid"` (no padding).
 *
 * @example
 * ```ts
 * const padding: ConvPadding = "same";
 * ```
 */
export type ConvPadding = Spatial2 | "same" | "valid";

/**
 * Options of `conv2d` (`torch.nn.functional.conv2d`).
 *
 * @example
 * ```ts
 * const opts: Conv2dOptions = { stride: 2, padding: [1, 0], dilation: 1, groups: 2 };
 * ```
 */
export interface Conv2dOptions {
  /** Default 1. */
  stride?: Spatial2;
  /** Default 0. `"same"` needs stride 1. */
  padding?: ConvPadding;
  /** Default 1. */
  dilation?: Spatial2;
  /** Input and output channels split into `groups` blocks (default 1; `groups = C` is depthwise). */
  groups?: number;
}

/**
 * Options of `conv1d` (`torch.nn.functional.conv1d`).
 *
 * @example
 * ```ts
 * const opts: Conv1dOptions = { stride: 1, padding: "same", dilation: 2 };
 * ```
 */
export interface Conv1dOptions {
  stride?: number;
  padding?: number | "same" | "valid";
  dilation?: number;
  groups?: number;
}

/**
 * Options of `convTranspose2d` (`torch.nn.functional.conv_transpose2d`).
 *
 * @example
 * ```ts
 * const opts: ConvTranspose2dOptions = { stride: 2, padding: 1, outputPadding: 1 };
 * ```
 */
export interface ConvTranspose2dOptions {
  stride?: Spatial2;
  padding?: Spatial2;
  /** Extra rows/cols at the bottom/right of the output, each `< stride` or `< dilation` (default 0). */
  outputPadding?: Spatial2;
  groups?: number;
  dilation?: Spatial2;
}

/**
 * A convolution seen as 2-D: input `[n, c, h, w]`, weight `[o, c/groups, kh, kw]`, output
 * `[n, o, oh, ow]`, with top/left paddings `pt`/`pl` (the bottom/right ones only set the output
 * size).
 *
 * @example
 * ```ts
 * const g: ConvGeometry = convGeometry("conv2d", [2, 3, 8, 8], [4, 3, 3, 3], { stride: 2 });
 * g.oh; // 3
 * ```
 */
export interface ConvGeometry {
  readonly n: number; readonly c: number; readonly h: number; readonly w: number;
  readonly o: number; readonly groups: number; readonly cg: number; readonly og: number;
  readonly kh: number; readonly kw: number; readonly sh: number; readonly sw: number;
  readonly dh: number; readonly dw: number; readonly pt: number; readonly pl: number;
  readonly oh: number; readonly ow: number;
}

/**
 * Reads a spatial option as `[h, w]`, checking integers `>= min`.
 *
 * @throws {RangeError} naming `op` and `name` for a non-integer, too small or wrongly sized value.
 * @example
 * ```ts
 * spatialPair("conv2d", 2, 1, "stride", 1); // [2, 2]
 * ```
 */
export function spatialPair(op: string, v: Spatial2 | undefined, def: number, name: string, min: number): [number, number] {
  const p: number[] = v === undefined ? [def, def] : typeof v === "number" ? [v, v] : Array.from(v);
  if (p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= min)) {
    throw new RangeError(`${op}: ${name} must be an integer >= ${min} or a pair of them (got ${JSON.stringify(v)})`);
  }
  return [p[0]!, p[1]!];
}

/** Reads `groups`, checking a positive integer. */
function readGroups(op: string, g: number | undefined): number {
  const groups = g ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError(`${op}: groups must be a positive integer (got ${JSON.stringify(g)})`);
  return groups;
}

/**
 * The options of a 1-D convolution as 2-D ones (`H = 1`: stride, padding and dilation 1/0/1 in H).
 *
 * @throws {RangeError} naming `op` when stride, padding or dilation is not a number (or padding
 * not `"same"`/`"valid"`).
 * @example
 * ```ts
 * conv1dAs2d("conv1d", { stride: 2, padding: 1 }); // { stride: [1, 2], padding: [0, 1], dilation: [1, 1] }
 * ```
 */
export function conv1dAs2d(op: string, opts: Conv1dOptions): Conv2dOptions {
  const one = (v: unknown, name: string): void => {
    if (v !== undefined && typeof v !== "number" && !(name === "padding" && (v === "same" || v === "valid"))) {
      throw new RangeError(`${op}: ${name} must be a number${name === "padding" ? ', "same" or "valid"' : ""} (got ${JSON.stringify(v)})`);
    }
  };
  one(opts.stride, "stride"); one(opts.padding, "padding"); one(opts.dilation, "dilation");
  const pad = opts.padding ?? 0;
  return {
    stride: [1, opts.stride ?? 1],
    padding: typeof pad === "number" ? [0, pad] : pad,
    dilation: [1, opts.dilation ?? 1],
    ...(opts.groups === undefined ? {} : { groups: opts.groups }),
  };
}

/**
 * Validates a convolution and returns its geometry. `x` is `[N,C,H,W]` (or `[N,C,L]` when
 * `oneD`), `weight` `[O, C/groups, kH, kW]` (or `[O, C/groups, k]`). `outSize` forces the output
 * size (used by the transposed convolution, whose adjoint may be one row shorter).
 *
 * @throws {ShapeError} naming `op` for wrong ranks, channels not divisible by groups, a weight
 * that does not match the input, `"same"` with a stride > 1, or a kernel larger than the padded
 * input; {RangeError} for bad option values.
 * @example
 * ```ts
 * convGeometry("conv2d", [1, 3, 8, 8], [4, 3, 3, 3], { padding: "same" }).oh; // 8
 * ```
 */
export function convGeometry(op: string, x: readonly number[], wShape: readonly number[], opts: Conv2dOptions, oneD = false, outSize?: readonly [number, number]): ConvGeometry {
  const rank = oneD ? 3 : 4;
  const names = oneD ? "input must be [N,C,L] and weight [O,C/groups,k]" : "input must be [N,C,H,W] and weight [O,C/groups,kH,kW]";
  if (x.length !== rank || wShape.length !== rank) throw new ShapeError(op, names, [x, wShape]);
  const x4 = oneD ? [x[0]!, x[1]!, 1, x[2]!] : x;
  const w4 = oneD ? [wShape[0]!, wShape[1]!, 1, wShape[2]!] : wShape;
  const [n, c, h, w] = x4 as [number, number, number, number];
  const [o, cg, kh, kw] = w4 as [number, number, number, number];
  const groups = readGroups(op, opts.groups);
  if (c % groups !== 0) throw new ShapeError(op, `input channels ${c} not divisible by groups ${groups}`, [x, wShape]);
  if (o % groups !== 0) throw new ShapeError(op, `output channels ${o} (weight dim 0) not divisible by groups ${groups}`, [x, wShape]);
  if (cg * groups !== c) throw new ShapeError(op, `weight ${fmt(wShape)} with groups ${groups} expects ${cg * groups} input channels but the input has ${c}`, [x, wShape]);
  if (kh < 1 || kw < 1) throw new ShapeError(op, "the kernel must not be empty", [x, wShape]);
  const [sh, sw] = spatialPair(op, opts.stride, 1, "stride", 1);
  const [dh, dw] = spatialPair(op, opts.dilation, 1, "dilation", 1);
  const pad = opts.padding ?? 0;
  let pt: number, pb: number, pl: number, pr: number;
  if (pad === "same") {
    if (sh !== 1 || sw !== 1) throw new ShapeError(op, `padding "same" needs stride 1 (got stride ${fmt(oneD ? [sw] : [sh, sw])})`, [x, wShape]);
    const th = dh * (kh - 1), tw = dw * (kw - 1);
    pt = th >> 1; pb = th - pt; pl = tw >> 1; pr = tw - pl;
  } else if (pad === "valid") {
    pt = pb = pl = pr = 0;
  } else {
    if (typeof pad === "string") throw new RangeError(`${op}: padding must be a number, a pair, "same" or "valid" (got ${JSON.stringify(pad)})`);
    [pt, pl] = spatialPair(op, pad, 0, "padding", 0);
    pb = pt; pr = pl;
  }
  const ekh = dh * (kh - 1) + 1, ekw = dw * (kw - 1) + 1;
  if (ekh > h + pt + pb || ekw > w + pl + pr) {
    const k = oneD ? `${ekw}` : `${ekh}x${ekw}`, p = oneD ? `${w + pl + pr}` : `${h + pt + pb}x${w + pl + pr}`;
    throw new ShapeError(op, `kernel ${k} (with dilation) is larger than the padded input ${p}`, [x, wShape]);
  }
  const oh = outSize ? outSize[0] : Math.floor((h + pt + pb - ekh) / sh) + 1;
  const ow = outSize ? outSize[1] : Math.floor((w + pl + pr - ekw) / sw) + 1;
  return { n, c, h, w, o, groups, cg, og: o / groups, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow };
}

/**
 * Geometry of a transposed convolution: `conv` is the convolution it is the adjoint of.
 *
 * @example
 * ```ts
 * const t: ConvTransposeGeometry = convTransposeGeometry("convTranspose2d", [1, 4, 3, 3], [4, 2, 3, 3], {});
 * t.outShape; // [1, 2, 5, 5]
 * ```
 */
export interface ConvTransposeGeometry {
  /** The forward convolution from the transposed output `[N, Cout, Hout, Wout]` to `x`. */
  readonly conv: ConvGeometry;
  /** Output shape `[N, Cout, Hout, Wout]`. */
  readonly outShape: readonly [number, number, number, number];
}

/**
 * Validates a transposed convolution: `x [N,Cin,H,W]`, `weight [Cin, Cout/groups, kH, kW]`.
 * `Hout = (H−1)·sH − 2·pH + dH·(kH−1) + opH + 1` (W alike).
 *
 * @throws {ShapeError} naming `op` for wrong ranks, channels not divisible by groups or a weight
 * that does not match the input, or an empty output; {RangeError} for bad options, e.g. an
 * output padding not smaller than the stride or the dilation.
 * @example
 * ```ts
 * convTransposeGeometry("convTranspose2d", [1, 4, 3, 3], [4, 2, 3, 3], { stride: 2 }).outShape; // [1, 2, 7, 7]
 * ```
 */
export function convTransposeGeometry(op: string, x: readonly number[], wShape: readonly number[], opts: ConvTranspose2dOptions): ConvTransposeGeometry {
  if (x.length !== 4 || wShape.length !== 4) throw new ShapeError(op, "input must be [N,Cin,H,W] and weight [Cin,Cout/groups,kH,kW]", [x, wShape]);
  const [n, cin, h, w] = x as [number, number, number, number];
  const [wc, cog, kh, kw] = wShape as [number, number, number, number];
  const groups = readGroups(op, opts.groups);
  if (cin % groups !== 0) throw new ShapeError(op, `input channels ${cin} not divisible by groups ${groups}`, [x, wShape]);
  if (wc !== cin) throw new ShapeError(op, `weight ${fmt(wShape)} expects ${wc} input channels (dim 0) but the input has ${cin}`, [x, wShape]);
  const [sh, sw] = spatialPair(op, opts.stride, 1, "stride", 1);
  const [ph, pw] = spatialPair(op, opts.padding, 0, "padding", 0);
  const [dh, dw] = spatialPair(op, opts.dilation, 1, "dilation", 1);
  const [oph, opw] = spatialPair(op, opts.outputPadding, 0, "outputPadding", 0);
  if ((oph >= sh && oph >= dh) || (opw >= sw && opw >= dw)) {
    throw new RangeError(`${op}: outputPadding ${fmt([oph, opw])} must be smaller than the stride ${fmt([sh, sw])} or the dilation ${fmt([dh, dw])}`);
  }
  const hout = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1;
  const wout = (w - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1;
  if (hout < 1 || wout < 1) throw new ShapeError(op, `the output would be empty (${hout}x${wout}): padding ${fmt([ph, pw])} too large`, [x, wShape]);
  const cout = cog * groups;
  const conv = convGeometry(op, [n, cout, hout, wout], [cin, cog, kh, kw], { stride: [sh, sw], padding: [ph, pw], dilation: [dh, dw], groups }, false, [h, w]);
  return { conv, outShape: [n, cout, hout, wout] };
}
