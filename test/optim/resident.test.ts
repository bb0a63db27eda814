/**
 * @file The resident path of `@tapegrad/optim`: parameters in the wasm heap (`Var.toHeap()`) get
 * heap state, SGD updates with `foreachSgdStep`, norms and clipping run in wasm — with the same
 * parameters bit for bit as the JS path, norms equal to ~1e-16, `lastStats` unchanged in meaning;
 * `freeHeap()` returns the memory; mixed, migrated and fallback (heap full) cases still agree.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import * as A from "@tapegrad/autograd";
import type { Var } from "@tapegrad/autograd";
import { Rng, Tensor, heapStats, isHeapArray, numThreads, randn, setNumThreads, threadsReady, wasmStatus } from "@tapegrad/tensor";
import { Adam, AdamW, RMSprop, SGD, clipByGlobalNorm, clipGradNorm, type Optimizer } from "@tapegrad/optim";

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.slice().buffer));
const SHAPES = [[40, 30], [40], [7, 40], [7]] as const;

/** Parameters with seeded values; `grads(step)` gives each step's seeded gradients. */
function makeParams(resident: boolean | "some", shapes: readonly (readonly number[])[] = SHAPES): Var[] {
  return shapes.map((sh, i) => {
    const p = A.variable(randn(sh as number[], new Rng(100 + i)), { name: `p${i}` });
    if (resident === true || (resident === "some" && i % 2 === 0)) p.toHeap();
    return p;
  });
}

function setGrads(params: readonly Var[], step: number, scale = 1): void {
  params.forEach((p, i) => {
    const g = randn(p.shape as number[], new Rng(1000 * step + i)).toFloat32Array().map((v) => v * scale);
    if (p.gradBuffer) {
      p.gradBuffer.data.set(g);
      p.grad = p.gradBuffer;
    } else p.grad = new Tensor(g, p.shape);
  });
}

function train(make: (params: Var[]) => Optimizer, resident: boolean | "some", steps = 4, shapes?: readonly (readonly number[])[]) {
  const params = makeParams(resident, shapes);
  const opt = make(params);
  const stats = [];
  for (let s = 1; s <= steps; s++) {
    setGrads(params, s, 3);
    opt.step();
    stats.push(opt.lastStats!);
  }
  return { params, opt, stats, values: params.map((p) => bits(p.value.data)), grads: params.map((p) => bits(p.grad!.data)) };
}

function expectSameRun(a: ReturnType<typeof train>, b: ReturnType<typeof train>): void {
  expect(b.values).toEqual(a.values);
  expect(b.grads).toEqual(a.grads);
  b.stats.forEach((s, i) => {
    const r = a.stats[i]!;
    expect(s.clipped).toBe(r.clipped);
    for (const k of ["preClipNorm", "postClipNorm", "coef"] as const) expect(Math.abs(s[k] - r[k])).toBeLessThanOrEqual(1e-14 * Math.abs(r[k]));
  });
}

const heap = heapStats().available;

describe("optimizers on resident parameters", () => {
  const configs: [string, (p: Var[]) => Optimizer][] = [
    ["SGD", (p) => new SGD(p, { lr: 0.1 })],
    ["SGD momentum + clip", (p) => new SGD(p, { lr: 0.05, momentum: 0.9, clip: clipByGlobalNorm(1) })],
    ["SGD nesterov + decay", (p) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
    ["SGD dampening + maximize", (p) => new SGD(p, { lr: 0.05, momentum: 0.5, dampening: 0.1, maximize: true, clip: clipByGlobalNorm(2) })],
    ["SGD groups", (p) => new SGD([{ params: p.slice(0, 2), lr: 0.1 }, { params: p.slice(2), lr: 0.01, momentum: 0.8 }], { lr: 0.05, momentum: 0.9, clip: clipByGlobalNorm(1) })],
    ["Adam + clip", (p) => new Adam(p, { lr: 1e-3, clip: clipByGlobalNorm(1) })],
    ["AdamW amsgrad", (p) => new AdamW(p, { lr: 1e-3, amsgrad: true })],
    ["RMSprop centered momentum", (p) => new RMSprop(p, { lr: 1e-3, momentum: 0.9, centered: true })],
  ];

  it.each(configs)("%s: same parameters bit for bit, state in the heap, freeHeap returns it", (_name, make) => {
    const before = heapStats().arrays;
    const a = train(make, false), b = train(make, true);
    expectSameRun(a, b);
    const buffers = [...b.opt.state.values()].flatMap((s) => Object.values(s).filter((v): v is Float32Array => v instanceof Float32Array));
    for (const buf of buffers) expect(isHeapArray(buf)).toBe(heap);
    const kept = buffers.map(bits);
    expect(b.opt.freeHeap()).toBe(heap ? buffers.length : 0);
    const after = [...b.opt.state.values()].flatMap((s) => Object.values(s).filter((v): v is Float32Array => v instanceof Float32Array));
    for (const buf of after) expect(isHeapArray(buf)).toBe(false);
    expect(after.map(bits)).toEqual(kept);
    // the optimizer keeps working after freeHeap (the state moves back into the heap for SGD)
    setGrads(a.params, 9);
    setGrads(b.params, 9);
    a.opt.step();
    b.opt.step();
    expect(b.params.map((p) => bits(p.value.data))).toEqual(a.params.map((p) => bits(p.value.data)));
    b.opt.freeHeap();
    for (const p of b.params) p.freeHeap();
    expect(heapStats().arrays).toBe(before);
  });

  it("mixed residency, and state created before toHeap() or loaded from a state dict, give the same run", () => {
    const make = (p: Var[]) => new SGD(p, { lr: 0.05, momentum: 0.9, clip: clipByGlobalNorm(1) });
    const ref = train(make, false, 6);
    expectSameRun(ref, train(make, "some", 6));
    // two steps on ordinary arrays, then toHeap: the momentum buffers move into the heap
    const params = makeParams(false);
    const opt = make(params);
    const stats = [];
    for (let s = 1; s <= 6; s++) {
      if (s === 3) {
        for (const p of params) p.toHeap();
        opt.loadStateDict(opt.stateDict()); // also exercises loading into a resident optimizer
      }
      setGrads(params, s, 3);
      opt.step();
      stats.push(opt.lastStats!);
    }
    const bufs = [...opt.state.values()].map((s) => s.momentumBuffer as Float32Array);
    for (const b of bufs) expect(isHeapArray(b)).toBe(heap);
    expectSameRun(ref, { params, opt, stats, values: params.map((p) => bits(p.value.data)), grads: params.map((p) => bits(p.grad!.data)) });
    opt.freeHeap();
    for (const p of params) p.freeHeap();
  });

  it.runIf(heap && wasmStatus().shared)("two threads (lists above the threading threshold) give the same bits", async () => {
    const shapes = [[600, 500], [600], [10, 600], [10]];
    const make = (p: Var[]) => new SGD(p, { lr: 0.05, momentum: 0.9, clip: clipByGlobalNorm(1) });
    const ref = train(make, false, 3, shapes);
    const prev = numThreads();
    setNumThreads(2);
    await threadsReady();
    try {
      const b = train(make, true, 3, shapes);
      expectSameRun(ref, b);
      b.opt.freeHeap();
      for (const p of b.params) p.freeHeap();
    } finally {
      setNumThreads(prev);
    }
  });
});

describe("clipping resident gradients", () => {
  it("clipGradNorm: norm equal to ~1e-16, clipped gradients bit for bit, for L2 and other norms", () => {
    for (const normType of [2, 1, Infinity]) {
      const a = makeParams(false), b = makeParams(true);
      setGrads(a, 1, 5);
      setGrads(b, 1, 5);
      const ra = clipGradNorm(a, 1, { normType }), rb = clipGradNorm(b, 1, { normType });
      expect(Math.abs(rb.totalNorm - ra.totalNorm)).toBeLessThanOrEqual(1e-14 * ra.totalNorm);
      expect(rb.clipped).toBe(true);
      expect(b.map((p) => bits(p.grad!.data))).toEqual(a.map((p) => bits(p.grad!.data)));
      for (const p of b) p.freeHeap();
    }
  });

  it("non-finite resident gradients follow the same policies", () => {
    const a = makeParams(false), b = makeParams(true);
    for (const ps of [a, b]) {
      setGrads(ps, 1);
      ps[1]!.grad!.data[3] = NaN;
    }
    const ra = clipGradNorm(a, 1), rb = clipGradNorm(b, 1);
    expect(rb.totalNorm).toBeNaN();
    expect(rb.nonFiniteCount).toBe(ra.nonFiniteCount);
    expect(() => clipGradNorm(b, 1, { nonFinite: "error" })).toThrow(/non-finite/);
    for (const p of b) p.freeHeap();
  });
});

describe("a full non-shared heap", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it.runIf(heap)("toHeap falls back to ordinary arrays for what does not fit; training is unchanged", async () => {
    vi.stubGlobal("SharedArrayBuffer", undefined);
    vi.resetModules();
    const T = await import("@tapegrad/tensor");
    const Af = await import("@tapegrad/autograd");
    const O = await import("@tapegrad/optim");
    // Fill the (non-shared, fixed) heap, then free 2 KB: room for the small parameters only.
    const blocks: Float32Array[] = [];
    for (let b = T.heapAlloc(1 << 20); T.isHeapArray(b); b = T.heapAlloc(1 << 20)) blocks.push(b);
    for (let b = T.heapAlloc(256); T.isHeapArray(b); b = T.heapAlloc(256)) blocks.push(b);
    T.heapFree(blocks.pop()!);
    T.heapFree(blocks.pop()!);
    const make = (resident: boolean) => {
      const ps = SHAPES.map((sh, i) => Af.variable(T.randn([...sh], new T.Rng(100 + i))));
      if (resident) for (const p of ps) p.toHeap();
      return ps;
    };
    const run = (resident: boolean) => {
      const ps = make(resident);
      const opt = new O.SGD(ps, { lr: 0.05, momentum: 0.9, clip: O.clipByGlobalNorm(1) });
      for (let s = 1; s <= 3; s++) {
        ps.forEach((p, i) => {
          const g = T.randn(p.shape as number[], new T.Rng(1000 * s + i)).toFloat32Array();
          if (p.gradBuffer) {
            p.gradBuffer.data.set(g);
            p.grad = p.gradBuffer;
          } else p.grad = new T.Tensor(g, p.shape);
        });
        opt.step();
      }
      const out = ps.map((p) => bits(p.value.data));
      if (resident) {
        expect(T.heapStats().fallbacks).toBeGreaterThan(0);
        expect(ps.some((p) => T.isHeapArray(p.value.data))).toBe(true);
        expect(ps.every((p) => p.isResident)).toBe(false);
        opt.freeHeap();
        for (const p of ps) p.freeHeap();
      }
      return out;
    };
    expect(run(true)).toEqual(run(false));
    for (const b of blocks) T.heapFree(b);
  });
});
