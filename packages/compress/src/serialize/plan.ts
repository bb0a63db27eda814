/**
 * @file Planning a file before writing it: validating the entries, choosing each tensor's
 * encoding by its real size, laying out the sections, and sizing the whole file. `encodeModel`
 * writes exactly this plan; `fp32Bytes` sizes the dense float32 plan of the same tensors.
 */
import {
  CRC_BYTES, PAYLOAD_ALIGN, PREFIX_BYTES, SECTION_ALIGN, alignUp, csrDims, dtypeRange, indexWidth,
  type Encoding, type Header, type HeaderTensor, type LayoutChoice, type ModelEntry, type SectionRef,
} from "./types.js";
import { floatStoredMask, int8StoredMask } from "./sparse.js";

/** One tensor of a plan: its header record, the validated entry, and the stored-element mask of sparse layouts. */
export interface PlannedTensor {
  header: HeaderTensor;
  entry: ModelEntry;
  /** Channel axis after normalisation (int8), else null. */
  axis: number | null;
  mask: Uint8Array | null;
}

/** A whole file, sized but not written. */
export interface Plan {
  tensors: PlannedTensor[];
  headerBytes: Uint8Array;
  payloadStart: number;
  payloadBytes: number;
  totalBytes: number;
}

const LAYOUTS: readonly LayoutChoice[] = ["auto", "sparse", "dense"];
/** Largest file the u32 length fields can describe. */
const MAX_BYTES = 0xffffffff;

/**
 * A short description of a value for error messages (`"Float32Array(12)"`, `[2,3]`, `"abc"`).
 *
 * @throws Never throws.
 * @example
 * ```ts
 * describeValue(new Int8Array(3)); // "Int8Array(3)"
 * ```
 */
export function describeValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return JSON.stringify(v).slice(0, 80);
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as ArrayLike<number>).length})`;
  return typeof v === "object" ? (v as object).constructor?.name ?? "object" : typeof v;
}

/**
 * Checks a shape (array of non-negative integers) and returns its element count.
 *
 * @throws {RangeError} naming `what` and the shape when it is not a valid shape.
 * @example
 * ```ts
 * shapeElements([2, 3], "encodeModel: entry 0"); // 6
 * ```
 */
export function shapeElements(shape: unknown, what: string): number {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new RangeError(`${what}: shape must be an array of non-negative integers (got ${describeValue(shape)})`);
  }
  let n = 1;
  for (const d of shape as number[]) n *= d;
  if (n > MAX_BYTES) throw new RangeError(`${what}: shape ${JSON.stringify(shape)} has ${n} elements, more than a file can hold`);
  return n;
}

/** Section byte lengths of a tensor in one encoding, in file order. */
function sectionLengths(dtype: HeaderTensor["dtype"], encoding: Encoding, n: number, nnz: number, channels: number, shape: readonly number[]): [string, number][] {
  const vb = dtype === "float32" ? 4 : 1;
  const q: [string, number][] = dtype === "float32" ? [] : [["scales", 4 * channels], ["zeroPoints", channels]];
  if (encoding === "dense") return [...q, ["values", n * vb]];
  if (encoding === "bitmask") return [...q, ["mask", (n + 7) >>> 3], ["values", nnz * vb]];
  const [rows, cols] = csrDims(shape);
  return [...q, ["rowPtr", (rows + 1) * indexWidth(nnz)], ["colIdx", nnz * indexWidth(Math.max(cols - 1, 0))], ["values", nnz * vb]];
}

/** Bytes the sections take laid out one after the other from an aligned offset. */
function laidOutBytes(lengths: [string, number][]): number {
  let off = 0;
  for (const [, len] of lengths) off = alignUp(off, SECTION_ALIGN) + len;
  return off;
}

/**
 * The header record of a tensor in `encoding` (sections not placed yet: offsets 0).
 *
 * @throws Never throws.
 * @example
 * ```ts
 * headerTensor("fc.weight", "float32", [4, 3], "dense", 12, null);
 * ```
 */
export function headerTensor(name: string, dtype: HeaderTensor["dtype"], shape: readonly number[], encoding: Encoding, nnz: number, axis: number | null): HeaderTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const channels = axis === null ? 1 : shape[axis]!;
  const sections = Object.fromEntries(sectionLengths(dtype, encoding, n, nnz, channels, shape).map(([k, len]) => [k, [0, len] as SectionRef]));
  const h: HeaderTensor = { name, dtype, shape: [...shape], encoding, nnz, sections };
  if (encoding === "csr") {
    h.rowPtrBytes = indexWidth(nnz);
    h.colIdxBytes = indexWidth(Math.max(csrDims(shape)[1] - 1, 0));
  }
  if (dtype !== "float32") h.axis = axis;
  return h;
}

/** Validates one entry; returns its element count and normalised axis. */
function checkEntry(e: ModelEntry, i: number, names: Set<string>): { n: number; axis: number | null } {
  const at = `encodeModel: entry ${i}`;
  if (e === null || typeof e !== "object") throw new TypeError(`${at} must be an object (got ${describeValue(e)})`);
  if (typeof e.name !== "string" || e.name.length === 0) throw new TypeError(`${at}: name must be a non-empty string (got ${describeValue(e.name)})`);
  const what = `${at} (${JSON.stringify(e.name)})`;
  if (names.has(e.name)) throw new RangeError(`${what}: duplicate name`);
  names.add(e.name);
  if (e.layout !== undefined && !LAYOUTS.includes(e.layout)) throw new TypeError(`${what}: layout must be "auto", "sparse" or "dense" (got ${describeValue(e.layout)})`);
  const n = shapeElements(e.shape, what);
  if (e.dtype === "float32") {
    if (!(e.data instanceof Float32Array)) throw new TypeError(`${what}: float32 data must be a Float32Array (got ${describeValue(e.data)})`);
    if (e.data.length !== n) throw new RangeError(`${what}: shape ${JSON.stringify(e.shape)} has ${n} elements but data has ${e.data.length}`);
    if (e.signedZeros !== undefined && typeof e.signedZeros !== "boolean") throw new TypeError(`${what}: signedZeros must be a boolean (got ${describeValue(e.signedZeros)})`);
    return { n, axis: null };
  }
  if (e.dtype !== "qint8" && e.dtype !== "quint8") throw new TypeError(`${what}: dtype must be "float32", "qint8" or "quint8" (got ${describeValue((e as { dtype: unknown }).dtype)})`);
  const want = e.dtype === "qint8" ? Int8Array : Uint8Array;
  if (!(e.data instanceof want)) throw new TypeError(`${what}: ${e.dtype} data must be an ${want.name} (got ${describeValue(e.data)})`);
  if (e.data.length !== n) throw new RangeError(`${what}: shape ${JSON.stringify(e.shape)} has ${n} elements but data has ${e.data.length}`);
  let axis: number | null = e.axis ?? null;
  const nd = e.shape.length;
  if (axis !== null) {
    if (!Number.isInteger(axis) || axis < -nd || axis >= nd) throw new RangeError(`${what}: axis ${describeValue(axis)} is out of range for shape ${JSON.stringify(e.shape)}`);
    if (axis < 0) axis += nd;
  }
  const channels = axis === null ? 1 : e.shape[axis]!;
  if (!(e.scales instanceof Float32Array) || e.scales.length !== channels) {
    throw new RangeError(`${what}: scales must be a Float32Array of ${channels} (${axis === null ? "per tensor" : `shape[${axis}]`}) (got ${describeValue(e.scales)})`);
  }
  for (let c = 0; c < channels; c++) {
    const s = e.scales[c]!;
    if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`${what}: scale ${c} must be finite and > 0 (got ${s})`);
  }
  const zps = e.zeroPoints;
  if (zps === null || typeof zps !== "object" || zps.length !== channels) throw new RangeError(`${what}: zeroPoints must hold ${channels} integers (got ${describeValue(zps)})`);
  const [lo, hi] = dtypeRange(e.dtype);
  for (let c = 0; c < channels; c++) {
    const z = zps[c]!;
    if (!Number.isInteger(z) || z < lo || z > hi) throw new RangeError(`${what}: zero point ${c} must be an integer in [${lo}, ${hi}] for ${e.dtype} (got ${z})`);
  }
  return { n, axis };
}

/** Picks the encoding for one entry (computing the stored-element mask when a sparse layout is possible). */
function chooseEncoding(e: ModelEntry, n: number, axis: number | null): PlannedTensor {
  const layout = e.layout ?? "auto";
  if (layout === "dense") return { entry: e, axis, mask: null, header: headerTensor(e.name, e.dtype, e.shape, "dense", n, axis) };
  const { mask, nnz } = e.dtype === "float32" ? floatStoredMask(e.data, e.signedZeros ?? true) : int8StoredMask(e.data, e.shape, axis, e.zeroPoints);
  const candidates: Encoding[] = layout === "auto" ? ["dense", "bitmask", "csr"] : ["bitmask", "csr"];
  let best: HeaderTensor | null = null;
  let bestBytes = Infinity;
  for (const enc of candidates) {
    const h = headerTensor(e.name, e.dtype, e.shape, enc, enc === "dense" ? n : nnz, axis);
    const bytes = laidOutBytes(Object.entries(h.sections).map(([k, [, len]]) => [k, len]));
    if (bytes < bestBytes) {
      best = h;
      bestBytes = bytes;
    }
  }
  return { entry: e, axis, mask: best!.encoding === "dense" ? null : mask, header: best! };
}

/**
 * Places the sections of `headers` one after the other (each at a multiple of
 * {@link SECTION_ALIGN}), serialises the JSON header and sizes the file.
 *
 * @throws {TypeError} when `meta` cannot be serialised as JSON; {RangeError} when the file would
 * exceed 4 GiB.
 * @example
 * ```ts
 * const { totalBytes } = layoutFile(headers, { arch: "mlp" }, "fp32Bytes");
 * ```
 */
export function layoutFile(headers: HeaderTensor[], meta: unknown, op: string): { headerBytes: Uint8Array; payloadStart: number; payloadBytes: number; totalBytes: number } {
  let off = 0;
  for (const h of headers) {
    for (const ref of Object.values(h.sections)) {
      off = alignUp(off, SECTION_ALIGN);
      ref[0] = off;
      off += ref[1];
    }
  }
  const header: Header = { tensors: headers, meta: meta === undefined ? null : meta };
  let json: string;
  try {
    json = JSON.stringify(header);
  } catch (err) {
    throw new TypeError(`${op}: meta is not JSON-serialisable (${(err as Error).message})`);
  }
  const headerBytes = new TextEncoder().encode(json);
  const payloadStart = alignUp(PREFIX_BYTES + headerBytes.length, PAYLOAD_ALIGN);
  const totalBytes = payloadStart + off + CRC_BYTES;
  if (totalBytes > MAX_BYTES) throw new RangeError(`${op}: the file would take ${totalBytes} bytes, more than the format's 4 GiB limit`);
  return { headerBytes, payloadStart, payloadBytes: off, totalBytes };
}

/**
 * Validates the entries, chooses every tensor's encoding by its real byte size, lays out the
 * sections and sizes the file.
 *
 * @throws {TypeError} / {RangeError} naming `encodeModel`, the entry and the value for any invalid
 * entry (see {@link encodeModel}).
 * @example
 * ```ts
 * planModel(entries, meta).totalBytes === encodeModel(entries, meta).length; // true
 * ```
 */
export function planModel(entries: readonly ModelEntry[], meta: unknown): Plan {
  if (!Array.isArray(entries)) throw new TypeError(`encodeModel: entries must be an array (got ${describeValue(entries)})`);
  const names = new Set<string>();
  const tensors = entries.map((e, i) => {
    const { n, axis } = checkEntry(e, i, names);
    return chooseEncoding(e, n, axis);
  });
  return { tensors, ...layoutFile(tensors.map((t) => t.header), meta, "encodeModel") };
}
