/**
 * @file The quantization part of @tapegrad/compress: int8 affine quantization with
 * `torch.ao.quantization` semantics — quantized tensors, observers, fake quantization for QAT,
 * post-training static and dynamic quantization of MLPs, inference on the int8 GEMM.
 */
export {
  type QDtype, type QScheme, dtypeRange, quantizeValue, checkScale, checkZeroPoint,
} from "./common.js";
export {
  QTensor, type QData, type PerTensorQParams, type PerChannelQParams, quantizePerTensor, quantizePerChannel, dequantize, intRepr,
} from "./qtensor.js";
export { DEFAULT_EPS, type QParams, type QparamsConfig, observerRange, qparamsInto, chooseQparamsDynamic } from "./qparams.js";
export {
  type ObserverOptions, type ObserverSettings, type MovingAverageOptions, MinMaxObserver, MovingAverageMinMaxObserver, observerSettings,
} from "./observer.js";
export {
  type PerChannelObserverOptions, type PerChannelQParams as PerChannelObserverQParams, PerChannelMinMaxObserver, MovingAveragePerChannelMinMaxObserver,
} from "./per-channel-observer.js";
export {
  type FakeQuantResult, fakeQuantizePerTensorAffine, fakeQuantizePerChannelAffine, fakeQuantizePerTensorAffineCachemask,
  fakeQuantizePerChannelAffineCachemask,
} from "./fake-quantize.js";
export { type AnyObserver, FakeQuantize } from "./fake-quantize-module.js";
export { type QuantizedLinearParams, type WeightQScheme, QuantizedLinear, quantizeWeight } from "./quantized-linear.js";
export { type FloatStepKind, type QuantizedLayer, FloatStep, QuantizedSequential } from "./quantized-sequential.js";
export { type PrepareOptions, type QatOptions, ObservedLinear, QatLinear, prepareStatic, prepareQat } from "./prepare.js";
export { type DynamicOptions, convert, quantizeDynamic } from "./convert.js";
