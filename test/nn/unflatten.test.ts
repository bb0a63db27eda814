import { describe, expect, it } from "vitest";
import { Tensor } from "@tapegrad/tensor";
import { Flatten, Unflatten } from "@tapegrad/nn";

describe("Unflatten", () => {
  it("splits a dimension without copying values, and Flatten undoes it", () => {
    const x = new Tensor(Float32Array.from({ length: 24 }, (_, i) => i), [2, 12]);
    const y = new Unflatten(1, [3, 2, 2]).forward(x);
    expect(y.shape).toEqual([2, 3, 2, 2]);
    expect(Array.from(y.value.toFloat32Array())).toEqual(Array.from(x.data));
    expect(new Unflatten(-1, [4, 3]).forward(x).shape).toEqual([2, 4, 3]);
    expect(new Flatten().forward(y).shape).toEqual([2, 12]);
  });
  it("names the layer and the shapes on bad sizes", () => {
    const x = new Tensor(new Float32Array(24), [2, 12]);
    expect(() => new Unflatten(1, [5, 2]).forward(x)).toThrow(/Unflatten: sizes \[5,2\] multiply to 10, not to dimension 1 of length 12/);
    expect(() => new Unflatten(2, [12]).forward(x)).toThrow(/Unflatten: dim 2 out of range/);
  });
});
