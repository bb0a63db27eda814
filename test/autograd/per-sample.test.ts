/**
 * @file `perSampleGrads` against the definition: for every layer with a per-sample rule (fused
 * Linear+ReLU, Linear on sequences through both ghost-norm branches, matmul, Conv2d with stride,
 * padding and groups, Conv1d with dilation, Embedding + LayerNorm, RNN/LSTM/GRU in both layouts),
 * the per-sample gradients, their squared norms and a weighted sum equal those of a loop that runs
 * each sample alone; plus unsupported uses, BatchNorm, the mean-loss seed and bad input.
 */
import { describe, expect, it } from "vitest";
import * as A from "@tapegrad/autograd";
import { Rng, Tensor, randn } from "@tapegrad/tensor";
import { BatchNorm1d, Conv1d, Conv2d, ConvTranspose2d, Embedding, GRU, LSTM, LayerNorm, Linear, RNN, ReLU, Sequential, Module } from "@tapegrad/nn";

/** A model under test: `run(x)` maps a batch (batch on `axis`) to an output with the batch on `outAxis`. */
interface Case {
  name: string;
  model: Module;
  x: Tensor;
  axis?: number;
  outAxis?: number;
  run: (x: Tensor) => A.Var;
}

/** `Σ out ⊙ R` with a fixed random `R`: every output element belongs to one sample. */
function weightedLoss(out: A.Var, r: Tensor): A.Var {
  return A.sum(A.mul(out, r));
}

/** Runs each sample alone and returns its gradients (the definition of per-sample gradients). */
function loopGrads(c: Case, r: Tensor, params: A.Var[]): Float32Array[] {
  const axis = c.axis ?? 0, outAxis = c.outAxis ?? 0;
  const B = c.x.shape[axis]!;
  const out = params.map((p) => new Float32Array(B * p.size));
  for (let i = 0; i < B; i++) {
    const xi = c.x.narrow(axis, i, 1).contiguous();
    const loss = weightedLoss(c.run(xi), r.narrow(outAxis, i, 1).contiguous());
    A.gradients(loss, params).forEach((g, p) => out[p]!.set(g.toFloat32Array(), i * params[p]!.size));
  }
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 1e-4, atol = 1e-5): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let k = 0; k < expected.length; k++) {
    const e = expected[k]!, a = actual[k]!;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) expect.fail(`${what}[${k}]: got ${a}, expected ${e}`);
  }
}

function check(c: Case): void {
  const rng = new Rng(7);
  const params = c.model.parameters();
  const out = c.run(c.x);
  const r = randn(out.shape, rng);
  const B = c.x.shape[c.axis ?? 0]!;
  const expected = loopGrads(c, r, params);
  const ps = A.perSampleGrads(weightedLoss(c.run(c.x), r), params, { batchSize: B });
  expect(ps.unsupported).toEqual([]);
  const factors = Float32Array.from({ length: B }, (_, i) => 0.25 + 0.5 * ((i * 7) % 5) / 4);
  params.forEach((p, k) => {
    const name = `${c.name} param ${k} ${JSON.stringify(p.shape)}`;
    const got = ps.materialize(k);
    expect(got.shape).toEqual([B, ...p.shape]);
    expectClose(got.toFloat32Array(), expected[k]!, `${name} per-sample grads`);
    const n2 = Array.from({ length: B }, (_, i) => expected[k]!.subarray(i * p.size, (i + 1) * p.size).reduce((s, v) => s + v * v, 0));
    expectClose(A.perSampleGrads(weightedLoss(c.run(c.x), r), params, { batchSize: B }).normsSquared(k), n2, `${name} norms²`, 1e-4, 1e-8);
    const sum = new Float64Array(p.size);
    for (let i = 0; i < B; i++) for (let j = 0; j < p.size; j++) sum[j] += factors[i]! * expected[k]![i * p.size + j]!;
    expectClose(A.perSampleGrads(weightedLoss(c.run(c.x), r), params, { batchSize: B }).weightedSum(k, factors).toFloat32Array(), sum, `${name} weighted sum`);
  });
}

const rng = new Rng(3);
const x2 = (b: number, n: number) => randn([b, n], rng);

describe("perSampleGrads equals a loop over samples", () => {
  it("Sequential Linear → ReLU → Linear (fused activation, ghost norms)", () => {
    const model = new Sequential(new Linear(5, 7, { rng }), new ReLU(), new Linear(7, 3, { rng }));
    check({ name: "mlp", model, x: x2(6, 5), run: (x) => model.forward(A.constant(x)) as A.Var });
  });

  it("Linear on [B, T, in]: Gram ghost norms (2T² ≤ in·out) and per-sample products", () => {
    const wide = new Linear(6, 5, { rng }), narrow = new Linear(3, 2, { rng });
    check({ name: "gram", model: wide, x: randn([4, 2, 6], rng), run: (x) => wide.forward(A.constant(x)) });
    check({ name: "product", model: narrow, x: randn([4, 5, 3], rng), run: (x) => narrow.forward(A.constant(x)) });
  });

  it("matmul with a [in, out] weight plus a broadcast bias", () => {
    const w = A.variable(randn([4, 3], rng)), b = A.variable(randn([3], rng));
    const model = new Sequential();
    model.registerParameter("w", w);
    model.registerParameter("b", b);
    check({ name: "matmul", model, x: x2(5, 4), run: (x) => A.add(A.matmul(A.constant(x), w), b) });
  });

  it("Conv2d (stride 2, padding 1, groups 2, bias) and Conv1d (dilation 2)", () => {
    const conv = new Conv2d(4, 6, 3, { stride: 2, padding: 1, groups: 2, rng });
    check({ name: "conv2d", model: conv, x: randn([3, 4, 7, 6], rng), run: (x) => conv.forward(A.constant(x)) });
    const c1 = new Conv1d(2, 3, 3, { dilation: 2, rng });
    check({ name: "conv1d", model: c1, x: randn([4, 2, 9], rng), run: (x) => c1.forward(A.constant(x)) });
  });

  it("Embedding (repeated ids in a sample) → mean → LayerNorm", () => {
    class EmbLn extends Module {
      readonly emb = this.addModule("emb", new Embedding(5, 4, { rng }));
      readonly ln = this.addModule("ln", new LayerNorm([4]));
      forward(x: Tensor): A.Var {
        return this.ln.forward(A.mean(this.emb.forward(x), [1]));
      }
    }
    const model = new EmbLn();
    const ids = new Tensor(Float32Array.from([0, 2, 2, 4, 1, 1, 1, 3, 4, 0, 4, 2]), [3, 4]);
    const run = (x: Tensor) => model.forward(x);
    check({ name: "embedding+layernorm", model, x: ids, run });
  });

  for (const [Kind, name] of [[RNN, "RNN"], [LSTM, "LSTM"], [GRU, "GRU"]] as const) {
    it(`${name}: 2 layers, bidirectional, batch-first and time-major`, () => {
      const bf = new Kind(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true, rng });
      check({ name: `${name} batchFirst`, model: bf, x: randn([3, 5, 3], rng), run: (x) => bf.forward(A.constant(x)).output });
      const tm = new Kind(3, 4, { rng });
      check({ name: `${name} time-major`, model: tm, x: randn([5, 3, 3], rng), axis: 1, outAxis: 1, run: (x) => tm.forward(A.constant(x)).output });
    });
  }
});

describe("perSampleGrads: what it refuses", () => {
  it("lists a parameter used by an op without a rule and throws when it is read", () => {
    const ct = new ConvTranspose2d(2, 3, 2, { rng });
    const loss = A.sum(ct.forward(A.constant(randn([2, 2, 3, 3], rng))));
    const ps = A.perSampleGrads(loss, ct.parameters(), { batchSize: 2 });
    expect(ps.unsupported.map((u) => u.op)).toContain("convTranspose2d");
    expect(() => ps.materialize(0)).toThrow(/materialize: parameter 0 .* "convTranspose2d", which has no per-sample rule/);
  });

  it("refuses rows that are not grouped by the batch", () => {
    const fc = new Linear(3, 2, { rng });
    const ps = A.perSampleGrads(A.sum(fc.forward(A.constant(x2(5, 3)))), fc.parameters(), { batchSize: 2 });
    expect(ps.unsupported[0]!.reason).toMatch(/5 rows are not a multiple of the batch size 2/);
  });

  it("refuses BatchNorm in training (it mixes samples)", () => {
    const bn = new BatchNorm1d(3);
    expect(() => A.perSampleGrads(A.sum(bn.forward(A.constant(x2(4, 3)))), bn.parameters(), { batchSize: 4 })).toThrow(/batchNorm.*mixes the samples/);
  });

  it("a mean loss with seed B gives the per-sample gradients of the sum", () => {
    const fc = new Linear(3, 2, { rng });
    const x = x2(4, 3);
    const sum = A.perSampleGrads(A.sum(fc.forward(A.constant(x))), fc.parameters(), { batchSize: 4 }).materialize(0);
    const mean = A.perSampleGrads(A.mean(A.sum(fc.forward(A.constant(x)), [1])), fc.parameters(), { batchSize: 4, seed: 4 }).materialize(0);
    expectClose(mean.toFloat32Array(), sum.toFloat32Array(), "mean·B");
  });

  it("bad input names the function and the value", () => {
    const w = A.variable(randn([2, 2], rng));
    const loss = A.sum(A.matmul(A.constant(x2(2, 2)), w));
    expect(() => A.perSampleGrads(loss, [w], { batchSize: -1 })).toThrow(/perSampleGrads: batchSize .* -1/);
    expect(() => A.perSampleGrads(loss, [w, w], { batchSize: 2 })).toThrow(/params\[1\] repeats params\[0\]/);
    expect(() => A.perSampleGrads(loss, [A.mul(w, 2)], { batchSize: 2 })).toThrow(/params\[0\] must be a leaf/);
    expect(() => A.perSampleGrads(A.matmul(A.constant(x2(2, 2)), w), [w], { batchSize: 2 })).toThrow(/perSampleGrads.*scalar/);
    const ps = A.perSampleGrads(loss, [w], { batchSize: 2 });
    expect(() => ps.weightedSum(0, new Float32Array(3))).toThrow(/weightedSum: need 2 factors/);
    expect(() => ps.normsSquared(1)).toThrow(/normsSquared: parameter index 1 is out of range/);
  });
});
