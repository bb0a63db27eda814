/**
 * @file PyTorch gradient conventions at kinks, ties and non-finite values, where finite
 * differences say nothing: max/min routing, relu/abs/clamp at their kinks, NaN propagation.
 */
import { describe, expect, it } from "vitest";
import * as A from "@tapegrad/autograd";
import { tensor } from "@tapegrad/tensor";

const gradOf = (f: (x: A.Var) => A.Var, v: number[] | number[][]) => {
  const x = A.variable(tensor(v));
  A.sum(f(x)).backward();
  return Array.from(x.grad!.data);
};

describe("ties and NaN in max/min", () => {
  it("reducing everything splits the gradient evenly among ties (x.max())", () => {
    expect(gradOf((x) => A.max(x), [1, 3, 3, 2])).toEqual([0, 0.5, 0.5, 0]);
    expect(gradOf((x) => A.min(x, null, true), [[1, 5], [1, 1]])).toEqual([1 / 3, 0, 1 / 3, 1 / 3].map(Math.fround));
  });
  it("reducing one axis routes the gradient to the first arg-max (x.max(dim))", () => {
    expect(gradOf((x) => A.max(x, 0), [1, 3, 3, 2])).toEqual([0, 1, 0, 0]);
    expect(gradOf((x) => A.max(x, 1), [[1, 3, 3], [4, 0, 4]])).toEqual([0, 1, 0, 1, 0, 0]);
  });
  it("NaN wins: the gradient goes to the NaN entries", () => {
    expect(gradOf((x) => A.max(x), [1, NaN, 3, NaN])).toEqual([0, 0.5, 0, 0.5]);
    expect(gradOf((x) => A.max(x, 1), [[1, NaN], [3, 2]])).toEqual([0, 1, 1, 0]);
  });
  it("maximum/minimum split ties evenly between the two inputs", () => {
    const a = A.variable(tensor([1, 2, 3]));
    const b = A.variable(tensor([3, 2, 1]));
    A.sum(A.maximum(a, b)).backward();
    expect(Array.from(a.grad!.data)).toEqual([0, 0.5, 1]);
    expect(Array.from(b.grad!.data)).toEqual([1, 0.5, 0]);
  });
});

describe("kinks", () => {
  it("relu and abs have gradient 0 at 0 (and at NaN)", () => {
    expect(gradOf((x) => A.relu(x), [-1, 0, 2, NaN])).toEqual([0, 0, 1, 0]);
    expect(gradOf((x) => A.abs(x), [-1, 0, 2])).toEqual([-1, 0, 1]);
  });
  it("clamp passes the gradient inside the closed interval, bounds included", () => {
    expect(gradOf((x) => A.clamp(x, -1, 1), [-2, -1, 0, 1, 2])).toEqual([0, 1, 1, 1, 0]);
  });
  it("leakyRelu uses the negative slope at 0", () => {
    expect(gradOf((x) => A.leakyRelu(x, 0.1), [0, 1]).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([0.1, 1]);
  });
});

describe("non-finite values propagate", () => {
  it("through forward and backward of elementwise ops", () => {
    const g = gradOf((x) => A.mul(x, x), [NaN, Infinity, 2]);
    expect(g[0]).toBeNaN();
    expect(g[1]).toBe(Infinity);
    expect(g[2]).toBe(4);
  });
  it("log of 0 is -Infinity with gradient Infinity", () => {
    const x = A.variable(tensor([0]));
    const y = A.log(x);
    y.backward(tensor([1]));
    expect(y.value.data[0]).toBe(-Infinity);
    expect(x.grad!.data[0]).toBe(Infinity);
  });
});

describe("losses reject an unknown reduction", () => {
  it("mseLoss, l1Loss and huberLoss name themselves", () => {
    const p = A.variable(tensor([1, 2])), y = tensor([0, 0]);
    expect(() => A.mseLoss(p, y, { reduction: "avg" as "mean" })).toThrow(/mseLoss: reduction must be "mean", "sum" or "none" \(got avg\)/);
    expect(() => A.l1Loss(p, y, { reduction: "avg" as "mean" })).toThrow(/l1Loss: reduction must be/);
    expect(() => A.huberLoss(p, y, { reduction: "avg" as "mean" })).toThrow(/huberLoss: reduction must be/);
    expect(A.mseLoss(p, y, { reduction: "sum" }).item()).toBe(5);
  });
});
