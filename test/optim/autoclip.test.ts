/**
 * @file AutoClip (both published variants), its percentile and history, against hand-computed
 * thresholds; state-dict round trips.
 */
import { describe, expect, it } from "vitest";
import { AutoClip, SortedHistory, quantileSorted } from "@tapegrad/optim";
import { gradOf, gradParam, expectNear } from "./helpers.js";

/** One AutoClip step on a single one-element gradient `g` (its norm is |g|). */
function stepWith(ac: AutoClip, g: number): { out: number; threshold: number; coef: number } {
  const p = gradParam([g]);
  const r = ac.clip([p]);
  return { out: gradOf(p)[0]!, threshold: r.threshold, coef: r.coef };
}

describe("quantileSorted / SortedHistory", () => {
  it("linear interpolation between closest ranks (np.percentile, torch.quantile)", () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5); // pos 1.5 → 2 + 0.5·1
    expectNear(quantileSorted([1, 2, 3, 10], 0.1), 1.3, 1e-15); // pos 0.3 → 1 + 0.3·1
    expect(quantileSorted([5], 0.9)).toBe(5);
    expect(quantileSorted([1, 2], 1)).toBe(2);
    expect(quantileSorted([], 0.5)).toBeNaN();
    expect(() => quantileSorted([1], 1.5)).toThrow("quantileSorted: q must be in [0, 1] (got 1.5)");
  });
  it("keeps the last `limit` values (ring) and answers quantiles of them", () => {
    const h = new SortedHistory(3);
    for (const x of [5, 1, 3, 4]) h.push(x); // 5 is evicted
    expect(h.values()).toEqual([1, 3, 4]);
    expect(h.quantile(0.5)).toBe(3);
    h.push(0); // evicts 1
    expect(h.values()).toEqual([3, 4, 0]);
    expect(h.quantile(0)).toBe(0);
    expect(() => h.push(NaN)).toThrow("SortedHistory.push: value must be a number (got NaN)");
  });
});

describe("AutoClip, paper variant (default)", () => {
  it("defaults: 10th percentile of the full history, current norm included, global", () => {
    expect(new AutoClip().options).toEqual({ variant: "paper", percentile: 10, historyLength: Infinity, includeCurrent: true, scope: "global", eps: 1e-6 });
  });
  it("percentile 50 on norms 1, 3, 2, 10: thresholds 1, 2, 2, 2.5", () => {
    const ac = new AutoClip({ percentile: 50 });
    // step 1: history [1] → threshold 1; coef = 1/(1 + 1e-6) = 0.999999
    let s = stepWith(ac, 1);
    expect(s.threshold).toBe(1);
    expect(s.coef).toBe(Math.fround(1 / 1.000001)); // a float32 scalar
    // step 2: history [1, 3] → median 2; 3 · 2/(3 + 1e-6) = 1.9999993
    s = stepWith(ac, 3);
    expect(s.threshold).toBe(2);
    expectNear(s.out, (3 * 2) / 3.000001, 1e-7);
    // step 3: history [1, 3, 2] → sorted [1, 2, 3] → median 2; 2 · 2/(2 + 1e-6)
    s = stepWith(ac, -2);
    expect(s.threshold).toBe(2);
    expectNear(s.out, (-2 * 2) / 2.000001, 1e-7);
    // step 4: sorted [1, 2, 3, 10] → median 2.5; 10 · 2.5/(10 + 1e-6) = 2.4999998
    s = stepWith(ac, 10);
    expect(s.threshold).toBe(2.5);
    expectNear(s.out, (10 * 2.5) / 10.000001, 1e-7);
  });
  it("default 10th percentile on the same history [1, 3, 2, 10]: 1 + 0.3·(2 − 1) = 1.3", () => {
    const ac = new AutoClip();
    for (const g of [1, 3, 2]) stepWith(ac, g);
    expectNear(stepWith(ac, 10).threshold, 1.3, 1e-15);
  });
  it("a non-finite norm is neither recorded nor acted on", () => {
    const ac = new AutoClip({ percentile: 50 });
    stepWith(ac, 1);
    const p = gradParam([NaN, 1]);
    const r = ac.clip([p]);
    expect(r.totalNorm).toBeNaN();
    expect(r.clipped).toBe(false);
    expect(gradOf(p)[1]).toBe(1);
    expect(ac.stateDict().global).toEqual([1]);
  });
});

describe("AutoClip, package variant (QuantileClip)", () => {
  it("defaults: quantile 0.9 of the last 1000, current excluded, per parameter", () => {
    expect(new AutoClip({ variant: "package" }).options).toEqual({ variant: "package", percentile: 90, historyLength: 1000, includeCurrent: false, scope: "perParameter", eps: 1e-6 });
  });
  it("per parameter: a sees 1, 4, 2 and b sees 10, 5, 20", () => {
    const ac = new AutoClip({ variant: "package" });
    const run = (ga: number, gb: number) => {
      const a = gradParam([ga]);
      const b = gradParam([gb]);
      const r = ac.clip([a, b]);
      return { a: gradOf(a)[0]!, b: gradOf(b)[0]!, r };
    };
    // step 1: empty histories → thresholds Infinity → unchanged
    let s = run(1, 10);
    expect(s.r.detail!.thresholds).toEqual([Infinity, Infinity]);
    expect([s.a, s.b]).toEqual([1, 10]);
    // step 2: a: q0.9([1]) = 1, 4 → 4·1/(4 + 1e-6); b: q0.9([10]) = 10 ≥ 5 → unchanged
    s = run(4, 5);
    expect(s.r.detail!.thresholds).toEqual([1, 10]);
    expectNear(s.a, 4 / 4.000001, 1e-7);
    expect(s.b).toBe(5);
    // step 3: a: [1, 4] → 1 + 0.9·3 = 3.7 ≥ 2 → unchanged; b: [5, 10] → 5 + 0.9·5 = 9.5 < 20
    s = run(2, 20);
    expectNear(s.r.detail!.thresholds[0]!, 3.7, 1e-15);
    expectNear(s.r.detail!.thresholds[1]!, 9.5, 1e-15);
    expect(s.a).toBe(2);
    expectNear(s.b, (20 * 9.5) / 20.000001, 1e-7);
    expect(s.r.clipped).toBe(true);
  });
  it("history ring of length 2, global scope: norms 1, 5, 3, 100", () => {
    const ac = new AutoClip({ variant: "package", scope: "global", historyLength: 2 });
    expect(stepWith(ac, 1).threshold).toBe(Infinity); // then history [1]
    expect(stepWith(ac, 5).threshold).toBe(1); // then [1, 5]
    expectNear(stepWith(ac, 3).threshold, 4.6, 1e-15); // 1 + 0.9·4; then [5, 3]
    const s = stepWith(ac, 100); // sorted [3, 5] → 3 + 0.9·2 = 4.8
    expectNear(s.threshold, 4.8, 1e-15);
    expectNear(s.out, (100 * 4.8) / 100.000001, 1e-7);
    expect(ac.stateDict().global).toEqual([3, 100]);
  });
});

describe("AutoClip state", () => {
  it("stateDict/loadStateDict continue the same thresholds; reset forgets", () => {
    const a = new AutoClip({ percentile: 50 });
    for (const g of [1, 3, 2]) stepWith(a, g);
    const b = new AutoClip({ percentile: 50 });
    b.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())));
    expect(stepWith(b, 10).threshold).toBe(stepWith(a, 10).threshold);
    a.reset();
    expect(a.stateDict()).toEqual({ global: [], perParameter: {} });
  });
  it("rejects malformed states and options", () => {
    expect(() => new AutoClip().loadStateDict({ global: [NaN] })).toThrow(/AutoClip.loadStateDict: "global" must be an array of numbers/);
    expect(() => new AutoClip().loadStateDict({ global: [], perParameter: { x: [1] } })).toThrow(/perParameter\["x"\]/);
    expect(() => new AutoClip({ percentile: 101 })).toThrow("AutoClip: percentile must be in [0, 100] (got 101)");
    expect(() => new AutoClip({ historyLength: 0 })).toThrow("AutoClip: historyLength must be a positive integer or Infinity (got 0)");
    expect(() => new AutoClip({ variant: "v2" as never })).toThrow(/AutoClip: variant must be one of "paper", "package"/);
  });
});
