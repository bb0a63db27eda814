/**
 * @file Finite-difference gradcheck of every primitive op (the table is typed over `OpName`, so
 * adding a primitive without a case here is a compile error), on random shapes including
 * broadcasting pairs, plus a negative control proving gradcheck catches a wrong rule.
 */
import { describe, expect, it } from "vitest";
import * as A from "@tapegrad/autograd";
import type { OpName, Var } from "@tapegrad/autograd";
import { Rng, Tensor, abs as absT, add as addT, mul as mulT, rand, randn, tensor } from "@tapegrad/tensor";

const rng = new Rng(1234);
const r = (...shape: number[]) => randn(shape, rng);
/** Values bounded away from 0 (for log, sqrt, div, abs, relu kinks). */
const pos = (...shape: number[]) => rand(shape, rng, 0.5, 2);
const awayFromZero = (...shape: number[]) => {
  const t = randn(shape, rng);
  const s = t.toFloat32Array().map((v) => (v >= 0 ? v + 0.2 : v - 0.2));
  return new Tensor(s, shape);
};
/** Distinct values (no ties for max/min). */
const distinct = (...shape: number[]) => {
  const n = shape.reduce((a, b) => a * b, 1);
  const perm = rng.permutation(n);
  return new Tensor(Float32Array.from(perm, (p) => (p - n / 2) * 0.37), shape);
};
const probs = (...shape: number[]) => A.softmax(A.constant(r(...shape))).value;

interface Case {
  name: string;
  inputs: Tensor[];
  f: (...x: Var[]) => Var;
  opts?: A.GradcheckOptions;
}

const cases: { [K in OpName]: Case[] } = {
  add: [
    { name: "[3,1,4]+[2,4]", inputs: [r(3, 1, 4), r(2, 4)], f: (a, b) => A.add(a!, b!) },
    { name: "[]+[2,3]", inputs: [r(), r(2, 3)], f: (a, b) => A.add(a!, b!) },
  ],
  sub: [{ name: "[5]-[4,5]", inputs: [r(5), r(4, 5)], f: (a, b) => A.sub(a!, b!) }],
  mul: [{ name: "[3,1]*[1,4]", inputs: [r(3, 1), r(1, 4)], f: (a, b) => A.mul(a!, b!) }],
  div: [{ name: "[2,3]/[3]", inputs: [r(2, 3), awayFromZero(3)], f: (a, b) => A.div(a!, b!) }],
  pow: [{ name: "pos^[2,1]", inputs: [pos(2, 3), r(2, 1)], f: (a, b) => A.pow(a!, b!) }],
  maximum: [{ name: "max [3,4],[4]", inputs: [distinct(3, 4), new Tensor(Float32Array.from([0.11, -0.53, 1.7, -2.9]), [4])], f: (a, b) => A.maximum(a!, b!) }],
  minimum: [{ name: "min [3,4],[4]", inputs: [distinct(3, 4), new Tensor(Float32Array.from([0.11, -0.53, 1.7, -2.9]), [4])], f: (a, b) => A.minimum(a!, b!) }],
  neg: [{ name: "neg", inputs: [r(2, 3)], f: (x) => A.neg(x!) }],
  exp: [{ name: "exp", inputs: [r(2, 3)], f: (x) => A.exp(x!) }],
  log: [{ name: "log", inputs: [pos(2, 3)], f: (x) => A.log(x!) }],
  sqrt: [{ name: "sqrt", inputs: [pos(2, 3)], f: (x) => A.sqrt(x!) }],
  abs: [{ name: "abs", inputs: [awayFromZero(2, 3)], f: (x) => A.abs(x!) }],
  tanh: [{ name: "tanh", inputs: [r(2, 3)], f: (x) => A.tanh(x!) }],
  sigmoid: [{ name: "sigmoid", inputs: [r(2, 3)], f: (x) => A.sigmoid(x!) }],
  relu: [{ name: "relu", inputs: [awayFromZero(3, 4)], f: (x) => A.relu(x!) }],
  leakyRelu: [{ name: "leakyRelu", inputs: [awayFromZero(3, 4)], f: (x) => A.leakyRelu(x!, 0.1) }],
  gelu: [
    { name: "gelu exact", inputs: [r(3, 4)], f: (x) => A.gelu(x!) },
    { name: "gelu tanh", inputs: [r(3, 4)], f: (x) => A.gelu(x!, "tanh") },
  ],
  softplus: [{ name: "softplus beta 2", inputs: [r(3, 4)], f: (x) => A.softplus(x!, 2, 20) }],
  clamp: [{ name: "clamp", inputs: [new Tensor(Float32Array.from([-2, -0.5, 0.3, 1.7, 0.9, -1.4]), [2, 3])], f: (x) => A.clamp(x!, -1, 1) }],
  powScalar: [
    { name: "x^3", inputs: [r(2, 3)], f: (x) => A.powScalar(x!, 3) },
    { name: "x^-1.5", inputs: [pos(2, 3)], f: (x) => A.powScalar(x!, -1.5) },
  ],
  square: [{ name: "square", inputs: [r(4)], f: (x) => A.square(x!) }],
  reciprocal: [{ name: "reciprocal", inputs: [pos(4)], f: (x) => A.reciprocal(x!) }],
  sin: [{ name: "sin", inputs: [r(4)], f: (x) => A.sin(x!) }],
  cos: [{ name: "cos", inputs: [r(4)], f: (x) => A.cos(x!) }],
  log1p: [{ name: "log1p", inputs: [pos(4)], f: (x) => A.log1p(x!) }],
  expm1: [{ name: "expm1", inputs: [r(4)], f: (x) => A.expm1(x!) }],
  matmul: [
    { name: "2d", inputs: [r(3, 4), r(4, 5)], f: (a, b) => A.matmul(a!, b!) },
    { name: "batched broadcast", inputs: [r(2, 1, 3, 4), r(3, 4, 2)], f: (a, b) => A.matmul(a!, b!) },
    { name: "vec@mat", inputs: [r(4), r(4, 5)], f: (a, b) => A.matmul(a!, b!) },
    { name: "mat@vec", inputs: [r(3, 4), r(4)], f: (a, b) => A.matmul(a!, b!) },
    { name: "vec@vec", inputs: [r(4), r(4)], f: (a, b) => A.matmul(a!, b!) },
    { name: "batched@vec", inputs: [r(2, 3, 4), r(4)], f: (a, b) => A.matmul(a!, b!) },
  ],
  linear: [
    { name: "[5,4]·[3,4]ᵀ+[3]", inputs: [r(5, 4), r(3, 4), r(3)], f: (x, w, b) => A.linear(x!, w!, b!) },
    { name: "N-D [2,3,4], no bias", inputs: [r(2, 3, 4), r(3, 4)], f: (x, w) => A.linear(x!, w!) },
    { name: "1-D x", inputs: [r(4), r(3, 4), r(3)], f: (x, w, b) => A.linear(x!, w!, b!) },
    { name: "transposed views", inputs: [r(4, 5), r(4, 3)], f: (x, w) => A.linear(A.transpose(x!, 0, 1), A.transpose(w!, 0, 1)) },
  ],
  reshape: [{ name: "reshape", inputs: [r(2, 3, 4)], f: (x) => A.reshape(x!, [6, -1]) }],
  permute: [{ name: "permute", inputs: [r(2, 3, 4)], f: (x) => A.permute(x!, [2, 0, 1]) }],
  broadcastTo: [{ name: "broadcastTo", inputs: [r(3, 1)], f: (x) => A.broadcastTo(x!, [2, 3, 4]) }],
  slice: [
    { name: "slice step", inputs: [r(7, 3)], f: (x) => A.slice(x!, 0, 1, 6, 2) },
    { name: "slice negative step", inputs: [r(3, 5)], f: (x) => A.slice(x!, 1, null, null, -1) },
  ],
  select: [{ name: "select", inputs: [r(3, 4)], f: (x) => A.select(x!, 1, -1) }],
  concat: [{ name: "concat", inputs: [r(2, 1, 3), r(2, 4, 3)], f: (a, b) => A.concat([a!, b!], 1) }],
  indexSelect: [{ name: "repeated indices", inputs: [r(4, 3)], f: (x) => A.indexSelect(x!, 0, [3, 0, 3, 1]) }],
  gather: [{ name: "gather", inputs: [r(3, 4)], f: (x) => A.gather(x!, 1, tensor([[0, 3], [1, 1], [2, 0]])) }],
  where: [{ name: "where broadcast", inputs: [r(3, 4), r(4)], f: (a, b) => A.where(tensor([[1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 1, 0]]), a!, b!) }],
  sum: [
    { name: "sum axis", inputs: [r(2, 3, 4)], f: (x) => A.sum(x!, [0, 2], true) },
    { name: "sum all", inputs: [r(3, 4)], f: (x) => A.sum(x!) },
  ],
  mean: [{ name: "mean -1", inputs: [r(2, 3, 4)], f: (x) => A.mean(x!, -1) }],
  max: [
    { name: "max axis", inputs: [distinct(3, 4)], f: (x) => A.max(x!, 1) },
    { name: "max all", inputs: [distinct(3, 4)], f: (x) => A.max(x!) },
  ],
  min: [{ name: "min axes", inputs: [distinct(2, 3, 4)], f: (x) => A.min(x!, [0, 2], true) }],
  logsumexp: [{ name: "logsumexp", inputs: [r(3, 5)], f: (x) => A.logsumexp(x!, -1) }],
  softmax: [{ name: "softmax axis 0", inputs: [r(3, 4)], f: (x) => A.softmax(x!, 0) }],
  logSoftmax: [{ name: "logSoftmax", inputs: [r(3, 4)], f: (x) => A.logSoftmax(x!, -1) }],
  crossEntropy: [
    { name: "mean", inputs: [r(5, 4)], f: (x) => A.crossEntropy(x!, [3, 2, 2, 0, 1]) },
    { name: "smoothing sum", inputs: [r(5, 4)], f: (x) => A.crossEntropy(x!, [3, 2, 2, 0, 1], { reduction: "sum", labelSmoothing: 0.2 }) },
    { name: "none + ignore", inputs: [r(4, 3)], f: (x) => A.crossEntropy(x!, [1, -100, 0, 2], { reduction: "none" }) },
  ],
  nllLoss: [{ name: "nll", inputs: [r(5, 4)], f: (x) => A.nllLoss(x!, [3, 2, 2, 0, 1]) }],
  bceWithLogits: [{ name: "bce", inputs: [r(4, 3), rand([4, 3], rng)], f: (x, t) => A.bceWithLogits(x!, t!) }],
  conv2d: [
    { name: "stride 1 pad 1", inputs: [r(2, 3, 5, 5), r(4, 3, 3, 3), r(4)], f: (x, w, b) => A.conv2d(x!, w!, b!, { stride: 1, padding: 1 }) },
    { name: "stride 2 no bias, 2x3 kernel", inputs: [r(1, 2, 6, 5), r(3, 2, 2, 3)], f: (x, w) => A.conv2d(x!, w!, null, { stride: 2 }) },
    { name: "same even kernel, dilation, groups 2", inputs: [r(2, 4, 5, 6), r(6, 2, 2, 3), r(6)], f: (x, w, b) => A.conv2d(x!, w!, b!, { padding: "same", dilation: [2, 1], groups: 2 }) },
    { name: "depthwise stride [1,2] pad [1,0]", inputs: [r(1, 3, 5, 6), r(3, 1, 3, 3)], f: (x, w) => A.conv2d(x!, w!, null, { stride: [1, 2], padding: [1, 0], groups: 3 }) },
  ],
  maxPool2d: [
    { name: "2x2", inputs: [distinct(2, 3, 4, 5)], f: (x) => A.maxPool2d(x!, { kernelSize: 2 }) },
    { name: "3x3 s2 pad1 dilation, ceil", inputs: [distinct(1, 2, 7, 6)], f: (x) => A.maxPool2d(x!, { kernelSize: [3, 2], stride: 2, padding: 1, dilation: [1, 2], ceilMode: true }) },
  ],
  conv1d: [{ name: "same, dilation 2, groups 2", inputs: [r(2, 4, 7), r(6, 2, 4), r(6)], f: (x, w, b) => A.conv1d(x!, w!, b!, { padding: "same", dilation: 2, groups: 2 }) }],
  convTranspose2d: [
    { name: "stride 2 pad 1 outpad 1", inputs: [r(2, 3, 3, 3), r(3, 2, 3, 3), r(2)], f: (x, w, b) => A.convTranspose2d(x!, w!, b!, { stride: 2, padding: 1, outputPadding: 1 }) },
    { name: "groups 2 dilation 2 no bias", inputs: [r(1, 4, 3, 2), r(4, 1, 2, 2)], f: (x, w) => A.convTranspose2d(x!, w!, null, { groups: 2, dilation: 2, stride: [1, 2] }) },
  ],
  avgPool2d: [{ name: "3x3 s2 pad1 ceil exclude pad", inputs: [r(2, 2, 6, 5)], f: (x) => A.avgPool2d(x!, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false }) }],
  adaptiveAvgPool2d: [{ name: "5x7 to 3x4", inputs: [r(1, 2, 5, 7)], f: (x) => A.adaptiveAvgPool2d(x!, [3, 4]) }],
  batchNorm: [
    { name: "train affine [3,2,2,3]", inputs: [r(3, 2, 2, 3), r(2), r(2)], f: (x, w, b) => A.batchNorm(x!, null, null, { weight: w!, bias: b!, training: true }) },
    { name: "eval running stats [4,3]", inputs: [r(4, 3), r(3), r(3), rand([3], rng, 0.5, 2)], f: (x, w, rm, rv) => A.batchNorm(x!, rm!.value, rv!.value, { weight: w!, training: false }), opts: { check: [0, 1] } },
  ],
  groupNorm: [
    { name: "2 groups affine [2,4,3]", inputs: [r(2, 4, 3), r(4), r(4)], f: (x, w, b) => A.groupNorm(x!, 2, w!, b!) },
    { name: "instance norm, no affine [2,3,2,2]", inputs: [r(2, 3, 2, 2)], f: (x) => A.instanceNorm(x!) },
  ],
  klDiv: [
    { name: "kl batchmean", inputs: [A.logSoftmax(A.constant(r(4, 5))).value, probs(4, 5)], f: (q, p) => A.klDiv(q!, p!, { reduction: "batchmean" }) },
    { name: "kl log target", inputs: [r(4, 5), A.logSoftmax(A.constant(r(4, 5))).value], f: (q, p) => A.klDiv(q!, p!, { reduction: "sum", logTarget: true }) },
  ],
};

describe("gradcheck of every primitive op", () => {
  for (const [op, list] of Object.entries(cases) as [OpName, Case[]][]) {
    for (const c of list) {
      it(`${op}: ${c.name}`, () => {
        const res = A.gradcheck(c.f, c.inputs, c.opts);
        expect(res.message).toMatch(/passed/);
        expect(res.ok).toBe(true);
      });
    }
  }
  it("every op name has at least one case", () => {
    for (const op of A.OP_NAMES) expect(cases[op].length).toBeGreaterThan(0);
  });
});

describe("gradcheck of composites", () => {
  const comp: Case[] = [
    { name: "mseLoss", inputs: [r(4, 3), r(4, 3)], f: (a, b) => A.mseLoss(a!, b!) },
    { name: "l1Loss", inputs: [awayFromZero(4, 3), new Tensor(new Float32Array(12), [4, 3])], f: (a, b) => A.l1Loss(a!, b!) },
    { name: "huberLoss", inputs: [new Tensor(Float32Array.from([-3, -0.5, 0.2, 2.5, 0.7, -1.6]), [6]), new Tensor(new Float32Array(6), [6])], f: (a, b) => A.huberLoss(a!, b!) },
    { name: "variance", inputs: [r(3, 4)], f: (x) => A.variance(x!, 1) },
    { name: "std", inputs: [r(3, 4)], f: (x) => A.std(x!, null, { correction: 0 }) },
    { name: "layerNorm", inputs: [r(2, 5), r(5), r(5)], f: (x, g, b) => A.layerNorm(x!, [5], g!, b!) },
    { name: "linear, broadcast bias (composite fallback)", inputs: [r(3, 4), r(2, 4), r(1)], f: (x, w, b) => A.linear(x!, w!, b!) },
    { name: "linear, batched weight (composite fallback)", inputs: [r(2, 3, 4), r(2, 5, 4)], f: (x, w) => A.linear(x!, w!) },
    { name: "stack", inputs: [r(2, 3), r(2, 3)], f: (a, b) => A.stack([a!, b!], -1) },
    { name: "split", inputs: [r(5, 2)], f: (x) => A.mul(A.split(x!, [2, 3])[1]!, 2) },
    { name: "embedding", inputs: [r(6, 3)], f: (w) => A.embedding(w!, tensor([[1, 2, 1], [5, 0, 1]])) },
    { name: "softTargets crossEntropy", inputs: [r(3, 4), probs(3, 4)], f: (z, p) => A.crossEntropy(z!, p!, { labelSmoothing: 0.1 }) },
    { name: "flatten/squeeze/unsqueeze/narrow", inputs: [r(2, 1, 3)], f: (x) => A.narrow(A.unsqueeze(A.flatten(A.squeeze(x!, 1)), 0), 1, 1, 4) },
  ];
  for (const c of comp) {
    it(c.name, () => {
      const res = A.gradcheck(c.f, c.inputs, c.opts);
      expect(res.message).toMatch(/passed/);
      expect(res.ok).toBe(true);
    });
  }
});

describe("gradcheck negative control", () => {
  it("catches a wrong gradient rule", () => {
    // d(x³)/dx is 3x², here deliberately 2x²
    const cube = A.defineOp("cubeWrong", {
      forward: ([x]) => mulT(mulT(x!, x!), x!),
      backward: (dy, c) => [mulT(dy, mulT(mulT(c.x[0]!, c.x[0]!), 2))],
    });
    const res = A.gradcheck((x) => cube(x!), [pos(5)]);
    expect(res.ok).toBe(false);
    expect(res.mismatches.length).toBe(5);
    expect(res.message).toMatch(/gradcheck failed: 5 mismatches/);
  });
  it("accepts the correct rule for the same op", () => {
    const cube = A.defineOp("cube", {
      forward: ([x]) => mulT(mulT(x!, x!), x!),
      backward: (dy, c) => [mulT(dy, mulT(mulT(c.x[0]!, c.x[0]!), 3))],
    });
    expect(A.gradcheck((x) => cube(x!), [pos(5)]).ok).toBe(true);
  });
  it("fails at a tiny eps in float32 (round-off makes differences meaningless)", () => {
    const res = A.gradcheck((x) => A.mul(A.exp(x!), 1000), [addT(absT(r(8)), 1)], { eps: 1e-7, rtol: 1e-4, atol: 1e-6 });
    expect(res.ok).toBe(false);
  });
});
