/**
 * @file RNN, LSTM and GRU against a float64 step-by-step reference written from PyTorch's
 * equations, plus gradchecks and shape errors.
 */
import { describe, expect, it } from "vitest";
import * as A from "@tapegrad/autograd";
import { Rng, Tensor, randn, tensor } from "@tapegrad/tensor";
import { GRU, LSTM, RNN } from "@tapegrad/nn";

const sig = (v: number) => 1 / (1 + Math.exp(-v));
/** (W[row] · v) + b[row] in float64. */
function affine(w: Tensor, b: Tensor, v: number[], row: number): number {
  let s = b.data[row]!;
  for (let k = 0; k < v.length; k++) s += w.get(row, k) * v[k]!;
  return s;
}

function reference(kind: "rnn" | "lstm" | "gru", params: Record<string, Tensor>, x: Tensor, H: number): number[][] {
  const [T, B] = x.shape as [number, number, number];
  const out: number[][] = [];
  const wih = params.weight_ih_l0!, whh = params.weight_hh_l0!, bih = params.bias_ih_l0!, bhh = params.bias_hh_l0!;
  for (let b = 0; b < B; b++) {
    let h = new Array(H).fill(0), c = new Array(H).fill(0);
    for (let t = 0; t < T; t++) {
      const xt = Array.from({ length: x.shape[2]! }, (_, k) => x.get(t, b, k));
      const gi = (r: number) => affine(wih, bih, xt, r);
      const gh = (r: number) => affine(whh, bhh, h, r);
      const nh = new Array(H), nc = new Array(H);
      for (let j = 0; j < H; j++) {
        if (kind === "rnn") nh[j] = Math.tanh(gi(j) + gh(j));
        else if (kind === "lstm") {
          const i = sig(gi(j) + gh(j)), f = sig(gi(H + j) + gh(H + j)), g = Math.tanh(gi(2 * H + j) + gh(2 * H + j)), o = sig(gi(3 * H + j) + gh(3 * H + j));
          nc[j] = f * c[j] + i * g;
          nh[j] = o * Math.tanh(nc[j]);
        } else {
          const r = sig(gi(j) + gh(j)), z = sig(gi(H + j) + gh(H + j));
          const n = Math.tanh(gi(2 * H + j) + r * gh(2 * H + j));
          nh[j] = (1 - z) * n + z * h[j];
        }
      }
      h = nh;
      c = nc;
    }
    out.push(h);
  }
  return out;
}

describe.each(["rnn", "lstm", "gru"] as const)("%s", (kind) => {
  const H = 5, I = 3, T = 4, B = 2;
  const make = () => (kind === "rnn" ? new RNN(I, H, { rng: new Rng(1) }) : kind === "lstm" ? new LSTM(I, H, { rng: new Rng(1) }) : new GRU(I, H, { rng: new Rng(1) }));
  it("matches the PyTorch equations (float64 reference) and uses PyTorch's parameter names", () => {
    const m = make();
    const g = kind === "rnn" ? 1 : kind === "lstm" ? 4 : 3;
    expect(m.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ["weight_ih_l0", [g * H, I]], ["weight_hh_l0", [g * H, H]], ["bias_ih_l0", [g * H]], ["bias_hh_l0", [g * H]],
    ]);
    const x = randn([T, B, I], new Rng(2));
    const res = m.forward(x);
    expect(res.output.shape).toEqual([T, B, H]);
    expect(res.h.shape).toEqual([1, B, H]);
    const ref = reference(kind, m.stateDict(), x, H);
    for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) {
      expect(res.h.value.get(0, b, j)).toBeCloseTo(ref[b]![j]!, 5);
      expect(res.output.value.get(T - 1, b, j)).toBeCloseTo(ref[b]![j]!, 5);
    }
  });
  it("passes gradcheck through time (input and all weights)", () => {
    const m = make();
    const params = m.parameters();
    const x = randn([3, 2, I], new Rng(3));
    const res = A.gradcheck((xv) => A.sum(m.forward(xv!).output), [x]);
    expect(res.ok).toBe(true);
    // weights: compare autograd with central differences on a few entries of each parameter
    const loss = () => A.noGrad(() => A.sum(A.mul(m.forward(x).output, m.forward(x).output)).item());
    m.zeroGrad();
    A.sum(A.mul(m.forward(x).output, m.forward(x).output)).backward();
    for (const p of params) {
      for (const k of [0, Math.floor(p.size / 2), p.size - 1]) {
        const v0 = p.value.data[k]!;
        p.value.data[k] = v0 + 1e-3;
        const up = loss();
        p.value.data[k] = v0 - 1e-3;
        const dn = loss();
        p.value.data[k] = v0;
        expect(p.grad!.data[k]!).toBeCloseTo((up - dn) / 2e-3, 2);
      }
    }
  });
  it("supports batchFirst, an initial state and several layers", () => {
    const m = kind === "lstm" ? new LSTM(I, H, { numLayers: 2, batchFirst: true, rng: new Rng(5) }) : kind === "gru" ? new GRU(I, H, { numLayers: 2, batchFirst: true, rng: new Rng(5) }) : new RNN(I, H, { numLayers: 2, batchFirst: true, rng: new Rng(5) });
    const x = randn([B, T, I], new Rng(6));
    const res = kind === "lstm" ? (m as LSTM).forward(x, { h0: randn([2, B, H], new Rng(7)), c0: randn([2, B, H], new Rng(8)) }) : (m as RNN).forward(x, randn([2, B, H], new Rng(7)));
    expect(res.output.shape).toEqual([B, T, H]);
    expect(res.h.shape).toEqual([2, B, H]);
    expect(m.namedParameters().length).toBe(8);
    expect(() => (m as RNN).forward(randn([T, B, I + 1]))).toThrow(new RegExp(`${kind}: input must be \\[B, T, in\\] with in = ${I} \\(got \\[4,2,4\\]\\)`));
  });
});

describe("recurrent layers reject bad options and inputs with clear errors", () => {
  it("numLayers, dropout, nonlinearity, input rank", () => {
    expect(() => new RNN(4, 8, { numLayers: 0 })).toThrow(/RNN: numLayers must be an integer >= 1 \(got 0\)/);
    expect(() => new LSTM(4, 8, { numLayers: 1.5 })).toThrow(/LSTM: numLayers must be an integer >= 1 \(got 1.5\)/);
    expect(() => new GRU(4, 8, { dropout: -0.1 })).toThrow(/GRU: dropout must be in \[0, 1\) \(got -0.1\)/);
    expect(() => new GRU(4, 8, { dropout: 1 })).toThrow(/dropout must be in \[0, 1\)/);
    expect(() => new RNN(4, 8, { nonlinearity: "sigmoid" as "tanh" })).toThrow(/RNN: nonlinearity must be "tanh" or "relu" \(got "sigmoid"\)/);
    expect(() => new LSTM(4, 8).forward(tensor([1, 2, 3, 4]))).toThrow(/lstm: input must be \[T, B, in\] with in = 4 \(got \[4\]\)/);
  });
});

describe("recurrent layers run batch-major internally", () => {
  /** Every node recorded under `out` (walks `node.inputs` before any backward releases them). */
  function nodes(out: A.Var): A.Node[] {
    const seen = new Set<A.Node>(), todo = [out.node!];
    while (todo.length > 0) {
      const n = todo.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      for (const v of n.inputs) if (v?.node) todo.push(v.node);
    }
    return [...seen];
  }
  const I = 3, H = 5, B = 3, T = 4;
  it.each([false, true])("the input projection's rows are sample-major (batchFirst %s)", (batchFirst) => {
    const m = new LSTM(I, H, { batchFirst, rng: new Rng(1) }).train();
    const xbf = randn([B, T, I], new Rng(2)); // sample-major reference layout
    const x = batchFirst ? xbf : xbf.transpose(0, 1).contiguous();
    const out = m.forward(x).output;
    const wih = m.namedParameters().find(([n]) => n === "weight_ih_l0")![1];
    const proj = nodes(out).filter((n) => n.op === "linear" && n.xs![1] === wih.value);
    expect(proj.length).toBe(1);
    const rows = proj[0]!.xs![0]!;
    expect(rows.shape).toEqual([B * T, I]);
    // row r belongs to sample ⌊r / T⌋ (time step r mod T)
    expect(Array.from(rows.toFloat32Array())).toEqual(Array.from(xbf.reshape(B * T, I).toFloat32Array()));
    // every other linear (the per-step h·W_hhᵀ) has one row per sample
    for (const n of nodes(out)) if (n.op === "linear" && n !== proj[0]) expect(n.xs![0]!.shape).toEqual([B, H]);
  });
  it("per-sample gradients (each sample alone) sum to the batch gradient", () => {
    const m = new LSTM(I, H, { batchFirst: true, rng: new Rng(1) });
    const x = randn([B, T, I], new Rng(2));
    const params = m.parameters();
    const sum = params.map((p) => new Float64Array(p.size));
    for (let b = 0; b < B; b++) {
      m.zeroGrad();
      A.sum(m.forward(x.select(0, b).unsqueeze(0)).output).backward();
      params.forEach((p, i) => p.grad!.toFloat32Array().forEach((g, k) => (sum[i]![k]! += g)));
    }
    m.zeroGrad();
    A.sum(m.forward(x).output).backward();
    params.forEach((p, i) => p.grad!.toFloat32Array().forEach((g, k) => expect(g).toBeCloseTo(sum[i]![k]!, 4)));
  });
});
