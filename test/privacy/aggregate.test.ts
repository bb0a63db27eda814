/**
 * @file DP-SGD aggregation: per-example clipping (every `clip_flat` and `clip_per_layer` case of
 * `dp/dp.json`), noise, scaling and the SGD update (every `dp_sgd_step` case, from its clipped sum),
 * statistical tests of the Gaussian noise (the `noise_statistics` case) and of Poisson sampling,
 * and the errors on bad input.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Rng } from "@tapegrad/tensor";
import {
  addNoise, clipAndAccumulate, expectedBatchSize, gradDivisor, poissonBatches, poissonSteps, scaleGrad,
  type PerExampleGrad,
} from "@tapegrad/privacy";
import { goldenDir } from "../golden/dir.js";
import { num } from "../golden/schema.js";

type Num = number | string;
interface Tol { rtol: number; atol: number }
interface Tensor { dtype: string; shape: number[]; data: Num[] }
interface Case { name: string; kind: string; [key: string]: unknown }
interface ClipCase extends Case {
  param_names: string[];
  per_example_grads: Tensor[];
  max_grad_norm?: number;
  max_grad_norms?: number[];
  expected: {
    per_param_norms: Tensor; per_sample_norms?: Tensor; clip_factors: Tensor; num_clipped: number | number[];
    summed_clipped_grads: Tensor[]; effective_max_grad_norm?: Num;
  };
}
interface Variant {
  loss_reduction: "mean" | "sum"; divisor_kind: "expected_batch_size" | "actual_batch_size" | "none"; divisor: number | null;
  grads: Tensor[] | null; params_after: Tensor[] | null;
}
interface StepCase extends Case {
  params: Tensor[]; clipping: "flat" | "per_layer"; max_grad_norm: number | number[]; noise_multiplier: number; lr: number;
  dataset_size: number; sample_rate: number; expected_batch_size: number; actual_batch_size: number; accumulated_iterations: number;
  expected: { summed_clipped_grads: Tensor[]; noise_std: number; effective_max_grad_norm?: Num; variants: Variant[] };
}
interface NoiseCase extends Case {
  noise_multiplier: number; max_grad_norm: number; expected_batch_size: number; per_layer_max_grad_norms: number[];
  expected: {
    flat_std_sum: number; flat_std_after_mean_scaling: number; per_layer_effective_max_grad_norm: number;
    per_layer_std_sum: number; per_layer_std_after_mean_scaling: number; mean: number; secure_mode_std_sum: number;
  };
}

const file = JSON.parse(readFileSync(join(goldenDir(), "dp", "dp.json"), "utf8")) as { tolerance: Tol; cases: Case[] };
const tol = file.tolerance;
const byKind = <T extends Case>(kind: string) => file.cases.filter((c) => c.kind === kind) as T[];

const f32 = (t: Tensor) => Float32Array.from(t.data.map(num));
const grad = (t: Tensor): PerExampleGrad => ({ data: f32(t), shape: t.shape });

/** Asserts `|a - e| <= atol + rtol |e|` element-wise, naming the first bad index. */
function expectClose(actual: ArrayLike<number>, expected: Tensor | number[], what: string): void {
  const exp = Array.isArray(expected) ? expected : expected.data.map(num);
  expect(actual.length, `${what}: length`).toBe(exp.length);
  for (let k = 0; k < exp.length; k++) {
    const a = actual[k]!, e = exp[k]!;
    if (!(Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e))) expect.fail(`${what}[${k}]: got ${a}, expected ${e}`);
  }
}

const clipFlat = byKind<ClipCase>("clip_flat");
const clipPerLayer = byKind<ClipCase>("clip_per_layer");
const steps = byKind<StepCase>("dp_sgd_step");
const noiseCases = byKind<NoiseCase>("noise_statistics");

describe("clipAndAccumulate: golden clip_flat", () => {
  it("the file has the cases", () => expect(clipFlat.length).toBeGreaterThan(0));
  it.each(clipFlat.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const r = clipAndAccumulate(c.per_example_grads.map(grad), { maxGradNorm: c.max_grad_norm! });
    expect(r.kind).toBe("flat");
    expectClose(r.perParamNorms, c.expected.per_param_norms, "per_param_norms");
    expectClose(r.perSampleNorms, c.expected.per_sample_norms!, "per_sample_norms");
    expectClose(r.clipFactors, c.expected.clip_factors, "clip_factors");
    expect(r.numClipped).toBe(c.expected.num_clipped);
    expect(r.summed.length).toBe(c.expected.summed_clipped_grads.length);
    c.expected.summed_clipped_grads.forEach((t, p) => expectClose(r.summed[p]!, t, `summed[${c.param_names[p]}]`));
  });
});

describe("clipAndAccumulate: golden clip_per_layer", () => {
  it("the file has the cases", () => expect(clipPerLayer.length).toBeGreaterThan(0));
  it.each(clipPerLayer.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const r = clipAndAccumulate(c.per_example_grads.map(grad), { maxGradNorm: c.max_grad_norms! });
    expect(r.kind).toBe("per_layer");
    expectClose(r.perParamNorms, c.expected.per_param_norms, "per_param_norms");
    expectClose(r.clipFactors, c.expected.clip_factors, "clip_factors");
    expect(r.numClipped).toEqual(c.expected.num_clipped);
    expectClose([r.effectiveMaxGradNorm], [num(c.expected.effective_max_grad_norm!)], "effective_max_grad_norm");
    c.expected.summed_clipped_grads.forEach((t, p) => expectClose(r.summed[p]!, t, `summed[${c.param_names[p]}]`));
  });
});

describe("noise + scaling + SGD: golden dp_sgd_step (from summed_clipped_grads)", () => {
  it("the file has the cases", () => expect(steps.length).toBeGreaterThan(0));
  it.each(steps.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    expect(expectedBatchSize(c.dataset_size, c.sample_rate)).toBe(c.expected_batch_size);
    const summed = c.expected.summed_clipped_grads.map(f32);
    const maxGradNorm = typeof c.max_grad_norm === "number" ? c.max_grad_norm : num(c.expected.effective_max_grad_norm!);
    expect(c.noise_multiplier * maxGradNorm).toBe(c.expected.noise_std);
    const noisy = addNoise(summed, { noiseMultiplier: c.noise_multiplier, maxGradNorm, rng: new Rng(1) });
    noisy.forEach((g, p) => expect(Array.from(g)).toEqual(Array.from(summed[p]!))); // sigma 0: exactly nothing
    for (const v of c.expected.variants) {
      const opts = {
        lossReduction: v.loss_reduction,
        divisor: v.divisor_kind === "actual_batch_size" ? ("actual" as const) : ("expected" as const),
        expectedBatchSize: c.expected_batch_size,
        actualBatchSize: c.actual_batch_size,
        accumulatedIterations: c.accumulated_iterations,
      };
      const what = `${v.loss_reduction}/${v.divisor_kind}`;
      if (v.grads === null) {
        expect(() => scaleGrad(noisy, opts), what).toThrow(/actualBatchSize/);
        continue;
      }
      expect(gradDivisor(opts), what).toBe(v.divisor);
      const grads = scaleGrad(noisy, opts);
      v.grads.forEach((t, p) => expectClose(grads[p]!, t, `${what} grads[${p}]`));
      const lr = Math.fround(-c.lr);
      c.params.forEach((t, p) => {
        const w = f32(t), g = grads[p]!;
        for (let k = 0; k < w.length; k++) w[k] = Math.fround(w[k]! + lr * g[k]!);
        expectClose(w, v.params_after![p]!, `${what} params_after[${p}]`);
      });
    }
  });
});

/** Mean, standard deviation and neighbour correlation of `x`. */
function stats(x: Float32Array): { mean: number; std: number; corr: number } {
  const K = x.length;
  let s = 0;
  for (let k = 0; k < K; k++) s += x[k]!;
  const mean = s / K;
  let v = 0, c = 0;
  for (let k = 0; k < K; k++) {
    const d = x[k]! - mean;
    v += d * d;
    if (k + 1 < K) c += d * (x[k + 1]! - mean);
  }
  return { mean, std: Math.sqrt(v / K), corr: c / v };
}

function checkStats(x: Float32Array, std: number): void {
  const K = x.length;
  const st = stats(x);
  expect(Math.abs(st.mean)).toBeLessThanOrEqual((5 * std) / Math.sqrt(K));
  expect(Math.abs(st.std / std - 1)).toBeLessThanOrEqual(5 / Math.sqrt(2 * K));
  expect(Math.abs(st.corr)).toBeLessThanOrEqual(5 / Math.sqrt(K));
}

describe("addNoise: statistics (noise_statistics)", () => {
  const K = 200_000;
  it("the file has the case", () => expect(noiseCases.length).toBeGreaterThan(0));
  it.each(noiseCases.map((c) => [c.name, c] as const))("%s: flat and per-layer, seeded", (_name, c) => {
    const e = c.expected;
    expect(c.noise_multiplier * c.max_grad_norm).toBeCloseTo(e.flat_std_sum, 12);
    const zeros = [new Float32Array(K / 2), new Float32Array(K / 2)];
    const flat = addNoise(zeros, { noiseMultiplier: c.noise_multiplier, maxGradNorm: c.max_grad_norm, rng: new Rng(123) });
    const all = new Float32Array(K);
    all.set(flat[0]!);
    all.set(flat[1]!, K / 2);
    checkStats(all, e.flat_std_sum);
    expect(zeros[0]!.every((v) => v === 0)).toBe(true); // input untouched
    // after mean scaling by E
    const scaled = scaleGrad([all], { lossReduction: "mean", expectedBatchSize: c.expected_batch_size })[0]!;
    checkStats(scaled, e.flat_std_after_mean_scaling);
    // per-layer: the std uses the effective norm ||C_p||_2
    const pl = clipAndAccumulate(
      c.per_layer_max_grad_norms.map(() => ({ data: new Float32Array(0), shape: [0, K / 2] })),
      { maxGradNorm: c.per_layer_max_grad_norms },
    );
    expect(pl.effectiveMaxGradNorm).toBeCloseTo(e.per_layer_effective_max_grad_norm, 6);
    const noisyPl = addNoise(pl.summed, { noiseMultiplier: c.noise_multiplier, maxGradNorm: pl.effectiveMaxGradNorm, rng: new Rng(5) });
    const plAll = new Float32Array(K);
    plAll.set(noisyPl[0]!);
    plAll.set(noisyPl[1]!, K / 2);
    checkStats(plAll, e.per_layer_std_sum);
    checkStats(scaleGrad([plAll], { lossReduction: "mean", expectedBatchSize: c.expected_batch_size })[0]!, e.per_layer_std_after_mean_scaling);
  });
  it.each(noiseCases.map((c) => [c.name, c] as const))("%s: secure mode", (_name, c) => {
    const x = addNoise([new Float32Array(K)], { noiseMultiplier: c.noise_multiplier, maxGradNorm: c.max_grad_norm, secure: true })[0]!;
    checkStats(x, c.expected.secure_mode_std_sum);
    const y = addNoise([new Float32Array(8)], { noiseMultiplier: c.noise_multiplier, maxGradNorm: c.max_grad_norm, secure: true })[0]!;
    const z = addNoise([new Float32Array(8)], { noiseMultiplier: c.noise_multiplier, maxGradNorm: c.max_grad_norm, secure: true })[0]!;
    expect(Array.from(y)).not.toEqual(Array.from(z));
  });
  it("same seed, same noise; different seeds differ; noise is added to the input", () => {
    const base = [Float32Array.from([1, 2, 3, 4, 5, 6])];
    const o = (seed: number) => ({ noiseMultiplier: 1, maxGradNorm: 2, rng: new Rng(seed) });
    const a = addNoise(base, o(7))[0]!, b = addNoise(base, o(7))[0]!, d = addNoise(base, o(8))[0]!;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(d));
    const z = new Rng(7).fillNormal(new Float32Array(6), 2); // the noise is the generator's bulk normal stream, std σ·C
    for (let k = 0; k < 6; k++) expect(a[k]).toBe(Math.fround(base[0]![k]! + z[k]!));
  });
  it("sigma = 0 adds exactly nothing and needs no rng", () => {
    const g = [Float32Array.from([1.5, -2, 3e-8])];
    const out = addNoise(g, { noiseMultiplier: 0, maxGradNorm: 1 });
    expect(Array.from(out[0]!)).toEqual(Array.from(g[0]!));
    expect(out[0]).not.toBe(g[0]);
  });
  it("errors", () => {
    const g = [new Float32Array(2)];
    expect(() => addNoise(g, { noiseMultiplier: -0.1, maxGradNorm: 1, rng: new Rng(0) })).toThrow(/addNoise: noiseMultiplier .* -0.1/);
    expect(() => addNoise(g, { noiseMultiplier: NaN, maxGradNorm: 1, rng: new Rng(0) })).toThrow(RangeError);
    expect(() => addNoise(g, { noiseMultiplier: 1, maxGradNorm: 0, rng: new Rng(0) })).toThrow(/addNoise: maxGradNorm .* 0/);
    expect(() => addNoise(g, { noiseMultiplier: 1, maxGradNorm: 1 })).toThrow(TypeError);
    expect(() => addNoise(g, { noiseMultiplier: 1, maxGradNorm: 1, rng: new Rng(0), secure: true })).toThrow(TypeError);
  });
});

describe("clipAndAccumulate: semantics and errors", () => {
  it("documented example; C equal to a norm still clips slightly; inputs untouched", () => {
    const g = { data: Float32Array.from([3, 4, 0.3, 0.4]), shape: [2, 2] };
    const r = clipAndAccumulate([g], { maxGradNorm: 5 });
    expect(Array.from(r.perSampleNorms)).toEqual([5, Math.fround(0.5)]);
    expect(r.clipFactors[0]).toBe(Math.fround(5 / Math.fround(5 + Math.fround(1e-6))));
    expect(r.clipFactors[0]).toBeLessThan(1);
    expect(r.clipFactors[1]).toBe(1);
    expect(r.numClipped).toBe(1);
    expect(Array.from(g.data)).toEqual(Array.from(Float32Array.from([3, 4, 0.3, 0.4])));
  });
  it("an empty parameter list and B = 0 work", () => {
    const r = clipAndAccumulate([], { maxGradNorm: 1 });
    expect(r.summed).toEqual([]);
    expect(r.numClipped).toBe(0);
    const e = clipAndAccumulate([{ data: new Float32Array(0), shape: [0, 3, 2] }], { maxGradNorm: [1] });
    expect(Array.from(e.summed[0]!)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(e.numClipped).toEqual([0]);
  });
  it("errors name the function and the values", () => {
    const g = { data: new Float32Array(6), shape: [2, 3] };
    expect(() => clipAndAccumulate([g], { maxGradNorm: 0 })).toThrow(/clipAndAccumulate: maxGradNorm .* 0/);
    expect(() => clipAndAccumulate([g], { maxGradNorm: -1 })).toThrow(RangeError);
    expect(() => clipAndAccumulate([g], { maxGradNorm: NaN })).toThrow(RangeError);
    expect(() => clipAndAccumulate([g, g], { maxGradNorm: [1, 0] })).toThrow(/maxGradNorm\[1\] .* 0/);
    expect(() => clipAndAccumulate([g, g], { maxGradNorm: [1] })).toThrow(/1 thresholds for 2 parameters/);
    expect(() => clipAndAccumulate([{ data: new Float32Array(5), shape: [2, 3] }], { maxGradNorm: 1 })).toThrow(/5 elements .* \[2, 3\] needs 6/);
    expect(() => clipAndAccumulate([g, { data: new Float32Array(3), shape: [1, 3] }], { maxGradNorm: 1 })).toThrow(/grads\[0\] has 2 samples, grads\[1\] has 1/);
    expect(() => clipAndAccumulate([{ data: new Float32Array(1), shape: [] }], { maxGradNorm: 1 })).toThrow(/batch dimension/);
  });
});

describe("scaleGrad", () => {
  it("divisors and errors", () => {
    expect(gradDivisor({ lossReduction: "sum", expectedBatchSize: 8 })).toBe(1);
    expect(gradDivisor({ lossReduction: "mean", expectedBatchSize: 8, accumulatedIterations: 2 })).toBe(16);
    expect(Array.from(scaleGrad([Float32Array.from([8, 4])], { lossReduction: "mean", expectedBatchSize: 8 })[0]!)).toEqual([1, 0.5]);
    expect(() => scaleGrad([], { lossReduction: "mean", divisor: "actual", actualBatchSize: 0 })).toThrow(/actualBatchSize .* 0/);
    expect(() => scaleGrad([], { lossReduction: "mean" })).toThrow(/expectedBatchSize/);
    expect(() => scaleGrad([], { lossReduction: "avg" as "mean" })).toThrow(/lossReduction/);
  });
});

describe("Poisson sampling", () => {
  it("expectedBatchSize = int(N q) and its errors", () => {
    expect(expectedBatchSize(60000, 256 / 60000)).toBe(256);
    expect(expectedBatchSize(10, 1)).toBe(10);
    for (const q of [0, -0.1, 1.5, NaN]) expect(() => expectedBatchSize(10, q)).toThrow(/expectedBatchSize: sampleRate q must be in \(0, 1\]/);
    expect(() => expectedBatchSize(-1, 0.5)).toThrow(/size/);
  });
  it("mean batch size is N q within 5 sd; indices are sorted, distinct, in range", () => {
    const N = 2000, q = 0.03, T = 400;
    let total = 0;
    for (const idx of poissonBatches({ size: N, sampleRate: q, steps: T, rng: new Rng(11) })) {
      total += idx.length;
      for (let k = 0; k < idx.length; k++) {
        const ok = idx[k]! >= 0 && idx[k]! < N && (k === 0 || idx[k]! > idx[k - 1]!);
        if (!ok) expect.fail(`bad index ${idx[k]} at ${k}`);
      }
    }
    const sd = Math.sqrt(N * q * (1 - q) / T); // sd of the mean batch size
    expect(Math.abs(total / T - N * q)).toBeLessThanOrEqual(5 * sd);
  });
  it("tiny q yields empty batches; epochs give int(1/q) steps; q = 1 takes everything; seeded", () => {
    const batches = [...poissonBatches({ size: 10, sampleRate: 0.001, steps: 200, rng: new Rng(3) })];
    expect(batches.length).toBe(200);
    const empty = batches.filter((b) => b.length === 0).length;
    // P(empty) = 0.999^10 ≈ 0.990: expect about 198
    expect(empty).toBeGreaterThan(190);
    expect(poissonSteps({ size: 100, sampleRate: 0.3, epochs: 2, rng: new Rng(0) })).toBe(6);
    expect([...poissonBatches({ size: 100, sampleRate: 0.3, epochs: 2, rng: new Rng(0) })].length).toBe(6);
    expect(Array.from([...poissonBatches({ size: 4, sampleRate: 1, steps: 1, rng: new Rng(0) })][0]!)).toEqual([0, 1, 2, 3]);
    const a = [...poissonBatches({ size: 50, sampleRate: 0.2, steps: 5, rng: new Rng(9) })].map((b) => Array.from(b));
    const b = [...poissonBatches({ size: 50, sampleRate: 0.2, steps: 5, rng: new Rng(9) })].map((x) => Array.from(x));
    expect(a).toEqual(b);
  });
  it("errors are thrown at the call", () => {
    const rng = new Rng(0);
    expect(() => poissonBatches({ size: 10, sampleRate: 0, steps: 1, rng })).toThrow(/poissonBatches: sampleRate q must be in \(0, 1\], got 0/);
    expect(() => poissonBatches({ size: 10, sampleRate: 1.01, steps: 1, rng })).toThrow(RangeError);
    expect(() => poissonBatches({ size: 10, sampleRate: 0.5, rng })).toThrow(/exactly one of steps and epochs/);
    expect(() => poissonBatches({ size: 10, sampleRate: 0.5, steps: 1, epochs: 1, rng })).toThrow(/exactly one/);
    expect(() => poissonBatches({ size: 10, sampleRate: 0.5, steps: 1.5, rng })).toThrow(/steps/);
    expect(() => poissonBatches({ size: 2.5, sampleRate: 0.5, steps: 1, rng })).toThrow(/size/);
  });
});
