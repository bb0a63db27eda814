/**
 * @module @tapegrad/optim
 * @file Public surface of `@tapegrad/optim`: optimizers with PyTorch-exact update rules, the
 * complete gradient-clipping toolkit (as in-place functions and as composable transforms), hooks,
 * per-step telemetry, state dicts and learning-rate schedules.
 *
 * @example
 * ```ts
 * import { AdamW, clipByGlobalNorm, LRScheduler, cosineAnnealingLr } from "@tapegrad/optim";
 * const opt = new AdamW(params, { lr: 3e-4, clip: clipByGlobalNorm(1.0), history: 1000 });
 * const sched = new LRScheduler(opt, cosineAnnealingLr({ tMax: 10_000 }));
 * opt.zeroGrad(); loss.backward(); opt.step(); sched.step();
 * opt.lastStats; // { preClipNorm, postClipNorm, coef, clipped, nonFiniteCount, skipped, ... }
 * ```
 */
export { NonFiniteGradientError } from "./errors.js";
export { type ParamsLike, type GradBatch, gatherGrads } from "./params.js";
export { normOf, countNonzero, countNonFinite } from "./norms.js";
export {
  type ClipCompat, type NonFinitePolicy, type ClipNormOptions, type ClipNormResult,
  CLIP_COMPATS, NON_FINITE_POLICIES, clipCoefficient, getTotalNorm, clipGradsWithNorm, clipGradNorm,
} from "./clip-norm.js";
export { type ClipValueSpec, type ClipValueResult, clipGradValue } from "./clip-value.js";
export { type PerTensorClipOptions, type PerTensorClipResult, perTensorCoefficient, clipGradNormPerTensor } from "./clip-per-tensor.js";
export { type UnitAxis, type AgcOptions, type AgcTensorStats, type AgcResult, unitwiseNorms, adaptiveGradClip } from "./agc.js";
export { type BlockRmsResult, clipGradBlockRms } from "./block-rms.js";
export { quantileSorted, SortedHistory } from "./history.js";
export { type AutoClipVariant, type AutoClipOptions, type AutoClipResult, AutoClip } from "./autoclip.js";
export { type ZClipOptions, type ZClipResult, ZClip } from "./zclip.js";
export { type GradTransform, type TransformReport, applyTransform, chain } from "./transform.js";
export {
  type Scheduled, clipByValue, clipByGlobalNorm, clipByNormPerTensor, clipByAgc, clipByBlockRms, zeroNans, autoClip, zClip,
} from "./transforms.js";
export { type StepStats, type SkipReason } from "./telemetry.js";
export { type OptimizerStateDict, type ParamState, type StateSpec } from "./state-dict.js";
export {
  Optimizer, type OptimizerConfig, type ParamGroup, type ParamGroupInput, type ParamsInput, type StepPreHook, type StepPostHook,
} from "./optimizer.js";
export { SGD, type SGDOptions, SGD_DEFAULTS } from "./sgd.js";
export { Adam, AdamW, AdamCore, type AdamOptions, ADAM_DEFAULTS, ADAMW_DEFAULTS } from "./adam.js";
export { RMSprop, type RMSpropOptions, RMSPROP_DEFAULTS } from "./rmsprop.js";
export {
  type Schedule, constantLr, stepLr, multiStepLr, exponentialLr, cosineAnnealingLr, linearLr, linearWarmup, lambdaLr, chainSchedules, sequentialLr,
} from "./schedule.js";
export { LRScheduler, type HasParamGroups } from "./scheduler.js";
