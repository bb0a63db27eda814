/**
 * @file Formatting: `toString` of 0-d, 1-d, 2-d, 3-d, non-finite, 0-size, non-contiguous and
 * large (summarised) tensors, and `toArray` nesting.
 */
import { describe, expect, it } from "vitest";
import { arange, tensor, zeros } from "@tapegrad/tensor";

describe("toString", () => {
  it("0-d tensors", () => {
    expect(String(tensor(3))).toBe("tensor(3, shape=[])");
    expect(String(tensor(1.5))).toBe("tensor(1.5000, shape=[])");
    expect(String(tensor(NaN))).toBe("tensor(nan, shape=[])");
  });

  it("1-d tensors: integers plain, fractions with 4 decimals, right-aligned", () => {
    expect(String(tensor([1, 2, 3]))).toBe("tensor([1, 2, 3], shape=[3])");
    expect(String(tensor([1.5, -2, 0.25]))).toBe("tensor([ 1.5000, -2.0000,  0.2500], shape=[3])");
    expect(String(tensor([NaN, Infinity, -Infinity, 1]))).toBe("tensor([ nan,  inf, -inf,    1], shape=[4])");
    expect(String(tensor([-0, 1]))).toBe("tensor([-0,  1], shape=[2])");
    expect(String(tensor([1e-5, 1e7, 0.5]))).toBe("tensor([1.0000e-5, 1.0000e+7,    0.5000], shape=[3])");
  });

  it("2-d and 3-d tensors with aligned rows and blank lines between blocks", () => {
    expect(String(tensor([[1, 2], [3, 4]]))).toBe("tensor([[1, 2],\n        [3, 4]], shape=[2,2])");
    expect(String(arange(24).reshape(2, 3, 4))).toBe(
      "tensor([[[ 0,  1,  2,  3],\n" +
        "         [ 4,  5,  6,  7],\n" +
        "         [ 8,  9, 10, 11]],\n" +
        "\n" +
        "        [[12, 13, 14, 15],\n" +
        "         [16, 17, 18, 19],\n" +
        "         [20, 21, 22, 23]]], shape=[2,3,4])",
    );
  });

  it("renders the logical order of non-contiguous views", () => {
    expect(String(tensor([[1.25, -10], [100, 2]]).mT)).toBe("tensor([[  1.2500, 100.0000],\n        [-10.0000,   2.0000]], shape=[2,2])");
    expect(String(arange(5).slice(0, null, null, -2))).toBe("tensor([4, 2, 0], shape=[3])");
    expect(String(tensor(7).broadcastTo([2]))).toBe("tensor([7, 7], shape=[2])");
  });

  it("0-size tensors", () => {
    expect(String(zeros([0]))).toBe("tensor([], shape=[0])");
    expect(String(zeros([2, 0]))).toBe("tensor([[],\n        []], shape=[2,0])");
  });

  it("summarises large tensors with ... (first and last 3 per dimension)", () => {
    expect(String(arange(2000))).toBe("tensor([   0,    1,    2, ..., 1997, 1998, 1999], shape=[2000])");
    expect(String(arange(1000))).not.toContain("..."); // at the threshold: printed in full
    const m = String(arange(2000).reshape(40, 50));
    expect(m).toBe(
      "tensor([[   0,    1,    2, ...,   47,   48,   49],\n" +
        "        [  50,   51,   52, ...,   97,   98,   99],\n" +
        "        [ 100,  101,  102, ...,  147,  148,  149],\n" +
        "        ...,\n" +
        "        [1850, 1851, 1852, ..., 1897, 1898, 1899],\n" +
        "        [1900, 1901, 1902, ..., 1947, 1948, 1949],\n" +
        "        [1950, 1951, 1952, ..., 1997, 1998, 1999]], shape=[40,50])",
    );
    const c = String(arange(7 * 11 * 13).reshape(7, 11, 13));
    expect(c.split("\n\n        ...,\n\n").length).toBe(2);
    expect(c.startsWith("tensor([[[   0,    1,    2, ...,   10,   11,   12],")).toBe(true);
    expect(c.endsWith("[ 988,  989,  990, ...,  998,  999, 1000]]], shape=[7,11,13])")).toBe(true);
  });

  it("formats only the shown entries of a huge tensor (style and width come from them)", () => {
    const big = zeros([3000, 3000]); // 9M elements
    big.data[0] = 0.5; // shown: forces decimals
    big.data[1500 * 3000 + 1500] = 123456789; // hidden: must not widen the columns
    const t0 = performance.now();
    const s = String(big);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(s.split("\n")[0]).toBe("tensor([[0.5000, 0.0000, 0.0000,  ..., 0.0000, 0.0000, 0.0000],".replace(",  ...", ", ..."));
    expect(s).not.toContain("1.2346e+8");
    expect(s.endsWith("shape=[3000,3000])")).toBe(true);
  });
});

describe("toArray", () => {
  it("nests like the shape, 0-d gives a number", () => {
    expect(tensor(2).toArray()).toBe(2);
    expect(tensor([1, 2]).toArray()).toEqual([1, 2]);
    expect(arange(8).reshape(2, 2, 2).toArray()).toEqual([[[0, 1], [2, 3]], [[4, 5], [6, 7]]]);
    expect(zeros([2, 0]).toArray()).toEqual([[], []]);
    expect(zeros([0, 2]).toArray()).toEqual([]);
    expect(arange(6).reshape(2, 3).mT.toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
    expect(tensor([[NaN]]).toArray()).toEqual([[NaN]]);
  });
});
