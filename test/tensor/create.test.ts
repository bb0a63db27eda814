/**
 * @file Creation functions (`tensor` from nested/flat/typed arrays, `zeros`/`ones`/`full`/`*Like`,
 * `arange`, `linspace`, `eye`): shapes, values (float32 rounding, non-finite values, -0), copies,
 * and the errors for ragged, non-numeric and invalid input. (The seeded RNG: rng.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { ShapeError, arange, eye, full, fullLike, linspace, ones, onesLike, tensor, zeros, zerosLike } from "@tapegrad/tensor";
import { expectAllClose, expectTensor, isNegZero } from "../helpers/assert.js";

describe("tensor()", () => {
  it("builds from nested arrays", () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expectTensor(t, [2, 3], [1, 2, 3, 4, 5, 6]);
    expect(t.isContiguous).toBe(true);
    expect(tensor([[[1], [2]], [[3], [4]]]).shape).toEqual([2, 2, 1]);
    expect(tensor([true, false]).toArray()).toEqual([1, 0]);
  });

  it("builds 0-d tensors from numbers and booleans", () => {
    expectTensor(tensor(3.5), [], [3.5]);
    expectTensor(tensor(true), [], [1]);
    expectTensor(tensor(2, [1, 1]), [1, 1], [2]);
    expectTensor(tensor(NaN), [], [NaN]);
    expect(() => tensor(2, [2])).toThrow(/tensor: a single number needs a shape with one element \(got \[2\]\)/);
  });

  it("builds from flat data plus a shape (plain and typed arrays)", () => {
    expectTensor(tensor([1, 2, 3, 4, 5, 6], [2, 3]), [2, 3], [1, 2, 3, 4, 5, 6]);
    expectTensor(tensor(new Float64Array([0.5, 1.5]), [2, 1]), [2, 1], [0.5, 1.5]);
    expectTensor(tensor(new Int32Array([1, -2, 3]), [3]), [3], [1, -2, 3]);
    expectTensor(tensor([[1, 2], [3, 4]], [4]), [4], [1, 2, 3, 4]);
    expectTensor(tensor([], [0, 3]), [0, 3], []);
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/tensor: shape needs 4 values but 3 were given \(got \[2,2\]\)/);
    expect(() => tensor([[1, 2], [3, 4]], [3])).toThrow(/tensor: shape needs 3 values but 4 were given \(got \[3\]\)/);
    expect(() => tensor([1, 2], [-2])).toThrow(/tensor: sizes must be non-negative integers \(got \[-2\]\)/);
  });

  it("builds from typed arrays without a shape (1-d)", () => {
    expectTensor(tensor(new Float32Array([1, 2, 3])), [3], [1, 2, 3]);
    expectTensor(tensor(new Uint8Array([255, 0])), [2], [255, 0]);
  });

  it("rounds to float32 and keeps non-finite values and -0", () => {
    const t = tensor([0.1, Infinity, -Infinity, NaN, -0]);
    expect(t.get(0)).toBe(Math.fround(0.1));
    expect(t.get(1)).toBe(Infinity);
    expect(t.get(2)).toBe(-Infinity);
    expect(Number.isNaN(t.get(3))).toBe(true);
    expect(isNegZero(t.get(4))).toBe(true);
  });

  it("copies its input (never aliases)", () => {
    const src = new Float32Array([1, 2, 3]);
    const t = tensor(src, [3]);
    src[0] = 100;
    expect(t.get(0)).toBe(1);
    expect(t.data).not.toBe(src);
    const nested = [[1, 2]];
    const u = tensor(nested);
    nested[0]![0] = 9;
    expect(u.get(0, 0)).toBe(1);
  });

  it("handles empty nested arrays", () => {
    expect(tensor([]).shape).toEqual([0]);
    expect(tensor([[], []]).shape).toEqual([2, 0]);
    expect(tensor([[], []]).size).toBe(0);
  });

  it("rejects ragged arrays with a ShapeError naming the position", () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(/tensor: ragged nested array at index \[1\]: expected length 2, got 1 \(got \[2,2\]\)/);
    expect(() => tensor([[1, 2], [3]])).toThrow(ShapeError);
    expect(() => tensor([[1, 2], 3] as never)).toThrow(/tensor: ragged nested array at index \[1\]: expected an array of length 2 \(got \[2,2\]\)/);
    expect(() => tensor([1, [2, 3]] as never)).toThrow(/tensor: ragged nested array at index \[1\]: expected a number \(got \[2\]\)/);
    expect(() => tensor([[[1], [2]], [[3], [4, 5]]])).toThrow(/tensor: ragged nested array at index \[1,1\]: expected length 1, got 2 \(got \[2,2,1\]\)/);
  });

  it("rejects non-numeric entries with a TypeError", () => {
    expect(() => tensor(["a", "b"] as never)).toThrow(/tensor: entries must be numbers \(got string at index \[0\]\)/);
    expect(() => tensor([[1, null]] as never)).toThrow(TypeError);
    expect(() => tensor([[1, null]] as never)).toThrow(/tensor: entries must be numbers \(got null at index \[0,1\]\)/);
    expect(() => tensor(["x"] as never, [1])).toThrow(TypeError);
  });
});

describe("constant fills", () => {
  it("zeros / ones / full", () => {
    expectTensor(zeros([2, 2]), [2, 2], [0, 0, 0, 0]);
    expectTensor(ones([3]), [3], [1, 1, 1]);
    expectTensor(full([2], 7.5), [2], [7.5, 7.5]);
    expectTensor(full([], -2), [], [-2]);
    expectTensor(full([2], NaN), [2], [NaN, NaN]);
    expectTensor(full([1], Infinity), [1], [Infinity]);
    expect(zeros([3, 0, 2]).size).toBe(0);
    expect(zeros([]).shape).toEqual([]);
    expect(zeros([]).item()).toBe(0);
  });

  it("full keeps -0", () => {
    const t = full([2], -0);
    expect(isNegZero(t.get(0))).toBe(true);
    expect(isNegZero(t.get(1))).toBe(true);
    expect(isNegZero(zeros([1]).get(0))).toBe(false);
  });

  it("*Like use the shape of their argument", () => {
    const x = tensor([[1, 2, 3]]).mT;
    expectTensor(zerosLike(x), [3, 1], [0, 0, 0]);
    expectTensor(onesLike(x), [3, 1], [1, 1, 1]);
    expectTensor(fullLike(x, 4), [3, 1], [4, 4, 4]);
    expect(zerosLike(x).isContiguous).toBe(true);
  });

  it("rejects invalid shapes with the op's own name", () => {
    expect(() => zeros([2, -1])).toThrow(/zeros: sizes must be non-negative integers \(got \[2,-1\]\)/);
    expect(() => zeros([NaN])).toThrow(/zeros: sizes must be non-negative integers \(got \[NaN\]\)/);
    expect(() => ones([1.5])).toThrow(/ones: sizes must be non-negative integers \(got \[1\.5\]\)/);
    expect(() => full([Infinity], 1)).toThrow(/full: sizes must be non-negative integers \(got \[Infinity\]\)/);
    expect(() => zeros([2, -1])).toThrow(ShapeError);
    expect(() => zeros(3 as never)).toThrow(/zeros: shape must be an array of sizes \(got 3\)/);
    expect(() => full([2], "1" as never)).toThrow(/full: value must be a number \(got string\)/);
  });
});

describe("ranges and eye", () => {
  it("arange with one, two and three arguments", () => {
    expectTensor(arange(5), [5], [0, 1, 2, 3, 4]);
    expectTensor(arange(2, 5), [3], [2, 3, 4]);
    expectTensor(arange(1, 2, 0.25), [4], [1, 1.25, 1.5, 1.75]);
    expectTensor(arange(5, 0, -2), [3], [5, 3, 1]);
    expectTensor(arange(0), [0], []);
    expectTensor(arange(3, 1), [0], []);
    expectTensor(arange(-3), [0], []);
    expectTensor(arange(0, 1, 0.3), [4], [0, 0.3, 0.6, 0.9].map(Math.fround));
  });

  it("arange rejects zero and non-finite steps", () => {
    expect(() => arange(0, 5, 0)).toThrow(/arange: need finite start\/end and a non-zero finite step \(got 0, 5, 0\)/);
    expect(() => arange(0, Infinity)).toThrow(RangeError);
    expect(() => arange(NaN)).toThrow(/arange: need finite start\/end/);
  });

  it("linspace includes both ends", () => {
    expectTensor(linspace(0, 1, 5), [5], [0, 0.25, 0.5, 0.75, 1]);
    expectTensor(linspace(-1, 1, 2), [2], [-1, 1]);
    expectTensor(linspace(3, 9, 1), [1], [3]);
    expectTensor(linspace(3, 9, 0), [0], []);
    expectAllClose(linspace(0, 1, 11).toFloat32Array(), Array.from({ length: 11 }, (_, i) => i / 10));
    expect(linspace(0, 0.3, 4).get(3)).toBe(Math.fround(0.3));
    expect(() => linspace(0, 1, -1)).toThrow(/linspace: num must be a non-negative integer \(got -1\)/);
    expect(() => linspace(0, 1, 2.5)).toThrow(RangeError);
  });

  it("eye builds square and rectangular identities", () => {
    expect(eye(2).toArray()).toEqual([[1, 0], [0, 1]]);
    expect(eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(eye(3, 1).toArray()).toEqual([[1], [0], [0]]);
    expect(eye(0).shape).toEqual([0, 0]);
    expect(eye(2, 0).shape).toEqual([2, 0]);
    expect(() => eye(-1)).toThrow(/eye: sizes must be non-negative integers \(got \[-1,-1\]\)/);
    expect(() => eye(2, 1.5)).toThrow(/eye: sizes must be non-negative integers \(got \[2,1\.5\]\)/);
  });
});
