/**
 * @file Types and constants of the compressed-model format: the tensor entries accepted by
 * `encodeModel` and returned by `decodeModel`, the per-tensor encodings, and the fixed layout
 * (magic, version, header and payload lengths, alignment).
 *
 * File layout (all integers little-endian):
 *
 * | bytes | content |
 * | --- | --- |
 * | 0–3 | magic `"TGCM"` |
 * | 4–7 | format version (u32, {@link FORMAT_VERSION}) |
 * | 8–11 | header length H (u32): bytes of the UTF-8 JSON header |
 * | 12–15 | payload length P (u32) |
 * | 16 … 16+H | JSON header `{ "tensors": [...], "meta": ... }` |
 * | … | zero padding to a multiple of {@link PAYLOAD_ALIGN} |
 * | payload | P bytes: every tensor's sections, each at a multiple of {@link SECTION_ALIGN} |
 * | last 4 | CRC-32 (u32) of every byte before it |
 */

/**
 * The four magic bytes at the start of every file: ASCII `"TGCM"` (tapegrad compressed model).
 *
 * @throws Never throws.
 * @example
 * ```ts
 * MAGIC.every((b, i) => bytes[i] === b); // a compressed-model file
 * ```
 */
export const MAGIC: readonly number[] = [0x54, 0x47, 0x43, 0x4d];

/**
 * The format version written by `encodeModel` and the only one `decodeModel` reads (bytes 4–7).
 *
 * @throws Never throws.
 * @example
 * ```ts
 * new DataView(bytes.buffer).getUint32(4, true) === FORMAT_VERSION; // true
 * ```
 */
export const FORMAT_VERSION = 1;

/**
 * Bytes of the fixed prefix: magic, version, header length, payload length (u32 each).
 *
 * @throws Never throws.
 * @example
 * ```ts
 * const json = bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength);
 * ```
 */
export const PREFIX_BYTES = 16;

/**
 * The payload starts at a multiple of this many bytes from the start of the file.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * const payloadStart = alignUp(PREFIX_BYTES + headerLength, PAYLOAD_ALIGN);
 * ```
 */
export const PAYLOAD_ALIGN = 8;

/**
 * Every section starts at a multiple of this many bytes from the start of the payload.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * offset = alignUp(offset, SECTION_ALIGN);
 * ```
 */
export const SECTION_ALIGN = 4;

/**
 * Bytes of the trailing CRC-32.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * const stored = view.getUint32(bytes.length - CRC_BYTES, true);
 * ```
 */
export const CRC_BYTES = 4;

/** Element types of the stored tensors: float32 values, or torch's 8-bit quantized integers. */
export type EntryDtype = "float32" | "qint8" | "quint8";

/**
 * How a tensor is laid out in the file:
 * - `"dense"`: every element;
 * - `"bitmask"`: one bit per element (LSB first) marking the stored elements, then the stored
 *   values in row-major order;
 * - `"csr"`: compressed sparse rows over the tensor viewed as `[shape[0], rest]` (1-D and 0-d
 *   tensors as one row): row pointers and column indices, each with the smallest of 1, 2 or 4
 *   bytes that can hold them, then the stored values.
 *
 * For float32 the unstored elements are `+0` (see {@link Float32Entry.signedZeros}); for int8 they
 * are the zero point of their channel (they dequantize to 0).
 */
export type Encoding = "dense" | "bitmask" | "csr";

/**
 * What `encodeModel` may choose for a tensor: `"auto"` (default) the smallest of dense, bitmask
 * and CSR; `"sparse"` the smaller of bitmask and CSR; `"dense"` always dense.
 */
export type LayoutChoice = "auto" | "sparse" | "dense";

/** A float32 tensor to store. */
export interface Float32Entry {
  /** Unique name, e.g. `"fc1.weight"`. */
  name: string;
  dtype: "float32";
  /** Shape (non-negative integers); `[]` for a 0-d tensor. */
  shape: readonly number[];
  /** Row-major values, `shapeSize(shape)` of them (never modified). */
  data: Float32Array;
  /** Layout choice (default `"auto"`). */
  layout?: LayoutChoice;
  /**
   * Sparse layouts only. `true` (default): only `+0` is left out, so `-0` is stored like any other
   * value and the round trip is bit-exact. `false`: `-0` counts as zero too and decodes as `+0`;
   * use it for weights pruned as `orig * mask`, whose masked negative entries are `-0`.
   */
  signedZeros?: boolean;
}

/** An 8-bit quantized tensor to store (torch's `int_repr` plus its quantization parameters). */
export interface Int8Entry {
  /** Unique name, e.g. `"fc1.weight"`. */
  name: string;
  /** `"qint8"` (data `Int8Array`, range [-128, 127]) or `"quint8"` (data `Uint8Array`, [0, 255]). */
  dtype: "qint8" | "quint8";
  /** Shape (non-negative integers); `[]` for a 0-d tensor. */
  shape: readonly number[];
  /** Row-major stored integers, `shapeSize(shape)` of them (never modified). */
  data: Int8Array | Uint8Array;
  /** Per-tensor: one scale; per-channel: `shape[axis]` scales. Finite and > 0. */
  scales: Float32Array;
  /** One zero point per scale, integers in the dtype's range. */
  zeroPoints: Int32Array | readonly number[];
  /** Channel axis of per-channel quantization; `null`/absent for per-tensor. */
  axis?: number | null;
  /** Layout choice (default `"auto"`); the unstored elements are the zero points. */
  layout?: LayoutChoice;
}

/** A tensor entry of {@link encodeModel}. */
export type ModelEntry = Float32Entry | Int8Entry;

/** A float32 tensor read back by `decodeModel`. */
export interface DecodedFloat32Entry {
  name: string;
  dtype: "float32";
  shape: number[];
  data: Float32Array;
  /** The layout the file uses for this tensor. */
  encoding: Encoding;
  /** Bytes of this tensor's sections in the payload (without alignment padding). */
  bytes: number;
}

/** An 8-bit quantized tensor read back by `decodeModel`. */
export interface DecodedInt8Entry {
  name: string;
  dtype: "qint8" | "quint8";
  shape: number[];
  data: Int8Array | Uint8Array;
  scales: Float32Array;
  zeroPoints: Int32Array;
  /** Channel axis, or `null` for per-tensor quantization. */
  axis: number | null;
  /** The layout the file uses for this tensor. */
  encoding: Encoding;
  /** Bytes of this tensor's sections in the payload (without alignment padding). */
  bytes: number;
}

/** A tensor entry returned by {@link decodeModel}. */
export type DecodedEntry = DecodedFloat32Entry | DecodedInt8Entry;

/** A decoded model: the tensors in file order and the free JSON metadata. */
export interface DecodedModel {
  entries: DecodedEntry[];
  /** The metadata passed to `encodeModel` (after a JSON round trip), `null` when none. */
  meta: unknown;
}

/** Byte offset (from the payload start) and byte length of one section. */
export type SectionRef = [offset: number, byteLength: number];

/** One tensor in the JSON header. */
export interface HeaderTensor {
  name: string;
  dtype: EntryDtype;
  shape: number[];
  encoding: Encoding;
  /** Stored elements (all of them for dense). */
  nnz: number;
  /** Sparse/CSR index widths in bytes (1, 2 or 4); CSR only. */
  rowPtrBytes?: number;
  colIdxBytes?: number;
  /** Channel axis (int8 only; `null` = per tensor). */
  axis?: number | null;
  /** Named sections: `values`, and `mask` / `rowPtr`+`colIdx`, and `scales`+`zeroPoints` for int8. */
  sections: Record<string, SectionRef>;
}

/** The JSON header. */
export interface Header {
  tensors: HeaderTensor[];
  meta: unknown;
}

/**
 * True on little-endian hosts (all current browsers and Node platforms); the format is
 * little-endian, so big-endian hosts byte-swap each multi-byte section.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * if (!LITTLE_ENDIAN) swapBytes(section, 4);
 * ```
 */
export const LITTLE_ENDIAN: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * `n` rounded up to a multiple of `a`.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * alignUp(13, 4); // 16
 * ```
 */
export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/**
 * Smallest unsigned width (1, 2 or 4 bytes) that holds `max`.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * indexWidth(255); // 1
 * indexWidth(256); // 2
 * ```
 */
export function indexWidth(max: number): 1 | 2 | 4 {
  return max <= 0xff ? 1 : max <= 0xffff ? 2 : 4;
}

/**
 * Rows and columns of the CSR view of `shape`: `[shape[0], product of the rest]`, or one row for
 * 0-d and 1-D tensors.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * csrDims([16, 3, 3, 3]); // [16, 27]
 * csrDims([10]); // [1, 10]
 * ```
 */
export function csrDims(shape: readonly number[]): [rows: number, cols: number] {
  if (shape.length < 2) return [1, shape.length === 0 ? 1 : shape[0]!];
  let cols = 1;
  for (let d = 1; d < shape.length; d++) cols *= shape[d]!;
  return [shape[0]!, cols];
}

/**
 * Integer range `[qmin, qmax]` of an 8-bit dtype.
 *
 * @throws Never throws.
 * @example
 * ```ts
 * dtypeRange("quint8"); // [0, 255]
 * ```
 */
export function dtypeRange(dtype: "qint8" | "quint8"): [number, number] {
  return dtype === "qint8" ? [-128, 127] : [0, 255];
}

/**
 * Reverses the byte order of every `width`-byte word of `bytes` in place (width 1: nothing to do).
 *
 * @throws Never throws.
 * @example
 * ```ts
 * swapBytes(section, 4); // float32 / u32 words
 * ```
 */
export function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i + width <= bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}
