/**
 * @file Property test of reverse-mode gradients on random op graphs: fast-check draws a small
 * expression DAG (1–3 input Vars of random shapes incl. 0-d, 2–8 nodes, operands picked among all
 * earlier nodes so values fan out) from a menu of differentiable autograd ops — add, sub, mul,
 * div (denominator square(b) + 0.5 ≥ 0.5), exp (of tanh, so its input is in (−1, 1)), log (of
 * square(a) + 0.5 > 0), tanh, sigmoid, square, matmul, sum/mean over an axis or all (keepDims
 * random), reshape, transpose and broadcastTo (binary ops broadcast too). The same graph is
 * interpreted twice: with autograd Vars (float32) for `gradients`, and as a plain float64
 * reference (test/helpers/reference.ts) for central finite differences with a relative step of
 * 1e-6 (float64 truncation and rounding errors ~1e-10, negligible).
 *
 * Tolerance: the analytic gradient is computed entirely in float32 (forward values and backward
 * rules) through at most 8 ops, so it agrees with the exact gradient to a few float32 ulps of the
 * gradient's scale (worst seen ~6 ulps): we allow 1e-5·(|fd| + max|fd|), ~80 ulps, while a wrong
 * rule is off by O(1)·max|fd|. One more term is needed where tanh or sigmoid saturate: their
 * backward (like PyTorch's) evaluates 1 − y² and σ(1 − σ) from the float32 output y, with an
 * absolute error ~2·eps32 that is large relative to a tiny derivative (tanh(5): 1 − y² = 1.8e-4, so
 * 3e-4 relative). That error times |upstream gradient| is carried to the inputs by a VJP and
 * allowed 4×; it vanishes for unsaturated graphs. Found by this test with tanh(Σx²) (Gram matrix
 * of a vector); not an engine bug, the float32 formula's own conditioning.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Rng, Tensor, abs, randn } from "@tapegrad/tensor";
import * as AG from "@tapegrad/autograd";
import { fold, refBinary, refMatmul, refPermute, refReduce, refUnary, sizeOf, type Ref } from "../helpers/reference.js";
import { EPS32, makeInput, runs, seedArb, shapeArb } from "./arbitraries.js";

/** The ops an expression graph is built from, over any value type (autograd Var or float64 Ref). */
interface Alg<T> {
  shape(x: T): readonly number[];
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  addScalar(a: T, s: number): T;
  exp(a: T): T;
  log(a: T): T;
  tanh(a: T): T;
  sigmoid(a: T): T;
  square(a: T): T;
  matmul(a: T, b: T): T;
  transpose(a: T): T;
  sum(a: T, axis: number | null, keepDims: boolean): T;
  mean(a: T, axis: number | null, keepDims: boolean): T;
  reshape(a: T, shape: readonly number[]): T;
  broadcastTo(a: T, shape: readonly number[]): T;
}

const VARS: Alg<AG.Var> = {
  shape: (x) => x.shape,
  add: AG.add, sub: AG.sub, mul: AG.mul, div: AG.div,
  addScalar: (a, s) => AG.add(a, s),
  exp: AG.exp, log: AG.log, tanh: AG.tanh, sigmoid: AG.sigmoid, square: AG.square,
  matmul: AG.matmul,
  transpose: (a) => AG.transpose(a, 0, 1),
  sum: (a, axis, k) => AG.sum(a, axis, k),
  mean: (a, axis, k) => AG.mean(a, axis, k),
  reshape: AG.reshape,
  broadcastTo: AG.broadcastTo,
};

/**
 * The Var algebra, recording every (input, output) pair of tanh and sigmoid: their backward
 * rules use the float32 output (1 − y², σ(1 − σ)), whose absolute error ~eps32 dominates where
 * they saturate (see the tolerance in the test).
 */
function varsRecording(saturating: [AG.Var, AG.Var][]): Alg<AG.Var> {
  const rec = (f: (a: AG.Var) => AG.Var) => (a: AG.Var): AG.Var => {
    const y = f(a);
    saturating.push([a, y]);
    return y;
  };
  return { ...VARS, tanh: rec(AG.tanh), sigmoid: rec(AG.sigmoid) };
}

const REFS: Alg<Ref> = {
  shape: (x) => x.shape,
  add: (a, b) => refBinary(a, b, (x, y) => x + y),
  sub: (a, b) => refBinary(a, b, (x, y) => x - y),
  mul: (a, b) => refBinary(a, b, (x, y) => x * y),
  div: (a, b) => refBinary(a, b, (x, y) => x / y),
  addScalar: (a, s) => refUnary(a, (x) => x + s),
  exp: (a) => refUnary(a, Math.exp),
  log: (a) => refUnary(a, Math.log),
  tanh: (a) => refUnary(a, Math.tanh),
  sigmoid: (a) => refUnary(a, (x) => 1 / (1 + Math.exp(-x))),
  square: (a) => refUnary(a, (x) => x * x),
  matmul: (a, b) => refMatmul(a, b),
  transpose: (a) => refPermute(a, [1, 0]),
  sum: (a, axis, k) => refReduce(a, axis, k, fold.sum),
  mean: (a, axis, k) => refReduce(a, axis, k, fold.mean),
  reshape: (a, shape) => ({ shape: shape.slice(), data: a.data }),
  broadcastTo: (a, shape) => refBinary(a, { shape: shape.slice(), data: new Float64Array(sizeOf(shape)) }, (x) => x),
};

const OPS = ["add", "sub", "mul", "div", "exp", "log", "tanh", "sigmoid", "square", "matmul", "sum", "mean", "reshape", "transpose", "broadcast"] as const;
type OpName = (typeof OPS)[number];

/** One node: an op and operand/parameter choices (resolved modulo what is available). */
interface Gene {
  op: OpName;
  i: number;
  j: number;
  k: number;
  keep: boolean;
}

const geneArb: fc.Arbitrary<Gene> = fc.record({ op: fc.constantFrom(...OPS), i: fc.nat(20), j: fc.nat(20), k: fc.nat(20), keep: fc.boolean() });

function broadcasts(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const x = a[a.length - i]!, y = b[b.length - i]!;
    if (x !== y && x !== 1 && y !== 1) return false;
  }
  return true;
}

/** `x` as a 2-D matrix (0-d → [1, 1], 1-D → [1, n], 2-D as it is). */
function as2d<T>(A: Alg<T>, x: T): T {
  const s = A.shape(x);
  if (s.length === 2) return x;
  return A.reshape(x, [1, sizeOf(s)]);
}

/** Applies one gene to the nodes built so far; the result's shape depends only on shapes. */
function step<T>(A: Alg<T>, g: Gene, nodes: readonly T[]): T {
  const a = nodes[g.i % nodes.length]!;
  let b: T = nodes[g.j % nodes.length]!;
  const sa = A.shape(a);
  if (!broadcasts(sa, A.shape(b))) b = A.sum(b, null, false); // a 0-d operand broadcasts with anything
  const n = sizeOf(sa);
  switch (g.op) {
    case "add": return A.add(a, b);
    case "sub": return A.sub(a, b);
    case "mul": return A.mul(a, b);
    case "div": return A.div(a, A.addScalar(A.square(b), 0.5));
    case "exp": return A.exp(A.tanh(a));
    case "log": return A.log(A.addScalar(A.square(a), 0.5));
    case "tanh": return A.tanh(a);
    case "sigmoid": return A.sigmoid(a);
    case "square": return A.square(a);
    case "matmul": {
      const x = as2d(A, a);
      const y = as2d(A, nodes[g.j % nodes.length]!);
      const [, kx] = A.shape(x) as [number, number];
      const [ry, cy] = A.shape(y) as [number, number];
      if (kx === ry) return A.matmul(x, y);
      if (kx === cy) return A.matmul(x, A.transpose(y));
      return A.matmul(x, A.transpose(x)); // Gram matrix: a used twice
    }
    case "sum":
    case "mean": {
      const axis = sa.length === 0 || g.k % (sa.length + 1) === sa.length ? null : g.k % sa.length;
      return g.op === "sum" ? A.sum(a, axis, g.keep) : A.mean(a, axis, g.keep);
    }
    case "reshape": {
      const divisors = Array.from({ length: n }, (_, d) => d + 1).filter((d) => n % d === 0);
      const d = divisors[g.k % divisors.length]!;
      const shapes = [[n], [d, n / d], [n / d, 1, d], []];
      const shape = shapes[g.k % (n === 1 ? 4 : 3)]!;
      return A.reshape(a, shape);
    }
    case "transpose": return sa.length === 2 ? A.transpose(a) : A.reshape(a, [n, 1]);
    case "broadcast": {
      if (n > 12 || sa.length >= 3) return A.sum(a, 0, g.keep);
      const shape = [1 + (g.k % 3), ...sa.map((s) => (s === 1 ? 2 : s))];
      return A.broadcastTo(a, shape);
    }
  }
}

function build<T>(A: Alg<T>, genes: readonly Gene[], inputs: readonly T[]): T {
  const nodes = inputs.slice();
  for (const g of genes) nodes.push(step(A, g, nodes));
  return nodes[nodes.length - 1]!;
}

/** Σ out ⊙ v in float64, for the finite differences. */
function loss(genes: readonly Gene[], inputs: readonly Ref[], v: Float32Array): number {
  const out = build(REFS, genes, inputs);
  let s = 0;
  for (let i = 0; i < out.data.length; i++) s += out.data[i]! * v[i]!;
  return s;
}

const graphArb = fc.record({
  shapes: fc.array(shapeArb(0, 2, 3), { minLength: 1, maxLength: 3 }),
  genes: fc.array(geneArb, { minLength: 2, maxLength: 8 }),
  seed: seedArb,
  strided: fc.boolean(),
});

describe("gradients of random op graphs against float64 finite differences", () => {
  it("gradients(out, inputs, v) = ∇(Σ out ⊙ v) within 1e-5 of the gradient's scale", () => {
    fc.assert(
      fc.property(graphArb, ({ shapes, genes, seed, strided }) => {
        const tensors = shapes.map((s, i) => makeInput(s, seed + i, strided));
        const vars = tensors.map((t) => AG.variable(t));
        const saturating: [AG.Var, AG.Var][] = [];
        const out = build(varsRecording(saturating), genes, vars);
        const v = randn(out.shape, new Rng(seed ^ 0x5eed));
        const vData = v.toFloat32Array();
        const zeros = (): Tensor[] => tensors.map((t) => new Tensor(new Float32Array(t.size), t.shape));
        const all = out.requiresGrad ? AG.gradients(out, [...vars, ...saturating.map(([, y]) => y)], v, { retainGraph: true }) : zeros();
        const analytic = all.slice(0, vars.length);
        // Saturation term: tanh'/σ' computed from the float32 output carry an absolute error
        // ≤ 2·eps32, i.e. an error ≤ 2·eps32·|ḡ_y| in the gradient reaching their input; carried to
        // the inputs by the VJP of the input with seed |ḡ_y|.
        const satBound = tensors.map((t) => new Float64Array(t.size));
        saturating.forEach(([pre], s) => {
          if (!pre.requiresGrad) return;
          const vjp = AG.gradients(pre, vars, abs(all[vars.length + s]!), { retainGraph: true });
          vjp.forEach((j, i) => j.toFloat32Array().forEach((x, k) => (satBound[i]![k]! += 2 * EPS32 * Math.abs(x))));
        });
        // the float64 reference must compute the same forward values (up to float32 rounding)
        const refInputs: Ref[] = tensors.map((t) => ({ shape: t.shape.slice(), data: Float64Array.from(t.toFloat32Array()) }));
        const refOut = build(REFS, genes, refInputs);
        expect(out.shape).toEqual(refOut.shape);
        const fwd = out.value.toFloat32Array();
        const fscale = refOut.data.reduce((m, x) => Math.max(m, Math.abs(x)), 1);
        for (let i = 0; i < fwd.length; i++) expect(Math.abs(fwd[i]! - refOut.data[i]!)).toBeLessThanOrEqual(1e-5 * fscale);
        // central differences in float64
        const numeric = refInputs.map((r, i) =>
          Array.from(r.data, (x0, k) => {
            const h = 1e-6 * Math.max(1, Math.abs(x0));
            const plus = refInputs.map((q, j) => (j === i ? { shape: q.shape, data: q.data.map((x, m) => (m === k ? x0 + h : x)) } : q));
            const minus = refInputs.map((q, j) => (j === i ? { shape: q.shape, data: q.data.map((x, m) => (m === k ? x0 - h : x)) } : q));
            return (loss(genes, plus, vData) - loss(genes, minus, vData)) / (2 * h);
          }),
        );
        const gscale = numeric.flat().reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        numeric.forEach((num, i) => {
          const an = analytic[i]!.toFloat32Array();
          expect(analytic[i]!.shape).toEqual(tensors[i]!.shape);
          num.forEach((fd, k) => {
            const err = Math.abs(an[k]! - fd);
            const tol = 1e-5 * (Math.abs(fd) + gscale) + 4 * satBound[i]![k]!;
            if (!(err <= tol)) {
              expect.fail(`input ${i}[${k}]: analytic ${an[k]} vs finite difference ${fd} (|err| ${err}, tol ${tol}, gradient scale ${gscale}, saturation term ${satBound[i]![k]})`);
            }
          });
        });
      }),
      runs(3100, 1000),
    );
  });
});
