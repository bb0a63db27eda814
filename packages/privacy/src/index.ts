/**
 * @file `@tapegrad/privacy`: differentially private training (DP-SGD, Abadi et al. 2016) with
 * Opacus's conventions — the RDP privacy accountant, noise calibration and Poisson sampling
 * (per-example clipping and the private optimizer follow in issue 16).
 */
export {};
