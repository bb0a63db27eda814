/**
 * @file Reader for the IDX format of MNIST-style datasets (big-endian header: two zero bytes, a
 * type code, the rank, then one 32-bit size per dimension, then the data), with gzip handled by
 * the platform's `DecompressionStream` (Node ≥ 18 and browsers), so no dependency is needed.
 */
import { Tensor } from "@tapegrad/tensor";

/** Element types of IDX files. */
export type IdxType = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";

/** A decoded IDX array. */
export interface IdxArray {
  dims: number[];
  type: IdxType;
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const TYPES: Record<number, [IdxType, number]> = {
  0x08: ["uint8", 1], 0x09: ["int8", 1], 0x0b: ["int16", 2], 0x0c: ["int32", 4], 0x0d: ["float32", 4], 0x0e: ["float64", 8],
};

/**
 * True when `bytes` start with the gzip magic number.
 *
 * @throws never.
 * @example
 * ```ts
 * isGzip(new Uint8Array([0x1f, 0x8b])); // true
 * ```
 */
export function isGzip(bytes: Uint8Array): boolean {
  checkBytes("isGzip", bytes);
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Throws a TypeError naming `op` unless `bytes` is a Uint8Array. */
function checkBytes(op: string, bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${op}: bytes must be a Uint8Array (got ${bytes === null ? "null" : typeof bytes})`);
}

/**
 * Decompresses gzip data with the platform's `DecompressionStream`.
 *
 * NOTE (V8): web streams detach ArrayBuffers, and the first detach in a process makes later
 * typed-array loops slower (about 2x for simple kernels). In Node, prefer `node:zlib`'s
 * `gunzipSync` and {@link decodeIdx}; this function is for browsers.
 *
 * @throws {Error} when the platform lacks DecompressionStream; {TypeError} when `bytes` is not a
 * Uint8Array; {RangeError} when the data is not valid gzip.
 * @example
 * ```ts
 * const raw = await gunzip(gzBytes);
 * ```
 */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  if (typeof DecompressionStream !== "function") throw new Error("gunzip: this platform has no DecompressionStream (needs Node >= 18 or a modern browser)");
  checkBytes("gunzip", bytes);
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream("gzip"));
  try {
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new RangeError(`gunzip: not valid gzip data (${e instanceof Error ? e.message : String(e)})`);
  }
}

/**
 * Decodes an uncompressed IDX buffer.
 *
 * @throws {TypeError} when `bytes` is not a Uint8Array; {RangeError} for a bad magic number,
 * unknown type or truncated data.
 * @example
 * ```ts
 * const { dims, data } = decodeIdx(raw); // dims [60000, 28, 28] for MNIST images
 * ```
 */
export function decodeIdx(bytes: Uint8Array): IdxArray {
  checkBytes("decodeIdx", bytes);
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new RangeError("decodeIdx: not an IDX file (bad magic number)");
  const t = TYPES[bytes[2]!];
  if (!t) throw new RangeError(`decodeIdx: unknown element type 0x${bytes[2]!.toString(16)}`);
  const [type, width] = t;
  const rank = bytes[3]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 + 4 * rank) throw new RangeError("decodeIdx: truncated header");
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * rank;
  if (bytes.length < start + count * width) throw new RangeError(`decodeIdx: truncated data (expected ${count * width} bytes after the header, got ${bytes.length - start})`);
  let data: IdxArray["data"];
  switch (type) {
    case "uint8": data = bytes.slice(start, start + count); break;
    case "int8": data = new Int8Array(bytes.slice(start, start + count).buffer); break;
    default: {
      const out = type === "int16" ? new Int16Array(count) : type === "int32" ? new Int32Array(count) : type === "float32" ? new Float32Array(count) : new Float64Array(count);
      for (let i = 0; i < count; i++) {
        const at = start + i * width;
        out[i] = type === "int16" ? view.getInt16(at, false) : type === "int32" ? view.getInt32(at, false) : type === "float32" ? view.getFloat32(at, false) : view.getFloat64(at, false);
      }
      data = out;
    }
  }
  return { dims, type, data };
}

/**
 * Decodes IDX bytes, gunzipping them first when they are gzip-compressed.
 *
 * @throws as {@link decodeIdx} and {@link gunzip}.
 * @example
 * ```ts
 * const images = await readIdx(await fs.readFile("train-images-idx3-ubyte.gz"));
 * ```
 */
export async function readIdx(bytes: Uint8Array): Promise<IdxArray> {
  checkBytes("readIdx", bytes);
  return decodeIdx(isGzip(bytes) ? await gunzip(bytes) : bytes);
}

/**
 * IDX images (`uint8`, `[N, ...]`) as a float tensor `[N, prod(rest)]` scaled to [0, 1].
 *
 * @throws {TypeError} for a non-uint8 array (or not an IdxArray).
 * @example
 * ```ts
 * const x = idxToImages(await readIdx(bytes)); // [60000, 784]
 * ```
 */
export function idxToImages(a: IdxArray): Tensor {
  if (a === null || typeof a !== "object" || a.type !== "uint8") throw new TypeError(`idxToImages: expected uint8 pixels (got ${a === null || typeof a !== "object" ? String(a) : a.type})`);
  const n = a.dims[0] ?? 0;
  const per = a.dims.slice(1).reduce((x, y) => x * y, 1);
  const out = new Float32Array(n * per);
  const d = a.data;
  for (let i = 0; i < out.length; i++) out[i] = d[i]! / 255;
  return new Tensor(out, [n, per]);
}

/**
 * IDX labels as an Int32Array.
 *
 * @throws {TypeError} when `a` is not an IdxArray; {RangeError} for a non-1-D array.
 * @example
 * ```ts
 * const y = idxToLabels(await readIdx(labelBytes));
 * ```
 */
export function idxToLabels(a: IdxArray): Int32Array {
  if (a === null || typeof a !== "object" || !Array.isArray(a.dims)) throw new TypeError(`idxToLabels: expected an IdxArray (got ${a === null ? "null" : typeof a})`);
  if (a.dims.length !== 1) throw new RangeError(`idxToLabels: expected a 1-D array (got dims ${JSON.stringify(a.dims)})`);
  return Int32Array.from(a.data as ArrayLike<number>);
}
