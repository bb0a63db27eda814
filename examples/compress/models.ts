/**
 * @file The MLPs of the compression pipeline and their files: a float model (dense or pruned) or
 * an int8 model (`QuantizedSequential`) encoded with `@tapegrad/compress`'s `encodeModel` — every
 * weight in the encoding that is smallest for it (dense, bitmask or CSR) — and decoded back into
 * something that classifies. The metadata names the layers, so a file is self-describing.
 */
import { Rng, Tensor } from "@tapegrad/tensor";
import { Dropout, Linear, ReLU, Sequential, type UnaryModule } from "@tapegrad/nn";
import {
  FloatStep, QuantizedLinear, QuantizedSequential, decodeModel, encodeModel, entryQTensor, entryTensor, fp32Bytes, qtensorEntry, tensorEntry,
  type ModelEntry, type QTensor,
} from "@tapegrad/compress";
import type { Predict } from "./fit.js";
import { DEFAULTS, makeModel } from "../train/trainer.js";

/** The file format tag in the metadata. */
export const FORMAT = "tapegrad-mlp/1";

/** One linear layer of a file: sizes, whether a ReLU follows, and (int8) its input's qparams. */
export interface LayerMeta {
  inFeatures: number;
  outFeatures: number;
  relu: boolean;
  inputScale?: number | null;
  inputZeroPoint?: number | null;
}

/** The metadata of a model file. */
export interface ModelMeta {
  format: typeof FORMAT;
  kind: "float" | "int8";
  name: string;
  layers: LayerMeta[];
}

/** A Fashion-MNIST MLP `784-hidden…-10` with ReLU (and dropout after each hidden layer when `dropout > 0`). */
export function makeMlp(hidden: readonly number[], dropout: number, rng: Rng): Sequential {
  return makeModel({ ...DEFAULTS, model: "mlp", hidden: [...hidden], dropout }, rng);
}

/** The Linear layers of an MLP with whether a ReLU follows each (Dropout ignored). */
export function linearLayers(model: Sequential): { linear: Linear; relu: boolean }[] {
  const out: { linear: Linear; relu: boolean }[] = [];
  for (const l of model.layers) {
    if (l instanceof Linear) out.push({ linear: l, relu: false });
    else if (l instanceof ReLU && out.length > 0) out[out.length - 1]!.relu = true;
    else if (!(l instanceof Dropout)) throw new TypeError(`linearLayers: unsupported layer ${l.constructor.name}`);
  }
  return out;
}

/**
 * A float model's file: each Linear's effective weight (`orig·mask` when pruned: signed zeros at
 * pruned entries are not kept, they multiply to the same sums) and bias.
 */
export function encodeFloatModel(model: Sequential, name: string): Uint8Array {
  const entries: ModelEntry[] = [];
  const layers: LayerMeta[] = [];
  linearLayers(model).forEach(({ linear, relu }, i) => {
    entries.push(tensorEntry(`${i}.weight`, linear.weight.value, { signedZeros: false }));
    if (linear.bias) entries.push(tensorEntry(`${i}.bias`, linear.bias.value));
    layers.push({ inFeatures: linear.inFeatures, outFeatures: linear.outFeatures, relu });
  });
  const meta: ModelMeta = { format: FORMAT, kind: "float", name, layers };
  return encodeModel(entries, meta);
}

/** An int8 model's file: qint8 per-channel weights (with their scales), float32 biases, input qparams in the metadata. */
export function encodeInt8Model(model: QuantizedSequential, name: string): Uint8Array {
  const entries: ModelEntry[] = [];
  const layers: LayerMeta[] = [];
  let i = 0;
  for (const l of model.layers) {
    if (l instanceof FloatStep) {
      if (l.kind !== "relu") throw new TypeError(`encodeInt8Model: unsupported float step ${l.kind}`);
      layers[layers.length - 1]!.relu = true;
      continue;
    }
    const p = l.params();
    entries.push(qtensorEntry(`${i}.weight`, l.weightQTensor()));
    if (p.bias) entries.push(tensorEntry(`${i}.bias`, new Tensor(p.bias, [p.outFeatures])));
    layers.push({ inFeatures: p.inFeatures, outFeatures: p.outFeatures, relu: p.relu ?? false, inputScale: p.inputScale, inputZeroPoint: p.inputZeroPoint });
    i++;
  }
  const meta: ModelMeta = { format: FORMAT, kind: "int8", name, layers };
  return encodeModel(entries, meta);
}

/** The dense float32 size of a float model's tensors in the same format (the "fp32 bytes" reference). */
export function fp32BytesOf(model: Sequential, name: string): number {
  const tensors: { name: string; shape: number[] }[] = [];
  const layers: LayerMeta[] = [];
  linearLayers(model).forEach(({ linear, relu }, i) => {
    tensors.push({ name: `${i}.weight`, shape: [...linear.weight.shape] });
    if (linear.bias) tensors.push({ name: `${i}.bias`, shape: [...linear.bias.shape] });
    layers.push({ inFeatures: linear.inFeatures, outFeatures: linear.outFeatures, relu });
  });
  const meta: ModelMeta = { format: FORMAT, kind: "float", name, layers };
  return fp32Bytes(tensors, meta);
}

/** A decoded model: its metadata, a predictor, and (float files) the module. */
export interface LoadedModel {
  meta: ModelMeta;
  predict: Predict;
  float: Sequential | null;
  int8: QuantizedSequential | null;
}

/**
 * Decodes a model file (any error of `decodeModel` — truncation, CRC, bad header — propagates)
 * and rebuilds the model it describes.
 */
export function loadModel(bytes: Uint8Array): LoadedModel {
  const { entries, meta: raw } = decodeModel(bytes);
  const meta = raw as ModelMeta;
  if (!meta || meta.format !== FORMAT || !Array.isArray(meta.layers)) throw new Error(`loadModel: not a ${FORMAT} file (metadata ${JSON.stringify(raw)?.slice(0, 80)})`);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const get = (n: string) => {
    const e = byName.get(n);
    if (!e) throw new Error(`loadModel: the file has no tensor "${n}"`);
    return e;
  };
  if (meta.kind === "float") {
    const layers: UnaryModule[] = [];
    meta.layers.forEach((m, i) => {
      const lin = new Linear(m.inFeatures, m.outFeatures);
      lin.weight.value.data.set(entryTensor(get(`${i}.weight`)).toFloat32Array());
      if (lin.bias) lin.bias.value.data.set(entryTensor(get(`${i}.bias`)).toFloat32Array());
      layers.push(lin);
      if (m.relu) layers.push(new ReLU());
    });
    const model = new Sequential(...layers);
    model.eval();
    return { meta, float: model, int8: null, predict: (x) => model.forward(x).value };
  }
  if (meta.kind === "int8") {
    const layers = meta.layers.map((m, i) => {
      const q: QTensor = entryQTensor(get(`${i}.weight`));
      const pc = q.perChannel;
      if (!pc || q.dtype !== "qint8") throw new Error(`loadModel: "${i}.weight" must be qint8 quantized per channel`);
      return new QuantizedLinear({
        weight: q.data as Int8Array, outFeatures: m.outFeatures, inFeatures: m.inFeatures, weightScales: Float32Array.from(pc.scales),
        weightZeroPoints: Int32Array.from(pc.zeroPoints), bias: byName.has(`${i}.bias`) ? entryTensor(get(`${i}.bias`)).toFloat32Array() : null,
        inputScale: m.inputScale ?? null, inputZeroPoint: m.inputZeroPoint ?? null, relu: m.relu,
      });
    });
    const model = new QuantizedSequential(layers);
    return { meta, float: null, int8: model, predict: (x) => model.forward(x) };
  }
  throw new Error(`loadModel: unknown model kind ${JSON.stringify(meta.kind)}`);
}
