/**
 * @file Indexing and assembling: toIndexArray, indexSelect, indexAdd, gather, scatterAdd, concat,
 * stack, split, chunk. Exact small cases, negative and repeated indices, 0-d and 0-size shapes,
 * error messages, and seeded fuzz against the naive reference on random layouts.
 */
import { describe, expect, it } from "vitest";
import {
  Rng, ShapeError, Tensor, arange, chunk, concat, gather, indexAdd, indexSelect, ones, scatterAdd, split, stack, tensor, toIndexArray,
  zeros,
} from "@tapegrad/tensor";
import { expectRef } from "../helpers/assert.js";
import { fromTensor, refConcat, refGather, refIndexSelect, refPermute, refScatterAdd, sizeOf } from "../helpers/reference.js";
import { randomInput, randomLayout, randomShape, randomTensor } from "../helpers/layouts.js";

const EXACT = { rtol: 0, atol: 0 };

/** One seeded fuzz trial: an input `x` of random shape and layout, and one of its axes `ax`, of size `n`. */
interface AxisTrial {
  rng: Rng;
  shape: number[];
  x: Tensor;
  ax: number;
  n: number;
}

/** Runs `body` on 150 seeded trials with inputs of rank 1 to 4 and sizes up to `maxDim`. */
function axisTrials(seed: number, maxDim: number, body: (t: AxisTrial) => void): void {
  const rng = new Rng(seed);
  for (let trial = 0; trial < 150; trial++) {
    const shape = randomShape(rng, 1, 4, maxDim);
    const x = randomInput(rng, shape);
    const ax = rng.int(0, shape.length);
    body({ rng, shape, x, ax, n: shape[ax]! });
  }
}

describe("toIndexArray", () => {
  it("wraps negatives and accepts arrays, Int32Arrays and tensors", () => {
    expect(Array.from(toIndexArray("op", [0, -1, 2], 5))).toEqual([0, 4, 2]);
    expect(Array.from(toIndexArray("op", Int32Array.of(-5, 4), 5))).toEqual([0, 4]);
    expect(Array.from(toIndexArray("op", tensor([[1, -2]]), 3))).toEqual([1, 1]);
    expect(toIndexArray("op", [], 0).length).toBe(0);
  });

  it("rejects out-of-range and fractional indices", () => {
    expect(() => toIndexArray("indexSelect", [0, 5], 5, [5, 2])).toThrow(/indexSelect: index 5 at position 1 is out of range for an axis of size 5 \(got \[5,2\]\)/);
    expect(() => toIndexArray("op", [-6], 5)).toThrow(RangeError);
    expect(() => toIndexArray("op", [0.5], 5)).toThrow(/op: index 0\.5 at position 0 is out of range/);
    expect(() => toIndexArray("op", [NaN], 5)).toThrow(/op: index NaN at position 0 is out of range/);
    expect(() => toIndexArray("op", [0], 0)).toThrow(/op: index 0 at position 0 is out of range for an axis of size 0/);
    expect(() => toIndexArray("op", 3 as never, 5)).toThrow(/op: indices must be an array, an Int32Array or a Tensor \(got 3\)/);
  });
});

describe("indexSelect / indexAdd", () => {
  it("selects rows, columns, repeats and negatives", () => {
    const x = tensor([[1, 2], [3, 4], [5, 6]]);
    expect(indexSelect(x, 0, [2, 0]).toArray()).toEqual([[5, 6], [1, 2]]);
    expect(indexSelect(x, 1, [1, 1, 0]).toArray()).toEqual([[2, 2, 1], [4, 4, 3], [6, 6, 5]]);
    expect(indexSelect(x, -2, [-1]).toArray()).toEqual([[5, 6]]);
    expect(indexSelect(x, 0, tensor([1, 1])).toArray()).toEqual([[3, 4], [3, 4]]);
    expect(indexSelect(x, 0, []).shape).toEqual([0, 2]);
    expect(indexSelect(zeros([0, 3]), 1, [2]).shape).toEqual([0, 1]);
    expect(indexSelect(arange(5), 0, [4, 0]).toArray()).toEqual([4, 0]);
  });

  it("reads transposed and broadcast inputs", () => {
    const x = arange(6).reshape(2, 3).mT; // [[0,3],[1,4],[2,5]]
    expect(indexSelect(x, 0, [2, 0]).toArray()).toEqual([[2, 5], [0, 3]]);
    expect(indexSelect(x, 1, [1]).toArray()).toEqual([[3], [4], [5]]);
    const b = tensor([1, 2, 3]).broadcastTo([4, 3]);
    expect(indexSelect(b, 0, [3, 1]).toArray()).toEqual([[1, 2, 3], [1, 2, 3]]);
  });

  it("rejects bad axes and indices with the op name and shape", () => {
    const x = zeros([3, 4]);
    expect(() => indexSelect(x, 0, [3])).toThrow(/indexSelect: index 3 at position 0 is out of range for an axis of size 3 \(got \[3,4\]\)/);
    expect(() => indexSelect(x, 1, [-5])).toThrow(/indexSelect: index -5 at position 0 is out of range for an axis of size 4 \(got \[3,4\]\)/);
    expect(() => indexSelect(x, 2, [0])).toThrow(/indexSelect: axis 2 is out of range: expected an integer in \[-2, 1\] \(got \[3,4\]\)/);
    expect(() => indexSelect(tensor(1), 0, [0])).toThrow(/indexSelect: axis 0 is out of range: a 0-d tensor has no axes \(got \[\]\)/);
  });

  it("indexAdd accumulates repeated indices (the adjoint of indexSelect)", () => {
    expect(indexAdd([3], 0, [0, 0, 2], tensor([1, 2, 3])).toArray()).toEqual([3, 0, 3]);
    expect(indexAdd([2, 3], 1, [2, -1, 0], tensor([[1, 2, 3], [4, 5, 6]])).toArray()).toEqual([[3, 0, 3], [6, 0, 9]]);
    expect(indexAdd([2, 2], 0, [1], tensor([[1, 2]]).mT.mT).toArray()).toEqual([[0, 0], [1, 2]]);
    expect(indexAdd([3, 2], 0, [2, 0], tensor([[1, 2], [3, 4]]).mT.contiguous().mT).toArray()).toEqual([[3, 4], [0, 0], [1, 2]]);
    expect(indexAdd([2, 0], 0, [1], zeros([1, 0])).shape).toEqual([2, 0]);
    expect(() => indexAdd([3], 0, [0], tensor([1, 2]))).toThrow(/indexAdd: src must have shape \[1\] \(got \[2\]\)/);
    expect(() => indexAdd([3], 0, [3], tensor([1]))).toThrow(/indexAdd: index 3 at position 0 is out of range for an axis of size 3 \(got \[3\]\)/);
    expect(() => indexAdd([3, -1], 0, [0], tensor([1]))).toThrow(/indexAdd: sizes must be non-negative integers \(got \[3,-1\]\)/);
  });

  it("fuzz: indexSelect vs reference, and <indexSelect(x), y> = <x, indexAdd(y)>", () => {
    axisTrials(88, 5, ({ rng, shape, x, ax, n }) => {
      const idx = Array.from({ length: rng.int(0, 7) }, () => rng.int(-n, n));
      const axis = rng.random() < 0.5 ? ax - shape.length : ax;
      const sel = indexSelect(x, axis, idx);
      expectRef(sel, refIndexSelect(fromTensor(x), ax, idx), EXACT, `${JSON.stringify(shape)} axis ${axis} idx ${JSON.stringify(idx)}`);
      const y = randomLayout(rng, sel.shape);
      const back = indexAdd(shape, axis, idx, y);
      const lhs = fromTensor(sel).data.reduce((s, v, i) => s + v * fromTensor(y).data[i]!, 0);
      const xr = fromTensor(x).data;
      const rhs = fromTensor(back).data.reduce((s, v, i) => s + v * xr[i]!, 0);
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * (1 + Math.abs(lhs)));
    });
  });
});

describe("gather / scatterAdd", () => {
  it("gather picks along an axis with an index of the input's rank", () => {
    expect(gather(tensor([[1, 2], [3, 4]]), 1, tensor([[1], [0]])).toArray()).toEqual([[2], [3]]);
    expect(gather(tensor([[1, 2], [3, 4]]), 0, tensor([[1, 0], [0, 0], [1, 1]]).narrow(0, 0, 2)).toArray()).toEqual([[3, 2], [1, 2]]);
    expect(gather(tensor([[1, 2, 3]]), -1, tensor([[-1, 0, -1, 1]])).toArray()).toEqual([[3, 1, 3, 2]]);
    expect(gather(arange(6).reshape(2, 3).mT, 1, tensor([[1], [0], [1]])).toArray()).toEqual([[3], [1], [5]]);
    expect(gather(tensor([5, 6, 7]), 0, tensor([2, 2])).toArray()).toEqual([7, 7]);
    expect(gather(zeros([2, 3]), 1, zeros([2, 0])).shape).toEqual([2, 0]);
  });

  it("gather rejects bad shapes and indices", () => {
    const x = zeros([2, 3]);
    expect(() => gather(x, 1, zeros([2]))).toThrow(/gather: index must have the same rank as the input \(got \[2,3\] and \[2\]\)/);
    expect(() => gather(x, 1, zeros([3, 1]))).toThrow(/gather: index size 3 exceeds input size 2 on axis 0 \(got \[2,3\] and \[3,1\]\)/);
    expect(() => gather(x, 1, tensor([[3], [0]]))).toThrow(/gather: index 3 on axis 1 is out of range for an axis of size 3 \(got \[2,3\]\)/);
    expect(() => gather(x, 0, tensor([[0.5]]))).toThrow(RangeError);
    expect(() => gather(x, 2, zeros([2, 3]))).toThrow(/gather: axis 2 is out of range/);
  });

  it("scatterAdd adds into a copy of the base, accumulating repeats", () => {
    expect(scatterAdd(zeros([2, 2]), 1, tensor([[1], [0]]), tensor([[5], [6]])).toArray()).toEqual([[0, 5], [6, 0]]);
    const base = ones([3]);
    const r = scatterAdd(base, 0, tensor([0, 0, -1]), tensor([1, 2, 3]));
    expect(r.toArray()).toEqual([4, 1, 4]);
    expect(base.toArray()).toEqual([1, 1, 1]);
    expect(scatterAdd(arange(4).reshape(2, 2).mT, 0, tensor([[1, 0]]), tensor([[10, 20]])).toArray()).toEqual([[0, 22], [11, 3]]);
  });

  it("scatterAdd rejects index sizes beyond the input (no silent out-of-bounds writes)", () => {
    const base = zeros([2, 2]);
    expect(() => scatterAdd(base, 1, tensor([[0], [1], [0]]), tensor([[1], [2], [3]]))).toThrow(/scatterAdd: index size 3 exceeds input size 2 on axis 0 \(got \[2,2\] and \[3,1\]\)/);
    expect(() => scatterAdd(base, 0, tensor([[0, 1, 0]]), tensor([[1, 2, 3]]))).toThrow(/scatterAdd: index size 3 exceeds input size 2 on axis 1/);
    expect(() => scatterAdd(base, 1, tensor([[2]]), tensor([[1]]))).toThrow(/scatterAdd: index 2 on axis 1 is out of range for an axis of size 2 \(got \[2,2\]\)/);
    expect(() => scatterAdd(base, 1, tensor([[1]]), tensor([[1, 2]]))).toThrow(/scatterAdd: index and src must have the same shape and the input's rank \(got \[2,2\] and \[1,1\] and \[1,2\]\)/);
  });

  it("fuzz: gather and scatterAdd vs reference", () => {
    axisTrials(99, 4, ({ rng, shape, x, ax, n }) => {
      const ishape = shape.map((d, i) => (i === ax ? rng.int(0, 5) : rng.int(0, d + 1)));
      const iv = new Float32Array(sizeOf(ishape)).map(() => rng.int(-n, n));
      const index = ishape.length < 2 || rng.random() < 0.5 ? new Tensor(iv, ishape) : new Tensor(iv, ishape).mT.contiguous().mT;
      const ir = fromTensor(index);
      expectRef(gather(x, ax, index), refGather(fromTensor(x), ax, ir), EXACT, `gather ${JSON.stringify(shape)} ${ax} ${JSON.stringify(ishape)}`);
      const src = randomInput(rng, ishape);
      expectRef(scatterAdd(x, ax - shape.length, index, src), refScatterAdd(fromTensor(x), ax, ir, fromTensor(src)), { rtol: 1e-6, atol: 1e-6 }, `scatterAdd ${JSON.stringify(shape)}`);
    });
  });
});

describe("concat / stack", () => {
  it("concatenates along an existing axis", () => {
    expect(concat([zeros([2, 3]), ones([4, 3])], 0).shape).toEqual([6, 3]);
    expect(concat([tensor([[1], [2]]), tensor([[3, 4], [5, 6]])], 1).toArray()).toEqual([[1, 3, 4], [2, 5, 6]]);
    expect(concat([tensor([1, 2]), tensor([3])]).toArray()).toEqual([1, 2, 3]);
    expect(concat([tensor([[1, 2]]), tensor([[3, 4]]).mT.mT], -1).toArray()).toEqual([[1, 2, 3, 4]]);
    expect(concat([zeros([0, 2]), tensor([[1, 2]]), zeros([0, 2])]).toArray()).toEqual([[1, 2]]);
    expect(concat([zeros([2, 0]), zeros([2, 0])], 1).shape).toEqual([2, 0]);
    const one = arange(3);
    const c = concat([one]);
    expect(c.data).not.toBe(one.data);
    expect(c.toArray()).toEqual([0, 1, 2]);
  });

  it("concat rejects empty lists, 0-d tensors and mismatched shapes", () => {
    expect(() => concat([])).toThrow(/concat: needs at least one tensor/);
    expect(() => concat([tensor(1), tensor(2)])).toThrow(/concat: cannot concatenate 0-d tensors \(use stack\) \(got \[\] and \[\]\)/);
    expect(() => concat([zeros([2, 3]), zeros([2, 4])], 0)).toThrow(/concat: sizes differ on axis 1 \(got \[2,3\] and \[2,4\]\)/);
    expect(() => concat([zeros([2, 3]), zeros([3])], 0)).toThrow(/concat: all tensors must have the same rank \(got \[2,3\] and \[3\]\)/);
    expect(() => concat([zeros([2, 3])], 2)).toThrow(/concat: axis 2 is out of range/);
    expect(() => concat([zeros([2, 3]), zeros([2, 3])], 2)).toThrow(ShapeError);
  });

  it("stacks along a new axis (negative = counted in the output)", () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    const b = tensor([[7, 8, 9], [10, 11, 12]]);
    const s0 = stack([a, b]);
    expect(s0.shape).toEqual([2, 2, 3]);
    expect(s0.toArray()).toEqual([a.toArray(), b.toArray()]);
    const s2 = stack([a, b], -1);
    expect(s2.shape).toEqual([2, 3, 2]);
    expect(s2.toArray()).toEqual([[[1, 7], [2, 8], [3, 9]], [[4, 10], [5, 11], [6, 12]]]);
    expect(stack([a, b], 1).toArray()).toEqual([[[1, 2, 3], [7, 8, 9]], [[4, 5, 6], [10, 11, 12]]]);
    expect(stack([tensor(1), tensor(2)]).toArray()).toEqual([1, 2]);
    expect(stack([tensor(1)], -1).toArray()).toEqual([1]);
    expect(stack([zeros([0, 2]), zeros([0, 2])], 1).shape).toEqual([0, 2, 2]);
    expect(() => stack([])).toThrow(/stack: needs at least one tensor/);
    expect(() => stack([zeros([2]), zeros([3])])).toThrow(/stack: all tensors must have the same shape \(got \[2\] and \[3\]\)/);
    expect(() => stack([a, b], 3)).toThrow(/stack: axis 3 is out of range: expected an integer in \[-3, 2\] \(got \[2,3\]\)/);
  });

  it("fuzz: concat and stack vs reference on random layouts", () => {
    const rng = new Rng(123);
    for (let trial = 0; trial < 120; trial++) {
      const shape = randomShape(rng, 1, 4, 4);
      const ax = rng.int(0, shape.length);
      const parts = Array.from({ length: rng.int(1, 4) }, () => {
        const s = shape.slice();
        s[ax] = rng.int(0, 4);
        return randomInput(rng, s);
      });
      expectRef(concat(parts, rng.random() < 0.5 ? ax : ax - shape.length), refConcat(parts.map(fromTensor), ax), EXACT, `concat ${JSON.stringify(parts.map((p) => p.shape))} axis ${ax}`);
      const same = Array.from({ length: rng.int(1, 4) }, () => randomInput(rng, shape));
      const sax = rng.int(0, shape.length + 1);
      // stack = concat of unsqueezed parts; check through a permutation of the reference
      const ref = refConcat(same.map((t) => ({ shape: [1, ...shape], data: fromTensor(t).data })), 0);
      const perm = [...Array.from({ length: shape.length + 1 }, (_, i) => i)];
      perm.splice(0, 1);
      perm.splice(sax, 0, 0);
      expectRef(stack(same, sax), refPermute(ref, perm), EXACT, `stack ${JSON.stringify(shape)} axis ${sax}`);
    }
  });
});

describe("split / chunk", () => {
  it("splits by size (last piece smaller) and by a list of sizes, as views", () => {
    const x = arange(5);
    expect(split(x, 2).map((t) => t.toArray())).toEqual([[0, 1], [2, 3], [4]]);
    expect(split(x, [1, 4]).map((t) => t.shape[0])).toEqual([1, 4]);
    expect(split(x, [0, 5, 0]).map((t) => t.shape[0])).toEqual([0, 5, 0]);
    expect(split(x, 5).length).toBe(1);
    expect(split(x, 7).map((t) => t.toArray())).toEqual([[0, 1, 2, 3, 4]]);
    const m = arange(12).reshape(3, 4);
    const parts = split(m, [1, 3], -1);
    expect(parts[0]!.data).toBe(m.data);
    expect(parts[1]!.toArray()).toEqual([[1, 2, 3], [5, 6, 7], [9, 10, 11]]);
    expect(split(zeros([0, 2]), 3).map((t) => t.shape)).toEqual([[0, 2]]);
    expect(concat(split(m.mT, 3, 0)).toArray()).toEqual(m.mT.toArray());
  });

  it("split rejects bad sizes", () => {
    const x = arange(5);
    expect(() => split(x, 0)).toThrow(/split: size 0 is not a positive integer \(got \[5\]\)/);
    expect(() => split(x, 1.5)).toThrow(ShapeError);
    expect(() => split(x, [2, 2])).toThrow(/split: sizes \[2,2\] must be non-negative integers adding up to 5 \(got \[5\]\)/);
    expect(() => split(x, [6, -1])).toThrow(/split: sizes \[6,-1\] must be non-negative integers/);
    expect(() => split(x, 2, 1)).toThrow(/split: axis 1 is out of range/);
  });

  it("chunk follows torch.chunk (pieces of ceil(n/chunks))", () => {
    expect(chunk(arange(6), 3).map((t) => t.toArray())).toEqual([[0, 1], [2, 3], [4, 5]]);
    expect(chunk(arange(6), 4).map((t) => t.toArray())).toEqual([[0, 1], [2, 3], [4, 5]]);
    expect(chunk(arange(5), 2).map((t) => t.toArray())).toEqual([[0, 1, 2], [3, 4]]);
    expect(chunk(arange(2), 5).map((t) => t.toArray())).toEqual([[0], [1]]);
    expect(chunk(arange(12).reshape(2, 6), 2, -1).map((t) => t.shape)).toEqual([[2, 3], [2, 3]]);
    expect(() => chunk(arange(4), 0)).toThrow(/chunk: chunk count 0 is not a positive integer \(got \[4\]\)/);
    expect(() => chunk(tensor(1), 1)).toThrow(/chunk: axis 0 is out of range/);
  });
});

describe("results never alias their inputs", () => {
  it("indexSelect / gather / concat / stack / scatterAdd allocate", () => {
    const rng = new Rng(1);
    const x = randomTensor(rng, [3, 3]);
    for (const r of [indexSelect(x, 0, [0, 1, 2]), gather(x, 0, tensor([[0, 1, 2]])), concat([x]), stack([x]), scatterAdd(x, 0, zeros([1, 3]), zeros([1, 3]))]) {
      expect(r.data).not.toBe(x.data);
    }
  });
});
