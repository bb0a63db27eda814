/**
 * @file `clipGradNorm` / `clipGradsWithNorm` / `clipCoefficient`: PyTorch's edge cases (maxNorm 0,
 * all-zero gradients, norm equal to maxNorm, one NaN, one Inf, p = ∞, fractional p, empty lists,
 * parameters without gradients, 1e20 gradients), each `compat` mode side by side, each non-finite
 * policy, and argument validation. Arithmetic in the comments.
 */
import { describe, expect, it } from "vitest";
import { tensor } from "@tapegrad/tensor";
import { NonFiniteGradientError, clipCoefficient, clipGradNorm, clipGradsWithNorm } from "@tapegrad/optim";
import { expectClose, expectNear, f32, gradOf, gradParam, param } from "./helpers.js";

describe("clipGradNorm (torch semantics, the default)", () => {
  it("clips [3, 4] (norm 5) to maxNorm 1: coef = 1/(5 + 1e-6)", () => {
    const p = gradParam([3, 4]);
    const r = clipGradNorm([p], 1);
    const coef = Math.fround(1 / (5 + 1e-6)); // 0.19999996, a float32 as in PyTorch
    expect(r).toEqual({ name: "clipGradNorm", totalNorm: 5, coef, threshold: 1, clipped: true, numClipped: 1, nonFiniteCount: 0, skipped: false });
    expect(gradOf(p)).toEqual(f32([3 * coef, 4 * coef])); // [0.59999988, 0.79999984]
  });
  it("leaves gradients below maxNorm unchanged (coef exactly 1)", () => {
    const p = gradParam([3, 4]);
    const r = clipGradNorm(p, 10); // 10/(5 + 1e-6) = 1.9999996 → clamped to 1
    expect(r.coef).toBe(1);
    expect(r.clipped).toBe(false);
    expect(gradOf(p)).toEqual([3, 4]);
  });
  it("norm == maxNorm still scales by maxNorm/(maxNorm + 1e-6)", () => {
    const p = gradParam([3, 4]);
    const r = clipGradNorm([p], 5);
    expect(r.coef).toBe(Math.fround(5 / 5.000001)); // 0.9999998
    expect(r.clipped).toBe(true);
    expect(gradOf(p)).toEqual(f32([3 * r.coef, 4 * r.coef]));
  });
  it("maxNorm 0 zeroes the gradients (coef 0, no NaN), also when they are all zero", () => {
    const p = gradParam([3, -4]);
    expect(clipGradNorm([p], 0).coef).toBe(0);
    expect(gradOf(p)).toEqual([0, -0]);
    const z = gradParam([0, 0]);
    const r = clipGradNorm([z], 0); // 0/(0 + 1e-6) = 0
    expect(r).toMatchObject({ totalNorm: 0, coef: 0 });
    expect(gradOf(z)).toEqual([0, 0]);
  });
  it("all-zero gradients: norm 0, coef min(1, 1/1e-6) = 1, unchanged", () => {
    const p = gradParam([0, 0, 0]);
    expect(clipGradNorm([p], 1)).toMatchObject({ totalNorm: 0, coef: 1, clipped: false });
    expect(gradOf(p)).toEqual([0, 0, 0]);
  });
  it("one NaN: norm NaN, coef NaN, every gradient NaN", () => {
    const a = gradParam([3, NaN]);
    const b = gradParam([1, 2]);
    const r = clipGradNorm([a, b], 1);
    expect(r.totalNorm).toBeNaN();
    expect(r.coef).toBeNaN();
    expect(r).toMatchObject({ clipped: true, nonFiniteCount: 1 });
    expect([...gradOf(a), ...gradOf(b)].every(Number.isNaN)).toBe(true);
  });
  it("one Inf: norm Infinity, coef 0: finite gradients → ±0, the infinite one → NaN", () => {
    const a = gradParam([Infinity, -3]);
    const b = gradParam([4]);
    const r = clipGradNorm([a, b], 1);
    expect(r).toMatchObject({ totalNorm: Infinity, coef: 0, nonFiniteCount: 1 });
    expect(gradOf(a)[0]).toBeNaN(); // Inf · 0
    expect(Object.is(gradOf(a)[1], -0)).toBe(true); // sign kept
    expect(gradOf(b)).toEqual([0]);
  });
  it("p = Infinity: norm max|g| = 4, coef 2/(4 + 1e-6)", () => {
    const a = gradParam([3, -4]);
    const b = gradParam([2]);
    const r = clipGradNorm([a, b], 2, { normType: Infinity });
    expect(r.totalNorm).toBe(4);
    expect(r.coef).toBe(Math.fround(2 / 4.000001)); // 0.49999988
    expect([...gradOf(a), ...gradOf(b)]).toEqual(f32([3 * r.coef, -4 * r.coef, 2 * r.coef]));
  });
  it("fractional p = 0.5: ‖[1, 4]‖ = (1 + 2)² = 9, coef 3/(9 + 1e-6)", () => {
    const p = gradParam([1, 4]);
    const r = clipGradNorm([p], 3, { normType: 0.5 });
    expectNear(r.totalNorm, 9, 1e-12);
    expect(r.coef).toBe(Math.fround(3 / (9 + 1e-6)));
    expectClose(gradOf(p), [1 / 3, 4 / 3], 1e-6);
  });
  it("p = 1 and p = 3", () => {
    const p = gradParam([3, -4]);
    expect(clipGradNorm([p], 14, { normType: 1 }).totalNorm).toBe(7); // 14/7 > 1: unchanged
    expect(gradOf(p)).toEqual([3, -4]);
    const q = gradParam([1, 2]);
    const r = clipGradNorm([q], 1, { normType: 3 }); // (1 + 8)^(1/3) = 2.0800838
    expectNear(r.totalNorm, Math.cbrt(9), 1e-12);
    expectClose(gradOf(q), [1 / (Math.cbrt(9) + 1e-6), 2 / (Math.cbrt(9) + 1e-6)], 1e-6);
  });
  it("an empty parameter list: norm 0, coef 1, nothing to do", () => {
    expect(clipGradNorm([], 1)).toEqual({ name: "clipGradNorm", totalNorm: 0, coef: 1, threshold: 1, clipped: false, numClipped: 0, nonFiniteCount: 0, skipped: false });
  });
  it("parameters without gradients are skipped (their grad stays null)", () => {
    const none = param([1, 2]);
    const p = gradParam([3, 4]);
    expect(clipGradNorm([none, p], 1).totalNorm).toBe(5);
    expect(none.grad).toBeNull();
    expect(clipGradNorm([none], 1)).toMatchObject({ totalNorm: 0, coef: 1 });
  });
  it("huge 1e20 gradients are clipped to the right direction (PyTorch float32 would zero them)", () => {
    const p = gradParam([1e20, 1e20]);
    const r = clipGradNorm([p], 1);
    expect(Number.isFinite(r.totalNorm)).toBe(true);
    expectNear(r.totalNorm, Math.SQRT2 * Math.fround(1e20), 1e-15);
    expectClose(gradOf(p), [Math.SQRT1_2, Math.SQRT1_2], 1e-6); // 1e20 · 1/(√2·1e20) = 0.70710678
  });
  it("accepts gradient tensors directly and edits them in place (also views with an offset)", () => {
    const g = tensor([0, 3, 4]);
    const view = g.narrow(0, 1, 2); // [3, 4], offset 1
    clipGradNorm([view], 1);
    expectClose(Array.from(g.data), [0, 0.6, 0.8], 1e-6);
  });
  it("a custom eps", () => {
    const p = gradParam([3, 4]);
    expect(clipGradNorm([p], 5, { eps: 0 }).coef).toBe(1); // 5/5
  });
});

describe("clipGradNorm: compat modes side by side", () => {
  // [n, c] → coefficient per mode; see the table in clip-norm.ts.
  const table: [string, number, number, Record<string, number>][] = [
    ["n > c", 5, 2, { torch: 2 / 5.000001, optax: 0.4, keras: 0.4, tf: 0.4 }],
    ["n == c", 5, 5, { torch: 5 / 5.000001, optax: 1, keras: 1, tf: 1 }],
    ["n < c", 5, 10, { torch: 1, optax: 1, keras: 1, tf: 1 }],
    ["n == 0", 0, 1, { torch: 1, optax: 1, keras: 1, tf: 1 }],
    ["c == 0, n > 0", 5, 0, { torch: 0, optax: 0, keras: 1, tf: 0 }],
    ["c == 0, n == 0", 0, 0, { torch: 0, optax: NaN, keras: 1, tf: NaN }],
    ["n == Infinity", Infinity, 1, { torch: 0, optax: 0, keras: NaN, tf: NaN }],
    ["n is NaN", NaN, 1, { torch: NaN, optax: NaN, keras: NaN, tf: NaN }],
  ];
  for (const [label, n, c, coefs] of table) {
    it(`${label}: torch ${coefs.torch}, optax ${coefs.optax}, keras ${coefs.keras}, tf ${coefs.tf}`, () => {
      for (const mode of ["torch", "optax", "keras", "tf"] as const) {
        const got = clipCoefficient(n, c, mode);
        if (Number.isNaN(coefs[mode]!)) expect(got, mode).toBeNaN();
        else expect(got, mode).toBe(Math.fround(coefs[mode]!)); // float32, as PyTorch's coefficient tensor
      }
    });
  }
  it("optax: maxNorm 0 with zero gradients gives NaN (optax#1752), reproduced", () => {
    const p = gradParam([0, 0]);
    clipGradNorm([p], 0, { compat: "optax" });
    expect(gradOf(p).every(Number.isNaN)).toBe(true);
  });
  it("optax: norm == maxNorm takes the clip branch, an exact identity", () => {
    const p = gradParam([3, 4]);
    expect(clipGradNorm([p], 5, { compat: "optax" })).toMatchObject({ coef: 1, clipped: false });
    expect(gradOf(p)).toEqual([3, 4]);
  });
  it("keras: maxNorm 0 means clipping is off", () => {
    const p = gradParam([3, 4]);
    expect(clipGradNorm([p], 0, { compat: "keras" }).coef).toBe(1);
    expect(gradOf(p)).toEqual([3, 4]);
  });
  it("keras and tf: an infinite norm turns every gradient into NaN (tf#21363)", () => {
    for (const compat of ["keras", "tf"] as const) {
      const p = gradParam([Infinity, 1, 0]);
      clipGradNorm([p], 1, { compat });
      expect(gradOf(p).every(Number.isNaN), compat).toBe(true);
    }
  });
  it("optax and torch: an infinite norm zeroes finite gradients, Inf → NaN", () => {
    for (const compat of ["optax", "torch"] as const) {
      const p = gradParam([Infinity, 1]);
      clipGradNorm([p], 1, { compat });
      expect(gradOf(p)[0]).toBeNaN();
      expect(gradOf(p)[1]).toBe(0);
    }
  });
});

describe("clipGradNorm: non-finite policies", () => {
  it('"propagate" is the default (PyTorch)', () => {
    const p = gradParam([NaN, 1]);
    expect(clipGradNorm([p], 1, { nonFinite: "propagate" }).totalNorm).toBeNaN();
    expect(gradOf(p).every(Number.isNaN)).toBe(true);
  });
  it('"error" throws before touching the gradients (error_if_nonfinite)', () => {
    const p = gradParam([3, NaN, Infinity]);
    let err: unknown;
    try {
      clipGradNorm([p], 1, { nonFinite: "error" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NonFiniteGradientError);
    expect((err as NonFiniteGradientError).nonFiniteCount).toBe(2);
    expect((err as NonFiniteGradientError).totalNorm).toBeNaN();
    expect((err as Error).message).toMatch(/^clipGradNorm: the total norm of order 2 of the gradients is non-finite \(got NaN; 2 non-finite gradient elements\), so it cannot be clipped/);
    expect(gradOf(p)).toEqual([3, NaN, Infinity]);
  });
  it('"error" does not throw for finite gradients', () => {
    const p = gradParam([3, 4]);
    expect(clipGradNorm([p], 1, { nonFinite: "error" }).totalNorm).toBe(5);
  });
  it('"zero" replaces NaN and ±Infinity by 0, then clips: [3, NaN, 4, -Inf] → [3, 0, 4, 0], norm 5', () => {
    const p = gradParam([3, NaN, 4, -Infinity]);
    const r = clipGradNorm([p], 1, { nonFinite: "zero" });
    expect(r).toMatchObject({ totalNorm: 5, nonFiniteCount: 2, skipped: false });
    expect(gradOf(p)).toEqual(f32([3 / 5.000001, 0, 4 / 5.000001, 0]));
  });
  it('"skip" leaves non-finite gradients untouched and reports skipped', () => {
    const p = gradParam([3, Infinity]);
    const r = clipGradNorm([p], 1, { nonFinite: "skip" });
    expect(r).toEqual({ name: "clipGradNorm", totalNorm: Infinity, coef: 1, threshold: 1, clipped: false, numClipped: 0, nonFiniteCount: 1, skipped: true });
    expect(gradOf(p)).toEqual([3, Infinity]);
    const q = gradParam([3, 4]);
    expect(clipGradNorm([q], 1, { nonFinite: "skip" }).skipped).toBe(false);
  });
});

describe("clipGradsWithNorm", () => {
  it("scales by the coefficient of a given total norm: 5/(10 + 1e-6)", () => {
    const p = gradParam([2, 4]);
    const r = clipGradsWithNorm([p], 5, 10);
    expect(r).toEqual({ name: "clipGradsWithNorm", totalNorm: 10, coef: Math.fround(5 / 10.000001), threshold: 5, clipped: true, numClipped: 1, nonFiniteCount: 0, skipped: false });
    expect(gradOf(p)).toEqual(f32([2 * r.coef, 4 * r.coef]));
  });
  it("supports compat and rejects a non-number norm", () => {
    const p = gradParam([2, 4]);
    expect(clipGradsWithNorm([p], 5, 10, { compat: "optax" }).coef).toBe(0.5);
    expect(() => clipGradsWithNorm([p], 5, "10" as never)).toThrow(/clipGradsWithNorm: totalNorm must be a number \(got "10"\)/);
  });
});

describe("clipGradNorm: validation", () => {
  const p = () => gradParam([1]);
  it("rejects negative and NaN max norms", () => {
    expect(() => clipGradNorm([p()], -1)).toThrow(RangeError);
    expect(() => clipGradNorm([p()], -1)).toThrow("clipGradNorm: maxNorm must be >= 0 (got -1)");
    expect(() => clipGradNorm([p()], NaN)).toThrow("clipGradNorm: maxNorm must be a number (got NaN)");
  });
  it("accepts maxNorm Infinity (never clips)", () => {
    expect(clipGradNorm([p()], Infinity).coef).toBe(1);
  });
  it("rejects bad options", () => {
    expect(() => clipGradNorm([p()], 1, { normType: NaN })).toThrow("clipGradNorm: normType must be a number (got NaN)");
    expect(() => clipGradNorm([p()], 1, { compat: "jax" as never })).toThrow('clipGradNorm: compat must be one of "torch", "optax", "keras", "tf" (got "jax")');
    expect(() => clipGradNorm([p()], 1, { nonFinite: "ignore" as never })).toThrow(/clipGradNorm: nonFinite must be one of/);
    expect(() => clipGradNorm([p()], 1, { eps: -1 })).toThrow("clipGradNorm: eps must be >= 0 (got -1)");
  });
  it("rejects a gradient whose size differs from its parameter", () => {
    const q = param([1, 2, 3]);
    q.grad = tensor([1, 2]);
    expect(() => clipGradNorm([q], 1)).toThrow(/clipGradNorm: parameter #0 \[3\] has a gradient of shape \[2\]/);
  });
});
