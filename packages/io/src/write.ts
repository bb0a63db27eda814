/**
 * @file `writeSafetensors`: the byte-exact layout of the reference writer (huggingface/safetensors
 * `serialize`): tensors sorted by dtype rank descending then by name in UTF-8 byte order,
 * contiguous offsets, a compact JSON header (`__metadata__` first, its keys sorted by UTF-8 bytes;
 * serde_json's escaping, which equals `JSON.stringify` for well-formed strings), padded with spaces
 * to a multiple of 8 bytes.
 */
import { dtypeRank } from "./dtype.js";
import { type Encoded, type TensorInput, encodeTensor } from "./encode.js";

/** Options of {@link writeSafetensors}. */
export interface WriteOptions {
  /** `__metadata__` (string → string), or null/undefined for none. */
  metadata?: Record<string, string> | null;
}

/** The tensors to write: by name, or a list of `[name, tensor]` pairs or `{name, …tensor}` objects. */
export type WriteTensors = Record<string, TensorInput> | readonly (readonly [string, TensorInput])[] | readonly (TensorInput & { readonly name: string })[];

const FN = "writeSafetensors";

/** Throws unless `s` is a well-formed string (no lone surrogate): its UTF-8 bytes would differ. */
function checkWellFormed(what: string, s: unknown): string {
  if (typeof s !== "string") throw new TypeError(`${FN}: ${what} must be a string (got ${typeof s === "bigint" ? `${s}n` : JSON.stringify(s) ?? String(s)})`);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) throw new TypeError(`${FN}: ${what} ${JSON.stringify(s)} has a lone surrogate at index ${i} (not encodable as UTF-8)`);
  }
  return s;
}

/**
 * Compares two strings by their UTF-8 bytes (= by code points), not by UTF-16 code units as `<` does.
 *
 * @throws {TypeError} when an argument is not a string.
 * @example `compareUtf8("z_\uFF21", "z_\u{1F600}"); // -1 (while "z_\uFF21" < "z_\u{1F600}" is false)`
 */
export function compareUtf8(a: string, b: string): number {
  if (typeof a !== "string" || typeof b !== "string") throw new TypeError(`compareUtf8: both arguments must be strings (got ${typeof a} and ${typeof b})`);
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(j)!;
    if (x !== y) return x < y ? -1 : 1;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  return i < a.length ? 1 : j < b.length ? -1 : 0;
}

function entries(tensors: WriteTensors): [string, TensorInput][] {
  if (Array.isArray(tensors)) {
    return tensors.map((e: unknown, k) => {
      if (Array.isArray(e)) return [e[0], e[1]] as [string, TensorInput];
      if (typeof e === "object" && e !== null && "name" in e) return [(e as { name: string }).name, e as unknown as TensorInput];
      throw new TypeError(`${FN}: entry ${k} must be [name, tensor] or {name, dtype, shape, bytes|data}`);
    });
  }
  if (typeof tensors !== "object" || tensors === null) throw new TypeError(`${FN}: tensors must be an object or an array (got ${String(tensors)})`);
  return Object.entries(tensors as Record<string, TensorInput>);
}

function headerText(sorted: Encoded[], metadata: Record<string, string> | null): string {
  const parts: string[] = [];
  if (metadata) {
    const keys = Object.keys(metadata).sort(compareUtf8);
    parts.push(`"__metadata__":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(",")}}`);
  }
  let offset = 0;
  for (const t of sorted) {
    const end = offset + t.bytes.length;
    parts.push(`${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(",")}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  return `{${parts.join(",")}}`;
}

/**
 * Writes tensors (and optional `__metadata__`) as a safetensors file, byte for byte as the
 * reference writer does for the same tensors and metadata (metadata keys sorted by UTF-8 bytes).
 *
 * @throws {TypeError} for a bad name (not a string, `"__metadata__"`, a lone surrogate), a
 * duplicate name, non-string metadata values, an unknown dtype or an input of no known form.
 * @throws {RangeError} when a tensor's data length does not match its shape or a value does not
 * fit its dtype.
 * @example
 * ```ts
 * const bytes = writeSafetensors(model.stateDict(), { metadata: { format: "pt" } }); // all F32
 * const mixed = writeSafetensors([["ids", { dtype: "I64", shape: [3], data: [1, 2, 3] }], ["w", tensor([1, 2])]]);
 * ```
 */
export function writeSafetensors(tensors: WriteTensors, options: WriteOptions = {}): Uint8Array {
  const seen = new Set<string>();
  const encoded = entries(tensors).map(([name, t]) => {
    checkWellFormed("tensor name", name);
    if (name === "__metadata__") throw new TypeError(`${FN}: "__metadata__" is reserved and cannot name a tensor`);
    if (seen.has(name)) throw new TypeError(`${FN}: duplicate tensor name ${JSON.stringify(name)}`);
    seen.add(name);
    return encodeTensor(name, t);
  });
  let metadata: Record<string, string> | null = null;
  if (options.metadata !== undefined && options.metadata !== null) {
    if (typeof options.metadata !== "object" || Array.isArray(options.metadata)) throw new TypeError(`${FN}: metadata must be an object of strings (got ${JSON.stringify(options.metadata)})`);
    metadata = {};
    for (const [k, v] of Object.entries(options.metadata)) {
      checkWellFormed("metadata key", k);
      metadata[k] = checkWellFormed(`metadata value of ${JSON.stringify(k)}`, v);
    }
  }
  encoded.sort((a, b) => dtypeRank(b.dtype) - dtypeRank(a.dtype) || compareUtf8(a.name, b.name));
  const header = new TextEncoder().encode(headerText(encoded, metadata));
  const n = Math.ceil(header.length / 8) * 8;
  const dataLength = encoded.reduce((s, t) => s + t.bytes.length, 0);
  const out = new Uint8Array(8 + n + dataLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(header, 8);
  out.fill(0x20, 8 + header.length, 8 + n);
  let pos = 8 + n;
  for (const t of encoded) {
    out.set(t.bytes, pos);
    pos += t.bytes.length;
  }
  return out;
}
