/**
 * @file softmax / logSoftmax: exact small cases, finiteness at logits of ±5000, -Infinity masks,
 * all-masked lanes (NaN), every axis (negative too), 0-d and 0-size inputs, `out`, and a fuzz
 * against the float64 reference on random layouts.
 */
import { describe, expect, it } from "vitest";
import { Rng, Tensor, arange, logSoftmax, softmax, sum, tensor, zeros } from "@tapegrad/tensor";
import { expectAllClose, expectRef, expectTensor } from "../helpers/assert.js";
import { fromTensor, refSoftmax } from "../helpers/reference.js";
import { randomInput, randomShape } from "../helpers/layouts.js";

const ops = [
  ["softmax", softmax],
  ["logSoftmax", logSoftmax],
] as const;

describe("softmax / logSoftmax values", () => {
  it("small exact cases", () => {
    expectTensor(softmax(tensor([0, 0])), [2], [0.5, 0.5]);
    expectTensor(softmax(tensor([1000, 1000])), [2], [0.5, 0.5]);
    expectAllClose(logSoftmax(tensor([0, 0])).toFloat32Array(), [-Math.LN2, -Math.LN2], { rtol: 1e-7 });
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const z = e[0]! + e[1]! + e[2]!;
    expectAllClose(softmax(tensor([1, 2, 3])).toFloat32Array(), e.map((v) => v / z), { rtol: 1e-7 });
    expectAllClose(logSoftmax(tensor([1, 2, 3])).toFloat32Array(), [1, 2, 3].map((v) => v - Math.log(z)), { rtol: 1e-7 });
  });

  it("is finite at logits of ±5000 (and rows sum to 1)", () => {
    const x = tensor([[5000, -5000, 4999], [-5000, -5000, -4999]]);
    const p = softmax(x);
    for (const v of p.toFloat32Array()) expect(Number.isFinite(v)).toBe(true);
    const e1 = Math.exp(-1);
    expectAllClose(p.toFloat32Array(), [1 / (1 + e1), 0, e1 / (1 + e1), e1 / (1 + 2 * e1), e1 / (1 + 2 * e1), 1 / (1 + 2 * e1)], { rtol: 1e-6, atol: 1e-30 });
    expectAllClose(sum(p, -1).toFloat32Array(), [1, 1], { rtol: 1e-6 });
    const lp = logSoftmax(x);
    for (const v of lp.toFloat32Array()) expect(Number.isFinite(v)).toBe(true);
    expectAllClose(lp.toFloat32Array(), [-Math.log1p(e1), -10000 - Math.log1p(e1), -1 - Math.log1p(e1), -1 - Math.log1p(2 * e1), -1 - Math.log1p(2 * e1), -Math.log1p(2 * e1)], { rtol: 1e-6 });
  });

  it("-Infinity entries get probability 0 / log-probability -Infinity", () => {
    const x = tensor([[0, -Infinity, 0], [-Infinity, 3, -Infinity]]);
    expectTensor(softmax(x), [2, 3], [0.5, 0, 0.5, 0, 1, 0]);
    expectAllClose(logSoftmax(x).toFloat32Array(), [-Math.LN2, -Infinity, -Math.LN2, -Infinity, 0, -Infinity], { rtol: 1e-7 });
  });

  it("an all -Infinity lane gives NaN (as PyTorch), other lanes are unaffected", () => {
    const x = tensor([[-Infinity, -Infinity], [0, 0]]);
    expectTensor(softmax(x), [2, 2], [NaN, NaN, 0.5, 0.5]);
    expectAllClose(logSoftmax(x).toFloat32Array(), [NaN, NaN, -Math.LN2, -Math.LN2], { rtol: 1e-7 });
  });

  it("NaN and +Infinity poison their lane only", () => {
    expectTensor(softmax(tensor([[NaN, 1], [1, 1]])), [2, 2], [NaN, NaN, 0.5, 0.5]);
    expectTensor(softmax(tensor([[Infinity, 1], [1, 1]])), [2, 2], [NaN, NaN, 0.5, 0.5]);
  });

  it("works along any axis, negative included", () => {
    const x = arange(24).reshape(2, 3, 4);
    const r = fromTensor(x);
    for (const axis of [0, 1, 2, -1, -2, -3]) {
      for (const [name, f] of ops) expectRef(f(x, axis), refSoftmax(r, axis, name === "logSoftmax"), { rtol: 1e-6, atol: 1e-7 }, `${name} axis ${axis}`);
    }
    expectAllClose(sum(softmax(x, 0), 0).toFloat32Array(), new Array(12).fill(1), { rtol: 1e-6 });
  });

  it("0-d (axis 0 or -1) and 0-size inputs", () => {
    expectTensor(softmax(tensor(3)), [], [1]);
    expectTensor(logSoftmax(tensor(3), 0), [], [0]);
    expect(softmax(zeros([0, 3])).shape).toEqual([0, 3]);
    expect(logSoftmax(zeros([2, 0])).shape).toEqual([2, 0]);
    expect(softmax(zeros([2, 0]), 0).shape).toEqual([2, 0]);
  });

  it("rejects bad axes naming the op and the shape", () => {
    expect(() => softmax(zeros([2, 3]), 2)).toThrow(/softmax: axis 2 is out of range: expected an integer in \[-2, 1\] \(got \[2,3\]\)/);
    expect(() => logSoftmax(tensor(1), 1)).toThrow(/logSoftmax: axis 1 is out of range: expected an integer in \[-1, 0\] \(got \[\]\)/);
    expect(() => softmax(zeros([2]), 0.5)).toThrow(/softmax: axis 0\.5 is out of range/);
  });
});

describe("out argument", () => {
  it("writes into out, also in place", () => {
    const x = tensor([[1, 1], [2, 2]]);
    const out = zeros([2, 2]);
    expect(softmax(x, -1, out)).toBe(out);
    expectTensor(out, [2, 2], [0.5, 0.5, 0.5, 0.5]);
    logSoftmax(x, 0, x);
    expectAllClose(x.toFloat32Array(), [-Math.log1p(Math.E), -Math.log1p(Math.E), -Math.log1p(1 / Math.E), -Math.log1p(1 / Math.E)], { rtol: 1e-6 });
    const y = tensor([0, 0, 0, 0]);
    softmax(y, 0, y);
    expectTensor(y, [4], [0.25, 0.25, 0.25, 0.25]);
    const t = arange(6).reshape(2, 3);
    const o = zeros([3, 2]);
    softmax(t.mT, 0, o);
    expectRef(o, refSoftmax(fromTensor(t.mT), 0, false), { rtol: 1e-6, atol: 1e-7 });
  });

  it("rejects bad outs", () => {
    const x = zeros([2, 3]);
    expect(() => softmax(x, -1, zeros([3, 2]))).toThrow(/softmax: out has the wrong shape \(got \[3,2\] and \[2,3\]\)/);
    const sq = arange(4).reshape(2, 2);
    expect(() => logSoftmax(sq.mT, -1, sq)).toThrow(/logSoftmax: out partially overlaps an input/);
  });
});

describe("fuzz vs the float64 reference", () => {
  it("random shapes, layouts, axes, magnitudes and masks", () => {
    const rng = new Rng(55);
    for (let trial = 0; trial < 200; trial++) {
      const shape = randomShape(rng, 1, 4, 5, trial % 7 === 0);
      let x = randomInput(rng, shape);
      if (trial % 3 === 0) {
        // scale to huge logits and mask some entries
        const v = x.toFloat32Array().map((a) => (rng.random() < 0.2 ? -Infinity : a * 2500));
        x = new Tensor(v, shape);
      }
      const axis = rng.int(-shape.length, shape.length);
      const r = fromTensor(x);
      for (const [name, f] of ops) {
        expectRef(f(x, axis), refSoftmax(r, axis, name === "logSoftmax"), { rtol: 2e-6, atol: 1e-7 }, `${name} ${JSON.stringify(shape)} axis ${axis} strides ${JSON.stringify(x.strides)}`);
      }
    }
  });
});
