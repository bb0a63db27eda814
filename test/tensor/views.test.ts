/**
 * @file Views and layout: reshape (view path, copy path, -1), permute/transpose/mT,
 * broadcastTo/expand, slice (Python semantics incl. negative steps and clamping), narrow, select,
 * squeeze/unsqueeze, flatten. Copies and the view fuzz are in views-copy.test.ts.
 */
import { describe, expect, it } from "vitest";
import { Rng, ShapeError, arange, tensor, zeros } from "@tapegrad/tensor";
import { expectRef, expectTensor } from "../helpers/assert.js";
import { fromTensor, pySlice, refIndexSelect, refPermute, sizeOf } from "../helpers/reference.js";
import { randomLayout, randomShape } from "../helpers/layouts.js";

describe("reshape", () => {
  it("reshapes a contiguous tensor as a view sharing data", () => {
    const x = arange(6);
    const y = x.reshape(2, 3);
    expect(y.data).toBe(x.data);
    expectTensor(y, [2, 3], [0, 1, 2, 3, 4, 5]);
    expect(y.toArray()).toEqual([[0, 1, 2], [3, 4, 5]]);
    expect(x.reshape([3, 2]).shape).toEqual([3, 2]);
  });

  it("keeps the offset of a contiguous sub-view", () => {
    const x = arange(12).reshape(3, 4).select(0, 2); // [8, 9, 10, 11] at offset 8
    expect(x.offset).toBe(8);
    const y = x.reshape(2, 2);
    expect(y.data).toBe(x.data);
    expectTensor(y, [2, 2], [8, 9, 10, 11]);
  });

  it("infers one -1", () => {
    expect(arange(12).reshape(-1, 4).shape).toEqual([3, 4]);
    expect(arange(12).reshape(2, -1, 3).shape).toEqual([2, 2, 3]);
    expect(arange(12).reshape(-1).shape).toEqual([12]);
    expect(zeros([0, 3]).reshape(-1, 3).shape).toEqual([0, 3]);
    expect(zeros([0, 3]).reshape(-1).shape).toEqual([0]);
  });

  it("reshapes to and from 0-d", () => {
    const s = tensor([7]).reshape([]);
    expectTensor(s, [], [7]);
    expect(s.reshape(1, 1).shape).toEqual([1, 1]);
    expect(tensor(5).reshape(-1).shape).toEqual([1]);
  });

  it("reshapes 0-size tensors", () => {
    expect(zeros([2, 0, 3]).reshape(0, 6).shape).toEqual([0, 6]);
    expect(zeros([2, 0, 3]).reshape(3, 0, 5).size).toBe(0);
  });

  it("returns a view for a non-contiguous tensor when the layout allows it", () => {
    // [2,3,4] permuted to [4,2,3]: axes (2,3) are still contiguous among themselves.
    const x = arange(24).reshape(2, 3, 4).permute(2, 0, 1);
    expect(x.isContiguous).toBe(false);
    const y = x.reshape(4, 6);
    expect(y.data).toBe(x.data);
    expectRef(y, { shape: [4, 6], data: fromTensor(x).data });
    // splitting a strided axis is always possible without a copy
    const z = x.reshape(2, 2, 2, 3);
    expect(z.data).toBe(x.data);
    expectRef(z, { shape: [2, 2, 2, 3], data: fromTensor(x).data });
    // inserting size-1 dims is a view too
    const u = x.reshape(4, 1, 2, 1, 3);
    expect(u.data).toBe(x.data);
    expectRef(u, { shape: [4, 1, 2, 1, 3], data: fromTensor(x).data });
  });

  it("views broadcast (stride 0) tensors when grouping allows it", () => {
    const b = tensor([1, 2, 3, 4]).broadcastTo([3, 4]);
    const v = b.reshape(3, 2, 2);
    expect(v.data).toBe(b.data);
    expect(v.strides).toEqual([0, 2, 1]);
    expectRef(v, { shape: [3, 2, 2], data: fromTensor(b).data });
    const c = b.reshape(12); // merging a stride-0 axis needs a copy
    expect(c.data).not.toBe(b.data);
    expectTensor(c, [12], [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
  });

  it("copies when a view is impossible, with the right values", () => {
    const x = arange(6).reshape(2, 3);
    const y = x.mT.reshape(-1);
    expect(y.data).not.toBe(x.data);
    expectTensor(y, [6], [0, 3, 1, 4, 2, 5]);
    const r = arange(6).slice(0, null, null, -1).reshape(3, 2); // negative stride: a view
    expectTensor(r, [3, 2], [5, 4, 3, 2, 1, 0]);
  });

  it("matches the reference on random layouts and random target shapes", () => {
    const rng = new Rng(101);
    for (let trial = 0; trial < 200; trial++) {
      const shape = randomShape(rng, 0, 4, 4);
      const x = randomLayout(rng, shape);
      const ref = fromTensor(x);
      // random factorisation of the size into up to 4 dims
      let rest = ref.data.length;
      const target: number[] = [];
      while (rest > 1 && target.length < 3) {
        const divs = [];
        for (let d = 2; d <= rest; d++) if (rest % d === 0) divs.push(d);
        const d = divs[rng.int(0, divs.length)]!;
        target.push(d);
        rest /= d;
      }
      target.push(rest);
      if (rng.random() < 0.3) target.splice(rng.int(0, target.length + 1), 0, 1);
      if (rng.random() < 0.3) target[rng.int(0, target.length)] = -1;
      const y = x.reshape(target);
      const want = target.map((d) => (d === -1 ? ref.data.length / sizeOf(target.filter((e) => e !== -1)) : d));
      expectRef(y, { shape: want, data: ref.data }, { rtol: 0, atol: 0 }, `reshape ${JSON.stringify(shape)} -> ${JSON.stringify(target)}`);
    }
  });

  it("rejects bad target shapes with messages naming reshape and the shape", () => {
    const x = arange(6).reshape(2, 3);
    expect(() => x.reshape(4)).toThrow(/reshape: cannot reshape 6 elements into \[4\] \(got \[2,3\]\)/);
    expect(() => x.reshape(4)).toThrow(ShapeError);
    expect(() => x.reshape(-1, -1)).toThrow(/reshape: invalid target shape \[-1,-1\] \(got \[2,3\]\)/);
    expect(() => x.reshape(-2, -3)).toThrow(/reshape: invalid target shape \[-2,-3\] \(got \[2,3\]\)/);
    expect(() => x.reshape(1.5, 4)).toThrow(/reshape: invalid target shape \[1\.5,4\] \(got \[2,3\]\)/);
    expect(() => x.reshape(NaN)).toThrow(/reshape: invalid target shape \[NaN\] \(got \[2,3\]\)/);
    expect(() => x.reshape(Infinity)).toThrow(/reshape: invalid target shape \[Infinity\] \(got \[2,3\]\)/);
    expect(() => x.reshape(-1, 4)).toThrow(/reshape: cannot infer -1 in \[-1,4\] for 6 elements \(got \[2,3\]\)/);
    expect(() => zeros([0, 2]).reshape(0, -1)).toThrow(/reshape: cannot infer -1 in \[0,-1\] for 0 elements/);
  });
});

describe("permute / transpose / mT", () => {
  it("permutes as a view, with negative dims", () => {
    const x = arange(24).reshape(2, 3, 4);
    const y = x.permute(2, 0, 1);
    expect(y.data).toBe(x.data);
    expect(y.shape).toEqual([4, 2, 3]);
    expect(y.strides).toEqual([1, 12, 4]);
    expectRef(y, refPermute(fromTensor(x), [2, 0, 1]), { rtol: 0, atol: 0 });
    expectRef(x.permute([-1, -3, -2]), refPermute(fromTensor(x), [2, 0, 1]), { rtol: 0, atol: 0 });
    expect(x.permute(2, 0, 1).get(3, 1, 2)).toBe(x.get(1, 2, 3));
  });

  it("permutes 0-d and 0-size tensors", () => {
    expect(tensor(3).permute().shape).toEqual([]);
    expect(tensor(3).permute([]).item()).toBe(3);
    expect(zeros([0, 2]).permute(1, 0).shape).toEqual([2, 0]);
  });

  it("rejects bad permutations", () => {
    const x = zeros([2, 3, 4]);
    expect(() => x.permute(0, 1)).toThrow(/permute: dims \[0,1\] must name each of the 3 axes once \(got \[2,3,4\]\)/);
    expect(() => x.permute(0, 1, 1)).toThrow(/permute: dims \[0,1,1\] repeat axis 1 \(got \[2,3,4\]\)/);
    expect(() => x.permute(0, 1, 3)).toThrow(/permute: axis 3 is out of range: expected an integer in \[-3, 2\] \(got \[2,3,4\]\)/);
    expect(() => x.permute(0, 1, -4)).toThrow(ShapeError);
  });

  it("transposes two axes (negative allowed) as a view", () => {
    const x = arange(24).reshape(2, 3, 4);
    const y = x.transpose(0, -1);
    expect(y.shape).toEqual([4, 3, 2]);
    expectRef(y, refPermute(fromTensor(x), [2, 1, 0]), { rtol: 0, atol: 0 });
    expectRef(x.transpose(1, 1), fromTensor(x), { rtol: 0, atol: 0 });
    expect(() => x.transpose(0, 3)).toThrow(/transpose: axis 3 is out of range: expected an integer in \[-3, 2\] \(got \[2,3,4\]\)/);
    expect(tensor(1).transpose(0, -1).item()).toBe(1); // PyTorch allows 0 / -1 on a 0-d tensor
    expect(() => tensor(1).transpose(0, 1)).toThrow(/transpose: axis 1 is out of range: expected an integer in \[-1, 0\] \(got \[\]\)/);
  });

  it("mT swaps the last two axes", () => {
    const x = arange(6).reshape(2, 3);
    expect(x.mT.toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
    const b = arange(12).reshape(2, 2, 3);
    expectRef(b.mT, refPermute(fromTensor(b), [0, 2, 1]), { rtol: 0, atol: 0 });
    expect(() => arange(3).mT).toThrow(/mT: needs at least 2 dimensions \(got \[3\]\)/);
    expect(() => tensor(1).mT).toThrow(/mT: needs at least 2 dimensions \(got \[\]\)/);
  });
});

describe("broadcastTo / expand", () => {
  it("broadcasts with stride 0 and no copy", () => {
    const x = tensor([1, 2, 3]);
    const y = x.broadcastTo([2, 3]);
    expect(y.data).toBe(x.data);
    expect(y.strides).toEqual([0, 1]);
    expect(y.toArray()).toEqual([[1, 2, 3], [1, 2, 3]]);
    const c = tensor([[1], [2]]).broadcastTo([2, 2, 3]);
    expect(c.strides).toEqual([0, 1, 0]);
    expect(c.toArray()).toEqual([[[1, 1, 1], [2, 2, 2]], [[1, 1, 1], [2, 2, 2]]]);
  });

  it("broadcasts 0-d, to 0-size dims, and to the same shape", () => {
    expectTensor(tensor(4).broadcastTo([2, 2]), [2, 2], [4, 4, 4, 4]);
    expect(tensor([5]).broadcastTo([0]).shape).toEqual([0]);
    expect(zeros([2, 1]).broadcastTo([2, 0]).size).toBe(0);
    expectTensor(tensor([1, 2]).broadcastTo([2]), [2], [1, 2]);
    expectTensor(tensor(3).broadcastTo([]), [], [3]);
  });

  it("rejects impossible broadcasts", () => {
    expect(() => tensor([1, 2, 3]).broadcastTo([4])).toThrow(/broadcastTo: cannot broadcast axis 0 of size 3 to 4 \(got \[3\] and \[4\]\)/);
    expect(() => zeros([2, 3]).broadcastTo([3])).toThrow(/broadcastTo: cannot broadcast to fewer dimensions \(got \[2,3\] and \[3\]\)/);
    expect(() => zeros([2]).broadcastTo([2, -1])).toThrow(/broadcastTo: sizes must be non-negative integers \(got \[2,-1\]\)/);
    expect(() => zeros([2]).broadcastTo([NaN, 2])).toThrow(/broadcastTo: sizes must be non-negative integers \(got \[NaN,2\]\)/);
  });

  it("expand keeps -1 sizes", () => {
    const x = tensor([[1], [2], [3]]);
    const y = x.expand(-1, 4);
    expect(y.shape).toEqual([3, 4]);
    expect(y.toArray()).toEqual([[1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]]);
    expect(x.expand([2, -1, 2]).shape).toEqual([2, 3, 2]);
    expect(() => x.expand(-1, -1, 2)).toThrow(/expand: sizes must be non-negative integers \(got \[-1,3,2\]\)/);
    expect(() => x.expand(4, 4)).toThrow(/expand: cannot broadcast axis 0 of size 3 to 4 \(got \[3,1\] and \[4,4\]\)/);
  });
});

describe("slice", () => {
  it("follows Python slice semantics exhaustively on small axes", () => {
    const bounds: (number | null)[] = [null, -9, -7, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 7, 9];
    for (const n of [0, 1, 2, 5]) {
      const x = arange(n).reshape(1, n).broadcastTo([2, n]);
      const ref = fromTensor(x);
      for (const step of [-3, -2, -1, 1, 2, 3]) {
        for (const start of bounds) {
          for (const end of bounds) {
            const pos = pySlice(n, start, end, step);
            const y = x.slice(1, start, end, step);
            expect(y.data).toBe(x.data);
            expectRef(y, refIndexSelect(ref, 1, pos), { rtol: 0, atol: 0 }, `n=${n} [${start}:${end}:${step}]`);
          }
        }
      }
    }
  });

  it("slices with negative steps as a view with negative strides", () => {
    const x = arange(10);
    const r = x.slice(0, null, null, -1);
    expect(r.strides).toEqual([-1]);
    expect(r.offset).toBe(9);
    expect(r.toArray()).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(x.slice(0, 8, 1, -3).toArray()).toEqual([8, 5, 2]);
    expect(x.slice(0, 2, 8, 3).toArray()).toEqual([2, 5]);
    expect(x.slice(0, -3).toArray()).toEqual([7, 8, 9]);
    expect(x.slice(0, 100, -100, -4).toArray()).toEqual([9, 5, 1]);
    const m = arange(12).reshape(3, 4);
    expect(m.slice(-1, null, null, -2).toArray()).toEqual([[3, 1], [7, 5], [11, 9]]);
    expect(m.slice(0, 1, 2).toArray()).toEqual([[4, 5, 6, 7]]);
  });

  it("gives empty views for empty ranges", () => {
    expect(arange(5).slice(0, 3, 1).shape).toEqual([0]);
    expect(arange(5).slice(0, 1, 3, -1).toFloat32Array().length).toBe(0);
    expect(zeros([0, 2]).slice(0, null, null, -1).shape).toEqual([0, 2]);
  });

  it("rejects a zero or fractional step and fractional bounds", () => {
    const x = arange(5);
    expect(() => x.slice(0, 0, 3, 0)).toThrow(/slice: step 0 is not a non-zero integer \(got \[5\]\)/);
    expect(() => x.slice(0, 0, 3, 0)).toThrow(RangeError);
    expect(() => x.slice(0, 0, 3, 0)).toThrow(ShapeError);
    expect(() => x.slice(0, 0, 3, 1.5)).toThrow(/slice: step 1\.5 is not a non-zero integer \(got \[5\]\)/);
    expect(() => x.slice(0, 0.5, 3)).toThrow(/slice: bound 0\.5 is not an integer \(got \[5\]\)/);
    expect(() => x.slice(0, 0, NaN)).toThrow(/slice: bound NaN is not an integer \(got \[5\]\)/);
    expect(() => x.slice(1, 0, 3)).toThrow(/slice: axis 1 is out of range: expected an integer in \[-1, 0\] \(got \[5\]\)/);
  });
});

describe("narrow / select / squeeze / unsqueeze / flatten", () => {
  it("narrows with strict bounds (negative start allowed)", () => {
    const x = arange(24).reshape(4, 6);
    const y = x.narrow(1, 2, 3);
    expect(y.data).toBe(x.data);
    expect(y.toArray()).toEqual([[2, 3, 4], [8, 9, 10], [14, 15, 16], [20, 21, 22]]);
    expect(x.narrow(0, -1, 1).toArray()).toEqual([[18, 19, 20, 21, 22, 23]]);
    expect(x.narrow(-1, 6, 0).shape).toEqual([4, 0]);
    expect(() => x.narrow(1, 4, 3)).toThrow(/narrow: start 4 and length 3 do not fit axis 1 of size 6 \(got \[4,6\]\)/);
    expect(() => x.narrow(1, -7, 1)).toThrow(/narrow: start -7 and length 1 do not fit axis 1 of size 6 \(got \[4,6\]\)/);
    expect(() => x.narrow(1, 0, -1)).toThrow(/narrow: start 0 and length -1 do not fit/);
    expect(() => x.narrow(1, 0.5, 1)).toThrow(/narrow: start 0\.5 and length 1 do not fit/);
    expect(() => x.narrow(2, 0, 1)).toThrow(/narrow: axis 2 is out of range/);
  });

  it("selects one index and drops the axis", () => {
    const x = arange(24).reshape(2, 3, 4);
    expect(x.select(1, -1).toArray()).toEqual([[8, 9, 10, 11], [20, 21, 22, 23]]);
    expect(x.select(2, 0).toArray()).toEqual([[0, 4, 8], [12, 16, 20]]);
    const s = arange(3).select(0, 1);
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(1);
    expect(() => x.select(1, 3)).toThrow(/select: index 3 is out of range for axis 1 of size 3 \(got \[2,3,4\]\)/);
    expect(() => x.select(1, -4)).toThrow(/select: index -4 is out of range/);
    expect(() => zeros([0, 2]).select(0, 0)).toThrow(/select: index 0 is out of range for axis 0 of size 0 \(got \[0,2\]\)/);
  });

  it("squeezes all or named size-1 axes", () => {
    const x = zeros([1, 3, 1, 2]);
    expect(x.squeeze().shape).toEqual([3, 2]);
    expect(x.squeeze(0).shape).toEqual([3, 1, 2]);
    expect(x.squeeze(-2, 0).shape).toEqual([3, 2]);
    expect(x.squeeze([2]).shape).toEqual([1, 3, 2]);
    expect(tensor(1).squeeze().shape).toEqual([]);
    expect(zeros([1, 0]).squeeze().shape).toEqual([0]);
    expect(tensor([[5]]).squeeze().item()).toBe(5);
    expect(() => x.squeeze(1)).toThrow(/squeeze: axis 1 has size 3, not 1 \(got \[1,3,1,2\]\)/);
    expect(() => x.squeeze(4)).toThrow(/squeeze: axis 4 is out of range/);
  });

  it("unsqueezes at any position in [-ndim-1, ndim]", () => {
    const x = arange(6).reshape(2, 3);
    expect(x.unsqueeze(0).shape).toEqual([1, 2, 3]);
    expect(x.unsqueeze(2).shape).toEqual([2, 3, 1]);
    expect(x.unsqueeze(-1).shape).toEqual([2, 3, 1]);
    expect(x.unsqueeze(-3).shape).toEqual([1, 2, 3]);
    expect(x.unsqueeze(1).toArray()).toEqual([[[0, 1, 2]], [[3, 4, 5]]]);
    expect(x.unsqueeze(1).isContiguous).toBe(true);
    expect(tensor(2).unsqueeze(0).toArray()).toEqual([2]);
    expect(x.mT.unsqueeze(1).toArray()).toEqual([[[0, 3]], [[1, 4]], [[2, 5]]]);
    expect(() => x.unsqueeze(3)).toThrow(/unsqueeze: axis 3 is out of range: expected an integer in \[-3, 2\] \(got \[2,3\]\)/);
    expect(() => x.unsqueeze(-4)).toThrow(ShapeError);
  });

  it("flattens a range of dims", () => {
    const x = arange(24).reshape(2, 3, 4);
    expect(x.flatten().shape).toEqual([24]);
    expect(x.flatten(1).shape).toEqual([2, 12]);
    expect(x.flatten(0, 1).shape).toEqual([6, 4]);
    expect(x.flatten(-2, -1).shape).toEqual([2, 12]);
    expect(x.flatten(1, 1).shape).toEqual([2, 3, 4]);
    expect(tensor(3).flatten().shape).toEqual([1]);
    expect(zeros([2, 0, 3]).flatten(1).shape).toEqual([2, 0]);
    expectTensor(x.permute(2, 0, 1).flatten(1), [4, 6], fromTensor(x.permute(2, 0, 1)).data);
    expect(() => x.flatten(2, 1)).toThrow(/flatten: startDim 2 comes after endDim 1 \(got \[2,3,4\]\)/);
    expect(() => x.flatten(3)).toThrow(/flatten: axis 3 is out of range/);
  });
});
