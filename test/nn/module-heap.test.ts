/**
 * @file `Module.toHeap()` / `freeHeap()`: resident training buffers for a whole model — the same
 * parameter Vars, values and state dicts preserved, training bit-identical to the ordinary path,
 * memory returned, and the same behaviour where the heap is unavailable.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import * as A from "@tapegrad/autograd";
import { Rng, heapStats, isHeapArray, randn } from "@tapegrad/tensor";
import { Linear, ReLU, Sequential } from "@tapegrad/nn";
import { SGD, clipByGlobalNorm } from "@tapegrad/optim";

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.slice().buffer));
const mlp = () => new Sequential(new Linear(20, 16, { rng: new Rng(1) }), new ReLU(), new Linear(16, 16, { rng: new Rng(2) }), new ReLU(), new Linear(16, 4, { rng: new Rng(3) }));

describe("Module.toHeap", () => {
  it("keeps the parameter Vars, values and state dict; freeHeap returns everything", () => {
    const before = heapStats().arrays;
    const model = mlp();
    const vars = model.parameters();
    const sd = model.stateDict();
    expect(model.toHeap()).toBe(model);
    expect(model.parameters()).toEqual(vars); // same objects
    vars.forEach((v) => expect(v).toBe(vars[vars.indexOf(v)]));
    const available = heapStats().available;
    expect(model.isResident).toBe(available);
    for (const [name, v] of model.namedParameters()) {
      expect(bits(v.value.data)).toEqual(bits(sd[name]!.data));
      expect(isHeapArray(v.value.data)).toBe(available);
      expect(v.gradBuffer).not.toBeNull();
    }
    if (available) expect(heapStats().arrays).toBe(before + 2 * vars.length);
    // loadStateDict writes into the heap arrays in place
    const other = mlp();
    for (const p of other.parameters()) p.value.data.fill(0.25);
    model.loadStateDict(other.stateDict());
    for (const v of vars) {
      expect(v.value.data[0]).toBe(0.25);
      expect(isHeapArray(v.value.data)).toBe(available);
    }
    model.loadStateDict(sd);
    model.freeHeap();
    expect(heapStats().arrays).toBe(before);
    expect(model.isResident).toBe(false);
    for (const [name, v] of model.namedParameters()) {
      expect(isHeapArray(v.value.data)).toBe(false);
      expect(v.gradBuffer).toBeNull();
      expect(bits(v.value.data)).toEqual(bits(sd[name]!.data));
    }
  });

  it("training with resident buffers is bit-identical to the ordinary path (SGD momentum + global-norm clip)", () => {
    const x = A.constant(randn([32, 20], new Rng(9)));
    const y = Int32Array.from({ length: 32 }, (_, i) => i % 4);
    const run = (resident: boolean) => {
      const model = mlp();
      if (resident) model.toHeap();
      const opt = new SGD(model.parameters(), { lr: 0.5, momentum: 0.9, clip: clipByGlobalNorm(0.01) });
      const norms: number[] = [];
      for (let i = 0; i < 8; i++) {
        model.zeroGrad();
        A.crossEntropy(model.forward(x), y).backward();
        opt.step();
        norms.push(opt.lastStats!.preClipNorm);
        expect(opt.lastStats!.clipped).toBe(true);
      }
      const out = { values: model.parameters().map((p) => bits(p.value.data)), grads: model.parameters().map((p) => bits(p.grad!.data)), norms };
      opt.freeHeap();
      model.freeHeap();
      return out;
    };
    const a = run(false), b = run(true);
    expect(b.values).toEqual(a.values);
    expect(b.grads).toEqual(a.grads);
    b.norms.forEach((n, i) => expect(Math.abs(n - a.norms[i]!)).toBeLessThanOrEqual(1e-14 * a.norms[i]!));
  });
});

describe("Module.toHeap without WebAssembly", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it("falls back to ordinary arrays and trains identically", async () => {
    vi.stubGlobal("WebAssembly", undefined);
    vi.resetModules();
    const T = await import("@tapegrad/tensor");
    const Af = await import("@tapegrad/autograd");
    const N = await import("@tapegrad/nn");
    const O = await import("@tapegrad/optim");
    expect(T.heapStats().available).toBe(false);
    const x = Af.constant(T.randn([8, 6], new T.Rng(1)));
    const y = Int32Array.from({ length: 8 }, (_, i) => i % 3);
    const run = (resident: boolean) => {
      const model = new N.Sequential(new N.Linear(6, 5, { rng: new T.Rng(2) }), new N.ReLU(), new N.Linear(5, 3, { rng: new T.Rng(3) }));
      if (resident) model.toHeap();
      const opt = new O.SGD(model.parameters(), { lr: 0.1, momentum: 0.9, clip: O.clipByGlobalNorm(0.1) });
      for (let i = 0; i < 4; i++) {
        model.zeroGrad();
        Af.crossEntropy(model.forward(x), y).backward();
        opt.step();
      }
      const grads = model.parameters().map((p) => p.grad!.data);
      if (resident) {
        expect(model.isResident).toBe(false);
        model.parameters().forEach((p, i) => expect(grads[i]).toBe(p.gradBuffer!.data)); // ordinary buffers, still reused
        expect(opt.freeHeap()).toBe(0);
        model.freeHeap();
      }
      return model.parameters().map((p) => bits(p.value.data));
    };
    expect(run(true)).toEqual(run(false));
  });
});
