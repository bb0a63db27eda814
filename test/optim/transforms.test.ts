/**
 * @file The ready-made gradient transforms used as an optimizer's `clip` option: each one's report,
 * AGC's `include`, stateful transforms inside an optimizer, `chain` state, and argument checks.
 */
import { describe, expect, it } from "vitest";
import {
  AutoClip, SGD, ZClip, applyTransform, autoClip, chain, clipByAgc, clipByBlockRms, clipByNormPerTensor, clipByValue, zClip, zeroNans,
} from "@tapegrad/optim";
import { expectClose, f32, gradOf, gradParam, param } from "./helpers.js";

describe("transforms", () => {
  it("clipByValue reports the number of clamped elements", () => {
    const p = gradParam([0.5, -3, 2]);
    expect(applyTransform(clipByValue(1), [p])).toEqual({ name: "clipByValue", clipped: true, numClipped: 2 });
    expect(gradOf(p)).toEqual([0.5, -1, 1]);
    expect(() => clipByValue(-1)).toThrow("clipByValue: clipValue must be >= 0 (got -1)");
  });
  it("clipByNormPerTensor reports norms and coefficients", () => {
    const a = gradParam([3, 4]);
    const b = gradParam([0.3, 0.4]);
    const r = applyTransform(clipByNormPerTensor(1, { compat: "keras" }), [a, b]);
    expect(r).toMatchObject({ name: "clipByNormPerTensor", clipped: true, numClipped: 1, detail: { coefs: [Math.fround(0.2), 1] } });
    expect(gradOf(a)).toEqual(f32([0.6, 0.8]));
  });
  it("clipByAgc skips excluded parameters (e.g. the classifier head)", () => {
    const body = param([1, 0], [1, 0], [1, 2], "body.weight"); // maxNorm 0.1 < 1 → clipped to 0.1
    const head = param([1, 0], [1, 0], [1, 2], "head.weight");
    const t = clipByAgc(0.1, { include: (p) => p.name !== "head.weight" });
    const r = applyTransform(t, [body, head]);
    expect(r.numClipped).toBe(1);
    expectClose(gradOf(body), [0.1, 0], 1e-7);
    expect(gradOf(head)).toEqual([1, 0]);
    expect(() => clipByAgc(0.1, { include: 1 as never })).toThrow("clipByAgc: include must be a function (got 1)");
  });
  it("clipByBlockRms", () => {
    const p = gradParam([3, 4]);
    const r = applyTransform(clipByBlockRms(1), [p]);
    expect(r).toMatchObject({ name: "clipByBlockRms", clipped: true, numClipped: 1 });
    expect(() => clipByBlockRms(0)).toThrow("clipByBlockRms: threshold must be > 0 (got 0)");
  });
  it("zeroNans replaces NaN only by default (Optax), ±Infinity too on request", () => {
    const p = gradParam([NaN, Infinity, 1]);
    applyTransform(zeroNans(), [p]);
    expect(gradOf(p)).toEqual([0, Infinity, 1]);
    applyTransform(zeroNans({ infinities: true }), [p]);
    expect(gradOf(p)).toEqual([0, 0, 1]);
  });
  it("autoClip and zClip factories make stateful transforms that live in the optimizer", () => {
    expect(autoClip()).toBeInstanceOf(AutoClip);
    expect(zClip()).toBeInstanceOf(ZClip);
    const p = param([0], [1]);
    const ac = autoClip({ percentile: 50 });
    const opt = new SGD([p], { lr: 0, clip: ac });
    for (const g of [1, 3]) {
      p.grad = gradParam([g]).grad;
      opt.step();
    }
    expect(opt.lastStats!.transforms[0]).toMatchObject({ name: "autoClip", threshold: 2, totalNorm: 3 });
    expect(opt.stateDict().transforms).toEqual([{ name: "autoClip", state: { global: [1, 3], perParameter: {} } }]);
  });
  it("chain nests reports and state, and stops at a skip", () => {
    const ac = new AutoClip({ percentile: 50 });
    const c = chain(clipByValue(10), ac);
    const p = gradParam([3, 4]);
    const r = applyTransform(c, [p]);
    expect(r.name).toBe("chain(clipByValue, autoClip)");
    expect((r.detail as unknown[]).length).toBe(2);
    expect(c.stateDict!()).toEqual({ inner: [null, { global: [5], perParameter: {} }] });
    const c2 = chain(clipByValue(10), new AutoClip({ percentile: 50 }));
    c2.loadStateDict!(c.stateDict!());
    expect(applyTransform(c2, [gradParam([6, 8])]).clipped).toBe(true); // threshold median(5, 10) = 7.5
    const skipper = { name: "skipper", apply: () => ({ name: "skipper", clipped: false, skip: true }) };
    const after = { name: "after", apply: () => { throw new Error("must not run"); } };
    expect(applyTransform(chain(skipper, after), [p]).skip).toBe(true);
    expect(() => chain({} as never)).toThrow(/chain: a gradient transform needs a name and an apply\(batch\) method/);
  });
});
