/**
 * @file Normalisation ops and layers: the golden norm cases of `layers/nn_ops.json` through the
 * golden runners, batchNorm/groupNorm against float64 loops, finite-difference gradients,
 * BatchNorm1d/2d running statistics (momentum, null momentum, unbiased running variance,
 * num_batches_tracked), train/eval switching, trackRunningStats/affine, GroupNorm, Dropout2d,
 * strict/non-strict state dicts and the errors for bad input.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as A from "@tapegrad/autograd";
import { Rng, Tensor, randn, tensor, zeros, ones, groupNorm as groupNormT } from "@tapegrad/tensor";
import { BatchNorm1d, BatchNorm2d, Dropout2d, GroupNorm, Linear, Sequential } from "@tapegrad/nn";
import { goldenDir } from "../golden/dir.js";
import type { GoldenFile } from "../golden/schema.js";
import { NORM_OPS } from "../golden/layers/nn_ops_norm.js";

const vals = (t: Tensor | A.Var) => Array.from((t instanceof Tensor ? t : t.value).toFloat32Array());

/** Float64 batch norm with batch statistics of x [N, C, S] (flattened row-major). */
function bnRef(x: Tensor, eps: number, w?: number[], b?: number[]): { y: number[]; mean: number[]; varB: number[] } {
  const [n, c] = x.shape as [number, number];
  const s = x.size / (n * c), d = x.toFloat32Array();
  const y = new Array<number>(x.size), mean: number[] = [], varB: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    let m = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < s; j++) m += d[(i * c + ch) * s + j]!;
    m /= n * s;
    let v = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < s; j++) v += (d[(i * c + ch) * s + j]! - m) ** 2;
    v /= n * s;
    mean.push(m);
    varB.push(v);
    for (let i = 0; i < n; i++) for (let j = 0; j < s; j++) {
      const k = (i * c + ch) * s + j;
      y[k] = ((d[k]! - m) / Math.sqrt(v + eps)) * (w?.[ch] ?? 1) + (b?.[ch] ?? 0);
    }
  }
  return { y, mean, varB };
}

function expectAll(actual: number[], expected: number[], tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!), `[${i}] ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(tol + 1e-4 * Math.abs(expected[i]!));
}

describe("golden: norm cases of layers/nn_ops.json", () => {
  // GOLDEN_DIR may point at the golden root or into its layers/ folder
  const inLayers = join(goldenDir(), "layers", "nn_ops.json");
  const file = JSON.parse(readFileSync(existsSync(inLayers) ? inLayers : join(goldenDir(), "nn_ops.json"), "utf8")) as GoldenFile;
  const cases = file.cases.filter((c) => NORM_OPS[String(c.op)] !== undefined);
  it("has the batch_norm, group_norm and instance_norm cases", () => {
    expect(new Set(cases.map((c) => c.op))).toEqual(new Set(["batch_norm", "group_norm", "instance_norm"]));
  });
  for (const c of cases) {
    it(c.name, () => {
      const r = NORM_OPS[String(c.op)]!(c, file.tolerance);
      expect(r.message ?? "").toBe("");
      expect(r.status).toBe("passed");
    });
  }
  it("the runner fails a case whose expected output is perturbed (it can fail)", () => {
    const c = structuredClone(cases.find((k) => k.op === "batch_norm" && (k.attrs as { training: boolean }).training)!);
    const after = c.buffers_after as { running_var: { data: number[] } };
    after.running_var.data[0] = after.running_var.data[0]! + 0.01;
    const r = NORM_OPS.batch_norm!(c, file.tolerance);
    expect(r.status).toBe("failed");
    expect(r.message).toMatch(/buffers_after\.running_var/);
  });
});

describe("batchNorm / groupNorm ops", () => {
  it("training: float64 reference, running stats updated with the unbiased variance", () => {
    const x = randn([4, 3, 5], new Rng(1));
    const w = [0.5, -1, 2], b = [0.1, 0, -0.3];
    const rm = tensor([0.2, -0.1, 0]), rv = tensor([1, 2, 0.5]);
    const y = A.batchNorm(x, rm, rv, { weight: tensor(w), bias: tensor(b), training: true, momentum: 0.25, eps: 1e-3 });
    const ref = bnRef(x, 1e-3, w, b);
    expectAll(vals(y), ref.y);
    const n = 20;
    expectAll(vals(rm), [0.2, -0.1, 0].map((r, c) => 0.75 * r + 0.25 * ref.mean[c]!));
    expectAll(vals(rv), [1, 2, 0.5].map((r, c) => 0.75 * r + (0.25 * ref.varB[c]! * n) / (n - 1)));
  });

  it("batch of two doubles the variance in the running estimate; eval uses and keeps the running stats", () => {
    const rm = zeros([1]), rv = ones([1]);
    const y = A.batchNorm(tensor([[1], [3]]), rm, rv, { training: true });
    expectAll(vals(y), [-1 / Math.sqrt(1 + 1e-5), 1 / Math.sqrt(1 + 1e-5)]);
    expectAll(vals(rm), [0.2]);
    expectAll(vals(rv), [0.9 + 0.1 * 2]);
    const e = A.batchNorm(tensor([[5]]), rm, rv, { training: false, weight: tensor([2]), bias: tensor([1]) });
    expectAll(vals(e), [((5 - 0.2) / Math.sqrt(1.1 + 1e-5)) * 2 + 1]);
    expectAll(vals(rm), [0.2]);
  });

  it("gradients pass gradcheck: training with running stats, eval, no affine", () => {
    const rm = zeros([3]), rv = ones([3]);
    const train = A.gradcheck((x, w, b) => A.batchNorm(x!, rm, rv, { weight: w!, bias: b!, training: true }), [randn([2, 3, 4], new Rng(2)), randn([3], new Rng(3)), randn([3], new Rng(4))]);
    expect(train.message).toMatch(/passed/);
    const evalRes = A.gradcheck((x, w, b) => A.batchNorm(x!, tensor([0.1, 0, -0.2]), tensor([0.5, 1, 2]), { weight: w!, bias: b!, training: false }), [randn([3, 3], new Rng(5)), randn([3], new Rng(6)), randn([3], new Rng(7))]);
    expect(evalRes.message).toMatch(/passed/);
    const gn = A.gradcheck((x, w) => A.groupNorm(x!, 1, w!, null), [randn([2, 4, 3], new Rng(8)), randn([4], new Rng(9))]);
    expect(gn.message).toMatch(/passed/);
  });

  it("groupNorm matches a per-(sample, group) float64 reference; instanceNorm = C groups", () => {
    const x = randn([2, 6, 2, 2], new Rng(10));
    const w = tensor([1, 2, 3, -1, 0.5, 0]), b = tensor([0, 1, 0, 1, 0, 1]);
    const y = vals(A.groupNorm(x, 3, w, b));
    const d = x.toFloat32Array(), exp: number[] = new Array(x.size);
    for (let n = 0; n < 2; n++) for (let g = 0; g < 3; g++) {
      const start = (n * 6 + g * 2) * 4, len = 8;
      let m = 0, v = 0;
      for (let k = 0; k < len; k++) m += d[start + k]! / len;
      for (let k = 0; k < len; k++) v += (d[start + k]! - m) ** 2 / len;
      for (let k = 0; k < len; k++) {
        const ch = g * 2 + Math.floor(k / 4);
        exp[start + k] = ((d[start + k]! - m) / Math.sqrt(v + 1e-5)) * w.get(ch) + b.get(ch);
      }
    }
    expectAll(y, exp);
    expectAll(vals(A.instanceNorm(x)), vals(A.groupNorm(x, 6)));
  });

  it("bad input: clear errors naming the op and shapes", () => {
    expect(() => A.batchNorm(tensor([[1, 2, 3]]), zeros([3]), ones([3]), { training: true })).toThrow(/batchNorm: expected more than 1 value per channel when training \(got \[1,3\]\)/);
    expect(() => A.batchNorm(randn([4, 3], new Rng(0)), zeros([2]), ones([2]))).toThrow(/batchNorm: runningMean must be \[3\] for an input with 3 channels \(got \[4,3\] and \[2\]\)/);
    expect(() => A.batchNorm(randn([4, 3], new Rng(0)), zeros([3]), null)).toThrow(/runningMean and runningVar must both be given/);
    expect(() => A.groupNorm(randn([2, 6], new Rng(0)), 4)).toThrow(/groupNorm: channels 6 not divisible by numGroups 4 \(got \[2,6\]\)/);
    expect(() => groupNormT(randn([6], new Rng(0)), 1, null, null, 1e-5)).toThrow(/groupNorm: input must be \[N, C, \*\] \(at least 2-D\)/);
    expect(() => A.groupNorm(randn([2, 4], new Rng(0)), 2, ones([3]))).toThrow(/groupNorm: weight must be \[4\]/);
  });

  it("does not mutate the input", () => {
    const x = randn([3, 2], new Rng(1));
    const before = vals(x);
    A.batchNorm(x, zeros([2]), ones([2]), { training: true });
    A.groupNorm(x, 2);
    expect(vals(x)).toEqual(before);
  });
});

describe("BatchNorm1d / BatchNorm2d", () => {
  it("state dict keys and buffers as torch writes them", () => {
    const bn = new BatchNorm2d(3);
    expect(Object.keys(bn.stateDict())).toEqual(["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]);
    expect(bn.namedBuffers().map(([n, t]) => `${n}:${t.shape.join("x")}`)).toEqual(["running_mean:3", "running_var:3", "num_batches_tracked:"]);
    expect(Object.keys(new BatchNorm1d(2, { affine: false }).stateDict())).toEqual(["running_mean", "running_var", "num_batches_tracked"]);
    expect(Object.keys(new BatchNorm1d(2, { trackRunningStats: false }).stateDict())).toEqual(["weight", "bias"]);
  });

  it("training updates the running stats and num_batches_tracked; eval uses them", () => {
    const bn = new BatchNorm2d(2, { momentum: 0.3 });
    const x1 = randn([3, 2, 2, 2], new Rng(1)), x2 = randn([3, 2, 2, 2], new Rng(2));
    const y1 = bn.forward(x1);
    expectAll(vals(y1), bnRef(x1, 1e-5).y);
    bn.forward(x2);
    const r1 = bnRef(x1, 1e-5), r2 = bnRef(x2, 1e-5), n = 12;
    const mean = [0, 1].map((c) => 0.7 * (0.3 * r1.mean[c]!) + 0.3 * r2.mean[c]!);
    const variance = [0, 1].map((c) => 0.7 * (0.7 + (0.3 * r1.varB[c]! * n) / (n - 1)) + (0.3 * r2.varB[c]! * n) / (n - 1));
    expectAll(vals(bn.getBuffer("running_mean")!), mean);
    expectAll(vals(bn.getBuffer("running_var")!), variance);
    expect(bn.getBuffer("num_batches_tracked")!.item()).toBe(2);
    bn.eval();
    const one = randn([1, 2, 2, 2], new Rng(3)); // batch of one is fine in eval mode
    const y = vals(bn.forward(one));
    const d = one.toFloat32Array();
    expectAll(y, Array.from(d, (v, k) => { const c = Math.floor(k / 4); return (v - mean[c]!) / Math.sqrt(variance[c]! + 1e-5); }));
    expect(bn.getBuffer("num_batches_tracked")!.item()).toBe(2);
    expectAll(vals(bn.getBuffer("running_mean")!), mean);
  });

  it("momentum null is the cumulative average of the batch statistics", () => {
    const bn = new BatchNorm1d(2, { momentum: null });
    const xs = [randn([4, 2], new Rng(4)), randn([4, 2], new Rng(5)), randn([4, 2], new Rng(6))];
    for (const x of xs) bn.forward(x);
    const means = xs.map((x) => bnRef(x, 0).mean);
    expectAll(vals(bn.getBuffer("running_mean")!), [0, 1].map((c) => means.reduce((s, m) => s + m[c]!, 0) / 3));
  });

  it("model.eval() switches a nested BatchNorm; trackRunningStats false always uses batch statistics", () => {
    const model = new Sequential(new Linear(3, 2), new BatchNorm1d(2));
    model.eval();
    const x = randn([5, 3], new Rng(7));
    const lin = model.layers[0]!.forward(x);
    expectAll(vals(model.forward(x)), vals(lin).map((v) => v / Math.sqrt(1 + 1e-5)));
    const free = new BatchNorm1d(2, { trackRunningStats: false }).eval();
    const x2 = randn([3, 2, 4], new Rng(8));
    expectAll(vals(free.forward(x2)), bnRef(x2, 1e-5).y);
    expect(free.buffers()).toEqual([]);
  });

  it("gradients flow to weight and bias through the layer", () => {
    const bn = new BatchNorm1d(3);
    const x = A.variable(randn([4, 3], new Rng(9)));
    A.sum(A.mul(bn.forward(x), tensor([1, 2, 3]))).backward();
    expectAll(vals(bn.bias!.grad!), [4, 8, 12]);
    expectAll(vals(bn.weight!.grad!), [0, 0, 0], 1e-5); // Σ x̂ = 0 per channel
    expectAll(vals(x.grad!), new Array(12).fill(0), 1e-5); // constant upstream per channel
  });

  it("bad input: errors name the layer and the shapes", () => {
    expect(() => new BatchNorm2d(2).forward(randn([1, 2, 1, 1], new Rng(0)))).toThrow(/BatchNorm2d: expected more than 1 value per channel when using batch statistics \(training\) \(got \[1,2,1,1\]\)/);
    expect(() => new BatchNorm1d(3).forward(randn([1, 3], new Rng(0)))).toThrow(/BatchNorm1d: expected more than 1 value per channel/);
    expect(() => new BatchNorm2d(4).forward(randn([2, 3, 2, 2], new Rng(0)))).toThrow(/BatchNorm2d: expected 4 channels \(dim 1\), got 3 \(got \[2,3,2,2\]\)/);
    expect(() => new BatchNorm2d(4).forward(randn([2, 4, 2], new Rng(0)))).toThrow(/BatchNorm2d: expected \[N, C, H, W\] input \(4-D\) \(got \[2,4,2\]\)/);
    expect(() => new BatchNorm1d(4).forward(randn([2, 4, 2, 2], new Rng(0)))).toThrow(/BatchNorm1d: expected \[N, C\] or \[N, C, L\] input \(2-D or 3-D\)/);
    expect(() => new BatchNorm1d(0)).toThrow(/BatchNorm1d: numFeatures must be a positive integer \(got 0\)/);
    expect(() => new BatchNorm1d(2, { momentum: 1.5 })).toThrow(/BatchNorm1d: momentum must be in \[0, 1\] or null/);
    const bn = new BatchNorm2d(2);
    expect(() => bn.forward(randn([1, 2, 1, 1], new Rng(0)))).toThrow();
    expect(bn.getBuffer("num_batches_tracked")!.item()).toBe(0); // a rejected batch changes nothing
  });
});

describe("GroupNorm", () => {
  it("parameters, forward = groupNorm op, same in eval", () => {
    const gn = new GroupNorm(2, 4);
    expect(Object.keys(gn.stateDict())).toEqual(["weight", "bias"]);
    const x = randn([2, 4, 3], new Rng(1));
    const y = vals(gn.forward(x));
    expectAll(y, vals(A.groupNorm(x, 2)));
    expect(vals(gn.eval().forward(x))).toEqual(y);
    expect(new GroupNorm(3, 6, { affine: false }).parameters()).toEqual([]);
  });
  it("bad input", () => {
    expect(() => new GroupNorm(4, 6)).toThrow(/GroupNorm: numChannels 6 not divisible by numGroups 4/);
    expect(() => new GroupNorm(2, 4).forward(randn([2, 6, 3], new Rng(0)))).toThrow(/GroupNorm: expected input \[N, 4, \*\] \(got \[2,6,3\]\)/);
    expect(() => new GroupNorm(0, 4)).toThrow(/GroupNorm: numGroups must be a positive integer/);
  });
});

describe("Dropout2d", () => {
  it("zeroes whole channels and scales the rest by 1/(1-p); seeded; identity in eval", () => {
    const x = A.variable(randn([8, 6, 3, 2], new Rng(1)));
    const drop = new Dropout2d(0.4, { rng: new Rng(5) });
    const y = drop.forward(x).value;
    const xd = x.value.toFloat32Array(), yd = y.toFloat32Array();
    let dropped = 0;
    for (let ch = 0; ch < 48; ch++) {
      const ratios = new Set<number>();
      for (let k = 0; k < 6; k++) ratios.add(Math.round((yd[ch * 6 + k]! / xd[ch * 6 + k]!) * 1e5) / 1e5);
      expect(ratios.size).toBe(1);
      const r = [...ratios][0]!;
      if (r === 0) dropped++;
      else expect(r).toBeCloseTo(1 / 0.6, 5);
    }
    expect(dropped).toBeGreaterThan(5);
    expect(dropped).toBeLessThan(35);
    expect(vals(new Dropout2d(0.4, { rng: new Rng(5) }).forward(x))).toEqual(Array.from(yd));
    drop.eval();
    expect(drop.forward(x)).toBe(x);
  });
  it("gradient is the channel mask; p = 1 zeroes; bad input", () => {
    const x = A.variable(randn([2, 3, 2, 2], new Rng(2)));
    const y = new Dropout2d(0.5, { rng: new Rng(3) }).forward(x);
    A.sum(y).backward();
    const g = vals(x.grad!), yv = vals(y), xv = vals(x);
    for (let k = 0; k < g.length; k++) expect(g[k]).toBeCloseTo(yv[k]! / xv[k]!, 5);
    expect(vals(new Dropout2d(1).forward(x)).every((v) => v === 0)).toBe(true);
    expect(() => new Dropout2d(1.5)).toThrow(/Dropout2d: p must be in \[0, 1\] \(got 1.5\)/);
    expect(() => new Dropout2d(0.5).forward(randn([2, 3], new Rng(0)))).toThrow(/Dropout2d: expected a 4-D \[N, C, H, W\] \(or 3-D \[N, C, L\]\) input \(got \[2,3\]\)/);
  });
});

describe("Module.loadStateDict strict / non-strict", () => {
  it("strict throws naming missing and unexpected keys; non-strict loads the rest and reports them", () => {
    const model = new Sequential(new Linear(2, 3), new BatchNorm1d(3));
    const runningMean = () => model.namedBuffers().find(([n]) => n === "1.running_mean")![1];
    const sd = model.stateDict();
    expect(model.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const partial = { ...sd, "1.extra": zeros([1]) } as Record<string, Tensor>;
    delete partial["1.running_var"];
    partial["1.running_mean"] = tensor([7, 8, 9]);
    expect(() => model.loadStateDict(partial)).toThrow(/loadStateDict: Error\(s\) in loading state_dict for Sequential:\n\tMissing key\(s\) in state_dict: "1\.running_var"\.\n\tUnexpected key\(s\) in state_dict: "1\.extra"\./);
    expect(vals(runningMean())).toEqual([0, 0, 0]); // nothing written on error
    expect(model.loadStateDict(partial, { strict: false })).toEqual({ missingKeys: ["1.running_var"], unexpectedKeys: ["1.extra"] });
    expect(vals(runningMean())).toEqual([7, 8, 9]);
    expect(() => model.loadStateDict({ "1.running_mean": zeros([2]) }, { strict: false })).toThrow(/size mismatch for 1\.running_mean: copying a param with shape \[2\] from checkpoint/);
  });
});
