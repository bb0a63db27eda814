/**
 * @file safetensors writer: every dtype round trip (F16 subnormals/inf/NaN, BF16, I64 beyond
 * 2^31 and 2^53, 0-d and empty tensors), the reference's tensor order and header layout, metadata
 * escaping and order, and bad writer input.
 */
import { describe, expect, it } from "vitest";
import { Tensor, tensor } from "@tapegrad/tensor";
import { bf16ToNumber, compareUtf8, f16ToNumber, numberToBf16, numberToF16, readSafetensors, toFloat32, toTensor, values, writeSafetensors } from "@tapegrad/io";
import { headerOf } from "./helpers.js";

const roundTrip = (t: Parameters<typeof writeSafetensors>[0], metadata?: Record<string, string>) => readSafetensors(writeSafetensors(t, { metadata }));

describe("writeSafetensors → readSafetensors: every dtype", () => {
  it("F32 Tensor (also a non-contiguous view), 0-d and empty", () => {
    const f = roundTrip({ w: tensor([[1, 2, 3], [4, 5, 6]]).transpose(0, 1), s: tensor(2.75), e: tensor([]) });
    const by = Object.fromEntries(f.tensors.map((t) => [t.name, t]));
    expect(by.w!.dtype).toBe("F32");
    expect(by.w!.shape).toEqual([3, 2]);
    expect(Array.from(values(by.w!) as ArrayLike<number>)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(by.s!.shape).toEqual([]);
    expect(toTensor(by.s!).item()).toBe(2.75);
    expect(by.e!.shape).toEqual([0]);
    expect(by.e!.dataOffsets[0]).toBe(by.e!.dataOffsets[1]);
  });
  it("F32 and F64 keep -0, ±inf, NaN, subnormals bit-exactly", () => {
    const data32 = new Float32Array([1.5, -0, Infinity, -Infinity, NaN, 1e-45, 3.4028234663852886e38]);
    const data64 = [1 / 3, -5e-324, 1e308, NaN];
    const f = roundTrip([["a", { dtype: "F32", shape: [7], data: data32 }], ["b", { dtype: "F64", shape: [2, 2], data: data64 }]]);
    const a = values(f.tensors.find((t) => t.name === "a")!) as Float32Array;
    expect(Array.from(a)).toEqual(Array.from(data32));
    expect(Object.is(a[1], -0)).toBe(true);
    const b = f.tensors.find((t) => t.name === "b")!;
    expect(Array.from(values(b) as ArrayLike<number>)).toEqual(data64);
    expect(Array.from(b.bytes.slice(24))).toEqual([0, 0, 0, 0, 0, 0, 0xf8, 0x7f]); // canonical quiet NaN
  });
  it("F16: subnormals, ±0, ±inf, NaN, max, rounding ties to even, overflow to inf", () => {
    const xs = [0, -0, 1, -2.5, 0.1, 65504, -65504, 2 ** -14, 2 ** -24, 2 ** -25, 3 * 2 ** -25, Infinity, -Infinity, NaN, 3.14159, 1000.5, 65520, 65519.99, 2049, 2051];
    const f = roundTrip({ h: { dtype: "F16", shape: [xs.length], data: xs } });
    const t = f.tensors[0]!;
    const bits = Array.from({ length: xs.length }, (_, i) => t.bytes[2 * i]! | (t.bytes[2 * i + 1]! << 8));
    expect(bits.map((b) => b.toString(16))).toEqual([
      "0", "8000", "3c00", "c100", "2e66", "7bff", "fbff", "400", "1", "0", "2", "7c00", "fc00", "7e00", "4248", "63d1", "7c00", "7bff", "6800", "6802",
    ]);
    const v = Array.from(values(t) as ArrayLike<number>);
    expect(v.slice(0, 9)).toEqual([0, -0, 1, -2.5, 0.0999755859375, 65504, -65504, 6.103515625e-5, 5.960464477539063e-8]);
    expect(v[10]).toBe(2 ** -23); // 1.5 ulp of the subnormal step rounds to 2 (even)
    expect(v.slice(11, 13)).toEqual([Infinity, -Infinity]);
    expect(v[13]).toBeNaN();
    expect(v[18]).toBe(2048); // 2049 is a tie between 2048 and 2050: even mantissa
    expect(v[19]).toBe(2052);
    for (let b = 0; b < 0x10000; b++) {
      const x = f16ToNumber(b);
      if (!Number.isNaN(x)) expect(numberToF16(x)).toBe(b);
    }
  });
  it("BF16: the upper half of a float32, rounded to nearest even", () => {
    const xs = [0, -0, 1, -2.5, 0.1, 3.3895313892515355e38, 1.1754943508222875e-38, 9.183549615799121e-41, Infinity, -Infinity, NaN, 3.14159, 1000, 65536];
    const f = roundTrip({ b: { dtype: "BF16", shape: [2, 7], data: xs } });
    const t = f.tensors[0]!;
    const bits = Array.from({ length: xs.length }, (_, i) => t.bytes[2 * i]! | (t.bytes[2 * i + 1]! << 8));
    expect(bits.map((b) => b.toString(16))).toEqual(["0", "8000", "3f80", "c020", "3dcd", "7f7f", "80", "1", "7f80", "ff80", "7fc0", "4049", "447a", "4780"]);
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    for (let b = 0; b < 0x10000; b += 7) {
      u32[0] = b << 16;
      if (!Number.isNaN(f32[0])) expect(bf16ToNumber(b)).toBe(f32[0]);
    }
    expect(numberToBf16(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(numberToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(toFloat32(t)[4]).toBe(0.10009765625);
  });
  it("I64 beyond 2^31 and 2^53 (bigint and number inputs), exact as BigInt64Array", () => {
    const big = [0n, -1n, 2n ** 31n, 2n ** 53n + 1n, -(2n ** 63n), 2n ** 63n - 1n];
    const f = roundTrip({ i: { dtype: "I64", shape: [6], data: big }, n: { dtype: "I64", shape: [], data: [-42] }, t: { dtype: "I64", shape: [3], data: BigInt64Array.from([5n, 6n, 7n]) } });
    const by = Object.fromEntries(f.tensors.map((t) => [t.name, t]));
    expect(Array.from(values(by.i!) as BigInt64Array)).toEqual(big);
    expect(Array.from(values(by.n!) as BigInt64Array)).toEqual([-42n]);
    expect(Array.from(toFloat32(by.t!))).toEqual([5, 6, 7]);
    expect(toFloat32(by.i!)[2]).toBe(2147483648);
  });
  it("I32, I16, I8, U8, BOOL with their extremes", () => {
    const f = roundTrip({
      i32: { dtype: "I32", shape: [2, 2], data: [-(2 ** 31), 2 ** 31 - 1, 7, -7] },
      i16: { dtype: "I16", shape: [4], data: Int16Array.from([-32768, 32767, 0, -1]) },
      i8: { dtype: "I8", shape: [5], data: [-128, 127, 0, -1, 5] },
      u8: { dtype: "U8", shape: [2, 3], data: Uint8Array.from([0, 255, 1, 128, 7, 64]) },
      flag: { dtype: "BOOL", shape: [5], data: [true, false, 1, 1, 0] },
      none: { dtype: "U8", shape: [2, 0], data: [] },
    });
    const v = Object.fromEntries(f.tensors.map((t) => [t.name, values(t)]));
    expect(v.i32).toEqual(Int32Array.from([-(2 ** 31), 2 ** 31 - 1, 7, -7]));
    expect(v.i16).toEqual(Int16Array.from([-32768, 32767, 0, -1]));
    expect(v.i8).toEqual(Int8Array.from([-128, 127, 0, -1, 5]));
    expect(v.u8).toEqual(Uint8Array.from([0, 255, 1, 128, 7, 64]));
    expect(v.flag).toEqual(Uint8Array.from([1, 0, 1, 1, 0]));
    expect(v.none).toEqual(new Uint8Array(0));
    expect(Array.from(toFloat32(f.tensors.find((t) => t.name === "i8")!))).toEqual([-128, 127, 0, -1, 5]);
  });
  it("raw bytes of any dtype (what the reader returns) are written back unchanged", () => {
    const bytes = writeSafetensors({ a: { dtype: "F8_E5M2", shape: [3], bytes: new Uint8Array([1, 2, 3]) }, b: { dtype: "C64", shape: [1], bytes: new Uint8Array(8).fill(9) } });
    const f = readSafetensors(bytes);
    expect(writeSafetensors(f.tensors)).toEqual(bytes);
    expect(headerOf(bytes)).toBe('{"b":{"dtype":"C64","shape":[1],"data_offsets":[0,8]},"a":{"dtype":"F8_E5M2","shape":[3],"data_offsets":[8,11]}}');
  });
});

describe("writeSafetensors: the reference layout", () => {
  const one = (dtype: "F32" | "I64" | "F64" | "I32" | "BF16" | "F16" | "I16" | "I8" | "U8" | "BOOL") => ({ dtype, shape: [0], data: [] });
  it("dtype rank descending: I64, F64, F32, I32, BF16, F16, I16, I8, U8, BOOL", () => {
    const order = ["BOOL", "U8", "I8", "I16", "F16", "BF16", "I32", "F32", "F64", "I64"] as const;
    const f = readSafetensors(writeSafetensors(order.map((d) => [d.toLowerCase(), one(d)] as const)));
    expect(f.tensors.map((t) => t.dtype)).toEqual([...order].reverse());
  });
  it('names by UTF-8 bytes: "10.weight" < "2.weight" < "B_upper" < "b" < "z_\\uFF21" < "z_\\u{1F600}"', () => {
    const names = ["z_\u{1F600}", "b", "2.weight", "z_\uFF21", "B_upper", "10.weight"];
    const bytes = writeSafetensors(names.map((n) => [n, tensor([1])] as const));
    expect(readSafetensors(bytes).tensors.map((t) => t.name)).toEqual(["10.weight", "2.weight", "B_upper", "b", "z_\uFF21", "z_\u{1F600}"]);
    expect("z_\u{1F600}" < "z_\uFF21").toBe(true); // JS order would put the emoji first
    expect(compareUtf8("z_\uFF21", "z_\u{1F600}")).toBe(-1);
    expect(compareUtf8("ab", "a")).toBe(1);
    expect(compareUtf8("a", "a")).toBe(0);
  });
  it("compact header, contiguous offsets, 0-d shape [], space padding to a multiple of 8 bytes (UTF-8 bytes)", () => {
    const bytes = writeSafetensors({ attn0: { dtype: "F32", shape: [1, 1, 2, 3], data: [0, 1, 2, 3, 4, 5] } });
    expect(headerOf(bytes)).toBe('{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ');
    expect(bytes.length).toBe(104);
    const u = writeSafetensors({ "ééé": tensor(1) });
    const h = headerOf(u);
    expect(h.trimEnd()).toBe('{"ééé":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}');
    expect(h.trimEnd().length).toBe(55); // 55 characters would pad to 56 ...
    expect(new TextEncoder().encode(h.trimEnd()).length).toBe(58); // ... but 58 bytes pad to 64
    expect(new TextEncoder().encode(h).length).toBe(64);
    expect(u.length).toBe(8 + 64 + 4);
  });
  it("no tensors: {} padded; metadata only", () => {
    expect(headerOf(writeSafetensors({}))).toBe("{}      ");
    expect(headerOf(writeSafetensors([], { metadata: { framework: "pt" } }))).toBe('{"__metadata__":{"framework":"pt"}}     ');
  });
  it("__metadata__ first, keys by UTF-8 bytes, serde_json escaping", () => {
    const md = { z: "1", "\u{1F600}": "e", "\uFF21": "f", B: "q\"b\\s/\u007f\b\f\n\r\t\u0001\u001f é" };
    const bytes = writeSafetensors({ "tab\tnewline\n": tensor([1]), 'quote"back\\slash': tensor([2]) }, { metadata: md });
    expect(headerOf(bytes).trimEnd()).toBe(
      '{"__metadata__":{"B":"q\\"b\\\\s/\u007f\\b\\f\\n\\r\\t\\u0001\\u001f é","z":"1","\uFF21":"f","\u{1F600}":"e"},' +
        '"quote\\"back\\\\slash":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"tab\\tnewline\\n":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
    );
    expect(readSafetensors(bytes).metadata).toEqual(md);
  });
});

describe("writeSafetensors: bad input", () => {
  const t = tensor([1]);
  const cases: [string, () => unknown, RegExp][] = [
    ["duplicate names", () => writeSafetensors([["a", t], ["a", t]]), /writeSafetensors: duplicate tensor name "a"/],
    ["reserved name", () => writeSafetensors({ __metadata__: t }), /"__metadata__" is reserved/],
    ["lone surrogate name", () => writeSafetensors({ "a\ud800": t }), /tensor name "a\\ud800" has a lone surrogate/],
    ["data length ≠ shape product", () => writeSafetensors({ w: { dtype: "F32", shape: [2, 3], data: [1, 2, 3] } }), /tensor "w": data has 3 values, the shape needs 6/],
    ["bytes length ≠ shape", () => writeSafetensors({ w: { dtype: "F32", shape: [2], bytes: new Uint8Array(7) } }), /tensor "w": 7 bytes, but F32 \[2\] needs 8/],
    ["bad dtype", () => writeSafetensors({ w: { dtype: "float32" as "F32", shape: [1], data: [1] } }), /tensor "w": unknown dtype "float32"/],
    ["bad shape", () => writeSafetensors({ w: { dtype: "F32", shape: [-1], data: [] } }), /tensor "w": shape must be an array of non-negative integers/],
    ["I8 out of range", () => writeSafetensors({ q: { dtype: "I8", shape: [2], data: [1, 128] } }), /tensor "q": value 128 at index 1 is not an integer in \[-128, 127\]/],
    ["U8 fractional", () => writeSafetensors({ q: { dtype: "U8", shape: [1], data: [1.5] } }), /value 1.5 at index 0/],
    ["I64 unsafe number", () => writeSafetensors({ q: { dtype: "I64", shape: [1], data: [2 ** 53] } }), /pass a bigint/],
    ["I64 beyond 64 bits", () => writeSafetensors({ q: { dtype: "I64", shape: [1], data: [2n ** 63n] } }), /not a 64-bit signed integer/],
    ["BOOL 2", () => writeSafetensors({ q: { dtype: "BOOL", shape: [1], data: [2] } }), /\[0, 1\]/],
    ["values of a raw-only dtype", () => writeSafetensors({ q: { dtype: "U16", shape: [1], data: [1] } as never }), /values of dtype U16 cannot be encoded/],
    ["non-string metadata", () => writeSafetensors({}, { metadata: { epoch: 3 as unknown as string } }), /metadata value of "epoch" must be a string \(got 3\)/],
    ["metadata array", () => writeSafetensors({}, { metadata: [] as unknown as Record<string, string> }), /metadata must be an object of strings/],
    ["not a tensor", () => writeSafetensors({ a: 3 as never }), /tensor "a" must be a Tensor or \{dtype, shape, bytes\|data\}/],
    ["neither bytes nor data", () => writeSafetensors({ a: { dtype: "F32", shape: [1] } as never }), /tensor "a" has neither bytes nor data/],
  ];
  for (const [what, fn, msg] of cases) it(what, () => expect(fn).toThrow(msg));
});

describe("float bit patterns survive exactly", () => {
  it("signaling NaN payloads, −0 and infinities of F32 and F64 round-trip bit for bit", () => {
    const bits32 = Uint32Array.of(0x7fa00001, 0xffc00002, 0x7f800001, 0x80000000, 0x7f800000, 0x3f800000);
    const bits64 = BigUint64Array.of(0x7ff4000000000001n, 0xfff8000000000002n, 0x8000000000000000n);
    const file = readSafetensors(writeSafetensors({
      t: new Tensor(new Float32Array(bits32.buffer.slice(0)), [6]),
      f: { dtype: "F32", shape: [6], data: new Float32Array(bits32.buffer.slice(0)) },
      d: { dtype: "F64", shape: [3], data: new Float64Array(bits64.buffer.slice(0)) },
    }));
    const byName = (n: string) => file.tensors.find((t) => t.name === n)!;
    expect(new Uint32Array(byName("t").bytes.slice().buffer)).toEqual(bits32);
    expect(new Uint32Array(byName("f").bytes.slice().buffer)).toEqual(bits32);
    expect(new Uint32Array(toFloat32(byName("t")).buffer)).toEqual(bits32);
    expect(new BigUint64Array((values(byName("d")) as Float64Array).buffer)).toEqual(bits64);
  });
});
