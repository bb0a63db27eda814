/**
 * @file `encodeModel`: named tensors (dense or pruned float32, int8 quantized, int8 quantized and
 * pruned) plus free JSON metadata → the bytes of one compressed-model file (layout in
 * `types.ts`). Bytes only: writing the file is the caller's business, so this runs in browsers.
 */
import { FORMAT_VERSION, LITTLE_ENDIAN, MAGIC, PREFIX_BYTES, csrDims, swapBytes, type ModelEntry, type SectionRef } from "./types.js";
import { csrFromMask, gatherMasked, type IndexArray, type Lanes } from "./sparse.js";
import { planModel, type PlannedTensor } from "./plan.js";
import { crc32 } from "@tapegrad/io";

/** An unsigned index view of `count` elements of `width` bytes at byte `offset` of `buf`. */
function indexView(buf: ArrayBuffer, offset: number, count: number, width: number): IndexArray {
  return width === 1 ? new Uint8Array(buf, offset, count) : width === 2 ? new Uint16Array(buf, offset, count) : new Uint32Array(buf, offset, count);
}

/** The stored lanes of an entry: float32 bit patterns or the 8-bit integers themselves. */
function lanesOf(e: ModelEntry): Lanes {
  return e.dtype === "float32" ? new Uint32Array(e.data.buffer, e.data.byteOffset, e.data.length) : e.data;
}

/** A view of the values section matching the entry's lanes. */
function valuesView(e: ModelEntry, buf: ArrayBuffer, offset: number, count: number): Lanes {
  return e.dtype === "float32" ? new Uint32Array(buf, offset, count) : e.dtype === "qint8" ? new Int8Array(buf, offset, count) : new Uint8Array(buf, offset, count);
}

/** Writes one planned tensor's sections into `out` (payload at `base`). */
function writeTensor(t: PlannedTensor, out: Uint8Array, base: number): void {
  const { entry: e, header: h, mask } = t;
  const buf = out.buffer as ArrayBuffer;
  const at = (ref: SectionRef | undefined): number => base + ref![0];
  const widths: [SectionRef, number][] = [];
  if (e.dtype !== "float32") {
    const s = h.sections.scales!, z = h.sections.zeroPoints!;
    out.set(new Uint8Array(e.scales.buffer, e.scales.byteOffset, e.scales.byteLength), at(s));
    const zv = e.dtype === "qint8" ? new Int8Array(buf, at(z), z[1]) : new Uint8Array(buf, at(z), z[1]);
    for (let c = 0; c < zv.length; c++) zv[c] = e.zeroPoints[c]!;
    widths.push([s, 4]);
  }
  const v = h.sections.values!;
  const vb = e.dtype === "float32" ? 4 : 1;
  if (h.encoding === "dense") {
    out.set(new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength), at(v));
  } else {
    gatherMasked(lanesOf(e), mask!, valuesView(e, buf, at(v), h.nnz));
    if (h.encoding === "bitmask") out.set(mask!, at(h.sections.mask));
    else {
      const [rows, cols] = csrDims(h.shape);
      const rp = h.sections.rowPtr!, ci = h.sections.colIdx!;
      csrFromMask(mask!, rows, cols, indexView(buf, at(rp), rows + 1, h.rowPtrBytes!), indexView(buf, at(ci), h.nnz, h.colIdxBytes!));
      widths.push([rp, h.rowPtrBytes!], [ci, h.colIdxBytes!]);
    }
  }
  widths.push([v, vb]);
  // NOTE: the format is little-endian; typed views write in host order, so big-endian hosts swap.
  if (!LITTLE_ENDIAN) for (const [ref, w] of widths) swapBytes(new Uint8Array(buf, at(ref), ref[1]), w);
}

/**
 * Serialises named tensors and free JSON metadata into the bytes of one compressed-model file
 * (format version 1, layout in the package README): magic `"TGCM"`, version, header length,
 * payload length, a JSON header, the payload aligned to 8 bytes, and a CRC-32 of everything
 * before it. Each tensor is stored as
 * - float32 dense, or pruned as a **bitmask** + the stored values, or as **CSR** (row pointers +
 *   column indices with the smallest sufficient integer width + values);
 * - int8 (`qint8`/`quint8`) with per-tensor or per-channel float32 scales and zero points, dense or
 *   pruned (bitmask / CSR of the integers that differ from their zero point).
 *
 * With `layout: "auto"` (default) the smallest of dense, bitmask and CSR is chosen by its real
 * byte size; `"sparse"` picks the smaller sparse one; `"dense"` forces dense. `decodeModel` reports
 * the choice as each entry's `encoding`. The returned length is the real size of the model (no
 * estimate). Inputs are never modified.
 *
 * @throws {TypeError} for a non-array `entries`, an entry that is not an object, a missing name,
 * an unknown dtype or layout, data of the wrong typed-array kind, or `meta` that JSON cannot
 * serialise; {RangeError} for duplicate names, a bad shape, a data length that is not the shape's
 * element count, an axis out of range, scales that are not finite and > 0 (or of the wrong
 * count), zero points outside the dtype's range, or a file over 4 GiB. Messages name
 * `encodeModel`, the entry and the value.
 * @example
 * ```ts
 * const bytes = encodeModel([
 *   { name: "fc1.weight", dtype: "float32", shape: [256, 784], data: w1, signedZeros: false }, // pruned: auto-sparse
 *   { name: "fc1.bias", dtype: "float32", shape: [256], data: b1 },
 *   { name: "fc2.weight", dtype: "qint8", shape: [10, 256], data: q2, scales: s2, zeroPoints: new Int32Array(10), axis: 0 },
 * ], { arch: "mlp", layers: ["linear", "relu", "linear"] });
 * const { entries, meta } = decodeModel(bytes);
 * ```
 */
export function encodeModel(entries: readonly ModelEntry[], meta?: unknown): Uint8Array {
  const plan = planModel(entries, meta);
  const out = new Uint8Array(plan.totalBytes);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint32(4, FORMAT_VERSION, true);
  dv.setUint32(8, plan.headerBytes.length, true);
  dv.setUint32(12, plan.payloadBytes, true);
  out.set(plan.headerBytes, PREFIX_BYTES);
  for (const t of plan.tensors) writeTensor(t, out, plan.payloadStart);
  const crcAt = plan.totalBytes - 4;
  dv.setUint32(crcAt, crc32(out, 0, crcAt), true);
  return out;
}
