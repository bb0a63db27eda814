/**
 * @file Where gradients live: a leaf's gradient goes into storage the leaf keeps from step to
 * step (long-lived, in the kernels' memory with the wasm kernels), which is reused while no user
 * code has read it; reading `.grad` hands the tensor over, so a gradient you kept never changes
 * (PyTorch's semantics). `borrowGrad()` reads without handing over. `dispose()` releases storage.
 */
import { describe, expect, it } from "vitest";
import { Rng, Tensor, isInKernelMemory, kernels, memoryStats, randn, tensor } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import { Linear, ReLU, Sequential } from "@tapegrad/nn";
import { Adam } from "@tapegrad/optim";

const wasm = kernels().name === "wasm";

function model(): { net: Sequential; x: Tensor; y: Int32Array; loss: () => A.Var } {
  const rng = new Rng(11);
  const net = new Sequential(new Linear(6, 5, { rng }), new ReLU(), new Linear(5, 3, { rng }));
  const x = randn([4, 6], rng), y = Int32Array.of(0, 2, 1, 2);
  return { net, x, y, loss: () => A.crossEntropy(net.forward(x), y) };
}

describe("gradient storage", () => {
  it("backward reuses a leaf's storage from step to step while nobody read .grad", () => {
    const m = model();
    m.loss().backward();
    const storage = m.net.parameters().map((p) => p.borrowGrad()!);
    for (let step = 0; step < 3; step++) {
      m.net.zeroGrad();
      expect(m.net.parameters().every((p) => p.borrowGrad() === null)).toBe(true);
      m.loss().backward();
      m.net.parameters().forEach((p, i) => expect(p.borrowGrad()).toBe(storage[i]));
    }
  });

  it("reading .grad hands the tensor over: the next backward after zeroGrad() gets fresh storage, the kept gradient is unchanged", () => {
    const m = model();
    const w = m.net.parameters()[0]!;
    m.loss().backward();
    const kept = w.grad!;
    const before = kept.toFloat32Array();
    m.net.zeroGrad();
    // Another input, so the new gradient differs.
    const loss2 = A.crossEntropy(m.net.forward(randn([4, 6], new Rng(99))), m.y);
    loss2.backward();
    expect(w.borrowGrad()).not.toBe(kept);
    expect(kept.toFloat32Array()).toEqual(before);
    expect(w.grad!.toFloat32Array()).not.toEqual(before);
  });

  it("accumulates in place across backward calls without zeroGrad (the values of two passes)", () => {
    const m = model();
    m.loss().backward();
    const once = m.net.parameters().map((p) => p.borrowGrad()!.toFloat32Array());
    m.loss().backward();
    m.net.parameters().forEach((p, i) => {
      const twice = p.borrowGrad()!.toFloat32Array();
      for (let k = 0; k < twice.length; k++) expect(twice[k]).toBeCloseTo(2 * once[i]![k]!, 5);
    });
  });

  it("gradients() returns fresh tensors and leaves .grad and the storage alone", () => {
    const m = model();
    m.loss().backward();
    const storage = m.net.parameters().map((p) => p.borrowGrad());
    const grads = A.gradients(m.loss(), m.net.parameters());
    m.net.parameters().forEach((p, i) => {
      expect(p.borrowGrad()).toBe(storage[i]);
      expect(grads[i]!.data).not.toBe(storage[i]!.data);
      expect(Array.from(grads[i]!.toFloat32Array())).toEqual(Array.from(storage[i]!.toFloat32Array()));
    });
  });

  it.runIf(wasm)("parameters, gradients and optimizer state live in the kernels' memory without any call", () => {
    const m = model();
    const opt = new Adam(m.net.parameters(), { lr: 1e-3 });
    opt.zeroGrad();
    m.loss().backward();
    opt.step();
    for (const p of m.net.parameters()) {
      expect(isInKernelMemory(p.value.data)).toBe(true);
      expect(isInKernelMemory(p.borrowGrad()!.data)).toBe(true);
      const s = opt.state.get(p)!;
      expect(isInKernelMemory(s.expAvg as Float32Array)).toBe(true);
      expect(isInKernelMemory(s.expAvgSq as Float32Array)).toBe(true);
    }
  });

  it.runIf(wasm)("dispose() on model and optimizer returns their memory at once; using them afterwards throws", () => {
    const before = memoryStats().placedBytes;
    const m = model();
    const opt = new Adam(m.net.parameters(), { lr: 1e-3 });
    opt.zeroGrad();
    m.loss().backward();
    opt.step();
    const used = memoryStats().placedBytes - before;
    const params = m.net.parameters().reduce((n, p) => n + p.size, 0);
    expect(used).toBeGreaterThanOrEqual(4 * 4 * params); // value, gradient, two moments
    m.net.dispose();
    opt.dispose();
    expect(memoryStats().placedBytes).toBe(before);
    expect(() => m.net.forward(m.x)).toThrow(/released by dispose\(\)/);
    expect(() => opt.step()).toThrow(/Adam\.step: the optimizer was disposed/);
    expect(m.net.parameters()[0]!.borrowGrad()).toBeNull();
  });

  it("a leaf root (no graph) gets its seed as gradient, in its own storage", () => {
    const w = A.variable(tensor([1, 2, 3]));
    const seed = tensor([4, 5, 6]);
    w.backward(seed);
    expect(Array.from(w.grad!.toFloat32Array())).toEqual([4, 5, 6]);
    expect(w.grad!.data).not.toBe(seed.data);
  });
});
