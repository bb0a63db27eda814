/**
 * @file `DPOptimizer` and `makePrivate`: the private step equals clipping a loop's per-sample
 * gradients by hand (fast rules and the micro-batch fallback), noise is seeded and has the stated
 * std, the accountant and the step telemetry report ε, empty Poisson batches are steps, the
 * calibrated σ meets the target ε, and bad input gets an error naming the value.
 */
import { describe, expect, it } from "vitest";
import * as A from "@tapegrad/autograd";
import { Rng, Tensor, randn } from "@tapegrad/tensor";
import { BatchNorm1d, ConvTranspose2d, Flatten, Linear, ReLU, Sequential } from "@tapegrad/nn";
import { SGD } from "@tapegrad/optim";
import { DPOptimizer, RDPAccountant, getNoiseMultiplier, makePrivate } from "@tapegrad/privacy";

const B = 6;

function data(rng: Rng) {
  return { x: randn([B, 5], rng), y: Int32Array.from({ length: B }, (_, i) => i % 3) };
}

function mlp(seed: number) {
  const rng = new Rng(seed);
  return new Sequential(new Linear(5, 8, { rng }), new ReLU(), new Linear(8, 3, { rng }));
}

/** The loss of samples [s, e) (mean reduction). */
const lossOf = (model: Sequential, d: { x: Tensor; y: Int32Array }) => (s = 0, e = B) =>
  A.crossEntropy(model.forward(A.constant(d.x.narrow(0, s, e - s).contiguous())) as A.Var, d.y.subarray(s, e));

/** DP-SGD's private gradient by definition: per-sample loop, clip, sum, divide. */
function reference(model: Sequential, d: { x: Tensor; y: Int32Array }, C: number, divisor: number): Float32Array[] {
  const params = model.parameters();
  const per = Array.from({ length: B }, (_, i) => A.gradients(lossOf(model, d)(i, i + 1), params).map((g) => g.toFloat32Array()));
  return params.map((p, k) => {
    const out = new Float64Array(p.size);
    for (let i = 0; i < B; i++) {
      const n = Math.sqrt(per[i]!.reduce((s, g) => s + g.reduce((t, v) => t + v * v, 0), 0));
      const f = Math.min(1, C / (n + 1e-6));
      per[i]![k]!.forEach((v, j) => (out[j] += f * v));
    }
    return Float32Array.from(out, (v) => v / divisor);
  });
}

function expectClose(a: ArrayLike<number>, e: ArrayLike<number>, what: string): void {
  expect(a.length).toBe(e.length);
  for (let k = 0; k < e.length; k++) if (!(Math.abs(a[k]! - e[k]!) <= 1e-6 + 1e-4 * Math.abs(e[k]!))) expect.fail(`${what}[${k}]: ${a[k]} vs ${e[k]}`);
}

describe("DPOptimizer", () => {
  it("σ = 0: the gradients are the clipped per-sample sum over E; the step and the accountant advance", () => {
    const d = data(new Rng(1));
    const model = mlp(0);
    const want = reference(model, d, 0.5, 4);
    const dp = new DPOptimizer(new SGD(model.parameters(), { lr: 0.1 }), { noiseMultiplier: 0, maxGradNorm: 0.5, sampleRate: 0.04, expectedBatchSize: 4, delta: 1e-5 });
    const before = model.parameters().map((p) => p.value.toFloat32Array());
    dp.step(B, lossOf(model, d));
    model.parameters().forEach((p, k) => {
      expectClose(p.grad!.toFloat32Array(), want[k]!, `grad ${k}`);
      expectClose(p.value.toFloat32Array(), before[k]!.map((v, j) => Math.fround(v - Math.fround(0.1 * want[k]![j]!))), `param ${k}`);
    });
    const s = dp.lastStats!;
    expect(s.step).toBe(1);
    expect(s.batchSize).toBe(B);
    expect(s.numClipped).toBeGreaterThan(0);
    expect(s.clipRate).toBe(s.numClipped / B);
    expect(s.epsilon).toBe(Infinity); // σ = 0 gives no privacy
    expect(dp.accountant.history).toEqual([{ noiseMultiplier: 0, sampleRate: 0.04, steps: 1 }]);
    // Opacus' accumulated_iterations multiplies the divisor: E·k
    const twice = mlp(0);
    new DPOptimizer(new SGD(twice.parameters(), { lr: 0.1 }), { noiseMultiplier: 0, maxGradNorm: 0.5, sampleRate: 0.04, expectedBatchSize: 4, accumulatedIterations: 2 }).step(B, lossOf(twice, d));
    twice.parameters().forEach((p, k) => expectClose(p.grad!.toFloat32Array(), want[k]!.map((v) => v / 2), `grad ${k} over E·2`));
    expect(() => new DPOptimizer(new SGD(twice.parameters(), { lr: 0.1 }), { noiseMultiplier: 0, maxGradNorm: 1, sampleRate: 0.1, expectedBatchSize: 4, accumulatedIterations: 0 })).toThrow(/accumulatedIterations must be a positive integer, got 0/);
  });

  it("the micro-batch fallback covers ops without a rule; disabled, it is an error naming the op", () => {
    const rng = new Rng(4);
    const model = new Sequential(new ConvTranspose2d(1, 2, 2, { rng }), new Flatten(), new Linear(18, 3, { rng }));
    const d = { x: randn([B, 1, 2, 2], rng), y: Int32Array.from({ length: B }, (_, i) => i % 3) };
    const loss = (s = 0, e = B) => A.crossEntropy(model.forward(A.constant(d.x.narrow(0, s, e - s).contiguous())) as A.Var, d.y.subarray(s, e), { reduction: "sum" });
    const params = model.parameters();
    const per = Array.from({ length: B }, (_, i) => A.gradients(loss(i, i + 1), params).map((g) => g.toFloat32Array()));
    const want = params.map((p, k) => {
      const out = new Float64Array(p.size);
      for (let i = 0; i < B; i++) {
        const n = Math.sqrt(per[i]!.reduce((s, g) => s + g.reduce((t, v) => t + v * v, 0), 0));
        per[i]![k]!.forEach((v, j) => (out[j] += Math.min(1, 0.3 / (n + 1e-6)) * v));
      }
      return Float32Array.from(out);
    });
    const dp = new DPOptimizer(new SGD(params, { lr: 0 }), { noiseMultiplier: 0, maxGradNorm: 0.3, sampleRate: 0.1, lossReduction: "sum" });
    dp.step(B, loss);
    expect(dp.lastStats!.fallbackParams).toBe(2); // the transposed conv's weight and bias
    params.forEach((p, k) => expectClose(p.grad!.toFloat32Array(), want[k]!, `grad ${k}`));
    const strict = new DPOptimizer(new SGD(params, { lr: 0 }), { noiseMultiplier: 0, maxGradNorm: 0.3, sampleRate: 0.1, lossReduction: "sum", fallback: false });
    expect(() => strict.step(B, loss)).toThrow(/parameter 0 .* op "convTranspose2d" without a per-sample rule .* fallback is disabled/);
  });

  it("noise: seeded and reproducible, std σ·C/E on the averaged gradient, an empty batch is a step", () => {
    const run = (seed: number) => {
      const model = mlp(0);
      const dp = new DPOptimizer(new SGD(model.parameters(), { lr: 1 }), { noiseMultiplier: 2, maxGradNorm: 1, sampleRate: 0.01, expectedBatchSize: 4, rng: new Rng(seed) });
      const empty = { x: randn([0, 5], new Rng(0)), y: new Int32Array(0) };
      dp.step(0, (s = 0, e = 0) => A.crossEntropy(model.forward(A.constant(empty.x.narrow(0, s, e - s))) as A.Var, empty.y.subarray(s, e)));
      return { grads: model.parameters().flatMap((p) => Array.from(p.grad!.toFloat32Array())), dp };
    };
    const a = run(1), b = run(1), c = run(2);
    expect(a.grads).toEqual(b.grads);
    expect(a.grads).not.toEqual(c.grads);
    const g = a.grads, n = g.length;
    const mean = g.reduce((s, v) => s + v, 0) / n;
    const sd = Math.sqrt(g.reduce((s, v) => s + (v - mean) ** 2, 0) / n);
    expect(Math.abs(sd / 0.5 - 1)).toBeLessThan(5 / Math.sqrt(2 * n)); // σ·C/E = 2·1/4
    expect(a.dp.lastStats!.batchSize).toBe(0);
    expect(a.dp.accountant.steps).toBe(1);
  });

  it("ε in the step telemetry is the accountant's, and grows", () => {
    const d = data(new Rng(2));
    const model = mlp(1);
    const dp = new DPOptimizer(new SGD(model.parameters(), { lr: 0.1 }), { noiseMultiplier: 1.1, maxGradNorm: 1, sampleRate: 0.01, expectedBatchSize: 6, rng: new Rng(0), delta: 1e-5 });
    dp.step(B, lossOf(model, d));
    const e1 = dp.lastStats!.epsilon!;
    dp.step(B, lossOf(model, d));
    const e2 = dp.lastStats!.epsilon!;
    const acc = new RDPAccountant();
    acc.step({ noiseMultiplier: 1.1, sampleRate: 0.01 });
    acc.step({ noiseMultiplier: 1.1, sampleRate: 0.01 });
    expect(e2).toBe(acc.getEpsilon(1e-5));
    expect(e2).toBeGreaterThan(e1);
    expect(dp.epsilon(1e-5)).toBe(e2);
    expect(dp.lastStats!.delta).toBe(1e-5);
    expect(dp.lastStats!.optimizer?.step).toBe(2);
  });

  it("bad input: σ < 0, C ≤ 0, q, δ, thresholds, noise source", () => {
    const opt = () => new SGD(mlp(0).parameters(), { lr: 0.1 });
    const ok = { noiseMultiplier: 1, maxGradNorm: 1, sampleRate: 0.1, expectedBatchSize: 4, rng: new Rng(0) };
    expect(() => new DPOptimizer(opt(), { ...ok, noiseMultiplier: -0.5 })).toThrow(/DPOptimizer.*-0\.5/);
    expect(() => new DPOptimizer(opt(), { ...ok, maxGradNorm: 0 })).toThrow(/DPOptimizer: maxGradNorm must be a finite number > 0, got 0/);
    expect(() => new DPOptimizer(opt(), { ...ok, maxGradNorm: [1, 2] })).toThrow(/one maxGradNorm per parameter: got 2 for 4/);
    expect(() => new DPOptimizer(opt(), { ...ok, maxGradNorm: [1, 1, -1, 1] })).toThrow(/maxGradNorm\[2\].*-1/);
    expect(() => new DPOptimizer(opt(), { ...ok, sampleRate: 0 })).toThrow(/DPOptimizer.*\(0, 1\].*0/);
    expect(() => new DPOptimizer(opt(), { ...ok, delta: 1 })).toThrow(/DPOptimizer.*delta/);
    expect(() => new DPOptimizer(opt(), { ...ok, rng: undefined })).toThrow(/exactly one of rng and secureMode/);
    expect(() => new DPOptimizer(opt(), { ...ok, divisor: "actual" }).step(0, () => A.sum(A.variable(1)))).toThrow(/actualBatchSize must be a positive integer/);
    expect(() => new DPOptimizer(opt(), ok).step(-1, () => A.sum(A.variable(1)))).toThrow(/batchSize must be a non-negative integer, got -1/);
  });
});

describe("makePrivate", () => {
  it("q from the batch size (Opacus), σ calibrated to the target ε over the epochs", () => {
    const model = mlp(0);
    const priv = makePrivate({ module: model, optimizer: new SGD(model.parameters(), { lr: 0.1 }), datasetSize: 1000, batchSize: 64, maxGradNorm: 1, targetEpsilon: 3, delta: 1e-5, epochs: 2, rng: new Rng(0) });
    expect(priv.stepsPerEpoch).toBe(16);
    expect(priv.sampleRate).toBe(1 / 16);
    expect(priv.expectedBatchSize).toBe(62);
    expect(priv.noiseMultiplier).toBe(getNoiseMultiplier({ targetEpsilon: 3, delta: 1e-5, sampleRate: 1 / 16, steps: 32 }));
    const acc = new RDPAccountant();
    for (let s = 0; s < 32; s++) acc.step({ noiseMultiplier: priv.noiseMultiplier, sampleRate: 1 / 16 });
    expect(acc.getEpsilon(1e-5)).toBeLessThanOrEqual(3);
    const sizes = [...priv.epoch()].map((b) => b.length);
    expect(sizes.length).toBe(16);
    expect(sizes.reduce((a, b) => a + b, 0) / 16).toBeGreaterThan(40); // ≈ 62.5 expected
  });

  it("refuses BatchNorm and bad settings, naming them", () => {
    const model = new Sequential(new Linear(5, 4), new BatchNorm1d(4), new Linear(4, 3));
    const base = { module: mlp(0), optimizer: new SGD(mlp(0).parameters(), { lr: 0.1 }), datasetSize: 100, batchSize: 10, maxGradNorm: 1, noiseMultiplier: 1, delta: 1e-5, rng: new Rng(0) };
    expect(() => makePrivate({ ...base, module: model })).toThrow(/BatchNorm1d at "1" mixes the samples/);
    expect(() => makePrivate({ ...base, delta: 0 })).toThrow(/makePrivate.*delta/);
    expect(() => makePrivate({ ...base, batchSize: 0 })).toThrow(/batchSize must be an integer in \[1, 100\], got 0/);
    expect(() => makePrivate({ ...base, sampleRate: 0.1 })).toThrow(/exactly one of batchSize and sampleRate/);
    expect(() => makePrivate({ ...base, targetEpsilon: 1 })).toThrow(/exactly one of noiseMultiplier and targetEpsilon/);
    expect(() => makePrivate({ ...base, noiseMultiplier: undefined, targetEpsilon: 1 })).toThrow(/targetEpsilon needs epochs/);
    expect(() => makePrivate({ ...base, noiseMultiplier: undefined, targetEpsilon: 0.01, epochs: 1 })).toThrow(/too low.*0\.01/);
  });
});
