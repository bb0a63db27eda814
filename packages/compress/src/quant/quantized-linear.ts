/**
 * @file `QuantizedLinear`: an `nn.Linear` for int8 inference. Weights are qint8, per-channel
 * symmetric (zero points 0), packed once for the int8 GEMM; the float input is quantized to quint8
 * per tensor (calibrated parameters, or per batch from its min/max for dynamic quantization); the
 * GEMM accumulates exactly in int32 and the output is float32:
 * `y[b, o] = fl32(fl32(acc[b, o] · fl32(xScale · wScale[o])) + bias[o])` (then ReLU when fused).
 * Nothing is dequantized to a float matmul. The input is quantized by `@tapegrad/tensor`'s
 * kernels (`quantizeU8`, exactly torch's `clamp(zp + rne(fl32(x·fl32(1/scale))), 0, 255)`; its
 * min/max by `aminmaxF32` when dynamic); `forward` quantizes inside the GEMM
 * (`gemmQuantU8I8Dequant`), so no quint8 copy is made.
 */
import { Tensor, ShapeError, aminmaxF32, gemmQuantU8I8Dequant, gemmU8I8, packInt8Weights, quantizeU8, type PackedInt8Weights } from "@tapegrad/tensor";
import { checkScale, checkZeroPoint, flatValues, nonFiniteError } from "./common.js";
import { chooseQparamsDynamic, type QParams } from "./qparams.js";
import { QTensor, quantizePerChannel } from "./qtensor.js";
import { PerChannelMinMaxObserver } from "./per-channel-observer.js";
import { MinMaxObserver } from "./observer.js";

/** Everything that defines a {@link QuantizedLinear} (what serialization stores). */
export interface QuantizedLinearParams {
  /** qint8 weights, row-major `[outFeatures, inFeatures]`. */
  weight: Int8Array;
  outFeatures: number;
  inFeatures: number;
  /** Per-output-feature weight scales (float32, `[outFeatures]`). */
  weightScales: Float32Array;
  /** Per-output-feature weight zero points: must be all 0 (symmetric); default zeros. */
  weightZeroPoints?: Int32Array;
  /** Float32 bias `[outFeatures]`, or null. */
  bias: Float32Array | null;
  /** Calibrated input scale, or null for dynamic quantization (per-batch parameters). */
  inputScale: number | null;
  /** Calibrated input zero point (quint8), or null for dynamic quantization. */
  inputZeroPoint: number | null;
  /** Apply ReLU to the output (a fused Linear + ReLU). Default false. */
  relu?: boolean;
  /** Dynamic only: choose the per-batch parameters for 7 bits (`[0, 127]`), as torch's dynamic Linear on x86 (fbgemm). Default true. */
  reduceRange?: boolean;
}

/** How {@link QuantizedLinear.fromFloat} quantizes the weights. */
export type WeightQScheme = "per_channel_symmetric" | "per_tensor_symmetric";

/**
 * Quantized weights of a float `[out, in]` matrix: qint8 symmetric with scales from a
 * `PerChannelMinMaxObserver` (chAxis 0) or, per tensor, one `MinMaxObserver` scale repeated.
 *
 * @throws {RangeError} for NaN/Inf weights; {ShapeError} for a weight that is not 2-d.
 * @example
 * ```ts
 * const { data, scales } = quantizeWeight(linear.weight.value);
 * ```
 */
export function quantizeWeight(weight: Tensor, qscheme: WeightQScheme = "per_channel_symmetric"): { data: Int8Array; scales: Float32Array } {
  if (!(weight instanceof Tensor) || weight.ndim !== 2) throw new ShapeError("quantizeWeight", "weight must be a 2-d Tensor [out, in]", weight instanceof Tensor ? [weight.shape] : []);
  const out = weight.shape[0]!;
  const w = weight.toFloat32Array();
  for (let i = 0; i < w.length; i++) if (!Number.isFinite(w[i]!)) throw new RangeError(`quantizeWeight: weight holds a non-finite value ${w[i]} at index ${i}`);
  let scales: Float32Array;
  if (qscheme === "per_channel_symmetric") {
    const obs = new PerChannelMinMaxObserver({ dtype: "qint8", qscheme, chAxis: 0 });
    obs.forward(weight);
    scales = weight.size === 0 ? new Float32Array(out).fill(1) : obs.calculateQparams().scales;
  } else if (qscheme === "per_tensor_symmetric") {
    const obs = new MinMaxObserver({ dtype: "qint8", qscheme });
    obs.forward(weight);
    scales = new Float32Array(out).fill(obs.calculateQparams().scale);
  } else throw new TypeError(`quantizeWeight: qscheme must be per_channel_symmetric or per_tensor_symmetric (got ${JSON.stringify(qscheme)})`);
  const q = quantizePerChannel(weight, scales, new Int32Array(out), 0, "qint8");
  return { data: q.data as Int8Array, scales };
}

/**
 * A Linear layer running on the int8 GEMM (see the file comment). Construct it from float
 * weights with {@link QuantizedLinear.fromFloat} or from stored parameters with the constructor;
 * `convert` and `quantizeDynamic` build them for whole models.
 *
 * @throws from the constructor: {ShapeError} when array lengths do not match the sizes;
 * {RangeError} for bad scales, non-zero weight zero points, an input zero point outside
 * [0, 255], or only one of inputScale/inputZeroPoint.
 * @example
 * ```ts
 * const ql = QuantizedLinear.fromFloat(fc.weight.value, fc.bias!.value, { scale: 0.02, zeroPoint: 128 });
 * const y = ql.forward(x); // [B, in] -> [B, out], float32
 * ```
 */
export class QuantizedLinear {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** qint8 weights `[out, in]` (kept for serialization; the GEMM uses the packed copy). */
  readonly weight: Int8Array;
  readonly weightScales: Float32Array;
  readonly weightZeroPoints: Int32Array;
  readonly bias: Float32Array | null;
  /** Calibrated input scale (float32), or null when dynamic. */
  readonly inputScale: number | null;
  /** Calibrated input zero point, or null when dynamic. */
  readonly inputZeroPoint: number | null;
  /** Whether ReLU is applied to the output. */
  readonly relu: boolean;
  /** Dynamic only: 7-bit per-batch activation range. */
  readonly reduceRange: boolean;
  /** The weights packed for the int8 GEMM. */
  readonly packed: PackedInt8Weights;
  /** `fl32(inputScale · weightScales[o])` (static) or scratch for it (dynamic). */
  private readonly outScales: Float32Array;
  private xq = new Uint8Array(0);

  constructor(p: QuantizedLinearParams) {
    const fn = "QuantizedLinear";
    if (p === null || typeof p !== "object") throw new TypeError(`${fn}: expected QuantizedLinearParams (got ${p === null ? "null" : typeof p})`);
    const { outFeatures: O, inFeatures: I } = p;
    if (!Number.isInteger(O) || !Number.isInteger(I) || O <= 0 || I <= 0) throw new RangeError(`${fn}: sizes must be positive integers (got ${O}, ${I})`);
    if (!(p.weight instanceof Int8Array) || p.weight.length !== O * I) throw new ShapeError(fn, `weight must be an Int8Array of ${O}·${I} = ${O * I} values (got ${p.weight?.length})`, [[O, I]]);
    if (!(p.weightScales instanceof Float32Array) || p.weightScales.length !== O) throw new ShapeError(fn, `weightScales must be a Float32Array of ${O} values`, [[O]]);
    const zps = p.weightZeroPoints ?? new Int32Array(O);
    if (zps.length !== O) throw new ShapeError(fn, `weightZeroPoints must have ${O} values (got ${zps.length})`, [[O]]);
    for (let o = 0; o < O; o++) {
      checkScale(fn, p.weightScales[o]!, `weightScales[${o}]`);
      if (zps[o] !== 0) throw new RangeError(`${fn}: weight zero points must be 0 (symmetric qint8 weights); weightZeroPoints[${o}] = ${zps[o]}`);
    }
    if (p.bias !== null && (!(p.bias instanceof Float32Array) || p.bias.length !== O)) throw new ShapeError(fn, `bias must be null or a Float32Array of ${O} values`, [[O]]);
    if ((p.inputScale === null) !== (p.inputZeroPoint === null)) throw new RangeError(`${fn}: give both inputScale and inputZeroPoint, or neither for dynamic quantization (got ${p.inputScale}, ${p.inputZeroPoint})`);
    this.inFeatures = I;
    this.outFeatures = O;
    this.weight = p.weight;
    this.weightScales = p.weightScales;
    this.weightZeroPoints = zps;
    this.bias = p.bias;
    this.inputScale = p.inputScale === null ? null : checkScale(fn, p.inputScale, "inputScale");
    this.inputZeroPoint = p.inputZeroPoint === null ? null : checkZeroPoint(fn, p.inputZeroPoint, 0, 255, "inputZeroPoint");
    this.relu = p.relu ?? false;
    this.reduceRange = p.reduceRange ?? true;
    this.outScales = new Float32Array(O);
    if (this.inputScale !== null) this.fillOutScales(this.inputScale);
    this.packed = packInt8Weights(p.weight, O, I);
  }

  /**
   * Quantizes float weights (per-channel symmetric qint8 by default) and builds the layer.
   * `input` is the calibrated `{ scale, zeroPoint }` of the quint8 input, or `"dynamic"`.
   *
   * @throws {ShapeError} for a weight that is not `[out, in]` or a bias that is not `[out]`;
   * {RangeError} for NaN/Inf weights or bad input parameters.
   * @example
   * ```ts
   * const ql = QuantizedLinear.fromFloat(w, b, "dynamic", { weightQscheme: "per_tensor_symmetric" });
   * ```
   */
  static fromFloat(weight: Tensor, bias: Tensor | null, input: QParams | "dynamic", opts: { relu?: boolean; weightQscheme?: WeightQScheme; reduceRange?: boolean } = {}): QuantizedLinear {
    const { data, scales } = quantizeWeight(weight, opts.weightQscheme);
    const [O, I] = weight.shape as [number, number];
    if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== O)) throw new ShapeError("QuantizedLinear.fromFloat", `bias must have shape [${O}]`, [bias.shape]);
    return new QuantizedLinear({
      weight: data, outFeatures: O, inFeatures: I, weightScales: scales, bias: bias ? bias.toFloat32Array() : null,
      inputScale: input === "dynamic" ? null : input.scale, inputZeroPoint: input === "dynamic" ? null : input.zeroPoint,
      relu: opts.relu ?? false, reduceRange: opts.reduceRange ?? true,
    });
  }

  /** True when the input parameters are chosen per batch. @throws never. @example `x.isDynamic` */
  get isDynamic(): boolean {
    return this.inputScale === null;
  }

  private fillOutScales(xScale: number): void {
    for (let o = 0; o < this.outFeatures; o++) this.outScales[o] = xScale * this.weightScales[o]!;
  }

  /**
   * The weights as a per-channel (axis 0) qint8 {@link QTensor} (shares `weight`).
   *
   * @throws never.
   * @example
   * ```ts
   * dequantize(ql.weightQTensor()); // the float weights the layer effectively uses
   * ```
   */
  weightQTensor(): QTensor {
    return new QTensor(this.weight, [this.outFeatures, this.inFeatures], "qint8", { scales: this.weightScales, zeroPoints: this.weightZeroPoints, axis: 0 });
  }

  /**
   * Quantizes a float input `[..., in]` to quint8 with the layer's input parameters (static) or
   * the batch's (dynamic, torch's `ChooseQuantizationParams` on its min/max).
   *
   * @throws {ShapeError} when the last dimension is not `inFeatures`; {RangeError} for NaN/Inf.
   * @example
   * ```ts
   * const xq = ql.quantizeInput(x); // QTensor, quint8 per tensor
   * ```
   */
  quantizeInput(x: Tensor): QTensor {
    const { batch, scale, zeroPoint } = this.quantizeInto(x);
    return new QTensor(this.xq.slice(0, batch * this.inFeatures), x.shape, "quint8", { scale, zeroPoint });
  }

  /** Checks `x` and returns its values and the quantization parameters for them (the batch's when dynamic). */
  private inputParams(x: Tensor): { src: Float32Array; batch: number; scale: number; zeroPoint: number } {
    const fn = "QuantizedLinear.forward";
    if (!(x instanceof Tensor)) throw new TypeError(`${fn}: x must be a Tensor`);
    if (x.ndim < 1 || x.shape[x.ndim - 1] !== this.inFeatures) throw new ShapeError(fn, `the last dimension of x must be inFeatures = ${this.inFeatures}`, [x.shape]);
    const src = flatValues(x);
    const batch = src.length / this.inFeatures;
    if (this.inputScale !== null && this.inputZeroPoint !== null) return { src, batch, scale: this.inputScale, zeroPoint: this.inputZeroPoint };
    if (src.length === 0) return { src, batch, scale: 1, zeroPoint: 0 };
    const { min, max, firstNonFinite } = aminmaxF32(src);
    if (firstNonFinite >= 0) throw nonFiniteError(fn, firstNonFinite, src[firstNonFinite]!);
    const q = chooseQparamsDynamic(min, max, 0, 255, this.reduceRange);
    return { src, batch, scale: q.scale, zeroPoint: q.zeroPoint };
  }

  /** Quantizes `x` into the reused `this.xq`; returns the batch size and the parameters used. */
  private quantizeInto(x: Tensor): { batch: number; scale: number; zeroPoint: number } {
    const { src, batch, scale, zeroPoint } = this.inputParams(x);
    const n = src.length;
    if (this.xq.length < n) this.xq = new Uint8Array(n);
    const bad = quantizeU8(src, Math.fround(1 / scale), zeroPoint, this.xq.length === n ? this.xq : this.xq.subarray(0, n));
    if (bad >= 0) throw nonFiniteError("QuantizedLinear.forward", bad, src[bad]!);
    return { batch, scale, zeroPoint };
  }

  /**
   * The exact int32 accumulators `acc[b·out + o] = Σ_i (xq[b·in + i] − xZeroPoint)·w[o, i]` of a
   * quantized input (the integer core of `forward`).
   *
   * @throws {RangeError} when `xq` is not `batch·inFeatures` values or the zero point is bad.
   * @example
   * ```ts
   * const xq = ql.quantizeInput(x);
   * const acc = ql.accumulate(xq.data as Uint8Array, x.shape[0], xq.perTensor!.zeroPoint);
   * ```
   */
  accumulate(xq: Uint8Array, batch: number, xZeroPoint: number, out?: Int32Array): Int32Array {
    return gemmU8I8(xq, xZeroPoint, batch, this.packed, out);
  }

  /**
   * Runs the layer on a float input `[..., in]`: quantize, int8 GEMM, float32 epilogue
   * (scale, bias, optional ReLU) → `[..., out]`.
   *
   * @throws {ShapeError} when the last dimension is not `inFeatures`; {RangeError} for NaN/Inf
   * inputs; {Error} after `dispose()`.
   * @example
   * ```ts
   * const y = ql.forward(x);
   * ```
   */
  forward(x: Tensor): Tensor {
    const { src, batch, scale, zeroPoint } = this.inputParams(x);
    if (this.isDynamic) this.fillOutScales(scale);
    const y = new Float32Array(batch * this.outFeatures);
    const bad = gemmQuantU8I8Dequant(src, scale, zeroPoint, batch, this.packed, this.outScales, this.bias, y, this.relu);
    if (bad >= 0) throw nonFiniteError("QuantizedLinear.forward", bad, src[bad]!);
    const shape = x.shape.slice(0, -1);
    shape.push(this.outFeatures);
    return new Tensor(y, shape);
  }

  /**
   * Frees the packed weights (wasm memory at once); the layer must not be used afterwards.
   *
   * @throws never.
   * @example
   * ```ts
   * ql.dispose();
   * ```
   */
  dispose(): void {
    this.packed.dispose();
  }

  /**
   * The layer's parameters (the arrays themselves, not copies): what serialization stores and
   * the constructor takes back.
   *
   * @throws never.
   * @example
   * ```ts
   * const copy = new QuantizedLinear(ql.params());
   * ```
   */
  params(): QuantizedLinearParams {
    return {
      weight: this.weight, outFeatures: this.outFeatures, inFeatures: this.inFeatures, weightScales: this.weightScales,
      weightZeroPoints: this.weightZeroPoints, bias: this.bias, inputScale: this.inputScale, inputZeroPoint: this.inputZeroPoint,
      relu: this.relu, reduceRange: this.reduceRange,
    };
  }
}
