/**
 * @file Total gradient norms (`getTotalNorm`, `normOf`): every norm type on hand-computed
 * vectors, float64 accumulation (1e20 gradients whose float32 Σg² overflows, 1e-30 gradients whose
 * float32 Σg² underflows), non-finite values, empty lists and parameters without gradients.
 */
import { describe, expect, it } from "vitest";
import { tensor } from "@tapegrad/tensor";
import { NonFiniteGradientError, countNonFinite, countNonzero, getTotalNorm, normOf } from "@tapegrad/optim";
import { expectNear, gradParam, param } from "./helpers.js";

// The running example: two gradients, [3, 4] and [0, -12]; together [3, 4, 0, -12].
const grads = () => [tensor([3, 4]), tensor([0, -12])];

describe("getTotalNorm: norm types", () => {
  it("p = 2: sqrt(9 + 16 + 0 + 144) = sqrt(169) = 13", () => {
    expect(getTotalNorm(grads())).toBe(13);
    expect(getTotalNorm(grads(), 2)).toBe(13);
  });
  it("p = 1: 3 + 4 + 0 + 12 = 19", () => {
    expect(getTotalNorm(grads(), 1)).toBe(19);
  });
  it("p = Infinity: max |g| = 12; p = -Infinity: min |g| = 0", () => {
    expect(getTotalNorm(grads(), Infinity)).toBe(12);
    expect(getTotalNorm(grads(), -Infinity)).toBe(0);
    expect(getTotalNorm([tensor([3, -4]), tensor([-2])], -Infinity)).toBe(2);
  });
  it("p = 3: (27 + 64 + 0 + 1728)^(1/3) = 1819^(1/3) ≈ 12.2071", () => {
    expectNear(getTotalNorm(grads(), 3), Math.cbrt(1819), 1e-12);
  });
  it("fractional p = 0.5: (√3 + √4 + 0 + √12)² = 51.7846…", () => {
    const expected = (Math.sqrt(3) + 2 + Math.sqrt(12)) ** 2; // 7.19615242…² = 51.78460969…
    expectNear(getTotalNorm(grads(), 0.5), expected, 1e-12);
    expectNear(getTotalNorm([tensor([1, 4])], 0.5), 9, 1e-12); // (1 + 2)² = 9
  });
  it("p = 1.5 and p = 4 on [1, 2]: (1 + 2^1.5)^(1/1.5) and (1 + 16)^(1/4)", () => {
    expectNear(getTotalNorm([tensor([1, -2])], 1.5), (1 + 2 ** 1.5) ** (1 / 1.5), 1e-12);
    expectNear(getTotalNorm([tensor([1, -2])], 4), 17 ** 0.25, 1e-12);
  });
  it("negative p: (Σ|g|^p)^(1/p); a zero element makes it 0", () => {
    // p = -1 on [1, 2, 4]: (1 + 1/2 + 1/4)^-1 = 1/1.75 = 0.5714…
    expectNear(getTotalNorm([tensor([1, 2, 4])], -1), 1 / 1.75, 1e-12);
    expect(getTotalNorm(grads(), -1)).toBe(0);
  });
  it("p = 0 follows PyTorch's two-stage reduction: tensors with a nonzero element", () => {
    // torch: vector_norm(stack([vector_norm(g, 0) for g]), 0) = #tensors with a nonzero value.
    expect(getTotalNorm([tensor([3, 4]), tensor([0, -12]), tensor([0, 0])], 0)).toBe(2);
    // countNonzero gives the element count: 3, 4, -12.
    expect(countNonzero([Float32Array.of(3, 4), Float32Array.of(0, -12), Float32Array.of(0, 0)])).toBe(3);
  });
  it("rejects a NaN norm type", () => {
    expect(() => getTotalNorm(grads(), NaN)).toThrow(/getTotalNorm: normType must be a number \(got NaN\)/);
  });
});

describe("getTotalNorm: float64 accumulation", () => {
  it("1e20 gradients: float32 Σg² = 2e40 overflows (PyTorch gets inf), ours is finite and exact", () => {
    const g = tensor([1e20, 1e20]); // float32(1e20) = 100000002004087734272
    const v = Math.fround(1e20);
    expect(v * v * 2).toBeGreaterThan(3.4e38); // the float32 sum of squares would overflow
    const n = getTotalNorm([g]);
    expect(Number.isFinite(n)).toBe(true);
    expectNear(n, Math.SQRT2 * v, 1e-15); // 1.41421359…e20
    expectNear(getTotalNorm([g, tensor([-3e38])], 2), Math.hypot(v, v, Math.fround(-3e38)), 1e-15);
  });
  it("1e-30 gradients: float32 squares underflow to 0, ours keeps them", () => {
    const v = Math.fround(1e-30);
    expect(Math.fround(v * v)).toBe(0);
    expectNear(getTotalNorm([tensor([1e-30, 1e-30])]), Math.SQRT2 * v, 1e-15);
  });
  it("large p is scaled by the largest magnitude, so (1e30)^20 = 1e600 does not overflow", () => {
    // ‖[1e30, 1e30]‖_20 = 1e30 · 2^(1/20) = 1.0352649…e30
    const v = Math.fround(1e30);
    expectNear(normOf([Float32Array.of(1e30, 1e30)], 20), v * 2 ** (1 / 20), 1e-12);
    expectNear(normOf([Float32Array.of(1e30, 1e30)], 3), v * Math.cbrt(2), 1e-12);
  });
});

describe("getTotalNorm: special inputs", () => {
  it("an empty list has norm 0 (as torch.nn.utils.get_total_norm)", () => {
    expect(getTotalNorm([])).toBe(0);
    expect(getTotalNorm([], Infinity)).toBe(0);
  });
  it("skips null entries and parameters without gradients; reads .grad of Vars", () => {
    const a = param([1, 1], null); // no gradient
    const b = gradParam([3, 4]);
    expect(getTotalNorm([a, null, b, undefined])).toBe(5);
    expect(getTotalNorm(b)).toBe(5);
    expect(getTotalNorm([a])).toBe(0);
  });
  it("NaN gives NaN for every norm type (also p = ±Infinity, as torch.max propagates NaN)", () => {
    const g = [tensor([1, NaN]), tensor([2])];
    for (const p of [1, 2, 3, 0.5, Infinity, -Infinity]) expect(getTotalNorm(g, p), `p=${p}`).toBeNaN();
  });
  it("±Infinity gives Infinity for p > 0", () => {
    for (const p of [1, 2, 3, 0.5, Infinity]) expect(getTotalNorm([tensor([1, -Infinity])], p), `p=${p}`).toBe(Infinity);
  });
  it('nonFinite: "error" throws NonFiniteGradientError for a non-finite total (error_if_nonfinite)', () => {
    expect(() => getTotalNorm([tensor([1, Infinity])], 2, { nonFinite: "error" })).toThrow(NonFiniteGradientError);
    expect(() => getTotalNorm([tensor([1, Infinity])], 2, { nonFinite: "error" })).toThrow(/getTotalNorm: the total norm of order 2 .* is non-finite \(got Infinity; 1 non-finite gradient element\)/);
    expect(() => getTotalNorm([tensor([1, NaN])], Infinity, { nonFinite: "error" })).toThrow(NonFiniteGradientError);
    expect(getTotalNorm([tensor([3, 4])], 2, { nonFinite: "error" })).toBe(5);
    expect(getTotalNorm([tensor([1, Infinity])], 2, { nonFinite: "propagate" })).toBe(Infinity);
    expect(getTotalNorm([tensor([1, Infinity])], 2, {})).toBe(Infinity); // "propagate" is the default
  });
  it("rejects unknown policies, the policies that edit gradients, and the old option name", () => {
    const g = [tensor([3, 4])];
    expect(() => getTotalNorm(g, 2, { nonFinite: "warn" as never })).toThrow(TypeError);
    expect(() => getTotalNorm(g, 2, { nonFinite: "warn" as never })).toThrow('getTotalNorm: nonFinite must be one of "propagate", "error" (got "warn")');
    expect(() => getTotalNorm(g, 2, { nonFinite: "zero" as never })).toThrow(/^getTotalNorm: nonFinite must be "propagate" or "error" \(got "zero"\); getTotalNorm only measures/);
    expect(() => getTotalNorm(g, 2, { nonFinite: "skip" as never })).toThrow(/getTotalNorm: nonFinite must be "propagate" or "error" \(got "skip"\)/);
    expect(() => getTotalNorm(g, 2, { errorIfNonfinite: true } as never)).toThrow('getTotalNorm: unknown option "errorIfNonfinite" (expected one of nonFinite)');
    expect(() => getTotalNorm(g, 2, null as never)).toThrow("getTotalNorm: options must be an object (got null)");
  });
  it("counts non-finite elements", () => {
    expect(countNonFinite([Float32Array.of(1, NaN, Infinity), Float32Array.of(-Infinity, 0)])).toBe(3);
  });
  it("rejects entries that are not Vars or Tensors", () => {
    expect(() => getTotalNorm([1 as never])).toThrow(/getTotalNorm: parameter 0 must be a Var or Tensor \(got 1\)/);
    expect(() => getTotalNorm(5 as never)).toThrow(/getTotalNorm: parameters must be a Var, a Tensor or an iterable of them \(got 5\)/);
  });
});
