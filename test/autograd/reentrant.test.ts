/**
 * @file Re-entrant autograd: a gradient hook that runs backward passes of its own, over graphs
 * that share leaves with the pass that called it, while that pass has already delivered part of a
 * shared leaf's gradient. Every pass keeps its state in its own task (nothing on Var or Node), so
 * both get exactly what they get when run one after the other.
 */
import { describe, expect, it } from "vitest";
import { Rng, randn, tensor } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import { Linear, Sequential, Tanh } from "@tapegrad/nn";
import { SGD } from "@tapegrad/optim";

const close = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(a[i]!).toBeCloseTo(b[i]!, 5);
};

describe("re-entrant backward from a hook", () => {
  it("gradients() inside a hook, sharing a leaf whose gradient is half delivered (the issue's case)", () => {
    const x = A.constant(tensor([1, 2, 3]));
    const w = A.variable(tensor([0.5, -1, 2]), { name: "w" });
    // Tape: h = x·w (older), a = w·w (newer), loss = Σ(h + a). Walking back, a's node delivers 2w
    // to w first; then h's hook runs an inner pass over 3w, which also reaches w.
    const h = A.mul(x, w);
    const a = A.mul(w, w);
    let inner: Float32Array | undefined;
    h.registerHook(() => {
      const [g] = A.gradients(A.sum(A.mul(w, 3)), [w]);
      inner = g!.toFloat32Array();
    });
    A.sum(A.add(h, a)).backward();
    close(inner!, [3, 3, 3]); // d(Σ3w)/dw
    close(w.grad!.toFloat32Array(), [1 + 2 * 0.5, 2 + 2 * -1, 3 + 2 * 2]); // x + 2w
  });

  it("an inner backward() into the same leaf adds to .grad, as two passes in a row do", () => {
    const run = (reentrant: boolean) => {
      const x = A.constant(tensor([1, -2]));
      const w = A.variable(tensor([3, 4]));
      const h = A.tanh(A.mul(x, w));
      const innerLoss = () => A.sum(A.square(w));
      if (reentrant) h.registerHook(() => void innerLoss().backward());
      A.sum(A.mul(h, w)).backward();
      if (!reentrant) innerLoss().backward();
      return w.grad!.toFloat32Array();
    };
    close(run(true), run(false));
  });

  it("a hook that runs a whole inner training step gives both the results of running them apart", () => {
    const setup = () => {
      const rng = new Rng(3);
      const outer = new Sequential(new Linear(4, 8, { rng }), new Tanh(), new Linear(8, 1, { rng }));
      const inner = new Sequential(new Linear(3, 5, { rng }), new Tanh(), new Linear(5, 2, { rng }));
      const opt = new SGD(inner.parameters(), { lr: 0.1, momentum: 0.9 });
      const x = randn([6, 4], rng), xi = randn([7, 3], rng);
      const innerStep = () => {
        opt.zeroGrad();
        A.mseLoss(inner.forward(xi), A.constant(randn([7, 2], new Rng(9)))).backward();
        opt.step();
      };
      return { outer, inner, x, innerStep };
    };
    // Re-entrant: the inner step runs from a hook in the middle of the outer backward.
    const r = setup();
    const h = r.outer.forward(r.x);
    h.registerHook(() => r.innerStep());
    A.sum(A.square(h)).backward();
    // Apart: the same two computations one after the other.
    const s = setup();
    A.sum(A.square(s.outer.forward(s.x))).backward();
    s.innerStep();
    r.outer.parameters().forEach((p, i) => expect(Array.from(p.grad!.toFloat32Array())).toEqual(Array.from(s.outer.parameters()[i]!.grad!.toFloat32Array())));
    r.inner.parameters().forEach((p, i) => expect(Array.from(p.value.toFloat32Array())).toEqual(Array.from(s.inner.parameters()[i]!.value.toFloat32Array())));
  });

  it("gradient storage a rule writes directly (linear's weight) stays correct when a hook's pass reaches the same weight", () => {
    // Warm-up so the weight has gradient storage the linear rule can write into (a sink).
    const make = () => {
      const rng = new Rng(5);
      const fc = new Linear(3, 4, { rng });
      const x0 = A.variable(randn([2, 3], rng));
      const x2 = A.constant(randn([5, 3], rng));
      return { fc, x0, x2 };
    };
    const cases = [
      // The hook runs before the linear node: the outer sink is still planned, not written.
      (m: ReturnType<typeof make>, inner: () => void) => {
        const y = A.tanh(m.fc.forward(m.x0));
        y.registerHook(() => inner());
        return A.sum(A.square(y));
      },
      // The hook runs after the linear node wrote the weight's gradient into its storage.
      (m: ReturnType<typeof make>, inner: () => void) => {
        const xt = A.tanh(m.x0);
        xt.registerHook(() => inner());
        return A.sum(A.square(m.fc.forward(xt)));
      },
    ];
    for (const build of cases) {
      const got = make();
      A.sum(got.fc.forward(got.x2)).backward(); // warm-up: storage exists
      got.fc.zeroGrad();
      build(got, () => A.sum(A.mul(got.fc.forward(got.x2), 0.5)).backward()).backward();
      const want = make();
      build(want, () => {}).backward();
      A.sum(A.mul(want.fc.forward(want.x2), 0.5)).backward();
      close(got.fc.weight.grad!.toFloat32Array(), want.fc.weight.grad!.toFloat32Array());
      close(got.fc.bias!.grad!.toFloat32Array(), want.fc.bias!.grad!.toFloat32Array());
    }
  });

  it("nested three deep, each level with its own graph and a shared leaf", () => {
    const w = A.variable(tensor([2]));
    const results: number[] = [];
    const level = (depth: number): number => {
      const h = A.mul(w, depth + 1);
      if (depth < 2) h.registerHook(() => void results.push(level(depth + 1)));
      const [g] = A.gradients(A.sum(A.mul(h, w)), [w]); // d((d+1)w²)/dw = 2(d+1)w
      return g!.item();
    };
    expect(level(0)).toBe(4);
    expect(results).toEqual([12, 8]); // level 2 finishes first
  });
});
