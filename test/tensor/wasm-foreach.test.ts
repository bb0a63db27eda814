/**
 * @file The in-place `foreach*` kernels: float64 reference values, and the same bits whether an
 * array lives in the wasm heap (wasm kernels) or not (JS loops), in mixed lists, and on 1 or 2
 * threads; special values (NaN, ±Infinity, -0, subnormals, huge); argument checks.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  Rng, clipCoef, foreachAxpy, foreachClipByGlobalNorm, foreachScale, foreachSgdStep, foreachSumSquares, heapAlloc, heapFree, initWasmSync,
  isHeapArray, setNumThreads, threadsReady, wasmStatus, type SgdStepOptions,
} from "@tapegrad/tensor";
import { SUMSQ_CHUNK } from "../../packages/tensor/src/wasm/vector-kernel.js";

const fround = Math.fround;
const wasmReady = initWasmSync();
const SPECIAL = [NaN, Infinity, -Infinity, -0, 1e-45, -3e-39, 3.4e38, 1e20];
const allocated: Float32Array[] = [];

/** Seeded values, optionally with special values sprinkled in. */
function values(n: number, seed: number, special = false): Float32Array {
  const rng = new Rng(seed), x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.normal() * 3;
  if (special) for (let i = 0; i < n; i += 97) x[i] = SPECIAL[(i / 97) % SPECIAL.length]!;
  return x;
}

/** A heap copy of `x` (an ordinary copy where the heap is unavailable). */
function inHeap(x: Float32Array): Float32Array {
  const h = heapAlloc(x.length);
  h.set(x);
  allocated.push(h);
  return h;
}

function expectSameBits(a: Float32Array, b: Float32Array, label: string): void {
  expect(a.length, label).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) expect.fail(`${label}: element ${i}: ${a[i]} vs ${b[i]}`);
}

afterAll(() => {
  for (const h of allocated) heapFree(h);
});

const SIZES = [0, 1, 7, 8, 9, 31, 33, SUMSQ_CHUNK - 1, SUMSQ_CHUNK, SUMSQ_CHUNK + 1, 3 * SUMSQ_CHUNK + 5, 100_003];

describe("foreach kernels: heap (wasm) and plain (JS) give the same bits", () => {
  it("the heap is in use where wasm works", () => {
    expect(isHeapArray(inHeap(new Float32Array(4)))).toBe(wasmReady);
  });

  it("foreachSumSquares: accurate, identical on both paths, mixed lists, exact fallback", () => {
    const xs = SIZES.map((n, i) => values(n, i));
    const hs = xs.map(inHeap);
    let ref = 0;
    for (const x of xs) for (let i = 0; i < x.length; i++) ref += x[i]! * x[i]!;
    const plain = foreachSumSquares(xs);
    expect(Math.abs(plain - ref)).toBeLessThanOrEqual(1e-8 * ref); // float32 groups of 4, float64 sums
    expect(foreachSumSquares(hs)).toBe(plain);
    expect(foreachSumSquares(hs.map((h, i) => (i % 2 ? h : xs[i]!)))).toBe(plain);
    for (const n of SIZES) expect(foreachSumSquares([inHeap(values(n, n))])).toBe(foreachSumSquares([values(n, n)]));
    expect(foreachSumSquares([])).toBe(0);
    expect(foreachSumSquares([inHeap(Float32Array.of(1e20, 1e20))])).toBe(2 * fround(1e20) ** 2); // no float32 overflow
    expect(foreachSumSquares([Float32Array.of(1e20, 1e20)])).toBe(2 * fround(1e20) ** 2);
    const tiny = values(1000, 4).map((v) => v * 1e-25); // float32 squares would underflow
    let tinyRef = 0;
    for (const v of tiny) tinyRef += v * v;
    expect(Math.abs(foreachSumSquares([inHeap(tiny)]) - tinyRef)).toBeLessThanOrEqual(1e-13 * tinyRef);
    expect(foreachSumSquares([tiny])).toBe(foreachSumSquares([inHeap(tiny)]));
    expect(foreachSumSquares([inHeap(Float32Array.of(1, NaN, 2))])).toBeNaN();
    expect(foreachSumSquares([inHeap(Float32Array.of(1, -Infinity, 2))])).toBe(Infinity);
    // exact: float64 squares always (float64-grade), the same bits on both paths
    const exact = foreachSumSquares(hs, { exact: true });
    expect(Math.abs(exact - ref)).toBeLessThanOrEqual(1e-12 * ref); // (ref itself is a long sequential float64 sum)
    expect(foreachSumSquares(xs, { exact: true })).toBe(exact);
    expect(foreachSumSquares([inHeap(tiny)], { exact: true })).toBe(foreachSumSquares([inHeap(tiny)]));
    expect(foreachSumSquares([inHeap(Float32Array.of(1, NaN, 2))], { exact: true })).toBeNaN();
  });

  it.each([0.5, 0.1, -3, 0, 1e-30, 7.3e35, NaN, Infinity])("foreachScale by %d", (c) => {
    for (const n of [1, 3, 4, 5, 17, 1000, SUMSQ_CHUNK + 3]) {
      const x = values(n, n, true), h = inHeap(x), ref = x.map((v) => fround(v * c));
      foreachScale([x], c);
      foreachScale([h], c);
      expectSameBits(x, ref, `scale ${c} plain n=${n}`);
      expectSameBits(h, ref, `scale ${c} heap n=${n}`);
    }
  });

  it("foreachScale by 1 is the identity (skipped)", () => {
    const h = inHeap(Float32Array.of(NaN, -0, 1));
    foreachScale([h], 1);
    expectSameBits(h, Float32Array.of(NaN, -0, 1), "scale 1");
  });

  it("foreachAxpy", () => {
    for (const a of [0.5, -0.01, 3.3e-5, 0]) {
      for (const n of [1, 2, 3, 4, 5, 99, 4096 + 3]) {
        const y = values(n, 1, true), x = values(n, 2, true), hy = inHeap(y), hx = inHeap(x);
        const ref = y.map((v, i) => fround(v + a * x[i]!));
        foreachAxpy([y], a, [x]);
        foreachAxpy([hy], a, [hx]);
        expectSameBits(y, ref, `axpy ${a} plain n=${n}`);
        expectSameBits(hy, ref, `axpy ${a} heap n=${n}`);
      }
    }
    expect(() => foreachAxpy([new Float32Array(3)], 1, [new Float32Array(4)])).toThrow(/xs\[0\] has 4 elements, expected 3/);
    expect(() => foreachAxpy([new Float32Array(3)], 1, [])).toThrow(RangeError);
  });

  /** PyTorch's SGD rule written out per element (the optim package's formula), after g·s. */
  function sgdRef(p: Float32Array, g: Float32Array, b: Float32Array, o: SgdStepOptions): void {
    const mu = o.momentum ?? 0, wd = o.weightDecay ?? 0, keep = 1 - (o.dampening ?? 0);
    for (let i = 0; i < p.length; i++) {
      let gi = fround(g[i]! * (o.gradScale ?? 1));
      if (o.maximize) gi = -gi;
      if (wd !== 0) gi = fround(gi + wd * p[i]!);
      let d = gi;
      if (mu !== 0) {
        b[i] = o.firstStep ? gi : fround(mu * b[i]!) + keep * gi;
        d = o.nesterov ? fround(gi + mu * b[i]!) : b[i]!;
      }
      p[i] = p[i]! - o.lr * d;
    }
  }

  const sgdCases: SgdStepOptions[] = [
    { lr: 0.1 },
    { lr: 0.01, momentum: 0.9 },
    { lr: 0.01, momentum: 0.9, firstStep: true },
    { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-4 },
    { lr: 0.05, momentum: 0.5, dampening: 0.1, weightDecay: 0.01, maximize: true },
    { lr: 0.02, momentum: 0.9, gradScale: fround(0.37) },
    { lr: 0.02, weightDecay: 0.1, gradScale: 0.123456789 },
  ];

  it.each(sgdCases)("foreachSgdStep %o", (o) => {
    const sizes = [1, 2, 3, 17, 1000, SUMSQ_CHUNK + 1];
    const ps = sizes.map((n, i) => values(n, 10 + i, i === 4)), gs = sizes.map((n, i) => values(n, 20 + i, i === 4)), bs = sizes.map((n, i) => values(n, 30 + i));
    const hp = ps.map(inHeap), hg = gs.map(inHeap), hb = bs.map(inHeap);
    const rp = ps.map((x) => x.slice()), rb = bs.map((x) => x.slice());
    sizes.forEach((_, i) => sgdRef(rp[i]!, gs[i]!, rb[i]!, o));
    foreachSgdStep(ps, gs, bs, o);
    foreachSgdStep(hp, hg, hb, o);
    sizes.forEach((n, i) => {
      expectSameBits(ps[i]!, rp[i]!, `params plain n=${n}`);
      expectSameBits(hp[i]!, rp[i]!, `params heap n=${n}`);
      if (o.momentum) expectSameBits(hb[i]!, rb[i]!, `buffers heap n=${n}`);
      expectSameBits(hg[i]!, gs[i]!, `grads untouched n=${n}`);
    });
  });

  it("foreachSgdStep checks its lists", () => {
    const x = new Float32Array(3);
    expect(() => foreachSgdStep([x], [x], null, { lr: 1, momentum: 0.9 })).toThrow(/needs momentum buffers/);
    expect(() => foreachSgdStep([x], [new Float32Array(2)], null, { lr: 1 })).toThrow(/grads\[0\]/);
  });

  it("foreachClipByGlobalNorm: PyTorch's formula, float32 coefficient, NaN propagates", () => {
    const xs = [values(300, 1), values(77, 2), values(5000, 3)];
    const hs = xs.map(inHeap);
    const norm = Math.sqrt(foreachSumSquares(xs));
    const copies = hs.map((h) => h.slice());
    expect(foreachClipByGlobalNorm(hs, norm * 2)).toBe(norm);
    hs.forEach((h, i) => expectSameBits(h, copies[i]!, "below the threshold"));
    expect(foreachClipByGlobalNorm(hs, 1)).toBe(norm);
    const coef = clipCoef(norm, 1);
    expect(coef).toBe(fround(1 / (norm + 1e-6)));
    hs.forEach((h, i) => expectSameBits(h, copies[i]!.map((v) => fround(v * coef)), "clipped"));
    foreachClipByGlobalNorm(xs, 1);
    hs.forEach((h, i) => expectSameBits(h, xs[i]!, "heap vs plain"));
    expect(Math.sqrt(foreachSumSquares(hs))).toBeCloseTo(1, 5);
    const z = inHeap(new Float32Array(50));
    expect(foreachClipByGlobalNorm([z], 1)).toBe(0);
    z[7] = NaN;
    expect(foreachClipByGlobalNorm([z], 1)).toBeNaN();
    expect(z[0]).toBeNaN();
    const keep = inHeap(Float32Array.of(3, 4));
    expect(foreachClipByGlobalNorm([keep], 1, { scale: false })).toBe(5);
    expect(Array.from(keep)).toEqual([3, 4]);
    expect(() => foreachClipByGlobalNorm(xs, -1)).toThrow(RangeError);
    expect(clipCoef(0.5, 1)).toBe(1);
  });
});

describe.runIf(wasmReady && wasmStatus().shared)("foreach kernels on 2 threads", () => {
  it("give the single-thread bits (large lists go to the pool)", async () => {
    const sizes = [400_000, 123_457, 3, 300_001];
    const make = (seed: number) => sizes.map((n, i) => inHeap(values(n, seed + i)));
    const run = () => {
      const p = make(1), g = make(10), b = make(20), y = make(30);
      const s = foreachSumSquares(g);
      const exact = foreachSumSquares(g, { exact: true });
      const huge = foreachSumSquares(y.map((x) => inHeap(x.map((v) => v * 1e21)))); // float32 squares overflow: exact fallback
      foreachScale(g, 0.3);
      foreachScale(y, fround(0.7));
      foreachAxpy(y, -0.5, g);
      foreachSgdStep(p, g, b, { lr: 0.01, momentum: 0.9, weightDecay: 1e-4, gradScale: fround(0.5) });
      const n = foreachClipByGlobalNorm(p, 1);
      return { s, exact, huge, n, arrays: [...p, ...g, ...b, ...y].map((x) => x.slice()) };
    };
    const one = run();
    setNumThreads(2);
    try {
      expect(await threadsReady()).toBe(2);
      const two = run();
      expect(two.s).toBe(one.s);
      expect(two.exact).toBe(one.exact); // (the threaded exact sum used to come back as 0)
      expect(two.huge).toBe(one.huge);
      expect(one.huge).toBeGreaterThan(1e40);
      expect(Math.abs(one.exact - one.s)).toBeLessThan(1e-6 * one.s);
      expect(two.n).toBe(one.n);
      two.arrays.forEach((x, i) => expectSameBits(x, one.arrays[i]!, `array ${i}`));
    } finally {
      setNumThreads(1);
    }
  });
});
