/**
 * @file Binary elementwise ops (`add` ... `ge`, `atan2`, `where`, the generic `binaryOp` and its
 * fused backward codes): exact values, NaN/Infinity semantics, NumPy broadcasting, non-contiguous
 * and stride-0 inputs, the `out` argument (in place and overlap errors), 0-d and 0-size shapes,
 * and a seeded fuzz against the float64 reference on random shapes and layouts.
 */
import { describe, expect, it } from "vitest";
import {
  BinOp, Rng, ShapeError, Tensor, add, arange, atan2, binaryOp, div, eq, erf, ge, gt, le, lt, maximum, minimum, mul, ne, pow,
  sub, tensor, where, zeros, type TensorOrScalar,
} from "@tapegrad/tensor";
import { expectRef, expectTensor, isNegZero } from "../helpers/assert.js";
import { fromTensor, refBinary, type Ref } from "../helpers/reference.js";
import { broadcastPair, randomInput, randomLayout, randomTensor } from "../helpers/layouts.js";

type Op = (a: TensorOrScalar, b: TensorOrScalar, out?: Tensor) => Tensor;

/** Every public binary op with its float64 reference. */
const OPS: [string, Op, (x: number, y: number) => number][] = [
  ["add", add, (x, y) => x + y],
  ["sub", sub, (x, y) => x - y],
  ["mul", mul, (x, y) => x * y],
  ["div", div, (x, y) => x / y],
  ["pow", pow, (x, y) => (x === 1 ? 1 : Math.pow(x, y))],
  ["maximum", maximum, (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.max(x, y))],
  ["minimum", minimum, (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.min(x, y))],
  ["atan2", atan2, Math.atan2],
  ["eq", eq, (x, y) => (x === y ? 1 : 0)],
  ["ne", ne, (x, y) => (x !== y ? 1 : 0)],
  ["lt", lt, (x, y) => (x < y ? 1 : 0)],
  ["le", le, (x, y) => (x <= y ? 1 : 0)],
  ["gt", gt, (x, y) => (x > y ? 1 : 0)],
  ["ge", ge, (x, y) => (x >= y ? 1 : 0)],
];

const EXACT = { rtol: 0, atol: 0 };
/** Float32 rounding of an exactly computed result, plus libm differences for atan2/pow. */
const ROUNDED = { rtol: 2e-7, atol: 1e-30 };

describe("binary ops: exact values", () => {
  it("arithmetic", () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    const b = tensor([[6, 5, 4], [3, 2, 1]]);
    expectTensor(add(a, b), [2, 3], [7, 7, 7, 7, 7, 7]);
    expectTensor(sub(a, b), [2, 3], [-5, -3, -1, 1, 3, 5]);
    expectTensor(mul(a, b), [2, 3], [6, 10, 12, 12, 10, 6]);
    expectTensor(div(a, b), [2, 3], [1 / 6, 2 / 5, 3 / 4, 4 / 3, 5 / 2, 6].map(Math.fround));
    expectTensor(pow(a, b), [2, 3], [1, 32, 81, 64, 25, 6]);
    expectTensor(maximum(a, b), [2, 3], [6, 5, 4, 4, 5, 6]);
    expectTensor(minimum(a, b), [2, 3], [1, 2, 3, 3, 2, 1]);
    expectTensor(atan2(tensor([1, -1, 0]), tensor([1, 1, -1])), [3], [Math.PI / 4, -Math.PI / 4, Math.PI].map(Math.fround));
  });

  it("comparisons give 1/0", () => {
    const a = tensor([1, 2, 3]);
    expectTensor(eq(a, 2), [3], [0, 1, 0]);
    expectTensor(ne(a, 2), [3], [1, 0, 1]);
    expectTensor(lt(a, 2), [3], [1, 0, 0]);
    expectTensor(le(a, 2), [3], [1, 1, 0]);
    expectTensor(gt(a, 2), [3], [0, 0, 1]);
    expectTensor(ge(a, 2), [3], [0, 1, 1]);
    expectTensor(lt(2, a), [3], [0, 0, 1]);
  });

  it("accepts numbers on either side (as 0-d tensors)", () => {
    expectTensor(sub(10, tensor([1, 2])), [2], [9, 8]);
    expectTensor(div(tensor([1, 2]), 4), [2], [0.25, 0.5]);
    expectTensor(add(2, 3), [], [5]);
    expectTensor(pow(2, tensor([0, 1, 10])), [3], [1, 2, 1024]);
  });

  it("rounds results to float32", () => {
    expect(add(tensor([0.1]), tensor([0.2])).get(0)).toBe(Math.fround(Math.fround(0.1) + Math.fround(0.2)));
    expect(div(1, 3).item()).toBe(Math.fround(1 / 3));
    expect(mul(tensor([3e38]), 10).get(0)).toBe(Infinity);
  });
});

describe("binary ops: NaN, Infinity and signed zero", () => {
  it("IEEE division", () => {
    expectTensor(div(tensor([1, -1, 0, Infinity]), tensor([0, 0, 0, Infinity])), [4], [Infinity, -Infinity, NaN, NaN]);
    expect(isNegZero(div(tensor([1]), tensor([-Infinity])).get(0))).toBe(true);
    expectTensor(add(tensor([Infinity, NaN]), tensor([-Infinity, 1])), [2], [NaN, NaN]);
  });

  it("maximum/minimum propagate NaN from either side (as torch.maximum)", () => {
    const a = tensor([NaN, 1, NaN, -Infinity]);
    const b = tensor([1, NaN, NaN, 2]);
    expectTensor(maximum(a, b), [4], [NaN, NaN, NaN, 2]);
    expectTensor(minimum(a, b), [4], [NaN, NaN, NaN, -Infinity]);
    expectTensor(maximum(b, a), [4], [NaN, NaN, NaN, 2]);
    expectTensor(minimum(b, a), [4], [NaN, NaN, NaN, -Infinity]);
    expectTensor(maximum(tensor([Infinity, -Infinity]), 0), [2], [Infinity, 0]);
  });

  it("comparisons with NaN are false except ne", () => {
    const n = tensor([NaN]);
    for (const f of [eq, lt, le, gt, ge]) expect(f(n, n).item()).toBe(0);
    expect(ne(n, n).item()).toBe(1);
    expect(eq(tensor([Infinity]), Infinity).item()).toBe(1);
    expect(eq(tensor([-0]), 0).item()).toBe(1);
  });

  it("pow follows IEEE-754 pow (as torch.pow)", () => {
    expectTensor(pow(tensor([1, 1, 1, -1, -1]), tensor([NaN, Infinity, -Infinity, Infinity, -Infinity])), [5], [1, 1, 1, 1, 1]);
    expectTensor(pow(tensor([NaN, 0, 0, -8, -2, 2]), tensor([0, -1, 0.5, 1 / 3, 3, -Infinity])), [6], [1, Infinity, 0, NaN, -8, 0]);
    expectTensor(pow(tensor([-0]), -1), [1], [-Infinity]);
    expectTensor(pow(tensor([NaN]), 2), [1], [NaN]);
  });
});

describe("broadcasting", () => {
  const pairs: [number[], number[], number[]][] = [
    [[3, 1, 4], [2, 4], [3, 2, 4]],
    [[], [2, 3], [2, 3]],
    [[2, 3], [], [2, 3]],
    [[5], [4, 5], [4, 5]],
    [[4, 1], [1, 5], [4, 5]],
    [[2, 1, 3], [4, 1], [2, 4, 3]],
    [[1], [0], [0]],
    [[0, 3], [3], [0, 3]],
    [[2, 0], [2, 1], [2, 0]],
    [[], [], []],
    [[1, 1], [], [1, 1]],
  ];
  it.each(pairs)("%j with %j gives %j for every op", (sa, sb, so) => {
    const rng = new Rng(sa.length * 10 + sb.length);
    const a = randomTensor(rng, sa);
    const b = randomTensor(rng, sb);
    for (const [name, f, ref] of OPS) {
      const r = f(a, b);
      expect(r.shape, name).toEqual(so);
      expectRef(r, refBinary(fromTensor(a), fromTensor(b), ref), name === "atan2" || name === "pow" ? ROUNDED : { rtol: 6e-8, atol: 0 }, `${name} ${JSON.stringify(sa)}&${JSON.stringify(sb)}`);
    }
  });

  it("gives exact broadcast values for a documented example", () => {
    expect(add(tensor([[1], [2]]), tensor([10, 20])).toArray()).toEqual([[11, 21], [12, 22]]);
    expect(mul(tensor([1, 2]), tensor([[1], [10]])).toArray()).toEqual([[1, 2], [10, 20]]);
    const a = arange(12).reshape(3, 1, 4);
    const b = arange(8).reshape(2, 4);
    const s = add(a, b);
    expect(s.shape).toEqual([3, 2, 4]);
    expect(s.get(2, 1, 3)).toBe(11 + 7);
    expect(s.get(1, 0, 0)).toBe(4 + 0);
  });

  it("rejects shapes that do not broadcast, naming the op and both shapes", () => {
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow(/add: shapes cannot be broadcast together \(got \[2,3\] and \[4\]\)/);
    expect(() => mul(zeros([3, 1, 4]), zeros([2, 3]))).toThrow(/mul: shapes cannot be broadcast together \(got \[3,1,4\] and \[2,3\]\)/);
    expect(() => ge(zeros([0]), zeros([2]))).toThrow(/ge: shapes cannot be broadcast together \(got \[0\] and \[2\]\)/);
    expect(() => sub(zeros([2]), zeros([3]))).toThrow(ShapeError);
    expect(() => add("a" as never, 1)).toThrow(/add: expected a Tensor or a number \(got string\)/);
    expect(() => pow(tensor([1]), null as never)).toThrow(/pow: expected a Tensor or a number \(got null\)/);
  });
});

describe("non-contiguous and stride-0 inputs", () => {
  it("transposed operands", () => {
    const a = arange(6).reshape(2, 3);
    const r = add(a.mT, tensor([[10, 20]]));
    expect(r.toArray()).toEqual([[10, 23], [11, 24], [12, 25]]);
    expect(sub(a.mT, a.mT).toArray()).toEqual([[0, 0], [0, 0], [0, 0]]);
    expect(mul(a.mT, a.reshape(3, 2)).toArray()).toEqual([[0, 3], [2, 12], [8, 25]]);
  });

  it("sliced operands with steps (incl. negative)", () => {
    const x = arange(10);
    expect(add(x.slice(0, 0, null, 2), x.slice(0, null, null, -2)).toArray()).toEqual([9, 9, 9, 9, 9]);
    const m = arange(24).reshape(4, 6).slice(1, 1, null, 2).slice(0, null, null, -1);
    expect(m.shape).toEqual([4, 3]);
    expect(mul(m, 2).toArray()).toEqual([[38, 42, 46], [26, 30, 34], [14, 18, 22], [2, 6, 10]]);
  });

  it("stride-0 broadcast views as inputs", () => {
    const b = tensor([1, 2, 3]).broadcastTo([4, 3]);
    expect(b.strides).toEqual([0, 1]);
    expect(add(b, arange(12).reshape(4, 3)).toArray()).toEqual([[1, 3, 5], [4, 6, 8], [7, 9, 11], [10, 12, 14]]);
    const c = tensor([[5], [7]]).expand(2, 3);
    expect(sub(c, b.narrow(0, 0, 2)).toArray()).toEqual([[4, 3, 2], [6, 5, 4]]);
    const s = tensor(2).broadcastTo([2, 2]);
    expect(pow(s, s).toArray()).toEqual([[4, 4], [4, 4]]);
  });
});

describe("out argument", () => {
  it("writes into out and returns it", () => {
    const out = zeros([2, 2]);
    const r = add(tensor([[1, 2], [3, 4]]), 1, out);
    expect(r).toBe(out);
    expect(out.toArray()).toEqual([[2, 3], [4, 5]]);
  });

  it("works in place (out === input) for both operand positions", () => {
    const x = tensor([1, 2, 3]);
    const data = x.data;
    mul(x, 2, x);
    expect(x.data).toBe(data);
    expect(x.toArray()).toEqual([2, 4, 6]);
    sub(10, x, x);
    expect(x.toArray()).toEqual([8, 6, 4]);
    add(x, x, x);
    expect(x.toArray()).toEqual([16, 12, 8]);
    const y = arange(6).reshape(2, 3);
    add(y, tensor([100, 200, 300]), y); // broadcast other operand, in place
    expect(y.toArray()).toEqual([[100, 201, 302], [103, 204, 305]]);
    const z = arange(4).reshape(2, 2);
    add(z, z.mT.contiguous(), z);
    expect(z.toArray()).toEqual([[0, 3], [3, 6]]);
  });

  it("writes into a contiguous sub-view at an offset without touching the rest", () => {
    const buf = zeros([3, 4]);
    const row = buf.select(0, 1);
    add(tensor([1, 2, 3, 4]), 1, row);
    expect(buf.toArray()).toEqual([[0, 0, 0, 0], [2, 3, 4, 5], [0, 0, 0, 0]]);
  });

  it("allows an input in the same storage when the ranges are disjoint", () => {
    const buf = arange(8);
    add(buf.narrow(0, 0, 4), 10, buf.narrow(0, 4, 4));
    expect(buf.toArray()).toEqual([0, 1, 2, 3, 10, 11, 12, 13]);
    const b1 = arange(8);
    add(b1.narrow(0, 4, 4), 10, b1.narrow(0, 0, 4)); // the input after out
    expect(b1.toArray()).toEqual([14, 15, 16, 17, 4, 5, 6, 7]);
    const b2 = arange(8);
    sub(b2.slice(0, 3, null, -1), 0, b2.narrow(0, 4, 4)); // reversed first half -> second half
    expect(b2.toArray()).toEqual([0, 1, 2, 3, 3, 2, 1, 0]);
  });

  it("rejects partial overlap, wrong shapes and non-contiguous out", () => {
    const buf = arange(8);
    expect(() => add(buf.narrow(0, 1, 4), 1, buf.narrow(0, 0, 4))).toThrow(/add: out partially overlaps an input \(same storage, different layout\) \(got \[4\] and \[4\]\)/);
    const sq = arange(4).reshape(2, 2);
    expect(() => add(sq, sq.mT, sq)).toThrow(/add: out partially overlaps an input/);
    const v = arange(3);
    expect(() => mul(v, v.slice(0, null, null, -1), v)).toThrow(ShapeError);
    const row = zeros([2, 3]);
    expect(() => add(row.select(0, 0), 1, row)).toThrow(/add: out has the wrong shape \(got \[2,3\] and \[3\]\)/);
    expect(() => add(zeros([2, 3]), 1, zeros([3, 2]))).toThrow(/add: out has the wrong shape \(got \[3,2\] and \[2,3\]\)/);
    expect(() => add(zeros([3, 2]), 1, zeros([2, 3]).mT)).toThrow(/add: out must be contiguous \(got \[3,2\]\)/);
    expect(() => add(zeros([2]), 1, [0, 0] as never)).toThrow(/add: out must be a Tensor/);
    // a broadcast input that aliases out is a partial overlap too
    const o = zeros([2, 3]);
    expect(() => add(o.select(0, 0), zeros([2, 3]), o)).toThrow(/add: out partially overlaps an input/);
  });

  it("accepts 0-d and 0-size outs", () => {
    const s = zeros([]);
    add(2, 3, s);
    expect(s.item()).toBe(5);
    const e = zeros([0, 3]);
    expect(add(zeros([0, 3]), 1, e)).toBe(e);
  });
});

describe("where", () => {
  it("selects with a 0/1 (bool) condition", () => {
    expectTensor(where(tensor([1, 0, 1]), tensor([1, 2, 3]), tensor([-1, -2, -3])), [3], [1, -2, 3]);
    expectTensor(where(tensor([1, 0]), tensor([1, 2]), -1), [2], [1, -1]);
    expectTensor(where(0, 1, 2), [], [2]);
  });

  it("treats any non-zero (incl. NaN, -1) as true and -0 as false", () => {
    expectTensor(where(tensor([NaN, -1, -0, 0.5]), 1, 0), [4], [1, 1, 0, 1]);
  });

  it("passes NaN/Infinity through from the chosen side only", () => {
    expectTensor(where(tensor([1, 0]), tensor([NaN, NaN]), tensor([Infinity, -Infinity])), [2], [NaN, -Infinity]);
  });

  it("broadcasts all three operands", () => {
    const c = tensor([[1], [0]]);
    const r = where(c, tensor([1, 2, 3]), tensor(9));
    expect(r.toArray()).toEqual([[1, 2, 3], [9, 9, 9]]);
    const rng = new Rng(3);
    for (let t = 0; t < 100; t++) {
      const [sa, sb] = broadcastPair(rng);
      const sc = sa.length > 0 && rng.random() < 0.5 ? sa.slice(1) : sb.slice(0);
      const cond = randomInput(rng, sc);
      const condBool = new Tensor(cond.toFloat32Array().map((v) => (v > 0 ? 1 : 0)), cond.shape);
      const a = randomInput(rng, sa);
      const b = randomInput(rng, sb);
      const cr = fromTensor(condBool);
      const ar = fromTensor(a);
      const br = fromTensor(b);
      // where(c, a, b) = c*a + (1-c)*b for finite values
      const ref = refBinary(refBinary(cr, ar, (x, y) => (x !== 0 ? y : 0)), refBinary(cr, br, (x, y) => (x !== 0 ? 0 : y)), (x, y) => x + y);
      expectRef(where(condBool, a, b), ref, EXACT, `where ${JSON.stringify([sc, sa, sb])}`);
    }
  });

  it("supports out and in place, and reports bad shapes", () => {
    const x = tensor([1, 2, 3]);
    where(tensor([1, 0, 1]), x, 0, x);
    expect(x.toArray()).toEqual([1, 0, 3]);
    expect(() => where(zeros([2]), zeros([3]), 0)).toThrow(/where: shapes cannot be broadcast together \(got \[2\] and \[3\] and \[\]\)/);
    expect(() => where(zeros([2]), 1, 0, zeros([3]))).toThrow(/where: out has the wrong shape \(got \[3\] and \[2\]\)/);
    expect(where(zeros([0]), 1, 2).shape).toEqual([0]);
  });
});

describe("binaryOp fused backward codes", () => {
  const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
  const cases: [string, number, (g: number, x: number, p0: number, p1: number) => number, number, number][] = [
    ["RELU_GRAD", BinOp.RELU_GRAD, (g, x) => (x > 0 ? g : 0), 0, 0],
    ["LEAKY_RELU_GRAD", BinOp.LEAKY_RELU_GRAD, (g, x, p) => (x > 0 ? g : g * p), 0.1, 0],
    ["TANH_GRAD", BinOp.TANH_GRAD, (g, y) => g * (1 - y * y), 0, 0],
    ["SIGMOID_GRAD", BinOp.SIGMOID_GRAD, (g, y) => g * y * (1 - y), 0, 0],
    ["GELU_GRAD", BinOp.GELU_GRAD, (g, x) => g * (0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI)), 0, 0],
    ["GELU_TANH_GRAD", BinOp.GELU_TANH_GRAD, (g, x) => {
      const u = SQRT_2_OVER_PI * (x + 0.044715 * x ** 3);
      const t = Math.tanh(u);
      return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x));
    }, 0, 0],
    ["SOFTPLUS_GRAD", BinOp.SOFTPLUS_GRAD, (g, x, beta, th) => (beta * x > th ? g : g / (1 + Math.exp(-beta * x))), 2, 1],
    ["ABS_GRAD", BinOp.ABS_GRAD, (g, x) => g * Math.sign(x), 0, 0],
    ["SQRT_GRAD", BinOp.SQRT_GRAD, (g, y) => (0.5 * g) / y, 0, 0],
    ["POW_GRAD", BinOp.POW_GRAD, (g, x, p) => g * p * Math.pow(x, p - 1), 3, 0],
    ["CLAMP_GRAD", BinOp.CLAMP_GRAD, (g, x, lo, hi) => (x >= lo && x <= hi ? g : 0), -0.5, 0.5],
    ["MASK_EQ_ZERO", BinOp.MASK_EQ_ZERO, (g, d) => (d === 0 ? g : 0), 0, 0],
  ];
  it.each(cases)("%s matches its formula", (name, code, f, p0, p1) => {
    const rng = new Rng(code);
    const g = randomLayout(rng, [3, 5]);
    const xv = randomTensor(rng, [5]).toFloat32Array();
    xv[0] = 0;
    xv[1] = 0.5;
    const x = new Tensor(name === "SQRT_GRAD" ? xv.map(Math.abs) : xv, [5]);
    const r = binaryOp(name, code as BinOp, g, x, undefined, p0, p1);
    const ref: Ref = refBinary(fromTensor(g), fromTensor(x), (a, b) => f(a, b, p0, p1));
    expectRef(r, ref, { rtol: 1e-6, atol: 1e-7 }, name);
  });

  it("POW_GRAD with exponent 0 is 0 and unknown codes are internal errors", () => {
    expectTensor(binaryOp("pow", BinOp.POW_GRAD, tensor([1, 2]), tensor([0, 3])), [2], [0, 0]);
    expect(() => binaryOp("bad", 99 as BinOp, tensor([1]), tensor([1]))).toThrow(/internal: unknown binary op code 99/);
  });
});

describe("fuzz: every binary op vs the float64 reference on random shapes and layouts", () => {
  it("matches on 400 random broadcast pairs with random non-contiguous layouts", () => {
    const rng = new Rng(2024);
    for (let trial = 0; trial < 400; trial++) {
      const [sa, sb] = broadcastPair(rng);
      const a = rng.random() < 0.1 ? rng.random() * 4 - 2 : randomInput(rng, sa);
      const b = rng.random() < 0.1 ? rng.random() * 4 - 2 : randomInput(rng, sb);
      const ar = typeof a === "number" ? { shape: [], data: Float64Array.of(Math.fround(a)) } : fromTensor(a);
      const br = typeof b === "number" ? { shape: [], data: Float64Array.of(Math.fround(b)) } : fromTensor(b);
      const [name, f, ref] = OPS[trial % OPS.length]!;
      const label = `${name} ${JSON.stringify(ar.shape)}&${JSON.stringify(br.shape)} trial ${trial}`;
      const r = f(a, b);
      expectRef(r, refBinary(ar, br, ref), name === "atan2" || name === "pow" ? ROUNDED : { rtol: 6e-8, atol: 0 }, label);
      // the same result through an out buffer
      const out = zeros(r.shape);
      expect(f(a, b, out)).toBe(out);
      expect(Array.from(out.toFloat32Array())).toEqual(Array.from(r.toFloat32Array()));
    }
  });

  it("matches with explicit stride-0 (expanded) inputs", () => {
    const rng = new Rng(77);
    for (let trial = 0; trial < 100; trial++) {
      const [sa] = broadcastPair(rng);
      const full = sa.map((d) => (d === 1 ? rng.int(1, 4) : d));
      const a = randomLayout(rng, sa).broadcastTo(full);
      const b = randomInput(rng, full);
      const [name, f, ref] = OPS[trial % OPS.length]!;
      expectRef(f(a, b), refBinary(fromTensor(a), fromTensor(b), ref), name === "atan2" || name === "pow" ? ROUNDED : { rtol: 6e-8, atol: 0 }, `${name} expanded ${JSON.stringify(sa)}->${JSON.stringify(full)}`);
    }
  });
});
