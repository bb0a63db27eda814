/**
 * @file The fused `linear` + ReLU (the GEMM applies the ReLU to its output; backward masks `dy` by
 * the output): the same bits as `relu(linear(...))` forward and backward, on every kernel set and
 * output placement, and `Sequential(Linear, ReLU, ...)` uses it without changing any value.
 */
import { describe, expect, it } from "vitest";
import { Rng, jsKernels, linear, randn, relu, wasmKernels, zeros, type KernelSet, type Tensor } from "@tapegrad/tensor";
import * as A from "@tapegrad/autograd";
import { Linear, ReLU, Sequential } from "@tapegrad/nn";
import { withKernels } from "../helpers/kernels.js";

const wasm = wasmKernels();
const SETS: [string, KernelSet][] = [["js", jsKernels], ...(wasm ? [["wasm", wasm] as [string, KernelSet]] : [])];
const same = (a: Tensor, b: Tensor, label: string) => {
  const x = a.toFloat32Array(), y = b.toFloat32Array();
  expect(a.shape).toEqual(b.shape);
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) expect.fail(`${label}: element ${i} is ${x[i]} fused, ${y[i]} unfused`);
};


describe("tensor linear(..., 'relu')", () => {
  for (const [name, set] of SETS) {
    it(`${name}: equals relu(linear(...)) bit for bit, for every size and output placement`, () => {
      withKernels(set, () => {
        const rng = new Rng(3);
        for (const [m, k, n] of [[1, 1, 1], [3, 5, 2], [13, 40, 9], [128, 100, 33], [64, 0, 7]] as const) {
          const x = randn([m, k], rng), w = randn([n, k], rng), b = randn([n], rng);
          const want = relu(linear(x, w, b));
          same(linear(x, w, b, undefined, "relu"), want, `${m}x${k}x${n}`);
          const placed = zeros([m, n], { persistent: true });
          same(linear(x, w, b, placed, "relu"), want, `${m}x${k}x${n} into placed storage`);
          same(linear(x, w, null, undefined, "relu"), relu(linear(x, w)), `${m}x${k}x${n} without bias`);
        }
        expect(() => linear(randn([2, 2]), randn([2, 2]), null, undefined, "gelu" as never)).toThrow(/linear: activation must be "none" or "relu"/);
      });
    });
  }
});

describe("autograd linear(x, w, b, 'relu')", () => {
  for (const [name, set] of SETS) {
    it(`${name}: values and gradients equal relu(linear(x, w, b))`, () => {
      withKernels(set, () => {
        const rng = new Rng(5);
        const xv = randn([17, 23], rng), wv = randn([11, 23], rng), bv = randn([11], rng), up = randn([17, 11], rng);
        const run = (fused: boolean) => {
          const x = A.variable(xv.clone()), w = A.variable(wv.clone()), b = A.variable(bv.clone());
          const y = fused ? A.linear(x, w, b, "relu") : A.relu(A.linear(x, w, b));
          A.sum(A.mul(y, up)).backward();
          return [y.value, x.grad!, w.grad!, b.grad!];
        };
        const f = run(true), u = run(false);
        ["y", "dx", "dW", "db"].forEach((label, i) => same(f[i]!, u[i]!, label));
      });
    });
  }

  it("passes a finite-difference check", () => {
    const rng = new Rng(8);
    const res = A.gradcheck((xx, ww, bb) => A.linear(xx!, ww!, bb!, "relu"), [randn([4, 6], rng), randn([5, 6], rng), randn([5], rng)]);
    expect(res.ok).toBe(true);
  });
});

describe("Sequential fuses Linear + ReLU", () => {
  it("gives the same values and gradients as the layers one by one", () => {
    const make = () => new Sequential(new Linear(20, 16, { rng: new Rng(1) }), new ReLU(), new Linear(16, 8, { rng: new Rng(2) }), new ReLU(), new Linear(8, 3, { rng: new Rng(3) }));
    const fused = make(), plain = make();
    const x = randn([9, 20], new Rng(4));
    const yf = fused.forward(x);
    let h: A.Var = A.constant(x);
    for (const l of plain.layers) h = l.forward(h);
    same(yf.value, h.value, "output");
    A.sum(A.square(yf)).backward();
    A.sum(A.square(h)).backward();
    fused.parameters().forEach((p, i) => same(p.grad!, plain.parameters()[i]!.grad!, `grad of parameter ${i}`));
  });

  it("does not fuse a ReLU subclass that changes forward", () => {
    class Shifted extends ReLU {
      override forward(x: A.VarLike): A.Var {
        return A.add(A.relu(x), 1);
      }
    }
    const seq = new Sequential(new Linear(4, 3, { rng: new Rng(1) }), new Shifted());
    const y = seq.forward(randn([2, 4], new Rng(2)));
    expect(Math.min(...y.value.toFloat32Array())).toBeGreaterThanOrEqual(1);
  });
});
