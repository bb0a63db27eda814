/**
 * @file Value clipping (`clipGradValue`), per-tensor norm clipping (`clipGradNormPerTensor`,
 * Keras `clipnorm`) and block-RMS clipping (`clipGradBlockRms`, Optax), with hand-computed values.
 */
import { describe, expect, it } from "vitest";
import { clipGradBlockRms, clipGradNormPerTensor, clipGradValue, perTensorCoefficient } from "@tapegrad/optim";
import { expectClose, f32, gradOf, gradParam, param } from "./helpers.js";

describe("clipGradValue", () => {
  it("clamps to [-c, c] with float32 bounds; bound values, NaN and -0 pass unchanged; ±Inf → ±c", () => {
    const p = gradParam([0.1, 0.2, -0.2, NaN, Infinity, -Infinity, -0, 0.05, -0.1]);
    const r = clipGradValue([p], 0.1);
    expect(r).toEqual({ name: "clipGradValue", numClipped: 4, clipped: true, nonFiniteCount: 3, skipped: false, detail: { min: -Math.fround(0.1), max: Math.fround(0.1) } }); // 0.2, -0.2, Inf, -Inf; NaN, Inf, -Inf
    const g = gradOf(p);
    expect(g).toEqual(f32([0.1, 0.1, -0.1, NaN, 0.1, -0.1, -0, 0.05, -0.1]));
    expect(Object.is(g[6], -0)).toBe(true);
  });
  it("asymmetric bounds {min, max}, and open ends", () => {
    const p = gradParam([-3, -0.5, 0.7, 2]);
    expect(clipGradValue(p, { min: -1, max: 0.5 }).numClipped).toBe(3);
    expect(gradOf(p)).toEqual([-1, -0.5, 0.5, 0.5]);
    const q = gradParam([-3, 2]);
    clipGradValue(q, { max: 1 });
    expect(gradOf(q)).toEqual([-3, 1]);
  });
  it("clipValue 0 zeroes every gradient; Infinity is a no-op", () => {
    const p = gradParam([1, -2, 0]);
    clipGradValue(p, 0);
    expect(gradOf(p).map((x) => x === 0)).toEqual([true, true, true]);
    const q = gradParam([1e30, -1e30]);
    expect(clipGradValue(q, Infinity).clipped).toBe(false);
  });
  it("skips parameters without gradients and empty lists", () => {
    expect(clipGradValue([param([1])], 1)).toEqual({ name: "clipGradValue", numClipped: 0, clipped: false, nonFiniteCount: 0, skipped: false, detail: { min: -1, max: 1 } });
    expect(clipGradValue([], 1).numClipped).toBe(0);
  });
  it("rejects a negative clipValue, NaN and min > max (PyTorch would silently set all to max)", () => {
    const p = gradParam([1]);
    expect(() => clipGradValue(p, -1)).toThrow("clipGradValue: clipValue must be >= 0 (got -1)");
    expect(() => clipGradValue(p, NaN)).toThrow("clipGradValue: clipValue must be a number (got NaN)");
    expect(() => clipGradValue(p, { min: 1, max: 0 })).toThrow("clipGradValue: min must be <= max (got min 1 and max 0)");
    expect(() => clipGradValue(p, "1" as never)).toThrow(/clipGradValue: clipValue must be a number or \{ min, max \}/);
  });
});

describe("clipGradNormPerTensor (Keras clipnorm)", () => {
  // g1 = [3, 4] (norm 5), g2 = [0.3, 0.4] (norm 0.5), g3 = [0, 0] (norm 0); maxNorm 1.
  const make = () => [gradParam([3, 4]), gradParam([0.3, 0.4]), gradParam([0, 0])];
  it('compat "keras": g·c/max(‖g‖, c) → coefs [1/5, 1, 1]', () => {
    const ps = make();
    const r = clipGradNormPerTensor(ps, 1, { compat: "keras" });
    expectClose(r.detail.norms, [5, 0.5, 0], 1e-7);
    expect(r.detail.coefs).toEqual([Math.fround(0.2), 1, 1]); // float32 scalars
    expect(r.numClipped).toBe(1);
    expect(gradOf(ps[0]!)).toEqual(f32([0.6, 0.8]));
    expect(gradOf(ps[1]!)).toEqual(f32([0.3, 0.4]));
  });
  it('compat "torch" (default): min(1, c/(‖g‖ + 1e-6)) per tensor', () => {
    const ps = make();
    const r = clipGradNormPerTensor(ps, 1);
    expect(r.detail.coefs).toEqual([Math.fround(1 / 5.000001), 1, 1]);
    expect(gradOf(ps[0]!)).toEqual(f32([3 / 5.000001, 4 / 5.000001]));
  });
  it('maxNorm 0: "tf" gives 0 and NaN for the all-zero tensor (0/0); "keras" switches clipping off', () => {
    const ps = make();
    clipGradNormPerTensor(ps, 0, { compat: "tf" });
    expect(gradOf(ps[0]!)).toEqual([0, 0]);
    expect(gradOf(ps[2]!).every(Number.isNaN)).toBe(true);
    const qs = make();
    expect(clipGradNormPerTensor(qs, 0, { compat: "keras" }).clipped).toBe(false);
    expect(gradOf(qs[0]!)).toEqual([3, 4]);
    const ts = make();
    clipGradNormPerTensor(ts, 0); // torch: coef 0 for every tensor, no NaN
    expect(ts.flatMap(gradOf)).toEqual([0, 0, 0, 0, 0, 0]);
  });
  it("an infinite tensor only affects itself: ‖[Inf, 1]‖ = Inf → [NaN, 0]; others unchanged", () => {
    const a = gradParam([Infinity, 1]);
    const b = gradParam([0.3, 0.4]);
    clipGradNormPerTensor([a, b], 1, { compat: "tf" });
    expect(gradOf(a)[0]).toBeNaN();
    expect(gradOf(a)[1]).toBe(0);
    expect(gradOf(b)).toEqual(f32([0.3, 0.4]));
  });
  it("perTensorCoefficient table", () => {
    expect(perTensorCoefficient(4, 1, "tf")).toBe(0.25);
    expect(perTensorCoefficient(0, 0, "tf")).toBeNaN();
    expect(perTensorCoefficient(0, 0, "keras")).toBe(1);
    expect(perTensorCoefficient(1, 1, "optax")).toBe(1);
    expect(perTensorCoefficient(NaN, 1, "tf")).toBeNaN();
  });
  it("other p, and validation", () => {
    const p = gradParam([3, -4]);
    expect(clipGradNormPerTensor([p], 3.5, { normType: Infinity, compat: "keras" }).detail.norms).toEqual([4]);
    expect(gradOf(p)).toEqual(f32([3 * 0.875, -4 * 0.875])); // 3.5/4 = 0.875
    expect(() => clipGradNormPerTensor([p], -1)).toThrow("clipGradNormPerTensor: maxNorm must be >= 0 (got -1)");
  });
});

describe("clipGradBlockRms (Optax clip_by_block_rms)", () => {
  it("divides by max(1, rms/threshold): [3, 4] has rms sqrt(25/2) = 3.5355", () => {
    const p = gradParam([3, 4]);
    const r = clipGradBlockRms([p], 1);
    const rms = Math.sqrt(12.5);
    expect(r.detail.rms).toEqual([rms]);
    expect(r.detail.divisors).toEqual([rms]);
    expect(gradOf(p)).toEqual(f32([3 / rms, 4 / rms])); // [0.84852814, 1.13137085]: rms now 1
  });
  it("blocks below the threshold, all-zero blocks and empty lists are unchanged", () => {
    const a = gradParam([3, 4]); // rms 3.5355 / 5 = 0.707 → divisor 1
    const z = gradParam([0, 0]);
    const r = clipGradBlockRms([a, z], 5);
    expect(r).toEqual({ name: "clipGradBlockRms", threshold: 5, detail: { rms: [Math.sqrt(12.5), 0], divisors: [1, 1] }, numClipped: 0, clipped: false, nonFiniteCount: 0, skipped: false });
    expect(gradOf(a)).toEqual([3, 4]);
    expect(clipGradBlockRms([], 1).clipped).toBe(false);
  });
  it("each block is clipped on its own: [6, 8] (rms 7.07) and [0.1, 0.1] (rms 0.1), threshold 1", () => {
    const a = gradParam([6, 8]);
    const b = gradParam([0.1, 0.1]);
    const r = clipGradBlockRms([a, b], 1);
    expect(r.numClipped).toBe(1);
    expectClose(gradOf(a), [6 / Math.sqrt(50), 8 / Math.sqrt(50)], 1e-7);
    expect(gradOf(b)).toEqual(f32([0.1, 0.1]));
  });
  it("a NaN block becomes NaN (jnp.maximum propagates NaN); threshold must be > 0", () => {
    const p = gradParam([NaN, 1]);
    clipGradBlockRms([p], 1);
    expect(gradOf(p).every(Number.isNaN)).toBe(true);
    expect(() => clipGradBlockRms([p], 0)).toThrow("clipGradBlockRms: threshold must be > 0 (got 0)");
  });
});
