/**
 * @file Golden cases of `dp/dp.json` for the privacy accountant: `rdp_accountant` (ε, best order,
 * per-order RDP and ε), `noise_multiplier_calibration` and `rdp_helpers`, with the file's
 * float64 tolerances.
 */
import {
  RDPAccountant, binom, calibrateNoiseMultiplier, computeRdp, epsilonPerAlpha, getNoiseMultiplier, getPrivacySpent, logErfc, rdpStep,
} from "@tapegrad/privacy";
import { Checks, compareNumber, compareValues, num, type CaseResult, type GTensor, type GoldenCase, type GoldenFile, type Tolerance } from "../schema.js";

type Num = number | string;
interface Phase { noise_multiplier: number; sample_rate: number; steps: number }
interface RdpCase extends GoldenCase {
  history: Phase[]; delta: number; alphas: "default" | number[];
  expected: { epsilon: Num; best_alpha: Num; rdp?: GTensor; epsilon_per_alpha?: GTensor };
}
interface CalibCase extends GoldenCase {
  target_epsilon: number; target_delta: number; sample_rate: number; epochs: number | null; steps: number; epsilon_tolerance: number;
  expected: { noise_multiplier: number; epsilon: number; accountant_evaluations: number };
}
interface HelperCase extends GoldenCase {
  log_erfc: { x: number[]; expected: Num[] };
  binom: { alpha: number[]; k: number[]; expected: Num[] };
  compute_rdp: { q: number[]; noise_multiplier: number[]; alpha: number[]; expected: Num[] };
}

/** The file's accountant-side tolerances and default orders. */
export interface AccountantFile extends GoldenFile {
  rdp_default_alphas: number[];
  accountant_tolerance: Tolerance;
  rdp_vector_tolerance: Tolerance;
  helper_tolerance: Tolerance;
}

const vector = (t: GTensor): number[] => t.data.map(num);
const exact = (label: string, actual: number, expected: number): string | null =>
  Object.is(actual, expected) || actual === expected ? null : `${label}: got ${actual} expected exactly ${expected}`;

/** An `rdp_accountant` case: ε and best order from the history, the per-order vectors. */
export function runRdpCase(c: RdpCase, file: AccountantFile): CaseResult {
  const checks = new Checks();
  const orders = c.alphas === "default" ? file.rdp_default_alphas : c.alphas;
  const acc = new RDPAccountant();
  acc.loadStateDict({ mechanism: "rdp", history: c.history.map((p) => ({ noiseMultiplier: p.noise_multiplier, sampleRate: p.sample_rate, steps: p.steps })) });
  const spent = c.alphas === "default" ? acc.getPrivacySpent(c.delta) : acc.getPrivacySpent(c.delta, orders);
  checks.add(compareNumber("epsilon", spent.epsilon, c.expected.epsilon, file.accountant_tolerance));
  checks.add(exact("getEpsilon", acc.getEpsilon(c.delta, orders), spent.epsilon));
  const best = num(c.expected.best_alpha);
  checks.add(Number.isNaN(best) ? (Number.isNaN(spent.bestAlpha) ? null : `best_alpha: got ${spent.bestAlpha} expected NaN`) : exact("best_alpha", spent.bestAlpha, best));
  if (c.expected.rdp) {
    const rdp = acc.getRdp(orders);
    checks.add(compareValues("rdp", rdp, vector(c.expected.rdp), file.rdp_vector_tolerance));
    const total = new Float64Array(orders.length);
    for (const p of c.history) computeRdp(p.sample_rate, p.noise_multiplier, p.steps, orders).forEach((v, k) => (total[k] = total[k]! + v));
    checks.add(compareValues("rdp (computeRdp per phase)", total, vector(c.expected.rdp), file.rdp_vector_tolerance));
    total.forEach((v, k) => checks.add(exact(`rdp[${k}]: the sum of computeRdp per phase`, v, rdp[k]!)));
    checks.add(exact("epsilon from the rdp vector", getPrivacySpent({ orders, rdp, delta: c.delta }).epsilon, spent.epsilon));
  }
  if (c.expected.epsilon_per_alpha) {
    const eps = epsilonPerAlpha({ orders, rdp: acc.getRdp(orders), delta: c.delta });
    checks.add(compareValues("epsilon_per_alpha", eps, vector(c.expected.epsilon_per_alpha), file.rdp_vector_tolerance));
  }
  return checks.result(c.name);
}

/** A `noise_multiplier_calibration` case: σ, its ε and the number of accountant evaluations. */
export function runCalibrationCase(c: CalibCase, file: AccountantFile): CaseResult {
  const checks = new Checks();
  const base = { targetEpsilon: c.target_epsilon, delta: c.target_delta, sampleRate: c.sample_rate, epsilonTolerance: c.epsilon_tolerance };
  const r = calibrateNoiseMultiplier(c.epochs !== null ? { ...base, epochs: c.epochs } : { ...base, steps: c.steps });
  checks.add(exact("steps", r.steps, c.steps));
  checks.add(compareNumber("noise_multiplier", r.noiseMultiplier, c.expected.noise_multiplier, file.accountant_tolerance));
  checks.add(compareNumber("epsilon", r.epsilon, c.expected.epsilon, file.accountant_tolerance));
  checks.add(exact("accountant_evaluations", r.accountantEvaluations, c.expected.accountant_evaluations));
  checks.add(exact("getNoiseMultiplier", getNoiseMultiplier({ ...base, steps: c.steps }), r.noiseMultiplier));
  return checks.result(c.name);
}

/** An `rdp_helpers` case: `logErfc`, `binom` and the single-step RDP. */
export function runHelperCase(c: HelperCase, file: AccountantFile): CaseResult {
  const checks = new Checks();
  c.log_erfc.x.forEach((x, i) => checks.add(compareNumber(`logErfc(${x})`, logErfc(x), c.log_erfc.expected[i]!, file.helper_tolerance)));
  c.binom.alpha.forEach((a, i) => checks.add(compareNumber(`binom(${a}, ${c.binom.k[i]})`, binom(a, c.binom.k[i]!), c.binom.expected[i]!, file.helper_tolerance)));
  c.compute_rdp.q.forEach((q, i) => {
    const sigma = c.compute_rdp.noise_multiplier[i]!, a = c.compute_rdp.alpha[i]!;
    const what = `rdp(q=${q}, sigma=${sigma}, alpha=${a})`;
    checks.add(compareNumber(what, rdpStep(q, sigma, a), c.compute_rdp.expected[i]!, file.rdp_vector_tolerance));
    checks.add(compareNumber(`${what} via computeRdp`, computeRdp(q, sigma, 1, [a])[0]!, c.compute_rdp.expected[i]!, file.rdp_vector_tolerance));
  });
  return checks.result(c.name);
}
