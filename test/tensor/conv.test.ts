/**
 * @file conv1d / conv2d / convTranspose2d with every kernel set, against float64 direct loops
 * written from the golden README's definitions (forward and the VJP of every input): strides,
 * paddings incl. asymmetric "same", dilation, groups and depthwise, both im2col chunk paths
 * (several images per GEMM and one image per GEMM), shapes large enough for the wasm GEMM and its
 * threads; plus exact small values, non-contiguous inputs, input immutability and error messages.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Rng, Tensor, conv1d, conv1dBackward, conv2d, conv2dBackward, convTranspose2d, convTranspose2dBackward, jsKernels, kernels, randn, tensor,
  useKernels, type Conv2dOptions, type ConvTranspose2dOptions, type KernelSet,
} from "@tapegrad/tensor";

/** A conv problem in 2-D form with explicit top/left padding and output size. */
interface Ref { n: number; c: number; h: number; w: number; o: number; kh: number; kw: number; sh: number; sw: number; dh: number; dw: number; pt: number; pl: number; oh: number; ow: number; groups: number }

/** Calls `f(n, oc, i, j, c, a, b, xIndex, wIndex)` for every in-input term of the conv sum. */
function eachTerm(r: Ref, f: (outIndex: number, xIndex: number, wIndex: number) => void): void {
  const cg = r.c / r.groups, og = r.o / r.groups;
  for (let n = 0; n < r.n; n++) for (let oc = 0; oc < r.o; oc++) {
    const g = Math.floor(oc / og);
    for (let i = 0; i < r.oh; i++) for (let j = 0; j < r.ow; j++) {
      const out = ((n * r.o + oc) * r.oh + i) * r.ow + j;
      for (let c = 0; c < cg; c++) for (let a = 0; a < r.kh; a++) for (let b = 0; b < r.kw; b++) {
        const y = i * r.sh - r.pt + a * r.dh, x = j * r.sw - r.pl + b * r.dw;
        if (y < 0 || y >= r.h || x < 0 || x >= r.w) continue;
        f(out, ((n * r.c + g * cg + c) * r.h + y) * r.w + x, ((oc * cg + c) * r.kh + a) * r.kw + b);
      }
    }
  }
}

/** Forward and VJPs of the conv `r` in float64. */
function refConv(r: Ref, x: Float32Array, w: Float32Array, bias: Float32Array | null, dy: Float32Array) {
  const y = new Float64Array(r.n * r.o * r.oh * r.ow), dx = new Float64Array(x.length), dw = new Float64Array(w.length), db = new Float64Array(r.o);
  eachTerm(r, (o, xi, wi) => {
    y[o] += x[xi]! * w[wi]!;
    dx[xi] += dy[o]! * w[wi]!;
    dw[wi] += dy[o]! * x[xi]!;
  });
  const p = r.oh * r.ow;
  for (let k = 0; k < y.length; k++) {
    const oc = Math.floor(k / p) % r.o;
    if (bias) y[k] += bias[oc]!;
    db[oc] += dy[k]!;
  }
  return { y, dx, dw, db };
}

function expectClose(got: Tensor | null, want: ArrayLike<number>, label: string): void {
  expect(got, label).not.toBeNull();
  const g = got!.toFloat32Array();
  expect(g.length, label).toBe(want.length);
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) {
    const tol = 1e-5 * Math.abs(want[i]!) + 2e-6 * (scale + 1);
    if (!(Math.abs(g[i]! - want[i]!) <= tol)) expect.fail(`${label}[${i}]: got ${g[i]}, want ${want[i]} (tol ${tol})`);
  }
}

const rng = new Rng(15);
const rnd = (...shape: number[]) => randn(shape, rng);

/** 2-D conv cases: shapes, options and the padding they resolve to. */
const conv2dCases: { name: string; x: number[]; w: number[]; bias: boolean; opts: Conv2dOptions; pad: [number, number] }[] = [
  { name: "3x3 pad 1 bias", x: [2, 3, 6, 5], w: [4, 3, 3, 3], bias: true, opts: { padding: 1 }, pad: [1, 1] },
  { name: "stride [2,1] pad [1,0] kernel 3x2", x: [1, 2, 7, 6], w: [3, 2, 3, 2], bias: true, opts: { stride: [2, 1], padding: [1, 0] }, pad: [1, 0] },
  { name: "same, even kernel 2x4 (extra zero right/bottom)", x: [2, 2, 5, 5], w: [3, 2, 2, 4], bias: true, opts: { padding: "same" }, pad: [0, 1] },
  { name: "same, dilation [3,1], kernel 2x3", x: [1, 1, 6, 6], w: [2, 1, 2, 3], bias: false, opts: { padding: "same", dilation: [3, 1] }, pad: [1, 1] },
  { name: "valid", x: [2, 2, 5, 4], w: [2, 2, 3, 2], bias: true, opts: { padding: "valid" }, pad: [0, 0] },
  { name: "dilation 2 pad 1 stride 2", x: [2, 2, 9, 8], w: [2, 2, 3, 3], bias: true, opts: { padding: 1, dilation: 2, stride: 2 }, pad: [1, 1] },
  { name: "groups 2", x: [2, 4, 5, 5], w: [6, 2, 3, 3], bias: true, opts: { padding: 1, groups: 2 }, pad: [1, 1] },
  { name: "depthwise multiplier 2, stride [1,2]", x: [2, 3, 4, 7], w: [6, 1, 3, 3], bias: false, opts: { stride: [1, 2], groups: 3 }, pad: [0, 0] },
  { name: "1x1 no bias", x: [3, 5, 4, 4], w: [7, 5, 1, 1], bias: false, opts: {}, pad: [0, 0] },
  { name: "kernel as large as the input", x: [2, 3, 4, 5], w: [2, 3, 4, 5], bias: true, opts: {}, pad: [0, 0] },
  { name: "wasm-sized GEMM, chunk of several images", x: [6, 8, 14, 14], w: [16, 8, 3, 3], bias: true, opts: { padding: 1 }, pad: [1, 1] },
  { name: "one image per chunk (K·P > 2^20), groups 2", x: [2, 16, 52, 52], w: [8, 8, 5, 5], bias: true, opts: { padding: 2, groups: 2 }, pad: [2, 2] },
];

const sets: [string, KernelSet][] = [["js", jsKernels]];
if (kernels().name !== "js") sets.push([kernels().name, kernels()]);

describe.each(sets)("convolutions with the %s kernels", (_name, set) => {
  let prev: KernelSet | null = null;
  beforeAll(() => { prev = useKernels(set); });
  afterAll(() => { useKernels(prev); });

  it("conv2d exact small values (cross-correlation, bias, zero padding)", () => {
    const x = tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]);
    const w = tensor([[[[1, 0], [0, -1]]]]);
    expect(conv2d(x, w, tensor([10])).toArray()).toEqual([[[[6, 6], [6, 6]]]]);
    expect(conv2d(x, w, null, { padding: 1, stride: 2 }).toArray()).toEqual([[[[-1, -3], [-7, -4]]]]);
  });

  it.each(conv2dCases)("conv2d $name: forward and gradients match the direct loops", ({ x: xs, w: ws, bias, opts, pad }) => {
    const x = rnd(...xs), w = rnd(...ws), b = bias ? rnd(ws[0]!) : null;
    const y = conv2d(x, w, b, opts);
    const [sh, sw] = typeof opts.stride === "number" ? [opts.stride, opts.stride] : opts.stride ?? [1, 1];
    const [dh, dw] = typeof opts.dilation === "number" ? [opts.dilation, opts.dilation] : opts.dilation ?? [1, 1];
    const r: Ref = { n: xs[0]!, c: xs[1]!, h: xs[2]!, w: xs[3]!, o: ws[0]!, kh: ws[2]!, kw: ws[3]!, sh, sw, dh, dw, pt: pad[0], pl: pad[1], oh: y.shape[2]!, ow: y.shape[3]!, groups: opts.groups ?? 1 };
    if (opts.padding === "same") expect(y.shape.slice(2)).toEqual(xs.slice(2));
    const dy = rnd(...y.shape);
    const ref = refConv(r, x.toFloat32Array(), w.toFloat32Array(), b?.toFloat32Array() ?? null, dy.toFloat32Array());
    expectClose(y, ref.y, "y");
    const g = conv2dBackward(dy, x, w, opts);
    expectClose(g.dx, ref.dx, "dx");
    expectClose(g.dw, ref.dw, "dw");
    expectClose(g.db, ref.db, "db");
    const only = conv2dBackward(dy, x, w, opts, { dx: false, db: false });
    expect(only.dx).toBeNull();
    expect(only.db).toBeNull();
    expectClose(only.dw, ref.dw, "dw alone");
  });

  it("conv1d matches conv2d with H = 1 (same, even kernel, dilation, groups, stride)", () => {
    for (const opts of [{ padding: "same" as const, dilation: 2, groups: 2 }, { stride: 2, padding: 2, dilation: 2 }, { padding: "valid" as const }]) {
      const x = rnd(3, 4, 11), w = rnd(6, opts.groups ? 2 : 4, 4), b = rnd(6), dy0 = conv1d(x, w, b, opts);
      const o2: Conv2dOptions = { stride: [1, opts.stride ?? 1], padding: typeof opts.padding === "number" ? [0, opts.padding] : opts.padding, dilation: [1, opts.dilation ?? 1], groups: opts.groups ?? 1 };
      const y2 = conv2d(x.reshape([3, 4, 1, 11]), w.reshape([6, w.shape[1]!, 1, 4]), b, o2);
      expect(dy0.shape).toEqual([3, 6, y2.shape[3]]);
      expectClose(dy0, y2.toFloat32Array(), "y");
      const dy = rnd(...dy0.shape);
      const g1 = conv1dBackward(dy, x, w, opts), g2 = conv2dBackward(dy.reshape([3, 6, 1, dy0.shape[2]!]), x.reshape([3, 4, 1, 11]), w.reshape([6, w.shape[1]!, 1, 4]), o2);
      expect(g1.dx!.shape).toEqual(x.shape);
      expect(g1.dw!.shape).toEqual(w.shape);
      expectClose(g1.dx, g2.dx!.toFloat32Array(), "dx");
      expectClose(g1.dw, g2.dw!.toFloat32Array(), "dw");
      expectClose(g1.db, g2.db!.toFloat32Array(), "db");
    }
  });

  const tCases: { name: string; x: number[]; w: number[]; opts: ConvTranspose2dOptions; out: number[] }[] = [
    { name: "stride 2 pad 1 outpad 1", x: [2, 3, 3, 3], w: [3, 2, 3, 3], opts: { stride: 2, padding: 1, outputPadding: 1 }, out: [2, 2, 6, 6] },
    { name: "stride [2,3] outpad [1,2] groups 2", x: [1, 4, 3, 2], w: [4, 1, 2, 3], opts: { stride: [2, 3], padding: [0, 1], outputPadding: [1, 2], groups: 2 }, out: [1, 2, 7, 6] },
    { name: "dilation 2, output padding < dilation at stride 1", x: [2, 2, 4, 3], w: [2, 3, 2, 2], opts: { dilation: 2, outputPadding: 1 }, out: [2, 3, 7, 6] },
    { name: "wasm-sized", x: [4, 16, 10, 10], w: [16, 8, 4, 4], opts: { stride: 2, padding: 1 }, out: [4, 8, 20, 20] },
  ];

  it.each(tCases)("convTranspose2d $name: the scatter definition and its VJPs", ({ x: xs, w: ws, opts, out }) => {
    const x = rnd(...xs), w = rnd(...ws), b = rnd(out[1]!);
    const y = convTranspose2d(x, w, b, opts);
    expect(y.shape).toEqual(out);
    // The scatter form is the adjoint of the conv from y's shape to x's: reuse the conv loops with roles swapped.
    const pair = (v: number | readonly [number, number] | undefined, d: number) => (v === undefined ? [d, d] : typeof v === "number" ? [v, v] : [v[0], v[1]]);
    const [sh, sw] = pair(opts.stride, 1), [ph, pw] = pair(opts.padding, 0), [dh, dw] = pair(opts.dilation, 1);
    const r: Ref = { n: out[0]!, c: out[1]!, h: out[2]!, w: out[3]!, o: xs[1]!, kh: ws[2]!, kw: ws[3]!, sh: sh!, sw: sw!, dh: dh!, dw: dw!, pt: ph!, pl: pw!, oh: xs[2]!, ow: xs[3]!, groups: opts.groups ?? 1 };
    const dy = rnd(...out);
    const xv = x.toFloat32Array(), wv = w.toFloat32Array(), dyv = dy.toFloat32Array();
    const yRef = new Float64Array(y.size), dxRef = new Float64Array(x.size), dwRef = new Float64Array(w.size), dbRef = new Float64Array(out[1]!);
    eachTerm(r, (xi, yi, wi) => {
      yRef[yi] += xv[xi]! * wv[wi]!;
      dxRef[xi] += dyv[yi]! * wv[wi]!;
      dwRef[wi] += xv[xi]! * dyv[yi]!;
    });
    const p = out[2]! * out[3]!;
    for (let k = 0; k < y.size; k++) { const oc = Math.floor(k / p) % out[1]!; yRef[k] += b.toFloat32Array()[oc]!; dbRef[oc] += dyv[k]!; }
    expectClose(y, yRef, "y");
    const g = convTranspose2dBackward(dy, x, w, opts);
    expectClose(g.dx, dxRef, "dx");
    expectClose(g.dw, dwRef, "dw");
    expectClose(g.db, dbRef, "db");
  });

  it("seeded fuzz: 60 random conv2d problems (stride, padding incl. same, dilation, groups) against the direct loops", () => {
    const f = new Rng(99), int = (lo: number, hi: number) => lo + Math.floor(f.random() * (hi - lo + 1));
    for (let t = 0; t < 60; t++) {
      const groups = int(1, 3), cg = int(1, 3), og = int(1, 3), kh = int(1, 4), kw = int(1, 4), dh = int(1, 2), dw = int(1, 2);
      const same = f.random() < 0.25, sh = same ? 1 : int(1, 3), sw = same ? 1 : int(1, 3);
      const ph = same ? (dh * (kh - 1)) >> 1 : int(0, 2), pw = same ? (dw * (kw - 1)) >> 1 : int(0, 2);
      const h = Math.max(int(1, 9), dh * (kh - 1) + 1 - 2 * ph), w = Math.max(int(1, 9), dw * (kw - 1) + 1 - 2 * pw);
      const opts: Conv2dOptions = { stride: [sh, sw], padding: same ? "same" : [ph, pw], dilation: [dh, dw], groups };
      const x = rnd(int(1, 3), groups * cg, h, w), wt = rnd(groups * og, cg, kh, kw), b = f.random() < 0.5 ? rnd(groups * og) : null;
      const y = conv2d(x, wt, b, opts), dy = rnd(...y.shape);
      const r: Ref = { n: x.shape[0]!, c: groups * cg, h, w, o: groups * og, kh, kw, sh, sw, dh, dw, pt: ph, pl: pw, oh: y.shape[2]!, ow: y.shape[3]!, groups };
      const ref = refConv(r, x.toFloat32Array(), wt.toFloat32Array(), b?.toFloat32Array() ?? null, dy.toFloat32Array());
      const label = `case ${t} ${JSON.stringify({ x: x.shape, w: wt.shape, opts })}`;
      expectClose(y, ref.y, `${label} y`);
      const g = conv2dBackward(dy, x, wt, opts);
      expectClose(g.dx, ref.dx, `${label} dx`);
      expectClose(g.dw, ref.dw, `${label} dw`);
    }
  });

  it("reads non-contiguous inputs and never mutates them", () => {
    const base = rnd(2, 3, 6, 5), x = base.transpose(2, 3).contiguous().transpose(2, 3); // a non-contiguous view of the same values
    expect(x.isContiguous).toBe(false);
    const w = rnd(4, 3, 3, 3), before = [base.toFloat32Array(), w.toFloat32Array()];
    const y1 = conv2d(x, w, null, { padding: 1 }), y2 = conv2d(base, w, null, { padding: 1 });
    expect(Array.from(y1.toFloat32Array())).toEqual(Array.from(y2.toFloat32Array()));
    conv2dBackward(rnd(...y1.shape), x, w, { padding: 1 });
    expect(base.toFloat32Array()).toEqual(before[0]);
    expect(w.toFloat32Array()).toEqual(before[1]);
  });

  it("rejects bad input with errors naming the op and the shapes", () => {
    const x = rnd(1, 6, 5, 5);
    expect(() => conv2d(x, rnd(4, 2, 3, 3), null, { groups: 4 })).toThrow(/conv2d: input channels 6 not divisible by groups 4 \(got \[1,6,5,5\] and \[4,2,3,3\]\)/);
    expect(() => conv2d(x, rnd(5, 2, 3, 3), null, { groups: 3 })).toThrow(/conv2d: output channels 5 .*not divisible by groups 3/);
    expect(() => conv2d(x, rnd(4, 3, 3, 3))).toThrow(/conv2d: weight \[4,3,3,3\] with groups 1 expects 3 input channels but the input has 6/);
    expect(() => conv2d(x, rnd(4, 6, 3, 3), null, { padding: "same", stride: 2 })).toThrow(/conv2d: padding "same" needs stride 1/);
    expect(() => conv2d(x, rnd(4, 6, 4, 4), null, { dilation: 2 })).toThrow(/conv2d: kernel 7x7 \(with dilation\) is larger than the padded input 5x5/);
    expect(() => conv2d(x, rnd(4, 6, 3, 3), rnd(3))).toThrow(/conv2d: bias must be \[4\]/);
    expect(() => conv2d(rnd(6, 5, 5), rnd(4, 6, 3, 3))).toThrow(/conv2d: input must be \[N,C,H,W\]/);
    expect(() => conv2d(x, rnd(4, 6, 3, 3), null, { stride: 0 })).toThrow(/conv2d: stride must be an integer >= 1/);
    expect(() => conv1d(rnd(1, 2, 3), rnd(1, 2, 5))).toThrow(/conv1d: kernel 5 \(with dilation\) is larger than the padded input 3/);
    expect(() => convTranspose2d(rnd(1, 2, 3, 3), rnd(2, 1, 3, 3), null, { stride: 2, outputPadding: 2 })).toThrow(/convTranspose2d: outputPadding \[2,2\] must be smaller than the stride \[2,2\] or the dilation \[1,1\]/);
    expect(() => convTranspose2d(rnd(1, 3, 3, 3), rnd(2, 1, 3, 3))).toThrow(/convTranspose2d: weight \[2,1,3,3\] expects 2 input channels/);
    expect(() => conv2dBackward(rnd(1, 4, 2, 2), x, rnd(4, 6, 3, 3))).toThrow(/conv2d: dy does not match the output shape/);
  });
});
