/**
 * @file The reference size of a model for "bytes ≤ 10 % of fp32" reports: the real byte length
 * of the same tensors encoded as dense float32 (same names, shapes and metadata), computed from
 * the layout alone, without allocating the file.
 */
import type { Tensor } from "@tapegrad/tensor";
import { headerTensor, layoutFile, shapeElements, describeValue } from "./plan.js";

/** What {@link fp32Bytes} needs of a tensor: its name and shape (e.g. any `ModelEntry`). */
export interface NamedShape {
  name: string;
  shape: readonly number[];
}

/**
 * The exact byte length `encodeModel` would produce for `tensors` stored as **dense float32**
 * with the same names, in the same order, and the same `meta` (default none): the baseline of
 * compression ratios. Accepts a list of `{ name, shape }` (entries of a compressed model — int8
 * or sparse ones count as their dense float32 equivalent) or a name → tensor record such as a
 * module's `stateDict()`.
 *
 * @throws {TypeError} for input that is neither an array of `{ name, shape }` nor a record of
 * tensors, or `meta` that JSON cannot serialise; {RangeError} for duplicate names or a bad shape.
 * Messages name `fp32Bytes` and the value.
 * @example
 * ```ts
 * const bytes = encodeModel(compressedEntries, meta);
 * const ratio = bytes.length / fp32Bytes(compressedEntries, meta); // e.g. 0.08
 * fp32Bytes(baseline.stateDict()) === encodeModel(denseEntriesOf(baseline)).length; // true
 * ```
 */
export function fp32Bytes(tensors: readonly NamedShape[] | Readonly<Record<string, Tensor>>, meta?: unknown): number {
  const list: NamedShape[] = Array.isArray(tensors)
    ? (tensors as NamedShape[])
    : tensors !== null && typeof tensors === "object"
      ? Object.entries(tensors as Record<string, Tensor>).map(([name, t]) => ({ name, shape: t?.shape }))
      : (() => { throw new TypeError(`fp32Bytes: tensors must be an array of { name, shape } or a record of tensors (got ${describeValue(tensors)})`); })();
  const names = new Set<string>();
  const headers = list.map((t, i) => {
    if (t === null || typeof t !== "object" || typeof t.name !== "string" || t.name.length === 0) {
      throw new TypeError(`fp32Bytes: tensor ${i} must have a non-empty name (got ${describeValue(t?.name)})`);
    }
    if (names.has(t.name)) throw new RangeError(`fp32Bytes: tensor ${i} (${JSON.stringify(t.name)}): duplicate name`);
    names.add(t.name);
    const n = shapeElements(t.shape, `fp32Bytes: tensor ${i} (${JSON.stringify(t.name)})`);
    return headerTensor(t.name, "float32", t.shape, "dense", n, null);
  });
  return layoutFile(headers, meta, "fp32Bytes").totalBytes;
}
