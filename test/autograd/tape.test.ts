/**
 * @file The tape engine: accumulation semantics, deep graphs, memory release, retainGraph,
 * hooks, noGrad/detach, gradient ownership and error messages.
 */
import { describe, expect, it } from "vitest";
import * as A from "@tapegrad/autograd";
import { Tensor, ones, tensor, zeros } from "@tapegrad/tensor";

const t = (v: number[] | number[][]) => tensor(v);

describe("backward basics", () => {
  it("computes d(sum(w*w + 3w))/dw = 2w + 3", () => {
    const w = A.variable(t([1, -2, 0.5]));
    A.sum(A.add(A.mul(w, w), A.mul(w, 3))).backward();
    expect(Array.from(w.grad!.data)).toEqual([5, -1, 4]);
  });
  it("accumulates into .grad across backward calls, like PyTorch", () => {
    const w = A.variable(t([2]));
    A.sum(A.mul(w, w)).backward();
    A.sum(A.mul(w, w)).backward();
    expect(w.grad!.toArray()).toEqual([8]);
    w.zeroGrad();
    expect(w.grad).toBeNull();
  });
  it("sums gradients over fan-out and un-broadcasts", () => {
    const b = A.variable(t([1, 2]));
    const x = A.constant(ones([3, 2]));
    A.sum(A.add(A.mul(x, b), b)).backward(); // each b_j used 3 (mul) + 3 (add) times
    expect(b.grad!.toArray()).toEqual([6, 6]);
  });
  it("does not give gradients to constants or detached values", () => {
    const w = A.variable(t([1, 2]));
    const c = A.constant(t([3, 4]));
    const d = w.detach();
    A.sum(A.mul(A.add(w, c), d)).backward();
    expect(c.grad).toBeNull();
    expect(d.grad).toBeNull();
    expect(w.grad!.toArray()).toEqual([1, 2]);
  });
  it("accepts a seed for non-scalar roots", () => {
    const x = A.variable(t([1, 2, 3]));
    A.mul(x, x).backward(t([1, 0, -1]));
    expect(x.grad!.toArray()).toEqual([2, 0, -6]);
  });
  it("a 0-d leaf can be the root", () => {
    const x = A.variable(3);
    x.backward();
    expect(x.grad!.item()).toBe(1);
  });
});

describe("errors", () => {
  it("backward on a non-scalar without a seed", () => {
    const x = A.variable(t([1, 2]));
    expect(() => A.mul(x, 2).backward()).toThrow(/backward: the root must be a scalar .*\(got \[2\]\)/);
  });
  it("a seed of the wrong shape", () => {
    const x = A.variable(t([1, 2]));
    expect(() => A.mul(x, 2).backward(t([1, 2, 3]))).toThrow(/backward: seed must have the root's shape \(got \[3\] and \[2\]\)/);
  });
  it("a second backward through a released graph", () => {
    const x = A.variable(t([1, 2]));
    const loss = A.sum(A.mul(x, x));
    loss.backward();
    expect(() => loss.backward()).toThrow(/already released by a previous backward; pass \{ retainGraph: true \}/);
  });
  it("retainGraph allows a second backward (and gradients add up)", () => {
    const x = A.variable(t([1, 2]));
    const loss = A.sum(A.mul(x, x));
    loss.backward(undefined, { retainGraph: true });
    loss.backward();
    expect(x.grad!.toArray()).toEqual([4, 8]);
  });
  it("backward of something that does not require grad", () => {
    expect(() => A.sum(A.constant(t([1]))).backward()).toThrow(/does not require grad/);
  });
  it("ops on mismatched shapes name the op and shapes", () => {
    const a = A.variable(zeros([2, 3]));
    expect(() => A.matmul(a, A.variable(zeros([4, 5])))).toThrow(/matmul: inner dimensions differ \(got \[2,3\] and \[4,5\]\)/);
    expect(() => A.add(a, A.variable(zeros([4])))).toThrow(/add: shapes cannot be broadcast together \(got \[2,3\] and \[4\]\)/);
  });
  it("a wrong rule is reported as an internal error with the shapes", () => {
    const bad = A.defineOp("bad", { forward: ([x]) => x!, backward: () => [zeros([7])] });
    const x = A.variable(zeros([2, 3]));
    expect(() => A.sum(bad(x)).backward()).toThrow(/^internal: bad\.backward gave a gradient of shape \[7\] for input 0 of shape \[2,3\]/);
  });
});

describe("deep graphs and memory", () => {
  it("backpropagates through a 100,000-op chain without stack overflow", () => {
    const x = A.variable(t([1]));
    let y: A.Var = x;
    // factors 2 and 0.5 alternate, so value and gradient are exact: d y / d x = 1 (and 3 more for the tail)
    for (let i = 0; i < 100_000; i++) y = A.mul(y, i % 2 === 0 ? 2 : 0.5);
    A.sum(A.mul(y, 4)).backward();
    expect(x.grad!.item()).toBe(4);
  });
  it("releases the graph after backward (nodes drop inputs and saved tensors)", () => {
    const x = A.variable(t([1, 2]));
    const h = A.tanh(A.mul(x, 3));
    const loss = A.sum(h);
    const node = h.node!;
    expect(node.xs).not.toBeNull();
    loss.backward();
    expect(node.freed).toBe(true);
    expect(node.xs).toBeNull();
    expect(node.inputs).toEqual([]);
  });
  it("lets the garbage collector reclaim intermediate tensors after backward", () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(typeof gc).toBe("function"); // vitest runs with --expose-gc (vitest.config.ts)
    const x = A.variable(ones([1000]));
    let loss: A.Var | null = null;
    let ref: WeakRef<Tensor>;
    {
      const big = A.exp(A.mul(x, 2)); // intermediate, kept alive only by the graph
      ref = new WeakRef(big.value);
      loss = A.sum(A.tanh(big));
    }
    loss!.backward();
    gc!();
    return new Promise<void>((resolve) => setTimeout(() => {
      gc!();
      expect(ref.deref()).toBeUndefined();
      expect(loss!.item()).toBeGreaterThan(0);
      resolve();
    }, 0));
  });
  it("keeps retained graphs alive until released", () => {
    const x = A.variable(t([1, 2]));
    const h = A.exp(x);
    const loss = A.sum(h);
    loss.backward(undefined, { retainGraph: true });
    expect(h.node!.freed).toBe(false);
    loss.backward();
    expect(h.node!.freed).toBe(true);
  });
});

describe("gradient ownership", () => {
  it("two leaves fed the same pass-through gradient get separate buffers", () => {
    const a = A.variable(t([1, 2]));
    const b = A.variable(t([3, 4]));
    A.sum(A.add(a, b)).backward();
    expect(a.grad!.data).not.toBe(b.grad!.data);
    a.grad!.data[0] = 100; // in-place clipping of one must not touch the other
    expect(b.grad!.toArray()).toEqual([1, 1]);
  });
  it("a user-supplied seed is never adopted as a leaf gradient", () => {
    const x = A.variable(t([1, 2]));
    const seed = t([5, 6]);
    A.add(x, 0).backward(seed);
    x.grad!.data[0] = 0;
    expect(seed.toArray()).toEqual([5, 6]);
  });
  describe("rules overwriting an engine-owned dy (freshGrads / dyOwned)", () => {
    // linear → relu → linear: relu's dy is linear's fresh dx, which relu's rule may overwrite.
    const x = tensor([[0.5, -1, 2], [1.5, 0.25, -0.75]]);
    const build = () => {
      const w1 = A.variable(tensor([[1, -2, 0.5], [0.3, 0.7, -1], [2, 0, 1]]));
      const w2 = A.variable(tensor([[1, 1, -1], [0.5, -2, 3]]));
      const h = A.linear(x, w1);
      const r = A.relu(h);
      return { w1, w2, h, r, y: A.linear(r, w2) };
    };
    const reference = () => {
      const { w1, w2, y } = build();
      A.sum(A.mul(y, y)).backward();
      return [w1.grad!.toArray(), w2.grad!.toArray()];
    };
    it("gives the same gradients as without ownership, and hooks see untouched values", () => {
      const expected = reference();
      const { w1, w2, r, y } = build();
      let seen: Tensor | null = null;
      let atHook: unknown = null;
      r.registerHook((g) => {
        seen = g;
        atHook = g.toArray();
      });
      A.sum(A.mul(y, y)).backward();
      expect([w1.grad!.toArray(), w2.grad!.toArray()]).toEqual(expected);
      expect(seen!.toArray()).toEqual(atHook); // relu's rule did not write into the hooked gradient
    });
    it("a retained intermediate gradient is not overwritten by the next rule", () => {
      const { w1, r, y } = build();
      r.retainGrad();
      A.sum(A.mul(y, y)).backward();
      const g = r.grad!.toArray();
      const { r: r2, y: y2 } = build();
      const [gr] = A.gradients(A.sum(A.mul(y2, y2)), [r2]);
      expect(g).toEqual(gr!.toArray());
      expect(w1.grad).not.toBeNull();
    });
    it("a caller's seed is never overwritten, also on a second pass with retainGraph", () => {
      const v = A.variable(tensor([-1, 2, -3, 4]));
      const out = A.relu(A.mul(v, 1));
      const seed = tensor([1, 1, 1, 1]);
      out.backward(seed, { retainGraph: true });
      out.backward(seed);
      expect(seed.toArray()).toEqual([1, 1, 1, 1]);
      expect(v.grad!.toArray()).toEqual([0, 2, 0, 2]);
    });
  });
  it("variable() copies its value, so optimizer updates never touch the caller's data", () => {
    const data = t([1, 2]);
    const w = A.variable(data);
    w.value.data[0] = 9;
    expect(data.toArray()).toEqual([1, 2]);
  });
});

describe("hooks", () => {
  it("registerHook sees and may replace the gradient of an intermediate", () => {
    const x = A.variable(t([1, 2]));
    const h = A.mul(x, 3);
    const seen: number[][] = [];
    const handle = h.registerHook((g) => {
      seen.push(Array.from(g.data));
      return ones(g.shape);
    });
    A.sum(A.mul(h, h)).backward();
    expect(seen).toEqual([[6, 12]]);
    expect(x.grad!.toArray()).toEqual([3, 3]); // replaced by ones, times dh/dx = 3
    handle.remove();
    x.zeroGrad();
    A.sum(A.mul(A.mul(x, 3), A.mul(x, 3))).backward();
    expect(x.grad!.toArray()).toEqual([18, 36]);
  });
  it("leaf hooks run on the total gradient before accumulation; post-accumulate hooks after", () => {
    const x = A.variable(t([1, 2]));
    const order: string[] = [];
    x.registerHook((g) => { order.push(`hook ${Array.from(g.data)}`); return undefined; });
    x.registerPostAccumulateGradHook((p) => order.push(`post ${Array.from(p.grad!.data)}`));
    A.sum(A.add(A.mul(x, 2), x)).backward();
    expect(order).toEqual(["hook 3,3", "post 3,3"]);
  });
  it("registerPostAccumulateGradHook rejects non-leaves", () => {
    const x = A.variable(t([1]));
    expect(() => A.mul(x, 2).registerPostAccumulateGradHook(() => {})).toThrow(/only leaf Vars/);
  });
  it("a hook returning the wrong shape is a clear error", () => {
    const x = A.variable(t([1, 2]));
    x.registerHook(() => zeros([3]));
    expect(() => A.sum(x).backward()).toThrow(/hook: a gradient hook on leaf Var \[2\] must return a Tensor of the gradient's shape/);
  });
  it("retainGrad keeps an intermediate gradient", () => {
    const x = A.variable(t([1, 2]));
    const h = A.mul(x, 2).retainGrad();
    A.sum(A.mul(h, h)).backward();
    expect(h.grad!.toArray()).toEqual([4, 8]);
  });
});

describe("noGrad / enableGrad", () => {
  it("records nothing inside noGrad", () => {
    const x = A.variable(t([1]));
    const y = A.noGrad(() => A.mul(x, 2));
    expect(y.requiresGrad).toBe(false);
    expect(y.node).toBeNull();
    expect(A.isGradEnabled()).toBe(true);
  });
  it("restores the mode when fn throws, and enableGrad nests", () => {
    expect(() => A.noGrad(() => { throw new Error("boom"); })).toThrow("boom");
    expect(A.isGradEnabled()).toBe(true);
    const x = A.variable(t([1]));
    const y = A.noGrad(() => A.enableGrad(() => A.mul(x, 2)));
    expect(y.requiresGrad).toBe(true);
  });
});

describe("functional API", () => {
  it("grad and valueAndGrad", () => {
    const f = (x: A.Var) => A.sum(A.mul(x, x));
    const { value, grad } = A.valueAndGrad(f)(t([1, 2]));
    expect(value.item()).toBe(5);
    expect((grad as Tensor).toArray()).toEqual([2, 4]);
    const g2 = A.grad((a: A.Var, b: A.Var) => A.sum(A.mul(a, b)), { argnums: [0, 1] })(t([1, 2]), t([3, 4])) as Tensor[];
    expect(g2.map((g) => g.toArray())).toEqual([[3, 4], [1, 2]]);
  });
  it("gradients() does not touch .grad and gives zeros for unused inputs", () => {
    const w = A.variable(t([1, 2]));
    const u = A.variable(t([5]));
    const [gw, gu] = A.gradients(A.sum(A.mul(w, w)), [w, u]);
    expect(gw!.toArray()).toEqual([2, 4]);
    expect(gu!.toArray()).toEqual([0]);
    expect(w.grad).toBeNull();
  });
  it("valueAndGrad rejects a non-scalar f and bad argnums", () => {
    expect(() => A.valueAndGrad((x: A.Var) => A.mul(x, 2))(t([1, 2]))).toThrow(/valueAndGrad: f must return a scalar/);
    expect(() => A.grad((x: A.Var) => A.sum(x), { argnums: 3 })(t([1]))).toThrow(/argnum 3 is out of range/);
  });
});
