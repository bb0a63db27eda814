/** @file Builds safetensors files by hand (header text + buffer) for the io tests. */

/** `[N u64 LE][header bytes][buffer]`; `n` overrides the length prefix. */
export function file(header: string | Uint8Array, buffer: ArrayLike<number> = [], n?: bigint): Uint8Array {
  const h = typeof header === "string" ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + h.length + buffer.length);
  new DataView(out.buffer).setBigUint64(0, n ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(Array.from(buffer), 8 + h.length);
  return out;
}

/** The header text of a written file. */
export function headerOf(bytes: Uint8Array): string {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return new TextDecoder().decode(bytes.subarray(8, 8 + n));
}
