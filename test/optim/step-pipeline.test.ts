/**
 * @file The optimizer step pipeline: parameter groups, zeroGrad, hook ordering (closure →
 * pre-hooks → non-finite policy → transforms in order → update → telemetry → post-hooks), handle
 * removal, clipping as an option, telemetry and history, and every non-finite policy.
 */
import { describe, expect, it } from "vitest";
import { tensor } from "@tapegrad/tensor";
import {
  Adam, NonFiniteGradientError, SGD, chain, clipGradNorm, clipGradValue, zeroNanGrads, applyTransform,
  type GradTransform, type Optimizer, type StepStats,
} from "@tapegrad/optim";
import { expectClose, expectNear, f32, gradOf, param, valueOf } from "./helpers.js";

/** A transform that logs its name and the parameter value it sees (to prove it runs pre-update). */
function spy(name: string, log: string[], watch: () => number): GradTransform {
  return { name, apply: () => (log.push(`${name}:${watch()}`), { name, clipped: false, numClipped: 0, nonFiniteCount: 0, skipped: false }) };
}

describe("parameter groups and zeroGrad", () => {
  it("each group uses its own lr; unset options take the defaults", () => {
    const a = param([1], [1]);
    const b = param([1], [1]);
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.01 }], { lr: 0.1, momentum: 0.9 });
    opt.step();
    expect(valueOf(a)).toEqual(f32([0.9]));
    expect(valueOf(b)).toEqual(f32([0.99]));
    expect(opt.paramGroups[1]).toMatchObject({ lr: 0.01, momentum: 0.9 });
    opt.addParamGroup({ params: [param([0])], lr: 1 });
    expect(opt.paramGroups).toHaveLength(3);
  });
  it("parameters without gradients are skipped and get no state", () => {
    const a = param([1], [1]);
    const b = param([1]);
    const opt = new Adam([a, b], { lr: 0.1 });
    opt.step();
    expect(valueOf(b)).toEqual([1]);
    expect(opt.state.has(b)).toBe(false);
    expect(opt.lastStats!.numGrads).toBe(1);
  });
  it("zeroGrad() sets gradients to null; zeroGrad(false) zeroes them in place", () => {
    const a = param([1, 2], [3, 4]);
    const opt = new SGD([a]);
    const g = a.grad!;
    opt.zeroGrad(false);
    expect(a.grad).toBe(g);
    expect(gradOf(a)).toEqual([0, 0]);
    opt.zeroGrad();
    expect(a.grad).toBeNull();
  });
  it("a changed lr takes effect at the next step, and is validated there", () => {
    const a = param([1], [1]);
    const opt = new SGD([a], { lr: 0.1 });
    opt.paramGroups[0]!.lr = 0.5;
    opt.step();
    expect(valueOf(a)).toEqual([0.5]);
    opt.paramGroups[0]!.lr = -1;
    expect(() => opt.step()).toThrow("SGD (parameter group 0): lr must be >= 0 (got -1)");
  });
});

describe("hook ordering", () => {
  it("closure → pre-hooks (registration order) → transforms (chain order) → update → post-hooks", () => {
    const log: string[] = [];
    const p = param([1], [1]);
    const value = () => p.value.data[0]!;
    const opt = new SGD([p], { lr: 0.5, clip: [spy("t1", log, value), spy("t2", log, value)] });
    opt.registerStepPreHook(() => log.push(`pre1:${value()}`));
    opt.registerStepPreHook(() => log.push(`pre2:${value()}`));
    opt.registerStepPostHook((_o, s) => log.push(`post1:${value()}:step${s.step}`));
    opt.registerStepPostHook(() => log.push(`post2:${value()}`));
    opt.step(() => (log.push("closure"), 0.25));
    expect(log).toEqual(["closure", "pre1:1", "pre2:1", "t1:1", "t2:1", "post1:0.5:step1", "post2:0.5"]);
  });
  it("remove() unregisters a hook; removing during a step does not skip the others", () => {
    const log: string[] = [];
    const opt = new SGD([param([1], [1])]);
    const h1 = opt.registerStepPreHook(() => {
      log.push("a");
      h1.remove();
    });
    opt.registerStepPreHook(() => log.push("b"));
    const h3 = opt.registerStepPostHook(() => log.push("c"));
    opt.step();
    h3.remove();
    h3.remove(); // idempotent
    opt.step();
    expect(log).toEqual(["a", "b", "c", "b"]);
    expect(() => opt.registerStepPreHook(1 as never)).toThrow("SGD: a hook must be a function (got 1)");
  });
  it("a pre-hook can clip by hand (PyTorch style) and telemetry sees the result", () => {
    const p = param([0, 0], [3, 4]);
    const opt = new SGD([p], { lr: 1 });
    opt.registerStepPreHook((o: Optimizer) => {
      for (const q of o.flatParams()) q.grad = q.grad && tensor(Array.from(q.grad.data, (x) => x / 5));
    });
    opt.step();
    expect(valueOf(p)).toEqual(f32([-0.6, -0.8]));
    expectNear(opt.lastStats!.preClipNorm, 1, 1e-7);
  });
  it("transform order matters: value-then-norm ≠ norm-then-value", () => {
    const a = param([0, 0], [3, 4]);
    applyTransform(chain(clipGradValue.transform(1), clipGradNorm.transform(1)), [a]); // [1, 1] → [0.7071, 0.7071]
    expectClose(gradOf(a), [Math.SQRT1_2, Math.SQRT1_2], 1e-6);
    const b = param([0, 0], [3, 4]);
    applyTransform(chain(clipGradNorm.transform(1), clipGradValue.transform(1)), [b]); // [0.6, 0.8] → unchanged
    expectClose(gradOf(b), [0.6, 0.8], 1e-6);
  });
  it("the closure's loss is returned and recorded", () => {
    const opt = new SGD([param([1], [1])]);
    expect(opt.step(() => tensor(0.75))).toBe(0.75);
    expect(opt.lastStats!.loss).toBe(0.75);
    expect(() => opt.step(() => "x" as never)).toThrow(/SGD.step: the closure must return a number/);
  });
});

describe("telemetry", () => {
  it("lastStats after a clipped step: pre 5, post 1, coef 0.2, clipped", () => {
    const p = param([0, 0], [3, 4]);
    const opt = new SGD([p], { lr: 1, clip: clipGradNorm.transform(1) });
    expect(opt.lastStats).toBeNull();
    opt.step();
    const s = opt.lastStats!;
    expect(s).toMatchObject({ step: 1, preClipNorm: 5, clipped: true, nonFiniteCount: 0, skipped: false, skipReason: null, numGrads: 1, lrs: [1] });
    expectNear(s.postClipNorm, 5 / 5.000001, 1e-7);
    expectNear(s.coef, 1 / 5.000001, 1e-7);
    expect(s.transforms).toEqual([{ name: "clipGradNorm", clipped: true, numClipped: 1, totalNorm: 5, threshold: 1, coef: Math.fround(1 / 5.000001), nonFiniteCount: 0, skipped: false }]);
    p.grad = tensor([0.3, 0.4]);
    opt.step();
    expect(opt.lastStats).toMatchObject({ step: 2, preClipNorm: opt.lastStats!.postClipNorm, coef: 1, clipped: false });
  });
  it("history is opt-in and keeps the last n", () => {
    const p = param([0], [1]);
    const off = new SGD([p]);
    off.step();
    expect(off.history).toEqual([]);
    const on = new SGD([p], { history: 2 });
    for (let i = 0; i < 3; i++) on.step();
    expect(on.history.map((s: StepStats) => s.step)).toEqual([2, 3]);
    on.clearHistory();
    expect(on.history).toEqual([]);
    const all = new SGD([p], { history: true });
    for (let i = 0; i < 5; i++) all.step();
    expect(all.history).toHaveLength(5);
  });
  it("telemetry: false skips the norms", () => {
    const opt = new SGD([param([0], [1])], { telemetry: false });
    opt.step();
    expect(opt.lastStats!.preClipNorm).toBeNaN();
  });
});

describe("non-finite policies in the optimizer", () => {
  it('"propagate" (default) lets NaN into the parameters, as PyTorch', () => {
    const p = param([1, 1], [NaN, 1]);
    const opt = new SGD([p], { lr: 0.1 });
    opt.step();
    expect(valueOf(p)[0]).toBeNaN();
    expect(opt.lastStats!.nonFiniteCount).toBe(1);
  });
  it('"error" throws and changes nothing', () => {
    const p = param([1, 1], [Infinity, 1]);
    const opt = new Adam([p], { lr: 0.1, nonFinite: "error" });
    expect(() => opt.step()).toThrow(NonFiniteGradientError);
    expect(() => opt.step()).toThrow(/Adam.step: 1 non-finite gradient element \(first in parameter #0 \[2\] at element 0: Infinity\) with nonFinite: "error"/);
    expect(valueOf(p)).toEqual([1, 1]);
    expect(opt.stepCount).toBe(0);
  });
  it('"zero" replaces NaN/±Inf by 0 and takes the step', () => {
    const p = param([1, 1], [NaN, 1]);
    const opt = new SGD([p], { lr: 0.1, nonFinite: "zero" });
    opt.step();
    expect(valueOf(p)).toEqual(f32([1, 0.9]));
    expect(opt.lastStats).toMatchObject({ nonFiniteCount: 1, preClipNorm: 1, skipped: false });
  });
  it('"skip" skips the update (state untouched), then gives up after maxConsecutiveSkips', () => {
    const p = param([1], [1]);
    const opt = new Adam([p], { lr: 0.1, nonFinite: "skip", maxConsecutiveSkips: 2 });
    opt.step(); // good step: Adam step count 1
    const after = valueOf(p);
    p.grad = tensor([NaN]);
    opt.step();
    opt.step();
    expect(valueOf(p)).toEqual(after);
    expect(opt.state.get(p)!.step).toBe(1);
    expect(opt.lastStats).toMatchObject({ step: 3, skipped: true, skipReason: "nonFinite", nonFiniteCount: 1 });
    expect(opt.consecutiveSkips).toBe(2);
    expect(() => opt.step()).toThrow(/Adam.step: giving up after 3 consecutive skipped steps \(maxConsecutiveSkips 2\)/);
    p.grad = tensor([1]); // a finite step resets the counter
    opt.step();
    expect(opt.consecutiveSkips).toBe(0);
    expect(opt.state.get(p)!.step).toBe(2);
  });
  it("a transform can ask to skip (clipGradNorm.transform with nonFinite: skip)", () => {
    const p = param([1], [Infinity]);
    const opt = new SGD([p], { clip: clipGradNorm.transform(1, { nonFinite: "skip" }) });
    opt.step();
    expect(opt.lastStats).toMatchObject({ skipped: true, skipReason: "transform" });
    expect(opt.lastStats!.transforms).toEqual([{ name: "clipGradNorm", clipped: false, numClipped: 0, nonFiniteCount: 1, skipped: true, totalNorm: Infinity, coef: 1, threshold: 1 }]);
    expect(valueOf(p)).toEqual([1]);
  });
  it("zeroNanGrads.transform (Optax zero_nans) before a norm clip", () => {
    const p = param([0, 0, 0], [NaN, 3, 4]);
    const opt = new SGD([p], { lr: 1, clip: [zeroNanGrads.transform(), clipGradNorm.transform(1)] });
    opt.step();
    expectClose(valueOf(p), [0, -0.6, -0.8], 1e-6);
    expect(opt.lastStats!.transforms[0]).toMatchObject({ name: "zeroNanGrads", numClipped: 1, nonFiniteCount: 1 });
  });
  it("rejects bad optimizer-wide options", () => {
    const p = [param([1])];
    expect(() => new SGD(p, { nonFinite: "warn" as never })).toThrow(/SGD: nonFinite must be one of "propagate", "error", "zero", "skip" \(got "warn"\)/);
    expect(() => new SGD(p, { clip: [{}] as never })).toThrow(/SGD: a gradient transform needs a name and an apply\(batch\) method/);
    expect(() => new SGD(p, { history: -1 })).toThrow("SGD: history must be a boolean or a non-negative integer (got -1)");
    expect(() => new SGD(p, { maxConsecutiveSkips: 1.5 })).toThrow("SGD: maxConsecutiveSkips must be an integer (got 1.5)");
  });
});

describe("scheduled clip thresholds", () => {
  it("clipGradNorm.transform(step => step) clips to 1 at step 1 and 2 at step 2", () => {
    const p = param([0, 0], [3, 4]);
    const opt = new SGD([p], { lr: 0, clip: clipGradNorm.transform((step) => step) });
    opt.step();
    expect(opt.lastStats!.transforms[0]!.threshold).toBe(1);
    opt.step();
    expect(opt.lastStats!.transforms[0]!.threshold).toBe(2);
    const bad = new SGD([param([0], [1])], { clip: clipGradNorm.transform(() => -1) });
    expect(() => bad.step()).toThrow("clipGradNorm.transform: maxNorm must be >= 0 (got -1)");
  });
});
