/**
 * @file The optimizer stages of the clipping functions (`f.transform(...)`) and the stateful
 * AutoClip/ZClip used as an optimizer's `clip` option: each one's result, AGC's `include`,
 * stateful transforms inside an optimizer, `chain` state and skipping, and argument checks.
 */
import { describe, expect, it } from "vitest";
import {
  AutoClip, SGD, ZClip, applyTransform, chain, clipGradAgc, clipGradBlockRms, clipGradNormPerTensor, clipGradValue, zeroNanGrads,
  type ClipResult, type GradTransform,
} from "@tapegrad/optim";
import { expectClose, f32, gradOf, gradParam, param } from "./helpers.js";

describe("transforms", () => {
  it("clipGradValue.transform reports the number of clamped elements", () => {
    const p = gradParam([0.5, -3, 2]);
    expect(applyTransform(clipGradValue.transform(1), [p])).toEqual({
      name: "clipGradValue", clipped: true, numClipped: 2, nonFiniteCount: 0, skipped: false, detail: { min: -1, max: 1 },
    });
    expect(gradOf(p)).toEqual([0.5, -1, 1]);
    expect(() => clipGradValue.transform(-1)).toThrow("clipGradValue.transform: clipValue must be >= 0 (got -1)");
  });
  it("clipGradNormPerTensor.transform reports norms and coefficients", () => {
    const a = gradParam([3, 4]);
    const b = gradParam([0.3, 0.4]);
    const r = applyTransform(clipGradNormPerTensor.transform(1, { compat: "keras" }), [a, b]);
    expect(r).toMatchObject({ name: "clipGradNormPerTensor", clipped: true, numClipped: 1, threshold: 1, detail: { coefs: [Math.fround(0.2), 1] } });
    expect(gradOf(a)).toEqual(f32([0.6, 0.8]));
  });
  it("clipGradAgc.transform skips excluded parameters (e.g. the classifier head)", () => {
    const body = param([1, 0], [1, 0], [1, 2], "body.weight"); // maxNorm 0.1 < 1 → clipped to 0.1
    const head = param([1, 0], [1, 0], [1, 2], "head.weight");
    const t = clipGradAgc.transform(0.1, { include: (p) => p.name !== "head.weight" });
    const r = applyTransform(t, [body, head]);
    expect(r.numClipped).toBe(1);
    expect(r.detail!.tensors[1]).toBeNull();
    expectClose(gradOf(body), [0.1, 0], 1e-7);
    expect(gradOf(head)).toEqual([1, 0]);
    expect(() => clipGradAgc.transform(0.1, { include: 1 as never })).toThrow("clipGradAgc.transform: include must be a function (got 1)");
  });
  it("clipGradAgc (the function) takes include too", () => {
    const body = param([1, 0], [1, 0], [1, 2], "body.weight");
    const head = param([1, 0], [1, 0], [1, 2], "head.weight");
    expect(clipGradAgc([body, head], 0.1, { include: (p) => p.name !== "head.weight" }).numClipped).toBe(1);
    expect(gradOf(head)).toEqual([1, 0]);
  });
  it("clipGradBlockRms.transform", () => {
    const p = gradParam([3, 4]);
    const r = applyTransform(clipGradBlockRms.transform(1), [p]);
    expect(r).toMatchObject({ name: "clipGradBlockRms", clipped: true, numClipped: 1, threshold: 1 });
    expect(() => clipGradBlockRms.transform(0)).toThrow("clipGradBlockRms.transform: threshold must be > 0 (got 0)");
  });
  it("zeroNanGrads.transform replaces NaN only by default (Optax), ±Infinity too on request", () => {
    const p = gradParam([NaN, Infinity, 1]);
    expect(applyTransform(zeroNanGrads.transform(), [p])).toEqual({ name: "zeroNanGrads", clipped: true, numClipped: 1, nonFiniteCount: 2, skipped: false });
    expect(gradOf(p)).toEqual([0, Infinity, 1]);
    expect(applyTransform(zeroNanGrads.transform({ infinities: true }), [p])).toMatchObject({ numClipped: 1, nonFiniteCount: 1 });
    expect(gradOf(p)).toEqual([0, 0, 1]);
    expect(() => zeroNanGrads.transform({ infinities: 1 as never })).toThrow("zeroNanGrads.transform: infinities must be a boolean (got 1)");
  });
  it("zeroNanGrads (the function) edits in place the same way", () => {
    const p = gradParam([NaN, -Infinity, 2]);
    expect(zeroNanGrads(p)).toMatchObject({ name: "zeroNanGrads", numClipped: 1, nonFiniteCount: 2 });
    expect(gradOf(p)).toEqual([0, -Infinity, 2]);
    expect(zeroNanGrads([p], { infinities: true })).toMatchObject({ numClipped: 1, nonFiniteCount: 1 });
    expect(gradOf(p)).toEqual([0, 0, 2]);
    expect(zeroNanGrads([p])).toMatchObject({ clipped: false, numClipped: 0, nonFiniteCount: 0 });
  });
  it("AutoClip and ZClip instances are stateful transforms that live in the optimizer", () => {
    const p = param([0], [1]);
    const ac = new AutoClip({ percentile: 50 });
    const opt = new SGD([p], { lr: 0, clip: ac });
    for (const g of [1, 3]) {
      p.grad = gradParam([g]).grad;
      opt.step();
    }
    expect(opt.lastStats!.transforms[0]).toMatchObject({ name: "AutoClip", threshold: 2, totalNorm: 3, numClipped: 1 });
    expect(opt.stateDict().transforms).toEqual([{ name: "AutoClip", state: { global: [1, 3], perParameter: {} } }]);
    const zc = new ZClip({ warmupSteps: 2 });
    const q = param([0], [5]);
    new SGD([q], { lr: 0, clip: zc }).step();
    expect(zc.name).toBe("ZClip");
    expect(gradOf(q)).toEqual(f32([5 * Math.fround(1 / (5 + 1e-6))])); // warm-up: clip to maxGradNorm 1
  });
  it("chain nests results and state, and stops at a skip", () => {
    const ac = new AutoClip({ percentile: 50 });
    const c = chain(clipGradValue.transform(10), ac);
    const p = gradParam([3, 4]);
    const r = applyTransform(c, [p]);
    expect(r.name).toBe("chain(clipGradValue, AutoClip)");
    expect(r.detail!.length).toBe(2);
    expect(r).toMatchObject({ clipped: true, numClipped: 1, nonFiniteCount: 0, skipped: false }); // AutoClip shrinks by 5/(5 + 1e-6)
    expect(c.stateDict!()).toEqual({ inner: [null, { global: [5], perParameter: {} }] });
    const c2 = chain(clipGradValue.transform(10), new AutoClip({ percentile: 50 }));
    c2.loadStateDict!(c.stateDict!());
    expect(applyTransform(c2, [gradParam([6, 8])]).clipped).toBe(true); // threshold median(5, 10) = 7.5
    const skipped: ClipResult = { name: "skipper", clipped: false, numClipped: 0, nonFiniteCount: 3, skipped: true };
    const skipper: GradTransform = { name: "skipper", apply: () => skipped };
    const after: GradTransform = { name: "after", apply: () => { throw new Error("must not run"); } };
    expect(applyTransform(chain(skipper, after), [p])).toMatchObject({ skipped: true, nonFiniteCount: 3, detail: [skipped] });
    expect(() => chain({} as never)).toThrow(/chain: a gradient transform needs a name and an apply\(batch\) method/);
  });
});
