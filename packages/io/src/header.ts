/**
 * @file The header's schema and layout rules: `__metadata__` is an object of strings, every
 * other key a tensor entry `{dtype, shape, data_offsets}` with non-negative integers, each
 * entry's byte span equal to its shape's size, and the spans (sorted by `(BEGIN, END)`) covering
 * the byte buffer exactly. Integers are checked as `BigInt`s, so huge values cannot wrap.
 */
import { type Dtype, dtypeBits, isDtype } from "./dtype.js";
import { SafetensorsError } from "./errors.js";
import { JsonNumber, type JsonValue } from "./json.js";

/** One tensor entry of a validated header. */
export interface HeaderEntry {
  name: string;
  dtype: Dtype;
  shape: number[];
  begin: number;
  end: number;
}

/** A validated header: metadata (or null) and the entries in buffer order. */
export interface Header {
  metadata: Record<string, string> | null;
  entries: HeaderEntry[];
}

const U64_MAX = (1n << 64n) - 1n;

const bad = (msg: string): never => {
  throw new SafetensorsError("invalid_header", msg);
};

/** A non-negative integer (plain decimal digits, below 2^64), else an `invalid_header` error. */
function uint(v: JsonValue, what: string): bigint {
  if (!(v instanceof JsonNumber)) return bad(`${what} must be a non-negative integer (got ${describe(v)})`);
  if (!/^[0-9]+$/.test(v.text)) return bad(`${what} must be a non-negative integer (got ${v.text})`);
  const n = BigInt(v.text);
  if (n > U64_MAX) return bad(`${what} ${v.text} does not fit in 64 bits`);
  return n;
}

function describe(v: JsonValue): string {
  if (v instanceof JsonNumber) return v.text;
  if (v instanceof Map) return "an object";
  if (Array.isArray(v)) return "an array";
  return JSON.stringify(v);
}

function metadataOf(v: JsonValue): Record<string, string> {
  if (!(v instanceof Map)) return bad(`__metadata__ must be an object of strings (got ${describe(v)})`);
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, s] of v) {
    if (typeof s !== "string") return bad(`__metadata__ value of ${JSON.stringify(k)} must be a string (got ${describe(s)})`);
    out[k] = s;
  }
  return { ...out };
}

function entryOf(name: string, v: JsonValue): HeaderEntry & { nbits: bigint; begin64: bigint; end64: bigint } {
  const q = JSON.stringify(name);
  if (!(v instanceof Map)) return bad(`tensor ${q} must be an object (got ${describe(v)})`);
  for (const key of ["dtype", "shape", "data_offsets"]) if (!v.has(key)) bad(`tensor ${q} has no "${key}"`);
  const dtype = v.get("dtype")!;
  if (typeof dtype !== "string") return bad(`tensor ${q}: dtype must be a string (got ${describe(dtype)})`);
  if (!isDtype(dtype)) throw new SafetensorsError("dtype", `tensor ${q}: unknown dtype ${JSON.stringify(dtype)} (known: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, …)`);
  const shape = v.get("shape")!;
  if (!Array.isArray(shape)) return bad(`tensor ${q}: shape must be an array (got ${describe(shape)})`);
  const dims = shape.map((d, k) => uint(d, `tensor ${q}: shape[${k}]`));
  const offsets = v.get("data_offsets")!;
  if (!Array.isArray(offsets) || offsets.length !== 2) return bad(`tensor ${q}: data_offsets must be an array of two integers (got ${describe(offsets)})`);
  const begin64 = uint(offsets[0]!, `tensor ${q}: data_offsets[0]`);
  const end64 = uint(offsets[1]!, `tensor ${q}: data_offsets[1]`);
  if (end64 < begin64) bad(`tensor ${q}: data_offsets [${begin64}, ${end64}] end before begin`);
  const nbits = dims.reduce((p, d) => p * d, 1n) * BigInt(dtypeBits(dtype));
  const shapeOut = dims.map((d) => (d <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(d) : Infinity));
  return { name, dtype, shape: shapeOut, begin: Number(begin64), end: Number(end64), nbits, begin64, end64 };
}

/**
 * Validates a parsed header against a byte buffer of `bufferLength` bytes and returns its
 * metadata and tensor entries in buffer order (sorted by `(BEGIN, END)`; header order on ties).
 *
 * @throws {SafetensorsError} `invalid_header` (schema), `dtype`, `size_mismatch`, `overlap`,
 * `gap`, `truncated` (buffer shorter than the largest END) or `trailing_bytes`.
 * @example
 * ```ts
 * const { entries } = validateHeader(parseJsonStrict('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}'), 2);
 * entries[0].end; // 2
 * ```
 */
export function validateHeader(json: JsonValue, bufferLength: number): Header {
  if (!(json instanceof Map)) return bad(`header must be a JSON object (got ${describe(json)})`);
  let metadata: Record<string, string> | null = null;
  const entries: ReturnType<typeof entryOf>[] = [];
  for (const [k, v] of json) {
    if (k === "__metadata__") metadata = metadataOf(v);
    else entries.push(entryOf(k, v));
  }
  for (const e of entries) {
    if (e.nbits % 8n !== 0n || e.end64 - e.begin64 !== e.nbits / 8n) {
      const need = e.nbits % 8n === 0n ? `${e.nbits / 8n} bytes` : `${e.nbits} bits (not a whole number of bytes)`;
      throw new SafetensorsError("size_mismatch", `tensor ${JSON.stringify(e.name)}: ${e.dtype} ${JSON.stringify(e.shape)} needs ${need}, data_offsets [${e.begin64}, ${e.end64}] span ${e.end64 - e.begin64}`);
    }
  }
  entries.sort((a, b) => (a.begin64 !== b.begin64 ? (a.begin64 < b.begin64 ? -1 : 1) : a.end64 < b.end64 ? -1 : a.end64 > b.end64 ? 1 : 0));
  let pos = 0n;
  let prev = "the start of the buffer";
  for (const e of entries) {
    const here = `tensor ${JSON.stringify(e.name)} [${e.begin64}, ${e.end64})`;
    if (e.begin64 < pos) throw new SafetensorsError("overlap", `${here} overlaps ${prev} (which ends at ${pos})`);
    if (e.begin64 > pos) throw new SafetensorsError("gap", `${here} begins after ${prev} ends at ${pos}: ${e.begin64 - pos} unindexed bytes`);
    pos = e.end64;
    prev = `tensor ${JSON.stringify(e.name)}`;
  }
  const size = BigInt(bufferLength);
  if (pos > size) throw new SafetensorsError("truncated", `byte buffer is ${size} bytes, but ${prev} ends at ${pos} (${pos - size} bytes missing)`);
  if (pos < size) throw new SafetensorsError("trailing_bytes", `byte buffer is ${size} bytes, but the tensors cover only ${pos} (${size - pos} trailing bytes after ${prev})`);
  return { metadata, entries: entries.map(({ name, dtype, shape, begin, end }) => ({ name, dtype, shape, begin, end })) };
}
