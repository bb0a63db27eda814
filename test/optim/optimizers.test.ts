/**
 * @file SGD, Adam, AdamW and RMSprop update rules against hand-computed steps (PyTorch 1.13
 * semantics), and construction-time validation of their hyper-parameters.
 */
import { describe, expect, it } from "vitest";
import { tensor } from "@tapegrad/tensor";
import { tanh, variable } from "@tapegrad/autograd";
import { Adam, AdamW, RMSprop, SGD } from "@tapegrad/optim";
import { expectClose, f32, param, valueOf } from "./helpers.js";

/** Runs `steps` with the given gradients on one parameter with value `init`. */
function run(make: (p: ReturnType<typeof param>) => { step(): unknown }, init: number[], grads: number[][]): ReturnType<typeof param> {
  const p = param(init);
  const opt = make(p);
  for (const g of grads) {
    p.grad = tensor(g);
    opt.step();
  }
  return p;
}

describe("SGD", () => {
  // θ = [1, 2], g = [0.5, −1], lr 0.1 unless stated.
  it("plain: θ − lr·g = [0.95, 2.1]", () => {
    expect(valueOf(run((p) => new SGD([p], { lr: 0.1 }), [1, 2], [[0.5, -1]]))).toEqual(f32([0.95, 2.1]));
  });
  it("momentum 0.9: b₁ = g₁ (no dampening); b₂ = 0.9·b₁ + g₂ = [1.45, 0.1]", () => {
    const p = run((q) => new SGD([q], { lr: 0.1, momentum: 0.9 }), [1, 2], [[0.5, -1], [1, 1]]);
    expectClose(valueOf(p), [0.95 - 0.145, 2.1 - 0.01]); // [0.805, 2.09]
  });
  it("dampening 0.5: b₂ = 0.9·b₁ + 0.5·g₂ = [0.95, −0.4]", () => {
    const p = run((q) => new SGD([q], { lr: 0.1, momentum: 0.9, dampening: 0.5 }), [1, 2], [[0.5, -1], [1, 1]]);
    expectClose(valueOf(p), [0.95 - 0.095, 2.1 + 0.04]); // [0.855, 2.14]
  });
  it("nesterov: d = g + 0.9·b = [0.95, −1.9] at the first step", () => {
    const p = run((q) => new SGD([q], { lr: 0.1, momentum: 0.9, nesterov: true }), [1, 2], [[0.5, -1]]);
    expectClose(valueOf(p), [1 - 0.095, 2 + 0.19]);
  });
  it("weightDecay 0.1 (L2): g + 0.1θ = [0.6, −0.8]", () => {
    expectClose(valueOf(run((q) => new SGD([q], { lr: 0.1, weightDecay: 0.1 }), [1, 2], [[0.5, -1]])), [0.94, 2.08]);
  });
  it("maximize negates the gradient first (torch 1.13): with weightDecay 0.1, g = −g + 0.1θ = [−0.4, 1.2]", () => {
    expectClose(valueOf(run((q) => new SGD([q], { lr: 0.1, maximize: true }), [1, 2], [[0.5, -1]])), [1.05, 1.9]);
    expectClose(valueOf(run((q) => new SGD([q], { lr: 0.1, maximize: true, weightDecay: 0.1 }), [1, 2], [[0.5, -1]])), [1.04, 1.88]);
  });
  it("keeps the momentum buffer as state", () => {
    const p = param([1]);
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    p.grad = tensor([2]);
    opt.step();
    expect(Array.from(opt.state.get(p)!.momentumBuffer as Float32Array)).toEqual([2]);
    expect(new SGD([param([1])]).defaults).toEqual({ lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false });
  });
  it("rejects invalid hyper-parameters at construction", () => {
    const p = () => [param([1])];
    expect(() => new SGD(p(), { lr: -1 })).toThrow("SGD: lr must be >= 0 (got -1)");
    expect(() => new SGD(p(), { lr: NaN })).toThrow("SGD: lr must be a number (got NaN)");
    expect(() => new SGD(p(), { momentum: -0.5 })).toThrow("SGD: momentum must be >= 0 (got -0.5)");
    expect(() => new SGD(p(), { weightDecay: -1 })).toThrow("SGD: weightDecay must be >= 0 (got -1)");
    expect(() => new SGD(p(), { nesterov: true })).toThrow("SGD: nesterov requires momentum > 0 and dampening = 0 (got momentum 0, dampening 0)");
    expect(() => new SGD(p(), { nesterov: true, momentum: 0.9, dampening: 0.1 })).toThrow(/nesterov requires momentum > 0 and dampening = 0 \(got momentum 0.9, dampening 0.1\)/);
    expect(() => new SGD(p(), { nesterov: 1 as never })).toThrow("SGD: nesterov must be a boolean (got 1)");
    expect(() => new SGD(p(), { weight_decay: 1 } as never)).toThrow(/SGD: unknown option "weight_decay" \(expected one of lr, momentum, dampening, weightDecay, nesterov, maximize, clip/);
  });
});

describe("Adam / AdamW", () => {
  // θ = 1, g₁ = 0.5, lr 0.1, β = (0.9, 0.999), eps 1e-8.
  // Step 1: m = 0.05, v = 0.00025; m̂ = 0.5, v̂ = 0.25 → θ = 1 − 0.1·0.5/(0.5 + 1e-8) ≈ 0.9.
  it("first step moves by lr·sign(g)", () => {
    expectClose(valueOf(run((p) => new Adam([p], { lr: 0.1 }), [1], [[0.5]])), [1 - (0.1 * 0.5) / (0.5 + 1e-8)]);
  });
  it("second step with g₂ = −1: m = −0.055, v = 0.00124975, bias corrections 0.19 and 0.001999", () => {
    const p = run((q) => new Adam([q], { lr: 0.1 }), [1], [[0.5], [-1]]);
    const denom = Math.sqrt(0.00124975) / Math.sqrt(1 - 0.999 ** 2) + 1e-8; // 0.790690
    expectClose(valueOf(p), [0.9 + ((0.1 / 0.19) * 0.055) / denom], 1e-6); // 0.9366106
  });
  it("state: step, expAvg, expAvgSq", () => {
    const p = param([1]);
    const opt = new Adam([p], { lr: 0.1 });
    p.grad = tensor([0.5]);
    opt.step();
    const s = opt.state.get(p)!;
    expect(s.step).toBe(1);
    expect(Array.from(s.expAvg as Float32Array)).toEqual(f32([0.05]));
    expect(Array.from(s.expAvgSq as Float32Array)).toEqual(f32([0.00025]));
    expect(s.maxExpAvgSq).toBeNull();
  });
  it("amsgrad keeps the running max of v: g = 1 then 0 → vmax = 0.001 (v₂ = 0.000999)", () => {
    const p = param([1]);
    const opt = new Adam([p], { lr: 0.1, amsgrad: true });
    for (const g of [1, 0]) {
      p.grad = tensor([g]);
      opt.step();
    }
    expectClose(Array.from(opt.state.get(p)!.maxExpAvgSq as Float32Array), [0.001]);
    const denom = Math.sqrt(0.001) / Math.sqrt(1 - 0.999 ** 2) + 1e-8;
    expectClose(valueOf(p), [1 - 0.1 * (1 / (1 + 1e-8)) - ((0.1 / 0.19) * 0.09) / denom], 1e-6);
  });
  it("Adam weight decay is coupled L2 (g + λθ); AdamW decays θ(1 − lr·λ) first", () => {
    // Adam: g = 0.5 + 0.1·1 = 0.6 → first step still −lr: θ ≈ 0.9
    expectClose(valueOf(run((p) => new Adam([p], { lr: 0.1, weightDecay: 0.1 }), [1], [[0.5]])), [0.9], 1e-6);
    // AdamW: θ = 1·(1 − 0.01) = 0.99, then − 0.1 → 0.89
    expectClose(valueOf(run((p) => new AdamW([p], { lr: 0.1, weightDecay: 0.1 }), [1], [[0.5]])), [0.89], 1e-6);
    expect(new AdamW([param([1])]).defaults.weightDecay).toBe(0.01);
  });
  it("maximize and epsRoot (Optax): √(v̂ + 0.25) = √0.5", () => {
    expectClose(valueOf(run((p) => new Adam([p], { lr: 0.1, maximize: true }), [1], [[0.5]])), [1.1], 1e-6);
    expectClose(valueOf(run((p) => new Adam([p], { lr: 0.1, epsRoot: 0.25 }), [1], [[0.5]])), [1 - 0.05 / (Math.sqrt(0.5) + 1e-8)], 1e-6);
  });
  it("rejects invalid hyper-parameters at construction", () => {
    const p = () => [param([1])];
    expect(() => new Adam(p(), { lr: -0.1 })).toThrow("Adam: lr must be >= 0 (got -0.1)");
    expect(() => new Adam(p(), { betas: [1, 0.999] })).toThrow("Adam: betas[0] must be in [0, 1) (got 1)");
    expect(() => new Adam(p(), { betas: [0.9, -0.1] })).toThrow("Adam: betas[1] must be in [0, 1) (got -0.1)");
    expect(() => new Adam(p(), { betas: [0.9] as never })).toThrow("Adam: betas must be an array of two numbers (got [0.9])");
    expect(() => new AdamW(p(), { eps: -1e-8 })).toThrow("AdamW: eps must be >= 0 (got -1e-8)");
    expect(() => new AdamW(p(), { weightDecay: -1 })).toThrow("AdamW: weightDecay must be >= 0 (got -1)");
    expect(() => new Adam(p(), { amsgrad: "yes" as never })).toThrow('Adam: amsgrad must be a boolean (got "yes")');
  });
});

describe("RMSprop", () => {
  // θ = 1, g = 0.5, lr 0.01, α 0.99: s = 0.01·0.25 = 0.0025, avg = 0.05 → θ = 1 − 0.01·0.5/0.05 = 0.9
  it("plain step", () => {
    expectClose(valueOf(run((p) => new RMSprop([p]), [1], [[0.5]])), [1 - 0.005 / (0.05 + 1e-8)], 1e-6);
  });
  it("centered: a = 0.005, avg = √(0.0025 − 0.000025) = 0.0497494", () => {
    expectClose(valueOf(run((p) => new RMSprop([p], { centered: true }), [1], [[0.5]])), [1 - 0.005 / (Math.sqrt(0.002475) + 1e-8)], 1e-6);
  });
  it("momentum 0.9: b₁ = 0.5/0.05 = 10; b₂ = 9 + 0.5/√0.004975 = 16.0888", () => {
    const p = run((q) => new RMSprop([q], { momentum: 0.9 }), [1], [[0.5], [0.5]]);
    const b2 = 0.9 * 10 + 0.5 / (Math.sqrt(0.99 * 0.0025 + 0.01 * 0.25) + 1e-8);
    expectClose(valueOf(p), [1 - 0.1 - 0.01 * b2], 1e-6); // 0.739112
  });
  it("state keys follow the options (momentumBuffer, gradAvg only when used)", () => {
    const p = param([1]);
    const opt = new RMSprop([p], { momentum: 0.9, centered: true, weightDecay: 0.1, maximize: true });
    p.grad = tensor([0.5]);
    opt.step();
    const sd = opt.stateDict().state["0"]!;
    expect(Object.keys(sd).sort()).toEqual(["gradAvg", "momentumBuffer", "squareAvg", "step"]);
    const plain = new RMSprop([param([1])]);
    plain.paramGroups[0]!.params[0]!.grad = tensor([1]);
    plain.step();
    expect(Object.keys(plain.stateDict().state["0"]!).sort()).toEqual(["squareAvg", "step"]);
  });
  it("rejects invalid hyper-parameters", () => {
    expect(() => new RMSprop([param([1])], { alpha: 1.5 })).toThrow("RMSprop: alpha must be in [0, 1] (got 1.5)");
    expect(() => new RMSprop([param([1])], { momentum: -1 })).toThrow("RMSprop: momentum must be >= 0 (got -1)");
  });
});

describe("parameter validation (all optimizers)", () => {
  it("rejects empty lists, Tensors, non-leaf Vars and duplicates", () => {
    expect(() => new SGD([])).toThrow("SGD: got an empty parameter list");
    expect(() => new SGD(tensor([1]) as never)).toThrow(/SGD: params must be .* \(got a Tensor; wrap it with variable\(\)\)/);
    expect(() => new Adam([tensor([1]) as never])).toThrow(/Adam: parameters must be Vars \(got a Tensor at index 0 of group 0\); wrap tensors with variable\(\)/);
    const x = variable(tensor([1]));
    expect(() => new SGD([tanh(x)])).toThrow(/SGD: can't optimize a non-leaf Var \(Var from tanh \[1\] at index 0 of group 0\)/);
    expect(() => new SGD([x, x])).toThrow(/appears more than once in parameter group 0/);
    expect(() => new SGD([{ params: [x] }, { params: [x] }])).toThrow(/appears in more than one parameter group/);
    expect(() => new SGD([{ params: [x], clip: [] } as never])).toThrow('SGD: "clip" is an optimizer-wide option, not a parameter-group option (group 0)');
    expect(() => new SGD([{ params: [x], lr: -1 }])).toThrow("SGD (parameter group 0): lr must be >= 0 (got -1)");
  });
});
