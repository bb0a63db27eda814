/**
 * @file `QuantizedSequential`: the converted MLP for int8 inference — `QuantizedLinear` layers
 * (int8 GEMM) with the float glue between them (`FloatStep`: ReLU not fused into a Linear,
 * Flatten). Dropout and Identity disappear at conversion (inference mode).
 */
import { Tensor, relu } from "@tapegrad/tensor";
import { QuantizedLinear } from "./quantized-linear.js";

/** The float operations a quantized MLP keeps between its quantized layers. */
export type FloatStepKind = "relu" | "flatten";

/**
 * A float operation of a {@link QuantizedSequential}: `relu`, or `flatten` of dims
 * `startDim..endDim` (as `nn.Flatten`).
 *
 * @throws from `forward`: {ShapeError} when the flatten dims are out of range for the input.
 * @example
 * ```ts
 * new FloatStep("flatten", 1, -1).forward(images); // [B, 1, 28, 28] -> [B, 784]
 * ```
 */
export class FloatStep {
  constructor(readonly kind: FloatStepKind, readonly startDim = 1, readonly endDim = -1) {
    if (kind !== "relu" && kind !== "flatten") throw new TypeError(`FloatStep: kind must be "relu" or "flatten" (got ${JSON.stringify(kind)})`);
  }
  /**
   * Applies the operation.
   *
   * @throws {ShapeError} for flatten dims out of range.
   * @example
   * ```ts
   * new FloatStep("relu").forward(tensor([-1, 2])); // [0, 2]
   * ```
   */
  forward(x: Tensor): Tensor {
    return this.kind === "relu" ? relu(x) : x.contiguous().flatten(this.startDim, this.endDim);
  }
}

/** A layer of a {@link QuantizedSequential}. */
export type QuantizedLayer = QuantizedLinear | FloatStep;

/**
 * Runs its layers in order on float tensors; every Linear is a {@link QuantizedLinear} on the
 * int8 GEMM. Built by `convert` (static / QAT) or `quantizeDynamic`, or from stored layers.
 *
 * @throws {TypeError} from the constructor when a layer is neither a QuantizedLinear nor a FloatStep.
 * @example
 * ```ts
 * const qmodel = convert(prepared);
 * const logits = qmodel.forward(xTest); // Tensor [B, 10]
 * ```
 */
export class QuantizedSequential {
  readonly layers: readonly QuantizedLayer[];
  constructor(layers: readonly QuantizedLayer[]) {
    if (!Array.isArray(layers)) throw new TypeError(`QuantizedSequential: layers must be an array (got ${layers === null ? "null" : typeof layers})`);
    layers.forEach((l, i) => {
      if (!(l instanceof QuantizedLinear) && !(l instanceof FloatStep)) throw new TypeError(`QuantizedSequential: layer ${i} must be a QuantizedLinear or a FloatStep`);
    });
    this.layers = Object.freeze(Array.from(layers));
  }

  /**
   * Applies every layer in order.
   *
   * @throws whatever a layer throws (e.g. {ShapeError} for an input of the wrong width,
   * {RangeError} for NaN/Inf inputs).
   * @example
   * ```ts
   * const y = qmodel.forward(x);
   * ```
   */
  forward(x: Tensor): Tensor {
    let h = x;
    for (let i = 0; i < this.layers.length; i++) h = this.layers[i]!.forward(h);
    return h;
  }

  /**
   * The quantized Linear layers, in order (for serialization and size reports).
   *
   * @throws never.
   * @example
   * ```ts
   * qmodel.linears().map((l) => l.weight.byteLength);
   * ```
   */
  linears(): QuantizedLinear[] {
    return this.layers.filter((l): l is QuantizedLinear => l instanceof QuantizedLinear);
  }

  /**
   * Frees every layer's packed weights; the model must not be used afterwards.
   *
   * @throws never.
   * @example
   * ```ts
   * qmodel.dispose();
   * ```
   */
  dispose(): void {
    for (const l of this.linears()) l.dispose();
  }
}
