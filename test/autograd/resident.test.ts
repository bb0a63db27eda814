/**
 * @file Resident gradient buffers (`Var.setGradBuffer`, `Var.toHeap`): backward delivers into the
 * buffer (copied, summed, or written directly by `linear`/`matmul`), `zeroGrad` keeps it, values
 * equal the ordinary path bit for bit, and hooks, `retainGrad`, `gradients()` capture and the
 * ownership rules of the engine are respected.
 */
import { describe, expect, it } from "vitest";
import * as A from "@tapegrad/autograd";
import { Rng, Tensor, heapStats, heapZeros, isHeapArray, randn, tensor, zeros, type Tensor as TensorT } from "@tapegrad/tensor";

const bits = (t: TensorT) => Array.from(new Uint32Array(t.toFloat32Array().buffer));

/** A linear → tanh → linear → mean-square net on fixed data; `resident` gives w1, b1, w2 buffers. */
function makeNet(resident: boolean) {
  const rng = new Rng(7);
  const w1 = A.variable(randn([6, 5], rng), { name: "w1" }), b1 = A.variable(randn([6], rng), { name: "b1" });
  const w2 = A.variable(randn([5, 6], rng), { name: "w2" }); // not used by the loss
  const w2t = A.variable(randn([6, 3], rng), { name: "w2t" });
  const x = A.constant(randn([4, 5], rng));
  if (resident) for (const v of [w1, b1, w2, w2t]) v.setGradBuffer(zeros(v.shape));
  const loss = () => A.mean(A.square(A.matmul(A.tanh(A.linear(x, w1, b1)), w2t)));
  return { params: [w1, b1, w2, w2t], loss };
}

describe("resident gradient buffers", () => {
  it("backward delivers into the buffer (linear and 2-D matmul write it directly); values equal the ordinary path", () => {
    const plain = makeNet(false), res = makeNet(true);
    const bufs = res.params.map((p) => p.gradBuffer!.data);
    for (let step = 0; step < 3; step++) {
      for (const net of [plain, res]) {
        for (const p of net.params) p.zeroGrad();
        net.loss().backward();
      }
      res.params.forEach((p, i) => {
        if (i === 2) return expect(p.grad).toBeNull(); // w2 is unused: no gradient, as without a buffer
        expect(p.grad).toBe(p.gradBuffer);
        expect(p.grad!.data).toBe(bufs[i]); // the same storage every step
        expect(bits(p.grad!)).toEqual(bits(plain.params[i]!.grad!));
      });
    }
  });

  it("zeroGrad sets .grad to null and keeps the buffer; accumulation without zeroGrad sums in place", () => {
    const plain = makeNet(false), res = makeNet(true);
    for (const net of [plain, res]) {
      net.loss().backward();
      net.loss().backward(); // accumulates
    }
    const w1 = res.params[0]!;
    expect(w1.grad!.data).toBe(w1.gradBuffer!.data);
    res.params.forEach((p, i) => i !== 2 && expect(bits(p.grad!)).toEqual(bits(plain.params[i]!.grad!)));
    const buf = w1.gradBuffer;
    w1.zeroGrad();
    expect(w1.grad).toBeNull();
    expect(w1.gradBuffer).toBe(buf);
  });

  it("a weight used twice, a leaf hook and a post-accumulate hook take the copy/sum path with the same values", () => {
    const run = (resident: boolean) => {
      const w = A.variable(randn([4, 3], new Rng(4)));
      const x = A.constant(randn([2, 3], new Rng(5)));
      if (resident) w.setGradBuffer(heapZeros(w.shape));
      const seen: number[][] = [];
      w.registerHook((g) => {
        seen.push(Array.from(g.data));
        return A.noGrad(() => tensor(Array.from(g.toFloat32Array(), (v) => 2 * v)).reshape(4, 3));
      });
      let post: TensorT | null = null;
      w.registerPostAccumulateGradHook((v) => (post = v.grad));
      const h = A.linear(x, w); // w consumed twice: no direct write
      A.sum(A.mul(A.linear(h, A.transpose(w, 0, 1)), 1)).backward();
      return { w, seen, post: post as TensorT | null };
    };
    const a = run(false), b = run(true);
    expect(b.seen).toEqual(a.seen);
    expect(bits(b.w.grad!)).toEqual(bits(a.w.grad!));
    expect(b.w.grad).toBe(b.w.gradBuffer);
    expect(b.post).toBe(b.w.gradBuffer);
  });

  it("a hook on a leaf disables the direct write and sees the gradient before it lands in the buffer", () => {
    const w = A.variable(randn([3, 2], new Rng(1)));
    w.setGradBuffer(zeros([3, 2]));
    const x = A.constant(randn([5, 2], new Rng(2)));
    let seenData: Float32Array | null = null;
    w.registerHook((g) => void (seenData = g.data));
    A.sum(A.linear(x, w)).backward();
    expect(seenData).not.toBe(w.gradBuffer!.data); // the hook got the engine's tensor, not the buffer
    expect(w.grad).toBe(w.gradBuffer);
  });

  it("retainGrad on an intermediate and gradients() capture are unaffected", () => {
    const rng = new Rng(11);
    const w = A.variable(randn([4, 3], rng)), b = A.variable(randn([4], rng));
    const x = A.constant(randn([2, 3], rng));
    w.setGradBuffer(zeros(w.shape));
    b.setGradBuffer(zeros(b.shape));
    const h = A.linear(x, w, b).retainGrad();
    A.sum(A.square(h)).backward();
    expect(h.grad).not.toBeNull();
    expect(h.grad!.data).not.toBe(w.gradBuffer!.data);
    expect(h.grad!.data).not.toBe(b.gradBuffer!.data);
    const before = bits(w.grad!);
    w.zeroGrad();
    b.zeroGrad();
    const [gw, gb] = A.gradients(A.sum(A.square(A.linear(x, w, b))), [w, b]);
    expect(bits(gw!)).toEqual(before);
    expect(gw!.data).not.toBe(w.gradBuffer!.data); // captured gradients are fresh tensors
    expect(gb!.data).not.toBe(b.gradBuffer!.data);
    expect(w.grad).toBeNull(); // capture touches no .grad
    expect(b.grad).toBeNull();
  });

  it("a buffer that the graph reads is not written while the graph still needs it", () => {
    const rng = new Rng(4);
    const w = A.variable(randn([3, 2], rng));
    w.setGradBuffer(zeros([3, 2]));
    const x = A.constant(randn([5, 2], rng));
    A.sum(A.linear(x, w)).backward();
    const g1 = w.grad!;
    w.zeroGrad();
    // the old gradient (a view of the buffer itself) is an input of the new graph
    const view = new Tensor(g1.data, [3]);
    const saved = view.clone();
    const loss = A.sum(A.mul(A.linear(x, w), A.constant(view)));
    const w2 = A.variable(w.value);
    A.sum(A.mul(A.linear(x, w2), A.constant(saved))).backward();
    const expected = bits(w2.grad!);
    loss.backward();
    expect(bits(w.grad!)).toEqual(expected);
  });

  it("a seed, or a root that is the leaf itself, never aliases the buffer", () => {
    const w = A.variable(tensor([1, 2, 3]));
    w.setGradBuffer(zeros([3]));
    const seed = tensor([1, 1, 1]);
    w.backward(seed);
    expect(w.grad).toBe(w.gradBuffer);
    expect(w.grad!.data).not.toBe(seed.data);
    expect(w.grad!.toArray()).toEqual([1, 1, 1]);
  });

  it("validates buffers", () => {
    const w = A.variable(zeros([2, 3]));
    expect(() => w.setGradBuffer(zeros([3, 2]))).toThrow(/shape/);
    expect(() => w.setGradBuffer(zeros([3, 2]).transpose(0, 1))).toThrow(/contiguous/);
    expect(() => w.setGradBuffer(w.value)).toThrow(/shares storage/);
    expect(() => A.constant(zeros([2])).setGradBuffer(zeros([2]))).toThrow(/require grad/);
    expect(() => A.mul(w, 2).setGradBuffer(zeros([2, 3]))).toThrow(/leaf/);
    expect(() => w.setGradBuffer(3 as unknown as Tensor)).toThrow(TypeError);
    // an existing gradient moves into the new buffer; removing the buffer keeps a copy
    A.sum(A.mul(w, 2)).backward();
    const buf = zeros([2, 3]);
    w.setGradBuffer(buf);
    expect(w.grad).toBe(buf);
    expect(buf.toArray()).toEqual([[2, 2, 2], [2, 2, 2]]);
    w.setGradBuffer(null);
    expect(w.gradBuffer).toBeNull();
    expect(w.grad).not.toBe(buf);
    expect(w.grad!.toArray()).toEqual([[2, 2, 2], [2, 2, 2]]);
  });

  it("offers gradInto only when nothing else can observe the gradient", () => {
    let offered: (TensorT | null)[] | undefined;
    const double: A.OpRule<Record<string, never>> = {
      forward: ([x]) => x!.clone(),
      backward: (dy, c) => {
        offered = c.gradInto as (TensorT | null)[] | undefined;
        const into = c.gradInto?.[0];
        if (into) {
          into.data.set(dy.toFloat32Array(), into.offset);
          return [A.GRAD_WRITTEN];
        }
        return [dy.clone()];
      },
    };
    const op = (v: A.Var) => A.apply("copy", double, {}, [v]);
    const w = A.variable(tensor([1, 2, 3]));
    w.setGradBuffer(zeros([3]));
    A.sum(op(w)).backward();
    expect(offered?.[0]).toBe(w.gradBuffer); // .grad null, one consumer, no hooks
    expect(w.grad).toBe(w.gradBuffer);
    expect(w.grad!.toArray()).toEqual([1, 1, 1]);
    A.sum(op(w)).backward();
    expect(offered).toBeUndefined(); // .grad holds a gradient: summed by the engine
    expect(w.grad!.toArray()).toEqual([2, 2, 2]);
    w.zeroGrad();
    A.sum(A.add(op(w), w)).backward();
    expect(offered).toBeUndefined(); // two consumers
    w.zeroGrad();
    A.gradients(A.sum(op(w)), [w]);
    expect(offered).toBeUndefined(); // capture
    const h = w.registerHook(() => undefined);
    A.sum(op(w)).backward();
    expect(offered).toBeUndefined(); // hooked
    h.remove();
    w.zeroGrad();
    A.sum(op(w)).backward(undefined, { retainGraph: true });
    expect(offered?.[0]).toBe(w.gradBuffer);
  });

  it("a rule returning GRAD_WRITTEN without a buffer is an internal error", () => {
    const w = A.variable(tensor([1, 2]));
    const bad: A.OpRule<Record<string, never>> = { forward: ([x]) => x!.clone(), backward: () => [A.GRAD_WRITTEN] };
    expect(() => A.sum(A.apply("bad", bad, {}, [w])).backward()).toThrow(/internal/);
  });
});

describe("Var.toHeap / freeHeap", () => {
  it("round trip: same values, heap storage while resident, memory returned afterwards", () => {
    const before = heapStats().arrays;
    const w = A.variable(randn([5, 4], new Rng(2)));
    const original = bits(w.value);
    A.sum(A.square(w)).backward();
    const grad = bits(w.grad!);
    expect(w.toHeap()).toBe(w);
    expect(bits(w.value)).toEqual(original);
    expect(bits(w.grad!)).toEqual(grad); // the current gradient moved into the buffer
    expect(w.grad).toBe(w.gradBuffer);
    const available = heapStats().available;
    expect(w.isResident).toBe(available);
    expect(isHeapArray(w.value.data)).toBe(available);
    if (available) expect(heapStats().arrays).toBe(before + 2);
    w.toHeap(); // no-op
    if (available) expect(heapStats().arrays).toBe(before + 2);
    w.zeroGrad();
    A.sum(A.square(w)).backward();
    expect(bits(w.grad!)).toEqual(grad);
    w.freeHeap();
    expect(heapStats().arrays).toBe(before);
    expect(w.isResident).toBe(false);
    expect(w.gradBuffer).toBeNull();
    expect(isHeapArray(w.value.data)).toBe(false);
    expect(bits(w.value)).toEqual(original);
    expect(bits(w.grad!)).toEqual(grad);
    w.freeHeap(); // no-op
    expect(() => A.mul(w, 2).toHeap()).toThrow(/leaf/);
    const c = A.constant(randn([3], new Rng(1))).toHeap(); // values only: no gradient buffer
    expect(c.gradBuffer).toBeNull();
    c.freeHeap();
  });
});
