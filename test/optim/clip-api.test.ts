/**
 * @file The clipping vocabulary as a whole: every stateless function `f` and its optimizer stage
 * `f.transform(...)` (same arguments minus `params`) edit gradients to the same bits and report
 * the same `ClipResult`; every function, `.clip()` and transform returns a `ClipResult` with the
 * documented fields, and `numClipped` counts elements, tensors or units as documented.
 */
import { describe, expect, it } from "vitest";
import { Rng, Tensor } from "@tapegrad/tensor";
import { variable, type Var } from "@tapegrad/autograd";
import {
  AutoClip, SGD, ZClip, chain, clipGradAgc, clipGradBlockRms, clipGradNorm, clipGradNormPerTensor, clipGradsWithNorm, clipGradValue,
  zeroNanGrads, type ClipResult, type GradTransform, type ParamsLike,
} from "@tapegrad/optim";
import { gradParam, param } from "./helpers.js";

/** Parameters of several layouts with random values and gradients. */
function model(seed: number): Var[] {
  const rng = new Rng(seed);
  const shapes: [string, number[]][] = [["body.weight", [4, 3]], ["body.bias", [4]], ["conv.weight", [2, 3, 2, 2]], ["head.weight", [2, 4]], ["scale", []]];
  return shapes.map(([name, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = variable(new Tensor(Float32Array.from({ length: n }, () => rng.normal() * 0.5), shape), { name });
    v.grad = new Tensor(Float32Array.from({ length: n }, () => rng.normal() * 2), shape);
    return v;
  });
}

/** Puts NaN and ±Infinity into some gradients. */
function withSpecials(ps: Var[]): Var[] {
  const g = ps[0]!.grad!.data;
  g[1] = NaN;
  g[5] = Infinity;
  ps[2]!.grad!.data[3] = -Infinity;
  ps[3]!.grad!.data[0] = NaN;
  return ps;
}

const bits = (ps: readonly Var[]) => ps.map((p) => Array.from(new Uint32Array(Float32Array.from(p.grad!.data).buffer)));

/** A stage that records the gradients it sees (right after the stage under test). */
function capture(into: number[][][]): GradTransform {
  return {
    name: "capture",
    apply(batch) {
      into.push(batch.grads.map((g) => Array.from(new Uint32Array(Float32Array.from(g).buffer))));
      return { name: "capture", clipped: false, numClipped: 0, nonFiniteCount: 0, skipped: false };
    },
  };
}

interface Case {
  label: string;
  fn: (ps: ParamsLike) => ClipResult;
  transform: () => GradTransform;
  specials?: boolean;
}

const include = (p: Var) => p.name !== "head.weight";
const cases: Case[] = [
  { label: "clipGradNorm(1)", fn: (ps) => clipGradNorm(ps, 1), transform: () => clipGradNorm.transform(1) },
  { label: "clipGradNorm(1, optax)", fn: (ps) => clipGradNorm(ps, 1, { compat: "optax" }), transform: () => clipGradNorm.transform(1, { compat: "optax" }) },
  { label: "clipGradNorm(0.5, p = ∞)", fn: (ps) => clipGradNorm(ps, 0.5, { normType: Infinity }), transform: () => clipGradNorm.transform(0.5, { normType: Infinity }) },
  { label: "clipGradNorm(2, p = 3, tf)", fn: (ps) => clipGradNorm(ps, 2, { normType: 3, compat: "tf" }), transform: () => clipGradNorm.transform(2, { normType: 3, compat: "tf" }) },
  { label: "clipGradNorm(1, zero)", fn: (ps) => clipGradNorm(ps, 1, { nonFinite: "zero" }), transform: () => clipGradNorm.transform(1, { nonFinite: "zero" }), specials: true },
  { label: "clipGradsWithNorm(1, 7.5)", fn: (ps) => clipGradsWithNorm(ps, 1, 7.5), transform: () => clipGradsWithNorm.transform(1, 7.5) },
  { label: "clipGradsWithNorm(1, 7.5, keras)", fn: (ps) => clipGradsWithNorm(ps, 1, 7.5, { compat: "keras" }), transform: () => clipGradsWithNorm.transform(1, () => 7.5, { compat: "keras" }) },
  { label: "clipGradValue(0.1)", fn: (ps) => clipGradValue(ps, 0.1), transform: () => clipGradValue.transform(0.1) },
  { label: "clipGradValue({min, max})", fn: (ps) => clipGradValue(ps, { min: -0.05, max: 0.2 }), transform: () => clipGradValue.transform({ min: -0.05, max: 0.2 }) },
  { label: "clipGradValue(0.1) with NaN/±Inf", fn: (ps) => clipGradValue(ps, 0.1), transform: () => clipGradValue.transform(0.1), specials: true },
  { label: "clipGradNormPerTensor(1)", fn: (ps) => clipGradNormPerTensor(ps, 1), transform: () => clipGradNormPerTensor.transform(1) },
  { label: "clipGradNormPerTensor(0.5, keras)", fn: (ps) => clipGradNormPerTensor(ps, 0.5, { compat: "keras" }), transform: () => clipGradNormPerTensor.transform(0.5, { compat: "keras" }) },
  { label: "clipGradAgc(0.01)", fn: (ps) => clipGradAgc(ps as Var[], 0.01), transform: () => clipGradAgc.transform(0.01) },
  { label: "clipGradAgc(0.05, unitAxis -1)", fn: (ps) => clipGradAgc(ps as Var[], 0.05, { unitAxis: -1 }), transform: () => clipGradAgc.transform(0.05, { unitAxis: -1 }) },
  { label: "clipGradAgc(0.01, include)", fn: (ps) => clipGradAgc(ps as Var[], 0.01, { include }), transform: () => clipGradAgc.transform(0.01, { include }) },
  { label: "clipGradBlockRms(1)", fn: (ps) => clipGradBlockRms(ps, 1), transform: () => clipGradBlockRms.transform(1) },
  { label: "clipGradBlockRms(0.3)", fn: (ps) => clipGradBlockRms(ps, 0.3), transform: () => clipGradBlockRms.transform(0.3) },
  { label: "zeroNanGrads()", fn: (ps) => zeroNanGrads(ps), transform: () => zeroNanGrads.transform(), specials: true },
  { label: "zeroNanGrads({ infinities })", fn: (ps) => zeroNanGrads(ps, { infinities: true }), transform: () => zeroNanGrads.transform({ infinities: true }), specials: true },
];

describe("f.transform(...) as an optimizer stage edits gradients exactly like f(params, ...)", () => {
  for (const c of cases) {
    it(c.label, () => {
      const make = () => (c.specials ? withSpecials(model(5)) : model(5));
      const direct = make();
      const fnResult = c.fn(direct);
      const staged = make();
      const seen: number[][][] = [];
      const opt = new SGD(staged, { lr: 0.1, clip: [c.transform(), capture(seen)] });
      opt.step();
      expect(seen).toHaveLength(1);
      expect(seen[0]).toEqual(bits(direct)); // the same bits
      expect(opt.lastStats!.transforms[0]).toEqual(fnResult); // the same ClipResult
      expect(fnResult.clipped).toBe(true); // every case does clip
    });
  }
  it("scheduled arguments resolve at the optimizer step", () => {
    const direct = model(6);
    clipGradNormPerTensor(direct, 0.5);
    const staged = model(6);
    const seen: number[][][] = [];
    new SGD(staged, { lr: 0, clip: [clipGradNormPerTensor.transform((step) => step / 2), capture(seen)] }).step();
    expect(seen[0]).toEqual(bits(direct));
  });
});

/** The fields every ClipResult has, and the optional ones a method documents. */
const OPTIONAL = ["totalNorm", "coef", "threshold", "detail"] as const;
function expectClipResult(r: ClipResult, name: string, present: readonly (typeof OPTIONAL)[number][]): void {
  expect(r.name).toBe(name);
  expect(typeof r.clipped).toBe("boolean");
  expect(Number.isInteger(r.numClipped) && r.numClipped >= 0, `numClipped ${r.numClipped}`).toBe(true);
  expect(Number.isInteger(r.nonFiniteCount) && r.nonFiniteCount >= 0, `nonFiniteCount ${r.nonFiniteCount}`).toBe(true);
  expect(typeof r.skipped).toBe("boolean");
  for (const k of OPTIONAL) expect(r[k] !== undefined, `${name}.${k}`).toBe(present.includes(k));
  for (const k of ["totalNorm", "coef", "threshold"] as const) if (r[k] !== undefined) expect(typeof r[k]).toBe("number");
  expect(Object.keys(r).every((k) => ["name", "clipped", "numClipped", "nonFiniteCount", "skipped", ...OPTIONAL].includes(k)), Object.keys(r).join()).toBe(true);
}

describe("ClipResult: one result type", () => {
  const documented: [string, (ps: Var[]) => ClipResult, () => GradTransform, (typeof OPTIONAL)[number][], (r: ClipResult) => void][] = [
    ["clipGradNorm", (ps) => clipGradNorm(ps, 1), () => clipGradNorm.transform(1), ["totalNorm", "coef", "threshold"], () => {}],
    ["clipGradsWithNorm", (ps) => clipGradsWithNorm(ps, 1, 9), () => clipGradsWithNorm.transform(1, 9), ["totalNorm", "coef", "threshold"], () => {}],
    ["clipGradValue", (ps) => clipGradValue(ps, 0.1), () => clipGradValue.transform(0.1), ["detail"], (r) => expect(r.detail).toEqual({ min: Math.fround(-0.1), max: Math.fround(0.1) })],
    ["zeroNanGrads", (ps) => zeroNanGrads(ps), () => zeroNanGrads.transform(), [], () => {}],
    ["clipGradNormPerTensor", (ps) => clipGradNormPerTensor(ps, 1), () => clipGradNormPerTensor.transform(1), ["threshold", "detail"], (r) => expect(Object.keys(r.detail as object)).toEqual(["norms", "coefs"])],
    ["clipGradAgc", (ps) => clipGradAgc(ps, 0.01), () => clipGradAgc.transform(0.01), ["threshold", "detail"], (r) => expect(Object.keys(r.detail as object)).toEqual(["tensors"])],
    ["clipGradBlockRms", (ps) => clipGradBlockRms(ps, 1), () => clipGradBlockRms.transform(1), ["threshold", "detail"], (r) => expect(Object.keys(r.detail as object)).toEqual(["rms", "divisors"])],
    ["AutoClip", (ps) => new AutoClip().clip(ps), () => new AutoClip(), ["totalNorm", "coef", "threshold"], () => {}],
    ["AutoClip", (ps) => new AutoClip({ variant: "package" }).clip(ps), () => new AutoClip({ variant: "package" }), ["totalNorm", "coef", "threshold", "detail"], (r) => expect(Object.keys(r.detail as object)).toEqual(["indices", "norms", "thresholds", "coefs"])],
    ["ZClip", (ps) => new ZClip().clip(ps), () => new ZClip(), ["totalNorm", "coef", "threshold", "detail"], (r) => expect(Object.keys(r.detail as object)).toEqual(["warmup", "spike", "z", "mean", "std"])],
  ];
  for (const [name, fn, transform, present, checkDetail] of documented) {
    it(`${name}${present.includes("detail") && name === "AutoClip" ? " (per parameter)" : ""}: function/.clip() and transform (also in StepStats.transforms)`, () => {
      const r = fn(model(7));
      expectClipResult(r, name, present);
      checkDetail(r);
      const t = transform();
      expect(t.name).toBe(name);
      const opt = new SGD(model(7), { lr: 0.1, clip: t });
      opt.step();
      const s = opt.lastStats!.transforms[0]!;
      expectClipResult(s, name, present);
      checkDetail(s);
    });
  }
  it("chain: detail lists the inner results", () => {
    const r = new SGD(model(7), { lr: 0, clip: chain(clipGradValue.transform(1), clipGradNorm.transform(1)) });
    r.step();
    const s = r.lastStats!.transforms[0]!;
    expectClipResult(s, "chain(clipGradValue, clipGradNorm)", ["detail"]);
    expect((s.detail as ClipResult[]).map((x) => x.name)).toEqual(["clipGradValue", "clipGradNorm"]);
  });
});

describe("numClipped counts what each method documents", () => {
  // g1 = [3, 4] (norm 5), g2 = [0.1, -0.2] (norm 0.2236), g3 = [0, 0]
  const grads = () => [gradParam([3, 4]), gradParam([0.1, -0.2]), gradParam([0, 0])];
  it("elements: clipGradValue and zeroNanGrads", () => {
    expect(clipGradValue(grads(), 0.15).numClipped).toBe(3); // 3, 4, -0.2
    expect(zeroNanGrads([gradParam([NaN, NaN, Infinity])]).numClipped).toBe(2);
  });
  it("tensors: global norm (every gradient scaled), per-tensor norm, block-RMS, AutoClip, ZClip", () => {
    expect(clipGradNorm(grads(), 1).numClipped).toBe(3);
    expect(clipGradNorm(grads(), 100).numClipped).toBe(0);
    expect(clipGradsWithNorm(grads(), 1, 5).numClipped).toBe(3);
    expect(clipGradNormPerTensor(grads(), 1).numClipped).toBe(1);
    expect(clipGradBlockRms(grads(), 0.5).numClipped).toBe(1); // rms 3.54, 0.158, 0
    expect(new AutoClip({ percentile: 50 }).clip(grads()).numClipped).toBe(3); // threshold = its own norm → coef 5/(5 + 1e-6)
    expect(new ZClip({ warmupSteps: 5 }).clip(grads()).numClipped).toBe(3); // warm-up: clip to maxGradNorm 1
  });
  it("units: AGC counts output rows", () => {
    // W rows [1, 0], [0, 1], [1, 1]; G rows [1, 0] (> 0.1·1), [0, 0.01] (< 0.1), [1, 1] (> 0.1·√2)
    const w = param([1, 0, 0, 1, 1, 1], [1, 0, 0, 0.01, 1, 1], [3, 2]);
    const r = clipGradAgc(w, 0.1);
    expect(r.numClipped).toBe(2);
    expect(r.detail.tensors[0]!.numClipped).toBe(2);
  });
  it("nonFiniteCount: NaN/±Infinity elements seen", () => {
    const ps = () => [gradParam([NaN, 1]), gradParam([Infinity, -Infinity, 2])];
    expect(clipGradNorm(ps(), 1).nonFiniteCount).toBe(3);
    expect(clipGradValue(ps(), 1).nonFiniteCount).toBe(3);
    expect(clipGradNormPerTensor(ps(), 1).nonFiniteCount).toBe(3);
    expect(clipGradBlockRms(ps(), 1).nonFiniteCount).toBe(3);
    expect(zeroNanGrads(ps()).nonFiniteCount).toBe(3);
    expect(clipGradsWithNorm(ps(), 1, NaN).nonFiniteCount).toBe(3);
    expect(new AutoClip().clip(ps()).nonFiniteCount).toBe(3);
    expect(new ZClip().clip(ps()).nonFiniteCount).toBe(3);
    expect(clipGradAgc([param([1, 1], [NaN, 1], [2]), param([1], [Infinity], [1])], 0.1).nonFiniteCount).toBe(2);
  });
});

describe("AGC strided units (unitAxis -1) use a reused scratch buffer", () => {
  it("tensors of different sizes in one call give the same results as the transposed PyTorch layout", () => {
    // The same two weights, once [out, in] (contiguous units) and once transposed [in, out].
    const rng = new Rng(11);
    const mk = (rows: number, cols: number) => Array.from({ length: rows * cols }, () => rng.normal());
    const t = (a: number[], rows: number, cols: number) => Array.from({ length: a.length }, (_, k) => a[(k % rows) * cols + Math.floor(k / rows)]!);
    const [w1, g1, w2, g2] = [mk(3, 5), mk(3, 5), mk(6, 2), mk(6, 2)];
    const oi = [param(w1, g1, [3, 5]), param(w2, g2, [6, 2])];
    const io = [param(t(w1, 3, 5), t(g1, 3, 5), [5, 3]), param(t(w2, 6, 2), t(g2, 6, 2), [2, 6])];
    const a = clipGradAgc(oi, 0.05);
    const b = clipGradAgc(io, 0.05, { unitAxis: -1 });
    expect(a.numClipped).toBeGreaterThan(0);
    expect(b.detail.tensors.map((s) => Array.from(s!.gradNorms))).toEqual(a.detail.tensors.map((s) => Array.from(s!.gradNorms)));
    expect(Array.from(io[0]!.grad!.data)).toEqual(t(Array.from(oi[0]!.grad!.data), 3, 5));
    expect(Array.from(io[1]!.grad!.data)).toEqual(t(Array.from(oi[1]!.grad!.data), 6, 2));
  });
});
