/**
 * @file Adapters between the serialization entries and the engine's tensors: a float `Tensor` or a
 * quantized `QTensor` → an entry for `encodeModel`, and a decoded entry → a `Tensor` / `QTensor`.
 */
import { Tensor } from "@tapegrad/tensor";
import { QTensor } from "../quant/qtensor.js";
import type { DecodedFloat32Entry, DecodedInt8Entry, Float32Entry, Int8Entry, LayoutChoice } from "./types.js";

/**
 * A float32 entry holding a copy of `t`'s elements (row-major, any strides), e.g. a parameter's
 * `value` or a pruned module's effective `weight`.
 *
 * @throws {TypeError} when `t` is not a Tensor; {Error} when its storage was released.
 * @example
 * ```ts
 * encodeModel([tensorEntry("fc1.weight", fc1.weight.value, { signedZeros: false }), tensorEntry("fc1.bias", fc1.bias!.value)]);
 * ```
 */
export function tensorEntry(name: string, t: Tensor, opts: { layout?: LayoutChoice; signedZeros?: boolean } = {}): Float32Entry {
  checkEntry("tensorEntry", name, opts.layout);
  if (!(t instanceof Tensor)) throw new TypeError(`tensorEntry: ${JSON.stringify(name)} must be a Tensor (got ${t === null ? "null" : typeof t})`);
  const e: Float32Entry = { name, dtype: "float32", shape: [...t.shape], data: t.toFloat32Array() };
  if (opts.layout !== undefined) e.layout = opts.layout;
  if (opts.signedZeros !== undefined) e.signedZeros = opts.signedZeros;
  return e;
}

/**
 * An int8 entry for a quantized tensor: its stored integers, scales, zero points and channel axis
 * (the arrays are shared, not copied; `encodeModel` never modifies them).
 *
 * @throws {TypeError} when `q` is not a QTensor.
 * @example
 * ```ts
 * encodeModel([qtensorEntry("fc1.weight", quantizePerChannel(w, scales, zps, 0, "qint8"))]);
 * ```
 */
export function qtensorEntry(name: string, q: QTensor, opts: { layout?: LayoutChoice } = {}): Int8Entry {
  checkEntry("qtensorEntry", name, opts.layout);
  if (!(q instanceof QTensor)) throw new TypeError(`qtensorEntry: ${JSON.stringify(name)} must be a QTensor (got ${q === null ? "null" : typeof q})`);
  const pc = q.perChannel;
  const pt = q.perTensor;
  const e: Int8Entry = pc !== null
    ? { name, dtype: q.dtype, shape: [...q.shape], data: q.data, scales: pc.scales, zeroPoints: pc.zeroPoints, axis: pc.axis }
    : { name, dtype: q.dtype, shape: [...q.shape], data: q.data, scales: new Float32Array([pt!.scale]), zeroPoints: [pt!.zeroPoint], axis: null };
  if (opts.layout !== undefined) e.layout = opts.layout;
  return e;
}

/**
 * The Tensor of a decoded float32 entry (sharing its fresh `data`).
 *
 * @throws {TypeError} for an entry that is not float32.
 * @example
 * ```ts
 * model.loadStateDict(Object.fromEntries(decodeModel(bytes).entries.map((e) => [e.name, entryTensor(e)])));
 * ```
 */
export function entryTensor(e: DecodedFloat32Entry | DecodedInt8Entry): Tensor {
  if (e === null || typeof e !== "object" || e.dtype !== "float32") throw new TypeError(`entryTensor: ${JSON.stringify(e?.name)} is ${e?.dtype}, not float32 (use entryQTensor)`);
  return new Tensor(e.data, e.shape);
}

/**
 * The QTensor of a decoded int8 entry (per-tensor when `axis` is null, else per-channel; sharing
 * its fresh arrays).
 *
 * @throws {TypeError} for an entry that is not qint8/quint8; whatever the QTensor constructor
 * throws for inconsistent parameters.
 * @example
 * ```ts
 * const w = entryQTensor(decodeModel(bytes).entries[0]); // dequantize(w) for the float weights
 * ```
 */
export function entryQTensor(e: DecodedFloat32Entry | DecodedInt8Entry): QTensor {
  if (e === null || typeof e !== "object" || (e.dtype !== "qint8" && e.dtype !== "quint8")) throw new TypeError(`entryQTensor: ${JSON.stringify(e?.name)} is ${e?.dtype}, not qint8/quint8 (use entryTensor)`);
  const params = e.axis === null ? { scale: e.scales[0]!, zeroPoint: e.zeroPoints[0]! } : { scales: e.scales, zeroPoints: e.zeroPoints, axis: e.axis };
  return new QTensor(e.data, e.shape, e.dtype, params);
}

/** Throws unless `name` is a non-empty string and `layout` is a known layout (or absent). */
function checkEntry(fn: string, name: unknown, layout: unknown): void {
  if (typeof name !== "string" || name.length === 0) throw new TypeError(`${fn}: name must be a non-empty string (got ${JSON.stringify(name) ?? String(name)})`);
  if (layout !== undefined && layout !== "auto" && layout !== "sparse" && layout !== "dense") throw new RangeError(`${fn}: ${JSON.stringify(name)}: layout must be "auto", "sparse" or "dense" (got ${JSON.stringify(layout) ?? String(layout)})`);
}
