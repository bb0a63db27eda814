/**
 * @file The RDP accountant, its helpers and the noise calibration against every `rdp_accountant`,
 * `noise_multiplier_calibration` and `rdp_helpers` case of `dp/dp.json` (Opacus v1.5.4's
 * conventions), with the file's tolerances; plus the accountant's step merging, state dict and
 * the errors on bad input.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_ALPHAS, RDPAccountant, binom, calibrateNoiseMultiplier, computeRdp, epsilonPerAlpha, getNoiseMultiplier,
  getPrivacySpent, logErfc, rdpStep,
} from "@tapegrad/privacy";
import { goldenDir } from "../golden/dir.js";
import { num } from "../golden/schema.js";

type Num = number | string;
interface Tol { rtol: number; atol: number }
interface F64Tensor { dtype: string; shape: number[]; data: Num[] }
interface Phase { noise_multiplier: number; sample_rate: number; steps: number }
interface Case { name: string; kind: string; [key: string]: unknown }
interface RdpCase extends Case {
  history: Phase[];
  delta: number;
  alphas: "default" | number[];
  expected: { epsilon: Num; best_alpha: Num; relative_gap_to_second_best?: number; rdp?: F64Tensor; epsilon_per_alpha?: F64Tensor };
}
interface CalibCase extends Case {
  target_epsilon: number; target_delta: number; sample_rate: number; epochs: number | null; steps: number;
  epsilon_tolerance: number;
  expected: { noise_multiplier: number; epsilon: number; accountant_evaluations: number };
}
interface HelperCase extends Case {
  log_erfc: { x: number[]; expected: Num[] };
  binom: { alpha: number[]; k: number[]; expected: Num[] };
  compute_rdp: { q: number[]; noise_multiplier: number[]; alpha: number[]; expected: Num[] };
}

const file = JSON.parse(readFileSync(join(goldenDir(), "dp", "dp.json"), "utf8")) as {
  rdp_default_alphas: number[];
  accountant_tolerance: Tol;
  rdp_vector_tolerance: Tol;
  helper_tolerance: Tol;
  cases: Case[];
};


/** `|a - e| <= atol + rtol |e|`, with NaN == NaN and equal infinities matching. */
function close(actual: number, expected: number, tol: Tol): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (!Number.isFinite(expected)) return actual === expected;
  return Math.abs(actual - expected) <= tol.atol + tol.rtol * Math.abs(expected);
}

function expectClose(actual: number, expected: Num, tol: Tol, what: string): void {
  const e = num(expected);
  if (!close(actual, e, tol)) {
    expect.fail(`${what}: got ${actual}, expected ${e} (rtol ${tol.rtol}, atol ${tol.atol})`);
  }
}

function expectVector(actual: ArrayLike<number>, expected: F64Tensor, tol: Tol, what: string): void {
  expect(expected.dtype).toBe("float64");
  expect(actual.length).toBe(expected.shape[0]);
  for (let i = 0; i < actual.length; i++) expectClose(actual[i]!, expected.data[i]!, tol, `${what}[${i}]`);
}

const ofKind = <T extends Case>(kind: string): T[] => file.cases.filter((c) => c.kind === kind) as T[];
const rdpCases = ofKind<RdpCase>("rdp_accountant");
const calibCases = ofKind<CalibCase>("noise_multiplier_calibration");
const helperCases = ofKind<HelperCase>("rdp_helpers");

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

describe("rdp_accountant", () => {
  for (const c of rdpCases) {
    it(c.name, () => {
      const orders = c.alphas === "default" ? file.rdp_default_alphas : c.alphas;
      const acc = new RDPAccountant();
      acc.loadStateDict({ mechanism: "rdp", history: c.history.map((p) => ({ noiseMultiplier: p.noise_multiplier, sampleRate: p.sample_rate, steps: p.steps })) });
      const spent = c.alphas === "default" ? acc.getPrivacySpent(c.delta) : acc.getPrivacySpent(c.delta, orders);
      expectClose(spent.epsilon, c.expected.epsilon, file.accountant_tolerance, "epsilon");
      expect(acc.getEpsilon(c.delta, orders)).toBe(spent.epsilon);
      const bestAlpha = num(c.expected.best_alpha);
      if (Number.isNaN(bestAlpha)) expect(spent.bestAlpha).toBeNaN();
      else expect(spent.bestAlpha).toBe(bestAlpha); // exact: the gap to the second best is > 1e-5
      if (c.expected.rdp) {
        const rdp = acc.getRdp(orders);
        expectVector(rdp, c.expected.rdp, file.rdp_vector_tolerance, "rdp");
        // The per-phase sum from computeRdp directly, and the conversion from the returned vector.
        const total = new Float64Array(orders.length);
        for (const p of c.history) {
          const r = computeRdp(p.sample_rate, p.noise_multiplier, p.steps, orders);
          for (let k = 0; k < total.length; k++) total[k] = total[k]! + r[k]!;
        }
        expect(Array.from(total)).toEqual(Array.from(rdp));
        const fromVector = getPrivacySpent({ orders, rdp, delta: c.delta });
        expect(fromVector.epsilon).toBe(spent.epsilon);
      }
      if (c.expected.epsilon_per_alpha) {
        const eps = epsilonPerAlpha({ orders, rdp: acc.getRdp(orders), delta: c.delta });
        expectVector(eps, c.expected.epsilon_per_alpha, file.rdp_vector_tolerance, "epsilon_per_alpha");
      }
    });
  }
});

describe("noise_multiplier_calibration", () => {
  for (const c of calibCases) {
    it(c.name, () => {
      const base = { targetEpsilon: c.target_epsilon, delta: c.target_delta, sampleRate: c.sample_rate, epsilonTolerance: c.epsilon_tolerance };
      const r = calibrateNoiseMultiplier(c.epochs !== null ? { ...base, epochs: c.epochs } : { ...base, steps: c.steps });
      expect(r.steps).toBe(c.steps);
      expectClose(r.noiseMultiplier, c.expected.noise_multiplier, file.accountant_tolerance, "noise_multiplier");
      expectClose(r.epsilon, c.expected.epsilon, file.accountant_tolerance, "epsilon");
      expect(r.accountantEvaluations).toBe(c.expected.accountant_evaluations);
      // getNoiseMultiplier with the steps gives the same sigma.
      expect(getNoiseMultiplier({ ...base, steps: c.steps })).toBe(r.noiseMultiplier);
    });
  }
});

describe("rdp_helpers", () => {
  for (const c of helperCases) {
    it(`${c.name}: logErfc`, () => {
      c.log_erfc.x.forEach((x, i) => expectClose(logErfc(x), c.log_erfc.expected[i]!, file.helper_tolerance, `logErfc(${x})`));
    });
    it(`${c.name}: binom`, () => {
      c.binom.alpha.forEach((a, i) => {
        const k = c.binom.k[i]!;
        expectClose(binom(a, k), c.binom.expected[i]!, file.helper_tolerance, `binom(${a}, ${k})`);
      });
    });
    it(`${c.name}: compute_rdp`, () => {
      c.compute_rdp.q.forEach((q, i) => {
        const sigma = c.compute_rdp.noise_multiplier[i]!;
        const a = c.compute_rdp.alpha[i]!;
        const what = `rdp(q=${q}, sigma=${sigma}, alpha=${a})`;
        expectClose(rdpStep(q, sigma, a), c.compute_rdp.expected[i]!, file.rdp_vector_tolerance, what);
        expectClose(computeRdp(q, sigma, 1, [a])[0]!, c.compute_rdp.expected[i]!, file.rdp_vector_tolerance, what);
      });
    });
  }
});

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
