/**
 * @file Noise calibration: the smallest noise multiplier σ (up to Opacus's bisection tolerance)
 * whose ε after the given steps is below a target (Opacus `accountants/utils.get_noise_multiplier`,
 * same bracketing and bisection, so the same dyadic σ).
 */
import { RDPAccountant } from "./accountant.js";
import { checkDelta } from "./validate.js";

/**
 * Opacus `MAX_SIGMA`: the bracketing gives up once σ exceeds it.
 *
 * @example
 * ```ts
 * MAX_SIGMA; // 1e6
 * ```
 * @throws never.
 */
export const MAX_SIGMA = 1e6;

/** Options of {@link getNoiseMultiplier} (exactly one of `steps` and `epochs`). */
export interface NoiseMultiplierOptions {
  /** The ε to stay below (> 0). */
  targetEpsilon: number;
  /** δ in (0, 1). */
  delta: number;
  /** Poisson sampling rate q in (0, 1]. */
  sampleRate: number;
  /** Number of steps (a non-negative integer)… */
  steps?: number;
  /** …or of epochs: `steps = trunc(epochs / sampleRate)`. */
  epochs?: number;
  /** The accountant; only `"rdp"` is implemented. */
  accountant?: "rdp";
  /** Stop once `targetEpsilon - ε <= epsilonTolerance` (default 0.01). */
  epsilonTolerance?: number;
  /** RDP orders (default `DEFAULT_ALPHAS`). */
  alphas?: ArrayLike<number>;
}

/** The calibrated σ with the ε it gives and the search's cost. */
export interface NoiseCalibration {
  noiseMultiplier: number;
  /** ε at `noiseMultiplier`. */
  epsilon: number;
  /** The number of steps used (from `epochs` when given). */
  steps: number;
  /** Number of accountant evaluations the search made. */
  accountantEvaluations: number;
}

/**
 * {@link getNoiseMultiplier} with its details: ε at the returned σ, the steps and the number of
 * accountant evaluations.
 *
 * @example
 * ```ts
 * calibrateNoiseMultiplier({ targetEpsilon: 1, delta: 1e-5, sampleRate: 0.01, steps: 500 });
 * // { noiseMultiplier: 1.259765625, epsilon: 0.99846…, steps: 500, accountantEvaluations: 12 }
 * ```
 * @throws {RangeError} on bad input (see {@link getNoiseMultiplier}) or when no σ <= {@link MAX_SIGMA}
 * reaches the target ε.
 */
export function calibrateNoiseMultiplier(options: NoiseMultiplierOptions): NoiseCalibration {
  return calibrate("calibrateNoiseMultiplier", options);
}

/** {@link calibrateNoiseMultiplier}, with the name its errors carry. */
function calibrate(fn: string, options: NoiseMultiplierOptions): NoiseCalibration {
  if (options === null || typeof options !== "object") throw new TypeError(`${fn}: options must be an object (got ${options === null ? "null" : typeof options})`);
  const { targetEpsilon, delta, sampleRate, epochs, accountant = "rdp", epsilonTolerance = 0.01, alphas } = options;
  if (accountant !== "rdp") throw new RangeError(`${fn}: accountant ${JSON.stringify(accountant)} is not supported (only "rdp")`);
  if (!(targetEpsilon > 0) || !Number.isFinite(targetEpsilon)) {
    throw new RangeError(`${fn}: targetEpsilon must be a finite number > 0, got ${targetEpsilon}`);
  }
  checkDelta(fn, delta);
  if (!(sampleRate > 0 && sampleRate <= 1)) throw new RangeError(`${fn}: sample rate q must be in (0, 1], got ${sampleRate}`);
  if (!(epsilonTolerance > 0)) throw new RangeError(`${fn}: epsilonTolerance must be > 0, got ${epsilonTolerance}`);
  const hasSteps = options.steps !== undefined && options.steps !== null;
  const hasEpochs = epochs !== undefined && epochs !== null;
  if (hasSteps === hasEpochs) throw new RangeError(`${fn}: give exactly one of steps and epochs`);
  let steps: number;
  if (hasEpochs) {
    if (!(epochs! > 0) || !Number.isFinite(epochs!)) throw new RangeError(`${fn}: epochs must be a finite number > 0, got ${epochs}`);
    steps = Math.trunc(epochs! / sampleRate);
  } else {
    steps = options.steps!;
    if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`${fn}: steps must be a non-negative integer, got ${steps}`);
  }

  const acc = new RDPAccountant();
  let evaluations = 0;
  const epsilonAt = (sigma: number): number => {
    acc.history = [{ noiseMultiplier: sigma, sampleRate, steps }];
    evaluations++;
    return acc.getEpsilon(delta, alphas);
  };

  let sigmaLow = 0;
  let sigmaHigh = 10;
  let epsHigh = Infinity;
  while (epsHigh > targetEpsilon) {
    sigmaHigh = 2 * sigmaHigh;
    epsHigh = epsilonAt(sigmaHigh);
    if (sigmaHigh > MAX_SIGMA) {
      throw new RangeError(
        `${fn}: the privacy budget is too low: no noise multiplier up to ${MAX_SIGMA} reaches targetEpsilon = ${targetEpsilon} ` +
          `(epsilon at sigma = ${sigmaHigh} is ${epsHigh}; delta = ${delta}, sampleRate = ${sampleRate}, steps = ${steps})`,
      );
    }
  }
  while (targetEpsilon - epsHigh > epsilonTolerance) {
    const sigma = (sigmaLow + sigmaHigh) / 2;
    const eps = epsilonAt(sigma);
    if (eps < targetEpsilon) {
      sigmaHigh = sigma;
      epsHigh = eps;
    } else {
      sigmaLow = sigma;
    }
  }
  return { noiseMultiplier: sigmaHigh, epsilon: epsHigh, steps, accountantEvaluations: evaluations };
}

/**
 * The noise multiplier σ for a target (ε, δ) after `steps` (or `epochs`) steps at sample rate q,
 * exactly as Opacus `get_noise_multiplier`: double σ from 20 until ε(σ) <= target, then bisect on
 * [0, σ] until `target − ε <= epsilonTolerance`; returns the upper end.
 *
 * @example
 * ```ts
 * getNoiseMultiplier({ targetEpsilon: 3, delta: 1e-5, sampleRate: 256 / 60000, epochs: 10 }); // 0.7421875
 * ```
 * @throws {RangeError} when targetEpsilon is not > 0, δ is outside (0, 1), q is outside (0, 1],
 * both or neither of steps and epochs are given, epsilonTolerance <= 0, an unsupported accountant,
 * or no σ <= {@link MAX_SIGMA} reaches the target ε ("the privacy budget is too low").
 */
export function getNoiseMultiplier(options: NoiseMultiplierOptions): number {
  return calibrate("getNoiseMultiplier", options).noiseMultiplier;
}
