/**
 * @file Pruning on modules: the reparametrization (names, same Var, buffers, state dicts, remove),
 * training with pruned weights (SGD momentum + weight decay, Adam with state from before pruning)
 * keeping pruned effective weights exactly 0, layers reading `this.weight` (Linear, fused
 * Linear+ReLU in Sequential, RNN), bad inputs, seeded random pruning, sparsity report.
 */
import { describe, expect, it } from "vitest";
import * as A from "@tapegrad/autograd";
import { Rng, Tensor, randn, tensor, zeros } from "@tapegrad/tensor";
import { Embedding, LSTM, Linear, Module, ReLU, RNN, Sequential, crossEntropy, getParametrization, isParametrized, registerParametrization, removeParametrization } from "@tapegrad/nn";
import { Adam, SGD } from "@tapegrad/optim";
import {
  customFromMask,
  globalUnstructured,
  identity,
  isPruned,
  l1Unstructured,
  l1UnstructuredMask,
  lnStructured,
  pruneMask,
  randomUnstructured,
  remove,
  sparsityReport,
} from "@tapegrad/compress";

const arr = (t: Tensor) => Array.from(t.toFloat32Array());
const zerosOf = (m: Tensor) => arr(m).filter((v) => v === 0).length;

describe("pruning reparametrization", () => {
  it("moves weight to weight_orig (same Var), adds the weight_mask buffer, PyTorch state-dict keys", () => {
    const fc = new Linear(4, 3, { rng: new Rng(1) });
    const w = fc.weight;
    const before = arr(w.value);
    l1Unstructured(fc, "weight", 0.5);
    expect(fc.namedParameters().map(([n]) => n)).toEqual(["bias", "weight_orig"]);
    expect(fc.getParameter("weight_orig")).toBe(w);
    expect(fc.parameters()).toContain(w);
    expect(fc.namedBuffers().map(([n]) => n)).toEqual(["weight_mask"]);
    expect(Object.keys(fc.stateDict())).toEqual(["bias", "weight_orig", "weight_mask"]);
    expect(isPruned(fc)).toBe(true);
    expect(isParametrized(fc, "weight", "prune")).toBe(true);
    // the original is untouched; the effective weight is orig * mask
    expect(arr(w.value)).toEqual(before);
    const mask = arr(fc.getBuffer("weight_mask")!);
    expect(mask.filter((v) => v === 0).length).toBe(6);
    expect(arr(fc.weight.value)).toEqual(before.map((v, i) => v * mask[i]!));
    // the six smallest magnitudes are the pruned ones
    const order = before.map((v, i) => [Math.abs(v), i] as const).sort((a, b) => a[0] - b[0]);
    expect(order.slice(0, 6).every(([, i]) => mask[i] === 0)).toBe(true);
    // a fresh autograd node at each access
    expect(fc.weight).not.toBe(fc.weight);
    expect(fc.weight.isLeaf).toBe(false);
  });

  it("stateDict / loadStateDict carry the mask (loaded in place) and reject a wrong mask shape", () => {
    const a = l1Unstructured(new Linear(4, 3, { rng: new Rng(2) }), "weight", 0.25);
    const b = l1Unstructured(new Linear(4, 3, { rng: new Rng(3) }), "weight", 0.75);
    const maskB = b.getBuffer("weight_mask")!;
    b.loadStateDict(a.stateDict());
    expect(b.getBuffer("weight_mask")).toBe(maskB);
    expect(arr(maskB)).toEqual(arr(a.getBuffer("weight_mask")!));
    expect(arr(b.weight.value)).toEqual(arr(a.weight.value));
    const sd = a.stateDict();
    sd.weight_mask = zeros([3, 3]);
    expect(() => b.loadStateDict(sd)).toThrow(/size mismatch for weight_mask/);
    expect(() => b.loadStateDict({ bias: sd.bias!, weight_orig: sd.weight_orig! })).toThrow(/Missing key\(s\) in state_dict: "weight_mask"/);
  });

  it("remove() bakes orig * mask into the same Var and restores a plain parameter", () => {
    const fc = new Linear(5, 4, { rng: new Rng(4) });
    const w = fc.weight;
    lnStructured(fc, "weight", 0.5, 2, 0);
    const effective = arr(fc.weight.value);
    remove(fc, "weight");
    expect(fc.weight).toBe(w);
    expect(arr(w.value)).toEqual(effective);
    expect(zerosOf(w.value)).toBe(10);
    expect(fc.namedParameters().map(([n]) => n)).toEqual(["bias", "weight"]);
    expect(fc.namedBuffers()).toEqual([]);
    expect(Object.keys(fc.stateDict())).toEqual(["bias", "weight"]);
    expect(isPruned(fc)).toBe(false);
    expect(getParametrization(fc, "weight")).toBeUndefined();
    expect(() => remove(fc, "weight")).toThrow("remove: Parameter 'weight' of module Linear has to be pruned before pruning can be removed");
  });

  it("repeated pruning applies the new amount to the remaining entries (container rule)", () => {
    const fc = new Linear(5, 4, { rng: new Rng(5) }); // 20 weights
    l1Unstructured(fc, "weight", 0.3); // 6
    l1Unstructured(fc, "weight", 0.5); // round(0.5 * 14) = 7 more
    expect(zerosOf(pruneMask(fc, "weight")!)).toBe(13);
    l1Unstructured(fc, "weight", { count: 7 }); // all of the rest
    expect(zerosOf(pruneMask(fc, "weight")!)).toBe(20);
    expect(() => l1Unstructured(fc, "weight", { count: 1 })).toThrow("l1Unstructured: amount=1 should be smaller than the number of parameters to prune=0");
  });

  it("ties prune the lower index first; NaN magnitudes are pruned last", () => {
    const scores = Float32Array.of(1, -2, 1, 1, 2, NaN, 0.5);
    expect(Array.from(l1UnstructuredMask(scores, null, { count: 3 }))).toEqual([0, 1, 0, 1, 1, 1, 0]);
    expect(Array.from(l1UnstructuredMask(scores, null, { count: 7 }))).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(l1UnstructuredMask(scores, null, { count: 6 }))).toEqual([0, 0, 0, 0, 0, 1, 0]);
  });

  it("prunes 0-d and empty parameters like torch", () => {
    class P extends Module {
      constructor(v: Tensor) {
        super();
        (this as unknown as { weight: A.Var }).weight = this.addParameter("weight", v);
      }
      forward(): never {
        throw new Error("none");
      }
    }
    const s = l1Unstructured(new P(tensor(3)), "weight", 1.0);
    expect(pruneMask(s, "weight")!.shape).toEqual([]);
    expect(arr(pruneMask(s, "weight")!)).toEqual([0]);
    const half = l1Unstructured(new P(tensor(3)), "weight", 0.5); // round(0.5) = 0
    expect(arr(pruneMask(half, "weight")!)).toEqual([1]);
    const e = l1Unstructured(new P(zeros([0, 3])), "weight", 0.5);
    expect(pruneMask(e, "weight")!.shape).toEqual([0, 3]);
    expect(() => l1Unstructured(new P(zeros([0, 3])), "weight", { count: 1 })).toThrow("amount=1 should be smaller than the number of parameters to prune=0");
    expect(() => lnStructured(new P(tensor(3)), "weight", 0.5, 2, 0)).toThrow("lnStructured: Structured pruning can only be applied to multidimensional tensors. Found tensor of shape [] with 0 dims");
  });
});

describe("training with pruned weights", () => {
  function data(seed: number): { x: Tensor; y: Int32Array } {
    const rng = new Rng(seed);
    return { x: randn([16, 6], rng), y: Int32Array.from({ length: 16 }, (_, i) => i % 3) };
  }

  function trainAndCheck(model: Sequential, makeOpt: () => { step(): void; zeroGrad(): void }, prunedLayers: Linear[], steps: number): void {
    const opt = makeOpt();
    const { x, y } = data(11);
    const masks = prunedLayers.map((l) => arr(pruneMask(l, "weight")!));
    const start = prunedLayers.map((l) => arr(l.getParameter("weight_orig")!.value));
    for (let s = 0; s < steps; s++) {
      opt.zeroGrad();
      const loss = crossEntropy(model.forward(A.constant(x)), y);
      loss.backward();
      prunedLayers.forEach((l, k) => {
        const g = arr(l.getParameter("weight_orig")!.grad!);
        masks[k]!.forEach((m, i) => {
          if (m === 0) expect(Math.abs(g[i]!)).toBe(0); // masked gradient (+0 or -0)
        });
      });
      opt.step();
      prunedLayers.forEach((l, k) => {
        const eff = arr(l.weight.value);
        masks[k]!.forEach((m, i) => {
          if (m === 0 && eff[i] !== 0) throw new Error(`step ${s}: pruned weight ${i} revived to ${eff[i]}`);
        });
      });
    }
    // the kept weights did train
    prunedLayers.forEach((l, k) => {
      const now = arr(l.getParameter("weight_orig")!.value);
      expect(now.some((v, i) => masks[k]![i] === 1 && v !== start[k]![i])).toBe(true);
    });
  }

  it("SGD with momentum and weight decay keeps pruned effective weights exactly 0 (fused Linear+ReLU path)", () => {
    const fc1 = new Linear(6, 8, { rng: new Rng(1) }), fc2 = new Linear(8, 3, { rng: new Rng(2) });
    const model = new Sequential(fc1, new ReLU(), fc2);
    const opt = () => new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    l1Unstructured(fc1, "weight", 0.6);
    lnStructured(fc2, "weight", 0.5, 1, 1);
    trainAndCheck(model, opt, [fc1, fc2], 15);
  });

  it("Adam built (and stepped) before pruning keeps pruned effective weights exactly 0", () => {
    const fc1 = new Linear(6, 8, { rng: new Rng(3) }), fc2 = new Linear(8, 3, { rng: new Rng(4) });
    const model = new Sequential(fc1, new ReLU(), fc2);
    const opt = new Adam(model.parameters(), { lr: 0.05, weightDecay: 0.01 });
    const { x, y } = data(5);
    for (let s = 0; s < 3; s++) {
      opt.zeroGrad();
      crossEntropy(model.forward(A.constant(x)), y).backward();
      opt.step(); // moment estimates for every weight, pruned ones included
    }
    globalUnstructured([[fc1, "weight"], [fc2, "weight"]], 0.7);
    trainAndCheck(model, () => opt, [fc1, fc2], 15);
  });

  it("the forward of Sequential (fused Linear+ReLU) and RNN use the effective weights", () => {
    const fc1 = new Linear(6, 5, { rng: new Rng(6) }), fc2 = new Linear(5, 2, { rng: new Rng(7) });
    const model = new Sequential(fc1, new ReLU(), fc2);
    l1Unstructured(fc1, "weight", 0.5);
    const x = randn([4, 6], new Rng(8));
    const plain = new Sequential(new Linear(6, 5), new ReLU(), new Linear(5, 2));
    plain.loadStateDict({ "0.weight": fc1.weight.value, "0.bias": fc1.bias!.value, "2.weight": fc2.weight.value, "2.bias": fc2.bias!.value });
    expect(arr(model.forward(A.constant(x)).value)).toEqual(arr(plain.forward(A.constant(x)).value));

    const rnn = new RNN(3, 4, { rng: new Rng(9) });
    l1Unstructured(rnn, "weight_hh_l0", 0.5);
    l1Unstructured(rnn, "weight_ih_l0", { count: 4 });
    expect(rnn.namedParameters().map(([n]) => n)).toEqual(["bias_ih_l0", "bias_hh_l0", "weight_hh_l0_orig", "weight_ih_l0_orig"]);
    const ref = new RNN(3, 4);
    const sd = rnn.stateDict();
    ref.loadStateDict({
      weight_ih_l0: (rnn as unknown as Record<string, A.Var>).weight_ih_l0!.value,
      weight_hh_l0: (rnn as unknown as Record<string, A.Var>).weight_hh_l0!.value,
      bias_ih_l0: sd.bias_ih_l0!,
      bias_hh_l0: sd.bias_hh_l0!,
    });
    const seq = randn([5, 2, 3], new Rng(10));
    const out = rnn.forward(A.constant(seq)).output;
    expect(arr(out.value)).toEqual(arr(ref.forward(A.constant(seq)).output.value));
    // the hidden-to-hidden gradient is masked too
    A.sum(out).backward();
    const g = arr(rnn.getParameter("weight_hh_l0_orig")!.grad!);
    const m = arr(pruneMask(rnn, "weight_hh_l0")!);
    expect(m.filter((v) => v === 0).length).toBe(8);
    m.forEach((v, i) => v === 0 && expect(Math.abs(g[i]!)).toBe(0));
    expect(g.some((v, i) => m[i] === 1 && v !== 0)).toBe(true);
  });
});

describe("bad input", () => {
  const fc = () => new Linear(3, 2, { rng: new Rng(0) });
  it("names the function and the value; a failed call changes nothing", () => {
    const m = fc();
    expect(() => l1Unstructured(m, "weight", 1.5)).toThrow("l1Unstructured: amount=1.5 should either be a float in the range [0, 1] or a non-negative integer");
    expect(() => l1Unstructured(m, "weight", -0.1)).toThrow("amount=-0.1 should either");
    expect(() => l1Unstructured(m, "weight", 5)).toThrow("write { count: 5 } for a count");
    expect(() => l1Unstructured(m, "weight", NaN)).toThrow("amount=nan");
    expect(() => l1Unstructured(m, "weight", { count: -1 })).toThrow("amount=-1 should either");
    expect(() => l1Unstructured(m, "weight", { count: 2.5 })).toThrow("amount=2.5 should either");
    expect(() => l1Unstructured(m, "weight", { count: 7 })).toThrow("l1Unstructured: amount=7 should be smaller than the number of parameters to prune=6");
    expect(() => l1Unstructured(m, "weights", 0.5)).toThrow('l1Unstructured: Linear has no parameter "weights" (has ["weight","bias"])');
    expect(() => l1Unstructured(m, "weight", 0.5, { importanceScores: zeros([3, 2]) })).toThrow("l1Unstructured: importance_scores should have the same shape as parameter \"weight\" of Linear: [2,3] (got [3,2])");
    expect(() => lnStructured(m, "bias", 0.5, 2, 0)).toThrow("lnStructured: Structured pruning can only be applied to multidimensional tensors. Found tensor of shape [2] with 1 dims");
    expect(() => lnStructured(m, "weight", 0.5, 2, 2)).toThrow("lnStructured: Invalid index 2 for tensor of size [2,3]");
    expect(() => lnStructured(m, "weight", 0.5, 2, -3)).toThrow("lnStructured: Invalid index -3");
    expect(() => lnStructured(m, "weight", 0.5, NaN, 0)).toThrow("lnStructured: n must be a number");
    expect(() => lnStructured(m, "weight", { count: 3 }, 2, 0)).toThrow("lnStructured: amount=3 should be smaller than the number of parameters to prune=2");
    expect(() => customFromMask(m, "weight", [1, 0, 2, 1, 1, 1])).toThrow("customFromMask: mask values must be 0 or 1 (got 2 at index 2)");
    expect(() => customFromMask(m, "weight", tensor([1, 0]))).toThrow("customFromMask: mask shape [2] differs from parameter \"weight\" [2,3]");
    expect(() => globalUnstructured([[m, "weight"], [m, "weight"]], 0.5)).toThrow('globalUnstructured: parameter "weight" is listed twice');
    expect(() => globalUnstructured([[m, "weight"], [m, "bias"]], { count: 9 })).toThrow("globalUnstructured: amount=9 should be smaller than the number of parameters to prune=8");
    expect(() => remove(m, "weight")).toThrow("remove: Parameter 'weight' of module Linear has to be pruned");
    expect(isPruned(m)).toBe(false);
    expect(m.namedParameters().map(([n]) => n)).toEqual(["weight", "bias"]);
  });

  it("never mutates the user's importance scores or mask; a parametrized weight cannot be assigned", () => {
    const m = fc();
    const scores = tensor([[3, 1, 2], [6, 5, 4]]);
    l1Unstructured(m, "weight", { count: 2 }, { importanceScores: scores });
    expect(scores.toArray()).toEqual([[3, 1, 2], [6, 5, 4]]);
    expect(arr(pruneMask(m, "weight")!)).toEqual([1, 0, 0, 1, 1, 1]);
    const mask = tensor([[1, 1, 1], [0, 1, 1]]);
    customFromMask(m, "weight", mask);
    expect(mask.toArray()).toEqual([[1, 1, 1], [0, 1, 1]]);
    expect(arr(pruneMask(m, "weight")!)).toEqual([1, 0, 0, 0, 1, 1]);
    expect(() => {
      (m as unknown as { weight: unknown }).weight = null;
    }).toThrow(/Linear.weight is parametrized/);
    identity(m, "weight");
    expect(arr(pruneMask(m, "weight")!)).toEqual([1, 0, 0, 0, 1, 1]);
  });
});

describe("parametrizations (nn)", () => {
  it("a general parametrization: same Var, buffers by suffix, removal with or without baking", () => {
    const fc = new Linear(2, 2, { rng: new Rng(1) });
    const w = fc.weight;
    const orig = arr(w.value);
    const p = registerParametrization(fc, "weight", { kind: "scale", buffers: { factor: tensor([[2, 2], [2, 2]]) }, compute: (o, b) => A.mul(o, A.constant(b.factor!)) });
    expect(p.original).toBe(w);
    expect(fc.namedParameters().map(([n]) => n)).toEqual(["bias", "weight_orig"]);
    expect(Object.keys(fc.stateDict())).toEqual(["bias", "weight_orig", "weight_factor"]);
    expect(arr(fc.weight.value)).toEqual(orig.map((v) => 2 * v));
    expect(() => registerParametrization(fc, "weight", p as never)).toThrow('registerParametrization: "weight" of Linear is already parametrized (kind "scale")');
    expect(() => registerParametrization(fc, "nope", { kind: "x", compute: (o) => o })).toThrow('registerParametrization: Linear has no parameter "nope"');
    // pruning refuses a parameter parametrized by something else
    expect(() => l1Unstructured(fc, "weight", 0.5)).toThrow('l1Unstructured: "weight" of Linear is parametrized by "scale", not pruning');
    expect(removeParametrization(fc, "weight", { leaveParametrized: false })).toBe(w);
    expect(arr(fc.weight.value)).toEqual(orig);
    expect(fc.weight).toBe(w);
    registerParametrization(fc, "weight", { kind: "scale", buffers: { factor: tensor([[3, 3], [3, 3]]) }, compute: (o, b) => A.mul(o, A.constant(b.factor!)) });
    removeParametrization(fc, "weight");
    expect(arr(fc.weight.value)).toEqual(orig.map((v) => Math.fround(3 * v)));
    expect(() => removeParametrization(fc, "weight")).toThrow('removeParametrization: "weight" of Linear is not parametrized');
  });

  it("Embedding and LSTM weights can be pruned and their forward uses the mask", () => {
    const emb = l1Unstructured(new Embedding(5, 3, { rng: new Rng(2) }), "weight", 0.4);
    const mask = arr(pruneMask(emb, "weight")!);
    const out = arr(emb.forward([0, 1, 2, 3, 4]).value);
    expect(out.map((v, i) => (mask[i] === 0 ? v === 0 : true)).every(Boolean)).toBe(true);
    expect(zerosOf(emb.forward([0, 1, 2, 3, 4]).value)).toBe(6);
    const lstm = lnStructured(new LSTM(3, 2, { rng: new Rng(3) }), "weight_ih_l0", 0.5, 2, 0); // 4 of the 8 gate rows
    const before = arr(lstm.forward(A.constant(zeros([2, 1, 3]))).output.value);
    expect(before.length).toBe(4);
    expect(zerosOf(pruneMask(lstm, "weight_ih_l0")!)).toBe(12);
    remove(lstm, "weight_ih_l0");
    expect(arr(lstm.forward(A.constant(zeros([2, 1, 3]))).output.value)).toEqual(before);
  });

  it("a failed call on a pruned parameter leaves its mask as it was", () => {
    const fc = l1Unstructured(new Linear(3, 2, { rng: new Rng(4) }), "weight", { count: 2 });
    const mask = arr(pruneMask(fc, "weight")!);
    expect(() => l1Unstructured(fc, "weight", { count: 5 })).toThrow("amount=5 should be smaller than the number of parameters to prune=4");
    expect(() => lnStructured(fc, "weight", 0.5, 2, 5)).toThrow("Invalid index 5");
    expect(() => globalUnstructured([[fc, "weight"], [fc, "bias"]], { count: 7 })).toThrow("prune=6");
    expect(arr(pruneMask(fc, "weight")!)).toEqual(mask);
    expect(isPruned(fc)).toBe(true);
    expect(fc.getParameter("bias")).toBeDefined();
  });
});

describe("randomUnstructured and the sparsity report", () => {
  it("is reproducible per seed and prunes exactly the count", () => {
    const make = () => new Linear(10, 10, { rng: new Rng(0) });
    const a = randomUnstructured(make(), "weight", 0.37, { rng: new Rng(42) });
    const b = randomUnstructured(make(), "weight", 0.37, { rng: new Rng(42) });
    const c = randomUnstructured(make(), "weight", 0.37, { rng: new Rng(43) });
    expect(arr(pruneMask(a, "weight")!)).toEqual(arr(pruneMask(b, "weight")!));
    expect(arr(pruneMask(a, "weight")!)).not.toEqual(arr(pruneMask(c, "weight")!));
    expect(zerosOf(pruneMask(a, "weight")!)).toBe(37);
    randomUnstructured(a, "weight", 0.5, { rng: new Rng(1) }); // round(0.5 * 63) = 32 more
    expect(zerosOf(pruneMask(a, "weight")!)).toBe(69);
  });

  it("reports per-parameter and global sparsity under user-facing names", () => {
    const fc1 = new Linear(4, 5, { rng: new Rng(1) }), fc2 = new Linear(5, 2, { rng: new Rng(2) });
    const model = new Sequential(fc1, new ReLU(), fc2);
    l1Unstructured(fc1, "weight", 0.5); // 10 of 20
    lnStructured(fc2, "weight", { count: 1 }, 2, 0); // 5 of 10
    const all = sparsityReport(model);
    expect(all.parameters.map((p) => [p.name, p.numel, p.masked, p.pruned])).toEqual([
      ["0.bias", 5, 0, false],
      ["0.weight", 20, 10, true],
      ["2.bias", 2, 0, false],
      ["2.weight", 10, 5, true],
    ]);
    expect(all.global.numel).toBe(37);
    expect(all.global.masked).toBe(15);
    const pruned = sparsityReport(model, { only: "pruned" });
    expect(pruned.parameters.map((p) => p.name)).toEqual(["0.weight", "2.weight"]);
    expect(pruned.global.sparsity).toBe(15 / 30);
    expect(pruned.parameters[0]!.sparsity).toBe(0.5);
  });
});
