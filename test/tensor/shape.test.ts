/**
 * @file Shape arithmetic and error helpers: shapeSize, contiguousStrides, checkShape,
 * shapesEqual, broadcastShapes, normalizeAxis/normalizeAxes, fmt, ShapeError, assertArg,
 * internalError.
 */
import { describe, expect, it } from "vitest";
import {
  Rng, ShapeError, assertArg, broadcastShapes, checkShape, contiguousStrides, fmt, internalError, normalizeAxes, normalizeAxis, shapeSize,
  shapesEqual,
} from "@tapegrad/tensor";
import { broadcastShape } from "../helpers/reference.js";
import { randomShape } from "../helpers/layouts.js";

describe("sizes and strides", () => {
  it("shapeSize and contiguousStrides", () => {
    expect(shapeSize([2, 3, 4])).toBe(24);
    expect(shapeSize([])).toBe(1);
    expect(shapeSize([3, 0])).toBe(0);
    expect(contiguousStrides([2, 3, 4])).toEqual([12, 4, 1]);
    expect(contiguousStrides([])).toEqual([]);
    expect(contiguousStrides([2, 0, 3])).toEqual([0, 3, 1]);
    expect(shapesEqual([2, 3], [2, 3])).toBe(true);
    expect(shapesEqual([2, 3], [3, 2])).toBe(false);
    expect(shapesEqual([], [1])).toBe(false);
    expect(shapesEqual([], [])).toBe(true);
  });

  it("checkShape accepts non-negative integers only, naming the op", () => {
    expect(checkShape("zeros", [2, 0, 3])).toEqual([2, 0, 3]);
    expect(checkShape("zeros", new Int32Array([4]))).toEqual([4]);
    expect(checkShape("zeros", [])).toEqual([]);
    expect(() => checkShape("zeros", [2, -1])).toThrow(/zeros: sizes must be non-negative integers \(got \[2,-1\]\)/);
    expect(() => checkShape("zeros", [NaN])).toThrow(/zeros: sizes must be non-negative integers \(got \[NaN\]\)/);
    expect(() => checkShape("zeros", [2.5])).toThrow(/\(got \[2\.5\]\)/);
    expect(() => checkShape("zeros", [Infinity])).toThrow(/\(got \[Infinity\]\)/);
    expect(() => checkShape("zeros", ["2"] as never)).toThrow(/zeros: sizes must be non-negative integers \(got \["2"\]\)/);
    expect(() => checkShape("zeros", null as never)).toThrow(/zeros: shape must be an array of sizes \(got null\)/);
    expect(() => checkShape("zeros", [-1])).toThrow(ShapeError);
  });
});

describe("broadcastShapes", () => {
  it("right-aligns and stretches size-1 dims", () => {
    expect(broadcastShapes("add", [3, 1, 4], [2, 4])).toEqual([3, 2, 4]);
    expect(broadcastShapes("add", [], [2, 3])).toEqual([2, 3]);
    expect(broadcastShapes("add", [5], [4, 5])).toEqual([4, 5]);
    expect(broadcastShapes("add", [1], [0])).toEqual([0]);
    expect(broadcastShapes("add")).toEqual([]);
    expect(broadcastShapes("where", [2, 1], [1, 3], [4, 1, 1])).toEqual([4, 2, 3]);
  });

  it("rejects incompatible shapes, listing them all", () => {
    expect(() => broadcastShapes("add", [2, 3], [4])).toThrow(/add: shapes cannot be broadcast together \(got \[2,3\] and \[4\]\)/);
    expect(() => broadcastShapes("where", [2], [1], [3])).toThrow(/where: shapes cannot be broadcast together \(got \[2\] and \[1\] and \[3\]\)/);
    expect(() => broadcastShapes("add", [0], [2])).toThrow(ShapeError);
  });

  it("agrees with the reference on random shapes", () => {
    const rng = new Rng(17);
    for (let t = 0; t < 500; t++) {
      const a = randomShape(rng, 0, 4, 3, true);
      const b = randomShape(rng, 0, 4, 3, true);
      const ref = broadcastShape(a, b);
      if (ref === null) expect(() => broadcastShapes("op", a, b)).toThrow(ShapeError);
      else expect(broadcastShapes("op", a, b)).toEqual(ref);
    }
  });
});

describe("axes", () => {
  it("normalizeAxis maps negatives and validates", () => {
    expect(normalizeAxis("sum", -1, 3)).toBe(2);
    expect(normalizeAxis("sum", 0, 3)).toBe(0);
    expect(() => normalizeAxis("sum", 3, 3, [2, 3, 4])).toThrow(/sum: axis 3 is out of range: expected an integer in \[-3, 2\] \(got \[2,3,4\]\)/);
    expect(() => normalizeAxis("sum", -4, 3)).toThrow(/sum: axis -4 is out of range/);
    expect(() => normalizeAxis("sum", 0, 0, [])).toThrow(/sum: axis 0 is out of range: a 0-d tensor has no axes \(got \[\]\)/);
    expect(() => normalizeAxis("sum", 1.5, 3)).toThrow(/sum: axis 1\.5 is out of range/);
  });

  it("normalizeAxes sorts, de-duplicates and expands null to all", () => {
    expect(normalizeAxes("sum", [-1, 0], 3)).toEqual([0, 2]);
    expect(normalizeAxes("sum", null, 3)).toEqual([0, 1, 2]);
    expect(normalizeAxes("sum", undefined, 0)).toEqual([]);
    expect(normalizeAxes("sum", 1, 2)).toEqual([1]);
    expect(normalizeAxes("sum", [], 2)).toEqual([]);
    expect(() => normalizeAxes("sum", [0, -3], 3, [2, 3, 4])).toThrow(/sum: axis -3 is repeated in \[0,-3\] \(got \[2,3,4\]\)/);
  });
});

describe("error helpers", () => {
  it("fmt prints shapes as compact JSON, non-finite values by name", () => {
    expect(fmt([2, 3])).toBe("[2,3]");
    expect(fmt([])).toBe("[]");
    expect(fmt(new Int32Array([1, 2]))).toBe("[1,2]");
    expect(fmt([NaN, Infinity, -Infinity, -1.5])).toBe("[NaN,Infinity,-Infinity,-1.5]");
  });

  it("ShapeError carries op and shapes and is a RangeError", () => {
    const e = new ShapeError("matmul", "inner dimensions differ", [[2, 3], [4, 5]]);
    expect(e).toBeInstanceOf(RangeError);
    expect(e.name).toBe("ShapeError");
    expect(e.op).toBe("matmul");
    expect(e.shapes).toEqual([[2, 3], [4, 5]]);
    expect(e.message).toBe("matmul: inner dimensions differ (got [2,3] and [4,5])");
    expect(new ShapeError("concat", "needs at least one tensor").message).toBe("concat: needs at least one tensor");
  });

  it("assertArg throws a TypeError lazily; internalError is prefixed", () => {
    let built = 0;
    expect(() => assertArg(true, "op", () => `${built++}`)).not.toThrow();
    expect(built).toBe(0);
    expect(() => assertArg(false, "arange", () => "step must be finite (got NaN)")).toThrow(TypeError);
    expect(() => assertArg(false, "arange", () => "step must be finite (got NaN)")).toThrow(/^arange: step must be finite \(got NaN\)$/);
    expect(internalError("mul.backward gave [3]").message).toBe("internal: mul.backward gave [3]");
  });
});
