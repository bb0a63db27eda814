/**
 * @file maxPool2d / avgPool2d / adaptiveAvgPool2d against direct loops written from the golden
 * README's definitions (output sizes incl. ceil mode's last-window rule, padding, dilation,
 * count_include_pad, divisor_override, overlapping adaptive windows), their gradients, exact small
 * values, NaN, input immutability and error messages.
 */
import { describe, expect, it } from "vitest";
import {
  Rng, Tensor, adaptiveAvgPool2d, adaptiveAvgPool2dBackward, avgPool2d, avgPool2dBackward, maxPool2d, maxPool2dBackward, randn, tensor,
  type AvgPool2dOptions, type MaxPool2dOptions,
} from "@tapegrad/tensor";

const rng = new Rng(7);
const pair = (v: number | readonly [number, number] | undefined, d: number): [number, number] => (v === undefined ? [d, d] : typeof v === "number" ? [v, v] : [v[0], v[1]]);

/** README: floor/ceil output size; in ceil mode drop a last window starting past `L + p`. */
function outSize(l: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = l + 2 * p - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= l + p) o--;
  return o;
}

/** Reference max pool: values and VJP for `dy`. */
function refMax(x: Tensor, o: MaxPool2dOptions, dy: Float32Array | null) {
  const [n, c, h, w] = x.shape as number[] as [number, number, number, number];
  const [kh, kw] = pair(o.kernelSize, 1), [sh, sw] = pair(o.stride ?? o.kernelSize, 1), [ph, pw] = pair(o.padding, 0), [dh, dw] = pair(o.dilation, 1);
  const oh = outSize(h, kh, sh, ph, dh, !!o.ceilMode), ow = outSize(w, kw, sw, pw, dw, !!o.ceilMode);
  const xv = x.toFloat32Array(), y: number[] = [], dx = new Float64Array(x.size);
  for (let p = 0; p < n * c; p++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    let best = -Infinity, at = -1;
    for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) {
      const r = i * sh - ph + a * dh, q = j * sw - pw + b * dw;
      if (r >= 0 && r < h && q >= 0 && q < w && xv[(p * h + r) * w + q]! > best) { best = xv[(p * h + r) * w + q]!; at = (p * h + r) * w + q; }
    }
    if (dy) dx[at] += dy[y.length]!;
    y.push(best);
  }
  return { shape: [n, c, oh, ow], y, dx };
}

/** Reference avg pool: README's divisor rule; values and VJP. */
function refAvg(x: Tensor, o: AvgPool2dOptions, dy: Float32Array | null) {
  const [n, c, h, w] = x.shape as number[] as [number, number, number, number];
  const [kh, kw] = pair(o.kernelSize, 1), [sh, sw] = pair(o.stride ?? o.kernelSize, 1), [ph, pw] = pair(o.padding, 0);
  const oh = outSize(h, kh, sh, ph, 1, !!o.ceilMode), ow = outSize(w, kw, sw, pw, 1, !!o.ceilMode);
  const xv = x.toFloat32Array(), y: number[] = [], dx = new Float64Array(x.size);
  for (let p = 0; p < n * c; p++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    const h0 = i * sh - ph, w0 = j * sw - pw, h1 = Math.min(h0 + kh, h + ph), w1 = Math.min(w0 + kw, w + pw);
    let s = 0, count = 0;
    for (let r = Math.max(h0, 0); r < Math.min(h1, h); r++) for (let q = Math.max(w0, 0); q < Math.min(w1, w); q++) { s += xv[(p * h + r) * w + q]!; count++; }
    const div = o.divisorOverride ?? ((o.countIncludePad ?? true) ? (h1 - h0) * (w1 - w0) : count);
    if (dy) for (let r = Math.max(h0, 0); r < Math.min(h1, h); r++) for (let q = Math.max(w0, 0); q < Math.min(w1, w); q++) dx[(p * h + r) * w + q] += dy[y.length]! / div;
    y.push(s / div);
  }
  return { shape: [n, c, oh, ow], y, dx };
}

function expectClose(got: Tensor, shape: number[], want: ArrayLike<number>, label: string): void {
  expect(got.shape, label).toEqual(shape);
  const g = got.toFloat32Array();
  for (let i = 0; i < want.length; i++) if (!(Math.abs(g[i]! - want[i]!) <= 1e-6 + 1e-5 * Math.abs(want[i]!))) expect.fail(`${label}[${i}]: got ${g[i]}, want ${want[i]}`);
}

const maxCases: { x: number[]; o: MaxPool2dOptions }[] = [
  { x: [2, 2, 4, 4], o: { kernelSize: 2 } },
  { x: [1, 2, 7, 7], o: { kernelSize: 3, stride: 2, padding: 1 } },
  { x: [1, 1, 5, 5], o: { kernelSize: 3, stride: 1 } },
  { x: [1, 2, 5, 5], o: { kernelSize: 2, stride: 2, ceilMode: true } },
  { x: [1, 1, 5, 5], o: { kernelSize: 2, stride: 2, padding: 1, ceilMode: true } },
  { x: [1, 2, 7, 7], o: { kernelSize: 2, stride: 1, dilation: 2 } },
  { x: [1, 2, 5, 6], o: { kernelSize: [2, 3], stride: [1, 2], padding: 1 } },
  { x: [2, 3, 9, 8], o: { kernelSize: 3, stride: 2, padding: 1, dilation: [2, 1], ceilMode: true } },
];

describe("maxPool2d", () => {
  it.each(maxCases)("matches the definition for %j", ({ x: xs, o }) => {
    const x = randn(xs, rng); // continuous values: every arg-max unique
    const { value, indices } = maxPool2d(x, o);
    const dy = randn(value.shape, rng);
    const ref = refMax(x, o, dy.toFloat32Array());
    expectClose(value, ref.shape, ref.y, "y");
    expectClose(maxPool2dBackward(dy, indices, x.shape), xs, ref.dx, "dx");
  });

  it("ceil mode drops a last window that would start in the right padding", () => {
    // L=5, k=2, s=2, p=1: ceil((5+2-2)/2)+1 = 4, but window 3 starts at 6-1 = 5 >= L: 3 windows
    expect(maxPool2d(randn([1, 1, 5, 5], rng), { kernelSize: 2, stride: 2, padding: 1, ceilMode: true }).value.shape).toEqual([1, 1, 3, 3]);
    expect(maxPool2d(randn([1, 1, 5, 5], rng), { kernelSize: 2, stride: 2, ceilMode: true }).value.shape).toEqual([1, 1, 3, 3]);
  });

  it("exact values, -inf padding, NaN wins, input unchanged", () => {
    const x = tensor([[[[-5, -6, -7], [-8, -1, -9], [-2, -3, -4]]]]);
    const before = x.toFloat32Array();
    expect(maxPool2d(x, { kernelSize: 2, stride: 1, padding: 1 }).value.toArray()).toEqual([[[[-5, -5, -6, -7], [-5, -1, -1, -7], [-2, -1, -1, -4], [-2, -2, -3, -4]]]]);
    expect(x.toFloat32Array()).toEqual(before);
    const y = maxPool2d(tensor([[[[1, NaN], [3, 2]]]]), { kernelSize: 2 }).value.toFloat32Array();
    expect(Number.isNaN(y[0])).toBe(true);
  });

  it("a dilated window whose taps all fall in the padding gives -inf and no gradient", () => {
    // L = 2, k = 2, p = 1, d = 3: one window, taps at -1 and 2, both outside the input
    const x = tensor([[[[1, 2], [3, 4]]]]);
    const { value, indices } = maxPool2d(x, { kernelSize: 2, padding: 1, dilation: 3 });
    expect(value.toArray()).toEqual([[[[-Infinity]]]]);
    expect(maxPool2dBackward(tensor([[[[5]]]]), indices, x.shape).toArray()).toEqual([[[[0, 0], [0, 0]]]]);
  });

  it("ties go to the first maximum in window order, on the 2x2 fast path and the general one", () => {
    const x = tensor([[[[1, 3, 3, 0], [3, 3, 2, 3]]]]);
    const fast = maxPool2d(x, { kernelSize: 2 }), general = maxPool2d(x, { kernelSize: 2, stride: 2, ceilMode: true, padding: 0, dilation: 1 });
    for (const { value, indices } of [fast, general]) {
      expect(value.toArray()).toEqual([[[[3, 3]]]]);
      expect(Array.from(indices)).toEqual([1, 2]);
    }
    const gen = maxPool2d(tensor([[[[1, 3, 3], [3, 3, 2]]]]), { kernelSize: 2, stride: 2, ceilMode: true }); // ceil mode: a partial last window
    expect(gen.value.toArray()).toEqual([[[[3, 3]]]]);
    expect(Array.from(gen.indices)).toEqual([1, 2]);
  });

  it("overlapping windows sum their gradients at a shared maximum", () => {
    const x = tensor([[[[0, 0, 0], [0, 9, 0], [0, 0, 0]]]]);
    const { value, indices } = maxPool2d(x, { kernelSize: 2, stride: 1 });
    expect(value.toArray()).toEqual([[[[9, 9], [9, 9]]]]);
    expect(maxPool2dBackward(tensor([[[[1, 2], [3, 4]]]]), indices, x.shape).toArray()).toEqual([[[[0, 0, 0], [0, 10, 0], [0, 0, 0]]]]);
  });

  it("rejects bad input naming the op", () => {
    expect(() => maxPool2d(randn([1, 1, 4, 4], rng), { kernelSize: 2, padding: 2 })).toThrow(/maxPool2d: padding \[2,2\] must be at most half the kernel size \[2,2\]/);
    expect(() => maxPool2d(randn([1, 1, 2, 2], rng), { kernelSize: 3, dilation: 2 })).toThrow(/maxPool2d: kernel 3x3 \(dilation \[2,2\]\) is larger than the padded input 2x2/);
    expect(() => maxPool2d(randn([4, 4], rng), { kernelSize: 2 })).toThrow(/maxPool2d: input must be \[N,C,H,W\]/);
    expect(() => maxPool2d(randn([1, 1, 4, 4], rng), { kernelSize: 0 })).toThrow(/maxPool2d: kernelSize must be an integer >= 1/);
  });
});

const avgCases: { x: number[]; o: AvgPool2dOptions }[] = [
  { x: [2, 2, 4, 4], o: { kernelSize: 2 } },
  { x: [1, 2, 6, 6], o: { kernelSize: 3, stride: 2, padding: 1 } },
  { x: [1, 2, 6, 6], o: { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false } },
  { x: [1, 1, 6, 6], o: { kernelSize: 3, stride: 2, padding: 1, ceilMode: true } },
  { x: [1, 2, 5, 5], o: { kernelSize: 2, stride: 2, ceilMode: true, countIncludePad: false } },
  { x: [1, 2, 5, 5], o: { kernelSize: 2, stride: 2, padding: 1, divisorOverride: 3 } },
  { x: [2, 1, 5, 4], o: { kernelSize: [3, 2], stride: [2, 1], padding: [1, 0] } },
  { x: [2, 3, 7, 8], o: { kernelSize: 3, stride: [2, 3], padding: 1, ceilMode: true, countIncludePad: true } },
];

describe("avgPool2d", () => {
  it.each(avgCases)("matches the definition for %j", ({ x: xs, o }) => {
    const x = randn(xs, rng), y = avgPool2d(x, o), dy = randn(y.shape, rng);
    const ref = refAvg(x, o, dy.toFloat32Array());
    expectClose(y, ref.shape, ref.y, "y");
    expectClose(avgPool2dBackward(dy, x.shape, o), xs, ref.dx, "dx");
  });

  it("exact values: padding counted or not, ceil-mode overhang never counted", () => {
    const x = tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]);
    expect(avgPool2d(x, { kernelSize: 2, stride: 2, padding: 1 }).toArray()).toEqual([[[[0.25, 1.25], [2.75, 7]]]]);
    expect(avgPool2d(x, { kernelSize: 2, stride: 2, padding: 1, countIncludePad: false }).toArray()).toEqual([[[[1, 2.5], [5.5, 7]]]]);
    // ceil mode, no padding: the last window [2..3] hangs over the border; divisor 1 (in-input), not 4
    expect(avgPool2d(x, { kernelSize: 2, stride: 2, ceilMode: true }).toArray()).toEqual([[[[3, 4.5], [7.5, 9]]]]);
  });

  it("rejects bad input naming the op", () => {
    expect(() => avgPool2d(randn([1, 1, 4, 4], rng), { kernelSize: 2, divisorOverride: 0 })).toThrow(/avgPool2d: divisorOverride must be a non-zero integer/);
    expect(() => avgPool2d(randn([1, 1, 1, 4], rng), { kernelSize: 2 })).toThrow(/avgPool2d: kernel 2x2 .* larger than the padded input 1x4/);
    expect(() => avgPool2dBackward(randn([1, 1, 3, 3], rng), [1, 1, 4, 4], { kernelSize: 2 })).toThrow(/avgPool2dBackward: dy does not match the output shape/);
  });
});

describe("pooling fuzz", () => {
  it("80 seeded random max/avg problems (kernel, stride, padding <= k/2, dilation, ceil mode, divisors) match the definitions", () => {
    const f = new Rng(2024), int = (lo: number, hi: number) => lo + Math.floor(f.random() * (hi - lo + 1));
    let ran = 0;
    for (let t = 0; t < 80; t++) {
      const kh = int(1, 4), kw = int(1, 4), ceilMode = f.random() < 0.5;
      const base = { kernelSize: [kh, kw] as [number, number], stride: [int(1, 3), int(1, 3)] as [number, number], padding: [int(0, kh >> 1), int(0, kw >> 1)] as [number, number], ceilMode };
      const xs = [int(1, 2), int(1, 3), int(1, 9), int(1, 9)];
      const x = randn(xs, rng);
      if (t % 2 === 0) {
        const o: MaxPool2dOptions = { ...base, dilation: [int(1, 2), int(1, 2)] };
        const dy0 = refMax(x, o, null);
        if (dy0.shape[2]! < 1 || dy0.shape[3]! < 1) { expect(() => maxPool2d(x, o)).toThrow(/maxPool2d: kernel .* larger than the padded input/); continue; }
        const { value, indices } = maxPool2d(x, o), dy = randn(value.shape, rng), ref = refMax(x, o, dy.toFloat32Array());
        expectClose(value, ref.shape, ref.y, `max ${t} ${JSON.stringify(o)} y`);
        expectClose(maxPool2dBackward(dy, indices, x.shape), xs, ref.dx, `max ${t} dx`);
      } else {
        const o: AvgPool2dOptions = { ...base, countIncludePad: f.random() < 0.5, divisorOverride: f.random() < 0.2 ? int(1, 5) : null };
        const dy0 = refAvg(x, o, null);
        if (dy0.shape[2]! < 1 || dy0.shape[3]! < 1) { expect(() => avgPool2d(x, o)).toThrow(/avgPool2d: kernel .* larger than the padded input/); continue; }
        const y = avgPool2d(x, o), dy = randn(y.shape, rng), ref = refAvg(x, o, dy.toFloat32Array());
        expectClose(y, ref.shape, ref.y, `avg ${t} ${JSON.stringify(o)} y`);
        expectClose(avgPool2dBackward(dy, x.shape, o), xs, ref.dx, `avg ${t} dx`);
      }
      ran++;
    }
    expect(ran).toBeGreaterThan(50);
  });
});

describe("adaptiveAvgPool2d", () => {
  it.each([
    [[2, 2, 6, 6], [3, 3]], [[1, 2, 5, 7], [3, 4]], [[2, 3, 4, 5], [1, 1]], [[1, 1, 3, 3], [5, 4]],
  ] as [number[], [number, number]][])("input %j to %j: windows floor(i·H/oH) .. ceil((i+1)·H/oH)", (xs, [oh, ow]) => {
    const x = randn(xs, rng), y = adaptiveAvgPool2d(x, [oh, ow]), dy = randn(y.shape, rng);
    const [n, c, h, w] = xs as [number, number, number, number];
    const xv = x.toFloat32Array(), dyv = dy.toFloat32Array(), want: number[] = [], dx = new Float64Array(x.size);
    for (let p = 0; p < n * c; p++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
      const r0 = Math.floor((i * h) / oh), r1 = Math.ceil(((i + 1) * h) / oh), c0 = Math.floor((j * w) / ow), c1 = Math.ceil(((j + 1) * w) / ow);
      const size = (r1 - r0) * (c1 - c0);
      let s = 0;
      for (let r = r0; r < r1; r++) for (let q = c0; q < c1; q++) { s += xv[(p * h + r) * w + q]!; dx[(p * h + r) * w + q] += dyv[want.length]! / size; }
      want.push(s / size);
    }
    expectClose(y, [n, c, oh, ow], want, "y");
    expectClose(adaptiveAvgPool2dBackward(dy, x.shape), xs, dx, "dx");
  });

  it("exact values and errors", () => {
    expect(adaptiveAvgPool2d(tensor([[[[1, 2, 3, 4]]]]), [1, 2]).toArray()).toEqual([[[[1.5, 3.5]]]]);
    expect(adaptiveAvgPool2d(tensor([[[[1, 2, 3]]]]), [1, 2]).toArray()).toEqual([[[[1.5, 2.5]]]]); // overlapping: [0,1] and [1,2]
    expect(() => adaptiveAvgPool2d(randn([2, 3], rng), 1)).toThrow(/adaptiveAvgPool2d: input must be \[N,C,H,W\]/);
    expect(() => adaptiveAvgPool2d(randn([1, 1, 2, 2], rng), 0)).toThrow(/adaptiveAvgPool2d: outputSize must be an integer >= 1/);
  });
});
