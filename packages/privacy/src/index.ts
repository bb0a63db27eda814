/**
 * @module @tapegrad/privacy
 * @file `@tapegrad/privacy`: differentially private training (DP-SGD, Abadi et al. 2016) with
 * Opacus's conventions — the RDP privacy accountant, noise calibration, Poisson sampling, and the
 * DP-SGD aggregation (per-example clipping and summing, Gaussian noise, scaling), the private
 * optimizer (`DPOptimizer`) and the one-call setup `makePrivate`. Per-sample gradients come from
 * autograd's `perSampleGrads`.
 *
 * @example
 * ```ts
 * import { RDPAccountant, addNoise, clipAndAccumulate, expectedBatchSize, getNoiseMultiplier, scaleGrad } from "@tapegrad/privacy";
 * const sigma = getNoiseMultiplier({ targetEpsilon: 3, delta: 1e-5, sampleRate: 256 / 60000, epochs: 10 });
 * const acc = new RDPAccountant();
 * acc.step({ noiseMultiplier: sigma, sampleRate: 256 / 60000 });
 * acc.getEpsilon(1e-5);
 * const clipped = clipAndAccumulate(perExampleGrads, { maxGradNorm: 1 });
 * const grads = scaleGrad(addNoise(clipped.summed, { noiseMultiplier: sigma, maxGradNorm: 1, rng }), {
 *   lossReduction: "mean", expectedBatchSize: expectedBatchSize(60000, 256 / 60000),
 * });
 * ```
 */
export { erfc, logErfc, binom, logBinom, logAdd, logSub } from "./special.js";
export { type PrivacySpent, rdpStep, computeRdp, epsilonPerAlpha, getPrivacySpent } from "./rdp.js";
export { type AccountantPhase, type AccountantState, DEFAULT_ALPHAS, RDPAccountant } from "./accountant.js";
export { type NoiseMultiplierOptions, type NoiseCalibration, MAX_SIGMA, calibrateNoiseMultiplier, getNoiseMultiplier } from "./calibrate.js";
export { type PerExampleGrad, type FlatClipResult, type PerLayerClipResult, type ClipOptions, CLIP_EPS, clipAndAccumulate } from "./clip.js";
export { type NoiseOptions, addNoise } from "./noise.js";
export { type ScaleOptions, gradDivisor, scaleGrad } from "./scale.js";
export { type PoissonOptions, expectedBatchSize, poissonSteps, poissonBatches } from "./poisson.js";
export { type DPOptimizerOptions, type DPStepStats, type BatchLoss, DPOptimizer } from "./optimizer.js";
export { type MakePrivateOptions, type PrivateTraining, makePrivate } from "./private.js";
