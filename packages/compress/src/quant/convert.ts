/**
 * @file From a prepared (calibrated or QAT-trained) MLP, or directly from a float one, to a
 * {@link QuantizedSequential} on the int8 GEMM: `convert` (torch `convert`) and `quantizeDynamic`
 * (torch `quantize_dynamic`).
 */
import { Dropout, Flatten, Identity, Linear, ReLU, type Sequential, type UnaryModule } from "@tapegrad/nn";
import { quantizePerChannel } from "./qtensor.js";
import { QuantizedLinear, type WeightQScheme } from "./quantized-linear.js";
import { FloatStep, QuantizedSequential, type QuantizedLayer } from "./quantized-sequential.js";
import { ObservedLinear, QatLinear, mlpLayers } from "./prepare.js";

/** One prepared/float Linear turned into a quantized one (`relu` = a ReLU follows and is fused). */
type LinearConverter = (l: UnaryModule, index: number, relu: boolean) => QuantizedLinear;

/** Walks the layers: Linear-like layers through `toQuantized` (fusing a following ReLU), the rest to float steps. */
function convertLayers(fn: string, layers: readonly UnaryModule[], isLinear: (l: UnaryModule) => boolean, toQuantized: LinearConverter): QuantizedSequential {
  const out: QuantizedLayer[] = [];
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i]!;
    if (isLinear(l)) {
      const relu = layers[i + 1] instanceof ReLU;
      out.push(toQuantized(l, i, relu));
      if (relu) i++;
    } else if (l instanceof ReLU) out.push(new FloatStep("relu"));
    else if (l instanceof Flatten) out.push(new FloatStep("flatten", l.startDim, l.endDim));
    else if (l instanceof Dropout || l instanceof Identity) continue; // identities at inference
    else if (l instanceof Linear) throw new TypeError(`${fn}: layer ${i} is a float Linear: prepare the model with prepareStatic or prepareQat first (or use quantizeDynamic)`);
    else throw new TypeError(`${fn}: unsupported layer ${i} (${l.constructor.name})`);
  }
  return new QuantizedSequential(out);
}

/** Static conversion of a calibrated {@link ObservedLinear}. */
function fromObserved(l: ObservedLinear, i: number, relu: boolean): QuantizedLinear {
  if (!l.inputObserver.hasData) throw new Error(`convert: layer ${i} (ObservedLinear) was never calibrated: run calibration batches through the prepared model first`);
  return QuantizedLinear.fromFloat(l.weight.value, l.bias?.value ?? null, l.inputObserver.calculateQparams(), { relu });
}

/** Conversion of a {@link QatLinear} with the parameters its fake quantizers last used (torch `from_float`). */
function fromQat(l: QatLinear, i: number, relu: boolean): QuantizedLinear {
  const inp = l.inputFakeQuant, wfq = l.weightFakeQuant;
  if (!inp.observer.hasData || !wfq.observer.hasData) throw new Error(`convert: layer ${i} (QatLinear) has not seen any data: run training (or calibration) batches through it first`);
  const { scales, zeroPoints } = wfq.calculateQparams();
  const wq = quantizePerChannel(l.weight.value, scales, zeroPoints, 0, "qint8");
  return new QuantizedLinear({
    weight: wq.data as Int8Array, outFeatures: l.outFeatures, inFeatures: l.inFeatures, weightScales: scales, weightZeroPoints: zeroPoints,
    bias: l.bias ? l.bias.value.toFloat32Array() : null, inputScale: inp.scales[0]!, inputZeroPoint: inp.zeroPoints[0]!, relu,
  });
}

/**
 * Converts a prepared MLP (from `prepareStatic` after calibration, or `prepareQat` after
 * training) to a {@link QuantizedSequential}: weights qint8 per-channel symmetric (static: from a
 * `PerChannelMinMaxObserver` on the final weights; QAT: the weight fake quantizer's parameters),
 * input parameters from the input observer / fake quantizer, a ReLU after a Linear fused into it,
 * Dropout and Identity removed. The prepared model is not modified.
 *
 * @throws {TypeError} for a model that is not a prepared Sequential MLP (or contains a float
 * Linear); {Error} for a layer that never saw data; {RangeError} for NaN/Inf weights.
 * @example
 * ```ts
 * const qmodel = convert(prepared);
 * qmodel.forward(x);
 * ```
 */
export function convert(model: Sequential): QuantizedSequential {
  const layers = mlpLayers("convert", model, true);
  return convertLayers("convert", layers, (l) => l instanceof ObservedLinear || l instanceof QatLinear, (l, i, relu) =>
    l instanceof ObservedLinear ? fromObserved(l, i, relu) : fromQat(l as QatLinear, i, relu));
}

/** Options of {@link quantizeDynamic}. */
export interface DynamicOptions {
  /**
   * Weight quantization: `"per_tensor_symmetric"` (default: torch's `default_dynamic_qconfig`,
   * `MinMaxObserver(qint8, per_tensor_symmetric)`) or `"per_channel_symmetric"`
   * (`per_channel_dynamic_qconfig`).
   */
  weightQscheme?: WeightQScheme;
  /**
   * 7-bit per-batch activation range (default true: what torch's dynamic `nn.quantized.dynamic.Linear`
   * passes on x86 — `linear_dynamic(x, W, reduce_range=True)`).
   */
  reduceRange?: boolean;
}

/**
 * Dynamic quantization (torch `quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)`): every
 * Linear's weights become qint8 now; each batch's input is quantized to quint8 with parameters
 * chosen from its own min/max at run time (torch's `ChooseQuantizationParams`, see
 * `chooseQparamsDynamic`). No calibration. The float model is not modified.
 *
 * @throws {TypeError} when `model` is not a Sequential of Linear/ReLU/Flatten/Dropout/Identity;
 * {RangeError} for NaN/Inf weights.
 * @example
 * ```ts
 * const qmodel = quantizeDynamic(model);
 * qmodel.forward(x);
 * ```
 */
export function quantizeDynamic(model: Sequential, opts: DynamicOptions = {}): QuantizedSequential {
  const layers = mlpLayers("quantizeDynamic", model);
  const weightQscheme = opts.weightQscheme ?? "per_tensor_symmetric";
  if (weightQscheme !== "per_tensor_symmetric" && weightQscheme !== "per_channel_symmetric") {
    throw new TypeError(`quantizeDynamic: weightQscheme must be per_channel_symmetric or per_tensor_symmetric (got ${JSON.stringify(weightQscheme)})`);
  }
  return convertLayers("quantizeDynamic", layers, (l) => l instanceof Linear, (l, _i, relu) => {
    const fc = l as Linear;
    return QuantizedLinear.fromFloat(fc.weight.value, fc.bias?.value ?? null, "dynamic", { relu, weightQscheme, reduceRange: opts.reduceRange ?? true });
  });
}
