/**
 * @file `readSafetensors`: checks a whole safetensors file (length prefix, header, layout) and
 * returns its metadata and tensors with a copy of each tensor's raw little-endian bytes (a copy,
 * so data at odd offsets is never viewed unaligned).
 */
import type { Dtype } from "./dtype.js";
import { SafetensorsError } from "./errors.js";
import { validateHeader } from "./header.js";
import { parseJsonStrict } from "./json.js";

/**
 * The reference's limit on the header length `N`.
 *
 * @example
 * ```ts
 * MAX_HEADER_SIZE; // 100000000
 * ```
 * @throws never (a constant).
 */
export const MAX_HEADER_SIZE = 100_000_000;

/** One tensor of a safetensors file, as stored. */
export interface SafeTensor {
  /** Its key in the header. */
  readonly name: string;
  /** The stored dtype. */
  readonly dtype: Dtype;
  /** Sizes per dimension (`[]` for a 0-d tensor). */
  readonly shape: readonly number[];
  /** `[BEGIN, END)` relative to the start of the byte buffer. */
  readonly dataOffsets: readonly [number, number];
  /** A copy of the raw little-endian bytes (`END - BEGIN` of them). */
  readonly bytes: Uint8Array;
}

/** What {@link readSafetensors} returns. */
export interface SafetensorsFile {
  /** `__metadata__`, or null when the header has none. */
  metadata: Record<string, string> | null;
  /** The tensors in buffer order. */
  tensors: SafeTensor[];
  /** The header length `N` (padding included). */
  headerLength: number;
}

/**
 * Reads a safetensors file from its bytes. Every check of the format is made (see
 * {@link SafetensorsError} for the categories); nothing is returned for a malformed file.
 *
 * @throws {SafetensorsError} for a malformed file: `truncated`, `header_too_large`,
 * `invalid_json`, `invalid_header`, `dtype`, `duplicate`, `size_mismatch`, `overlap`, `gap`,
 * `trailing_bytes`.
 * @throws {TypeError} when `bytes` is not a Uint8Array.
 * @example
 * ```ts
 * const { metadata, tensors } = readSafetensors(new Uint8Array(await (await fetch("model.safetensors")).arrayBuffer()));
 * const w = toTensor(tensors.find((t) => t.name === "0.weight")!);
 * ```
 */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`readSafetensors: expected a Uint8Array (got ${Object.prototype.toString.call(bytes)})`);
  if (bytes.length < 8) throw new SafetensorsError("truncated", `file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_SIZE)) throw new SafetensorsError("header_too_large", `header length ${n} exceeds the limit of ${MAX_HEADER_SIZE} bytes`);
  if (8n + n > BigInt(bytes.length)) throw new SafetensorsError("header_too_large", `header length ${n} exceeds the ${bytes.length - 8} bytes after the length prefix`);
  const headerLength = Number(n);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    throw new SafetensorsError("invalid_json", `header (${headerLength} bytes) is not valid UTF-8`);
  }
  const buffer = bytes.subarray(8 + headerLength);
  const { metadata, entries } = validateHeader(parseJsonStrict(text), buffer.length);
  const tensors = entries.map((e): SafeTensor => ({
    name: e.name,
    dtype: e.dtype,
    shape: e.shape,
    dataOffsets: [e.begin, e.end],
    bytes: new Uint8Array(buffer.subarray(e.begin, e.end)), // a real copy (a Node Buffer's slice() is a view)
  }));
  return { metadata, tensors, headerLength };
}
