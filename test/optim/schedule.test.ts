/**
 * @file Learning-rate schedules (closed forms of PyTorch's schedulers), their composition, and
 * `LRScheduler` driving any optimizer's parameter groups.
 */
import { describe, expect, it } from "vitest";
import {
  Adam, LRScheduler, SGD, chainSchedules, constantLr, cosineAnnealingLr, exponentialLr, lambdaLr, linearLr, linearWarmup, multiStepLr,
  sequentialLr, stepLr, type Schedule,
} from "@tapegrad/optim";
import { expectClose, param } from "./helpers.js";

const first = (s: Schedule, n: number, base = 1) => Array.from({ length: n }, (_, t) => s(t, base));

describe("schedules", () => {
  it("stepLr: gamma^⌊t/stepSize⌋", () => {
    expect(first(stepLr({ stepSize: 2, gamma: 0.5 }), 5)).toEqual([1, 1, 0.5, 0.5, 0.25]);
  });
  it("multiStepLr: gamma per passed milestone", () => {
    expectClose(first(multiStepLr({ milestones: [1, 3] }), 4), [1, 0.1, 0.1, 0.01], 1e-12);
  });
  it("exponentialLr: gamma^t", () => {
    expectClose(first(exponentialLr({ gamma: 0.9 }), 3), [1, 0.9, 0.81], 1e-15);
  });
  it("cosineAnnealingLr: etaMin + (base − etaMin)(1 + cos(πt/T))/2", () => {
    // T = 4, etaMin 0.1: t=1 → 0.1 + 0.9·(1 + 0.70711)/2 = 0.868198; t=2 → 0.55; t=4 → 0.1
    expectClose(first(cosineAnnealingLr({ tMax: 4, etaMin: 0.1 }), 5), [1, 0.1 + 0.45 * (1 + Math.SQRT1_2), 0.55, 0.1 + 0.45 * (1 - Math.SQRT1_2), 0.1], 1e-12);
  });
  it("linearLr (LinearLR) and linearWarmup", () => {
    expectClose(first(linearLr({ startFactor: 0.5, totalIters: 4 }), 6), [0.5, 0.625, 0.75, 0.875, 1, 1], 1e-15);
    expectClose(first(linearLr(), 2), [1 / 3, 1 / 3 + (2 / 3) / 5], 1e-15); // defaults 1/3 → 1 over 5
    expect(first(linearWarmup({ warmupSteps: 4 }), 6, 0.1)).toEqual([0, 0.025, 0.05, 0.07500000000000001, 0.1, 0.1]);
  });
  it("constantLr and lambdaLr", () => {
    expect(first(constantLr({ factor: 0.5, totalIters: 2 }), 3)).toEqual([0.5, 0.5, 1]);
    expect(first(lambdaLr((t) => 1 / (t + 1)), 3, 2)).toEqual([2, 1, 2 / 3]);
    expect(() => lambdaLr((() => NaN) as never)(0, 1)).toThrow("lambdaLr: factor at step 0 must be a number (got NaN)");
  });
  it("chainSchedules feeds each output to the next: warm-up then ×0.5 per step", () => {
    const s = chainSchedules(linearWarmup({ warmupSteps: 2 }), exponentialLr({ gamma: 0.5 }));
    expect(first(s, 4)).toEqual([0, 0.25, 0.25, 0.125]); // [0·1, 0.5·0.5, 1·0.25, 1·0.125]
  });
  it("sequentialLr restarts the next schedule at each milestone", () => {
    const s = sequentialLr([linearWarmup({ warmupSteps: 2 }), cosineAnnealingLr({ tMax: 2 })], [2]);
    expectClose(first(s, 5), [0, 0.5, 1, 0.5, 0], 1e-15);
  });
  it("validates their arguments", () => {
    expect(() => stepLr({ stepSize: 0 })).toThrow("stepLr: stepSize must be >= 1 (got 0)");
    expect(() => cosineAnnealingLr({ tMax: 0 })).toThrow("cosineAnnealingLr: tMax must be >= 1 (got 0)");
    expect(() => exponentialLr({ gamma: -1 })).toThrow("exponentialLr: gamma must be >= 0 (got -1)");
    expect(() => linearLr({ startFactor: 2 })).toThrow("linearLr: startFactor must be in [0, 1] (got 2)");
    expect(() => sequentialLr([linearWarmup({ warmupSteps: 2 })], [2])).toThrow("sequentialLr: expected 0 milestones for 1 schedules (got 1)");
    expect(() => multiStepLr({ milestones: [3, 1] })).toThrow("multiStepLr: milestones must increase (got [3,1])");
  });
});

describe("LRScheduler", () => {
  it("applies step 0 at construction and one step per call, for every group", () => {
    const opt = new SGD([{ params: [param([1])] }, { params: [param([1])], lr: 0.01 }], { lr: 0.1 });
    const sched = new LRScheduler(opt, stepLr({ stepSize: 1, gamma: 0.5 }));
    expect(sched.getLastLr()).toEqual([0.1, 0.01]);
    sched.step();
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.05, 0.005]);
    expect(sched.lastEpoch).toBe(1);
  });
  it("one schedule per group; works with any optimizer; the optimizer uses the new lr", () => {
    const p = param([1], [1]);
    const opt = new Adam([{ params: [p] }, { params: [param([0])] }], { lr: 0.1 });
    const sched = new LRScheduler(opt, [linearWarmup({ warmupSteps: 2 }), constantLr()]);
    expect(sched.getLastLr()).toEqual([0, 0.1]);
    opt.step();
    expect(p.value.data[0]).toBe(1); // lr 0 at step 0
    expect(opt.lastStats!.lrs).toEqual([0, 0.1]);
    sched.step();
    expect(sched.getLastLr()).toEqual([0.05, 0.1]);
  });
  it("state round trip and validation", () => {
    const opt = new SGD([param([1])], { lr: 1 });
    const sched = new LRScheduler(opt, exponentialLr({ gamma: 0.5 }));
    sched.step();
    sched.step();
    const saved = sched.stateDict();
    expect(saved).toEqual({ lastEpoch: 2, baseLrs: [1] });
    const opt2 = new SGD([param([1])], { lr: 1 });
    const s2 = new LRScheduler(opt2, exponentialLr({ gamma: 0.5 }));
    s2.loadStateDict(saved);
    expect(opt2.paramGroups[0]!.lr).toBe(0.25);
    expect(() => new LRScheduler(opt, [stepLr({ stepSize: 1 }), stepLr({ stepSize: 1 })])).toThrow("LRScheduler: expected 1 schedules, one per parameter group (got 2)");
    expect(() => new LRScheduler(opt, () => -1)).toThrow("LRScheduler: the schedule of group 0 gave lr -1 at step 0 (must be finite and >= 0)");
  });
});
