/**
 * @module @tapegrad/nn
 * @file Public surface of `@tapegrad/nn`: `Module` and layers with PyTorch's layouts, parameter
 * initialisers, losses (incl. knowledge distillation) and data utilities.
 *
 * @example
 * ```ts
 * import { Sequential, Linear, ReLU, crossEntropy } from "@tapegrad/nn";
 * const model = new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 10));
 * const loss = crossEntropy(model.forward(x), labels);
 * ```
 */
export { Module, type StateDict, type LoadStateDictResult } from "./module.js";
export { StateDictError, type SizeMismatch } from "./state-dict-error.js";
export { registerParametrization, removeParametrization, getParametrization, parametrizationsOf, isParametrized, type Parametrization, type ParametrizationSpec } from "./parametrize.js";
export { Linear, type LinearOptions } from "./layers/linear.js";
export { Sequential, ReLU, Tanh, Sigmoid, GELU, LeakyReLU, Softplus, Identity, Flatten, Unflatten, Dropout, Embedding, LayerNorm, type UnaryModule } from "./layers/basic.js";
export { Conv1d, Conv2d, ConvTranspose2d, type Conv1dLayerOptions, type Conv2dLayerOptions, type ConvTranspose2dLayerOptions } from "./layers/conv.js";
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, type MaxPool2dLayerOptions, type AvgPool2dLayerOptions } from "./layers/pool.js";
export { RNN, LSTM, GRU, type RecurrentOptions, type RecurrentOutput } from "./layers/recurrent.js";
export * as init from "./init.js";
export { distillationLoss, type DistillationOptions, crossEntropy, nllLoss, bceWithLogits, klDiv, mseLoss, l1Loss, huberLoss, type Reduction, type KLReduction, type CrossEntropyOptions } from "./losses.js";
export { DataLoader, type Batch, type LoaderOptions, type LoaderState } from "./data/loader.js";
export { decodeIdx, readIdx, gunzip, isGzip, idxToImages, idxToLabels, type IdxArray, type IdxType } from "./data/idx.js";
export { BatchNorm1d, BatchNorm2d, GroupNorm, type BatchNormOptions } from "./layers/norm.js";
export { Dropout2d } from "./layers/dropout2d.js";
