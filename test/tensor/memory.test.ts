/**
 * @file Where tensors' bytes live and for how long (`memory.ts`): persistent storage is placed by
 * the active kernel set (wasm memory with the wasm set, the JS heap with the pure-TS set); ops
 * accept every placement and return ordinary arrays; `dispose` returns a block at once and makes
 * later ops and views on the tensor throw (twice is a no-op); the budget turns persistent
 * allocations into plain arrays when exceeded; the FinalizationRegistry returns the blocks of
 * arrays the garbage collector collected. Wasm-only assertions are skipped on the js run.
 */
import { describe, expect, it } from "vitest";
import {
  Rng, Tensor, add, allocate, argmax, dispose, exp, isInKernelMemory, isReleased, jsKernels, kernels, linear, matmul, max, mean, memoryStats, randn,
  setMemoryBudget, softmax, sum, useKernels, where, zeros, zerosLike,
} from "@tapegrad/tensor";

const onWasm = kernels().name === "wasm";

/** Bytes a placed array of `n` floats holds (64-byte blocks, at least one). */
const blockBytes = (n: number) => Math.max(64, Math.ceil((n * 4) / 64) * 64);

describe("placement of persistent storage", () => {
  it("the pure-TS set keeps persistent storage on the JS heap", () => {
    const prev = useKernels(jsKernels);
    try {
      const before = memoryStats();
      const x = allocate(1000, { persistent: true });
      const t = zeros([3, 5], { persistent: true });
      const c = randn([4, 6], new Rng(1)).mT.clone({ persistent: true });
      for (const d of [x, t.data, c.data, zerosLike(t, { persistent: true }).data]) {
        expect(d).toBeInstanceOf(Float32Array);
        expect(isInKernelMemory(d)).toBe(false);
      }
      expect(x.length).toBe(1000);
      expect(x.every((v) => v === 0)).toBe(true);
      expect(memoryStats()).toEqual(before); // nothing placed, nothing fell back
      expect(dispose(x)).toBe(false); // no wasm memory to return
    } finally {
      useKernels(prev);
    }
  });

  it("ordinary allocations are never placed; lengths are checked", () => {
    expect(isInKernelMemory(allocate(100))).toBe(false);
    expect(isInKernelMemory(allocate(100, { persistent: false }))).toBe(false);
    expect(isInKernelMemory(zeros([10]).data)).toBe(false);
    expect(isInKernelMemory(new Float32Array(10))).toBe(false);
    expect(() => allocate(-1)).toThrow(RangeError);
    expect(() => allocate(1.5, { persistent: true })).toThrow(/allocate: length must be a non-negative integer \(got 1.5\)/);
  });

  it.skipIf(!onWasm)("the wasm set places persistent storage in wasm memory: zeroed, 64-byte aligned, counted", () => {
    const before = memoryStats();
    const sizes = [1, 15, 16, 17, 1000, 4096];
    const xs = sizes.map((n) => allocate(n, { persistent: true }));
    xs.forEach((x, i) => {
      expect(isInKernelMemory(x)).toBe(true);
      expect(x.length).toBe(sizes[i]);
      expect(x.byteOffset % 64).toBe(0);
      expect(x.every((v) => v === 0)).toBe(true);
    });
    const bytes = sizes.reduce((s, n) => s + blockBytes(n), 0);
    const mid = memoryStats();
    expect(mid.placedArrays).toBe(before.placedArrays + sizes.length);
    expect(mid.placedBytes).toBe(before.placedBytes + bytes);
    expect(mid.kernelMemoryBytes).toBeGreaterThanOrEqual(mid.placedBytes);
    expect(mid.fallbacks).toBe(before.fallbacks);
    // a block handed out again is zeroed again
    xs[4]!.fill(7);
    const addr = xs[4]!.byteOffset;
    expect(dispose(xs[4]!)).toBe(true);
    const again = allocate(1000, { persistent: true });
    expect(again.byteOffset).toBe(addr); // first fit: the block just returned
    expect(again.every((v) => v === 0)).toBe(true);
    for (const x of [...xs, again]) dispose(x);
    expect(memoryStats().placedBytes).toBe(before.placedBytes);
    expect(memoryStats().placedArrays).toBe(before.placedArrays);
  });

  it.skipIf(!onWasm)("zeros, zerosLike and clone with { persistent: true } are placed; ops read them and return plain arrays", () => {
    const rng = new Rng(2);
    const a = randn([6, 5], rng), b = randn([5, 4], rng);
    const pa = a.clone({ persistent: true });
    const pbT = b.mT.clone({ persistent: true }); // a strided view copied into placed storage
    const z = zeros([6, 4], { persistent: true }), zl = zerosLike(a, { persistent: true });
    for (const t of [pa, pbT, z, zl]) expect(isInKernelMemory(t.data)).toBe(true);
    expect(Array.from(pa.data)).toEqual(Array.from(a.data));
    expect(pbT.toArray()).toEqual(b.mT.toArray());
    const c = matmul(pa, pbT.mT);
    expect(isInKernelMemory(c.data)).toBe(false); // op results are ordinary arrays
    expect(Array.from(c.data)).toEqual(Array.from(matmul(a, b).data));
    const s = add(pa, 1);
    expect(isInKernelMemory(s.data)).toBe(false);
    expect(Array.from(s.data)).toEqual(Array.from(add(a, 1).data));
    matmul(pa, pbT.mT, z); // written in place through an out argument
    expect(Array.from(z.data)).toEqual(Array.from(c.data));
    for (const t of [pa, pbT, z, zl]) t.dispose();
  });
});

describe("dispose", () => {
  /** Ops on a disposed tensor: each must throw an error naming it. */
  function expectOpsThrow(t: Tensor): void {
    const ops: [string, () => unknown][] = [
      ["add", () => add(t, 1)],
      ["add", () => add(1, t)],
      ["exp", () => exp(t)],
      ["sum", () => sum(t)],
      ["mean", () => mean(t, 0)],
      ["max", () => max(t)],
      ["argmax", () => argmax(t)],
      ["softmax", () => softmax(t, -1)],
      ["matmul", () => matmul(t, zeros([t.shape[1]!, 2]))],
      ["linear", () => linear(zeros([2, t.shape[1]!]), t)],
      ["where", () => where(zeros(t.shape), t, 0)],
    ];
    for (const [name, op] of ops) expect(op, name).toThrow(new RegExp(`^${name}: a tensor's storage was released by dispose\\(\\)`));
  }

  /** Views of a disposed tensor throw too. */
  function expectViewsThrow(t: Tensor): void {
    const views: [string, () => unknown][] = [
      ["reshape", () => t.reshape([-1])],
      ["transpose", () => t.transpose(0, 1)],
      ["slice", () => t.slice(0, 0, 1)],
      ["narrow", () => t.narrow(1, 0, 1)],
      ["select", () => t.select(0, 0)],
      ["unsqueeze", () => t.unsqueeze(0)],
      ["broadcastTo", () => t.broadcastTo([2, ...t.shape])],
      ["new Tensor", () => new Tensor(t.data, [t.data.length])],
    ];
    for (const [name, view] of views) expect(view, name).toThrow(/released by dispose\(\)/);
  }

  it("persistent storage: the block goes back, later ops and views throw naming the op, twice is a no-op", () => {
    const before = memoryStats();
    const t = randn([4, 6], new Rng(3)).clone({ persistent: true });
    const view = t.transpose(0, 1); // taken before dispose, shares the storage
    expect(t.isDisposed).toBe(false);
    expect(Array.from(sum(view).data)).toHaveLength(1); // usable until then
    const placed = isInKernelMemory(t.data);
    expect(placed).toBe(onWasm);
    if (placed) expect(memoryStats().placedBytes).toBe(before.placedBytes + blockBytes(24));
    t.dispose();
    expect(t.isDisposed).toBe(true);
    expect(view.isDisposed).toBe(true);
    expect(isReleased(t.data)).toBe(true);
    const after = memoryStats();
    expect(after.placedBytes).toBe(before.placedBytes);
    expect(after.placedArrays).toBe(before.placedArrays);
    expectOpsThrow(t);
    expectOpsThrow(view);
    expectViewsThrow(t);
    // twice: no-op, no error, nothing returned twice
    expect(() => t.dispose()).not.toThrow();
    expect(() => view.dispose()).not.toThrow();
    expect(dispose(t.data)).toBe(false);
    expect(memoryStats()).toEqual(after);
  });

  it("ordinary tensors can be disposed too: no memory to return, but later use throws", () => {
    const t = randn([3, 4], new Rng(4));
    t.dispose();
    expect(t.isDisposed).toBe(true);
    expectOpsThrow(t);
    expectViewsThrow(t);
    expect(dispose(t.data)).toBe(false);
    const plain = new Float32Array(8);
    expect(dispose(plain)).toBe(false);
    expect(isReleased(plain)).toBe(true);
    expect(isReleased(new Float32Array(8))).toBe(false);
  });

  it.skipIf(!onWasm)("dispose(array) returns true once for a placed array; part of a placed array is refused", () => {
    const before = memoryStats();
    const x = allocate(100, { persistent: true });
    expect(() => dispose(x.subarray(0, 50))).toThrow(RangeError);
    expect(memoryStats().placedArrays).toBe(before.placedArrays + 1); // still placed
    expect(dispose(x)).toBe(true);
    expect(dispose(x)).toBe(false);
    expect(memoryStats().placedArrays).toBe(before.placedArrays);
    expect(memoryStats().placedBytes).toBe(before.placedBytes);
  });
});

describe("memory budget", () => {
  it("setMemoryBudget validates its argument and returns the previous budget", () => {
    const prev = setMemoryBudget(1 << 20);
    try {
      expect(memoryStats().budget).toBe(1 << 20);
      expect(setMemoryBudget(2 << 20)).toBe(1 << 20);
      for (const bad of [-1, NaN, Infinity]) expect(() => setMemoryBudget(bad)).toThrow(RangeError);
      expect(memoryStats().budget).toBe(2 << 20);
    } finally {
      setMemoryBudget(prev);
    }
    expect(memoryStats().budget).toBe(prev);
  });

  it.skipIf(!onWasm)("beyond the budget persistent allocations are plain arrays (counted as fallbacks); placement resumes after dispose", () => {
    const start = memoryStats();
    const prev = setMemoryBudget(start.placedBytes + 256); // room for 64 floats
    const made: Float32Array[] = [];
    try {
      const a = allocate(64, { persistent: true });
      made.push(a);
      expect(isInKernelMemory(a)).toBe(true);
      const b = allocate(64, { persistent: true });
      const t = zeros([2, 3], { persistent: true });
      made.push(b, t.data);
      for (const d of [b, t.data]) {
        expect(isInKernelMemory(d)).toBe(false);
        expect(d.every((v) => v === 0)).toBe(true);
      }
      expect(b.length).toBe(64);
      expect(memoryStats().fallbacks).toBe(start.fallbacks + 2);
      expect(memoryStats().placedBytes).toBe(start.placedBytes + 256);
      // every op accepts both placements
      a.fill(2);
      b.fill(3);
      expect(Array.from(add(new Tensor(a, [64]), new Tensor(b, [64])).data)).toEqual(new Array(64).fill(5));
      expect(dispose(b)).toBe(false); // a plain array: nothing to return
      expect(dispose(a)).toBe(true);
      const c = allocate(64, { persistent: true }); // room again
      made.push(c);
      expect(isInKernelMemory(c)).toBe(true);
      setMemoryBudget(0);
      const d = allocate(1, { persistent: true });
      expect(isInKernelMemory(d)).toBe(false);
      expect(memoryStats().fallbacks).toBe(start.fallbacks + 3);
      expect(isInKernelMemory(c)).toBe(true); // placed storage stays where it is
    } finally {
      setMemoryBudget(prev);
      for (const x of made) dispose(x);
    }
    expect(memoryStats().budget).toBe(prev);
    expect(memoryStats().placedBytes).toBe(start.placedBytes);
    expect(isInKernelMemory(allocate(64, { persistent: true }))).toBe(true);
  });
});

describe("garbage collection", () => {
  /** Persistent arrays nobody keeps. */
  function dropPersistent(count: number, length: number): void {
    for (let i = 0; i < count; i++) allocate(length, { persistent: true }).fill(i);
  }

  it.skipIf(!onWasm)("the FinalizationRegistry returns the blocks of collected arrays", async () => {
    const gc = globalThis.gc;
    expect(typeof gc, "vitest runs with --expose-gc").toBe("function");
    const before = memoryStats();
    const count = 64, length = 4000;
    dropPersistent(count, length);
    expect(memoryStats().placedArrays).toBe(before.placedArrays + count);
    expect(memoryStats().placedBytes).toBe(before.placedBytes + count * blockBytes(length));
    for (let round = 0; round < 50 && memoryStats().finalized < before.finalized + count; round++) {
      gc!();
      await new Promise((resolve) => setTimeout(resolve, 0)); // finalizers run in a later task
    }
    const after = memoryStats();
    expect(after.finalized).toBeGreaterThanOrEqual(before.finalized + count);
    expect(after.placedBytes).toBeLessThanOrEqual(before.placedBytes);
    expect(after.placedArrays).toBeLessThanOrEqual(before.placedArrays);
  });

  it.skipIf(!onWasm)("a disposed array is not returned a second time by the finalizer", async () => {
    const gc = globalThis.gc!;
    const before = memoryStats();
    (() => {
      const xs = Array.from({ length: 16 }, () => allocate(1000, { persistent: true }));
      for (const x of xs) dispose(x);
    })();
    expect(memoryStats().placedBytes).toBe(before.placedBytes);
    for (let round = 0; round < 5; round++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const after = memoryStats();
    expect(after.placedBytes).toBeLessThanOrEqual(before.placedBytes); // never negative bookkeeping
    expect(after.placedBytes).toBeGreaterThanOrEqual(0);
    expect(after.finalized - before.finalized).toBeLessThanOrEqual(before.placedArrays); // only earlier, undisposed arrays
  });
});
