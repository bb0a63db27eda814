/**
 * @file Views and layout, continued: contiguous/clone/asStrided, toFloat32Array, item/get, and a
 * seeded fuzz of random view chains against a naive reference.
 */
import { describe, expect, it } from "vitest";
import { Rng, Tensor, add, arange, max, neg, sum, tensor, zeros } from "@tapegrad/tensor";
import { expectRef } from "../helpers/assert.js";
import { bcastAt, fromTensor, indices, pySlice, refIndexSelect, refPermute, sizeOf, type Ref } from "../helpers/reference.js";
import { randomLayout, randomShape } from "../helpers/layouts.js";

describe("contiguous / clone / asStrided / toFloat32Array / item / get", () => {
  it("contiguous returns the tensor itself when already contiguous, else a copy", () => {
    const x = arange(6).reshape(2, 3);
    expect(x.contiguous()).toBe(x);
    const t = x.mT;
    expect(t.isContiguous).toBe(false);
    const c = t.contiguous();
    expect(c.isContiguous).toBe(true);
    expect(c.data).not.toBe(x.data);
    expect(c.toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
  });

  it("clone never shares storage", () => {
    const x = arange(4);
    const c = x.clone();
    expect(c.data).not.toBe(x.data);
    c.data[0] = 100;
    expect(x.get(0)).toBe(0);
    expect(tensor(2).clone().shape).toEqual([]);
    expect(zeros([0, 3]).clone().shape).toEqual([0, 3]);
  });

  it("asStrided builds arbitrary in-bounds views and rejects out-of-bounds ones", () => {
    const x = arange(6);
    expect(x.asStrided([3], [0]).toArray()).toEqual([0, 0, 0]);
    expect(x.asStrided([2, 2], [1, 2], 1).toArray()).toEqual([[1, 3], [2, 4]]);
    expect(x.asStrided([3], [-2], 5).toArray()).toEqual([5, 3, 1]);
    expect(() => x.asStrided([4], [2])).toThrow(/Tensor: layout \(strides \[2\], offset 0\) reaches outside data of length 6 \(got \[4\]\)/);
    expect(() => x.asStrided([3], [-2], 3)).toThrow(/reaches outside data of length 6/);
    expect(() => x.asStrided([3], [1, 1])).toThrow(/Tensor: strides \[1,1\] do not match the shape's rank \(got \[3\]\)/);
    expect(() => x.asStrided([2], [1], -1)).toThrow(/Tensor: offset -1 is not a non-negative integer \(got \[2\]\)/);
    expect(x.asStrided([0], [1], 6).size).toBe(0);
  });

  it("overlapping (sliding-window) layouts read correctly through every kernel", () => {
    const w = arange(6).asStrided([3, 4], [1, 1]); // rows [0..3], [1..4], [2..5]
    const rows = [[0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5]];
    expect(w.toArray()).toEqual(rows);
    expect(w.contiguous().toArray()).toEqual(rows);
    expect(add(w, 0).toArray()).toEqual(rows);
    expect(neg(w).toArray()).toEqual(rows.map((r) => r.map((v) => -v)));
    expect(sum(w, 1).toArray()).toEqual([6, 10, 14]);
    expect(sum(w, 0).toArray()).toEqual([3, 6, 9, 12]);
    expect(max(w.asStrided([2, 2, 2], [2, 1, 1]), [1, 2]).toArray()).toEqual([2, 4]);
    expect(w.reshape(12).toArray()).toEqual(rows.flat());
  });

  it("validates the constructor", () => {
    expect(() => new Tensor([1, 2] as unknown as Float32Array, [2])).toThrow(/Tensor: data must be a Float32Array \(got Array\)/);
    expect(() => new Tensor(new Float32Array(2), [3])).toThrow(/reaches outside data of length 2/);
    expect(() => new Tensor(new Float32Array(2), [2], [0.5])).toThrow(/Tensor: strides \[0\.5\] must be integers \(got \[2\]\)/);
    expect(() => new Tensor(new Float32Array(2), [-2])).toThrow(/Tensor: sizes must be non-negative integers \(got \[-2\]\)/);
    expect(new Tensor(new Float32Array(0), [0, 5]).size).toBe(0);
  });

  it("toFloat32Array always returns a fresh array", () => {
    const x = arange(6);
    const v = x.reshape(2, 3).select(0, 1); // contiguous view at offset 3
    const a = v.toFloat32Array();
    expect(Array.from(a)).toEqual([3, 4, 5]);
    expect(a.buffer).not.toBe(x.data.buffer);
    a[0] = -1;
    expect(x.get(3)).toBe(3);
    const full = x.toFloat32Array();
    expect(full).not.toBe(x.data);
    full[0] = 42;
    expect(x.get(0)).toBe(0);
    // long contiguous rows inside a strided tensor (the block-copy path)
    const wide = arange(600).reshape(3, 200).narrow(1, 10, 100);
    const flat = wide.toFloat32Array();
    expect(flat.length).toBe(300);
    expect(Array.from(flat)).toEqual(Array.from(fromTensor(wide).data));
    expect(flat[99]).toBe(109);
    expect(flat[299]).toBe(509);
    expect(Array.from(wide.contiguous().toFloat32Array())).toEqual(Array.from(flat));
    const t = x.reshape(2, 3).mT.toFloat32Array();
    expect(Array.from(t)).toEqual([0, 3, 1, 4, 2, 5]);
    expect(tensor(3).toFloat32Array()).toEqual(Float32Array.of(3));
    expect(zeros([2, 0]).toFloat32Array().length).toBe(0);
  });

  it("item and get read through the layout", () => {
    const x = arange(6).reshape(2, 3).mT;
    expect(x.get(2, 1)).toBe(5);
    expect(x.get(-1, -2)).toBe(2);
    expect(tensor([[9]]).item()).toBe(9);
    expect(arange(5).slice(0, 3, 4).item()).toBe(3);
    expect(tensor(2.5).get()).toBe(2.5);
    expect(() => arange(2).item()).toThrow(/item: only a one-element tensor can be converted to a number \(got \[2\]\)/);
    expect(() => zeros([0]).item()).toThrow(/item: only a one-element tensor/);
    expect(() => x.get(0)).toThrow(/get: 1 indices given for 2 dimensions \(got \[3,2\]\)/);
    expect(() => x.get(3, 0)).toThrow(/get: index 3 is out of range for axis 0 of size 3 \(got \[3,2\]\)/);
    expect(() => x.get(0, 0.5)).toThrow(/get: index 0\.5 is out of range/);
  });

  it("reports rank and size", () => {
    expect(tensor(1).ndim).toBe(0);
    expect(tensor(1).size).toBe(1);
    expect(zeros([2, 0, 3]).size).toBe(0);
    expect(zeros([2, 3, 4]).ndim).toBe(3);
  });
});

describe("random view chains (fuzz against the reference)", () => {
  /** One random view op applied to both the tensor and its reference. */
  function step(rng: Rng, x: Tensor, r: Ref): [Tensor, Ref, string] {
    const nd = x.ndim;
    const pick = rng.int(0, 8);
    if (nd === 0 || pick === 0) {
      const ax = rng.int(0, nd + 1);
      return [x.unsqueeze(ax), { shape: [...r.shape.slice(0, ax), 1, ...r.shape.slice(ax)], data: r.data }, `unsqueeze(${ax})`];
    }
    const ax = rng.int(0, nd);
    const n = x.shape[ax]!;
    switch (pick) {
      case 1: {
        const perm = Array.from(rng.permutation(nd));
        return [x.permute(perm), refPermute(r, perm), `permute(${perm})`];
      }
      case 2: {
        const stp = rng.int(1, 3) * (rng.random() < 0.5 ? -1 : 1);
        const s = rng.int(-n - 1, n + 2);
        const e = rng.int(-n - 1, n + 2);
        return [x.slice(ax, s, e, stp), refIndexSelect(r, ax, pySlice(n, s, e, stp)), `slice(${ax},${s},${e},${stp})`];
      }
      case 3: {
        if (n === 0) return [x, r, "noop"];
        const i = rng.int(0, n);
        const t = refIndexSelect(r, ax, [i]);
        return [x.select(ax, i), { shape: t.shape.filter((_, k) => k !== ax), data: t.data }, `select(${ax},${i})`];
      }
      case 4: {
        const size = r.data.length;
        if (size === 0) return [x, r, "noop"];
        const a = [1, 2, 3, 4, 6].filter((d) => size % d === 0);
        const d = a[rng.int(0, a.length)]!;
        return [x.reshape(d, -1), { shape: [d, size / d], data: r.data }, `reshape(${d},-1)`];
      }
      case 5: {
        if (n !== 1) return [x, r, "noop"];
        const target = r.shape.slice();
        target[ax] = rng.int(0, 4);
        const data = new Float64Array(sizeOf(target));
        let k = 0;
        for (const idx of indices(target)) data[k++] = bcastAt(r, idx);
        return [x.broadcastTo(target), { shape: target, data }, `broadcastTo(${target})`];
      }
      case 6: {
        if (nd < 2) return [x, r, "noop"];
        const perm = Array.from({ length: nd }, (_, i) => i);
        perm[nd - 2] = nd - 1;
        perm[nd - 1] = nd - 2;
        return [x.mT, refPermute(r, perm), "mT"];
      }
      default: {
        const start = rng.int(0, n + 1);
        const len = rng.int(0, n - start + 1);
        return [x.narrow(ax, start, len), refIndexSelect(r, ax, Array.from({ length: len }, (_, i) => start + i)), `narrow(${ax},${start},${len})`];
      }
    }
  }

  it("matches the reference after 300 chains of 6 random view ops", () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 300; trial++) {
      let x = randomLayout(rng, randomShape(rng, 0, 4, 4));
      let r = fromTensor(x);
      const ops: string[] = [];
      for (let s = 0; s < 6; s++) {
        const [nx, nr, name] = step(rng, x, r);
        x = nx;
        r = nr;
        ops.push(name);
      }
      expectRef(x, r, { rtol: 0, atol: 0 }, ops.join(" . "));
      expectRef(x.contiguous(), r, { rtol: 0, atol: 0 }, `contiguous after ${ops.join(" . ")}`);
      expect(Array.from(x.toFloat32Array())).toEqual(Array.from(r.data));
    }
  });
});
