/**
 * @file Property tests of reductions and matmul against a plain float64 reference
 * (test/helpers/reference.ts), on random shapes (incl. 0-d, size-1 and empty dims), random axes
 * (negative ones too), keepDims, and contiguous or strided (permuted / sliced / reversed) inputs.
 *
 * Tolerances follow from how each op computes (packages/tensor/src/reduce.ts, the GEMM kernels):
 * - `sum`/`mean` accumulate in float64 and round once: |err| ≤ eps32·|ref| (+ float64 noise);
 * - `max`/`min` select an element: exact;
 * - `logsumexp` = m + log Σ exp(x − m) in float64, rounded once, with exp at ≤ 1 ulp of float32:
 *   a relative error δ ≤ eps32 in the sum is an absolute error δ in the log, so
 *   |err| ≤ eps32·(|ref| + 2);
 * - `matmul` accumulates k float32 products in float32 (any blocking order): the classical bound
 *   |err| ≤ γ_k·Σ|a||b| with γ_k ≈ k·eps32/2, plus the final rounding eps32/2·|ref|; we allow
 *   (k + 1)·eps32·Σ|a||b|.
 * An empty reduction of max/min must throw a ShapeError naming the op.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ShapeError, logsumexp, matmul, max, mean, min, sum, type Tensor } from "@tapegrad/tensor";
import { fold, fromTensor, refAxes, refMatmul, refReduce, sizeOf, type Ref } from "../helpers/reference.js";
import { EPS32, broadcastFamilyArb, makeInput, runs, seedArb, shapeArb } from "./arbitraries.js";

type Axes = number[] | null;

/** A shape (sizes 0..4 when `empty`, else 1..4) and an axis spec: null or a non-empty subset, some negative. */
function reduceCaseArb(empty: boolean): fc.Arbitrary<{ shape: number[]; axes: Axes; keepDims: boolean; seed: number; strided: boolean }> {
  return shapeArb(0, 4, 4, empty ? 0 : 1).chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      axes:
        shape.length === 0
          ? fc.constantFrom<Axes>(null, [0], [-1])
          : fc.option(fc.uniqueArray(fc.integer({ min: 0, max: shape.length - 1 }), { minLength: 1, maxLength: shape.length }).chain((ax) =>
              fc.tuple(...ax.map((a) => fc.constantFrom(a, a - shape.length))),
            ), { nil: null }),
      keepDims: fc.boolean(),
      seed: seedArb,
      strided: fc.boolean(),
    }),
  );
}

/** The reference's axes for a spec (a 0-d tensor reduces nothing whatever axis names it). */
function refSpec(shape: readonly number[], axes: Axes): Axes {
  return shape.length === 0 ? [] : axes;
}

function refOf(x: Tensor, axes: Axes, keepDims: boolean, f: (v: number[]) => number): Ref {
  const r = fromTensor(x);
  if (x.ndim === 0) return { shape: [], data: Float64Array.from([f([r.data[0]!])]) };
  return refReduce(r, refSpec(x.shape, axes), keepDims, f);
}

/** Asserts |got − want| ≤ tol[i] element by element (NaN matches NaN, ±Infinity exactly), with a useful message. */
function expectWithin(got: Tensor, want: Ref, tol: (i: number) => number, label: string): void {
  expect(got.shape, `${label}: shape`).toEqual(want.shape);
  const g = got.toFloat32Array();
  for (let i = 0; i < want.data.length; i++) {
    const e = want.data[i]!;
    const a = g[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(a) : !Number.isFinite(e) ? a === e : Math.abs(a - e) <= tol(i);
    if (!ok) expect.fail(`${label}[${i}]: got ${a}, float64 reference ${e}, |err| ${Math.abs(a - e)} > tol ${tol(i)}`);
  }
}

const REDUCTIONS = [
  {
    name: "sum", f: sum, ref: fold.sum, empty: true,
    tol: (r: number, abs: number) => EPS32 * Math.abs(r) + 1e-14 * abs,
  },
  {
    name: "mean", f: mean, ref: fold.mean, empty: true,
    tol: (r: number, abs: number) => EPS32 * Math.abs(r) + 1e-14 * abs,
  },
  { name: "max", f: max, ref: fold.max, empty: false, tol: () => 0 },
  { name: "min", f: min, ref: fold.min, empty: false, tol: () => 0 },
  { name: "logsumexp", f: logsumexp, ref: fold.logsumexp, empty: true, tol: (r: number) => EPS32 * (Math.abs(r) + 2) },
] as const;

describe("reductions against a float64 reference", () => {
  REDUCTIONS.forEach(({ name, f, ref, tol }, k) => {
    it(`${name} over random axes with keepDims, contiguous and strided, incl. empty dims`, () => {
      fc.assert(
        fc.property(reduceCaseArb(true), ({ shape, axes, keepDims, seed, strided }) => {
          const x = makeInput(shape, seed, strided);
          const ax = refAxes(refSpec(shape, axes), shape.length);
          const count = ax.reduce((n, a) => n * shape[a]!, 1);
          const outSize = sizeOf(shape.filter((_, i) => !ax.includes(i)));
          const label = `${name}(${JSON.stringify(shape)}, ${JSON.stringify(axes)}, ${keepDims})`;
          if ((name === "max" || name === "min") && count === 0 && (outSize > 0 || ax.length === shape.length)) {
            expect(() => f(x, axes, keepDims), label).toThrow(ShapeError);
            try {
              f(x, axes, keepDims);
            } catch (e) {
              expect((e as ShapeError).op).toBe(name);
            }
            return;
          }
          const got = f(x, axes, keepDims);
          const want = refOf(x, axes, keepDims, ref);
          const scale = refOf(x, axes, keepDims, fold.absSum);
          expectWithin(got, want, (i) => tol(want.data[i]!, scale.data[i]!), label);
        }),
        runs(2100 + k, 400),
      );
    });
  });
  it("sum and mean are consistent: mean · count = sum within the rounding of each", () => {
    fc.assert(
      fc.property(reduceCaseArb(false), ({ shape, axes, keepDims, seed, strided }) => {
        const x = makeInput(shape, seed, strided);
        const ax = refAxes(refSpec(shape, axes), shape.length);
        const count = ax.reduce((n, a) => n * shape[a]!, 1);
        const s = sum(x, axes, keepDims).toFloat32Array();
        const m = mean(x, axes, keepDims).toFloat32Array();
        for (let i = 0; i < s.length; i++) expect(Math.abs(m[i]! * count - s[i]!)).toBeLessThanOrEqual(2 * EPS32 * Math.abs(s[i]!) + 1e-30);
      }),
      runs(2110, 150),
    );
  });
});

/** Random matmul operands: sizes m, k, n (k may be 0), 1-D promotion flags, broadcast batch dims. */
const matmulCaseArb = fc.record({
  m: fc.integer({ min: 1, max: 9 }),
  k: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constant(1)),
  n: fc.integer({ min: 1, max: 9 }),
  aVec: fc.boolean(),
  bVec: fc.boolean(),
  batch: broadcastFamilyArb(2, 2, 3),
  seed: seedArb,
  stA: fc.boolean(),
  stB: fc.boolean(),
});

describe("matmul against a float64 reference", () => {
  it("random shapes (1-D promotion, broadcast batches), contiguous and strided: |err| ≤ (k+1)·eps32·Σ|a||b|", () => {
    fc.assert(
      fc.property(matmulCaseArb, ({ m, k, n, aVec, bVec, batch, seed, stA, stB }) => {
        const sa = aVec ? [k] : [...batch.shapes[0]!, m, k];
        const sb = bVec ? [k] : [...batch.shapes[1]!, k, n];
        const a = makeInput(sa, seed, stA);
        const b = makeInput(sb, seed + 7, stB);
        const got = matmul(a, b);
        const want = refMatmul(fromTensor(a), fromTensor(b));
        expectWithin(got, want, (i) => (k + 1) * EPS32 * want.scale[i]!, `matmul(${JSON.stringify(sa)}${stA ? " strided" : ""}, ${JSON.stringify(sb)}${stB ? " strided" : ""})`);
      }),
      runs(2200, 500),
    );
  });
  it("larger blocked GEMMs (up to 70×70×70) on transposed views", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 70 }), seedArb, fc.boolean(), fc.boolean(), (m, k, n, seed, tA, tB) => {
        const a = tA ? makeInput([k, m], seed, false).mT : makeInput([m, k], seed, false);
        const b = tB ? makeInput([n, k], seed + 3, false).mT : makeInput([k, n], seed + 3, false);
        const got = matmul(a, b);
        const want = refMatmul(fromTensor(a), fromTensor(b));
        expectWithin(got, want, (i) => (k + 1) * EPS32 * want.scale[i]!, `matmul ${m}x${k}x${n} tA=${tA} tB=${tB}`);
      }),
      runs(2201, 30),
    );
  });
  it("inner dimensions that differ throw a ShapeError naming matmul", () => {
    fc.assert(
      fc.property(shapeArb(1, 3, 4), shapeArb(1, 3, 4), (sa, sb) => {
        const kA = sa[sa.length - 1]!;
        const kB = sb.length === 1 ? sb[0]! : sb[sb.length - 2]!;
        fc.pre(kA !== kB);
        let err: unknown;
        try {
          matmul(makeInput(sa, 1, false), makeInput(sb, 2, false));
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(ShapeError);
        expect((err as ShapeError).op).toBe("matmul");
      }),
      runs(2202, 100),
    );
  });
});
