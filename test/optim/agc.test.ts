/**
 * @file Adaptive gradient clipping (`clipGradAgc`, `unitwiseNorms`) against hand-computed
 * values, for the PyTorch layout (unit axis 0), the JAX layout (unit axis -1), whole-tensor units,
 * the eps floor of zero weights, and validation.
 */
import { describe, expect, it } from "vitest";
import { tensor } from "@tapegrad/tensor";
import { clipGradAgc, unitwiseNorms } from "@tapegrad/optim";
import { expectClose, gradOf, param } from "./helpers.js";

// Linear weight [out = 2, in = 3]: W = [[3, 0, 4], [0, 0, 0]], G = [[0.3, 0, 0.4], [1, 0, 0]].
// Row norms: ‖W_0‖ = 5, ‖W_1‖ = 0; ‖G_0‖ = 0.5, ‖G_1‖ = 1. clipping λ = 0.05, eps = 1e-3:
//   unit 0: maxNorm = 0.05·max(5, 1e-3) = 0.25; 0.5 ≥ 0.25 → scale 0.25/0.5 = 0.5 → [0.15, 0, 0.2]
//   unit 1: maxNorm = 0.05·max(0, 1e-3) = 5e-5; 1 ≥ 5e-5 → scale 5e-5/1 → [5e-5, 0, 0]
// Bias [2]: W = [1, 0] (one unit, ‖W‖ = 1), G = [0.01, 0] (‖G‖ = 0.01) < 0.05·1 → unchanged.
const W = [3, 0, 4, 0, 0, 0];
const G = [0.3, 0, 0.4, 1, 0, 0];

describe("clipGradAgc", () => {
  it("clips per output row (PyTorch layout, unit axis 0)", () => {
    const w = param(W, G, [2, 3], "fc.weight");
    const b = param([1, 0], [0.01, 0], [2], "fc.bias");
    const r = clipGradAgc([w, b], 0.05);
    expectClose(gradOf(w), [0.15, 0, 0.2, 5e-5, 0, 0], 1e-6);
    expectClose(gradOf(b), [0.01, 0], 1e-7);
    const s = r.detail.tensors[0]!;
    expect(s.unitShape).toEqual([2, 1]);
    expectClose(s.paramNorms, [5, 0]);
    expectClose(s.gradNorms, [0.5, 1], 1e-7);
    expectClose(s.maxNorms, [0.25, 5e-5], 1e-12);
    expect(s.numClipped).toBe(2);
    expect(r.detail.tensors[1]).toMatchObject({ unitShape: [], numClipped: 0 });
    expect(r).toMatchObject({ numClipped: 2, clipped: true });
  });
  it("unitAxis -1 handles the JAX/Keras [in, out] layout (same units, transposed)", () => {
    // Wᵀ = [[3, 0], [0, 0], [4, 0]], Gᵀ = [[0.3, 1], [0, 0], [0.4, 0]]: units are the columns.
    const w = param([3, 0, 0, 0, 4, 0], [0.3, 1, 0, 0, 0.4, 0], [3, 2]);
    const r = clipGradAgc(w, 0.05, { unitAxis: -1 });
    expectClose(gradOf(w), [0.15, 5e-5, 0, 0, 0.2, 0], 1e-6);
    expect(r.detail.tensors[0]!.unitShape).toEqual([1, 2]);
  });
  it("the wrong axis clips per input column instead (why the layout matters)", () => {
    // unit axis 1 on [out, in]: columns of W have norms [3, 0, 4], of G [√1.09, 0, 0.4].
    const w = param(W, G, [2, 3]);
    const s = clipGradAgc(w, 0.05, { unitAxis: 1 }).detail.tensors[0]!;
    expectClose(s.paramNorms, [3, 0, 4]);
    expectClose(s.gradNorms, [Math.sqrt(1.09), 0, 0.4], 1e-7);
  });
  it("unitAxis null treats the tensor as one unit: ‖W‖ = 5, ‖G‖ = √1.25, scale 0.25/√1.25", () => {
    const w = param(W, G, [2, 3]);
    const r = clipGradAgc(w, 0.05, { unitAxis: null });
    const s = 0.25 / Math.sqrt(1.25);
    expectClose(gradOf(w), G.map((g) => g * s), 1e-6);
    expect(r.detail.tensors[0]!.unitShape).toEqual([1, 1]);
  });
  it("conv weights [O, I, kH, kW]: one unit per filter", () => {
    // 2 filters of 1×2×1: filter 0 = [1, 0] grad [1, 0]; filter 1 = [0, 2] grad [0, 0.001].
    // λ = 0.1: filter 0 maxNorm 0.1 < ‖G‖ = 1 → grad [0.1, 0]; filter 1 maxNorm 0.2 > 0.001 → kept.
    const w = param([1, 0, 0, 2], [1, 0, 0, 0.001], [2, 1, 2, 1]);
    const r = clipGradAgc([w], 0.1);
    expectClose(gradOf(w), [0.1, 0, 0, 0.001], 1e-6);
    expect(r.detail.tensors[0]!.unitShape).toEqual([2, 1, 1, 1]);
  });
  it("0-d parameters, a per-parameter unitAxis function, parameters without gradients", () => {
    const s = param([2], [1], []); // maxNorm 0.1·2 = 0.2 < 1 → grad 0.2
    const none = param([1, 1]);
    const r = clipGradAgc([s, none], 0.1, { unitAxis: () => 0 });
    expectClose(gradOf(s), [0.2], 1e-7);
    expect(r.detail.tensors).toHaveLength(2);
    expect(r.detail.tensors[1]).toBeNull();
  });
  it("gradient norms below divEps use divEps in the division", () => {
    // W = [0] → maxNorm = 1·max(0, 1e-3) = 1e-3; G = [1e-7] ≥? no: 1e-7 < 1e-3 → kept.
    const p = param([0], [1e-7], [1]);
    clipGradAgc(p, 1);
    expectClose(gradOf(p), [1e-7]);
    // clipping 0 → maxNorm 0 → G·0/max(1e-7, divEps) = 0
    clipGradAgc(p, 0);
    expect(gradOf(p)).toEqual([0]);
  });
  it("NaN gradients become NaN in their unit only", () => {
    const w = param([1, 1, 1, 1], [NaN, 0, 0.01, 0], [2, 2]);
    clipGradAgc(w, 0.1);
    const g = gradOf(w);
    expect(Number.isNaN(g[0]!) && Number.isNaN(g[1]!)).toBe(true);
    expectClose(g.slice(2), [0.01, 0]);
  });
  it("validation", () => {
    const w = param([1, 2], [1, 1], [1, 2]);
    expect(() => clipGradAgc(w, -1)).toThrow("clipGradAgc: clipping must be >= 0 (got -1)");
    expect(() => clipGradAgc(w, 0.1, { unitAxis: 2 })).toThrow("clipGradAgc: unitAxis 2 is out of range for parameter #0 [1,2]");
    expect(() => clipGradAgc(w, 0.1, { unitAxis: 0.5 })).toThrow(/unitAxis must be an integer, null or a function/);
    expect(() => clipGradAgc([tensor([1]) as never], 0.1)).toThrow(/AGC needs parameter values/);
  });
});

describe("unitwiseNorms", () => {
  it("norms over all axes but the unit axis", () => {
    expect(unitwiseNorms(Float32Array.of(3, 4, 0, 1), [2, 2], 0)).toEqual({ norms: Float64Array.of(5, 1), unitShape: [2, 1] });
    expect(unitwiseNorms(Float32Array.of(3, 4, 0, 1), [2, 2], 1)).toEqual({ norms: Float64Array.of(3, Math.sqrt(17)), unitShape: [1, 2] });
    expect(unitwiseNorms(Float32Array.of(3, 4), [2])).toEqual({ norms: Float64Array.of(5), unitShape: [] });
  });
});
