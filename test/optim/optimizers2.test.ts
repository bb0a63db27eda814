/**
 * @file Adagrad, Adadelta, Adamax, NAdam, RAdam and Lion: hand-computed steps (PyTorch 1.13
 * formulas, Lion per the paper), the optim2.json golden trajectories (file tolerance), per-parameter
 * step counts, parameter groups, maximize, clipping and telemetry, state dicts, and validation of
 * hyper-parameters.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tensor } from "@tapegrad/tensor";
import { mul, sub, sum, variable, type Var } from "@tapegrad/autograd";
import {
  Adadelta, Adagrad, Adamax, Lion, NAdam, RAdam, clipGradNorm, radamRectification, type Optimizer, type OptimizerStateDict,
} from "@tapegrad/optim";
import { goldenDir } from "../golden/dir.js";
import { runOptim2File } from "../golden/layers/optim2.js";
import type { GoldenFile } from "../golden/schema.js";
import { expectClose, f32, param, valueOf } from "./helpers.js";

type Make = (params: Var[], extra?: Record<string, unknown>) => Optimizer;

/** Every optimizer of this file, by name, with options that make its updates non-trivial. */
const MAKERS: Record<string, Make> = {
  Adagrad: (p, o = {}) => new Adagrad(p, { lr: 0.1, lrDecay: 0.1, weightDecay: 0.05, ...o }),
  Adadelta: (p, o = {}) => new Adadelta(p, { weightDecay: 0.05, ...o }),
  Adamax: (p, o = {}) => new Adamax(p, { lr: 0.05, weightDecay: 0.05, ...o }),
  NAdam: (p, o = {}) => new NAdam(p, { lr: 0.05, momentumDecay: 0.1, weightDecay: 0.05, ...o }),
  RAdam: (p, o = {}) => new RAdam(p, { lr: 0.05, betas: [0.8, 0.9], weightDecay: 0.05, ...o }),
  Lion: (p, o = {}) => new Lion(p, { lr: 0.01, weightDecay: 0.5, ...o }),
};

/** Gradients that change scale and sign from step to step. */
const GRADS = [[0.5, -1, 0.25], [-0.2, 0.4, 1.5], [0.03, -0.02, -0.7], [1, 0.5, -0.1], [-0.6, 0.01, 0.3], [0.2, -0.3, 0.4], [0.7, 0.1, -0.05], [-0.1, 0.9, 0.6]];

/** Runs `opt` over `grads` (one list per step, one gradient per parameter; null = no gradient). */
function run(opt: Optimizer, params: Var[], grads: (number[] | null)[][]): void {
  for (const step of grads) {
    params.forEach((p, i) => (p.grad = step[i] === null ? null : tensor(step[i]!)));
    opt.step();
  }
}

/** One parameter `init` stepped through `grads` by `make`. */
function traj(make: (p: Var[]) => Optimizer, init: number[], grads: number[][]): number[] {
  const p = param(init);
  run(make([p]), [p], grads.map((g) => [g]));
  return valueOf(p);
}

/** A state dict through JSON (buffers as number arrays), as it would be saved to disk. */
function viaJson(sd: OptimizerStateDict): OptimizerStateDict {
  return JSON.parse(JSON.stringify(sd, (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v))) as OptimizerStateDict;
}

describe("optim2.json golden trajectories (file tolerance)", () => {
  const file = JSON.parse(readFileSync(join(goldenDir(), "layers", "optim2.json"), "utf8")) as GoldenFile;
  it("has the 19 documented cases and every one passes", () => {
    expect(file.cases.length).toBe(19);
    const results = runOptim2File(file);
    expect(results.filter((r) => r.status !== "passed")).toEqual([]);
  });
  it("negative control: a perturbed reference value fails the case", () => {
    const bad = JSON.parse(JSON.stringify(file)) as GoldenFile;
    const c = bad.cases.find((x) => x.name === "nadam_default") as unknown as { steps: { params: { data: number[] }[] }[] };
    c.steps[7]!.params[0]!.data[0]! += 1e-3;
    const r = runOptim2File(bad).find((x) => x.name === "nadam_default")!;
    expect(r.status).toBe("failed");
    expect(r.message).toMatch(/step 8 params\[0\]/);
  });
});

describe("Adagrad", () => {
  // θ = [1, 2], g = [0.5, −1], lr 0.1: s = [0.25, 1]; θ − 0.1·g/√s = [0.9, 2.1].
  it("first step moves by lr·sign(g)", () => {
    expectClose(traj((p) => new Adagrad(p, { lr: 0.1 }), [1, 2], [[0.5, -1]]), [0.9, 2.1]);
  });
  it("lrDecay 0.5: step 2 uses clr = 0.1/1.5 and s = [0.5, 2]", () => {
    const clr = 0.1 / 1.5; // θ₂ = θ₁ − clr·g/√s = [0.9 − 0.047140, 2.1 + 0.047140]
    expectClose(traj((p) => new Adagrad(p, { lr: 0.1, lrDecay: 0.5 }), [1, 2], [[0.5, -1], [0.5, -1]]), [0.9 - (clr * 0.5) / Math.sqrt(0.5), 2.1 + clr / Math.sqrt(2)], 1e-6);
  });
  it("initialAccumulatorValue 0.75 starts the sum: s = 0.75 + 0.25 = 1 → θ = 1 − 0.1·0.5 = 0.95", () => {
    const p = param([1]);
    const opt = new Adagrad([p], { lr: 0.1, initialAccumulatorValue: 0.75 });
    run(opt, [p], [[[0.5]]]);
    expectClose(valueOf(p), [0.95]);
    expect(opt.stateDict().state["0"]).toEqual({ step: 1, sum: Float32Array.of(1) });
  });
});

describe("Adadelta", () => {
  // θ = 1, g = 0.5, lr 1, ρ 0.9, eps 1e-6: v = 0.1·0.25 = 0.025; δ = √(0 + 1e-6)/√(0.025 + 1e-6)·0.5 ≈ 3.1622e-3.
  it("first step: θ = 1 − δ, u = 0.1·δ²", () => {
    const p = param([1]);
    const opt = new Adadelta([p]);
    run(opt, [p], [[[0.5]]]);
    const delta = (Math.sqrt(1e-6) / Math.sqrt(0.025 + 1e-6)) * 0.5;
    expectClose(valueOf(p), [1 - delta], 1e-6);
    const s = opt.stateDict().state["0"]!;
    expectClose(s.squareAvg as Float32Array, [0.025], 1e-6);
    expectClose(s.accDelta as Float32Array, [0.1 * delta * delta], 1e-5);
  });
  it("lr scales the step but not accDelta", () => {
    const a = param([1]), b = param([1]);
    const oa = new Adadelta([a]), ob = new Adadelta([b], { lr: 0.5 });
    run(oa, [a], [[[0.5]], [[-0.3]]]);
    run(ob, [b], [[[0.5]], [[-0.3]]]);
    expect(ob.stateDict().state["0"]!.accDelta).toEqual(oa.stateDict().state["0"]!.accDelta);
    expectClose([1 - valueOf(b)[0]!], [(1 - valueOf(a)[0]!) / 2], 1e-5);
  });
});

describe("Adamax", () => {
  // θ = 1, lr 0.1: g₁ = 0.5 → m = 0.05, u = 0.5 + 1e-8, θ = 1 − (0.1/0.1)·0.05/u ≈ 0.9.
  // g₂ = −0.25 → m = 0.045 − 0.025 = 0.02, u = max(0.999·u, 0.25) = 0.4995, θ = 0.9 − (0.1/0.19)·0.02/0.4995.
  it("two steps by hand", () => {
    const t1 = 1 - 0.05 / (0.5 + 1e-8);
    expectClose(traj((p) => new Adamax(p, { lr: 0.1 }), [1], [[0.5], [-0.25]]), [t1 - ((0.1 / 0.19) * 0.02) / (0.999 * (0.5 + 1e-8))], 1e-6);
  });
  it("expInf takes |g| + eps when larger than β2·u", () => {
    const p = param([0, 0]);
    const opt = new Adamax([p], { eps: 0.5 });
    run(opt, [p], [[[-1, 0]]]);
    expect(Array.from(opt.stateDict().state["0"]!.expInf as Float32Array)).toEqual([1.5, 0.5]);
  });
});

describe("NAdam", () => {
  it("first step: θ = 1 − lr − lr·μ₂/(1 − μ₁μ₂)·m/denom, muProduct = μ₁ (float32)", () => {
    const mu = (t: number) => 0.9 * (1 - 0.5 * 0.96 ** (t * 0.004));
    const p = param([1]);
    const opt = new NAdam([p], { lr: 0.1 });
    run(opt, [p], [[[0.5]]]);
    const denom = Math.sqrt(0.00025) / Math.sqrt(0.001) + 1e-8; // ≈ 0.5
    expectClose(valueOf(p), [1 - (0.1 * 0.5) / denom - ((0.1 * mu(2)) / (1 - mu(1) * mu(2))) * (0.05 / denom)], 1e-6);
    expect(opt.stateDict().state["0"]!.muProduct).toBe(Math.fround(mu(1)));
  });
  it("muProduct is the product of the μ_t over the steps", () => {
    const mu = (t: number) => 0.8 * (1 - 0.5 * 0.96 ** (t * 0.1));
    const p = param([1]);
    const opt = new NAdam([p], { betas: [0.8, 0.99], momentumDecay: 0.1 });
    run(opt, [p], [[[1]], [[1]], [[1]]]);
    expectClose([opt.stateDict().state["0"]!.muProduct as number], [mu(1) * mu(2) * mu(3)], 1e-6);
  });
  it("decoupledWeightDecay multiplies θ by 1 − lr·λ before the step (L2 otherwise)", () => {
    const plain = traj((p) => new NAdam(p, { lr: 0.1 }), [2], [[0.5]]);
    const dec = traj((p) => new NAdam(p, { lr: 0.1, weightDecay: 0.5, decoupledWeightDecay: true }), [2], [[0.5]]);
    expectClose(dec, [plain[0]! - 2 * 0.1 * 0.5], 1e-6); // the Adam-like part is unchanged at step 1
  });
});

describe("RAdam", () => {
  it("rectification: steps 1-5 never (ρ₅ = 4.996 for β2 = 0.999), step 6 with r from ρ₆ = 5.994; β2 ≤ 0.6 never", () => {
    for (let t = 1; t <= 5; t++) expect(radamRectification(0.999, t)).toBeNull();
    const rhoInf = 1999, rho6 = rhoInf - (12 * 0.999 ** 6) / (1 - 0.999 ** 6);
    expect(rho6).toBeCloseTo(5.994, 3);
    expectClose([radamRectification(0.999, 6)!], [Math.sqrt(((rho6 - 4) * (rho6 - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rho6))], 1e-12);
    for (const t of [1, 6, 50, 1000]) expect(radamRectification(0.6, t)).toBeNull();
  });
  it("constant g = 0.5: five SGD-with-momentum steps of lr·m̂ = 0.05, then a rectified one of lr·m̂·(√bc2/√v)·r = 0.1·r", () => {
    const lr = 0.1, g = Array.from({ length: 6 }, () => [0.5]);
    const five = traj((p) => new RAdam(p, { lr }), [1], g.slice(0, 5));
    expectClose(five, [1 - 5 * 0.05], 1e-6);
    const six = traj((p) => new RAdam(p, { lr }), [1], g);
    expectClose(six, [0.75 - 0.1 * radamRectification(0.999, 6)!], 1e-5);
  });
});

describe("Lion", () => {
  // θ = [1, −1, 0.5], g = [0.5, −0.25, 0], lr 0.1: c = 0.1·g → sign [1, −1, 0]; m = 0.01·g.
  it("steps by lr·sign(c), sign(0) = 0, and updates m with β2", () => {
    const p = param([1, -1, 0.5]);
    const opt = new Lion([p], { lr: 0.1 });
    run(opt, [p], [[[0.5, -0.25, 0]]]);
    expect(valueOf(p)).toEqual(f32([0.9, -0.9, 0.5]));
    expectClose(opt.stateDict().state["0"]!.expAvg as Float32Array, [0.005, -0.0025, 0], 1e-6);
    expect(Object.keys(opt.stateDict().state["0"]!)).toEqual(["expAvg"]); // no step counter
  });
  it("weight decay is decoupled, times lr, from θ before the update: θ(1 − 0.1) − 0.1·sign(c)", () => {
    expectClose(traj((p) => new Lion(p, { lr: 0.1, weightDecay: 1 }), [1, -1, 0.5], [[0.5, -0.25, 0]]), [0.8, -0.8, 0.45], 1e-6);
  });
  it("c uses β1, m uses β2: a sign flip shows after one step with β1 = 0", () => {
    // m₁ = 0.01 (β2 0.99); step 2 with g = −0.001: β1 0.9 → c = 0.001 − 0.0001 > 0; β1 0 → c = g < 0.
    expect(traj((p) => new Lion(p, { lr: 0.5 }), [0], [[1], [-0.001]])).toEqual([-1]);
    expect(traj((p) => new Lion(p, { lr: 0.5, betas: [0, 0.99] }), [0], [[1], [-0.001]])).toEqual([0]);
  });
});

describe.each(Object.keys(MAKERS))("%s: shared behaviour", (name) => {
  const make = MAKERS[name]!;
  it("maximize equals stepping on −g (same bits)", () => {
    const a = traj((p) => make(p, { maximize: true }), [0.3, -1, 2], GRADS);
    const b = traj((p) => make(p), [0.3, -1, 2], GRADS.map((g) => g.map((x) => -x)));
    expect(a).toEqual(b);
    expect(a).not.toEqual(traj((p) => make(p), [0.3, -1, 2], GRADS));
  });
  it("a parameter without a gradient is skipped and keeps its own step count", () => {
    const a = param([0.3, -1, 2]), b = param([1, 2, 3]);
    run(make([a, b]), [a, b], GRADS.map((g, k) => [g, k % 3 === 0 ? null : g.map((x) => x * 2)]));
    expect(valueOf(a)).toEqual(traj((p) => make(p), [0.3, -1, 2], GRADS));
    expect(valueOf(b)).toEqual(traj((p) => make(p), [1, 2, 3], GRADS.filter((_, k) => k % 3 !== 0).map((g) => g.map((x) => x * 2))));
  });
  it("parameter groups: each group uses its own hyper-parameters", () => {
    const a = param([0.3, -1, 2]), b = param([0.3, -1, 2]);
    const opt = make([a]);
    opt.addParamGroup({ params: [b], lr: 0.003 });
    run(opt, [a, b], GRADS.map((g) => [g, g]));
    expect(valueOf(a)).toEqual(traj((p) => make(p), [0.3, -1, 2], GRADS));
    expect(valueOf(b)).toEqual(traj((p) => make(p, { lr: 0.003 }), [0.3, -1, 2], GRADS));
    expect(valueOf(b)).not.toEqual(valueOf(a));
  });
  it("state dict through JSON: a restored optimizer continues on the same trajectory", () => {
    const a = param([0.3, -1, 2]);
    const oa = make([a]);
    run(oa, [a], GRADS.slice(0, 5).map((g) => [g]));
    const b = param(valueOf(a));
    const ob = make([b]);
    ob.loadStateDict(viaJson(oa.stateDict()));
    run(oa, [a], GRADS.slice(5).map((g) => [g]));
    run(ob, [b], GRADS.slice(5).map((g) => [g]));
    expect(valueOf(b)).toEqual(valueOf(a));
    expect(viaJson(ob.stateDict())).toEqual(viaJson(oa.stateDict()));
  });
  it("exactly-zero gradients leave θ unchanged (no weight decay); 0-d parameters step like 1-element ones", () => {
    const z = param([0.5, -2, 3]);
    run(make([z], { weightDecay: 0 }), [z], [[[0, 0, 0]], [[0, 0, 0]]]);
    expect(valueOf(z)).toEqual(f32([0.5, -2, 3]));
    const s = param([0.5], null, []), v = param([0.5]);
    const os = make([s]), ov = make([v]);
    for (const g of [0, 0.7, -0.2, 1.3]) {
      s.grad = tensor(g);
      v.grad = tensor([g]);
      os.step();
      ov.step();
    }
    expect(s.shape).toEqual([]);
    expect(valueOf(s)).toEqual(valueOf(v));
    expect(valueOf(s)).not.toEqual(f32([0.5]));
  });
  it("the clip option clips before the update and lastStats reports it", () => {
    const a = param([0, 0, 0]), b = param([0, 0, 0]);
    const oa = make([a], { clip: clipGradNorm.transform(1) }), ob = make([b]);
    run(oa, [a], [[[3, 0, 4]]]);
    run(ob, [b], [[[0.6, 0, 0.8]]]);
    expectClose(valueOf(a), valueOf(b), 1e-6, 1e-9);
    expect(oa.lastStats).toMatchObject({ step: 1, clipped: true, skipped: false, numGrads: 1 });
    expectClose([oa.lastStats!.preClipNorm, oa.lastStats!.postClipNorm], [5, 1], 1e-6);
  });
  it("rejects unknown options and bad values with the optimizer's name", () => {
    expect(() => make([param([1])], { lr: -1 })).toThrow(`${name}: lr must be >= 0 (got -1)`);
    expect(() => make([param([1])], { weight_decay: 1 })).toThrow(new RegExp(`${name}: unknown option "weight_decay"`));
    expect(() => make([param([1])], { maximize: 1 })).toThrow(`${name}: maximize must be a boolean (got 1)`);
    const opt = make([param([1])]);
    expect(() => opt.addParamGroup({ params: [param([2])], weightDecay: -0.5 } as never)).toThrow(`${name} (parameter group 1): weightDecay must be >= 0 (got -0.5)`);
  });
});

describe("training: minimizing Σ(θ − target)² from θ = 0 (loss 14.25)", () => {
  const target = tensor([1, -2, 0.5, 3]);
  /** The loss before the last of `steps` steps; `lrAt` (optional) sets the learning rate of step i. */
  function train(make: (p: Var) => Optimizer, steps: number, lrAt?: (i: number) => number): number {
    const p = variable(tensor([0, 0, 0, 0]));
    const opt = make(p);
    let loss = NaN;
    for (let i = 0; i < steps; i++) {
      if (lrAt) opt.paramGroups[0]!.lr = lrAt(i);
      opt.zeroGrad();
      const d = sub(p, target);
      const l = sum(mul(d, d));
      loss = l.item();
      l.backward();
      opt.step();
    }
    return loss;
  }
  it.each([
    ["Adagrad", (p: Var) => new Adagrad([p], { lr: 0.5 })],
    ["Adadelta", (p: Var) => new Adadelta([p], { lr: 10 })],
    ["Adamax", (p: Var) => new Adamax([p], { lr: 0.1 })],
    ["NAdam", (p: Var) => new NAdam([p], { lr: 0.1 })],
    ["RAdam", (p: Var) => new RAdam([p], { lr: 0.1 })],
  ] as const)("%s reaches loss < 1e-6 in 400 steps", (_name, make) => {
    expect(train(make, 400)).toBeLessThan(1e-6);
  });
  it("Lion with a linearly decaying lr (0.02 → 0) ends at loss 0.1394, as a float64 simulation of the rule", () => {
    // Sign updates overshoot while the slow momentum (β2 0.99) catches up, so Lion hovers near the optimum.
    expectClose([train((p) => new Lion([p], { lr: 0.02 }), 400, (i) => 0.02 * (1 - i / 400))], [0.13935849], 1e-4);
  });
});

describe("hyper-parameter validation", () => {
  const p = () => [param([1])];
  it("names the optimizer, the hyper-parameter and the value", () => {
    expect(() => new Adagrad(p(), { lrDecay: -1 })).toThrow("Adagrad: lrDecay must be >= 0 (got -1)");
    expect(() => new Adagrad(p(), { initialAccumulatorValue: -0.1 })).toThrow("Adagrad: initialAccumulatorValue must be >= 0 (got -0.1)");
    expect(() => new Adadelta(p(), { rho: 1.5 })).toThrow("Adadelta: rho must be in [0, 1] (got 1.5)");
    expect(() => new Adadelta(p(), { eps: NaN })).toThrow("Adadelta: eps must be a number (got NaN)");
    expect(() => new Adamax(p(), { betas: [0.9, 1] })).toThrow("Adamax: betas[1] must be in [0, 1) (got 1)");
    expect(() => new Adamax(p(), { betas: [0.9] as never })).toThrow("Adamax: betas must be an array of two numbers (got [0.9])");
    expect(() => new NAdam(p(), { momentumDecay: -0.1 })).toThrow("NAdam: momentumDecay must be >= 0 (got -0.1)");
    expect(() => new RAdam(p(), { eps: -1 })).toThrow("RAdam: eps must be >= 0 (got -1)");
    expect(() => new RAdam(p(), { decoupledWeightDecay: "yes" as never })).toThrow('RAdam: decoupledWeightDecay must be a boolean (got "yes")');
    expect(() => new Lion(p(), { betas: [2, 0.99] })).toThrow("Lion: betas[0] must be in [0, 1] (got 2)");
    expect(() => new Lion([])).toThrow("Lion: got an empty parameter list");
  });
  it("checks hyper-parameters changed after construction at the next step", () => {
    const q = param([1], [1]);
    const opt = new Adamax([q]);
    opt.paramGroups[0]!.eps = -1;
    expect(() => opt.step()).toThrow("Adamax (parameter group 0): eps must be >= 0 (got -1)");
  });
  it("validates a loaded NAdam muProduct and refuses unknown state keys", () => {
    const q = param([1], [1]);
    const opt = new NAdam([q]);
    opt.step();
    const sd = viaJson(opt.stateDict());
    (sd.state["0"] as Record<string, unknown>).muProduct = "x";
    expect(() => opt.loadStateDict(sd)).toThrow('NAdam.loadStateDict: state[0].muProduct must be a finite number (got "x")');
    (sd.state["0"] as Record<string, unknown>).muProduct = 0.5;
    (sd.state["0"] as Record<string, unknown>).momentumBuffer = [0];
    expect(() => opt.loadStateDict(sd)).toThrow(/NAdam.loadStateDict: unknown state key "momentumBuffer" for parameter 0 \(expected step, expAvg, expAvgSq, muProduct\)/);
  });
});
