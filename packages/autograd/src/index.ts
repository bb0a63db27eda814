/**
 * @module @tapegrad/autograd
 * @file Public surface of `@tapegrad/autograd`: `Var`, the tape (`backward`, hooks, `noGrad`),
 * differentiable ops with forward and backward side by side, losses, and the functional API
 * (`grad`, `valueAndGrad`, `gradients`, `gradcheck`, `defineOp`).
 *
 * @example
 * ```ts
 * import { variable, constant, matmul, add, relu, crossEntropy } from "@tapegrad/autograd";
 * const w = variable(randn([784, 10]), { name: "w" });
 * const loss = crossEntropy(matmul(constant(x), w), labels);
 * loss.backward();
 * w.grad; // Tensor [784, 10]
 * ```
 */
export { Var, Node, variable, constant, noGrad, enableGrad, isGradEnabled, type GradHook, type PostAccumulateGradHook, type RemovableHandle } from "./var.js";
export { apply, toVar, type VarLike } from "./apply.js";
export { type OpRule, type BackwardCtx, type Saved, RegionGrad, GRAD_WRITTEN, type GradWritten, type NoAttrs, type RuleAttrs } from "./rule.js";
export { sumToShape, type BackwardOptions } from "./backward.js";
export { backward, gradients, grad, valueAndGrad, defineOp, type GradOptions } from "./functional.js";
export { gradcheck, type GradcheckOptions, type GradcheckResult, type GradcheckMismatch } from "./gradcheck.js";
export { OP_NAMES, type OpName, type OpAttrs, type OpRuleTable, opRules } from "./rules.js";
export { add, sub, mul, div, pow, maximum, minimum, neg } from "./ops/arith.js";
export { exp, log, sqrt, abs, tanh, sigmoid, relu, square, reciprocal, sin, cos, log1p, expm1, leakyRelu, gelu, softplus, clamp, powScalar } from "./ops/unary.js";
export { matmul, linear } from "./ops/linalg.js";
export { reshape, flatten, permute, transpose, broadcastTo, slice, narrow, select, squeeze, unsqueeze, concat, stack, split, indexSelect, embedding, gather, where } from "./ops/movement.js";
export { sum, mean, max, min, logsumexp, type ReduceAttrs } from "./ops/reduce.js";
export { softmax, logSoftmax } from "./ops/softmax.js";
export { crossEntropy, nllLoss, bceWithLogits, klDiv, reduceLoss, type Reduction, type KLReduction, type CrossEntropyOptions } from "./ops/loss.js";
export { conv2d, conv1d, convTranspose2d, maxPool2d, avgPool2d, adaptiveAvgPool2d, type ConvAttrs, type Conv1dAttrs, type ConvTransposeAttrs, type AdaptiveAttrs } from "./ops/conv.js";
export { mseLoss, l1Loss, huberLoss, variance, std, dropout, layerNorm } from "./ops/composite.js";
export { batchNorm, groupNorm, instanceNorm, type BatchNormOptions, type BatchNormAttrs, type GroupNormAttrs } from "./ops/norm.js";
export { perSampleGrads, PerSampleGrads, type PerSampleOptions, type UnsupportedUse } from "./per-sample/backward.js";
export { perSampleRules, type PerSampleRule, type PerSampleCtx, type PerSampleOp } from "./per-sample/rules.js";
export type { PerSampleUse } from "./per-sample/use.js";
