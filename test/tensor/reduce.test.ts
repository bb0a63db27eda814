/**
 * @file Reductions: sum, mean, prod, max, min, argmax, argmin, logsumexp, variance, std over one
 * axis, several axes, negative axes and all elements, with keepDims; 0-d inputs; 0-size
 * dimensions (empty sum 0, empty mean NaN, empty max throws); NaN/Infinity; float64
 * accumulation; and a seeded fuzz against the reference on random layouts and axis subsets.
 */
import { describe, expect, it } from "vitest";
import {
  Rng, ShapeError, Tensor, argmax, argmin, argExtremeIndices, arange, full, logsumexp, max, mean, min, prod, std, sum, tensor, variance,
  zeros, type Axes,
} from "@tapegrad/tensor";
import { expectAllClose, expectRef, expectTensor } from "../helpers/assert.js";
import { fold, fromTensor, refReduce, type Ref } from "../helpers/reference.js";
import { randomAxes, randomInput, randomShape } from "../helpers/layouts.js";

const x234 = arange(24).reshape(2, 3, 4); // x[i][j][k] = 12i + 4j + k

describe("sum / mean / prod", () => {
  it("over one axis, negative axes and keepDims", () => {
    expectTensor(sum(tensor([[1, 2], [3, 4]]), 0), [2], [4, 6]);
    expectTensor(sum(tensor([[1, 2], [3, 4]]), -1, true), [2, 1], [3, 7]);
    expectTensor(sum(x234, 1), [2, 4], [12, 15, 18, 21, 48, 51, 54, 57]);
    expectTensor(sum(x234, -3, true), [1, 3, 4], Array.from({ length: 12 }, (_, i) => 2 * i + 12));
    expectTensor(mean(x234, 2), [2, 3], [1.5, 5.5, 9.5, 13.5, 17.5, 21.5]);
    expectTensor(prod(tensor([[1, 2, 3], [4, 5, 6]]), 1), [2], [6, 120]);
  });

  it("over several axes (any order, negative) and all axes", () => {
    expectTensor(sum(x234, [0, 2]), [3], [6 + 54, 22 + 70, 38 + 86]);
    expectTensor(sum(x234, [-1, 0], true), [1, 3, 1], [60, 92, 124]);
    expectTensor(sum(x234), [], [276]);
    expectTensor(sum(x234, null, true), [1, 1, 1], [276]);
    expectTensor(sum(x234, [0, 1, 2]), [], [276]);
    expectTensor(mean(x234), [], [11.5]);
    expectTensor(mean(x234, [0, 1]), [4], [10, 11, 12, 13]);
    expectTensor(prod(tensor([1, 2, 3, 4])), [], [24]);
    expectTensor(sum(x234, []), [2, 3, 4], fromTensor(x234).data); // an empty axis list reduces nothing
  });

  it("accepts numbers and 0-d tensors (axis 0 / -1 allowed, as in PyTorch)", () => {
    expectTensor(sum(3), [], [3]);
    expectTensor(sum(tensor(3), null, true), [], [3]);
    expectTensor(sum(tensor(3), 0), [], [3]);
    expectTensor(mean(tensor(3), -1, true), [], [3]);
    expectTensor(prod(tensor(-2), [0]), [], [-2]);
    expectTensor(max(tensor(5), 0), [], [5]);
    expectTensor(min(tensor(5)), [], [5]);
    expectTensor(logsumexp(tensor(2), -1), [], [2]);
    expectTensor(variance(tensor(2), null, { correction: 0 }), [], [0]);
    expect(() => sum(tensor(3), 1)).toThrow(/sum: axis 1 is out of range: expected an integer in \[-1, 0\] \(got \[\]\)/);
    expect(() => sum(tensor(3), [0, -1])).toThrow(/sum: axes \[0,-1\] are too many for a 0-d tensor \(got \[\]\)/);
  });

  it("empty reductions: sum 0, prod 1, mean NaN", () => {
    expectTensor(sum(zeros([0])), [], [0]);
    expectTensor(sum(zeros([2, 0]), 1), [2], [0, 0]);
    expectTensor(sum(zeros([2, 0]), 0), [0], []);
    expectTensor(sum(zeros([2, 0, 3]), [1, 2], true), [2, 1, 1], [0, 0]);
    expectTensor(prod(zeros([3, 0]), 1), [3], [1, 1, 1]);
    expectTensor(mean(zeros([0])), [], [NaN]);
    expectTensor(mean(zeros([2, 0]), -1), [2], [NaN, NaN]);
    expectTensor(mean(zeros([0, 3]), 1), [0], []);
  });

  it("accumulates in float64 (no drift over a million terms)", () => {
    const t = full([1000000], 0.1);
    const want = 1000000 * Math.fround(0.1);
    expect(Math.abs(sum(t).item() - want) / want).toBeLessThan(1e-7);
    expect(Math.abs(mean(t).item() - Math.fround(0.1))).toBeLessThan(1e-8);
    const strided = full([2000000], 0.1).slice(0, null, null, -2); // non-contiguous path
    expect(Math.abs(sum(strided).item() - want) / want).toBeLessThan(1e-7);
    const cancel = tensor([1e8, 1, -1e8, 1]);
    expect(sum(cancel).item()).toBe(2);
  });

  it("propagates NaN and Infinity", () => {
    expectTensor(sum(tensor([1, NaN, 2])), [], [NaN]);
    expectTensor(sum(tensor([Infinity, 1])), [], [Infinity]);
    expectTensor(sum(tensor([Infinity, -Infinity])), [], [NaN]);
    expectTensor(prod(tensor([0, Infinity])), [], [NaN]);
    expectTensor(sum(tensor([3e38, 3e38])), [], [Infinity]); // exceeds float32 when rounded
  });

  it("works on transposed, sliced and broadcast (stride-0) inputs", () => {
    expectTensor(sum(x234.permute(2, 0, 1), 0), [2, 3], [6, 22, 38, 54, 70, 86]);
    expectTensor(sum(arange(10).slice(0, null, null, -3)), [], [9 + 6 + 3 + 0]);
    const b = tensor([1, 2, 3]).broadcastTo([4, 3]);
    expectTensor(sum(b, 0), [3], [4, 8, 12]);
    expectTensor(mean(b, 1), [4], [2, 2, 2, 2]);
    expectTensor(sum(tensor(2).broadcastTo([5, 5])), [], [50]);
  });

  it("rejects bad axes, naming the op and the shape", () => {
    expect(() => sum(x234, 3)).toThrow(/sum: axis 3 is out of range: expected an integer in \[-3, 2\] \(got \[2,3,4\]\)/);
    expect(() => mean(x234, -4)).toThrow(/mean: axis -4 is out of range/);
    expect(() => sum(x234, [1, -2])).toThrow(/sum: axis -2 is repeated in \[1,-2\] \(got \[2,3,4\]\)/);
    expect(() => prod(x234, 0.5)).toThrow(/prod: axis 0\.5 is out of range/);
    expect(() => sum(x234, NaN)).toThrow(/sum: axis NaN is out of range/);
    expect(() => sum(x234, [0, 3])).toThrow(ShapeError);
    expect(() => sum("x" as never)).toThrow(/sum: expected a Tensor or a number \(got string\)/);
  });
});

describe("max / min", () => {
  it("reduce values over axes", () => {
    expectTensor(max(tensor([[1, 5], [7, 2]]), 1), [2], [5, 7]);
    expectTensor(min(tensor([[1, 5], [7, 2]]), 1), [2], [1, 2]);
    expectTensor(max(x234, [0, 2], true), [1, 3, 1], [15, 19, 23]);
    expectTensor(min(x234, -2), [2, 4], [0, 1, 2, 3, 12, 13, 14, 15]);
    expectTensor(max(x234), [], [23]);
    expectTensor(min(tensor([-Infinity, 0])), [], [-Infinity]);
    expectTensor(max(tensor([-Infinity, -Infinity])), [], [-Infinity]);
  });

  it("NaN wins wherever it is", () => {
    expectTensor(max(tensor([NaN, 1, 2])), [], [NaN]);
    expectTensor(max(tensor([1, 2, NaN])), [], [NaN]);
    expectTensor(min(tensor([1, NaN, 0])), [], [NaN]);
    expectTensor(max(tensor([[1, NaN], [3, 4]]), 0), [2], [3, NaN]);
    expectTensor(min(tensor([[1, NaN], [3, 4]]).mT, 1), [2], [1, NaN]);
  });

  it("throw on empty reductions but allow empty outputs", () => {
    expect(() => max(zeros([0]))).toThrow(/max: cannot reduce a tensor with no elements \(got \[0\]\)/);
    expect(() => min(zeros([2, 0]))).toThrow(/min: cannot reduce/);
    expect(() => max(zeros([2, 0]), 1)).toThrow(/max: cannot reduce over an empty dimension \(got \[2,0\]\)/);
    expect(() => max(zeros([2, 0]), 1)).toThrow(ShapeError);
    expectTensor(max(zeros([0, 3]), 1), [0], []);
    expectTensor(min(zeros([2, 0]), 0, true), [1, 0], []);
  });
});

describe("argmax / argmin", () => {
  it("along an axis, flattened, and with keepDims", () => {
    expectTensor(argmax(tensor([[1, 5], [7, 2]]), 1), [2], [1, 0]);
    expectTensor(argmin(tensor([3, 1, 2])), [], [1]);
    expectTensor(argmax(x234), [], [23]);
    expectTensor(argmax(x234, null, true), [1, 1, 1], [23]);
    expectTensor(argmin(x234, 1, true), [2, 1, 4], [0, 0, 0, 0, 0, 0, 0, 0]);
    expectTensor(argmax(x234, -1), [2, 3], [3, 3, 3, 3, 3, 3]);
    expectTensor(argmax(x234.permute(2, 1, 0), 0), [3, 2], [3, 3, 3, 3, 3, 3]);
    expectTensor(argmax(tensor(4)), [], [0]);
    expectTensor(argmin(tensor(4), 0), [], [0]);
  });

  it("first occurrence on ties; NaN counts as the extreme", () => {
    expectTensor(argmax(tensor([1, 3, 3, 2])), [], [1]);
    expectTensor(argmin(tensor([2, 1, 1])), [], [1]);
    expectTensor(argmax(tensor([1, NaN, 5, NaN])), [], [1]);
    expectTensor(argmin(tensor([1, -5, NaN])), [], [2]);
    expectTensor(argmax(tensor([-Infinity, -Infinity])), [], [0]);
    expect(Array.from(argExtremeIndices(tensor([[1, 5], [7, 2]]), 1, true))).toEqual([1, 0]);
    expect(Array.from(argExtremeIndices(tensor([[1, 5], [7, 2]]), 0, false))).toEqual([0, 1]);
  });

  it("rejects empty inputs and bad axes", () => {
    expect(() => argmax(zeros([0]))).toThrow(/argmax: cannot take the arg of an empty tensor \(got \[0\]\)/);
    expect(() => argmin(zeros([2, 0]), 1)).toThrow(/argmin: cannot take argmin of an empty axis 1 \(got \[2,0\]\)/);
    expectTensor(argmax(zeros([0, 2]), 1), [0], []);
    expect(() => argmax(x234, 3)).toThrow(/argmax: axis 3 is out of range: expected an integer in \[-3, 2\] \(got \[2,3,4\]\)/);
    expect(() => argmax(tensor(1), 1)).toThrow(/argmax: axis 1 is out of range/);
  });
});

describe("logsumexp", () => {
  it("is stable for huge magnitudes", () => {
    expectAllClose(logsumexp(tensor([1000, 1000])).toFloat32Array(), [1000 + Math.LN2], { rtol: 1e-7 });
    expectAllClose(logsumexp(tensor([-1000, -1000])).toFloat32Array(), [-1000 + Math.LN2], { rtol: 1e-7 });
    expectAllClose(logsumexp(tensor([[5000, 0], [-5000, -5000]]), 1).toFloat32Array(), [5000, -5000 + Math.LN2], { rtol: 1e-7 });
    expectAllClose(logsumexp(tensor([80, -80, 79])).toFloat32Array(), [80 + Math.log1p(Math.exp(-1) + Math.exp(-160))], { rtol: 1e-7 });
  });

  it("handles -Infinity, +Infinity and NaN entries", () => {
    expectAllClose(logsumexp(tensor([-Infinity, 0, 0])).toFloat32Array(), [Math.LN2], { rtol: 1e-7 });
    expectTensor(logsumexp(tensor([-Infinity, -Infinity])), [], [-Infinity]);
    expectTensor(logsumexp(tensor([Infinity, 1])), [], [Infinity]);
    expectTensor(logsumexp(tensor([Infinity, -Infinity])), [], [Infinity]);
    expectTensor(logsumexp(tensor([NaN, 1])), [], [NaN]);
    expectTensor(logsumexp(zeros([0])), [], [-Infinity]);
    expectTensor(logsumexp(zeros([2, 0]), 1), [2], [-Infinity, -Infinity]);
  });

  it("over several axes with keepDims", () => {
    const x = tensor([[[0, 0], [0, 0]], [[1, 1], [1, 1]]]);
    expectAllClose(logsumexp(x, [1, 2]).toFloat32Array(), [Math.log(4), 1 + Math.log(4)], { rtol: 1e-7 });
    expect(logsumexp(x, [-1, 1], true).shape).toEqual([2, 1, 1]);
  });
});

describe("variance / std", () => {
  it("unbiased by default, population with correction 0", () => {
    expectAllClose(variance(tensor([1, 2, 3, 4])).toFloat32Array(), [5 / 3], { rtol: 1e-7 });
    expectTensor(variance(tensor([1, 2, 3, 4]), null, { correction: 0 }), [], [1.25]);
    expectTensor(std(tensor([1, 3]), null, { correction: 0 }), [], [1]);
    expectAllClose(std(tensor([[1, 2], [3, 5]]), 1, { keepDims: true }).toFloat32Array(), [Math.SQRT1_2, Math.SQRT2], { rtol: 1e-7 });
    expect(std(tensor([[1, 2], [3, 5]]), 1, { keepDims: true }).shape).toEqual([2, 1]);
    expectAllClose(variance(x234, [0, 2]).toFloat32Array(), [fold.variance(1)([0, 1, 2, 3, 12, 13, 14, 15])].concat([0, 0].map(() => fold.variance(1)([0, 1, 2, 3, 12, 13, 14, 15]))), { rtol: 1e-7 });
  });

  it("is accurate for a large mean (true two-pass float64)", () => {
    // float32 mean of [1e7, 1e7+1] is not representable; a float32 second pass would give 1.
    expectTensor(variance(tensor([1e7, 1e7 + 1])), [], [0.5]);
    expectTensor(variance(tensor([1e7, 1e7 + 1, 1e7 + 2, 1e7 + 3]), null, { correction: 0 }), [], [1.25]);
    expectAllClose(std(tensor([16777216, 16777218])).toFloat32Array(), [Math.SQRT2], { rtol: 1e-7 });
  });

  it("degenerate counts give NaN (no spread) or Infinity, as in PyTorch", () => {
    expectTensor(variance(tensor([3])), [], [NaN]);
    expectTensor(variance(zeros([0])), [], [NaN]);
    expectTensor(variance(zeros([0]), null, { correction: 0 }), [], [NaN]);
    expectTensor(variance(tensor([1, 2]), null, { correction: 2 }), [], [Infinity]);
    expectTensor(std(tensor([3])), [], [NaN]);
    expectTensor(variance(tensor([1, NaN])), [], [NaN]);
  });
});

describe("fuzz: reductions vs the float64 reference on random layouts and axis subsets", () => {
  /** Per-element absolute tolerance from the float64 sum of |x| over each group. */
  function absTol(x: Ref, axes: Axes, keepDims: boolean, scale: number): Float64Array {
    return refReduce(x, axes, keepDims, fold.absSum).data.map((v) => v * scale + 1e-30);
  }

  it("sum / mean / prod / max / min / logsumexp / variance / std / argmax / argmin", () => {
    const rng = new Rng(31);
    for (let trial = 0; trial < 300; trial++) {
      const shape = randomShape(rng, 0, 4, 5, trial % 5 === 0);
      const x = randomInput(rng, shape);
      const r = fromTensor(x);
      const nd = shape.length;
      const axes: Axes = nd === 0 || rng.random() < 0.15 ? null : randomAxes(rng, nd);
      const keep = rng.random() < 0.5;
      const label = `${JSON.stringify(shape)} axes ${JSON.stringify(axes)} keep ${keep} layout ${JSON.stringify(x.strides)}`;
      expectRef(sum(x, axes, keep), refReduce(r, axes, keep, fold.sum), { rtol: 6e-8, atol: absTol(r, axes, keep, 1e-14) }, `sum ${label}`);
      expectRef(mean(x, axes, keep), refReduce(r, axes, keep, fold.mean), { rtol: 1.2e-7, atol: absTol(r, axes, keep, 1e-14) }, `mean ${label}`);
      expectRef(prod(x, axes, keep), refReduce(r, axes, keep, fold.prod), { rtol: 1e-6, atol: 1e-37 }, `prod ${label}`);
      expectRef(logsumexp(x, axes, keep), refReduce(r, axes, keep, fold.logsumexp), { rtol: 1e-6, atol: 1e-6 }, `logsumexp ${label}`);
      expectRef(variance(x, axes, { keepDims: keep }), refReduce(r, axes, keep, fold.variance(1)), { rtol: 1e-6, atol: 1e-12 }, `variance ${label}`);
      expectRef(std(x, axes, { keepDims: keep, correction: 0 }), refReduce(r, axes, keep, (v) => Math.sqrt(fold.variance(0)(v))), { rtol: 1e-6, atol: 1e-12 }, `std ${label}`);
      const groups = refReduce(r, axes, true, fold.sum).data.length;
      if (r.data.length > 0 || groups === 0) {
        expectRef(max(x, axes, keep), refReduce(r, axes, keep, fold.max), { rtol: 0, atol: 0 }, `max ${label}`);
        expectRef(min(x, axes, keep), refReduce(r, axes, keep, fold.min), { rtol: 0, atol: 0 }, `min ${label}`);
      } else {
        expect(() => max(x, axes, keep), `max ${label}`).toThrow(/max: cannot reduce/);
        expect(() => min(x, axes, keep), `min ${label}`).toThrow(/min: cannot reduce/);
      }
      if (nd > 0 && r.data.length > 0) {
        const ax = rng.int(0, nd);
        const axis = rng.random() < 0.5 ? ax - nd : ax;
        expectRef(argmax(x, axis, keep), refReduce(r, [ax], keep, fold.argmax), { rtol: 0, atol: 0 }, `argmax ${axis} ${label}`);
        expectRef(argmin(x, axis, keep), refReduce(r, [ax], keep, fold.argmin), { rtol: 0, atol: 0 }, `argmin ${axis} ${label}`);
      }
    }
  });

  it("results are fresh contiguous tensors", () => {
    const x = arange(6).reshape(2, 3);
    const s = sum(x, 1);
    expect(s).toBeInstanceOf(Tensor);
    expect(s.isContiguous).toBe(true);
    expect(s.data).not.toBe(x.data);
  });
});
