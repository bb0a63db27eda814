/**
 * @file ZClip against hand-computed statistics: warm-up, z-scores, the adaptive-scaling, mean and
 * percentile thresholds, the static cap, skipUpdateOnSpike, and state round trips.
 */
import { describe, expect, it } from "vitest";
import { ZClip } from "@tapegrad/optim";
import { expectNear, gradOf, gradParam } from "./helpers.js";

/** One ZClip step on a one-element gradient `g`: the result's fields and its `detail` flattened, plus the clipped value. */
function stepWith(z: ZClip, g: number) {
  const p = gradParam([g]);
  const r = z.clip([p]);
  return { ...r, ...r.detail, out: gradOf(p)[0]! };
}

// Warm-up of 3 steps on norms 1, 2, 3: μ = 2, σ² = ((1−2)² + 0 + (3−2)²)/3 = 2/3 (population).
const MU = 2;
const VAR = 2 / 3;

describe("ZClip", () => {
  it("has the published defaults", () => {
    expect(new ZClip().options).toEqual({
      alpha: 0.97, zThresh: 2.5, maxGradNorm: 1.0, eps: 1e-6, warmupSteps: 25, mode: "zscore", clipOption: "adaptiveScaling", clipFactor: 1.0, skipUpdateOnSpike: false,
    });
  });

  it("warm-up collects norms, then initialises μ and σ² (population)", () => {
    const z = new ZClip({ warmupSteps: 3, maxGradNorm: null });
    for (const g of [1, 2, 3]) {
      const r = stepWith(z, g);
      expect(r).toMatchObject({ warmup: true, clipped: false, out: g });
    }
    const s = z.stateDict();
    expect(s.initialized).toBe(true);
    expect(s.mean).toBe(MU);
    expectNear(s.variance as number, VAR, 1e-15);
  });

  it("during warm-up it clips to maxGradNorm like clip_grad_norm_ (coef = max/(g + 1e-6))", () => {
    const z = new ZClip({ warmupSteps: 3 }); // maxGradNorm 1
    const r = stepWith(z, 4);
    expect(r.coef).toBe(Math.fround(1 / 4.000001)); // a float32 scalar
    expectNear(r.out, 4 / 4.000001, 1e-7);
    expect(r.threshold).toBe(1);
  });

  it("no spike: EMA update with the norm itself", () => {
    const z = new ZClip({ warmupSteps: 3, maxGradNorm: null });
    for (const g of [1, 2, 3]) stepWith(z, g);
    // g = 2.5: z = (2.5 − 2)/(√(2/3) + 1e-6) = 0.5/0.8164976 = 0.61237 < 2.5 → no spike
    const r = stepWith(z, 2.5);
    expectNear(r.z, 0.5 / (Math.sqrt(VAR) + 1e-6), 1e-12);
    expect(r).toMatchObject({ spike: false, clipped: false, out: 2.5, threshold: 2.5 });
    // μ = 0.97·2 + 0.03·2.5 = 2.015; σ² = 0.97·(2/3) + 0.03·(2.5 − 2.015)² = 0.6536734…
    expectNear(r.mean, 2.015, 1e-12);
    expectNear(r.std ** 2, 0.97 * VAR + 0.03 * 0.485 ** 2, 1e-12);
  });

  it("a spike is clipped to μ + zThresh²·σ/z (adaptive scaling) and that threshold enters the EMA", () => {
    const z = new ZClip({ warmupSteps: 3, maxGradNorm: null });
    for (const g of [1, 2, 3, 2.5]) stepWith(z, g);
    const mu = 2.015;
    const sd = Math.sqrt(0.97 * VAR + 0.03 * 0.485 ** 2); // 0.808532
    // g = 10: z = (10 − 2.015)/(0.808532 + 1e-6) = 9.8759; threshold = 2.015 + 6.25·0.808532/9.8759 = 2.52668
    const zs = (10 - mu) / (sd + 1e-6);
    const thr = mu + (2.5 * sd) / (zs / 2.5);
    const r = stepWith(z, 10);
    expect(r.spike).toBe(true);
    expectNear(r.z, zs, 1e-12);
    expectNear(r.threshold, thr, 1e-12);
    expectNear(r.out, (10 * thr) / (10 + 1e-6), 1e-6); // ≈ 2.52668
    // μ ← 0.97·2.015 + 0.03·thr; σ² ← 0.97σ² + 0.03(thr − μ_new)²
    const mu2 = 0.97 * mu + 0.03 * thr;
    expectNear(r.mean, mu2, 1e-12);
    expectNear(r.std ** 2, 0.97 * sd * sd + 0.03 * (thr - mu2) ** 2, 1e-12);
  });

  it("skipUpdateOnSpike keeps μ and σ² on spikes (the optimizer step still happens)", () => {
    const z = new ZClip({ warmupSteps: 3, maxGradNorm: null, skipUpdateOnSpike: true });
    for (const g of [1, 2, 3]) stepWith(z, g);
    const r = stepWith(z, 100);
    expect(r.spike).toBe(true);
    expect(r.clipped).toBe(true);
    expect(r.mean).toBe(MU);
  });

  it('clipOption "mean" clips spikes to μ', () => {
    const z = new ZClip({ warmupSteps: 3, maxGradNorm: null, clipOption: "mean" });
    for (const g of [1, 2, 3]) stepWith(z, g);
    const r = stepWith(z, 100); // z = 98/0.8165 ≫ 2.5 → threshold μ = 2
    expect(r.threshold).toBe(2);
    expectNear(r.out, 200 / (100 + 1e-6), 1e-7);
  });

  it("clipFactor scales the adaptive threshold: (μ + zThresh²σ/z)·clipFactor", () => {
    const run = (clipFactor: number) => {
      const z = new ZClip({ warmupSteps: 3, maxGradNorm: null, clipFactor });
      for (const g of [1, 2, 3]) stepWith(z, g);
      return stepWith(z, 10).threshold;
    };
    expectNear(run(0.5), 0.5 * run(1), 1e-12);
  });

  it('mode "percentile" clips to μ + zThresh·σ when the norm exceeds it', () => {
    const z = new ZClip({ warmupSteps: 3, maxGradNorm: null, mode: "percentile" });
    for (const g of [1, 2, 3]) stepWith(z, g);
    const t = MU + 2.5 * Math.sqrt(VAR); // 2 + 2.5·0.8165 = 4.0412
    const r = stepWith(z, 5);
    expect(r.spike).toBe(true);
    expectNear(r.threshold, t, 1e-12);
    expectNear(r.out, (5 * t) / 5.000001, 1e-7);
    expect(stepWith(z, 3).spike).toBe(false);
  });

  it("the cap: with no spike, norms above maxGradNorm are clipped to it", () => {
    const z = new ZClip({ warmupSteps: 2, maxGradNorm: 2, zThresh: 100 });
    stepWith(z, 1);
    stepWith(z, 3); // warm-up: 3 clipped to 2·3/3.000001
    const r = stepWith(z, 2.5); // no spike (zThresh 100), threshold min(2.5, 2) = 2
    expect(r.threshold).toBe(2);
    expectNear(r.out, (2.5 * 2) / 2.500001, 1e-7);
  });

  it("non-finite norms leave gradients and statistics alone", () => {
    const z = new ZClip({ warmupSteps: 3, maxGradNorm: null });
    for (const g of [1, 2, 3]) stepWith(z, g);
    const p = gradParam([Infinity, 1]);
    expect(z.clip([p]).clipped).toBe(false);
    expect(gradOf(p)).toEqual([Infinity, 1]);
    expect(z.stateDict().mean).toBe(MU);
  });

  it("state round trip (JSON) and reset", () => {
    const a = new ZClip({ warmupSteps: 3, maxGradNorm: null });
    for (const g of [1, 2, 3, 2.5]) stepWith(a, g);
    const b = new ZClip({ warmupSteps: 3, maxGradNorm: null });
    b.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())));
    expect(stepWith(b, 10).out).toBe(stepWith(a, 10).out);
    a.reset();
    const fresh = new ZClip();
    fresh.loadStateDict(JSON.parse(JSON.stringify(a.stateDict()))); // NaN → null before init
    expect(fresh.stateDict()).toMatchObject({ initialized: false, buffer: [] });
  });

  it("validates options and states", () => {
    expect(() => new ZClip({ alpha: 1.5 })).toThrow("ZClip: alpha must be in [0, 1] (got 1.5)");
    expect(() => new ZClip({ zThresh: 0 })).toThrow("ZClip: zThresh must be > 0 (got 0)");
    expect(() => new ZClip({ warmupSteps: 2.5 })).toThrow("ZClip: warmupSteps must be an integer (got 2.5)");
    expect(() => new ZClip({ mode: "iqr" as never })).toThrow(/ZClip: mode must be one of "zscore", "percentile"/);
    expect(() => new ZClip().loadStateDict({ buffer: [], initialized: true, mean: NaN, variance: 1 })).toThrow(/ZClip.loadStateDict: mean must be a finite number/);
  });
});
