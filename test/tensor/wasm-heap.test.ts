/**
 * @file The wasm heap: the free-list allocator (first fit, coalescing, top lowering), heap
 * arrays (zeroed, 64-byte aligned, reuse, double free), views surviving memory growth in the
 * shared heap, heap tensors, and the non-shared fallback (reserve-once: never grows while arrays
 * are live, ordinary arrays beyond the reservation, matmul still correct) and no-wasm fallback.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import * as T from "@tapegrad/tensor";
import { FreeList } from "../../packages/tensor/src/wasm/allocator.js";
import { mainArena } from "../../packages/tensor/src/wasm/runtime.js";

const { Rng, heapAlloc, heapFree, heapStats, heapZeros, isHeapArray, matmul, randn, toHeap, wasmStatus } = T;

describe("FreeList", () => {
  it("allocates 64-byte blocks first fit, coalesces holes and lowers the top", () => {
    const l = new FreeList(64);
    const a = l.alloc(10), b = l.alloc(100), c = l.alloc(64), d = l.alloc(0);
    expect([a, b, c, d]).toEqual([64, 128, 256, 320]);
    expect(l.top).toBe(384);
    l.free(b);
    expect(l.alloc(64)).toBe(128); // first fit in the 128-byte hole
    expect(l.alloc(64)).toBe(192); // the rest of it
    l.free(128);
    l.free(192);
    l.free(a); // coalesces 64..256 into one hole
    expect(l.alloc(192)).toBe(64);
    l.free(64);
    l.free(d);
    l.free(c); // everything free: the top drops back to the base
    expect(l.top).toBe(64);
    expect(l.bytesInUse).toBe(0);
    expect(l.count).toBe(0);
    expect(() => l.free(64)).toThrow(/no live allocation/);
  });

  it("stays consistent under random alloc/free", () => {
    const l = new FreeList(64);
    const rng = new Rng(3);
    const live = new Map<number, number>();
    for (let step = 0; step < 3000; step++) {
      if (live.size > 0 && rng.random() < 0.45) {
        const keys = [...live.keys()];
        const at = keys[rng.int(0, keys.length)]!;
        l.free(at);
        live.delete(at);
      } else {
        const size = rng.int(0, 5000);
        const at = l.alloc(size);
        const len = Math.max(64, Math.ceil(size / 64) * 64);
        expect(at % 64).toBe(0);
        for (const [o, s] of live) if (at < o + s && o < at + len) expect.fail(`overlap at step ${step}`);
        live.set(at, len);
      }
      expect(l.count).toBe(live.size);
    }
    for (const at of live.keys()) l.free(at);
    expect(l.top).toBe(64);
  });
});

describe.runIf(wasmStatus().ready || T.initWasmSync())("heap arrays (shared memory)", () => {
  it("are zeroed, aligned, reused after free, and guarded against double free", () => {
    const a = heapAlloc(10), b = heapAlloc(0), c = heapAlloc(1000);
    for (const x of [a, b, c]) {
      expect(isHeapArray(x)).toBe(true);
      expect(x.byteOffset % 64).toBe(0);
      expect(x.every((v) => v === 0)).toBe(true);
    }
    a.fill(3);
    const addr = a.byteOffset;
    heapFree(a);
    expect(() => heapFree(a)).toThrow(/not a live heap allocation/);
    expect(() => heapFree(c.subarray(1))).toThrow(/not a live heap allocation/);
    const d = heapAlloc(12); // same 64-byte block as a
    expect(d.byteOffset).toBe(addr);
    expect(d.every((v) => v === 0)).toBe(true);
    heapFree(new Float32Array(3)); // plain arrays: no-op
    expect(isHeapArray(new Float32Array(3))).toBe(false);
    expect(() => heapAlloc(-1)).toThrow(RangeError);
    expect(() => heapAlloc(1.5)).toThrow(RangeError);
    for (const x of [b, c, d]) heapFree(x);
  });

  it.runIf(wasmStatus().shared)("views and values survive memory growth", () => {
    const rng = new Rng(1);
    const xs = Array.from({ length: 20 }, (_, i) => {
      const x = heapAlloc(1000 + i);
      for (let j = 0; j < x.length; j++) x[j] = rng.normal();
      return x;
    });
    const copies = xs.map((x) => x.slice());
    const before = mainArena()!.byteLength;
    const big = heapAlloc(64 << 20); // 256 MB: forces memory.grow
    expect(mainArena()!.byteLength).toBeGreaterThan(before);
    xs.forEach((x, i) => {
      expect(x.length).toBe(1000 + i); // not detached
      expect(Array.from(x)).toEqual(Array.from(copies[i]!));
    });
    big[big.length - 1] = 7;
    expect(big[big.length - 1]).toBe(7);
    heapFree(big);
    for (const x of xs) heapFree(x);
  });

  it("counts arrays and bytes; heap tensors and toHeap", () => {
    const s0 = heapStats();
    const t = heapZeros([3, 5]);
    expect(t.shape).toEqual([3, 5]);
    expect(isHeapArray(t.data)).toBe(true);
    const src = randn([4, 6], new Rng(2)).mT; // a non-contiguous view
    const h = toHeap(src);
    expect(h.toArray()).toEqual(src.toArray());
    expect(isHeapArray(h.data)).toBe(true);
    const s1 = heapStats();
    expect(s1.arrays).toBe(s0.arrays + 2);
    expect(s1.bytesInUse).toBe(s0.bytesInUse + 64 + 128); // 15 and 24 floats, in 64-byte blocks
    expect(s1.available).toBe(true);
    heapFree(t.data);
    heapFree(h.data);
    expect(heapStats().arrays).toBe(s0.arrays);
    expect(() => toHeap(3 as never)).toThrow(TypeError);
  });
});

describe("fallbacks", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  async function fresh(stubs: Record<string, unknown>): Promise<typeof T> {
    for (const [k, v] of Object.entries(stubs)) vi.stubGlobal(k, v);
    vi.resetModules();
    return (await import("@tapegrad/tensor")) as typeof T;
  }

  it.runIf(T.simdSupported())("no SharedArrayBuffer: a plain heap reserved once; never grows while arrays are live", async () => {
    const lib = await fresh({ SharedArrayBuffer: undefined });
    expect(lib.wasmKernels()).toBeDefined();
    expect(lib.wasmStatus().shared).toBe(false);
    lib.heapReserve(96 << 20); // before the first allocation: sets the reservation (default 64 MB)
    const a = lib.heapAlloc(1 << 20);
    expect(lib.isHeapArray(a)).toBe(true);
    a.fill(2);
    const mid = lib.heapAlloc(20 << 20); // 80 MB: fits the reservation
    expect(lib.isHeapArray(mid)).toBe(true);
    lib.heapFree(mid);
    const cap = lib.heapStats().byteLength;
    expect(cap).toBeGreaterThanOrEqual(96 << 20);
    const big = lib.heapAlloc(cap / 4); // does not fit, and growing would detach `a`
    expect(lib.isHeapArray(big)).toBe(false);
    expect(lib.heapStats()).toMatchObject({ shared: false, fallbacks: 1 });
    expect(a.length).toBe(1 << 20);
    expect(a[12345]).toBe(2);
    expect(() => lib.heapReserve(cap)).toThrow(/cannot grow while/);
    // kernels take heap and plain arrays alike; matmul copies heap operands in
    expect(lib.foreachSumSquares([a, big.fill(1)])).toBe(4 * (1 << 20) + cap / 4);
    const rng = new lib.Rng(5);
    const x = lib.randn([70, 90], rng), w = lib.randn([90, 40], rng);
    const out = lib.heapZeros([70, 40]);
    lib.matmul(lib.toHeap(x), lib.toHeap(w), out);
    const ref = lib.matmul(x, w);
    expect(Array.from(out.data)).toEqual(Array.from(ref.data));
    lib.setNumThreads(2);
    expect(await lib.threadsReady()).toBe(1); // threads need shared memory
    lib.setNumThreads(1);
  });

  it("no WebAssembly: heap arrays are ordinary arrays and every kernel still works", async () => {
    const lib = await fresh({ WebAssembly: undefined });
    const x = lib.heapAlloc(100).fill(3);
    expect(lib.isHeapArray(x)).toBe(false);
    expect(lib.heapStats().available).toBe(false);
    lib.heapFree(x);
    expect(lib.foreachSumSquares([x])).toBe(900);
    // the JS twins give the wasm kernels' bits
    const rng = new Rng(12), v = new Float32Array(100_003).map(() => rng.normal());
    expect(lib.foreachSumSquares([v])).toBe(T.foreachSumSquares([v]));
    expect(lib.foreachSumSquares([v.map((y) => y * 1e21)])).toBe(T.foreachSumSquares([v.map((y) => y * 1e21)]));
    lib.foreachScale([x], 0.5);
    expect(x[0]).toBe(1.5);
    lib.setNumThreads(2);
    expect(await lib.threadsReady()).toBe(1);
    lib.setNumThreads(1);
    expect(lib.matmul(lib.ones([2, 3]), lib.ones([3, 2])).toArray()).toEqual([[3, 3], [3, 3]]);
  });
});

it("matmul with heap operands matches plain operands (whatever the environment)", () => {
  const rng = new Rng(9);
  const a = randn([33, 47], rng), b = randn([47, 29], rng);
  expect(Array.from(matmul(toHeap(a), toHeap(b)).data)).toEqual(Array.from(matmul(a, b).data));
});

describe.runIf(T.initWasmSync() && wasmStatus().shared)("phase-1 names kept for the benchmark harness", () => {
  it("WasmHeap over the heap, and initWasmThreads over setNumThreads", async () => {
    const heap = T.WasmHeap.create({ reserveBytes: 1 << 20 })!;
    const g = heap.alloc(1000);
    expect(isHeapArray(g.data)).toBe(true);
    g.data.fill(2);
    expect(heap.sumOfSquares([g])).toBe(4000);
    expect(heap.clipByGlobalNorm([g], 1)).toBeCloseTo(Math.sqrt(4000), 10);
    expect(Math.sqrt(heap.sumOfSquares([g]))).toBeCloseTo(1, 5);
    heap.free(g);
    const set = (await T.initWasmThreads(2))!;
    expect(set.threads).toBe(2);
    expect(T.numThreads()).toBe(2);
    const rng = new Rng(3);
    const a = randn([100, 200], rng), b = randn([200, 90], rng);
    const c = new Float32Array(100 * 90);
    set.gemm(100, 90, 200, a.data, 0, 200, 1, b.data, 0, 90, 1, c, 0, 90, false);
    const ref = new Float32Array(100 * 90);
    T.gemmWasm(100, 90, 200, a.data, 0, 200, 1, b.data, 0, 90, 1, ref, 0, 90, false);
    expect(Array.from(c)).toEqual(Array.from(ref));
    set.dispose();
    expect(T.numThreads()).toBe(1);
    await expect(T.initWasmThreads(1)).rejects.toThrow(RangeError);
  });
});
