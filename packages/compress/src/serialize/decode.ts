/**
 * @file `decodeModel`: the bytes of a compressed-model file → its tensors and metadata, with
 * every field validated before it is used (magic, version, lengths and truncation, CRC-32, the
 * JSON header, encodings, shapes against section lengths, offsets in bounds, sparse indices).
 * Decoded arrays are fresh copies: nothing aliases the input bytes.
 */
import {
  CRC_BYTES, FORMAT_VERSION, LITTLE_ENDIAN, MAGIC, PAYLOAD_ALIGN, PREFIX_BYTES, SECTION_ALIGN, alignUp, csrDims, swapBytes,
  type DecodedEntry, type DecodedModel, type Encoding, type EntryDtype, type HeaderTensor, type SectionRef,
} from "./types.js";
import { channelDims, scatterCsr, scatterMasked, type IndexArray, type Lanes } from "./sparse.js";
import { describeValue, headerTensor, shapeElements } from "./plan.js";

/**
 * A compressed-model file that cannot be decoded (wrong magic, truncated, corrupted, or a header
 * that does not describe valid tensors); the message says which.
 *
 * @example
 * ```ts
 * try { decodeModel(bytes); } catch (e) { if (e instanceof ModelFormatError) console.error(e.message); }
 * ```
 * @throws never (an error class).
 */
export class ModelFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelFormatError";
  }
}
import { crc32 } from "@tapegrad/io";

const OP = "decodeModel";
const DTYPES: readonly EntryDtype[] = ["float32", "qint8", "quint8"];
const ENCODINGS: readonly Encoding[] = ["dense", "bitmask", "csr"];
/** Largest tensor (elements) the decoder allocates. */
const MAX_ELEMENTS = 2 ** 28;

const hex = (v: number): string => `0x${v.toString(16).padStart(8, "0")}`;

/** Checks magic, version, lengths and CRC; returns the header bytes' range and the payload start. */
function checkFrame(bytes: Uint8Array): { headerEnd: number; payloadStart: number; payloadBytes: number } {
  const len = bytes.length;
  for (let i = 0; i < Math.min(len, MAGIC.length); i++) {
    if (bytes[i] !== MAGIC[i]) {
      const got = Array.from(bytes.subarray(0, Math.min(len, 4)), (b) => b.toString(16).padStart(2, "0")).join(" ");
      throw new ModelFormatError(`${OP}: not a tapegrad compressed model (magic bytes ${got}, expected 54 47 43 4d "TGCM")`);
    }
  }
  if (len < PREFIX_BYTES) throw new ModelFormatError(`${OP}: truncated (${len} bytes, the fixed header alone has ${PREFIX_BYTES})`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, len);
  const version = dv.getUint32(4, true);
  if (version !== FORMAT_VERSION) throw new ModelFormatError(`${OP}: unsupported format version ${version} (this build reads version ${FORMAT_VERSION})`);
  const headerBytes = dv.getUint32(8, true);
  const payloadBytes = dv.getUint32(12, true);
  const headerEnd = PREFIX_BYTES + headerBytes;
  if (len < headerEnd) throw new ModelFormatError(`${OP}: truncated (header says ${headerBytes} JSON header bytes, ${len - PREFIX_BYTES} present)`);
  const payloadStart = alignUp(headerEnd, PAYLOAD_ALIGN);
  const total = payloadStart + payloadBytes + CRC_BYTES;
  if (len < payloadStart + payloadBytes) {
    throw new ModelFormatError(`${OP}: truncated (header says ${payloadBytes} payload bytes, ${Math.max(0, len - payloadStart)} present)`);
  }
  if (len < total) throw new ModelFormatError(`${OP}: truncated (the 4-byte CRC-32 is missing, ${len - payloadStart - payloadBytes} of its bytes present)`);
  if (len > total) throw new ModelFormatError(`${OP}: ${len - total} unexpected bytes after the CRC-32 (the header describes ${total} bytes, got ${len})`);
  const stored = dv.getUint32(total - CRC_BYTES, true);
  const actual = crc32(bytes, 0, total - CRC_BYTES);
  if (stored !== actual) throw new ModelFormatError(`${OP}: CRC-32 mismatch (stored ${hex(stored)}, computed ${hex(actual)}): the file is corrupted`);
  return { headerEnd, payloadStart, payloadBytes };
}

/** Parses and shape-checks the JSON header. */
function parseHeader(bytes: Uint8Array, headerEnd: number): { tensors: unknown[]; meta: unknown } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(PREFIX_BYTES, headerEnd)));
  } catch (err) {
    throw new ModelFormatError(`${OP}: the header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (parsed === null || typeof parsed !== "object" || !Array.isArray((parsed as { tensors?: unknown }).tensors)) {
    throw new ModelFormatError(`${OP}: the header must be an object with a "tensors" array (got ${describeValue(parsed)})`);
  }
  const h = parsed as { tensors: unknown[]; meta?: unknown };
  return { tensors: h.tensors, meta: h.meta ?? null };
}

/** Validates one header tensor record against the layout its fields imply; returns it typed. */
function checkTensor(raw: unknown, i: number, payloadBytes: number, names: Set<string>, prevEnd: { at: number }): { h: HeaderTensor; n: number; what: string } {
  let what = `${OP}: tensor ${i}`;
  if (raw === null || typeof raw !== "object") throw new ModelFormatError(`${what}: header record must be an object (got ${describeValue(raw)})`);
  const t = raw as Partial<HeaderTensor>;
  if (typeof t.name !== "string" || t.name.length === 0) throw new ModelFormatError(`${what}: name must be a non-empty string (got ${describeValue(t.name)})`);
  what = `${OP}: tensor ${i} (${JSON.stringify(t.name)})`;
  if (names.has(t.name)) throw new ModelFormatError(`${what}: duplicate name`);
  names.add(t.name);
  if (!DTYPES.includes(t.dtype as EntryDtype)) throw new ModelFormatError(`${what}: unknown dtype ${describeValue(t.dtype)} (expected "float32", "qint8" or "quint8")`);
  if (!ENCODINGS.includes(t.encoding as Encoding)) throw new ModelFormatError(`${what}: unknown encoding ${describeValue(t.encoding)} (expected "dense", "bitmask" or "csr")`);
  const n = shapeElements(t.shape, what);
  if (n > MAX_ELEMENTS) throw new ModelFormatError(`${what}: shape ${JSON.stringify(t.shape)} has ${n} elements, more than the decoder's limit of ${MAX_ELEMENTS}`);
  const shape = t.shape!;
  if (!Number.isInteger(t.nnz) || t.nnz! < 0 || t.nnz! > n || (t.encoding === "dense" && t.nnz !== n)) {
    throw new ModelFormatError(`${what}: stored element count ${describeValue(t.nnz)} is not valid for ${n} elements in ${t.encoding} encoding`);
  }
  let axis: number | null = null;
  if (t.dtype !== "float32") {
    if (t.axis !== null && (!Number.isInteger(t.axis) || t.axis! < 0 || t.axis! >= shape.length)) {
      throw new ModelFormatError(`${what}: channel axis ${describeValue(t.axis)} is out of range for shape ${JSON.stringify(shape)}`);
    }
    axis = t.axis ?? null;
  }
  const want = headerTensor(t.name, t.dtype!, shape, t.encoding!, t.nnz!, axis);
  if (want.rowPtrBytes !== t.rowPtrBytes || want.colIdxBytes !== t.colIdxBytes) {
    throw new ModelFormatError(`${what}: CSR index widths ${describeValue(t.rowPtrBytes)}/${describeValue(t.colIdxBytes)} bytes, expected ${want.rowPtrBytes}/${want.colIdxBytes}`);
  }
  const sections = t.sections as Record<string, unknown> | undefined;
  const keys = Object.keys(want.sections);
  if (sections === null || typeof sections !== "object" || Object.keys(sections).join() !== keys.join()) {
    throw new ModelFormatError(`${what}: sections must be ${keys.join(", ")} for ${t.dtype} ${t.encoding} (got ${describeValue(sections && Object.keys(sections))})`);
  }
  for (const k of keys) {
    const ref = sections[k];
    const len = want.sections[k]![1];
    if (!Array.isArray(ref) || ref.length !== 2 || !Number.isInteger(ref[0]) || !Number.isInteger(ref[1])) throw new ModelFormatError(`${what}: section ${k} must be [offset, byteLength] (got ${describeValue(ref)})`);
    const [off, got] = ref as SectionRef;
    if (got !== len) throw new ModelFormatError(`${what}: section ${k} has ${got} bytes, but shape ${JSON.stringify(shape)} with ${t.nnz} stored elements needs ${len}`);
    if (off % SECTION_ALIGN !== 0 || off < prevEnd.at || off + len > payloadBytes) {
      throw new ModelFormatError(`${what}: section ${k} at payload offset ${off} (+${len} bytes) is misaligned, overlaps an earlier section or lies outside the ${payloadBytes} payload bytes`);
    }
    prevEnd.at = off + len;
  }
  return { h: t as HeaderTensor, n, what };
}

/** A fresh copy of a section, byte-swapped to host order on big-endian hosts. */
function section(bytes: Uint8Array, base: number, ref: SectionRef, width: number): ArrayBuffer {
  const copy = bytes.slice(base + ref[0], base + ref[0] + ref[1]);
  if (!LITTLE_ENDIAN) swapBytes(copy, width);
  return copy.buffer as ArrayBuffer;
}

function indexArray(buf: ArrayBuffer, width: number): IndexArray {
  return width === 1 ? new Uint8Array(buf) : width === 2 ? new Uint16Array(buf) : new Uint32Array(buf);
}

/** Decodes one validated tensor. */
function decodeTensor(bytes: Uint8Array, base: number, h: HeaderTensor, n: number, what: string): DecodedEntry {
  const s = h.sections;
  const float = h.dtype === "float32";
  const vb = float ? 4 : 1;
  const valuesBuf = section(bytes, base, s.values!, vb);
  const values: Lanes = float ? new Uint32Array(valuesBuf) : h.dtype === "qint8" ? new Int8Array(valuesBuf) : new Uint8Array(valuesBuf);
  let data: Float32Array | Int8Array | Uint8Array;
  let scales: Float32Array | null = null;
  let zeroPoints: Int32Array | null = null;
  const axis = h.axis ?? null;
  if (!float) {
    scales = new Float32Array(section(bytes, base, s.scales!, 4));
    for (let c = 0; c < scales.length; c++) {
      if (!(scales[c]! > 0) || !Number.isFinite(scales[c]!)) throw new ModelFormatError(`${what}: scale ${c} must be finite and > 0 (got ${scales[c]})`);
    }
    const z = section(bytes, base, s.zeroPoints!, 1);
    zeroPoints = Int32Array.from(h.dtype === "qint8" ? new Int8Array(z) : new Uint8Array(z));
  }
  if (h.encoding === "dense") {
    data = float ? new Float32Array(valuesBuf) : (values as Int8Array | Uint8Array);
  } else {
    data = float ? new Float32Array(n) : h.dtype === "qint8" ? new Int8Array(n) : new Uint8Array(n);
    if (!float) fillZeroPoints(data as Int8Array | Uint8Array, h.shape, axis, zeroPoints!);
    const lanes: Lanes = float ? new Uint32Array(data.buffer) : (data as Int8Array | Uint8Array);
    if (h.encoding === "bitmask") scatterMasked(values, bytes.subarray(base + s.mask![0], base + s.mask![0] + s.mask![1]), lanes, n, what);
    else {
      const [rows, cols] = csrDims(h.shape);
      const rowPtr = indexArray(section(bytes, base, s.rowPtr!, h.rowPtrBytes!), h.rowPtrBytes!);
      const colIdx = indexArray(section(bytes, base, s.colIdx!, h.colIdxBytes!), h.colIdxBytes!);
      scatterCsr(rowPtr, colIdx, values, rows, cols, lanes, what);
    }
  }
  const bytesUsed = Object.values(s).reduce((a, r) => a + r[1], 0);
  const shape = [...h.shape];
  if (float) return { name: h.name, dtype: "float32", shape, data: data as Float32Array, encoding: h.encoding, bytes: bytesUsed };
  return { name: h.name, dtype: h.dtype as "qint8" | "quint8", shape, data: data as Int8Array | Uint8Array, scales: scales!, zeroPoints: zeroPoints!, axis, encoding: h.encoding, bytes: bytesUsed };
}

/** Fills `data` with each element's channel zero point (the value of unstored int8 elements). */
function fillZeroPoints(data: Int8Array | Uint8Array, shape: readonly number[], axis: number | null, zps: Int32Array): void {
  const [outer, channels, inner] = channelDims(shape, axis);
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++, i += inner) data.fill(zps[axis === null ? 0 : c]!, i, i + inner);
  }
}

/**
 * Reads a compressed-model file made by {@link encodeModel}: its tensors (in file order, each
 * with the `encoding` the file uses and its section `bytes`) and its metadata. Every field is
 * validated before use — magic, version, truncation (with the lengths the header promises),
 * trailing bytes, the CRC-32, the JSON header, dtypes and encodings, shapes against section
 * lengths, offsets inside the payload, bitmask counts and CSR indices, int8 scales — and any
 * violation throws an `Error` naming `decodeModel` and the values, e.g.
 * `decodeModel: truncated (header says 4096 payload bytes, 1000 present)`. Decoded arrays are
 * fresh copies (bit-exact, `-0` included); the input is not modified.
 *
 * @throws {TypeError} when `bytes` is not a Uint8Array or ArrayBuffer; {Error} for any invalid,
 * truncated or corrupted file (see above).
 * @example
 * ```ts
 * const { entries, meta } = decodeModel(encodeModel(entries, { arch: "mlp" }));
 * entries[0].encoding; // "csr" for a 95 %-pruned weight
 * ```
 */
export function decodeModel(bytes: Uint8Array | ArrayBuffer): DecodedModel {
  if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${OP}: bytes must be a Uint8Array or ArrayBuffer (got ${describeValue(bytes)})`);
  const { headerEnd, payloadStart, payloadBytes } = checkFrame(bytes);
  const { tensors, meta } = parseHeader(bytes, headerEnd);
  const names = new Set<string>();
  const prevEnd = { at: 0 };
  const checked = tensors.map((raw, i) => checkTensor(raw, i, payloadBytes, names, prevEnd));
  const entries = checked.map(({ h, n, what }) => decodeTensor(bytes as Uint8Array, payloadStart, h, n, what));
  return { entries, meta };
}
