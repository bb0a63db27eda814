/**
 * @file safetensors reader: every error category from a constructed file (with what the message
 * names), and the tolerant parts of the format (whitespace, escapes, any key order, odd offsets).
 */
import { describe, expect, it } from "vitest";
import { SafetensorsError, parseJsonStrict, readSafetensors, values, writeSafetensors } from "@tapegrad/io";
import { file } from "./helpers.js";

function category(bytes: Uint8Array): { category: string; message: string } {
  try {
    readSafetensors(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    return { category: (e as SafetensorsError).category, message: (e as Error).message };
  }
  throw new Error("file was accepted");
}

const A = (offsets: string, dtype = "F32", shape = "[2]") => `{"dtype":"${dtype}","shape":${shape},"data_offsets":${offsets}}`;

describe("readSafetensors: error categories", () => {
  const cases: [string, Uint8Array, string, RegExp][] = [
    ["empty file", new Uint8Array(0), "truncated", /0 bytes/],
    ["7 bytes", new Uint8Array(7), "truncated", /7 bytes/],
    ["buffer shorter than END", file(`{"a":${A("[0,8]")}}`, [0, 0, 0, 0]), "truncated", /"a" ends at 8 \(4 bytes missing\)/],
    ["N > file", file("{}", [], 100n), "header_too_large", /header length 100 exceeds the 2 bytes/],
    ["N > limit", file("{}", [], 100_000_001n), "header_too_large", /100000001 exceeds the limit/],
    ["N with high bits", file("{}      ", [], (1n << 32n) + 8n), "header_too_large", /4294967304/],
    ["N = 2^64-1", file("{}", [], (1n << 64n) - 1n), "header_too_large", /18446744073709551615/],
    ["empty header", file(""), "invalid_json", /unexpected end/],
    ["trailing comma", file(`{"a":${A("[0,8]")},}`, new Array(8).fill(0)), "invalid_json", /expected a string key/],
    ["single quotes", file(`{'a':1}`), "invalid_json", /not valid JSON/],
    ["NaN literal", file(`{"__metadata__":NaN}`), "invalid_json", /unexpected character/],
    ["leading zero", file(`{"a":{"dtype":"U8","shape":[01],"data_offsets":[0,1]}}`, [1]), "invalid_json", /expected ','/],
    ["raw control character", file(`{"a\n":1}`), "invalid_json", /control character/],
    ["lone surrogate escape", file(`{"\\ud800":1}`), "invalid_json", /lone surrogate/],
    ["UTF-8 BOM", file(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d])), "invalid_json", /unexpected character/],
    ["invalid UTF-8", file(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), "invalid_json", /not valid UTF-8/],
    ["two values", file("{} {}"), "invalid_json", /after the JSON value/],
    ["array header", file("[]"), "invalid_header", /must be a JSON object \(got an array\)/],
    ["entry not an object", file(`{"a":3}`), "invalid_header", /tensor "a" must be an object \(got 3\)/],
    ["missing dtype", file(`{"a":{"shape":[],"data_offsets":[0,4]}}`, [0, 0, 0, 0]), "invalid_header", /"a" has no "dtype"/],
    ["dtype not a string", file(`{"a":${A("[0,8]", "1" as string)}}`.replace('"1"', "1"), new Array(8).fill(0)), "invalid_header", /dtype must be a string/],
    ["shape not an array", file(`{"a":${A("[0,4]", "F32", "2")}}`, [0, 0, 0, 0]), "invalid_header", /shape must be an array/],
    ["negative shape", file(`{"a":${A("[0,8]", "F32", "[-2]")}}`, new Array(8).fill(0)), "invalid_header", /shape\[0\] must be a non-negative integer \(got -2\)/],
    ["fractional shape", file(`{"a":${A("[0,8]", "F32", "[2.0]")}}`, new Array(8).fill(0)), "invalid_header", /got 2\.0/],
    ["exponent offset", file(`{"a":${A("[0,8e0]")}}`, new Array(8).fill(0)), "invalid_header", /data_offsets\[1\] must be a non-negative integer \(got 8e0\)/],
    ["three offsets", file(`{"a":${A("[0,4,8]")}}`, new Array(8).fill(0)), "invalid_header", /two integers/],
    ["offset beyond u64", file(`{"a":${A("[0,18446744073709551616]")}}`), "invalid_header", /does not fit in 64 bits/],
    ["end before begin", file(`{"a":${A("[8,0]", "U8", "[0]")}}`), "invalid_header", /\[8, 0\] end before begin/],
    ["metadata not an object", file(`{"__metadata__":"pt"}`), "invalid_header", /__metadata__ must be an object/],
    ["metadata value a number", file(`{"__metadata__":{"epoch":3}}`), "invalid_header", /value of "epoch" must be a string \(got 3\)/],
    ["metadata value null", file(`{"__metadata__":{"x":null}}`), "invalid_header", /got null/],
    ["lowercase dtype", file(`{"a":${A("[0,8]", "f32")}}`, new Array(8).fill(0)), "dtype", /tensor "a": unknown dtype "f32"/],
    ["torch dtype name", file(`{"a":${A("[0,8]", "float32")}}`, new Array(8).fill(0)), "dtype", /"float32"/],
    ["duplicate tensor", file(`{"a":${A("[0,8]")},"a":${A("[0,8]")}}`, new Array(8).fill(0)), "duplicate", /duplicate key "a"/],
    ["duplicate after unescaping", file(`{"a":${A("[0,8]")},"\\u0061":${A("[8,16]")}}`, new Array(16).fill(0)), "duplicate", /duplicate key "a"/],
    ["duplicate metadata key", file(`{"__metadata__":{"k":"1","\\u006b":"2"}}`), "duplicate", /duplicate key "k"/],
    ["duplicate __metadata__", file(`{"__metadata__":{},"__metadata__":{}}`), "duplicate", /"__metadata__"/],
    ["size mismatch", file(`{"a":${A("[0,20]", "F32", "[2,3]")}}`, new Array(20).fill(0)), "size_mismatch", /"a": F32 \[2,3\] needs 24 bytes, data_offsets \[0, 20\] span 20/],
    ["0-d needs one element", file(`{"a":${A("[0,0]", "F64", "[]")}}`), "size_mismatch", /needs 8 bytes/],
    ["shape product overflow", file(`{"a":${A("[0,0]", "U8", "[4294967296,4294967296,4294967296]")}}`), "size_mismatch", /needs 79228162514264337593543950336 bytes/],
    ["overlap", file(`{"a":${A("[0,8]")},"b":${A("[4,12]")}}`, new Array(12).fill(0)), "overlap", /"b" \[4, 12\) overlaps tensor "a" \(which ends at 8\)/],
    ["same span twice", file(`{"a":${A("[0,8]")},"b":${A("[0,8]")}}`, new Array(8).fill(0)), "overlap", /overlaps/],
    ["gap between", file(`{"a":${A("[0,8]")},"b":${A("[12,20]")}}`, new Array(20).fill(0)), "gap", /"b" \[12, 20\) begins after tensor "a" ends at 8: 4 unindexed bytes/],
    ["gap at the start", file(`{"a":${A("[4,12]")}}`, new Array(12).fill(0)), "gap", /begins after the start of the buffer/],
    ["trailing bytes", file(`{"a":${A("[0,8]")}}`, new Array(16).fill(0)), "trailing_bytes", /16 bytes, but the tensors cover only 8 \(8 trailing bytes/],
    ["bytes without tensors", file("{}", [1]), "trailing_bytes", /cover only 0/],
  ];
  for (const [what, bytes, cat, msg] of cases) {
    it(`${what} → ${cat}`, () => {
      const e = category(bytes);
      expect(e.category).toBe(cat);
      expect(e.message).toMatch(msg);
      expect(e.message).toMatch(/^readSafetensors: /);
    });
  }
  it("nesting deeper than 128 is invalid JSON, not a stack overflow", () => {
    expect(category(file(`{"__metadata__":${"[".repeat(100000)}}`)).category).toBe("invalid_json");
  });
  it("rejects a non-Uint8Array with a TypeError", () => {
    expect(() => readSafetensors([1, 2] as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe("readSafetensors: accepted variants", () => {
  it("whitespace padding, any key order, escapes, metadata last, odd offsets (copies, no unaligned views)", () => {
    const h = ` {\n "w" : {"data_offsets":[1,9],"shape":[2],"dtype":"F32","extra":[1,{"x":null}]},\t"\\u0066lag":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]},\r\n"__metadata__":{"\\ud83d\\ude00":"\\/\\b"}}\n\t\r `;
    const buf = [1, 0, 0, 0xc0, 0x3f, 0, 0, 0, 0x80];
    const f = readSafetensors(file(h, buf));
    expect(f.metadata).toEqual({ "\u{1F600}": "/\b" });
    expect(f.tensors.map((t) => [t.name, t.dtype, t.shape, t.dataOffsets])).toEqual([["flag", "BOOL", [1], [0, 1]], ["w", "F32", [2], [1, 9]]]);
    expect(Array.from(values(f.tensors[1]!) as ArrayLike<number>)).toEqual([1.5, -0]);
    expect(Object.is(values(f.tensors[1]!)[1], -0)).toBe(true);
    expect(f.tensors[1]!.bytes.byteOffset).toBe(0);
    expect(Array.from(values(f.tensors[0]!) as ArrayLike<number>)).toEqual([1]);
  });
  it("no tensors, no metadata", () => {
    expect(readSafetensors(file("{}      "))).toEqual({ metadata: null, tensors: [], headerLength: 8 });
  });
  it("empty tensors share an offset with their neighbour, in (BEGIN, END) order", () => {
    const f = readSafetensors(file(`{"b":${A("[0,4]", "F32", "[1]")},"a":${A("[0,0]", "F32", "[0,3]")}}`, [0, 0, 0x80, 0x3f]));
    expect(f.tensors.map((t) => t.name)).toEqual(["a", "b"]);
    expect(f.tensors[0]!.shape).toEqual([0, 3]);
    expect(values(f.tensors[0]!).length).toBe(0);
  });
  it("a key named __proto__ is an ordinary tensor name", () => {
    const f = readSafetensors(file(`{"__proto__":${A("[0,1]", "U8", "[1]")}}`, [7]));
    expect(f.tensors[0]!.name).toBe("__proto__");
  });
  it("other safetensors dtypes are read as raw bytes (F8_E4M3, U16)", () => {
    const f = readSafetensors(file(`{"a":${A("[0,2]", "F8_E4M3", "[2]")},"b":${A("[2,4]", "U16", "[1]")}}`, [1, 2, 3, 4]));
    expect(f.tensors.map((t) => [t.dtype, Array.from(t.bytes)])).toEqual([["F8_E4M3", [1, 2]], ["U16", [3, 4]]]);
    expect(() => values(f.tensors[0]!)).toThrow(/values: tensor "a" has dtype F8_E4M3, which has no value conversion/);
  });
});

describe("parseJsonStrict", () => {
  it("keeps numbers as text and key order", () => {
    const v = parseJsonStrict('{"b":[12345678901234567890, -0.5e-3],"a":true}') as Map<string, unknown>;
    expect([...v.keys()]).toEqual(["b", "a"]);
    expect((v.get("b") as { text: string }[]).map((n) => n.text)).toEqual(["12345678901234567890", "-0.5e-3"]);
  });
});

describe("Node Buffers as input", () => {
  it("reads a pooled Buffer (whose slice() is a view) into real copies, for every dtype", async () => {
    const { Buffer } = await import("node:buffer");
    const file = writeSafetensors({
      f: { dtype: "F32", shape: [3], data: [1.5, -2, 3] },
      d: { dtype: "F64", shape: [2], data: [Math.PI, -1] },
      b: { dtype: "I8", shape: [3], data: [-1, 2, 127] },
      u: { dtype: "U8", shape: [2], data: [7, 255] },
    });
    const pooled = Buffer.from(file); // small Buffers share one pooled ArrayBuffer
    const st = readSafetensors(pooled);
    const get = (n: string) => st.tensors.find((t) => t.name === n)!;
    expect(Array.from(values(get("f")) as Float32Array)).toEqual([1.5, -2, 3]);
    expect(Array.from(values(get("d")) as Float64Array)).toEqual([Math.PI, -1]);
    expect(Array.from(values(get("b")) as Int8Array)).toEqual([-1, 2, 127]);
    expect(Array.from(values(get("u")) as Uint8Array)).toEqual([7, 255]);
    pooled.fill(0); // the tensors do not share the input's memory
    expect(Array.from(values(get("f")) as Float32Array)).toEqual([1.5, -2, 3]);
    expect(writeSafetensors(st.tensors.map((t) => [t.name, t] as const))).toEqual(file);
  });
});
