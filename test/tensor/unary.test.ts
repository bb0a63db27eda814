/**
 * @file Unary elementwise ops (every export of unary.ts): values against float64 references on
 * special inputs (NaN, ±Infinity, ±0, halves, huge magnitudes), parameters (leakyRelu slope,
 * gelu approximation, softplus beta/threshold, clamp bounds, affine), `erf`, the `out` argument,
 * `copyInto`, 0-d/0-size tensors and random non-contiguous layouts.
 */
import { describe, expect, it } from "vitest";
import {
  Rng, ShapeError, Tensor, UnOp, abs, affine, arange, ceil, clamp, copyInto, cos, erf, exp, expm1, floor, gelu, isFinite, isInf, isNaN,
  leakyRelu, log, log1p, logicalNot, neg, reciprocal, relu, round, rsqrt, sigmoid, sign, sin, softplus, sqrt, square, tanh, tensor,
  trunc, unaryOp, zeros, type TensorOrScalar,
} from "@tapegrad/tensor";
import { expectAllClose, expectRef, expectTensor, isNegZero } from "../helpers/assert.js";
import { fromTensor, refUnary } from "../helpers/reference.js";
import { randomLayout, randomShape } from "../helpers/layouts.js";

/** erf oracle: Taylor series below 2, continued fraction for erfc above (|error| < 1e-13). */
function erfRef(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  let r: number;
  if (ax < 2) {
    let term = ax;
    let s = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      s += term / (2 * n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * s;
  } else if (ax < 30) {
    // erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + (2/2)/(x + (3/2)/(x + ...))))
    let t = ax;
    for (let n = 400; n >= 1; n--) t = ax + n / 2 / t;
    r = 1 - Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * t);
  } else r = 1;
  return x < 0 ? -r : r;
}

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 1e-8, -1e-8, 0.1, 3, -3, 20, -20, 100, -100, 1e30, -1e30];

type Un = (x: TensorOrScalar, out?: Tensor) => Tensor;
const sigmoidRef = (v: number) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
const roundHalfEven = (v: number) => {
  if (!Number.isFinite(v)) return v;
  const f = Math.floor(v);
  const d = v - f;
  const r = d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  return r === 0 && (v < 0 || Object.is(v, -0)) ? -0 : r;
};

/** Every plain unary op with its float64 reference. */
const OPS: [string, Un, (v: number) => number][] = [
  ["neg", neg, (v) => -v],
  ["exp", exp, Math.exp],
  ["log", log, Math.log],
  ["sqrt", sqrt, Math.sqrt],
  ["rsqrt", rsqrt, (v) => 1 / Math.sqrt(v)],
  ["abs", abs, Math.abs],
  ["sign", sign, (v) => (v > 0 ? 1 : v < 0 ? -1 : v)],
  ["tanh", tanh, Math.tanh],
  ["sigmoid", sigmoid, sigmoidRef],
  ["relu", relu, (v) => (Number.isNaN(v) ? NaN : v > 0 ? v : 0)],
  ["square", square, (v) => v * v],
  ["reciprocal", reciprocal, (v) => 1 / v],
  ["sin", sin, Math.sin],
  ["cos", cos, Math.cos],
  ["log1p", log1p, Math.log1p],
  ["expm1", expm1, Math.expm1],
  ["floor", floor, Math.floor],
  ["ceil", ceil, Math.ceil],
  ["round", round, roundHalfEven],
  ["trunc", trunc, Math.trunc],
  ["isNaN", isNaN, (v) => (Number.isNaN(v) ? 1 : 0)],
  ["isFinite", isFinite, (v) => (Number.isFinite(v) ? 1 : 0)],
  ["isInf", isInf, (v) => (v === Infinity || v === -Infinity ? 1 : 0)],
  ["logicalNot", logicalNot, (v) => (v === 0 ? 1 : 0)],
  ["leakyRelu", (x, out) => leakyRelu(x, undefined, out), (v) => (v > 0 ? v : v * 0.01)],
  ["gelu", (x, out) => gelu(x, undefined, out), (v) => 0.5 * v * (1 + erfRef(v / Math.SQRT2))],
  ["gelu tanh", (x, out) => gelu(x, "tanh", out), (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))],
  ["softplus", (x, out) => softplus(x, undefined, undefined, out), (v) => (v > 20 ? v : Math.log1p(Math.exp(v)))],
  ["clamp", (x, out) => clamp(x, -1, 2, out), (v) => (Number.isNaN(v) ? NaN : Math.min(Math.max(v, -1), 2))],
  ["affine", (x, out) => affine(x, 2, -1, out), (v) => 2 * v - 1],
];

const f32 = (v: number) => Math.fround(v);

describe("unary ops on special values", () => {
  it.each(OPS)("%s", (name, f, ref) => {
    const x = tensor(SPECIAL);
    const want = SPECIAL.map((v) => ref(f32(v)));
    const y = f(x);
    expect(y.shape).toEqual([SPECIAL.length]);
    // gelu's infinities: 0.5*(-Inf)*(1+erf(-Inf)) is NaN in float arithmetic on both sides
    expectAllClose(y.toFloat32Array(), want.map(f32), { rtol: 1e-6, atol: 1e-37 }, name);
    // signed zeros are preserved where the reference produces them
    for (let i = 0; i < want.length; i++) {
      if (want[i] === 0) expect(isNegZero(y.get(i)), `${name}(${SPECIAL[i]}) sign of zero`).toBe(isNegZero(f32(want[i]!)));
    }
  });
});

describe("unary ops: documented values", () => {
  it("basic math", () => {
    expectTensor(neg(tensor([1, -2])), [2], [-1, 2]);
    expectTensor(exp(tensor([0, 1])), [2], [1, Math.fround(Math.E)]);
    expectTensor(log(tensor([1, 0, -1])), [3], [0, -Infinity, NaN]);
    expectTensor(sqrt(tensor([4, -1])), [2], [2, NaN]);
    expectTensor(rsqrt(tensor([4, 0])), [2], [0.5, Infinity]);
    expectTensor(abs(tensor([-2, -0])), [2], [2, 0]);
    expectTensor(sign(tensor([-3, 0, 2, NaN])), [4], [-1, 0, 1, NaN]);
    expectTensor(square(tensor([3, -3])), [2], [9, 9]);
    expectTensor(reciprocal(tensor([4, 0, -0])), [3], [0.25, Infinity, -Infinity]);
    expectTensor(log1p(tensor([0, -1])), [2], [0, -Infinity]);
    expectTensor(expm1(tensor([0])), [1], [0]);
    expect(log1p(tensor([1e-10])).get(0)).toBe(Math.fround(1e-10));
    expect(expm1(tensor([1e-10])).get(0)).toBe(Math.fround(1e-10));
  });

  it("rounding family, with round-half-to-even", () => {
    const x = tensor([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6, 3.5]);
    expectTensor(round(x), [9], [0, 2, 2, -0, -2, -2, 2, -3, 4]);
    expect(isNegZero(round(x).get(3))).toBe(true);
    expectTensor(floor(x), [9], [0, 1, 2, -1, -2, -3, 2, -3, 3]);
    expectTensor(ceil(x), [9], [1, 2, 3, -0, -1, -2, 3, -2, 4]);
    expectTensor(trunc(x), [9], [0, 1, 2, -0, -1, -2, 2, -2, 3]);
  });

  it("predicates", () => {
    const x = tensor([NaN, Infinity, -Infinity, 0, 1]);
    expectTensor(isNaN(x), [5], [1, 0, 0, 0, 0]);
    expectTensor(isFinite(x), [5], [0, 0, 0, 1, 1]);
    expectTensor(isInf(x), [5], [0, 1, 1, 0, 0]);
    expectTensor(logicalNot(x), [5], [0, 0, 0, 1, 0]);
  });

  it("activations are stable at large magnitudes", () => {
    const big = tensor([-1000, -100, -20, 20, 100, 1000]);
    expectTensor(sigmoid(big), [6], [0, Math.fround(Math.exp(-100)), Math.fround(sigmoidRef(-20)), Math.fround(sigmoidRef(20)), 1, 1]);
    expectTensor(tanh(big), [6], [-1, -1, -1, 1, 1, 1]);
    expectTensor(softplus(big), [6], [0, Math.fround(Math.log1p(Math.exp(-100))), Math.fround(Math.log1p(Math.exp(-20))), Math.fround(Math.log1p(Math.exp(20))), 100, 1000]);
    expectTensor(relu(big), [6], [0, 0, 0, 20, 100, 1000]);
    expectTensor(gelu(tensor([-1000, 1000])), [2], [-0, 1000]);
    expectTensor(gelu(tensor([-1000, 1000]), "tanh"), [2], [-0, 1000]);
    expect(sigmoid(tensor([0])).item()).toBe(0.5);
  });

  it("leakyRelu with a custom slope", () => {
    // float32 arithmetic with the slope rounded to float32, as PyTorch: −10·fround(0.01) is a tie, rounded to even
    expectTensor(leakyRelu(tensor([-10, 1, 0, NaN])), [4], [f32(-10 * f32(0.01)), 1, 0, NaN]);
    expectTensor(leakyRelu(tensor([-2, 3]), 0.5), [2], [-1, 3]);
    expectTensor(leakyRelu(tensor([-2, 3]), -1), [2], [2, 3]);
  });

  it("gelu exact and tanh approximation at known points", () => {
    // torch.nn.functional.gelu(torch.tensor([-1., 0.5, 1., 2.]))  (exact and approximate='tanh')
    expectAllClose(gelu(tensor([-1, 0.5, 1, 2])).toFloat32Array(), [-0.15865525, 0.34573123, 0.84134475, 1.9544997], { rtol: 1e-6, atol: 1e-7 });
    expectAllClose(gelu(tensor([-1, 0.5, 1, 2]), "tanh").toFloat32Array(), [-0.15880801, 0.34571401, 0.84119199, 1.9545977], { rtol: 1e-6, atol: 1e-7 });
    expect(() => gelu(tensor([1]), "fast" as never)).toThrow(/gelu: approximate must be "none" or "tanh" \(got fast\)/);
  });

  it("softplus beta and threshold (PyTorch's rule)", () => {
    const x = tensor([3, 2, -1, 0]);
    // beta=2, threshold=5: beta*x = 6 > 5 passes x through; otherwise log1p(exp(beta x))/beta
    expectAllClose(softplus(x, 2, 5).toFloat32Array(), [3, Math.log1p(Math.exp(4)) / 2, Math.log1p(Math.exp(-2)) / 2, Math.LN2 / 2].map(f32), { rtol: 1e-6 });
    expectAllClose(softplus(tensor([0])).toFloat32Array(), [f32(Math.LN2)], { rtol: 1e-7 });
    expectAllClose(softplus(tensor([1]), -1).toFloat32Array(), [f32(-Math.log1p(Math.exp(-1)))], { rtol: 1e-6 });
    expect(softplus(tensor([20.5])).get(0)).toBe(20.5);
    expect(() => softplus(x, 0)).toThrow(/softplus: beta must be finite and non-zero \(got 0\)/);
    expect(() => softplus(x, NaN)).toThrow(RangeError);
    expect(() => softplus(x, Infinity)).toThrow(RangeError);
  });

  it("clamp with one or both bounds; NaN passes through", () => {
    const x = tensor([-2, 0.5, 3, NaN, -Infinity, Infinity]);
    expectTensor(clamp(x, -1, 1), [6], [-1, 0.5, 1, NaN, -1, 1]);
    expectTensor(clamp(x, 0), [6], [0, 0.5, 3, NaN, 0, Infinity]);
    expectTensor(clamp(x, null, 0), [6], [-2, 0, 0, NaN, -Infinity, 0]);
    expectTensor(clamp(x), [6], [-2, 0.5, 3, NaN, -Infinity, Infinity]);
    expectTensor(clamp(x, 1, 1), [6], [1, 1, 1, NaN, 1, 1]);
    expect(() => clamp(x, 2, 1)).toThrow(/clamp: need min <= max \(got min 2, max 1\)/);
    expect(() => clamp(x, NaN, 1)).toThrow(RangeError);
  });

  it("affine computes scale*x + shift", () => {
    expectTensor(affine(tensor([1, 2]), 2, 1), [2], [3, 5]);
    expectTensor(affine(tensor(4), -0.5, 0), [], [-2]);
  });
});

describe("erf", () => {
  it("matches known values and the series oracle", () => {
    expect(erf(0)).toBe(0);
    expect(isNegZero(erf(-0))).toBe(true);
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 14);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 14);
    expect(erf(2)).toBeCloseTo(0.9953222650189527, 14);
    expect(erf(-1)).toBeCloseTo(-0.8427007929497149, 14);
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(Number.isNaN(erf(NaN))).toBe(true);
    for (let x = -6; x <= 6; x += 0.01) {
      expect(Math.abs(erf(x) - erfRef(x)), `erf(${x})`).toBeLessThan(1e-14);
    }
    for (const x of [1e-300, 1e-12, 3e-9, 0.84, 0.85, 1.24, 1.26, 2.85, 2.86, 5.99, 6.01]) {
      expect(Math.abs(erf(x) - erfRef(x)), `erf(${x})`).toBeLessThanOrEqual(1e-14 * Math.abs(erfRef(x)));
    }
  });
});

describe("unaryOp: layouts, out, 0-d and 0-size", () => {
  it("handles non-contiguous inputs (fuzz vs reference)", () => {
    const rng = new Rng(12);
    for (let trial = 0; trial < 150; trial++) {
      const x = randomLayout(rng, randomShape(rng, 0, 4, 4, true));
      const [name, f, ref] = OPS[trial % OPS.length]!;
      expectRef(f(x), refUnary(fromTensor(x), (v) => ref(v)), { rtol: 1e-6, atol: 1e-37 }, `${name} ${JSON.stringify(x.shape)}`);
    }
  });

  it("0-d tensors and numbers give 0-d results; 0-size gives 0-size", () => {
    for (const [name, f] of OPS) {
      expect(f(tensor(0.25)).shape, name).toEqual([]);
      expect(f(0.25).shape, name).toEqual([]);
      expect(f(zeros([2, 0])).shape, name).toEqual([2, 0]);
    }
    expect(exp(0).item()).toBe(1);
  });

  it("writes into out, in place, and into a sub-view", () => {
    const x = tensor([1, 4, 9]);
    const out = zeros([3]);
    expect(sqrt(x, out)).toBe(out);
    expect(out.toArray()).toEqual([1, 2, 3]);
    sqrt(x, x);
    expect(x.toArray()).toEqual([1, 2, 3]);
    const buf = zeros([2, 3]);
    neg(x, buf.select(0, 1));
    expect(buf.toArray()).toEqual([[0, 0, 0], [-1, -2, -3]]);
    const t = arange(6).reshape(2, 3).mT; // non-contiguous input, contiguous out
    const o2 = zeros([3, 2]);
    square(t, o2);
    expect(o2.toArray()).toEqual([[0, 9], [1, 16], [4, 25]]);
  });

  it("rejects bad outs", () => {
    const x = arange(6).reshape(2, 3);
    expect(() => exp(x, zeros([3, 2]))).toThrow(/exp: out has the wrong shape \(got \[3,2\] and \[2,3\]\)/);
    expect(() => exp(x, zeros([3, 2]).mT)).toThrow(/exp: out must be contiguous \(got \[2,3\]\)/);
    const sq = arange(4).reshape(2, 2);
    expect(() => exp(sq.mT, sq)).toThrow(ShapeError);
    expect(() => exp(sq.mT, sq)).toThrow(/exp: out partially overlaps an input \(same storage, different layout\) \(got \[2,2\] and \[2,2\]\)/);
    expect(() => relu(x.mT, x.mT.contiguous())).not.toThrow();
    const v = arange(4);
    expect(() => neg(v.slice(0, null, null, -1), v)).toThrow(/neg: out partially overlaps an input/);
    expect(() => clamp(x, 0, 1, zeros([6]))).toThrow(/clamp: out has the wrong shape/);
    expect(() => exp("x" as never)).toThrow(/exp: expected a Tensor or a number \(got string\)/);
  });

  it("unaryOp dispatches op codes and rejects unknown ones", () => {
    expectTensor(unaryOp("pow", UnOp.POW, tensor([2, 3]), undefined, 3), [2], [8, 27]);
    expectTensor(unaryOp("pow", UnOp.POW, tensor([2, -3]), undefined, 2), [2], [4, 9]);
    expectTensor(unaryOp("copy", UnOp.COPY, arange(4).slice(0, null, null, -1)), [4], [3, 2, 1, 0]);
    expect(() => unaryOp("bad", 99 as UnOp, tensor([1]))).toThrow(/internal: unknown unary op code 99/);
  });
});

describe("copyInto", () => {
  it("copies with broadcasting into a contiguous tensor", () => {
    const buf = zeros([2, 3]);
    expect(copyInto(tensor([1, 2, 3]), buf)).toBe(buf);
    expect(buf.toArray()).toEqual([[1, 2, 3], [1, 2, 3]]);
    copyInto(7, buf);
    expect(buf.toArray()).toEqual([[7, 7, 7], [7, 7, 7]]);
    copyInto(arange(6).reshape(3, 2).mT, buf);
    expect(buf.toArray()).toEqual([[0, 2, 4], [1, 3, 5]]);
  });

  it("writes through a strided destination view", () => {
    const buf = zeros([3, 4]);
    copyInto(tensor([[1, 2], [3, 4], [5, 6]]), buf.slice(1, 0, null, 2));
    expect(buf.toArray()).toEqual([[1, 0, 2, 0], [3, 0, 4, 0], [5, 0, 6, 0]]);
    copyInto(tensor([9, 8, 7]), buf.select(1, 3));
    expect(buf.toArray()).toEqual([[1, 0, 2, 9], [3, 0, 4, 8], [5, 0, 6, 7]]);
  });

  it("handles source and destination overlapping in the same storage", () => {
    const v = arange(6);
    copyInto(v.narrow(0, 0, 5), v.narrow(0, 1, 5));
    expect(v.toArray()).toEqual([0, 0, 1, 2, 3, 4]);
    const w = arange(4);
    copyInto(w.slice(0, null, null, -1), w);
    expect(w.toArray()).toEqual([3, 2, 1, 0]);
  });

  it("rejects impossible broadcasts and stride-0 destinations, naming copyInto", () => {
    expect(() => copyInto(tensor([1, 2]), zeros([3]))).toThrow(/copyInto: cannot broadcast axis 0 of size 2 to 3 \(got \[2\] and \[3\]\)/);
    expect(() => copyInto(tensor([1]), zeros([1]).broadcastTo([3]))).toThrow(/copyInto: out must not have broadcast \(stride 0\) dimensions \(got \[3\]\)/);
    expect(() => copyInto(1, [1] as never)).toThrow(/copyInto: out must be a Tensor/);
    const e = zeros([0, 2]);
    expect(copyInto(5, e)).toBe(e);
  });
});
