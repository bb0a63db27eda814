/**
 * @file Binary encodings used by the WebAssembly module format: LEB128 integers (unsigned for
 * sizes and indices, signed for `i32.const`), IEEE-754 little-endian floats, UTF-8 names and
 * length-prefixed vectors. A growable {@link ByteWriter} collects the bytes.
 */

/**
 * An append-only byte buffer that grows by doubling.
 *
 * @throws never when constructed; `byte`, `u32` and `s32` (and the methods built on them) throw
 * `RangeError` for out-of-range values.
 * @example
 * ```ts
 * const w = new ByteWriter();
 * w.byte(0x41).u32(300);
 * w.bytes(); // Uint8Array [0x41, 0xac, 0x02]
 * ```
 */
export class ByteWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  /** Number of bytes written so far. */
  get length(): number {
    return this.len;
  }

  /** Appends one byte (0..255). @throws {RangeError} for a value outside 0..255. @example `w.byte(0x60) // a function type` */
  byte(b: number): this {
    if (!Number.isInteger(b) || b < 0 || b > 255) throw new RangeError(`wasm: byte out of range (got ${b})`);
    this.reserve(1);
    this.buf[this.len++] = b;
    return this;
  }

  /** Appends raw bytes. @throws never (values are stored modulo 256, unchecked). @example `w.raw([0x00, 0x61, 0x73, 0x6d]) // "\0asm"` */
  raw(bytes: ArrayLike<number>): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /** Appends an unsigned LEB128 integer. @throws {RangeError} outside 0..2³²−1. @example `w.u32(300) // bytes 0xac 0x02` */
  u32(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`wasm: u32 out of range (got ${n})`);
    do {
      let b = n & 0x7f;
      n = Math.floor(n / 128);
      if (n !== 0) b |= 0x80;
      this.byte(b);
    } while (n !== 0);
    return this;
  }

  /** Appends a signed LEB128 integer. @throws {RangeError} outside −2³¹..2³²−1 (i32 bit patterns). @example `w.s32(-1) // byte 0x7f` */
  s32(n: number): this {
    if (!Number.isInteger(n) || n < -0x80000000 || n > 0xffffffff) throw new RangeError(`wasm: s32 out of range (got ${n})`);
    n |= 0; // reinterpret 2³¹..2³²−1 as negative i32 bit patterns
    for (;;) {
      const b = n & 0x7f;
      n >>= 7;
      const done = (n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0);
      this.byte(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  /** Appends a float32 (little-endian). @throws never. @example `w.f32(1.5) // bytes 00 00 c0 3f` */
  f32(x: number): this {
    const tmp = new DataView(new ArrayBuffer(4));
    tmp.setFloat32(0, x, true);
    return this.raw(new Uint8Array(tmp.buffer));
  }

  /** Appends a float64 (little-endian). @throws never. @example `w.f64(0.5) // 8 bytes, 00 .. 00 e0 3f` */
  f64(x: number): this {
    const tmp = new DataView(new ArrayBuffer(8));
    tmp.setFloat64(0, x, true);
    return this.raw(new Uint8Array(tmp.buffer));
  }

  /** Appends a UTF-8 name prefixed by its byte length. @throws never. @example `w.name("env") // 0x03 'e' 'n' 'v'` */
  name(s: string): this {
    const utf8 = new TextEncoder().encode(s);
    return this.u32(utf8.length).raw(utf8);
  }

  /** Appends `content` prefixed by its byte length (sections, function bodies). @throws never. @example `out.byte(Section.code).sized(code)` */
  sized(content: ByteWriter): this {
    return this.u32(content.length).raw(content.bytes());
  }

  /** A copy of the bytes written so far. @throws never. @example `new WebAssembly.Module(w.bytes())` */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  private reserve(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}
