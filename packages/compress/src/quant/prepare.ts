/**
 * @file Preparing an `nn.Sequential` MLP for quantization (torch's eager-mode `prepare` and
 * `prepare_qat`): every `Linear` becomes an {@link ObservedLinear} (a MinMaxObserver on its input,
 * for post-training calibration) or a {@link QatLinear} (fake-quantized input and weights, for
 * quantization-aware training). The float model is not modified: prepared Linear layers hold
 * copies of its parameters (torch's default `inplace=False`); ReLU, Flatten, Dropout and Identity
 * modules are shared with it.
 */
import { linear, toVar, type Var, type VarLike } from "@tapegrad/autograd";
import { Dropout, Flatten, Identity, Linear, Module, ReLU, Sequential, type UnaryModule } from "@tapegrad/nn";
import { MinMaxObserver, MovingAverageMinMaxObserver } from "./observer.js";
import { MovingAveragePerChannelMinMaxObserver } from "./per-channel-observer.js";
import { FakeQuantize } from "./fake-quantize-module.js";

/** Options of {@link prepareStatic}. */
export interface PrepareOptions {
  /**
   * 7-bit activations (`[0, 127]`). Default false: the int8 GEMM accumulates exactly in int32, so
   * the full quint8 range is safe (torch's x86 `fbgemm` qconfig reduces the range to avoid int16
   * saturation in its kernel; `qnnpack`/`onednn` do not).
   */
  reduceRange?: boolean;
}

/** Options of {@link prepareQat}. */
export interface QatOptions extends PrepareOptions {
  /** Averaging constant of the moving-average observers (default 0.01, as torch). */
  averagingConstant?: number;
}

/**
 * A Linear layer that records the range of its input (a quint8 per-tensor affine
 * `MinMaxObserver`) while computing the float result, for calibration before `convert`.
 *
 * @throws from the constructor: {TypeError} when `source` is not a Linear.
 * @example
 * ```ts
 * const obs = new ObservedLinear(fc);
 * obs.forward(x); // float result; obs.inputObserver has seen x
 * ```
 */
export class ObservedLinear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Var;
  readonly bias: Var | null;
  /** Observer of the input activations. */
  readonly inputObserver: MinMaxObserver;
  constructor(source: Linear, opts: PrepareOptions = {}) {
    super();
    if (!(source instanceof Linear)) throw new TypeError("ObservedLinear: source must be a Linear");
    this.inFeatures = source.inFeatures;
    this.outFeatures = source.outFeatures;
    this.weight = this.addParameter("weight", source.weight.value.clone());
    this.bias = source.bias ? this.addParameter("bias", source.bias.value.clone()) : null;
    this.inputObserver = this.addModule("inputObserver", new MinMaxObserver({ dtype: "quint8", qscheme: "per_tensor_affine", reduceRange: opts.reduceRange ?? false }));
  }
  /**
   * Observes `x`, then `x Wᵀ + b`.
   *
   * @throws {ShapeError} when the last dimension of `x` is not inFeatures; {RangeError} for NaN/Inf.
   * @example
   * ```ts
   * noGrad(() => prepared.forward(batch)); // calibration
   * ```
   */
  forward(x: VarLike): Var {
    const v = toVar(x, "ObservedLinear");
    this.inputObserver.forward(v.value);
    return linear(v, this.weight, this.bias);
  }
}

/**
 * A Linear layer for quantization-aware training (torch's `nn.qat.Linear` with an input
 * observer): `linear(fq_in(x), fq_w(W), b)` where `fq_in` fake-quantizes the input (quint8 per
 * tensor affine, moving-average min/max) and `fq_w` the weight (qint8 per-channel symmetric along
 * the output axis, moving-average per-channel min/max); gradients pass straight through.
 *
 * @throws from the constructor: {TypeError} when `source` is not a Linear; {RangeError} for a bad
 * averaging constant.
 * @example
 * ```ts
 * const q = new QatLinear(fc);
 * const y = q.forward(x); // trains like a Linear, sees quantized values
 * ```
 */
export class QatLinear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Var;
  readonly bias: Var | null;
  /** Fake quantization of the input activations. */
  readonly inputFakeQuant: FakeQuantize;
  /** Fake quantization of the weight. */
  readonly weightFakeQuant: FakeQuantize;
  constructor(source: Linear, opts: QatOptions = {}) {
    super();
    if (!(source instanceof Linear)) throw new TypeError("QatLinear: source must be a Linear");
    this.inFeatures = source.inFeatures;
    this.outFeatures = source.outFeatures;
    this.weight = this.addParameter("weight", source.weight.value.clone());
    this.bias = source.bias ? this.addParameter("bias", source.bias.value.clone()) : null;
    const c = opts.averagingConstant;
    this.inputFakeQuant = this.addModule("inputFakeQuant", new FakeQuantize(new MovingAverageMinMaxObserver({
      dtype: "quint8", qscheme: "per_tensor_affine", reduceRange: opts.reduceRange ?? false, ...(c === undefined ? {} : { averagingConstant: c }),
    })));
    this.weightFakeQuant = this.addModule("weightFakeQuant", new FakeQuantize(new MovingAveragePerChannelMinMaxObserver({
      dtype: "qint8", qscheme: "per_channel_symmetric", chAxis: 0, ...(c === undefined ? {} : { averagingConstant: c }),
    })));
  }
  /**
   * `fq_in(x) · fq_w(W)ᵀ + b`.
   *
   * @throws {ShapeError} when the last dimension of `x` is not inFeatures; {RangeError} for NaN/Inf.
   * @example
   * ```ts
   * const loss = crossEntropy(qat.forward(x), labels); // qat = prepareQat(model)
   * ```
   */
  forward(x: VarLike): Var {
    return linear(this.inputFakeQuant.forward(x), this.weightFakeQuant.forward(this.weight), this.bias);
  }
}

/**
 * The layers of a float MLP, checked: a Sequential of Linear, ReLU, Flatten, Dropout, Identity.
 *
 * @throws {TypeError} naming `fn` and the offending layer.
 * @example
 * ```ts
 * const layers = mlpLayers("prepareStatic", model);
 * ```
 */
export function mlpLayers(fn: string, model: Sequential, allowPrepared = false): readonly UnaryModule[] {
  if (!(model instanceof Sequential)) throw new TypeError(`${fn}: model must be an nn.Sequential MLP`);
  model.layers.forEach((l, i) => {
    const ok = l instanceof Linear || l instanceof ReLU || l instanceof Flatten || l instanceof Dropout || l instanceof Identity ||
      (allowPrepared && (l instanceof ObservedLinear || l instanceof QatLinear));
    if (!ok) throw new TypeError(`${fn}: unsupported layer ${i} (${l?.constructor?.name}); supported: Linear, ReLU, Flatten, Dropout, Identity`);
  });
  return model.layers;
}

/**
 * Post-training static quantization, step 1 (torch `prepare`): a copy of the MLP whose Linear
 * layers observe their inputs. Run calibration batches through it (in `noGrad`), then `convert`.
 *
 * @throws {TypeError} when `model` is not a Sequential of Linear/ReLU/Flatten/Dropout/Identity.
 * @example
 * ```ts
 * const prepared = prepareStatic(model);
 * noGrad(() => { for (const b of calibration) prepared.forward(b.x); });
 * const qmodel = convert(prepared);
 * ```
 */
export function prepareStatic(model: Sequential, opts: PrepareOptions = {}): Sequential {
  const layers = mlpLayers("prepareStatic", model);
  return new Sequential(...layers.map((l) => (l instanceof Linear ? new ObservedLinear(l, opts) : l)));
}

/**
 * Quantization-aware training, step 1 (torch `prepare_qat`): a copy of the MLP whose Linear
 * layers fake-quantize their inputs and weights (see {@link QatLinear}). Train it with any
 * optimizer on `qat.parameters()`, then `convert`. Freeze the observers late in training with
 * `FakeQuantize.disableObserver()` if wanted.
 *
 * @throws {TypeError} when `model` is not a Sequential of Linear/ReLU/Flatten/Dropout/Identity;
 * {RangeError} for a bad averaging constant.
 * @example
 * ```ts
 * const qat = prepareQat(model);
 * const opt = new SGD(qat.parameters(), { lr: 0.01 });
 * // ... train qat.forward(x) ...
 * const qmodel = convert(qat);
 * ```
 */
export function prepareQat(model: Sequential, opts: QatOptions = {}): Sequential {
  const layers = mlpLayers("prepareQat", model);
  return new Sequential(...layers.map((l) => (l instanceof Linear ? new QatLinear(l, opts) : l)));
}
