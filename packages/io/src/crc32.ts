/**
 * @file CRC-32 (IEEE 802.3: reflected polynomial `0xEDB88320`, initial value and final XOR
 * `0xFFFFFFFF`; the checksum of zlib, PNG and gzip), table-driven, slicing by four bytes.
 */

/** 4 × 256 lookup tables (slicing-by-4), built once on first use. */
let tables: Uint32Array | null = null;

function buildTables(): Uint32Array {
  const t = new Uint32Array(4 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let s = 1; s < 4; s++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[s * 256 + n] = c >>> 0;
    }
  }
  return t;
}

/**
 * CRC-32 of `bytes[start, end)` (IEEE polynomial; `crc32(utf8("123456789")) === 0xCBF43926`),
 * as an unsigned 32-bit number. `prev` continues a running checksum (zlib's `crc32(crc, buf)`):
 * `crc32(b, 0, b.length, crc32(a))` is the CRC of `a` followed by `b`.
 *
 * @throws {RangeError} when `start`/`end` are not integers with `0 <= start <= end <= bytes.length`;
 * {TypeError} when `bytes` is not a Uint8Array.
 * @example
 * ```ts
 * crc32(new TextEncoder().encode("123456789")).toString(16); // "cbf43926"
 * ```
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length, prev = 0): number {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`crc32: bytes must be a Uint8Array (got ${bytes === null ? "null" : typeof bytes})`);
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > bytes.length) {
    throw new RangeError(`crc32: range [${start}, ${end}) is not inside the ${bytes.length} bytes`);
  }
  const t = (tables ??= buildTables());
  let c = (prev ^ 0xffffffff) >>> 0;
  let i = start;
  const end4 = start + ((end - start) & ~3);
  for (; i < end4; i += 4) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[c >>> 24]!;
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
