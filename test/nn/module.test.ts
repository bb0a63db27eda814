/**
 * @file Module plumbing and the simple layers: parameter naming (PyTorch-compatible), train/eval,
 * state dicts, Linear, Sequential, Dropout, Embedding, LayerNorm, initialisers.
 */
import { describe, expect, it } from "vitest";
import * as A from "@tapegrad/autograd";
import { Rng, Tensor, matmul, randn, tensor, zeros } from "@tapegrad/tensor";
import { Dropout, Embedding, LSTM, LayerNorm, Linear, Module, ReLU, Sequential, StateDictError, init } from "@tapegrad/nn";

class Net extends Module {
  fc1 = this.addModule("fc1", new Linear(4, 8, { rng: new Rng(1) }));
  fc2 = this.addModule("fc2", new Linear(8, 2, { bias: false, rng: new Rng(2) }));
  forward(x: A.VarLike) {
    return this.fc2.forward(A.relu(this.fc1.forward(x)));
  }
}

describe("Module", () => {
  it("names parameters with dotted paths in registration order (PyTorch layout)", () => {
    const net = new Net();
    expect(net.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ["fc1.weight", [8, 4]],
      ["fc1.bias", [8]],
      ["fc2.weight", [2, 8]],
    ]);
    const seq = new Sequential(new Linear(3, 2), new ReLU(), new Linear(2, 1));
    expect(seq.namedParameters().map(([n]) => n)).toEqual(["0.weight", "0.bias", "2.weight", "2.bias"]);
  });
  it("train()/eval() propagate to children", () => {
    const seq = new Sequential(new Linear(3, 2), new Dropout(0.5));
    seq.eval();
    expect(seq.layers.every((l) => !l.training)).toBe(true);
    seq.train();
    expect(seq.layers.every((l) => l.training)).toBe(true);
  });
  it("stateDict round-trips and loads in place", () => {
    const a = new Net();
    const b = new Net();
    b.fc1.weight.value.data.fill(0);
    const w = b.fc1.weight;
    b.loadStateDict(a.stateDict());
    expect(b.fc1.weight).toBe(w); // same Var, value copied in place
    expect(Array.from(b.fc1.weight.value.data)).toEqual(Array.from(a.fc1.weight.value.data));
    const sd = a.stateDict();
    sd["fc1.weight"]!.data[0] = 123; // a copy: the model is unchanged
    expect(a.fc1.weight.value.data[0]).not.toBe(123);
  });
  it("loadStateDict reports missing/unexpected keys and shape mismatches", () => {
    const net = new Net();
    const sd = net.stateDict();
    delete sd["fc2.weight"];
    sd["extra"] = zeros([1]);
    expect(() => net.loadStateDict(sd)).toThrow(/loadStateDict: Error\(s\) in loading state_dict for \w+:\n\tMissing key\(s\) in state_dict: "fc2.weight"\.\n\tUnexpected key\(s\) in state_dict: "extra"\./);
    expect(() => net.loadStateDict(sd, { strict: false })).not.toThrow();
    expect(() => net.loadStateDict({ ...net.stateDict(), "fc1.bias": zeros([9]) })).toThrow(/size mismatch for fc1.bias: copying a param with shape \[9\] from checkpoint, the shape in current model is \[8\]\./);
  });
  it("loads PyTorch's key names and reports every problem at once, as load_state_dict does", () => {
    class Tagger extends Module {
      readonly rnn = this.addModule("rnn", new LSTM(3, 4, { numLayers: 2 }));
      readonly head = this.addModule("head", new Sequential(new Linear(4, 5), new ReLU(), new Linear(5, 2)));
      forward() { return null; }
    }
    const m = new Tagger();
    // the keys torch.nn.LSTM(3, 4, num_layers=2) and nn.Sequential(Linear, ReLU, Linear) have
    const torchKeys = [0, 1].flatMap((l) => ["weight_ih", "weight_hh", "bias_ih", "bias_hh"].map((w) => `rnn.${w}_l${l}`)).concat(["head.0.weight", "head.0.bias", "head.2.weight", "head.2.bias"]);
    expect(Object.keys(m.stateDict()).sort()).toEqual(torchKeys.sort());
    const sd = m.stateDict();
    const loaded = Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, v.clone()]));
    loaded["head.2.bias"]!.data.fill(0.25);
    expect(m.loadStateDict(loaded)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(Array.from(m.head.layers[2]!.getParameter("bias")!.value.toFloat32Array())).toEqual([0.25, 0.25]);
    const bad = { ...loaded, "rnn.weight_ih_l0": zeros([16, 5]), "head.0.bias": zeros([4]), "head.9.weight": zeros([1]) };
    delete (bad as Record<string, unknown>)["rnn.bias_hh_l1"];
    let err: unknown;
    try {
      m.loadStateDict(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateDictError);
    const e = err as StateDictError;
    expect(e.missingKeys).toEqual(["rnn.bias_hh_l1"]);
    expect(e.unexpectedKeys).toEqual(["head.9.weight"]);
    expect(e.sizeMismatches).toEqual([{ key: "rnn.weight_ih_l0", checkpoint: [16, 5], model: [16, 3] }, { key: "head.0.bias", checkpoint: [4], model: [5] }]);
    expect(e.message).toBe(
      "loadStateDict: Error(s) in loading state_dict for Tagger:\n" +
        '\tMissing key(s) in state_dict: "rnn.bias_hh_l1".\n' +
        '\tUnexpected key(s) in state_dict: "head.9.weight".\n' +
        "\tsize mismatch for rnn.weight_ih_l0: copying a param with shape [16,5] from checkpoint, the shape in current model is [16,3].\n" +
        "\tsize mismatch for head.0.bias: copying a param with shape [4] from checkpoint, the shape in current model is [5].",
    );
    // non-strict: keys are reported, size mismatches still refused, nothing written
    expect(() => m.loadStateDict(bad, { strict: false })).toThrow(/size mismatch for rnn.weight_ih_l0/);
    expect(Array.from(m.head.layers[2]!.getParameter("bias")!.value.toFloat32Array())).toEqual([0.25, 0.25]);
  });
  it("rejects duplicate or dotted names", () => {
    class Bad extends Module {
      a = this.addModule("a", new Linear(1, 1));
      forward() { return null; }
      again() { this.addModule("a", new Linear(1, 1)); }
    }
    expect(() => new Bad().again()).toThrow(/"a" is already registered/);
  });
});

describe("Linear", () => {
  it("computes x Wᵀ + b and initialises within ±1/√in", () => {
    const fc = new Linear(5, 3, { rng: new Rng(0) });
    const bound = 1 / Math.sqrt(5);
    for (const p of fc.parameters()) for (const v of p.value.data) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
    const x = randn([4, 5], new Rng(1));
    const y = fc.forward(x).value;
    const ref = matmul(x, fc.weight.value.mT);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) expect(y.get(i, j)).toBeCloseTo(ref.get(i, j) + fc.bias!.value.get(j), 5);
  });
  it("gives the same initial weights for the same seed", () => {
    expect(Array.from(new Linear(4, 4, { rng: new Rng(9) }).weight.value.data)).toEqual(Array.from(new Linear(4, 4, { rng: new Rng(9) }).weight.value.data));
  });
  it("rejects bad sizes and inputs", () => {
    expect(() => new Linear(0, 3)).toThrow(/Linear: sizes must be positive integers \(got 0, 3\)/);
    expect(() => new Linear(4, 2).forward(zeros([3, 5]))).toThrow(/linear: x's last dimension must equal weight's in-features \(its last dimension\) \(got \[3,5\] and \[2,4\]\)/);
  });
});

describe("Dropout", () => {
  it("drops about p of the elements, rescales the rest, and is the identity in eval mode", () => {
    const d = new Dropout(0.25, { rng: new Rng(3) });
    const y = d.forward(tensor(new Array(10000).fill(1), [10000])).value.data;
    const kept = y.filter((v) => v !== 0);
    expect(kept.length / 10000).toBeCloseTo(0.75, 1);
    expect(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
    d.eval();
    expect(Array.from(d.forward(tensor([1, 2])).value.data)).toEqual([1, 2]);
  });
  it("is reproducible for a seed", () => {
    const a = new Dropout(0.5, { rng: new Rng(4) }).forward(tensor(new Array(64).fill(1), [64])).value.data;
    const b = new Dropout(0.5, { rng: new Rng(4) }).forward(tensor(new Array(64).fill(1), [64])).value.data;
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

describe("Embedding and LayerNorm", () => {
  it("Embedding looks up rows and accumulates gradients for repeated indices", () => {
    const e = new Embedding(5, 2, { rng: new Rng(0) });
    const out = e.forward(tensor([[1, 3], [1, 1]]));
    expect(out.shape).toEqual([2, 2, 2]);
    expect(out.value.get(1, 1, 0)).toBe(e.weight.value.get(1, 0));
    A.sum(out).backward();
    expect(Array.from(e.weight.grad!.data)).toEqual([0, 0, 3, 3, 0, 0, 1, 1, 0, 0]);
    expect(() => e.forward([5])).toThrow(/embedding: index 5 at position 0 is out of range for 5 embeddings/);
  });
  it("LayerNorm normalises the trailing dims (population variance) and is differentiable", () => {
    const ln = new LayerNorm(4);
    const x = tensor([[1, 2, 3, 4], [2, 2, 2, 6]]);
    const y = ln.forward(x).value;
    const mean = 2.5, varPop = 1.25;
    expect(y.get(0, 0)).toBeCloseTo((1 - mean) / Math.sqrt(varPop + 1e-5), 5);
    for (let r = 0; r < 2; r++) {
      let s = 0;
      for (let c = 0; c < 4; c++) s += y.get(r, c);
      expect(s).toBeCloseTo(0, 5);
    }
    const res = A.gradcheck((v, g, b) => A.layerNorm(v!, [4], g!, b!), [randn([3, 4], new Rng(5)), randn([4], new Rng(6)), randn([4], new Rng(7))]);
    expect(res.ok).toBe(true);
  });
});

describe("initialisers", () => {
  const rng = new Rng(11);
  it("xavierUniform bound and fans", () => {
    expect(init.fans([256, 784])).toEqual([784, 256]);
    expect(init.fans([8, 3, 5, 5])).toEqual([75, 200]);
    const a = Math.sqrt(6 / (784 + 256));
    const w = init.xavierUniform([256, 784], { rng });
    const m = w.data.reduce((acc, v) => Math.max(acc, Math.abs(v)), 0);
    expect(m).toBeLessThanOrEqual(a);
    expect(m).toBeGreaterThan(0.99 * a);
  });
  it("kaimingNormal has std gain/√fanIn", () => {
    const w = init.kaimingNormal([200, 500], { nonlinearity: "relu", rng }).data;
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeCloseTo(Math.SQRT2 / Math.sqrt(500), 2);
  });
  it("orthogonal gives orthonormal rows (wide) or columns (tall), scaled by gain", () => {
    for (const [r, c] of [[6, 6], [8, 3], [3, 8]] as const) {
      const q = new Tensor(init.orthogonal([r, c], { rng, gain: 2 }).data, [r, c]);
      const g = r >= c ? matmul(q.mT, q) : matmul(q, q.mT);
      const k = Math.min(r, c);
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) expect(g.get(i, j)).toBeCloseTo(i === j ? 4 : 0, 4);
    }
  });
  it("calculateGain follows PyTorch's table", () => {
    expect(init.calculateGain("tanh")).toBeCloseTo(5 / 3);
    expect(init.calculateGain("leaky_relu", 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04));
    expect(() => init.fans([3])).toThrow(/fans: fan in and fan out need a weight with at least 2 dimensions \(got \[3\]\)/);
  });
});
