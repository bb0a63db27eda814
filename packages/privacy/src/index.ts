/**
 * @module @tapegrad/privacy
 * @file `@tapegrad/privacy`: differentially private training (DP-SGD, Abadi et al. 2016) with
 * Opacus's conventions — the RDP privacy accountant, noise calibration and Poisson sampling
 * (per-example clipping and the private optimizer follow in issue 16).
 *
 * @example
 * ```ts
 * import { RDPAccountant, getNoiseMultiplier } from "@tapegrad/privacy";
 * const sigma = getNoiseMultiplier({ targetEpsilon: 3, delta: 1e-5, sampleRate: 256 / 60000, epochs: 10 });
 * const acc = new RDPAccountant();
 * acc.step({ noiseMultiplier: sigma, sampleRate: 256 / 60000 });
 * acc.getEpsilon(1e-5);
 * ```
 */
export { erfc, logErfc, binom, logBinom, logAdd, logSub } from "./special.js";
export { type PrivacySpent, rdpStep, computeRdp, epsilonPerAlpha, getPrivacySpent } from "./rdp.js";
export { type AccountantPhase, type AccountantState, DEFAULT_ALPHAS, RDPAccountant } from "./accountant.js";
export { type NoiseMultiplierOptions, type NoiseCalibration, MAX_SIGMA, calibrateNoiseMultiplier, getNoiseMultiplier } from "./calibrate.js";
