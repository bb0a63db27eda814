/**
 * @module @tapegrad/optim
 * @file Public surface of `@tapegrad/optim`: optimizers with PyTorch-exact update rules, the
 * complete gradient-clipping toolkit (in-place functions `clipGrad*` / `zeroNanGrads`, each with
 * its optimizer stage at `f.transform(...)`, the stateful `AutoClip` / `ZClip`, all returning a
 * `ClipResult`), hooks, per-step telemetry, state dicts and learning-rate schedules.
 *
 * @example
 * ```ts
 * import { AdamW, clipGradNorm, LRScheduler, cosineAnnealingLr } from "@tapegrad/optim";
 * const opt = new AdamW(params, { lr: 3e-4, clip: clipGradNorm.transform(1.0), history: 1000 });
 * const sched = new LRScheduler(opt, cosineAnnealingLr({ tMax: 10_000 }));
 * opt.zeroGrad(); loss.backward(); opt.step(); sched.step();
 * opt.lastStats; // { preClipNorm, postClipNorm, coef, clipped, nonFiniteCount, skipped, ... }
 * ```
 */
export { NonFiniteGradientError } from "./errors.js";
export { type ParamsLike, type GradBatch, gatherGrads } from "./params.js";
export { normOf, countNonzero, countNonFinite } from "./norms.js";
export { type ClipResult, type ClipResultWith, type GradTransform, applyTransform, chain } from "./transform.js";
export { type Scheduled } from "./transforms.js";
export {
  type ClipCompat, type NonFinitePolicy, type ClipNormOptions, type ClipWithNormOptions, type GetTotalNormOptions,
  CLIP_COMPATS, NON_FINITE_POLICIES, clipCoefficient, getTotalNorm, clipGradsWithNorm, clipGradNorm,
} from "./clip-norm.js";
export { type ClipValueSpec, type ClipValueDetail, type ZeroNanGradsOptions, clipGradValue, zeroNanGrads } from "./clip-value.js";
export { type PerTensorClipOptions, type PerTensorClipDetail, perTensorCoefficient, clipGradNormPerTensor } from "./clip-per-tensor.js";
export { type UnitAxis, type AgcOptions, type AgcTensorStats, type AgcDetail, unitwiseNorms, clipGradAgc } from "./agc.js";
export { type BlockRmsDetail, clipGradBlockRms } from "./block-rms.js";
export { quantileSorted, SortedHistory } from "./history.js";
export { type AutoClipVariant, type AutoClipOptions, type AutoClipDetail, AutoClip } from "./autoclip.js";
export { type ZClipOptions, type ZClipDetail, ZClip } from "./zclip.js";
export { type StepStats, type SkipReason } from "./telemetry.js";
export { type OptimizerStateDict, type ParamState, type StateSpec } from "./state-dict.js";
export {
  Optimizer, type OptimizerConfig, type ParamGroup, type ParamGroupInput, type ParamsInput, type StepPreHook, type StepPostHook,
} from "./optimizer.js";
export { SGD, type SGDOptions, type SgdConfig, SGD_DEFAULTS, sgdRule } from "./sgd.js";
export { Adam, AdamW, AdamCore, type AdamOptions, type AdamConfig, ADAM_DEFAULTS, ADAMW_DEFAULTS, adamRule } from "./adam.js";
export { RMSprop, type RMSpropOptions, type RmspropConfig, RMSPROP_DEFAULTS, rmspropRule } from "./rmsprop.js";
export { Adagrad, type AdagradOptions, ADAGRAD_DEFAULTS, adagradRule } from "./adagrad.js";
export { Adadelta, type AdadeltaOptions, ADADELTA_DEFAULTS, adadeltaRule } from "./adadelta.js";
export { Adamax, type AdamaxOptions, ADAMAX_DEFAULTS, adamaxRule } from "./adamax.js";
export { NAdam, type NAdamOptions, type NadamConfig, NADAM_DEFAULTS, nadamRule } from "./nadam.js";
export { RAdam, type RAdamOptions, type RadamConfig, RADAM_DEFAULTS, radamRule, radamRectification } from "./radam.js";
export { Lion, type LionOptions, LION_DEFAULTS, lionRule } from "./lion.js";
export {
  type Schedule, constantLr, stepLr, multiStepLr, exponentialLr, cosineAnnealingLr, linearLr, linearWarmup, lambdaLr, chainSchedules, sequentialLr,
} from "./schedule.js";
export { LRScheduler, type HasParamGroups } from "./scheduler.js";
export {
  LRSchedulerBase, type SchedulableGroup, type SchedulableOptimizer, type SchedulerStateDict, type MomentumSlot,
} from "./lr-scheduler-base.js";
export { LinearLR, ConstantLR, ExponentialLR, PolynomialLR, CosineAnnealingLR } from "./lr-chainable.js";
export { CosineAnnealingWarmRestarts } from "./warm-restarts.js";
export { OneCycleLR, type OneCycleLROptions } from "./one-cycle.js";
export { CyclicLR, type CyclicLROptions, CYCLIC_MODES } from "./cyclic.js";
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions, type PlateauState } from "./plateau.js";
export { SequentialLR, ChainedScheduler } from "./lr-combine.js";
