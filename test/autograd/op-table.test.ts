/**
 * @file The typed op table: `OP_NAMES` and `opRules` agree, every primitive is recorded on the
 * tape under exactly its table key (`powScalar`, `bceWithLogits`, `klDiv` included), custom ops
 * (`defineOp`) keep their own name, and `apply`'s op name and attributes are checked by the
 * compiler (the `@ts-expect-error` lines fail `tsc` if a wrong call ever compiles).
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import * as A from "@tapegrad/autograd";
import type { OpName } from "@tapegrad/autograd";
import { Rng, mul as mulT, randn, tensor } from "@tapegrad/tensor";

const rng = new Rng(7);
/** A fresh leaf that requires grad, so every op records a node. */
const v = (...shape: number[]) => A.variable(randn(shape, rng));

/** Elementwise primitives of two vectors (`pow` with a Var exponent: the broadcasting rule). */
const BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum"] as const;
/** Elementwise primitives of one vector and no other argument. */
const UNARY = ["neg", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "softplus", "square", "reciprocal", "sin", "cos", "log1p", "expm1"] as const;

/** `{ [op]: () => call(op) }` for every op of `ops`. */
function callEach<K extends OpName>(ops: readonly K[], call: (op: K) => A.Var): Record<K, () => A.Var> {
  return Object.fromEntries(ops.map((op) => [op, () => call(op)])) as Record<K, () => A.Var>;
}

/** One call per primitive whose result is the node that primitive records (typed over OpName). */
const calls: { [K in OpName]: () => A.Var } = {
  ...callEach(BINARY, (op) => A[op](v(2), v(2))),
  ...callEach(UNARY, (op) => A[op](v(2))),
  leakyRelu: () => A.leakyRelu(v(2), 0.1),
  gelu: () => A.gelu(v(2), "tanh"),
  clamp: () => A.clamp(v(2), -1, 1),
  powScalar: () => A.powScalar(v(2), 3),
  matmul: () => A.matmul(v(2, 3), v(3, 4)),
  linear: () => A.linear(v(2, 3), v(4, 3), v(4)),
  reshape: () => A.reshape(v(2, 3), [3, 2]),
  permute: () => A.permute(v(2, 3), [1, 0]),
  broadcastTo: () => A.broadcastTo(v(3), [2, 3]),
  slice: () => A.slice(v(4), 0, 1, 3),
  select: () => A.select(v(2, 3), 0, 1),
  concat: () => A.concat([v(2), v(3)]),
  indexSelect: () => A.indexSelect(v(4, 2), 0, [1, 1]),
  gather: () => A.gather(v(2, 3), 1, tensor([[0], [2]])),
  where: () => A.where(tensor([1, 0]), v(2), v(2)),
  sum: () => A.sum(v(2, 3), 1),
  mean: () => A.mean(v(2, 3)),
  max: () => A.max(v(2, 3), 0),
  min: () => A.min(v(2, 3)),
  logsumexp: () => A.logsumexp(v(2, 3), 1),
  softmax: () => A.softmax(v(2, 3)),
  logSoftmax: () => A.logSoftmax(v(2, 3)),
  crossEntropy: () => A.crossEntropy(v(2, 3), [0, 2]),
  nllLoss: () => A.nllLoss(v(2, 3), [1, 0]),
  bceWithLogits: () => A.bceWithLogits(v(2), tensor([0, 1]), { reduction: "none" }), // unreduced: the primitive itself
  klDiv: () => A.klDiv(v(2), tensor([0.25, 0.75]), { reduction: "none" }),
  conv2d: () => A.conv2d(v(1, 1, 3, 3), v(1, 1, 2, 2)),
  maxPool2d: () => A.maxPool2d(v(1, 1, 2, 2), { kernelSize: 2 }),
  conv1d: () => A.conv1d(v(1, 1, 3), v(1, 1, 2)),
  convTranspose2d: () => A.convTranspose2d(v(1, 1, 2, 2), v(1, 1, 2, 2)),
  avgPool2d: () => A.avgPool2d(v(1, 1, 2, 2), { kernelSize: 2 }),
  adaptiveAvgPool2d: () => A.adaptiveAvgPool2d(v(1, 1, 2, 2), 1),
  batchNorm: () => A.batchNorm(v(2, 3), null, null, { training: true }),
  groupNorm: () => A.groupNorm(v(2, 4), 2),
};

describe("op table", () => {
  it("OP_NAMES and opRules hold the same names, each once, each with a forward and a backward", () => {
    expect(new Set(A.OP_NAMES).size).toBe(A.OP_NAMES.length);
    expect(Object.keys(A.opRules).sort()).toEqual([...A.OP_NAMES].sort());
    for (const op of A.OP_NAMES) {
      expect(typeof A.opRules[op].forward, op).toBe("function");
      expect(typeof A.opRules[op].backward, op).toBe("function");
    }
  });

  it("every primitive is recorded under exactly its table key", () => {
    for (const op of A.OP_NAMES) expect(calls[op]().node!.op, op).toBe(op);
  });

  it("renamed keys: powScalar (also via pow with a number), bceWithLogits, klDiv", () => {
    const x = v(2);
    expect(A.powScalar(x, 2).node!.op).toBe("powScalar");
    expect(A.pow(x, 2).node!.op).toBe("powScalar");
    expect(A.bceWithLogits(x, tensor([1, 0]), { reduction: "none" }).node!.op).toBe("bceWithLogits");
    expect(A.klDiv(x, tensor([0.5, 0.5]), { reduction: "none" }).node!.op).toBe("klDiv");
    expect(() => A.powScalar(x, "2" as never)).toThrow(/^powScalar: exponent must be a number/);
  });

  it("apply runs a table op by name and records it under that name", () => {
    const x = v(3);
    const y = A.apply("leakyRelu", { slope: 0.5 }, [x]);
    expect(y.node!.op).toBe("leakyRelu");
    expect(y.value.toArray()).toEqual(A.leakyRelu(x, 0.5).value.toArray());
    A.sum(y).backward();
    const expected = x.value.toFloat32Array().map((t) => (t > 0 ? 1 : 0.5));
    expect(Array.from(x.grad!.toFloat32Array())).toEqual(Array.from(expected));
  });

  it("a defineOp op is recorded under its own name and differentiated by its own rule", () => {
    const cube = A.defineOp("cube", {
      forward: ([x]) => mulT(mulT(x!, x!), x!),
      backward: (dy, c) => [mulT(dy, mulT(mulT(c.x[0]!, c.x[0]!), 3))], // d x³ = 3x²
    });
    const x = A.variable(tensor([2, -1]));
    const y = cube(x);
    expect(y.node!.op).toBe("cube");
    A.sum(y).backward();
    expect(x.grad!.toArray()).toEqual([12, 3]);
    // a custom name that is also a built-in one still runs the custom rule
    const twice = A.defineOp("add", { forward: ([t]) => mulT(t!, 2), backward: (dy) => [mulT(dy, 2)] });
    expect(twice(x).value.toArray()).toEqual([4, -2]);
  });

  it("an op name outside the table is a TypeError at run time (untyped callers)", () => {
    const x = v(2);
    // @ts-expect-error: not an op name
    expect(() => A.apply("notAnOp", {}, [x])).toThrow(/^apply: unknown op "notAnOp"/);
    const untyped = A.apply as unknown as (op: string, attrs: object, inputs: readonly A.VarLike[]) => A.Var;
    expect(() => untyped("toString", {}, [x])).toThrow(/^apply: unknown op "toString"/); // inherited keys are no ops
  });

  it("attributes are typed per op, and wrong ones do not compile", () => {
    expectTypeOf<A.OpAttrs<"add">>().toEqualTypeOf<A.NoAttrs>();
    expectTypeOf<A.OpAttrs<"leakyRelu">>().toEqualTypeOf<{ slope: number }>();
    expectTypeOf<A.OpAttrs<"powScalar">>().toEqualTypeOf<{ exponent: number }>();
    expectTypeOf<A.OpAttrs<"sum">>().toEqualTypeOf<A.ReduceAttrs>();
    expectTypeOf<A.OpAttrs<"klDiv">>().toEqualTypeOf<{ logTarget: boolean }>();
    // Never called: each line must fail to compile (tsc reports an unused @ts-expect-error).
    const wrong = (x: A.Var) => [
      // @ts-expect-error: add takes no attributes
      A.apply("add", { axis: 1 }, [x, x]),
      // @ts-expect-error: leakyRelu needs { slope }
      A.apply("leakyRelu", {}, [x]),
      // @ts-expect-error: the exponent is a number
      A.apply("powScalar", { exponent: "2" }, [x]),
      // @ts-expect-error: the old key of bceWithLogits is gone
      A.apply("bceWithLogitsPointwise", {}, [x, x]),
      // @ts-expect-error: rules are not passed to apply any more (custom rules go through defineOp)
      A.apply("add", A.opRules.add, {}, [x, x]),
    ];
    expect(typeof wrong).toBe("function");
  });
});
