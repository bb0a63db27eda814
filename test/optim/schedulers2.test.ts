/**
 * @file The PyTorch-named schedulers (issue 15): hand-computed values, agreement of the recursive
 * (chainable) forms with the closed forms, momentum / betas[0] cycling, ReduceLROnPlateau's state
 * machine, composition, state dicts and bad input. The golden file layers/sched.json checks the
 * same classes against torch 1.13 (test/golden/layers/sched.ts).
 */
import { describe, expect, it } from "vitest";
import {
  Adam, ChainedScheduler, ConstantLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR, ExponentialLR, LinearLR, OneCycleLR,
  PolynomialLR, ReduceLROnPlateau, SGD, SequentialLR, cosineAnnealingLr, linearLr, type LRSchedulerBase,
} from "@tapegrad/optim";
import { expectClose, param } from "./helpers.js";

const sgd = (lrs: number[], momentum = 0.9) => new SGD(lrs.map((lr) => ({ params: [param([1])], lr })), { lr: 0.1, momentum });
/** lrs of group `g` at steps 0..n (row 0 after construction). */
function run(s: { step(): void; getLastLr(): number[] }, n: number, g = 0): number[] {
  const out = [s.getLastLr()[g]!];
  for (let k = 0; k < n; k++) {
    s.step();
    out.push(s.getLastLr()[g]!);
  }
  return out;
}
const range = (n: number) => Array.from({ length: n }, (_, t) => t);

describe("chainable schedulers", () => {
  it("LinearLR: recursive form equals base·(s + (e − s)·min(t,T)/T)", () => {
    const opt = sgd([0.2, 0.02]);
    const s = new LinearLR(opt, { startFactor: 0.25, endFactor: 1, totalIters: 4 });
    expectClose(run(s, 6), [0.05, 0.0875, 0.125, 0.1625, 0.2, 0.2, 0.2], 1e-15);
    expectClose(s.getLastLr(), [0.2, 0.02], 1e-15);
    const closed = linearLr({ startFactor: 0.1, endFactor: 0.9, totalIters: 7 });
    const s2 = new LinearLR(sgd([0.3]), { startFactor: 0.1, endFactor: 0.9, totalIters: 7 });
    expectClose(run(s2, 12), range(13).map((t) => closed(t, 0.3)), 1e-14);
  });
  it("ConstantLR: base·factor until totalIters, then base", () => {
    expectClose(run(new ConstantLR(sgd([0.1]), { factor: 0.5, totalIters: 2 }), 4), [0.05, 0.05, 0.1, 0.1, 0.1], 1e-16);
  });
  it("ExponentialLR and PolynomialLR", () => {
    expectClose(run(new ExponentialLR(sgd([1]), { gamma: 0.5 }), 3), [1, 0.5, 0.25, 0.125], 0);
    // power 2, T = 4: (1 − t/4)² = 1, 0.5625, 0.25, 0.0625, 0, then 0
    expectClose(run(new PolynomialLR(sgd([1]), { totalIters: 4, power: 2 }), 6), [1, 0.5625, 0.25, 0.0625, 0, 0, 0], 1e-15);
  });
  it("CosineAnnealingLR (recursive) equals the closed form for every t, past tMax too", () => {
    const closed = cosineAnnealingLr({ tMax: 6, etaMin: 0.01 });
    const values = run(new CosineAnnealingLR(sgd([0.1]), { tMax: 6, etaMin: 0.01 }), 30);
    expectClose(values, range(31).map((t) => closed(t, 0.1)), 1e-14);
    expect(values[6]).toBeCloseTo(0.01, 15); // the bottom …
    expect(values[12]).toBeCloseTo(0.1, 14); // … and back up: no restart, no clamping
  });
  it("ChainedScheduler multiplies cosine (etaMin 0) and exponential decays up to tMax; past it torch's additive rise step", () => {
    const opt = sgd([0.1]);
    const s = new ChainedScheduler([new CosineAnnealingLR(opt, { tMax: 5 }), new ExponentialLR(opt, { gamma: 0.9 })]);
    const closed = cosineAnnealingLr({ tMax: 5 });
    expectClose(run(s, 5), range(6).map((t) => closed(t, 0.1) * 0.9 ** t), 1e-14);
    s.step(); // t = 6 = tMax + 1: lr + base·(1 − cos(π/5))/2, then × 0.9
    expectClose(s.getLastLr(), [(closed(5, 0.1) * 0.9 ** 5 + (0.1 * (1 - Math.cos(Math.PI / 5))) / 2) * 0.9], 1e-15);
  });
  it("SequentialLR restarts the next scheduler at each milestone (closed form at t − m)", () => {
    const opt = sgd([1]);
    const warm = new LinearLR(opt, { startFactor: 0.5, totalIters: 2 });
    const cos = new CosineAnnealingLR(opt, { tMax: 4 });
    const s = new SequentialLR(opt, [warm, cos], [3]);
    const c = cosineAnnealingLr({ tMax: 4 });
    expectClose(run(s, 8), [0.5, 0.75, 1, c(0, 1), c(1, 1), c(2, 1), c(3, 1), c(4, 1), c(5, 1)], 1e-15);
  });
  it("stepTo(e) jumps with the closed form", () => {
    const s = new ExponentialLR(sgd([1]), { gamma: 0.5 });
    s.stepTo(3);
    expect(s.getLastLr()).toEqual([0.125]);
    expect(s.lastEpoch).toBe(3);
  });
});

describe("CosineAnnealingWarmRestarts", () => {
  it("restarts at t0 and t0 + t0·tMult; step(epoch) gives the same values, fractions too", () => {
    const cyc = (tCur: number, tI: number) => 0.001 + (0.1 - 0.001) * (1 + Math.cos((Math.PI * tCur) / tI)) / 2;
    const s = new CosineAnnealingWarmRestarts(sgd([0.1]), { t0: 2, tMult: 2, etaMin: 0.001 });
    const want = [cyc(0, 2), cyc(1, 2), cyc(0, 4), cyc(1, 4), cyc(2, 4), cyc(3, 4), cyc(0, 8), cyc(1, 8)];
    expectClose(run(s, 7), want, 1e-15);
    expect([s.tCur, s.tI]).toEqual([1, 8]);
    const j = new CosineAnnealingWarmRestarts(sgd([0.1]), { t0: 2, tMult: 2, etaMin: 0.001 });
    range(8).forEach((e) => {
      j.step(e);
      expect(j.getLastLr()[0]).toBeCloseTo(want[e]!, 15);
    });
    j.step(3.5);
    expectClose(j.getLastLr(), [cyc(1.5, 4)], 1e-15);
    expect(j.lastEpoch).toBe(3);
  });
  it("t0 = 1, tMult = 1 keeps the base lr; bad arguments", () => {
    expect(run(new CosineAnnealingWarmRestarts(sgd([0.3]), { t0: 1 }), 3)).toEqual([0.3, 0.3, 0.3, 0.3]);
    expect(() => new CosineAnnealingWarmRestarts(sgd([0.1]), { t0: 0 })).toThrow("CosineAnnealingWarmRestarts: t0 must be >= 1 (got 0)");
    expect(() => new CosineAnnealingWarmRestarts(sgd([0.1]), { t0: 2, tMult: 1.5 })).toThrow("CosineAnnealingWarmRestarts: tMult must be an integer (got 1.5)");
    expect(() => new CosineAnnealingWarmRestarts(sgd([0.1]), { t0: 2 }).step(-1)).toThrow("CosineAnnealingWarmRestarts: epoch must be finite and >= 0 (got -1)");
  });
});

describe("OneCycleLR", () => {
  it("overwrites lr and momentum, anneals through both phases (linear), momentum inversely", () => {
    const opt = sgd([0.5], 0.5);
    // T = 10, pct 0.3: phase ends at 2 (0.1 → 1) and 9 (1 → 0.1/10 = 0.01); momentum 0.95 → 0.85 → 0.95
    const s = new OneCycleLR(opt, { maxLr: 1, totalSteps: 10, annealStrategy: "linear", divFactor: 10, finalDivFactor: 10 });
    expect(opt.paramGroups[0]!.momentum).toBe(0.95);
    const lrs = run(s, 9);
    expectClose(lrs, [0.1, 0.55, 1, ...[1, 2, 3, 4, 5, 6, 7].map((k) => 1 + ((0.01 - 1) * k) / 7)], 1e-14);
    expectClose([opt.paramGroups[0]!.momentum], [0.95], 1e-15);
    expect(s.baseLrs).toEqual([0.1]);
  });
  it("cos: three phases meet at the fractional phase ends; Adam cycles betas[0] and keeps betas[1]", () => {
    const opt = new Adam([param([1])], { lr: 1e-3, betas: [0.9, 0.99] });
    const s = new OneCycleLR(opt, { maxLr: 0.01, totalSteps: 20, pctStart: 0.25, threePhase: true });
    expect(opt.paramGroups[0]!.betas).toEqual([0.95, 0.99]);
    const lrs = run(s, 19);
    expectClose([lrs[0]!, lrs[4]!, lrs[8]!, lrs[19]!], [0.0004, 0.01, 0.0004, 0.0004 / 1e4], 1e-15);
    expect(opt.paramGroups[0]!.betas[1]).toBe(0.99);
    expectClose([opt.paramGroups[0]!.betas[0]], [0.95], 1e-15);
  });
  it("the optimizer uses the scheduled lr", () => {
    const p = param([1], [1]);
    const opt = new SGD([p], { lr: 123, momentum: 0.9 });
    new OneCycleLR(opt, { maxLr: 0.25, totalSteps: 4 }); // lr 0.01 at step 0
    opt.step();
    expect(p.value.data[0]).toBeCloseTo(1 - 0.01, 7);
  });
  it("one step past totalSteps is allowed, more raise and change nothing", () => {
    const opt = sgd([0.1]);
    const s = new OneCycleLR(opt, { maxLr: 0.1, epochs: 2, stepsPerEpoch: 2 });
    for (let k = 0; k < 4; k++) s.step();
    const lr = opt.paramGroups[0]!.lr;
    expect(() => s.step()).toThrow("OneCycleLR: tried to step 5 times, but totalSteps is 4");
    expect([s.lastEpoch, opt.paramGroups[0]!.lr]).toEqual([4, lr]);
  });
  it("bad input", () => {
    const opt = sgd([0.1, 0.1]);
    expect(() => new OneCycleLR(opt, { maxLr: [0.1] , totalSteps: 10 })).toThrow("OneCycleLR: expected 2 values for maxLr, one per parameter group (got 1: [0.1])");
    expect(() => new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 10, pctStart: 1.5 })).toThrow("OneCycleLR: pctStart must be in [0, 1] (got 1.5)");
    expect(() => new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 10, annealStrategy: "exp" as never })).toThrow('OneCycleLR: annealStrategy must be one of "cos", "linear" (got "exp")');
    expect(() => new OneCycleLR(opt, { maxLr: 0.1 })).toThrow("OneCycleLR: give totalSteps, or epochs and stepsPerEpoch");
    expect(() => new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 0 })).toThrow("OneCycleLR: totalSteps must be >= 1 (got 0)");
    expect(() => new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 5, divFactor: 0 })).toThrow("OneCycleLR: divFactor must be > 0 and finite (got 0)");
    expect(() => new OneCycleLR({ paramGroups: [{ lr: 0.1 }] }, { maxLr: 0.1, totalSteps: 5 })).toThrow("OneCycleLR: cycleMomentum needs an optimizer whose groups have momentum or betas");
    expect(() => new OneCycleLR({ paramGroups: [] }, { maxLr: 0.1, totalSteps: 5 })).toThrow("OneCycleLR: expected an optimizer with parameter groups that have an lr");
  });
});

describe("CyclicLR", () => {
  it("triangular with momentum: up 2, down 3", () => {
    const opt = sgd([0.5], 0);
    const s = new CyclicLR(opt, { baseLr: 0.1, maxLr: 1.1, stepSizeUp: 2, stepSizeDown: 3, baseMomentum: 0.8, maxMomentum: 0.9 });
    const moms = [opt.paramGroups[0]!.momentum];
    const lrs = [s.getLastLr()[0]!];
    for (let k = 0; k < 6; k++) {
      s.step();
      lrs.push(s.getLastLr()[0]!);
      moms.push(opt.paramGroups[0]!.momentum);
    }
    // scale: 0, 0.5, 1, 2/3, 1/3, 0, 0.5
    expectClose(lrs, [0.1, 0.6, 1.1, 0.1 + 2 / 3, 0.1 + 1 / 3, 0.1, 0.6], 1e-15);
    expectClose(moms, [0.9, 0.85, 0.8, 0.9 - 0.2 / 3, 0.9 - 0.1 / 3, 0.9, 0.85], 1e-15);
  });
  it("triangular2 halves the amplitude each cycle; exp_range scales by gamma^t", () => {
    const t2 = run(new CyclicLR(sgd([1]), { baseLr: 0, maxLr: 1, stepSizeUp: 1, mode: "triangular2", cycleMomentum: false }), 6);
    expect(t2).toEqual([0, 1, 0, 0.5, 0, 0.25, 0]);
    const ex = run(new CyclicLR(sgd([1]), { baseLr: 0, maxLr: 1, stepSizeUp: 1, mode: "exp_range", gamma: 0.5, cycleMomentum: false }), 3);
    expect(ex).toEqual([0, 0.5, 0, 0.125]);
    const custom = run(new CyclicLR(sgd([1]), { baseLr: 0, maxLr: 1, stepSizeUp: 1, scaleFn: (x) => 1 / (x + 1), scaleMode: "iterations", cycleMomentum: false }), 3);
    expect(custom).toEqual([0, 0.5, 0, 0.25]);
  });
  it("Adam groups cycle betas[0]; bad input", () => {
    const opt = new Adam([param([1])], { lr: 1 });
    new CyclicLR(opt, { baseLr: 0.1, maxLr: 1, stepSizeUp: 2 });
    expect(opt.paramGroups[0]!.betas).toEqual([0.9, 0.999]);
    expect(() => new CyclicLR(sgd([1]), { baseLr: 0.1, maxLr: 1, mode: "cosine" as never })).toThrow('CyclicLR: mode must be one of "triangular", "triangular2", "exp_range" (got "cosine")');
    expect(() => new CyclicLR(sgd([1]), { baseLr: 0.1, maxLr: 1, stepSizeUp: 0 })).toThrow("CyclicLR: stepSizeUp must be >= 1 and finite (got 0)");
    expect(() => new CyclicLR(sgd([1, 1]), { baseLr: [0.1, 0.1, 0.1], maxLr: 1 })).toThrow("CyclicLR: expected 2 values for baseLr, one per parameter group (got 3: [0.1,0.1,0.1])");
  });
});

describe("ReduceLROnPlateau", () => {
  it("patience, cooldown and minLr (min / rel)", () => {
    const opt = sgd([1]);
    const s = new ReduceLROnPlateau(opt, { factor: 0.5, patience: 1, cooldown: 1, minLr: 0.2 });
    const trace: [number, number, number, number][] = [];
    for (const m of [5, 5, 5, 5, 5, 5, 5, 5]) {
      s.step(m);
      trace.push([opt.paramGroups[0]!.lr, s.best, s.numBadEpochs, s.cooldownCounter]);
    }
    expect(trace).toEqual([
      [1, 5, 0, 0], [1, 5, 1, 0], [0.5, 5, 0, 1], // 2nd bad step in a row > patience 1: reduce, cooldown 1
      [0.5, 5, 0, 0], [0.5, 5, 1, 0], [0.25, 5, 0, 1], // the bad step in cooldown is ignored
      [0.25, 5, 0, 0], [0.25, 5, 1, 0],
    ]);
    s.step(5);
    expect(opt.paramGroups[0]!.lr).toBe(0.2); // max(0.125, minLr)
  });
  it("thresholds: rel scales with best (a negative best moves the bound the other way), abs does not; eps blocks tiny reductions", () => {
    const rel = new ReduceLROnPlateau(sgd([1]), { threshold: 0.1, patience: 0 });
    rel.step(10);
    rel.step(9.5); // needs < 9: bad
    expect([rel.best, rel.numBadEpochs]).toEqual([10, 0]); // reduced (patience 0) and reset
    expect(rel.getLastLr()).toEqual([0.1]);
    const neg = new ReduceLROnPlateau(sgd([1]), { threshold: 0.1, patience: 0 });
    neg.step(-10);
    neg.step(-9.5); // -9.5 < -10·0.9 = -9: better although larger
    expect([neg.best, neg.getLastLr()[0]]).toEqual([-9.5, 1]);
    const abs = new ReduceLROnPlateau(sgd([1]), { mode: "max", thresholdMode: "abs", threshold: 0.5, patience: 0 });
    abs.step(1);
    abs.step(1.5); // needs > 1.5
    expect([abs.best, abs.getLastLr()[0]]).toEqual([1, 0.1]);
    const eps = new ReduceLROnPlateau(sgd([1e-3]), { patience: 0, eps: 1e-3 });
    eps.step(1);
    eps.step(1);
    expect(eps.getLastLr()).toEqual([1e-3]); // 1e-3 − 1e-4 < eps: unchanged
  });
  it("state dict round trip; bad input", () => {
    const s = new ReduceLROnPlateau(sgd([1, 0.5]), { patience: 3 });
    s.step(2);
    s.step(3);
    const saved = s.stateDict();
    expect(saved).toEqual({ best: 2, numBadEpochs: 1, cooldownCounter: 0, lastEpoch: 2, lastLr: [1, 0.5] });
    const t = new ReduceLROnPlateau(sgd([1, 0.5]), { patience: 3 });
    t.loadStateDict(saved);
    expect([t.best, t.numBadEpochs, t.lastEpoch]).toEqual([2, 1, 2]);
    expect(() => t.loadStateDict({ best: 1 } as never)).toThrow("ReduceLROnPlateau.loadStateDict: missing keys [numBadEpochs, cooldownCounter, lastEpoch, lastLr], unexpected keys []");
    expect(() => new ReduceLROnPlateau(sgd([1]), { factor: 1 })).toThrow("ReduceLROnPlateau: factor must be in [0, 1) (got 1)");
    expect(() => new ReduceLROnPlateau(sgd([1]), { mode: "up" as never })).toThrow('ReduceLROnPlateau: mode must be one of "min", "max" (got "up")');
    expect(() => new ReduceLROnPlateau(sgd([1]), { thresholdMode: "pct" as never })).toThrow('ReduceLROnPlateau: thresholdMode must be one of "rel", "abs" (got "pct")');
    expect(() => new ReduceLROnPlateau(sgd([1]), { minLr: [0, 0] })).toThrow("ReduceLROnPlateau: expected 1 values for minLr, one per parameter group (got 2: [0,0])");
    expect(() => s.step(NaN)).toThrow("ReduceLROnPlateau.step: metric must be a number (got NaN)");
  });
  it("a state dict from before the first metric survives JSON (best = ±Infinity arrives as null)", () => {
    for (const mode of ["min", "max"] as const) {
      const a = new ReduceLROnPlateau(sgd([1]), { mode, patience: 0 });
      const b = new ReduceLROnPlateau(sgd([1]), { mode, patience: 0 });
      const saved = JSON.parse(JSON.stringify(a.stateDict())) as ReturnType<typeof a.stateDict>;
      expect(saved.best).toBe(null);
      b.loadStateDict(saved);
      expect(b.best).toBe(mode === "min" ? Infinity : -Infinity);
      for (const m of [3, 3, 1]) {
        a.step(m);
        b.step(m);
      }
      expect([b.best, b.numBadEpochs, b.getLastLr()]).toEqual([a.best, a.numBadEpochs, a.getLastLr()]);
    }
  });
});

describe("state dicts and composition errors", () => {
  it("a restored scheduler continues exactly (recursive state: CosineAnnealingWarmRestarts, OneCycleLR)", () => {
    const makers: [string, (o: SGD) => LRSchedulerBase][] = [
      ["cawr", (o) => new CosineAnnealingWarmRestarts(o, { t0: 3, tMult: 2 })],
      ["onecycle", (o) => new OneCycleLR(o, { maxLr: 1, totalSteps: 12 })],
      ["cos", (o) => new CosineAnnealingLR(o, { tMax: 4, etaMin: 0.1 })],
    ];
    for (const [, make] of makers) {
      const a = sgd([1]);
      const sa = make(a);
      for (let k = 0; k < 5; k++) sa.step();
      const b = sgd([1]);
      const sb = make(b);
      sb.loadStateDict(sa.stateDict());
      b.paramGroups[0]!.lr = a.paramGroups[0]!.lr; // the optimizer's state dict carries the lr and momentum
      b.paramGroups[0]!.momentum = a.paramGroups[0]!.momentum;
      expect(run(sb, 5)).toEqual(run(sa, 5));
    }
  });
  it("loadStateDict names missing and unexpected keys; SequentialLR / ChainedScheduler validate", () => {
    const opt = sgd([1]);
    const s = new CosineAnnealingWarmRestarts(opt, { t0: 3 });
    expect(Object.keys(s.stateDict())).toEqual(["lastEpoch", "baseLrs", "lastLr", "tI", "tCur"]);
    expect(() => s.loadStateDict({ lastEpoch: 1, baseLrs: [1], lastLr: [1], tI: 3, extra: 1 })).toThrow(
      "CosineAnnealingWarmRestarts.loadStateDict: missing keys [tCur], unexpected keys [extra]",
    );
    expect(() => s.loadStateDict({ lastEpoch: 1, baseLrs: [1, 2], lastLr: [1], tI: 3, tCur: 0 })).toThrow("CosineAnnealingWarmRestarts.loadStateDict: baseLrs must be 1 numbers (got [1,2])");
    const other = sgd([1]);
    const a = new LinearLR(opt), b = new ExponentialLR(other, { gamma: 0.9 });
    expect(() => new SequentialLR(opt, [a, b], [2])).toThrow("SequentialLR: schedulers[1] drives another optimizer");
    expect(() => new ChainedScheduler([a, b])).toThrow("ChainedScheduler: schedulers[1] drives another optimizer");
    expect(() => new SequentialLR(opt, [a], [2])).toThrow("SequentialLR: expected 0 milestones for 1 schedulers (got 1: [2])");
    expect(() => new ChainedScheduler([{} as never])).toThrow("ChainedScheduler: schedulers[0] must be a scheduler");
    expect(() => new LinearLR(opt, { startFactor: 0 })).toThrow("LinearLR: startFactor must be in (0, 1] (got 0)");
    expect(() => new ConstantLR(opt, { factor: 2 })).toThrow("ConstantLR: factor must be in (0, 1] (got 2)");
    expect(() => new PolynomialLR(opt, { totalIters: 0 })).toThrow("PolynomialLR: totalIters must be >= 1 (got 0)");
  });
  it("a second scheduler on the same groups takes their initial lr as base (torch's initial_lr)", () => {
    const opt = sgd([0.1]);
    new LinearLR(opt, { startFactor: 0.5, totalIters: 2 });
    expect(opt.paramGroups[0]!.lr).toBe(0.05);
    const c = new CosineAnnealingLR(opt, { tMax: 10 });
    expect(c.baseLrs).toEqual([0.1]);
  });
});
