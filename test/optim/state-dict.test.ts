/**
 * @file Optimizer state dicts: round trips (also through JSON) continue the same trajectory,
 * snapshots are copies, transform states are included, and loading validates everything first.
 */
import { describe, expect, it } from "vitest";
import { tensor } from "@tapegrad/tensor";
import { Adam, AutoClip, RMSprop, SGD, ZClip, clipGradNorm, type Optimizer, type OptimizerStateDict } from "@tapegrad/optim";
import { param, valueOf } from "./helpers.js";

const GRADS = [[0.5, -1], [1, 1], [-0.3, 0.2], [2, -2], [0.1, 0.4]];

function stepWith(opt: Optimizer, g: number[]): void {
  opt.flatParams()[0]!.grad = tensor(g);
  opt.step();
}

/** JSON-safe copy: Float32Arrays become number arrays. */
function toJSON(sd: OptimizerStateDict): OptimizerStateDict {
  return JSON.parse(JSON.stringify(sd, (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v))) as OptimizerStateDict;
}

describe("stateDict / loadStateDict round trip", () => {
  for (const [name, make] of [
    ["SGD", (p: ReturnType<typeof param>) => new SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true })],
    ["Adam", (p: ReturnType<typeof param>) => new Adam([p], { lr: 0.1, amsgrad: true, clip: new AutoClip({ percentile: 50 }) })],
    ["RMSprop", (p: ReturnType<typeof param>) => new RMSprop([p], { momentum: 0.9, centered: true })],
  ] as const) {
    it(`${name}: a restored copy continues exactly like the original (through JSON)`, () => {
      const a = param([1, 2]);
      const optA = make(a);
      for (const g of GRADS.slice(0, 3)) stepWith(optA, g);
      const saved = toJSON(optA.stateDict());
      const b = param(valueOf(a));
      const optB = make(b);
      optB.loadStateDict(saved);
      expect(optB.stepCount).toBe(3);
      for (const g of GRADS.slice(3)) {
        stepWith(optA, g);
        stepWith(optB, g);
      }
      expect(valueOf(b)).toEqual(valueOf(a));
    });
  }
  it("the dict layout: state by flat index, groups with params as indices, counters, transforms", () => {
    const a = param([1]);
    const b = param([2], [1]);
    const opt = new Adam([{ params: [a] }, { params: [b], lr: 0.5 }], { clip: clipGradNorm.transform(1) });
    opt.step();
    const sd = opt.stateDict();
    expect(sd.type).toBe("Adam");
    expect(Object.keys(sd.state)).toEqual(["1"]);
    expect(sd.state["1"]).toMatchObject({ step: 1 });
    expect(sd.paramGroups.map((g) => g.params)).toEqual([[0], [1]]);
    expect(sd.paramGroups[1]).toMatchObject({ lr: 0.5, betas: [0.9, 0.999], eps: 1e-8 });
    expect(sd).toMatchObject({ stepCount: 1, consecutiveSkips: 0, transforms: [{ name: "clipGradNorm", state: null }] });
  });
  it("a snapshot is a copy: later steps do not change it", () => {
    const p = param([1], [1]);
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    opt.step();
    const sd = opt.stateDict();
    const buf = Array.from(sd.state["0"]!.momentumBuffer as Float32Array);
    opt.step();
    expect(Array.from(sd.state["0"]!.momentumBuffer as Float32Array)).toEqual(buf);
  });
  it("loading restores hyper-parameters (e.g. a scheduled lr)", () => {
    const opt = new SGD([param([1], [1])], { lr: 0.1 });
    opt.paramGroups[0]!.lr = 0.01;
    const sd = opt.stateDict();
    const fresh = new SGD([param([1])], { lr: 0.1 });
    fresh.loadStateDict(sd);
    expect(fresh.paramGroups[0]!.lr).toBe(0.01);
  });
});

describe("loadStateDict validation", () => {
  const trained = () => {
    const opt = new Adam([param([1, 2], [1, 1])], { lr: 0.1 });
    opt.step();
    return opt;
  };
  const fresh = () => new Adam([param([1, 2])], { lr: 0.1 });
  const mutate = (f: (sd: Record<string, any>) => void) => {
    const sd = toJSON(trained().stateDict()) as unknown as Record<string, any>;
    f(sd);
    return sd as unknown as OptimizerStateDict;
  };
  it("rejects another optimizer's dict", () => {
    const sgd = new SGD([param([1])]).stateDict();
    expect(() => fresh().loadStateDict(sgd)).toThrow('Adam.loadStateDict: the state dict was saved from "SGD", not Adam');
  });
  it("rejects mismatched groups, parameters and buffer sizes", () => {
    expect(() => fresh().loadStateDict(mutate((sd) => sd.paramGroups.push({ ...sd.paramGroups[0], params: [7] })))).toThrow("Adam.loadStateDict: the state dict has 2 parameter groups, the optimizer has 1");
    expect(() => fresh().loadStateDict(mutate((sd) => sd.paramGroups[0].params.push(1)))).toThrow("Adam.loadStateDict: saved parameter group 0 has 2 parameters, the optimizer's has 1");
    expect(() => fresh().loadStateDict(mutate((sd) => (sd.state["0"].expAvg = [1, 2, 3])))).toThrow(/Adam.loadStateDict: state\[0\].expAvg has 3 values, but the parameter leaf Var \[2\] has 2/);
    expect(() => fresh().loadStateDict(mutate((sd) => (sd.state["5"] = {})))).toThrow('Adam.loadStateDict: state for parameter id "5", which is in no saved parameter group');
  });
  it("rejects unknown keys, bad counters and invalid hyper-parameters", () => {
    expect(() => fresh().loadStateDict(mutate((sd) => (sd.state["0"].momentum = [1, 1])))).toThrow('Adam.loadStateDict: unknown state key "momentum" for parameter 0 (expected step, expAvg, expAvgSq, maxExpAvgSq)');
    expect(() => fresh().loadStateDict(mutate((sd) => (sd.state["0"].step = -1)))).toThrow("Adam.loadStateDict: state[0].step must be a non-negative integer (got -1)");
    expect(() => fresh().loadStateDict(mutate((sd) => (sd.paramGroups[0].momentum = 0.9)))).toThrow('Adam.loadStateDict: unknown hyper-parameter "momentum" in saved parameter group 0');
    expect(() => fresh().loadStateDict(mutate((sd) => (sd.paramGroups[0].lr = -1)))).toThrow("Adam (saved parameter group 0): lr must be >= 0 (got -1)");
    expect(() => fresh().loadStateDict(mutate((sd) => (sd.transforms = [{ name: "x", state: null }])))).toThrow("Adam.loadStateDict: the state dict has 1 transforms, the optimizer has 0");
    expect(() => fresh().loadStateDict(null as never)).toThrow("Adam.loadStateDict: expected a state dict object (got null)");
  });
  it("a failed load changes nothing (transform states are rolled back)", () => {
    const ac = new AutoClip({ percentile: 50 });
    const p = param([1, 2], [3, 4]);
    const opt = new Adam([p], { clip: ac });
    opt.step();
    const before = opt.stateDict();
    const sd = toJSON(before) as unknown as Record<string, any>;
    sd.transforms[0].state.global = [99];
    sd.state["0"].expAvg = [1]; // invalid: wrong size → nothing may be loaded
    expect(() => opt.loadStateDict(sd as unknown as OptimizerStateDict)).toThrow(/expAvg has 1 values/);
    expect(opt.stateDict()).toEqual(before);
    expect(ac.stateDict().global).toEqual([5]);
  });
  it("a transform that rejects its state rolls back the transforms loaded before it", () => {
    const ac = new AutoClip({ percentile: 50 });
    const zc = new ZClip({ warmupSteps: 2 });
    const opt = new SGD([param([1, 2], [3, 4])], { clip: [ac, zc] });
    opt.step();
    const sd = toJSON(opt.stateDict()) as unknown as Record<string, any>;
    sd.transforms[0].state.global = [99];
    sd.transforms[1].state.initialized = "yes";
    expect(() => opt.loadStateDict(sd as unknown as OptimizerStateDict)).toThrow(/ZClip.loadStateDict: initialized must be a boolean/);
    expect(ac.stateDict().global).toEqual([5]);
  });
});
