/**
 * @file The RDP accountant, its helpers and the noise calibration against every `rdp_accountant`,
 * `noise_multiplier_calibration` and `rdp_helpers` case of `dp/dp.json` (Opacus v1.5.4's
 * conventions), with the file's tolerances; plus the accountant's step merging, state dict and
 * the errors on bad input.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_ALPHAS, RDPAccountant, computeRdp, getNoiseMultiplier, getPrivacySpent, binom, rdpStep } from "@tapegrad/privacy";
import { goldenDir } from "../golden/dir.js";
import type { CaseResult } from "../golden/schema.js";
import { type AccountantFile, runCalibrationCase, runHelperCase, runRdpCase } from "../golden/dp/accountant.js";

interface Case { name: string; kind: string; [key: string]: unknown }
const file = JSON.parse(readFileSync(join(goldenDir(), "dp", "dp.json"), "utf8")) as { rdp_default_alphas: number[]; cases: Case[] };
const ofKind = <T extends Case>(kind: string): T[] => file.cases.filter((c) => c.kind === kind) as T[];
const rdpCases = ofKind("rdp_accountant");
const calibCases = ofKind("noise_multiplier_calibration");
const helperCases = ofKind("rdp_helpers");

describe("dp.json accountant cases", () => {
  it("has the accountant cases", () => {
    expect(rdpCases.length).toBeGreaterThan(0);
    expect(calibCases.length).toBeGreaterThan(0);
    expect(helperCases.length).toBeGreaterThan(0);
  });

  it("DEFAULT_ALPHAS equals the file's rdp_default_alphas exactly", () => {
    expect([...DEFAULT_ALPHAS]).toEqual(file.rdp_default_alphas);
    expect([...RDPAccountant.DEFAULT_ALPHAS]).toEqual(file.rdp_default_alphas);
  });
});

// Every accountant case of dp/dp.json through the golden handlers (test/golden/dp/accountant.ts),
// which check ε, the best order (exactly), the per-order RDP and ε vectors, the calibration's σ,
// ε and evaluation count, and the helpers, with the file's tolerances.
const RUNNERS: Record<string, (c: never, f: AccountantFile) => CaseResult> = {
  rdp_accountant: runRdpCase, noise_multiplier_calibration: runCalibrationCase, rdp_helpers: runHelperCase,
};
for (const [kind, run] of Object.entries(RUNNERS)) {
  describe(kind, () => {
    for (const c of ofKind<Case>(kind)) {
      it(c.name, () => {
        const r = run(c as never, file as unknown as AccountantFile);
        expect(r.message ?? "").toBe("");
        expect(r.status).toBe("passed");
      });
    }
  });
}

describe("RDPAccountant", () => {
  it("merges consecutive identical steps and starts a new phase on change", () => {
    const acc = new RDPAccountant();
    expect(acc.getPrivacySpent(1e-5)).toEqual({ epsilon: 0, bestAlpha: 0 });
    for (let t = 0; t < 3; t++) acc.step({ noiseMultiplier: 1, sampleRate: 0.01 });
    acc.step({ noiseMultiplier: 2, sampleRate: 0.01 });
    acc.step({ noiseMultiplier: 2, sampleRate: 0.02 });
    acc.step({ noiseMultiplier: 1, sampleRate: 0.01 });
    expect(acc.history).toEqual([
      { noiseMultiplier: 1, sampleRate: 0.01, steps: 3 },
      { noiseMultiplier: 2, sampleRate: 0.01, steps: 1 },
      { noiseMultiplier: 2, sampleRate: 0.02, steps: 1 },
      { noiseMultiplier: 1, sampleRate: 0.01, steps: 1 },
    ]);
    expect(acc.steps).toBe(6);
  });

  it("stepping equals loading the merged history; stateDict round-trips", () => {
    const a = new RDPAccountant();
    for (let t = 0; t < 50; t++) a.step({ noiseMultiplier: 1.1, sampleRate: 0.004 });
    const b = new RDPAccountant();
    b.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())));
    expect(b.history).toEqual([{ noiseMultiplier: 1.1, sampleRate: 0.004, steps: 50 }]);
    expect(b.getEpsilon(1e-5)).toBe(a.getEpsilon(1e-5));
    const s = a.stateDict();
    s.history[0]!.steps = 1; // a copy, not the live history
    expect(a.history[0]!.steps).toBe(50);
  });
});

describe("errors", () => {
  it("names the function and the bad value", () => {
    const acc = new RDPAccountant();
    expect(() => acc.step({ noiseMultiplier: -1, sampleRate: 0.1 })).toThrow(/RDPAccountant\.step.*sigma.*-1/);
    expect(() => acc.step({ noiseMultiplier: 1, sampleRate: 1.5 })).toThrow(/RDPAccountant\.step.*q.*1\.5/);
    expect(() => acc.step({ noiseMultiplier: 1, sampleRate: -0.1 })).toThrow(/q.*-0\.1/);
    acc.step({ noiseMultiplier: 1, sampleRate: 0.1 });
    expect(() => acc.getEpsilon(0)).toThrow(/delta.*\(0, 1\).*0/);
    expect(() => acc.getEpsilon(1)).toThrow(/delta/);
    expect(() => acc.getEpsilon(1e-5, [2, 1])).toThrow(/order.*1/);
    expect(() => computeRdp(0.1, -0.5, 10, [2])).toThrow(/computeRdp.*-0\.5/);
    expect(() => computeRdp(2, 1, 10, [2])).toThrow(/computeRdp.*q.*2/);
    expect(() => computeRdp(0.1, 1, 1.5, [2])).toThrow(/computeRdp.*steps.*1\.5/);
    expect(() => computeRdp(0.1, 1, 1, [NaN])).toThrow(/computeRdp.*NaN/);
    expect(() => getPrivacySpent({ orders: [2, 3], rdp: [1], delta: 1e-5 })).toThrow(/same length/);
    expect(() => getPrivacySpent({ orders: [2], rdp: [1], delta: 2 })).toThrow(/delta.*2/);
    expect(() => binom(2.5, -1)).toThrow(/binom.*-1/);
    expect(() => acc.loadStateDict({ mechanism: "rdp", history: [{ noiseMultiplier: -2, sampleRate: 0.1, steps: 1 }] })).toThrow(/-2/);
  });

  it("getNoiseMultiplier rejects bad input and unreachable targets", () => {
    const ok = { targetEpsilon: 1, delta: 1e-5, sampleRate: 0.01, steps: 100 };
    expect(() => getNoiseMultiplier({ ...ok, delta: 0 })).toThrow(/getNoiseMultiplier.*delta/);
    expect(() => getNoiseMultiplier({ ...ok, sampleRate: 0 })).toThrow(/getNoiseMultiplier.*\(0, 1\].*0/);
    expect(() => getNoiseMultiplier({ ...ok, sampleRate: 1.2 })).toThrow(/1\.2/);
    expect(() => getNoiseMultiplier({ ...ok, targetEpsilon: -1 })).toThrow(/targetEpsilon.*-1/);
    expect(() => getNoiseMultiplier({ ...ok, epochs: 2 })).toThrow(/exactly one of steps and epochs/);
    expect(() => getNoiseMultiplier({ targetEpsilon: 1, delta: 1e-5, sampleRate: 0.01 })).toThrow(/exactly one/);
    // With delta 1e-5 the conversion term alone is ~0.103 at order 63: eps 0.05 is out of reach.
    expect(() => getNoiseMultiplier({ ...ok, targetEpsilon: 0.05 })).toThrow(/getNoiseMultiplier.*too low.*0\.05/);
  });

  it("edge cases: q = 0, sigma = 0, q = 1", () => {
    expect(rdpStep(0, 0, 2)).toBe(0);
    expect(rdpStep(0.5, 0, 2)).toBe(Infinity);
    expect(rdpStep(1, 2, 3)).toBe(3 / 8);
    expect(computeRdp(0.5, 0, 0, [2, 2.5]).every((v) => Number.isNaN(v))).toBe(true);
    expect(getPrivacySpent({ orders: [2, 3], rdp: [NaN, NaN], delta: 1e-5 })).toEqual({ epsilon: Infinity, bestAlpha: NaN });
  });
});
