/**
 * @file End-to-end training with autograd: the seed's linear regression reaches the closed-form
 * least-squares solution with and without clipping, and a small tanh network learns XOR with
 * Adam + global-norm clipping and with AdamW + ZClip under a warm-up/cosine schedule.
 */
import { describe, expect, it } from "vitest";
import { Rng, Tensor, rand, randn, tensor } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import {
  Adam, AdamW, LRScheduler, SGD, ZClip, clipGradNorm, clipGradValue, cosineAnnealingLr, linearWarmup, sequentialLr, type GradTransform,
} from "@tapegrad/optim";

describe("linear regression y = 2x + 1 + noise", () => {
  const rng = new Rng(7);
  const N = 64;
  const x = rand([N, 1], rng).data;
  const noise = rand([N, 1], rng).data;
  const y = Float32Array.from(x, (v, i) => 2 * v + 1 + noise[i]!);
  const X = A.constant(new Tensor(x, [N, 1]));
  const Y = A.constant(new Tensor(y, [N, 1]));
  // Closed form (float64): w = cov(x, y)/var(x), b = ȳ − w·x̄.
  const mx = x.reduce((a, v) => a + v, 0) / N;
  const my = y.reduce((a, v) => a + v, 0) / N;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < N; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
  }
  const wStar = sxy / sxx;
  const bStar = my - wStar * mx;

  for (const [label, clip] of [
    ["no clipping", [] as GradTransform[]],
    ["clip by value 0.1", [clipGradValue.transform(0.1)]],
    ["clip by norm 0.5", [clipGradNorm.transform(0.5)]],
  ] as const) {
    it(`${label}: reaches the least-squares fit`, () => {
      const w = A.variable(tensor([[0.87]]));
      const b = A.variable(tensor([-0.7]));
      const opt = new SGD([w, b], { lr: 0.1, clip, history: true });
      for (let k = 0; k < 2000; k++) {
        opt.zeroGrad();
        A.mseLoss(A.add(A.matmul(X, w), b), Y).backward();
        opt.step();
      }
      expect(Math.abs(w.value.item() - wStar)).toBeLessThan(1e-3);
      expect(Math.abs(b.value.item() - bStar)).toBeLessThan(1e-3);
      if (clip.length > 0) expect(opt.history.some((s) => s.clipped)).toBe(true);
    });
  }
});

describe("XOR with a 2-8-1 tanh network", () => {
  const X = A.constant(tensor([[0, 0], [0, 1], [1, 0], [1, 1]]));
  const Y = A.constant(tensor([[0], [1], [1], [0]]));
  const init = () => {
    const rng = new Rng(3);
    return [A.variable(randn([2, 8], rng, 0, 1)), A.variable(tensor(new Array(8).fill(0))), A.variable(randn([8, 1], rng, 0, 0.5)), A.variable(tensor([0]))];
  };
  const loss = ([w1, b1, w2, b2]: A.Var[]) => A.mseLoss(A.sigmoid(A.add(A.matmul(A.tanh(A.add(A.matmul(X, w1!), b1!)), w2!), b2!)), Y);

  it("Adam + clipGradNorm.transform(1) reaches loss < 0.01", () => {
    const ps = init();
    const opt = new Adam(ps, { lr: 0.05, clip: clipGradNorm.transform(1) });
    let l = Infinity;
    for (let k = 0; k < 1500; k++) l = opt.step(() => {
      opt.zeroGrad();
      const v = loss(ps);
      v.backward();
      return v;
    })!;
    expect(l).toBeLessThan(0.01);
  });

  it("AdamW + ZClip + warm-up/cosine schedule reaches loss < 0.01", () => {
    const ps = init();
    const opt = new AdamW(ps, { lr: 0.05, weightDecay: 1e-4, clip: new ZClip({ warmupSteps: 10 }) });
    const sched = new LRScheduler(opt, sequentialLr([linearWarmup({ warmupSteps: 20 }), cosineAnnealingLr({ tMax: 1480, etaMin: 0.005 })], [20]));
    let l = Infinity;
    for (let k = 0; k < 1500; k++) {
      opt.zeroGrad();
      const v = loss(ps);
      v.backward();
      l = v.item();
      opt.step();
      sched.step();
    }
    expect(l).toBeLessThan(0.01);
    expect(opt.lastStats!.transforms[0]!.name).toBe("ZClip");
  });
});
