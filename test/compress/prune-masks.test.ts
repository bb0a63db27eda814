/**
 * @file The pure pruning layer (typed arrays, no modules) and the schedules: Python rounding of
 * amounts, structured norms and candidates, global pruning as L1 on the concatenation, the cubic
 * sparsity ramp reaching the final sparsity exactly in a prune-and-fine-tune loop.
 */
import { describe, expect, it } from "vitest";
import * as A from "@tapegrad/autograd";
import { Rng } from "@tapegrad/tensor";
import { Linear, ReLU, Sequential, crossEntropy } from "@tapegrad/nn";
import { SGD } from "@tapegrad/optim";
import {
  CubicSparsitySchedule,
  channelNorms,
  countZeros,
  cubicSparsity,
  customMask,
  globalUnstructured,
  globalUnstructuredMasks,
  l1Unstructured,
  l1UnstructuredMask,
  lnStructuredMask,
  pruneMask,
  pyFloat,
  roundHalfEven,
  selectSmallest,
  sparsityReport,
  unitsToPrune,
} from "@tapegrad/compress";
import { randn } from "@tapegrad/tensor";

describe("amounts", () => {
  it("round half to even like Python's round(), on the float64 product", () => {
    expect([0.5, 1.5, 2.5, 3.5, 4.5, -0.5, -1.5, 2.4999999999999996, 7].map(roundHalfEven)).toEqual([0, 2, 2, 4, 4, 0, -2, 2, 7]);
    expect(unitsToPrune("f", 0.25, 10)).toBe(2);
    expect(unitsToPrune("f", 0.1, 15)).toBe(2); // 1.5000000000000002 -> 2
    expect(unitsToPrune("f", 0.5, 9)).toBe(4);
    expect(unitsToPrune("f", 0.3, 24)).toBe(7); // 7.199999999999999
    expect(unitsToPrune("f", 1, 6)).toBe(6); // a plain 1 is 100 %
    expect(unitsToPrune("f", { count: 1 }, 6)).toBe(1);
    expect(unitsToPrune("f", 0, 6)).toBe(0);
  });
  it("print floats as Python does in messages", () => {
    expect([1, 1.5, -0.1, 1e-5, 2e16, NaN, Infinity].map(pyFloat)).toEqual(["1.0", "1.5", "-0.1", "1e-05", "2e+16", "nan", "inf"]);
  });
});

describe("pure masks", () => {
  it("selectSmallest marks k entries, lower index first among ties", () => {
    const out = new Uint8Array(6);
    expect(selectSmallest(Float64Array.of(2, 1, 3, 1, 1, 0), 6, 3, out)).toBe(1);
    expect(Array.from(out)).toEqual([0, 1, 0, 1, 0, 1]);
    expect(() => selectSmallest(Float64Array.of(1), 1, 2, new Uint8Array(1))).toThrow("selectSmallest: k must be an integer in [0, 1] (got 2)");
  });

  it("l1 candidates are the entries still at mask 1; inputs are not modified", () => {
    const w = Float32Array.of(0.1, -0.2, 0.3, -0.4, 0.5, 0.6);
    const mask = Float32Array.of(0, 1, 1, 1, 1, 1);
    const out = l1UnstructuredMask(w, mask, 0.5); // round(2.5) = 2 of the 5 candidates
    expect(Array.from(out)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(Array.from(mask)).toEqual([0, 1, 1, 1, 1, 1]);
    expect(Array.from(w)).toEqual(Array.from(Float32Array.of(0.1, -0.2, 0.3, -0.4, 0.5, 0.6)));
  });

  it("channel norms for p = 1, 2, 3, +-Infinity, 0 along any dim", () => {
    const s = Float32Array.of(3, -4, 0, 1, 2, -2); // [2, 3]
    expect(Array.from(channelNorms(s, [2, 3], 0, 2))).toEqual([5, 3]);
    expect(Array.from(channelNorms(s, [2, 3], -1, 1))).toEqual([4, 6, 2]);
    expect(Array.from(channelNorms(s, [2, 3], 1, Infinity))).toEqual([3, 4, 2]);
    expect(Array.from(channelNorms(s, [2, 3], 0, -Infinity))).toEqual([0, 1]);
    expect(Array.from(channelNorms(s, [2, 3], 0, 0))).toEqual([2, 3]);
    expect(channelNorms(s, [2, 3], 0, 3)[0]).toBeCloseTo(Math.cbrt(27 + 64), 12);
  });

  it("lnStructured: candidates are channels with a non-zero mask entry; norms include pruned zeros", () => {
    // [3, 2] weight: rows (dim 0) with norms 1.41, 0.1, 2.83
    const w = Float32Array.of(1, 1, 0.1, 0, 2, 2);
    expect(Array.from(lnStructuredMask(w, [3, 2], null, { count: 1 }, 2, 0))).toEqual([1, 1, 0, 0, 1, 1]);
    // row 1 already fully pruned: 0.5 of the remaining 2 rows = 1 more row (row 0)
    const m = Float32Array.of(1, 1, 0, 0, 1, 1);
    const scores = Float32Array.of(1, 1, 0, 0, 2, 2);
    expect(Array.from(lnStructuredMask(scores, [3, 2], m, 0.5, 2, 0))).toEqual([0, 0, 0, 0, 1, 1]);
    // k = 0 leaves the mask as it was, even partially pruned channels
    const partial = Float32Array.of(0, 1, 1, 1, 1, 1);
    expect(Array.from(lnStructuredMask(w, [3, 2], partial, 0.1, 2, 0))).toEqual([0, 1, 1, 1, 1, 1]);
    expect(() => lnStructuredMask(w, [3, 2], m, { count: 3 }, 2, 0)).toThrow("lnStructured: amount=3 should be smaller than the number of parameters to prune=2");
  });

  it("global pruning is L1 on the concatenation of the candidates", () => {
    const a = Float32Array.of(0.1, 5, 0.2), b = Float32Array.of(3, 0.05, 4, 0.3);
    const [ma, mb] = globalUnstructuredMasks([a, b], [null, null], { count: 3 });
    const cat = l1UnstructuredMask(Float32Array.of(...a, ...b), null, { count: 3 });
    expect([...ma!, ...mb!]).toEqual(Array.from(cat));
    expect(countZeros(ma!) + countZeros(mb!)).toBe(3);
    expect(Array.from(customMask(Float32Array.of(1, 0, 1), [true, true, false]))).toEqual([1, 0, 0]);
  });
});

describe("cubic sparsity schedule", () => {
  it("follows s_t = s_f + (s_i - s_f)(1 - (t - t0)/(n dt))^3 at the pruning steps", () => {
    const s = new CubicSparsitySchedule({ finalSparsity: 0.9, initialSparsity: 0.1, beginStep: 10, numSteps: 4, frequency: 5 });
    expect(s.endStep).toBe(30);
    expect(s.sparsityAt(9)).toBe(0);
    expect(s.sparsityAt(10)).toBeCloseTo(0.1, 15);
    expect(s.sparsityAt(14)).toBeCloseTo(0.1, 15); // holds until the next pruning step
    expect(s.sparsityAt(15)).toBeCloseTo(0.9 - 0.8 * 0.75 ** 3, 15);
    expect(s.sparsityAt(25)).toBeCloseTo(0.9 - 0.8 * 0.25 ** 3, 15);
    expect(s.sparsityAt(30)).toBe(0.9);
    expect(s.sparsityAt(1000)).toBe(0.9);
    expect([10, 12, 15, 30, 35].map((t) => s.isPruningStep(t))).toEqual([true, false, true, true, false]);
    expect(cubicSparsity(5, { finalSparsity: 0.9, numSteps: 10 })).toBeCloseTo(0.7875, 15);
    expect(() => new CubicSparsitySchedule({ finalSparsity: 1.2, numSteps: 3 })).toThrow("CubicSparsitySchedule: finalSparsity must be in [0, 1] (got 1.2)");
    expect(() => new CubicSparsitySchedule({ finalSparsity: 0.5, initialSparsity: 0.6, numSteps: 3 })).toThrow("initialSparsity must be in [0, finalSparsity=0.5] (got 0.6)");
    expect(() => new CubicSparsitySchedule({ finalSparsity: 0.5, numSteps: 0 })).toThrow("numSteps must be an integer >= 1 (got 0)");
  });

  it("a prune-and-fine-tune loop reaches the final sparsity exactly (per tensor and global)", () => {
    const fc1 = new Linear(7, 13, { rng: new Rng(1) }), fc2 = new Linear(13, 3, { rng: new Rng(2) });
    const model = new Sequential(fc1, new ReLU(), fc2);
    const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
    const x = randn([12, 7], new Rng(3)), y = Int32Array.from({ length: 12 }, (_, i) => i % 3);
    const sched = new CubicSparsitySchedule({ finalSparsity: 0.87, numSteps: 6, frequency: 2 });
    const n1 = 91, n2 = 39;
    const history: number[] = [];
    const zerosIn = (l: Linear) => {
      const m = pruneMask(l, "weight");
      return m === null ? 0 : countZeros(m.toFloat32Array());
    };
    for (let step = 0; step <= sched.endStep; step++) {
      if (sched.isPruningStep(step)) {
        l1Unstructured(fc1, "weight", sched.amountAt(step, n1, zerosIn(fc1)));
        globalUnstructured([[fc2, "weight"]], sched.amountAt(step, n2, zerosIn(fc2))); // a one-tensor global group
        history.push(zerosIn(fc1));
        expect(zerosIn(fc1)).toBe(sched.targetCount(step, n1));
        expect(zerosIn(fc2)).toBe(sched.targetCount(step, n2));
      }
      opt.zeroGrad();
      crossEntropy(model.forward(A.constant(x)), y).backward();
      opt.step();
    }
    expect(history.length).toBe(7);
    expect(history.every((v, i) => i === 0 || v >= history[i - 1]!)).toBe(true);
    expect(history.at(-1)).toBe(roundHalfEven(0.87 * n1)); // 79
    expect(countZeros(pruneMask(fc2, "weight")!.toFloat32Array())).toBe(roundHalfEven(0.87 * n2)); // 34
    const r = sparsityReport(model, { only: "pruned" });
    expect(r.parameters.map((p) => p.masked)).toEqual([79, 34]);
    // fractions of the remaining entries compose to the same targets up to rounding
    let remaining = 1;
    for (let t = 0; t <= sched.endStep; t += 2) remaining *= 1 - sched.fractionAt(t);
    expect(1 - remaining).toBeCloseTo(0.87, 12);
  });
});
