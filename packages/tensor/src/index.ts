/**
 * @module @tapegrad/tensor
 * @file Public surface of `@tapegrad/tensor`: float32 N-d tensors with copy-free views,
 * broadcasting elementwise math, reductions, softmax, matmul, indexing and a seeded RNG.
 *
 * @example
 * ```ts
 * import { tensor, matmul, add, sum, Rng, randn } from "@tapegrad/tensor";
 * const x = randn([4, 3], new Rng(0));
 * const y = add(matmul(x, tensor([[1], [2], [3]])), 1);
 * console.log(sum(y).item());
 * ```
 */
export { Tensor } from "./tensor.js";
export { ShapeError, internalError, fmt, assertArg } from "./errors.js";
export { type Shape, shapeSize, contiguousStrides, broadcastShapes, normalizeAxis, normalizeAxes, shapesEqual, checkShape } from "./shape.js";
export { type Nested } from "./format.js";
export { type TensorLike, tensor, zeros, ones, full, zerosLike, onesLike, fullLike, arange, linspace, eye, rand, randn, randint } from "./create.js";
export { Rng, defaultRng, manualSeed, type RngState } from "./random.js";
export {
  type TensorOrScalar, asTensor, binaryOp, add, sub, mul, div, pow, maximum, minimum, atan2,
  eq, ne, lt, le, gt, ge, where,
} from "./elementwise.js";
export {
  unaryOp, neg, exp, log, sqrt, rsqrt, abs, sign, tanh, sigmoid, relu, square, reciprocal, sin, cos,
  log1p, expm1, floor, ceil, round, trunc, isNaN, isFinite, isInf, logicalNot, leakyRelu, gelu,
  softplus, clamp, affine, copyInto,
} from "./unary.js";
export { type Axes, sum, mean, prod, max, min, argmax, argmin, argExtremeIndices, logsumexp, variance, std } from "./reduce.js";
export { softmax, logSoftmax } from "./softmax.js";
export { matmul } from "./matmul.js";
export { type LinearActivation, linear, linearWeightGrad, linearBiasGrad } from "./linear.js";
export { type Indices, toIndexArray, indexSelect, indexAdd, gather, scatterAdd, concat, stack, split, chunk } from "./indexing.js";
export { BinOp, UnOp, UNARY_KERNELS, BINARY_KERNELS } from "./map/elementwise-defs.js";
export { type GemmFn, gemmTs } from "./kernels/gemm.js";
export { type KernelSet, type MapBlockFn, type ReduceRowFn, jsKernels, kernels, useKernels, useDefaultKernels } from "./backend.js";
export { type WasmStatus, initWasm, initWasmSync, wasmStatus, simdSupported, relaxedSimdSupported } from "./wasm/runtime.js";
export { type WasmKernelOptions, wasmKernels } from "./wasm/kernels.js";
export { gemmWasm, gemmWasmOn } from "./wasm/gemm.js";
export { setNumThreads, numThreads, threadsReady } from "./wasm/threads/pool.js";
export { type AllocOptions, type MemoryStats, allocate, dispose, isReleased, isInKernelMemory, memoryStats, setMemoryBudget } from "./memory.js";
export { foreachSumSquares, foreachScale, foreachMap } from "./foreach.js";
export { MapOp, Expr, host, CONDITION_OPS } from "./map/expr.js";
export { type MapSignature, type MapInstr, MapKernel, mapKernel } from "./map/compile.js";
export { type HostName, type HostFunction, HOST_FUNCTIONS } from "./map/host.js";
export { ReduceKind } from "./kernels/reduce-row.js";
export { erf } from "./math.js";
export { addInto } from "./inplace.js";
export {
  conv2d, conv2dBackward, conv1d, conv1dBackward, convTranspose2d, convTranspose2dBackward,
  type Conv2dOptions, type Conv1dOptions, type ConvTranspose2dOptions, type ConvPadding, type Spatial2, type ConvNeeds, type ConvGrads,
} from "./conv.js";
export { convGeometry, convTransposeGeometry, conv1dAs2d, spatialPair, type ConvGeometry, type ConvTransposeGeometry } from "./conv-geometry.js";
export {
  maxPool2d, maxPool2dBackward, avgPool2d, avgPool2dBackward, adaptiveAvgPool2d, adaptiveAvgPool2dBackward,
  maxPool2dOutputShape, avgPool2dOutputShape,
  type MaxPool2dOptions, type AvgPool2dOptions,
} from "./pool.js";

// int8 GEMM (issue 14): quint8 × packed qint8 with int32 accumulation
export { type PackedInt8Weights, packInt8Weights } from "./int8/packed.js";
export { gemmU8I8, gemmU8I8Dequant } from "./int8/gemm.js";
export { gemmQuantU8I8Dequant } from "./int8/gemm.js";
export { type MinMaxResult, quantizeU8, aminmaxF32 } from "./int8/quantize.js";
export { type BatchNormOptions, type NormResult, type NormGrads, type NormNeeds, batchNorm, batchNormBackward, groupNorm, groupNormBackward } from "./norm.js";
